/* SPDX-License-Identifier: Apache-2.0 */
/* The diff: compares a walk of the root (or of some paths) with the snapshot index and lists
 * the changes in layer order, with whiteouts and parent directories. It reads the root and
 * never writes to it; the index changes only in snap_changes_commit(). */
#include "snapshot/diff.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/strv.h"
#include "snapshot/ignore.h"
#include "snapshot/walker.h"

struct snap_changes {
        struct snap_change *v;
        size_t n, alloc;
        uint32_t *removed; /* index ids to remove at commit */
        size_t n_removed, removed_alloc;
};

struct idset {
        uint32_t *v;
        size_t n, alloc;
};

struct diff {
        struct snap_index *idx;
        int root_fd;
        const struct ignore_list *ign;
        enum snap_mode mode;
        unsigned flags;
        uint32_t gen;
        struct snap_changes *c;
        struct idset replaced;    /* former directories now of another type */
        struct idset sweep_roots; /* unseen entries below these are gone */
        struct idset deleted;     /* ids already listed as SNAP_DELETED */
};

int snap_mode_parse(const char *s, enum snap_mode *ret)
{
        if (streq(s, "full"))
                *ret = SNAP_MODE_FULL;
        else if (streq(s, "redo"))
                *ret = SNAP_MODE_REDO;
        else if (streq(s, "time"))
                *ret = SNAP_MODE_TIME;
        else
                return -EINVAL;
        return 0;
}

const char *snap_mode_name(enum snap_mode m)
{
        switch (m) {
        case SNAP_MODE_FULL:
                return "full";
        case SNAP_MODE_REDO:
                return "redo";
        case SNAP_MODE_TIME:
                return "time";
        }
        return "unknown";
}

static void idset_add(struct idset *s, uint32_t id)
{
        if (s->n == s->alloc) {
                s->alloc = s->alloc ? s->alloc * 2 : 16;
                s->v = xreallocarray(s->v, s->alloc, sizeof(uint32_t));
        }
        s->v[s->n++] = id;
}

static int u32_cmp(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
        return x < y ? -1 : x > y;
}

static void idset_sort(struct idset *s)
{
        if (s->n > 1)
                qsort(s->v, s->n, sizeof(uint32_t), u32_cmp);
}

static bool idset_has(const struct idset *s, uint32_t id)
{
        return s->n && bsearch(&id, s->v, s->n, sizeof(uint32_t), u32_cmp);
}

static void idset_done(struct idset *s)
{
        free(s->v);
}

static struct snap_change *add_change(struct snap_changes *c, char *path,
                                      enum snap_change_kind kind, uint32_t id)
{
        if (c->n == c->alloc) {
                c->alloc = c->alloc ? c->alloc * 2 : 64;
                c->v = xreallocarray(c->v, c->alloc, sizeof(*c->v));
        }
        struct snap_change *ch = &c->v[c->n++];
        *ch = (struct snap_change){.path = path, .kind = kind, .id = id};
        return ch;
}

static void add_removed(struct snap_changes *c, uint32_t id)
{
        if (c->n_removed == c->removed_alloc) {
                c->removed_alloc = c->removed_alloc ? c->removed_alloc * 2 : 64;
                c->removed = xreallocarray(c->removed, c->removed_alloc, sizeof(uint32_t));
        }
        c->removed[c->n_removed++] = id;
}

void snap_changes_free(struct snap_changes *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < c->n; i++) {
                free(c->v[i].path);
                free((char *) c->v[i].key.link_target);
        }
        free(c->v);
        free(c->removed);
        free(c);
}

size_t snap_changes_count(const struct snap_changes *c)
{
        return c->n;
}

struct snap_change *snap_changes_at(struct snap_changes *c, size_t i)
{
        return i < c->n ? &c->v[i] : NULL;
}

size_t snap_changes_layer_entries(const struct snap_changes *c)
{
        size_t n = 0;
        for (size_t i = 0; i < c->n; i++)
                n += c->v[i].kind != SNAP_REFRESH;
        return n;
}

/* The stat fields each mode compares, besides the type. */
static bool key_differs(enum snap_mode mode, const struct snap_stat *o, const struct snap_stat *n)
{
        if (mode == SNAP_MODE_TIME)
                return o->mtime_ns != n->mtime_ns;
        return o->mode != n->mode || o->uid != n->uid || o->gid != n->gid || o->size != n->size ||
               o->mtime_ns != n->mtime_ns || o->ino != n->ino || o->rdev != n->rdev;
}

/* Full mode, where only the ctime (or nothing, with SNAP_DIFF_HASH_ALWAYS) differs: true if
 * the xattrs, the link target and the content are those the index knows. *ret_key gets what
 * was read. */
static int same_beyond_stat(int dir_fd, const char *name, const struct snap_key *old,
                            bool check_xattrs, struct snap_key *ret_key, char **ret_target)
{
        int r;
        if (check_xattrs) {
                if (!old->has_xattrs)
                        return 0;
                _cleanup_(snap_xattrs_done) struct snap_xattrs x = {0};
                r = walker_read_xattrs_at(dir_fd, name, &x);
                if (r < 0)
                        return r;
                walker_xattrs_digest(&x, ret_key->xattrs_digest);
                ret_key->has_xattrs = true;
                if (memcmp(ret_key->xattrs_digest, old->xattrs_digest, SNAP_XATTR_DIGEST_SIZE))
                        return 0;
        }
        if (S_ISLNK(ret_key->st.mode)) {
                r = walker_readlink_at(dir_fd, name, ret_target);
                if (r < 0)
                        return r;
                if (!streq_ptr(*ret_target, old->link_target))
                        return 0;
        }
        if (S_ISREG(ret_key->st.mode)) {
                if (!old->has_content)
                        return 0;
                r = walker_hash_file_at(dir_fd, name, ret_key->content);
                if (r < 0)
                        return r;
                ret_key->has_content = true;
                if (memcmp(ret_key->content, old->content, SNAP_CONTENT_HASH_SIZE))
                        return 0;
        }
        return 1;
}

/* Compares one existing entry with the index and records a change if there is one.
 * *ret_change gets the change (NULL: unchanged). */
static int classify(struct diff *d, int dir_fd, const char *name, const char *path,
                    const struct snap_stat *st, uint32_t id, struct snap_change **ret_change,
                    struct lerr **err)
{
        struct snap_key old;
        _cleanup_free_ char *target = NULL;
        struct snap_key key = {.st = *st};
        enum snap_change_kind kind;
        bool type_changed = false;
        int r;

        *ret_change = NULL;
        if (id == SNAP_INDEX_NONE || snap_index_get(d->idx, id, &old) < 0) {
                kind = SNAP_ADDED;
                id = SNAP_INDEX_NONE;
        } else if ((old.st.mode & S_IFMT) != (st->mode & S_IFMT)) {
                kind = SNAP_MODIFIED;
                type_changed = true;
                if (S_ISDIR(old.st.mode)) {
                        idset_add(&d->replaced, id);
                        idset_add(&d->sweep_roots, id);
                }
        } else if (key_differs(d->mode, &old.st, st)) {
                kind = SNAP_MODIFIED;
        } else if (d->mode == SNAP_MODE_FULL &&
                   (old.st.ctime_ns != st->ctime_ns ||
                    ((d->flags & SNAP_DIFF_HASH_ALWAYS) && S_ISREG(st->mode) && old.has_content))) {
                bool ctime_moved = old.st.ctime_ns != st->ctime_ns;
                r = same_beyond_stat(dir_fd, name, &old, ctime_moved, &key, &target);
                if (r == -ENOENT)
                        return 0; /* gone since the stat: the next snapshot sees it */
                if (r < 0)
                        return lerr_errno(err, -r, "compare '%s'", path);
                if (r > 0 && !ctime_moved)
                        return 0;
                kind = r > 0 ? SNAP_REFRESH : SNAP_MODIFIED;
        } else
                return 0;

        if (S_ISLNK(st->mode) && !target) {
                r = walker_readlink_at(dir_fd, name, &target);
                if (r == -ENOENT)
                        return 0;
                if (r < 0)
                        return lerr_errno(err, -r, "read link '%s'", path);
        }
        if (kind != SNAP_REFRESH) {
                /* the writer reads xattrs and content again as it writes them */
                key.has_xattrs = false;
                key.has_content = false;
        }
        struct snap_change *c = add_change(d->c, xstrdup(path), kind, id);
        key.link_target = TAKE_PTR(target);
        c->key = key;
        c->type_changed = type_changed;
        *ret_change = c;
        return 0;
}

static int diff_one(struct walker_entry *we, void *userdata, struct lerr **err)
{
        struct diff *d = userdata;
        uint32_t id = SNAP_INDEX_NONE;
        if (we->parent_tag != SNAP_INDEX_NONE)
                id = snap_index_child(d->idx, we->parent_tag, we->name, strlen(we->name));
        if (id != SNAP_INDEX_NONE)
                snap_index_mark(d->idx, id, d->gen);
        struct snap_change *c;
        int r = classify(d, we->dir_fd, we->name, we->path, &we->st, id, &c, err);
        if (r < 0)
                return r;
        /* children of a new directory, or of a former non-directory, are all new */
        we->tag = (c && (c->kind == SNAP_ADDED || c->type_changed)) ? SNAP_INDEX_NONE : id;
        return WALKER_DESCEND;
}

/* Lists unseen entries below the sweep roots (everything, for a full diff) as removed, and
 * the topmost of each deleted subtree as a whiteout. */
static void sweep(struct diff *d, bool everything)
{
        idset_sort(&d->replaced);
        idset_sort(&d->sweep_roots);
        idset_sort(&d->deleted);
        uint32_t bound = snap_index_id_bound(d->idx);
        for (uint32_t id = 1; id < bound; id++) {
                if (!snap_index_live(d->idx, id) || snap_index_generation_of(d->idx, id) == d->gen)
                        continue;
                if (!everything) {
                        bool below = false;
                        for (uint32_t a = id; a != SNAP_INDEX_NONE && !below;
                             a = snap_index_parent(d->idx, a))
                                below = idset_has(&d->sweep_roots, a);
                        if (!below)
                                continue;
                }
                add_removed(d->c, id);
                if (idset_has(&d->deleted, id))
                        continue;
                uint32_t parent = snap_index_parent(d->idx, id);
                if (snap_index_generation_of(d->idx, parent) != d->gen ||
                    idset_has(&d->replaced, parent))
                        continue; /* its parent is gone or replaced: that covers it */
                char *path = snap_index_path(d->idx, id);
                if (d->ign && ignore_list_match(d->ign, path)) {
                        /* ignored now (a new mount): forget it, but never delete it */
                        free(path);
                        continue;
                }
                add_change(d->c, path, SNAP_DELETED, id);
        }
}

static int change_cmp(const void *a, const void *b)
{
        return walker_path_cmp(((const struct snap_change *) a)->path,
                               ((const struct snap_change *) b)->path);
}

static int str_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static struct snap_change *find_change(struct snap_changes *c, size_t sorted_n, const char *path)
{
        struct snap_change key = {.path = (char *) path};
        return bsearch(&key, c->v, sorted_n, sizeof(*c->v), change_cmp);
}

/* The directories above every change to be written, sorted, with duplicates. */
static char **collect_ancestors(const struct snap_changes *c, size_t *ret_n)
{
        char **anc = NULL;
        size_t na = 0, alloc = 0;
        for (size_t i = 0; i < c->n; i++) {
                if (c->v[i].kind == SNAP_REFRESH)
                        continue;
                const char *p = c->v[i].path;
                for (const char *s = strchr(p, '/'); s; s = strchr(s + 1, '/')) {
                        if (na == alloc) {
                                alloc = alloc ? alloc * 2 : 64;
                                anc = xreallocarray(anc, alloc, sizeof(char *));
                        }
                        anc[na++] = xstrndup(p, (size_t) (s - p));
                }
        }
        if (na > 1)
                qsort(anc, na, sizeof(char *), str_cmp);
        *ret_n = na;
        return anc;
}

/* Adds the directories above every written change, with their current metadata. */
static int add_parents(struct diff *d, struct lerr **err)
{
        struct snap_changes *c = d->c;
        size_t n = c->n, na;
        int r = 0;

        if (c->n > 1)
                qsort(c->v, c->n, sizeof(*c->v), change_cmp);
        char **anc = collect_ancestors(c, &na);
        for (size_t i = 0; i < na; i++) {
                if (r < 0 || (i > 0 && streq(anc[i], anc[i - 1])))
                        continue;
                struct snap_change *have = find_change(c, n, anc[i]);
                if (have) {
                        /* a parent must be in the layer even if only its ctime moved */
                        if (have->kind == SNAP_REFRESH)
                                have->kind = SNAP_PARENT;
                        continue;
                }
                const char *name;
                _cleanup_close_ int dir_fd = fs_open_parent_in_root(d->root_fd, anc[i], &name);
                struct snap_stat st;
                int q = dir_fd < 0 ? dir_fd : walker_stat_at(dir_fd, name, &st, NULL);
                if (q == -ENOENT || (q >= 0 && !S_ISDIR(st.mode)))
                        continue; /* changed under us: the next snapshot sees it */
                if (q < 0) {
                        r = lerr_errno(err, -q, "stat '%s'", anc[i]);
                        continue;
                }
                uint32_t id = snap_index_find(d->idx, anc[i]);
                struct snap_change *ch;
                q = classify(d, dir_fd, name, anc[i], &st, id, &ch, err);
                if (q < 0) {
                        r = q;
                        continue;
                }
                if (!ch) {
                        ch = add_change(c, xstrdup(anc[i]), SNAP_PARENT, id);
                        ch->key.st = st;
                } else if (ch->kind == SNAP_REFRESH)
                        ch->kind = SNAP_PARENT;
        }
        for (size_t i = 0; i < na; i++)
                free(anc[i]);
        free(anc);
        if (c->n > 1)
                qsort(c->v, c->n, sizeof(*c->v), change_cmp);
        return r;
}

static void diff_done(struct diff *d)
{
        idset_done(&d->replaced);
        idset_done(&d->sweep_roots);
        idset_done(&d->deleted);
        snap_changes_free(d->c);
}

static void diff_init(struct diff *d, struct snap_index *idx, int root_fd,
                      const struct ignore_list *ign, enum snap_mode mode, unsigned flags)
{
        *d = (struct diff){.idx = idx,
                           .root_fd = root_fd,
                           .ign = ign,
                           .mode = mode,
                           .flags = flags,
                           .gen = snap_index_new_generation(idx),
                           .c = xcalloc(1, sizeof(struct snap_changes))};
        snap_index_mark(idx, SNAP_INDEX_ROOT, d->gen);
}

int snap_diff(struct snap_index *idx, int root_fd, const struct ignore_list *ign,
              enum snap_mode mode, unsigned flags, struct snap_changes **ret, struct lerr **err)
{
        _cleanup_(diff_done) struct diff d;
        diff_init(&d, idx, root_fd, ign, mode, flags);
        int r = walker_walk(root_fd, "", SNAP_INDEX_ROOT, ign, diff_one, &d, err);
        if (r < 0)
                return lerr_wrap(err, "compare the root with its snapshot");
        sweep(&d, true);
        r = add_parents(&d, err);
        if (r < 0)
                return lerr_wrap(err, "compare the root with its snapshot");
        *ret = TAKE_PTR(d.c);
        return 0;
}

/* Resolves symlinks in the parent components of a cleaned path, inside the root. The last
 * component is kept as it is. A missing component ends the resolution: the rest is kept. */
static int resolve_parents(int root_fd, const char *path, char **ret)
{
        _cleanup_free_ char *rest = xstrdup(path);
        _cleanup_free_ char *cur = xstrdup("");
        unsigned hops = 0;

        for (;;) {
                char *slash = strchr(rest, '/');
                if (!slash)
                        break;
                *slash = '\0';
                _cleanup_free_ char *cand = *cur ? xasprintf("%s/%s", cur, rest) : xstrdup(rest);
                const char *tail = slash + 1;
                struct stat st;
                if (fstatat(root_fd, cand, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(st.st_mode)) {
                        free(cur);
                        cur = TAKE_PTR(cand);
                        char *next = xstrdup(tail);
                        free(rest);
                        rest = next;
                        continue;
                }
                if (++hops > FS_MAX_SYMLINK_HOPS)
                        return -ELOOP;
                _cleanup_free_ char *target = NULL;
                int r = walker_readlink_at(root_fd, cand, &target);
                if (r < 0)
                        return r;
                _cleanup_free_ char *joined = target[0] == '/'
                                                      ? xasprintf("%s/%s", target, tail)
                                                      : xasprintf("%s/%s/%s", cur, target, tail);
                char *clean;
                r = fs_normalize_path(joined, &clean);
                if (r < 0)
                        return r;
                free(rest);
                rest = clean;
                free(cur);
                cur = xstrdup("");
        }
        *ret = *cur ? xasprintf("%s/%s", cur, rest) : TAKE_PTR(rest);
        return 0;
}

static int path_cmp_ptr(const void *a, const void *b)
{
        return walker_path_cmp(*(char *const *) a, *(char *const *) b);
}

/* A path the caller says it changed that does not exist: the topmost missing entry of the
 * index on its way becomes the whiteout. */
static void diff_missing(struct diff *d, const char *path)
{
        _cleanup_free_ char *p = xstrdup(path);
        for (;;) {
                char *slash = strrchr(p, '/');
                if (!slash)
                        break;
                *slash = '\0';
                struct stat st;
                if (fstatat(d->root_fd, p, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                        *slash = '/';
                        break;
                }
        }
        uint32_t id = snap_index_find(d->idx, p);
        if (id == SNAP_INDEX_NONE || idset_has(&d->deleted, id))
                return;
        if (d->ign && ignore_list_match(d->ign, p))
                return;
        idset_add(&d->deleted, id);
        idset_sort(&d->deleted);
        idset_add(&d->sweep_roots, id);
        add_change(d->c, TAKE_PTR(p), SNAP_DELETED, id);
}

static int diff_path(struct diff *d, const char *path, struct lerr **err)
{
        const char *name;
        _cleanup_close_ int dir_fd = fs_open_parent_in_root(d->root_fd, path, &name);
        struct snap_stat st;
        int r = dir_fd < 0 ? dir_fd : walker_stat_at(dir_fd, name, &st, NULL);
        if (r == -ENOENT || r == -ENOTDIR) {
                diff_missing(d, path);
                return 0;
        }
        if (r < 0)
                return lerr_errno(err, -r, "stat '%s'", path);

        uint32_t id = snap_index_find(d->idx, path);
        if (id != SNAP_INDEX_NONE)
                snap_index_mark(d->idx, id, d->gen);
        struct snap_change *c;
        r = classify(d, dir_fd, name, path, &st, id, &c, err);
        if (r < 0 || !S_ISDIR(st.mode))
                return r;
        uint32_t tag = (c && (c->kind == SNAP_ADDED || c->type_changed)) ? SNAP_INDEX_NONE : id;
        if (tag != SNAP_INDEX_NONE)
                idset_add(&d->sweep_roots, tag);
        return walker_walk(d->root_fd, path, tag, d->ign, diff_one, d, err);
}

/* The caller's paths, cleaned, resolved in the root and sorted in layer order: a new
 * NULL-terminated vector. */
static int prepare_paths(int root_fd, char *const *paths, char ***ret, size_t *ret_n,
                         struct lerr **err)
{
        size_t n = 0;
        for (char *const *p = paths; p && *p; p++)
                n++;
        _cleanup_(strv_freep) char **list = xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *clean = NULL;
                int r = fs_normalize_path(paths[i], &clean);
                if (r >= 0)
                        r = resolve_parents(root_fd, clean, &list[i]);
                if (r < 0)
                        return lerr_errno(err, -r, "resolve '%s' in the root", paths[i]);
        }
        qsort(list, n, sizeof(char *), path_cmp_ptr);
        *ret = TAKE_PTR(list);
        *ret_n = n;
        return 0;
}

int snap_diff_paths(struct snap_index *idx, int root_fd, const struct ignore_list *ign,
                    enum snap_mode mode, unsigned flags, char *const *paths,
                    struct snap_changes **ret, struct lerr **err)
{
        _cleanup_(strv_freep) char **list = NULL;
        size_t k = 0;
        int r = prepare_paths(root_fd, paths, &list, &k, err);
        if (r < 0)
                return lerr_wrap(err, "compare paths with the snapshot");
        if (k > 0 && !*list[0]) /* the root itself sorts first: that is a whole snapshot */
                return snap_diff(idx, root_fd, ign, mode, flags, ret, err);

        _cleanup_(diff_done) struct diff d;
        diff_init(&d, idx, root_fd, ign, mode, flags);
        const char *covered = NULL; /* the last path handled: what lies below it is done */
        for (size_t i = 0; i < k && r >= 0; i++) {
                const char *p = list[i];
                size_t cl = covered ? strlen(covered) : 0;
                if (covered &&
                    (streq(p, covered) || (strncmp(p, covered, cl) == 0 && p[cl] == '/')))
                        continue;
                covered = p;
                if (ign && ignore_list_match(ign, p))
                        continue;
                r = diff_path(&d, p, err);
        }
        if (r >= 0) {
                sweep(&d, false);
                r = add_parents(&d, err);
        }
        if (r < 0)
                return lerr_wrap(err, "compare paths with the snapshot");
        *ret = TAKE_PTR(d.c);
        return 0;
}

int snap_changes_commit(struct snap_index *idx, struct snap_changes *c, struct lerr **err)
{
        for (size_t i = 0; i < c->n_removed; i++)
                snap_index_remove(idx, c->removed[i]);
        for (size_t i = 0; i < c->n; i++) {
                struct snap_change *ch = &c->v[i];
                if (ch->vanished || ch->kind == SNAP_DELETED)
                        continue;
                if (ch->kind == SNAP_PARENT && !ch->key.has_xattrs)
                        continue; /* nothing learned: keep what the index knows */
                int r = snap_index_put_path(idx, ch->path, &ch->key, NULL);
                if (r == -ENOENT)
                        continue; /* its parent vanished before it was written */
                if (r < 0)
                        return lerr_errno(err, -r, "update the snapshot index with '%s'", ch->path);
        }
        return 0;
}
