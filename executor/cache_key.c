/* SPDX-License-Identifier: Apache-2.0 */
/* Cache keys: framed sha256 of a step's inputs, the canonical text of an instruction, and the
 * digests of the files a COPY/ADD or a bind mount reads. Pure computation over what the caller
 * passes; no registry, no build state. */
#include "executor/cache_key.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/strv.h"
#include "executor/copy.h"
#include "executor/instructions.h"
#include "executor/vars.h"

#define XATTR_LIST_MAX  65536
#define XATTR_VALUE_MAX 65536
#define READ_CHUNK      (128 * 1024)

/* ---- framing ---- */

static void frame(struct cache_hash *h, char tag, const void *p, size_t n, bool absent)
{
        uint8_t hdr[9];
        uint64_t len = absent ? UINT64_MAX : (uint64_t) n;
        hdr[0] = (uint8_t) tag;
        for (int i = 0; i < 8; i++)
                hdr[1 + i] = (uint8_t) (len >> (56 - 8 * i));
        digest_update(h->d, hdr, sizeof(hdr));
        if (!absent && n)
                digest_update(h->d, p, n);
}

void cache_hash_init(struct cache_hash *h, const char *domain)
{
        h->d = digest_new();
        frame(h, 'V', CACHE_KEY_VERSION, strlen(CACHE_KEY_VERSION), false);
        frame(h, 'D', domain, strlen(domain), false);
}

void cache_hash_bytes(struct cache_hash *h, char tag, const void *p, size_t n)
{
        frame(h, tag, p, n, false);
}

void cache_hash_str(struct cache_hash *h, char tag, const char *s)
{
        frame(h, tag, s, s ? strlen(s) : 0, !s);
}

void cache_hash_u64(struct cache_hash *h, char tag, uint64_t v)
{
        uint8_t b[8];
        for (int i = 0; i < 8; i++)
                b[i] = (uint8_t) (v >> (56 - 8 * i));
        frame(h, tag, b, sizeof(b), false);
}

void cache_hash_strv(struct cache_hash *h, char tag, char *const *v)
{
        if (!v) {
                frame(h, tag, NULL, 0, true);
                return;
        }
        cache_hash_u64(h, tag, strv_length(v));
        strv_foreach (s, v)
                cache_hash_str(h, tag, s);
}

void cache_hash_final(struct cache_hash *h, char out[DIGEST_STRING_SIZE])
{
        digest_final(h->d, out);
        digest_free(h->d);
        h->d = NULL;
}

void cache_hash_done(struct cache_hash *h)
{
        digest_free(h->d);
        h->d = NULL;
}

/* ---- keys ---- */

static void root_key(const char *kind, const char *what, const struct cache_layer_format *f,
                     char out[DIGEST_STRING_SIZE])
{
        struct cache_hash h;
        cache_hash_init(&h, "root");
        cache_hash_str(&h, 'k', kind);
        cache_hash_str(&h, 'b', what);
        cache_hash_str(&h, 'c', f->compression);
        cache_hash_u64(&h, 'r', f->reproducible);
        cache_hash_final(&h, out);
}

void cache_key_root_image(const char *manifest_digest, const struct cache_layer_format *f,
                          char out[DIGEST_STRING_SIZE])
{
        root_key("image", manifest_digest, f, out);
}

void cache_key_root_scratch(const char *platform, const struct cache_layer_format *f,
                            char out[DIGEST_STRING_SIZE])
{
        root_key("scratch", platform, f, out);
}

void cache_key_step(const struct cache_step *st, char out[DIGEST_STRING_SIZE])
{
        struct cache_hash h;
        cache_hash_init(&h, "step");
        cache_hash_str(&h, 'p', st->parent);
        cache_hash_str(&h, 't', st->text);
        cache_hash_strv(&h, 'e', st->env);
        cache_hash_str(&h, 'u', st->user);
        cache_hash_str(&h, 'w', st->workdir);
        cache_hash_strv(&h, 's', st->shell);
        cache_hash_str(&h, 'f', st->files);
        cache_hash_final(&h, out);
}

/* ---- canonical text ---- */

static void add_str_or_null(cJSON *o, const char *key, const char *v)
{
        if (v)
                json_add_string(o, key, v);
        else if (!cJSON_AddNullToObject(o, key))
                oom();
}

static void add_bool(cJSON *o, const char *key, bool v)
{
        if (!cJSON_AddBoolToObject(o, key, v))
                oom();
}

static void add_num(cJSON *o, const char *key, double v)
{
        if (!cJSON_AddNumberToObject(o, key, v))
                oom();
}

static void add_num_or_null(cJSON *o, const char *key, bool has, double v)
{
        if (has)
                add_num(o, key, v);
        else if (!cJSON_AddNullToObject(o, key))
                oom();
}

static void add_strv(cJSON *o, const char *key, char *const *v)
{
        cJSON *a = json_add_array(o, key);
        strv_foreach (s, v)
                json_array_add_string(a, s);
}

static int run_text(const struct df_inst *exp, const struct cache_text_ctx *ctx, cJSON *o,
                    struct lerr **err)
{
        const struct df_run *run = &exp->u.run;
        struct df_run_script script = {0};
        int r = df_run_script(exp, ctx->shell, &script, err);
        if (r < 0)
                return r;
        add_strv(o, "argv", script.argv);
        if (script.file_name) {
                cJSON *f = json_add_object(o, "script");
                json_add_string(f, "name", script.file_name);
                json_add_string(f, "data", script.file_data);
        } else if (!cJSON_AddNullToObject(o, "script"))
                oom();
        df_run_script_done(&script);
        cJSON *mounts = json_add_array(o, "mounts");
        for (size_t i = 0; i < run->n_mounts; i++) {
                const struct df_mount *m = &run->mounts[i];
                cJSON *mo = json_new_object();
                json_add_string(mo, "type", df_mount_type_name(m->type));
                add_str_or_null(mo, "target", m->target);
                add_str_or_null(mo, "source", m->source);
                add_str_or_null(mo, "from", m->from);
                add_str_or_null(mo, "id", m->id);
                add_str_or_null(mo, "env", m->env);
                add_bool(mo, "readonly", m->readonly);
                add_bool(mo, "required", m->required);
                add_str_or_null(mo, "sharing", df_mount_sharing_name(m->sharing));
                add_num_or_null(mo, "mode", m->has_mode, m->mode);
                add_num_or_null(mo, "uid", m->has_uid, m->uid);
                add_num_or_null(mo, "gid", m->has_gid, m->gid);
                add_num(mo, "size", (double) m->size);
                if (!cJSON_AddItemToArray(mounts, mo))
                        oom();
        }
        json_add_string(o, "network", df_network_name(run->network));
        json_add_string(o, "security", df_security_name(run->security));
        cJSON *devs = json_add_array(o, "devices");
        for (size_t i = 0; i < run->n_devices; i++) {
                cJSON *d = json_new_object();
                json_add_string(d, "name", run->devices[i].name);
                add_bool(d, "required", run->devices[i].required);
                if (!cJSON_AddItemToArray(devs, d))
                        oom();
        }
        return 0;
}

static void copy_text(const struct df_inst *exp, const struct cache_text_ctx *ctx, cJSON *o)
{
        const struct df_copy *c = &exp->u.copy;
        add_strv(o, "sources", c->sources);
        cJSON *inl = json_add_array(o, "inline");
        for (size_t i = 0; i < c->n_inlines; i++) {
                cJSON *f = json_new_object();
                json_add_string(f, "name", c->inlines[i].name);
                json_add_string(f, "data", c->inlines[i].data);
                if (!cJSON_AddItemToArray(inl, f))
                        oom();
        }
        add_str_or_null(o, "dest", ctx->abs_dest ? ctx->abs_dest : c->dest);
        add_str_or_null(o, "from", c->from);
        add_str_or_null(o, "chown", c->chown);
        add_str_or_null(o, "chmod", c->chmod);
        add_str_or_null(o, "checksum", c->checksum);
        add_strv(o, "exclude", c->excludes);
        add_bool(o, "link", c->link);
        add_bool(o, "parents", c->parents);
        add_num(o, "keep_git_dir", c->keep_git_dir);
        add_num(o, "unpack", c->unpack);
}

int cache_inst_text(const struct df_inst *exp, const struct cache_text_ctx *ctx, char **ret,
                    struct lerr **err)
{
        _cleanup_(cJSON_Deletep) cJSON *o = json_new_object();
        int r = 0;
        switch (exp->kind) {
        case DF_RUN:
                r = run_text(exp, ctx, o, err);
                break;
        case DF_COPY:
        case DF_ADD:
                copy_text(exp, ctx, o);
                break;
        case DF_WORKDIR:
                add_str_or_null(o, "path", ctx->abs_path ? ctx->abs_path : exp->u.value);
                break;
        case DF_ARG:
        case DF_CMD:
        case DF_ENTRYPOINT:
        case DF_ENV:
        case DF_EXPOSE:
        case DF_FROM:
        case DF_HEALTHCHECK:
        case DF_LABEL:
        case DF_MAINTAINER:
        case DF_ONBUILD:
        case DF_SHELL:
        case DF_STOPSIGNAL:
        case DF_USER:
        case DF_VOLUME:
        case DF_KIND_COUNT:
                return lerr_set(err, EINVAL, "%s has no cache key", df_kind_name(exp->kind));
        }
        if (r < 0)
                return r;
        _cleanup_free_ char *json = json_print(o);
        *ret = xasprintf("%s %s", df_kind_name(exp->kind), json);
        return 0;
}

/* ---- environment ---- */

static bool named_in(char *const *kvs, const char *name, size_t n)
{
        strv_foreach (kv, kvs)
                if (strncmp(kv, name, n) == 0 && kv[n] == '=')
                        return true;
        return false;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

char **cache_run_env(char *const *run_env, char *const *declared_args, char *const *config_env)
{
        char **out = xcalloc(1, sizeof(char *));
        strv_foreach (kv, run_env) {
                const char *eq = strchr(kv, '=');
                size_t n = eq ? (size_t) (eq - kv) : strlen(kv);
                _cleanup_free_ char *name = xstrndup(kv, n);
                if (vars_is_proxy_arg(name) && !named_in(declared_args, name, n) &&
                    !named_in(config_env, name, n))
                        continue;
                strv_push(&out, kv);
        }
        qsort(out, strv_length(out), sizeof(char *), cmp_str);
        return out;
}

/* ---- files ---- */

struct seen_link {
        dev_t dev;
        ino_t ino;
        char *path;
};

struct tree_walk {
        const struct copy_opts *o; /* NULL: nothing filtered */
        bool keep_owner;
        size_t match_len;
        struct seen_link *links;
        size_t n_links;
        struct lerr **err;
};

static char type_char(mode_t m)
{
        switch (m & S_IFMT) {
        case S_IFREG:
                return 'f';
        case S_IFDIR:
                return 'd';
        case S_IFLNK:
                return 'l';
        case S_IFCHR:
                return 'c';
        case S_IFBLK:
                return 'b';
        case S_IFIFO:
                return 'p';
        default:
                return 's';
        }
}

static int hash_content(int fd, char out[DIGEST_STRING_SIZE])
{
        _cleanup_(digest_freep) struct digest_ctx *d = digest_new();
        _cleanup_free_ char *buf = xmalloc(READ_CHUNK);
        for (;;) {
                ssize_t n = read(fd, buf, READ_CHUNK);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                digest_update(d, buf, (size_t) n);
        }
        digest_final(d, out);
        return 0;
}

static int cmp_xattr(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The xattrs the copy engine carries over, sorted by name: name and value of each. */
static void hash_xattrs(struct cache_hash *h, int fd)
{
        char list[XATTR_LIST_MAX];
        ssize_t n = flistxattr(fd, list, sizeof(list));
        if (n <= 0)
                return;
        _cleanup_(strv_freep) char **names = NULL;
        for (char *name = list; name < list + n; name += strlen(name) + 1)
                strv_push(&names, name);
        qsort(names, strv_length(names), sizeof(char *), cmp_xattr);
        _cleanup_free_ char *value = xmalloc(XATTR_VALUE_MAX);
        strv_foreach (name, names) {
                ssize_t v = fgetxattr(fd, name, value, XATTR_VALUE_MAX);
                if (v < 0)
                        continue;
                cache_hash_str(h, 'x', name);
                cache_hash_bytes(h, 'X', value, (size_t) v);
        }
}

static void hash_stat(struct tree_walk *w, struct cache_hash *h, const struct stat *st)
{
        cache_hash_u64(h, 'T', (uint64_t) type_char(st->st_mode));
        cache_hash_u64(h, 'm', st->st_mode & 07777);
        if (w->keep_owner) {
                cache_hash_u64(h, 'u', st->st_uid);
                cache_hash_u64(h, 'g', st->st_gid);
        }
        if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
                cache_hash_u64(h, 'r', st->st_rdev);
}

/* A regular file open for reading: content and xattrs, or which earlier entry it is a hard
 * link of (the copy engine links it to that one's copy). */
static int hash_regular(struct tree_walk *w, struct cache_hash *h, int fd, const struct stat *st,
                        const char *rel)
{
        if (st->st_nlink > 1) {
                for (size_t i = 0; i < w->n_links; i++)
                        if (w->links[i].dev == st->st_dev && w->links[i].ino == st->st_ino) {
                                cache_hash_str(h, 'H', w->links[i].path);
                                return 0;
                        }
                w->links = xreallocarray(w->links, w->n_links + 1, sizeof(*w->links));
                w->links[w->n_links++] = (struct seen_link){
                        .dev = st->st_dev, .ino = st->st_ino, .path = xstrdup(rel)};
        }
        char content[DIGEST_STRING_SIZE];
        int r = hash_content(fd, content);
        if (r < 0)
                return lerr_errno(w->err, r, "read '%s'", rel);
        cache_hash_str(h, 'c', content);
        hash_xattrs(h, fd);
        return 0;
}

static int hash_dir(struct tree_walk *w, int dir_fd, const char *rel, unsigned depth,
                    struct cache_hash *h, uint64_t *ret_count);

static char *join(const char *dir, const char *name)
{
        return *dir ? xasprintf("%s/%s", dir, name) : xstrdup(name);
}

/* One entry found inside a directory (never followed). Returns the number of entries it adds,
 * 0 when the filter leaves it out. */
static int hash_child(struct tree_walk *w, int dir_fd, const char *name, const char *rel,
                      unsigned depth, struct cache_hash *h)
{
        struct stat st;
        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return lerr_errno(w->err, errno, "stat '%s'", rel);
        const char *below = rel + MIN(w->match_len, strlen(rel));
        while (*below == '/')
                below++;
        enum copy_filter_result f = w->o && w->o->filter ? w->o->filter(w->o->filter_userdata, rel,
                                                                        below, S_ISDIR(st.st_mode))
                                                         : COPY_INCLUDE;
        if (f == COPY_PRUNE || f == COPY_SKIP || (f == COPY_EXCLUDE && !S_ISDIR(st.st_mode)))
                return 0;
        if (S_ISSOCK(st.st_mode))
                return 0; /* the copy engine skips sockets, as Docker does */
        if (S_ISDIR(st.st_mode)) {
                _cleanup_close_ int fd =
                        openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return lerr_errno(w->err, errno, "open '%s'", rel);
                struct cache_hash sub;
                uint64_t n = 0;
                cache_hash_init(&sub, "dir");
                int r = hash_dir(w, fd, rel, depth + 1, &sub, &n);
                if (r < 0 || (f == COPY_EXCLUDE && n == 0)) {
                        /* an excluded directory with nothing let through is not copied */
                        cache_hash_done(&sub);
                        return r;
                }
                char children[DIGEST_STRING_SIZE];
                cache_hash_final(&sub, children);
                cache_hash_str(h, 'E', name);
                hash_stat(w, h, &st);
                cache_hash_str(h, 'C', children);
                return (int) MIN(n + 1, (uint64_t) INT32_MAX);
        }
        cache_hash_str(h, 'E', name);
        hash_stat(w, h, &st);
        if (S_ISLNK(st.st_mode)) {
                char target[FS_PATH_MAX + 1];
                ssize_t n = readlinkat(dir_fd, name, target, FS_PATH_MAX);
                if (n < 0)
                        return lerr_errno(w->err, errno, "read link '%s'", rel);
                cache_hash_bytes(h, 'l', target, (size_t) n);
        } else if (S_ISREG(st.st_mode)) {
                _cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return lerr_errno(w->err, errno, "open '%s'", rel);
                int r = hash_regular(w, h, fd, &st, rel);
                if (r < 0)
                        return r;
        }
        return 1;
}

/* The entries of a directory in name order (as the copy engine copies them). */
static int hash_dir(struct tree_walk *w, int dir_fd, const char *rel, unsigned depth,
                    struct cache_hash *h, uint64_t *ret_count)
{
        if (depth > CACHE_TREE_MAX_DEPTH)
                return lerr_set(w->err, ELOOP, "'%s' is nested more than %d directories deep", rel,
                                CACHE_TREE_MAX_DEPTH);
        _cleanup_(strv_freep) char **names = NULL;
        int dfd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
        DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        if (!d) {
                int e = errno;
                if (dfd >= 0)
                        (void) close(dfd);
                return lerr_errno(w->err, e, "read '%s'", *rel ? rel : ".");
        }
        struct dirent *de;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        strv_push(&names, de->d_name);
        closedir(d);
        size_t n = strv_length(names);
        qsort(names, n, sizeof(char *), cmp_str);
        uint64_t count = 0;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *child = join(rel, names[i]);
                int r = hash_child(w, dir_fd, names[i], child, depth, h);
                if (r < 0)
                        return r;
                count += (uint64_t) r;
        }
        cache_hash_u64(h, 'n', count);
        *ret_count = count;
        return 0;
}

/* A matched source: followed if it is a symlink (COPY copies what the link points to). */
static int hash_match(struct tree_walk *w, struct cache_hash *h, int root_fd, const char *rel)
{
        _cleanup_close_ int path_fd = fs_open_in_root(root_fd, rel, O_PATH, 0);
        struct stat st;
        if (path_fd < 0)
                return lerr_errno(w->err, path_fd, "open '%s'", *rel ? rel : ".");
        if (fstat(path_fd, &st) < 0)
                return lerr_errno(w->err, errno, "stat '%s'", rel);
        cache_hash_str(h, 'M', rel);
        hash_stat(w, h, &st);
        w->match_len = strlen(rel);
        if (S_ISDIR(st.st_mode)) {
                _cleanup_close_ int fd = fs_open_in_root(root_fd, rel, O_RDONLY | O_DIRECTORY, 0);
                if (fd < 0)
                        return lerr_errno(w->err, fd, "open '%s'", *rel ? rel : ".");
                struct cache_hash sub;
                uint64_t n = 0;
                cache_hash_init(&sub, "dir");
                int r = hash_dir(w, fd, rel, 0, &sub, &n);
                if (r < 0) {
                        cache_hash_done(&sub);
                        return r;
                }
                char children[DIGEST_STRING_SIZE];
                cache_hash_final(&sub, children);
                cache_hash_str(h, 'C', children);
        } else if (S_ISREG(st.st_mode)) {
                _cleanup_close_ int fd =
                        fs_open_in_root(root_fd, rel, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0);
                if (fd < 0)
                        return lerr_errno(w->err, fd, "open '%s'", rel);
                return hash_regular(w, h, fd, &st, rel);
        }
        return 0;
}

static void walk_done(struct tree_walk *w)
{
        for (size_t i = 0; i < w->n_links; i++)
                free(w->links[i].path);
        free(w->links);
}

int cache_hash_sources(struct cache_hash *h, int src_root_fd, char *const *patterns,
                       const struct copy_opts *o, struct lerr **err)
{
        struct tree_walk w = {.o = o, .keep_owner = o->preserve_owner && !o->chown, .err = err};
        int r = 0;
        cache_hash_u64(h, 'N', strv_length(patterns));
        strv_foreach (pattern, patterns) {
                _cleanup_(strv_freep) char **matches = NULL;
                r = copy_expand_source(src_root_fd, pattern, o, &matches, err);
                if (r < 0)
                        break;
                cache_hash_str(h, 'P', pattern);
                cache_hash_u64(h, 'n', strv_length(matches));
                for (size_t i = 0; r >= 0 && matches && matches[i]; i++)
                        r = hash_match(&w, h, src_root_fd, matches[i]);
                if (r < 0)
                        break;
        }
        walk_done(&w);
        return r < 0 ? r : 0;
}

int cache_hash_tree(struct cache_hash *h, int root_fd, const char *path, struct lerr **err)
{
        struct tree_walk w = {.err = err};
        _cleanup_free_ char *rel = NULL;
        int r = fs_normalize_path(path, &rel);
        if (r < 0)
                return lerr_errno(err, r, "bind source '%s'", path);
        cache_hash_str(h, 'B', rel);
        r = hash_match(&w, h, root_fd, rel);
        walk_done(&w);
        return r;
}
