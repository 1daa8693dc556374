/* SPDX-License-Identifier: Apache-2.0 */
/* The snapshot index: fixed records, an open-addressing table keyed by (parent, name) and a
 * name arena. It is filled by a walk and updated in place by the snapshotter; it never writes
 * to the root. */
#include "snapshot/index.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/fs.h"

enum {
        IE_LIVE = 1u << 0,
        IE_XATTRS = 1u << 1, /* the xattr digest is known (zero when absent from the extra) */
        IE_EXTRA = 1u << 2,  /* an extra record follows the name in the arena */
};

/* extra record flags: which optional fields follow the flag byte, in this order */
enum {
        EX_RDEV = 1u << 0,    /* u64 */
        EX_DEV = 1u << 1,     /* u64, when st_dev differs from the root's */
        EX_XATTRS = 1u << 2,  /* SNAP_XATTR_DIGEST_SIZE bytes, when there are xattrs */
        EX_CONTENT = 1u << 3, /* SNAP_CONTENT_HASH_SIZE bytes */
        EX_LINK = 1u << 4,    /* u16 length, bytes, NUL */
};

/* 56 bytes: the name and the optional extra record live together in the arena, so that
 * one offset finds both; an entry whose extra changes gets both copied anew. */
struct ientry {
        uint64_t size;
        int64_t mtime_ns, ctime_ns;
        uint64_t ino;
        uint32_t uid, gid;
        uint32_t parent;   /* for a free record: the next free id */
        uint32_t name_off; /* arena offset of the NUL-terminated name (then the extra) */
        uint32_t gen;
        uint16_t mode; /* S_IFMT | 07777 fits in 16 bits */
        uint8_t name_len;
        uint8_t flags;
};
_Static_assert(sizeof(struct ientry) == 56, "index records are 56 bytes");

#define EMPTY   UINT32_MAX
#define MIN_CAP 1024u

struct snap_index {
        struct ientry *e;
        uint32_t n_alloc, n_used, free_head, live;
        uint32_t *slots;
        uint32_t cap; /* power of two */
        char *arena;
        size_t arena_len, arena_alloc, garbage;
        uint64_t dev; /* the root's st_dev */
        uint32_t gen;
};

static uint32_t hash_of(uint32_t parent, const char *name, size_t len)
{
        uint64_t h = 0xcbf29ce484222325ull ^ ((uint64_t) parent * 0x9e3779b97f4a7c15ull);
        for (size_t i = 0; i < len; i++) {
                h ^= (unsigned char) name[i];
                h *= 0x100000001b3ull;
        }
        h ^= h >> 31;
        h *= 0xbf58476d1ce4e5b9ull;
        return (uint32_t) (h ^ (h >> 29));
}

static const char *ename(const struct snap_index *idx, const struct ientry *e)
{
        return idx->arena + e->name_off;
}

static int arena_add(struct snap_index *idx, const void *p, size_t n, uint32_t *ret)
{
        if (idx->arena_len + n > UINT32_MAX)
                return -E2BIG;
        if (idx->arena_len + n > idx->arena_alloc) {
                idx->arena_alloc = MAX(idx->arena_alloc + idx->arena_alloc / 2, idx->arena_len + n);
                idx->arena_alloc = MIN(idx->arena_alloc, (size_t) UINT32_MAX);
                idx->arena = xrealloc(idx->arena, idx->arena_alloc);
        }
        memcpy(idx->arena + idx->arena_len, p, n);
        *ret = (uint32_t) idx->arena_len;
        idx->arena_len += n;
        return 0;
}

static const unsigned char *extra_of(const struct snap_index *idx, const struct ientry *e)
{
        if (!(e->flags & IE_EXTRA))
                return NULL;
        return (const unsigned char *) idx->arena + e->name_off + e->name_len + 1;
}

static size_t extra_len(const unsigned char *p)
{
        if (!p)
                return 0;
        uint8_t f = p[0];
        size_t n = 1;
        n += (f & EX_RDEV) ? 8 : 0;
        n += (f & EX_DEV) ? 8 : 0;
        n += (f & EX_XATTRS) ? SNAP_XATTR_DIGEST_SIZE : 0;
        n += (f & EX_CONTENT) ? SNAP_CONTENT_HASH_SIZE : 0;
        if (f & EX_LINK) {
                uint16_t l;
                memcpy(&l, p + n, 2);
                n += 2 + (size_t) l + 1;
        }
        return n;
}

struct snap_index *snap_index_new(void)
{
        struct snap_index *idx = xcalloc(1, sizeof(*idx));
        idx->cap = MIN_CAP;
        idx->slots = xmalloc(idx->cap * sizeof(uint32_t));
        memset(idx->slots, 0xff, idx->cap * sizeof(uint32_t));
        idx->arena_alloc = 65536;
        idx->arena = xmalloc(idx->arena_alloc);
        idx->arena[0] = '\0'; /* offset 0: the root's empty name */
        idx->arena_len = 1;
        idx->n_alloc = 1024;
        idx->e = xcalloc(idx->n_alloc, sizeof(struct ientry));
        idx->n_used = 1;
        idx->free_head = EMPTY;
        idx->e[SNAP_INDEX_ROOT] = (struct ientry){
                .mode = S_IFDIR | 0755, .parent = SNAP_INDEX_NONE, .flags = IE_LIVE};
        return idx;
}

void snap_index_free(struct snap_index *idx)
{
        if (!idx)
                return;
        free(idx->e);
        free(idx->slots);
        free(idx->arena);
        free(idx);
}

void snap_index_clear(struct snap_index *idx)
{
        struct ientry root = idx->e[SNAP_INDEX_ROOT];
        memset(idx->slots, 0xff, idx->cap * sizeof(uint32_t));
        idx->n_used = 1;
        idx->free_head = EMPTY;
        idx->live = 0;
        idx->arena_len = 1;
        idx->garbage = 0;
        root.name_off = 0;
        root.flags &= (uint8_t) ~IE_EXTRA;
        idx->e[SNAP_INDEX_ROOT] = root;
}

size_t snap_index_count(const struct snap_index *idx)
{
        return idx->live;
}

size_t snap_index_memory(const struct snap_index *idx)
{
        return sizeof(*idx) + (size_t) idx->n_alloc * sizeof(struct ientry) +
               (size_t) idx->cap * sizeof(uint32_t) + idx->arena_alloc;
}

static bool is_live(const struct snap_index *idx, uint32_t id)
{
        return id < idx->n_used && (idx->e[id].flags & IE_LIVE);
}

bool snap_index_live(const struct snap_index *idx, uint32_t id)
{
        return is_live(idx, id);
}

uint32_t snap_index_id_bound(const struct snap_index *idx)
{
        return idx->n_used;
}

uint32_t snap_index_child(const struct snap_index *idx, uint32_t parent, const char *name,
                          size_t len)
{
        uint32_t mask = idx->cap - 1;
        for (uint32_t i = hash_of(parent, name, len) & mask;; i = (i + 1) & mask) {
                uint32_t id = idx->slots[i];
                if (id == EMPTY)
                        return SNAP_INDEX_NONE;
                const struct ientry *e = &idx->e[id];
                if (e->parent == parent && e->name_len == len &&
                    memcmp(ename(idx, e), name, len) == 0)
                        return id;
        }
}

uint32_t snap_index_find(const struct snap_index *idx, const char *path)
{
        uint32_t id = SNAP_INDEX_ROOT;
        const char *p = path;
        while (*p) {
                const char *s = p;
                while (*p && *p != '/')
                        p++;
                if (p == s)
                        return SNAP_INDEX_NONE;
                id = snap_index_child(idx, id, s, (size_t) (p - s));
                if (id == SNAP_INDEX_NONE)
                        return id;
                if (*p == '/')
                        p++;
        }
        return id;
}

int snap_index_get(const struct snap_index *idx, uint32_t id, struct snap_key *ret)
{
        if (!is_live(idx, id))
                return -ENOENT;
        const struct ientry *e = &idx->e[id];
        struct snap_key k = {
                .st = {.size = e->size,
                       .mtime_ns = e->mtime_ns,
                       .ctime_ns = e->ctime_ns,
                       .ino = e->ino,
                       .dev = idx->dev,
                       .mode = e->mode,
                       .uid = e->uid,
                       .gid = e->gid},
                .has_xattrs = (e->flags & IE_XATTRS) != 0,
        };
        const unsigned char *p = extra_of(idx, e);
        if (p) {
                uint8_t f = *p++;
                if (f & EX_RDEV) {
                        memcpy(&k.st.rdev, p, 8);
                        p += 8;
                }
                if (f & EX_DEV) {
                        memcpy(&k.st.dev, p, 8);
                        p += 8;
                }
                if (f & EX_XATTRS) {
                        memcpy(k.xattrs_digest, p, SNAP_XATTR_DIGEST_SIZE);
                        p += SNAP_XATTR_DIGEST_SIZE;
                }
                if (f & EX_CONTENT) {
                        memcpy(k.content, p, SNAP_CONTENT_HASH_SIZE);
                        k.has_content = true;
                        p += SNAP_CONTENT_HASH_SIZE;
                }
                if (f & EX_LINK)
                        k.link_target = (const char *) p + 2;
        }
        *ret = k;
        return 0;
}

uint32_t snap_index_parent(const struct snap_index *idx, uint32_t id)
{
        return is_live(idx, id) ? idx->e[id].parent : SNAP_INDEX_NONE;
}

const char *snap_index_name(const struct snap_index *idx, uint32_t id)
{
        return is_live(idx, id) ? ename(idx, &idx->e[id]) : NULL;
}

char *snap_index_path(const struct snap_index *idx, uint32_t id)
{
        size_t len = 0;
        for (uint32_t i = id; i != SNAP_INDEX_ROOT && i != SNAP_INDEX_NONE; i = idx->e[i].parent)
                len += idx->e[i].name_len + 1u;
        char *p = xmalloc(len + 1);
        size_t at = len ? len - 1 : 0;
        p[at] = '\0';
        for (uint32_t i = id; i != SNAP_INDEX_ROOT && i != SNAP_INDEX_NONE; i = idx->e[i].parent) {
                const struct ientry *e = &idx->e[i];
                at -= e->name_len;
                memcpy(p + at, ename(idx, e), e->name_len);
                if (at > 0)
                        p[--at] = '/';
        }
        return p;
}

bool snap_index_is_under(const struct snap_index *idx, uint32_t id, uint32_t ancestor)
{
        for (uint32_t i = id; i != SNAP_INDEX_NONE; i = idx->e[i].parent)
                if (i == ancestor)
                        return true;
        return false;
}

static void table_insert(struct snap_index *idx, uint32_t id)
{
        const struct ientry *e = &idx->e[id];
        uint32_t mask = idx->cap - 1;
        uint32_t i = hash_of(e->parent, ename(idx, e), e->name_len) & mask;
        while (idx->slots[i] != EMPTY)
                i = (i + 1) & mask;
        idx->slots[i] = id;
}

static void table_grow(struct snap_index *idx)
{
        free(idx->slots);
        idx->cap *= 2;
        idx->slots = xmalloc((size_t) idx->cap * sizeof(uint32_t));
        memset(idx->slots, 0xff, (size_t) idx->cap * sizeof(uint32_t));
        for (uint32_t id = 1; id < idx->n_used; id++)
                if (idx->e[id].flags & IE_LIVE)
                        table_insert(idx, id);
}

/* Backward-shift deletion keeps linear probing free of tombstones. */
static void table_remove(struct snap_index *idx, uint32_t id)
{
        const struct ientry *e = &idx->e[id];
        uint32_t mask = idx->cap - 1;
        uint32_t i = hash_of(e->parent, ename(idx, e), e->name_len) & mask;
        while (idx->slots[i] != id)
                i = (i + 1) & mask;
        for (uint32_t j = i;;) {
                j = (j + 1) & mask;
                uint32_t other = idx->slots[j];
                if (other == EMPTY)
                        break;
                const struct ientry *o = &idx->e[other];
                uint32_t home = hash_of(o->parent, ename(idx, o), o->name_len) & mask;
                /* move it back unless its home lies cyclically in (i, j] */
                bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
                if (!stays) {
                        idx->slots[i] = other;
                        i = j;
                }
        }
        idx->slots[i] = EMPTY;
}

static void compact(struct snap_index *idx)
{
        size_t alloc = MAX((size_t) 65536, (idx->arena_len - idx->garbage) * 3 / 2);
        char *a = xmalloc(alloc);
        size_t len = 1;
        a[0] = '\0';
        for (uint32_t id = 0; id < idx->n_used; id++) {
                struct ientry *e = &idx->e[id];
                if (!(e->flags & IE_LIVE))
                        continue;
                size_t n = e->name_len + 1u + extra_len(extra_of(idx, e));
                if (id == SNAP_INDEX_ROOT && n == 1)
                        continue; /* the root's empty name stays at offset 0 */
                memcpy(a + len, ename(idx, e), n);
                e->name_off = (uint32_t) len;
                len += n;
        }
        free(idx->arena);
        idx->arena = a;
        idx->arena_len = len;
        idx->arena_alloc = alloc;
        idx->garbage = 0;
}

static size_t record_len(const struct snap_index *idx, const struct ientry *e)
{
        return e->name_len + 1u + extra_len(extra_of(idx, e));
}

/* Builds the extra record of a key into rec (at most EXTRA_MAX bytes); returns its length, 0
 * when the key needs none. */
#define EXTRA_MAX                                                                                  \
        (1 + 8 + 8 + SNAP_XATTR_DIGEST_SIZE + SNAP_CONTENT_HASH_SIZE + 2 + FS_PATH_MAX + 1)

static int build_extra(const struct snap_index *idx, const struct snap_key *k, unsigned char *rec)
{
        uint8_t f = 0;
        size_t link_len = 0;
        bool has_x = false;
        if (k->has_xattrs)
                for (size_t i = 0; i < SNAP_XATTR_DIGEST_SIZE; i++)
                        has_x |= k->xattrs_digest[i] != 0;
        if (k->st.rdev)
                f |= EX_RDEV;
        if (k->st.dev != idx->dev)
                f |= EX_DEV;
        if (has_x)
                f |= EX_XATTRS;
        if (k->has_content)
                f |= EX_CONTENT;
        if (k->link_target && S_ISLNK(k->st.mode)) {
                link_len = strlen(k->link_target);
                if (link_len > FS_PATH_MAX)
                        return -ENAMETOOLONG;
                f |= EX_LINK;
        }
        if (!f)
                return 0;
        size_t n = 0;
        rec[n++] = f;
        if (f & EX_RDEV) {
                memcpy(rec + n, &k->st.rdev, 8);
                n += 8;
        }
        if (f & EX_DEV) {
                memcpy(rec + n, &k->st.dev, 8);
                n += 8;
        }
        if (f & EX_XATTRS) {
                memcpy(rec + n, k->xattrs_digest, SNAP_XATTR_DIGEST_SIZE);
                n += SNAP_XATTR_DIGEST_SIZE;
        }
        if (f & EX_CONTENT) {
                memcpy(rec + n, k->content, SNAP_CONTENT_HASH_SIZE);
                n += SNAP_CONTENT_HASH_SIZE;
        }
        if (f & EX_LINK) {
                uint16_t l = (uint16_t) link_len;
                memcpy(rec + n, &l, 2);
                n += 2;
                memcpy(rec + n, k->link_target, link_len + 1);
                n += link_len + 1;
        }
        return (int) n;
}

/* Sets the key of e, whose name is name (len bytes). A new entry (fresh) or one whose extra
 * record changes gets its name and extra appended to the arena; otherwise both stay. */
static int set_key(struct snap_index *idx, struct ientry *e, const char *name, size_t len,
                   bool fresh, const struct snap_key *k)
{
        _cleanup_free_ unsigned char *rec = xmalloc(EXTRA_MAX);
        int n = build_extra(idx, k, rec);
        if (n < 0)
                return n;
        const unsigned char *old = fresh ? NULL : extra_of(idx, e);
        size_t old_n = extra_len(old);
        if (fresh || old_n != (size_t) n || (n > 0 && memcmp(old, rec, (size_t) n) != 0)) {
                if (idx->arena_len + len + 1 + (size_t) n > UINT32_MAX)
                        return -E2BIG;
                uint32_t off, unused;
                char nm[256];
                memcpy(nm, name, len);
                nm[len] = '\0';
                int r = arena_add(idx, nm, len + 1, &off);
                if (r >= 0 && n > 0)
                        r = arena_add(idx, rec, (size_t) n, &unused);
                if (r < 0)
                        return r;
                if (!fresh)
                        idx->garbage += len + 1 + old_n;
                e->name_off = off;
                e->flags = (uint8_t) (n > 0 ? (e->flags | IE_EXTRA) : (e->flags & ~IE_EXTRA));
        }
        e->size = k->st.size;
        e->mtime_ns = k->st.mtime_ns;
        e->ctime_ns = k->st.ctime_ns;
        e->ino = k->st.ino;
        e->mode = (uint16_t) (k->st.mode & (S_IFMT | 07777));
        e->uid = k->st.uid;
        e->gid = k->st.gid;
        e->flags = (uint8_t) ((e->flags & (IE_LIVE | IE_EXTRA)) | (k->has_xattrs ? IE_XATTRS : 0));
        return 0;
}

static uint32_t new_id(struct snap_index *idx)
{
        if (idx->free_head != EMPTY) {
                uint32_t id = idx->free_head;
                idx->free_head = idx->e[id].parent;
                return id;
        }
        if (idx->n_used == idx->n_alloc) {
                idx->n_alloc += idx->n_alloc / 2;
                idx->e = xreallocarray(idx->e, idx->n_alloc, sizeof(struct ientry));
        }
        return idx->n_used++;
}

int snap_index_put(struct snap_index *idx, uint32_t parent, const char *name, size_t len,
                   const struct snap_key *key, uint32_t *ret_id)
{
        if (!is_live(idx, parent) || !S_ISDIR(idx->e[parent].mode))
                return -EINVAL;
        if (len == 0 || len > 255 || memchr(name, '/', len) || memchr(name, '\0', len))
                return -EINVAL;
        uint32_t id = snap_index_child(idx, parent, name, len);
        if (id != SNAP_INDEX_NONE) {
                int r = set_key(idx, &idx->e[id], name, len, false, key);
                if (r < 0)
                        return r;
                if (ret_id)
                        *ret_id = id;
                return 0;
        }
        if (idx->live + 1 >= SNAP_INDEX_MAX_ENTRIES)
                return -E2BIG;
        struct ientry fresh = {.parent = parent, .name_len = (uint8_t) len, .flags = IE_LIVE};
        int r = set_key(idx, &fresh, name, len, true, key);
        if (r < 0)
                return r;
        id = new_id(idx);
        idx->e[id] = fresh;
        idx->live++;
        if ((uint64_t) idx->live * 10 >= (uint64_t) idx->cap * 7)
                table_grow(idx);
        else
                table_insert(idx, id);
        if (ret_id)
                *ret_id = id;
        return 0;
}

int snap_index_put_path(struct snap_index *idx, const char *path, const struct snap_key *key,
                        uint32_t *ret_id)
{
        const char *slash = strrchr(path, '/');
        uint32_t parent = SNAP_INDEX_ROOT;
        const char *name = path;
        if (slash) {
                _cleanup_free_ char *dir = xstrndup(path, (size_t) (slash - path));
                parent = snap_index_find(idx, dir);
                if (parent == SNAP_INDEX_NONE)
                        return -ENOENT;
                name = slash + 1;
        }
        return snap_index_put(idx, parent, name, strlen(name), key, ret_id);
}

void snap_index_remove(struct snap_index *idx, uint32_t id)
{
        if (id == SNAP_INDEX_ROOT || !is_live(idx, id))
                return;
        struct ientry *e = &idx->e[id];
        table_remove(idx, id);
        idx->garbage += record_len(idx, e);
        e->flags = 0;
        e->parent = idx->free_head;
        idx->free_head = id;
        idx->live--;
        if (idx->garbage > 65536 && idx->garbage * 2 > idx->arena_len)
                compact(idx);
}

void snap_index_remove_tree(struct snap_index *idx, uint32_t id)
{
        if (!is_live(idx, id))
                return;
        if (S_ISDIR(idx->e[id].mode)) {
                /* two passes: ancestry must be read before any record is freed */
                uint32_t n = 0;
                uint32_t *doomed = xreallocarray(NULL, idx->live + 1u, sizeof(uint32_t));
                for (uint32_t i = 1; i < idx->n_used; i++)
                        if (i != id && is_live(idx, i) && snap_index_is_under(idx, i, id))
                                doomed[n++] = i;
                for (uint32_t i = 0; i < n; i++)
                        snap_index_remove(idx, doomed[i]);
                free(doomed);
        }
        snap_index_remove(idx, id);
}

uint32_t snap_index_new_generation(struct snap_index *idx)
{
        return ++idx->gen;
}

void snap_index_mark(struct snap_index *idx, uint32_t id, uint32_t gen)
{
        if (is_live(idx, id))
                idx->e[id].gen = gen;
}

uint32_t snap_index_generation_of(const struct snap_index *idx, uint32_t id)
{
        return is_live(idx, id) ? idx->e[id].gen : 0;
}

struct build {
        struct snap_index *idx;
        unsigned flags;
};

static int build_one(struct walker_entry *we, void *userdata, struct lerr **err)
{
        struct build *b = userdata;
        struct snap_key k = {.st = we->st};
        _cleanup_free_ char *target = NULL;
        int r;

        if (S_ISLNK(we->st.mode)) {
                r = walker_readlink_at(we->dir_fd, we->name, &target);
                if (r < 0)
                        return lerr_errno(err, -r, "read link '%s'", we->path);
                k.link_target = target;
        }
        if (!(b->flags & SNAP_INDEX_NO_XATTRS)) {
                _cleanup_(snap_xattrs_done) struct snap_xattrs x = {0};
                r = walker_read_xattrs_at(we->dir_fd, we->name, &x);
                if (r < 0)
                        return lerr_errno(err, -r, "read xattrs of '%s'", we->path);
                walker_xattrs_digest(&x, k.xattrs_digest);
                k.has_xattrs = true;
        }
        if ((b->flags & SNAP_INDEX_HASH_CONTENT) && S_ISREG(we->st.mode)) {
                r = walker_hash_file_at(we->dir_fd, we->name, k.content);
                if (r < 0)
                        return lerr_errno(err, -r, "hash '%s'", we->path);
                k.has_content = true;
        }
        uint32_t id;
        r = snap_index_put(b->idx, we->parent_tag, we->name, strlen(we->name), &k, &id);
        if (r < 0)
                return lerr_errno(err, -r, "index '%s'", we->path);
        we->tag = id;
        return WALKER_DESCEND;
}

int snap_index_build(struct snap_index *idx, int root_fd, const struct ignore_list *ign,
                     unsigned flags, struct lerr **err)
{
        struct stat st;
        snap_index_clear(idx);
        if (fstat(root_fd, &st) < 0)
                return lerr_errno(err, errno, "stat the root");
        idx->dev = st.st_dev;
        struct snap_stat rs;
        int r = walker_stat_at(root_fd, ".", &rs, NULL);
        if (r < 0)
                return lerr_errno(err, -r, "stat the root");
        struct ientry *root = &idx->e[SNAP_INDEX_ROOT];
        root->size = rs.size;
        root->mtime_ns = rs.mtime_ns;
        root->ctime_ns = rs.ctime_ns;
        root->ino = rs.ino;
        root->mode = (uint16_t) rs.mode;
        root->uid = rs.uid;
        root->gid = rs.gid;

        struct build b = {.idx = idx, .flags = flags};
        r = walker_walk(root_fd, "", SNAP_INDEX_ROOT, ign, build_one, &b, err);
        if (r < 0) {
                snap_index_clear(idx);
                return lerr_wrap(err, "build the snapshot index");
        }
        return 0;
}
