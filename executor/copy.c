/* SPDX-License-Identifier: Apache-2.0 */
/* COPY/ADD's copying: entries are created with *at() calls on directory fds that were
 * resolved inside the destination root, never by path from "/". Does not expand variables or
 * resolve users: the caller passes numeric owners. */
#include "executor/copy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/strv.h"
#include "executor/chmod_spec.h"

#define XATTR_LIST_MAX_BYTES  65536
#define XATTR_VALUE_MAX_BYTES 65536

struct hardlink {
        dev_t dev;
        ino_t ino;
        char *dst_rel; /* first copy, relative to the destination root */
};

struct copy_ctx {
        const struct copy_opts *o;
        size_t match_len; /* length of the matched source's path: what "below" strips */
        int src_root, dst_root;
        struct copy_result *res;
        struct hardlink *links;
        size_t n_links;
        struct lerr **err;
};

static char *join(const char *dir, const char *name)
{
        return *dir ? xasprintf("%s/%s", dir, name) : xstrdup(name);
}

static const char *base_name(const char *path)
{
        const char *s = strrchr(path, '/');
        return s ? s + 1 : path;
}

static void owner_for(const struct copy_ctx *c, const struct stat *st, uid_t *uid, gid_t *gid)
{
        if (c->o->chown) {
                *uid = c->o->uid;
                *gid = c->o->gid;
        } else if (c->o->preserve_owner) {
                *uid = st->st_uid;
                *gid = st->st_gid;
        } else {
                *uid = 0;
                *gid = 0;
        }
}

static mode_t mode_for(const struct copy_ctx *c, const struct stat *st)
{
        mode_t m = st->st_mode & 07777;
        return c->o->chmod ? chmod_spec_apply(c->o->chmod, m, S_ISDIR(st->st_mode)) : m;
}

static void copy_xattrs(int src_fd, int dst_fd)
{
        char list[XATTR_LIST_MAX_BYTES];
        ssize_t n = flistxattr(src_fd, list, sizeof(list));
        if (n <= 0)
                return;
        _cleanup_free_ char *value = xmalloc(XATTR_VALUE_MAX_BYTES);
        for (char *name = list; name < list + n; name += strlen(name) + 1) {
                ssize_t v = fgetxattr(src_fd, name, value, XATTR_VALUE_MAX_BYTES);
                /* best effort: a filesystem without xattr support loses them, as cp -a does */
                if (v >= 0)
                        (void) fsetxattr(dst_fd, name, value, (size_t) v, 0);
        }
}

/* Sets owner, mode and times on an open entry (owner first: chown clears setuid). */
static int apply_meta(const struct copy_ctx *c, int fd, const struct stat *st, const char *what)
{
        uid_t uid;
        gid_t gid;
        owner_for(c, st, &uid, &gid);
        struct timespec ts[2] = {st->st_atim, st->st_mtim};
        if (fchown(fd, uid, gid) < 0)
                return lerr_errno(c->err, errno, "%s: chown '%s' to %u:%u", c->o->instruction, what,
                                  (unsigned) uid, (unsigned) gid);
        if (fchmod(fd, mode_for(c, st)) < 0)
                return lerr_errno(c->err, errno, "%s: chmod '%s'", c->o->instruction, what);
        if (futimens(fd, ts) < 0)
                return lerr_errno(c->err, errno, "%s: set times of '%s'", c->o->instruction, what);
        return 0;
}

/* Makes room for a new non-directory entry: an existing directory is an error. */
static int clear_target(const struct copy_ctx *c, int dir_fd, const char *name, const char *what)
{
        struct stat st;
        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0
                                       : lerr_errno(c->err, errno, "%s: stat '%s'",
                                                    c->o->instruction, what);
        if (S_ISDIR(st.st_mode))
                return lerr_set(c->err, EISDIR, "%s: cannot replace directory '/%s' with a file",
                                c->o->instruction, what);
        if (unlinkat(dir_fd, name, 0) < 0)
                return lerr_errno(c->err, errno, "%s: replace '/%s'", c->o->instruction, what);
        return 0;
}

static int copy_regular(struct copy_ctx *c, int in, const struct stat *st, int dst_dir,
                        const char *name, const char *dst_rel)
{
        if (st->st_nlink > 1) {
                for (size_t i = 0; i < c->n_links; i++) {
                        if (c->links[i].dev != st->st_dev || c->links[i].ino != st->st_ino)
                                continue;
                        const char *first;
                        _cleanup_close_ int pfd =
                                fs_open_parent_in_root(c->dst_root, c->links[i].dst_rel, &first);
                        if (pfd >= 0 && linkat(pfd, first, dst_dir, name, 0) == 0) {
                                c->res->files++;
                                return 0;
                        }
                        break; /* fall back to a copy */
                }
        }
        _cleanup_close_ int out =
                openat(dst_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0)
                return lerr_errno(c->err, errno, "%s: create '/%s'", c->o->instruction, dst_rel);
        int r = fs_copy_fd(in, out);
        if (r < 0)
                return lerr_errno(c->err, r, "%s: copy to '/%s'", c->o->instruction, dst_rel);
        copy_xattrs(in, out);
        r = apply_meta(c, out, st, dst_rel);
        if (r < 0)
                return r;
        c->res->files++;
        c->res->bytes += (uint64_t) st->st_size;
        if (st->st_nlink > 1) {
                c->links = xreallocarray(c->links, c->n_links + 1, sizeof(*c->links));
                c->links[c->n_links++] =
                        (struct hardlink){st->st_dev, st->st_ino, xstrdup(dst_rel)};
        }
        return 0;
}

static int copy_symlink(struct copy_ctx *c, int src_dir, const char *src_name,
                        const struct stat *st, int dst_dir, const char *name, const char *dst_rel)
{
        char target[FS_PATH_MAX + 1];
        ssize_t n = readlinkat(src_dir, src_name, target, FS_PATH_MAX);
        if (n < 0)
                return lerr_errno(c->err, errno, "%s: read link '%s'", c->o->instruction, src_name);
        target[n] = '\0';
        if (symlinkat(target, dst_dir, name) < 0)
                return lerr_errno(c->err, errno, "%s: create link '/%s'", c->o->instruction,
                                  dst_rel);
        uid_t uid;
        gid_t gid;
        owner_for(c, st, &uid, &gid);
        struct timespec ts[2] = {st->st_atim, st->st_mtim};
        if (fchownat(dst_dir, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
            utimensat(dst_dir, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return lerr_errno(c->err, errno, "%s: set owner/times of '/%s'", c->o->instruction,
                                  dst_rel);
        c->res->files++;
        return 0;
}

static int copy_special(struct copy_ctx *c, const struct stat *st, int dst_dir, const char *name,
                        const char *dst_rel)
{
        if (mknodat(dst_dir, name, st->st_mode & (S_IFMT | 07777), st->st_rdev) < 0)
                return lerr_errno(c->err, errno, "%s: create %s '/%s'%s", c->o->instruction,
                                  S_ISFIFO(st->st_mode) ? "fifo" : "device", dst_rel,
                                  errno == EPERM ? " (the build lacks CAP_MKNOD)" : "");
        _cleanup_close_ int fd = openat(dst_dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        uid_t uid;
        gid_t gid;
        owner_for(c, st, &uid, &gid);
        if (fd < 0 || fchownat(dst_dir, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
            fchmodat(dst_dir, name, mode_for(c, st), 0) < 0)
                return lerr_errno(c->err, errno, "%s: set owner/mode of '/%s'", c->o->instruction,
                                  dst_rel);
        c->res->files++;
        return 0;
}

static int copy_entry(struct copy_ctx *c, int src_dir, const char *src_name, const char *src_rel,
                      int dst_dir, const char *name, const char *dst_rel);

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Copies the entries of an open source directory into an open destination directory, in name
 * order so that copies (and hardlink choices) are reproducible. Returns the number of entries
 * written, so that an excluded directory can be dropped when nothing in it was re-included. */
static int copy_dir_contents(struct copy_ctx *c, int src_fd, const char *src_rel, int dst_fd,
                             const char *dst_rel)
{
        char **names = NULL;
        size_t n = 0;
        int r = fs_list_names(src_fd, &names, &n);
        if (r < 0)
                return lerr_errno(c->err, r, "%s: read '%s'", c->o->instruction, src_rel);
        if (n > 1) /* an empty directory has names == NULL, which qsort must not get */
                qsort(names, n, sizeof(char *), cmp_str);
        int written = 0;
        for (size_t i = 0; i < n; i++) {
                if (r >= 0) {
                        _cleanup_free_ char *s = join(src_rel, names[i]);
                        _cleanup_free_ char *t = join(dst_rel, names[i]);
                        r = copy_entry(c, src_fd, names[i], s, dst_fd, names[i], t);
                        if (r > 0)
                                written += r;
                }
                free(names[i]);
        }
        free(names);
        return r < 0 ? r : written;
}

/* Creates (or reuses) directory name in dst_dir; returns an O_RDONLY fd and whether it was
 * created. A non-directory in the way is replaced. */
static int make_dir(struct copy_ctx *c, int dst_dir, const char *name, const char *dst_rel,
                    bool *created)
{
        *created = false;
        if (mkdirat(dst_dir, name, 0700) == 0)
                *created = true;
        else if (errno == EEXIST) {
                struct stat st;
                if (fstatat(dst_dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode)) {
                        if (unlinkat(dst_dir, name, 0) < 0 || mkdirat(dst_dir, name, 0700) < 0)
                                return lerr_errno(c->err, errno,
                                                  "%s: replace '/%s' with a directory",
                                                  c->o->instruction, dst_rel);
                        *created = true;
                }
        } else
                return lerr_errno(c->err, errno, "%s: create directory '/%s'", c->o->instruction,
                                  dst_rel);
        int fd = openat(dst_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return lerr_errno(c->err, errno, "%s: open directory '/%s'", c->o->instruction,
                                  dst_rel);
        return fd;
}

static int copy_directory(struct copy_ctx *c, int src_dir, const char *src_name,
                          const char *src_rel, const struct stat *st, bool excluded, int dst_dir,
                          const char *name, const char *dst_rel)
{
        _cleanup_close_ int in =
                openat(src_dir, src_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (in < 0)
                return lerr_errno(c->err, errno, "%s: open '%s'", c->o->instruction, src_rel);
        bool created;
        _cleanup_close_ int out = make_dir(c, dst_dir, name, dst_rel, &created);
        if (out < 0)
                return out;
        int written = copy_dir_contents(c, in, src_rel, out, dst_rel);
        if (written < 0)
                return written;
        if (excluded && written == 0) {
                if (created)
                        (void) unlinkat(dst_dir, name, AT_REMOVEDIR);
                return 0;
        }
        /* metadata last: the mtime must survive the writes into the directory */
        int r = apply_meta(c, out, st, dst_rel);
        if (r < 0)
                return r;
        c->res->files++;
        return written + 1;
}

/* Copies one source entry (not followed if a symlink) to dst_dir/name. Returns the number of
 * entries written. */
static int copy_entry(struct copy_ctx *c, int src_dir, const char *src_name, const char *src_rel,
                      int dst_dir, const char *name, const char *dst_rel)
{
        struct stat st;
        if (fstatat(src_dir, src_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return lerr_errno(c->err, errno, "%s: stat '%s'", c->o->instruction, src_rel);
        const char *below = src_rel + MIN(c->match_len, strlen(src_rel));
        while (*below == '/')
                below++;
        enum copy_filter_result f = c->o->filter ? c->o->filter(c->o->filter_userdata, src_rel,
                                                                below, S_ISDIR(st.st_mode))
                                                 : COPY_INCLUDE;
        if (f == COPY_PRUNE || f == COPY_SKIP || (f == COPY_EXCLUDE && !S_ISDIR(st.st_mode)))
                return 0;
        if (S_ISDIR(st.st_mode))
                return copy_directory(c, src_dir, src_name, src_rel, &st, f == COPY_EXCLUDE,
                                      dst_dir, name, dst_rel);
        int r = clear_target(c, dst_dir, name, dst_rel);
        if (r < 0)
                return r;
        if (S_ISREG(st.st_mode)) {
                _cleanup_close_ int in =
                        openat(src_dir, src_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                if (in < 0)
                        return lerr_errno(c->err, errno, "%s: open '%s'", c->o->instruction,
                                          src_rel);
                r = copy_regular(c, in, &st, dst_dir, name, dst_rel);
        } else if (S_ISLNK(st.st_mode))
                r = copy_symlink(c, src_dir, src_name, &st, dst_dir, name, dst_rel);
        else if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
                r = copy_special(c, &st, dst_dir, name, dst_rel);
        else
                return 0; /* sockets are not copied, as Docker skips them */
        return r < 0 ? r : 1;
}

/* Creates one missing directory (0755, owned by the --chown user or 0:0) and records it. */
static int make_one_dir(struct copy_ctx *c, const char *path)
{
        uid_t uid = c->o->chown ? c->o->uid : 0;
        gid_t gid = c->o->chown ? c->o->gid : 0;
        const char *name;
        _cleanup_close_ int parent = fs_open_parent_in_root(c->dst_root, path, &name);
        if (parent < 0)
                return lerr_errno(c->err, parent, "%s: open the parent of '/%s'", c->o->instruction,
                                  path);
        if (mkdirat(parent, name, 0755) < 0)
                return errno == EEXIST ? 0
                                       : lerr_errno(c->err, errno, "%s: create '/%s'",
                                                    c->o->instruction, path);
        _cleanup_close_ int fd =
                openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fchown(fd, uid, gid) < 0 || fchmod(fd, 0755) < 0)
                return lerr_errno(c->err, errno, "%s: create '/%s'", c->o->instruction, path);
        strv_push(&c->res->paths, path);
        return 0;
}

/* If path (which does not resolve) ends in a dangling symlink, returns the root-relative
 * path it points to, so mkdir -p can create the target as Docker's MkdirAll does. */
static char *dangling_target(int root_fd, const char *path)
{
        const char *name;
        _cleanup_close_ int parent = fs_open_parent_in_root(root_fd, path, &name);
        char target[FS_PATH_MAX + 1];
        if (parent < 0)
                return NULL;
        ssize_t n = readlinkat(parent, name, target, FS_PATH_MAX);
        if (n < 0)
                return NULL;
        target[n] = '\0';
        _cleanup_free_ char *dir = xstrndup(path, (size_t) (name - path));
        _cleanup_free_ char *joined =
                target[0] == '/' ? xstrdup(target) : xasprintf("%s%s", dir, target);
        char *clean = NULL;
        return fs_normalize_path(joined, &clean) < 0 ? NULL : clean;
}

static int mkdir_p(struct copy_ctx *c, const char *dst_rel, unsigned depth)
{
        _cleanup_free_ char *path = xstrdup(dst_rel);
        if (depth > FS_MAX_SYMLINK_HOPS)
                return lerr_set(c->err, ELOOP, "%s: too many symlinks in '/%s'", c->o->instruction,
                                dst_rel);
        for (char *p = path;; p++) {
                if (*p != '/' && *p != '\0')
                        continue;
                char saved = *p;
                *p = '\0';
                _cleanup_close_ int fd =
                        *path ? fs_open_in_root(c->dst_root, path, O_PATH | O_DIRECTORY, 0)
                              : -EBADF;
                if (*path && fd == -ENOENT) {
                        _cleanup_free_ char *target = dangling_target(c->dst_root, path);
                        int r = target ? mkdir_p(c, target, depth + 1) : make_one_dir(c, path);
                        if (r < 0)
                                return r;
                } else if (*path && fd < 0)
                        return lerr_errno(c->err, fd, "%s: open '/%s'", c->o->instruction, path);
                *p = saved;
                if (!saved)
                        return 0;
        }
}

/* mkdir -p of dst_rel inside the destination root; returns an O_RDONLY fd of it. */
static int make_parents(struct copy_ctx *c, const char *dst_rel)
{
        int r = mkdir_p(c, dst_rel, 0);
        if (r < 0)
                return r;
        int fd = fs_open_in_root(c->dst_root, dst_rel, O_RDONLY | O_DIRECTORY, 0);
        if (fd < 0)
                return lerr_errno(c->err, fd, "%s: open '/%s'", c->o->instruction, dst_rel);
        return fd;
}

/* The part of a source path kept under the destination with --parents: everything, or what
 * follows a "/./" pivot in the pattern. */
static const char *parents_part(const char *pattern, const char *match)
{
        const char *pivot = strstr(pattern, "/./");
        if (!pivot)
                return match;
        _cleanup_free_ char *head = xstrndup(pattern, (size_t) (pivot - pattern));
        _cleanup_free_ char *prefix = NULL;
        if (fs_normalize_path(head, &prefix) < 0)
                return match;
        size_t comps = *prefix ? 1 : 0;
        for (const char *p = prefix; *p; p++)
                comps += *p == '/';
        const char *m = match;
        for (size_t i = 0; i < comps && m; i++) {
                m = strchr(m, '/');
                if (m)
                        m++;
        }
        return m ? m : "";
}

static bool dest_names_dir(const char *dest)
{
        size_t n = strlen(dest);
        return n == 0 || dest[n - 1] == '/' || streq(dest, ".") ||
               (n >= 2 && dest[n - 1] == '.' && dest[n - 2] == '/');
}

static char *parent_of(const char *rel)
{
        const char *s = strrchr(rel, '/');
        return s ? xstrndup(rel, (size_t) (s - rel)) : xstrdup("");
}

static bool is_dir_in_root(int root_fd, const char *rel)
{
        _cleanup_close_ int fd = fs_open_in_root(root_fd, rel, O_PATH | O_DIRECTORY, 0);
        return fd >= 0;
}

static int copy_one_dir(struct copy_ctx *c, int in, const struct stat *st, const char *src_rel,
                        const char *target)
{
        bool existed = is_dir_in_root(c->dst_root, target);
        _cleanup_close_ int out = make_parents(c, target);
        if (out < 0)
                return out;
        int r = copy_dir_contents(c, in, src_rel, out, target);
        if (r < 0)
                return r;
        /* a directory the copy created takes the source directory's metadata; an existing
         * one keeps its own (Docker does not chown or chmod an existing destination) */
        if (!existed && *target) {
                r = apply_meta(c, out, st, target);
                if (r < 0)
                        return r;
        }
        /* a directory copied onto the root reports "/", as ADD does: the snapshot then looks
         * at the whole root instead of at nothing */
        const char *written = *target ? target : "/";
        if (!strv_contains(c->res->paths, written))
                strv_push(&c->res->paths, written);
        return 0;
}

static int copy_one_file(struct copy_ctx *c, int in, const struct stat *st, const char *src_rel,
                         const char *target)
{
        _cleanup_free_ char *parent = parent_of(target);
        const char *name = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
        if (!*name)
                return lerr_set(c->err, EINVAL, "%s: cannot copy '%s' onto the root directory",
                                c->o->instruction, src_rel);
        _cleanup_close_ int dir = make_parents(c, parent);
        if (dir < 0)
                return dir;
        int r = clear_target(c, dir, name, target);
        if (r < 0)
                return r;
        if (S_ISREG(st->st_mode))
                r = copy_regular(c, in, st, dir, name, target);
        else if (S_ISFIFO(st->st_mode) || S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
                r = copy_special(c, st, dir, name, target);
        else
                r = lerr_set(c->err, EINVAL, "%s: '%s' is not a file or directory",
                             c->o->instruction, src_rel);
        if (r >= 0 && !strv_contains(c->res->paths, target))
                strv_push(&c->res->paths, target);
        return r;
}

/* One matched source. The source path itself is followed if it is a symlink (as Docker does);
 * symlinks inside a copied directory are copied as links. */
static int copy_one(struct copy_ctx *c, const char *pattern, const char *src_rel, const char *dest,
                    bool dest_is_dir)
{
        _cleanup_close_ int in = fs_open_in_root(c->src_root, src_rel, O_RDONLY | O_NOCTTY, 0);
        struct stat st;
        if (in < 0 && in != -ENXIO && in != -EACCES)
                return lerr_errno(c->err, in, "%s: open '%s'", c->o->instruction, src_rel);
        if (in < 0)
                in = fs_open_in_root(c->src_root, src_rel, O_PATH, 0);
        if (in < 0 || fstat(in, &st) < 0)
                return lerr_errno(c->err, in < 0 ? in : -errno, "%s: stat '%s'", c->o->instruction,
                                  src_rel);
        const char *sub = c->o->parents ? parents_part(pattern, src_rel) : NULL;
        c->match_len = strlen(src_rel);
        c->match_len = strlen(src_rel);
        _cleanup_free_ char *target = NULL;
        if (S_ISDIR(st.st_mode)) {
                target = sub && *sub ? join(dest, sub) : xstrdup(dest);
                return copy_one_dir(c, in, &st, src_rel, target);
        }
        if (dest_is_dir || is_dir_in_root(c->dst_root, dest))
                target = join(dest, sub ? sub : base_name(src_rel));
        else
                target = xstrdup(dest);
        return copy_one_file(c, in, &st, src_rel, target);
}

int copy_sources(int src_root_fd, char *const *sources, int dst_root_fd, const char *dest,
                 const struct copy_opts *o, struct copy_result *ret, struct lerr **err)
{
        struct copy_result res = {0};
        struct copy_ctx c = {
                .o = o, .src_root = src_root_fd, .dst_root = dst_root_fd, .res = &res, .err = err};
        _cleanup_free_ char *dest_clean = NULL;
        char ***matches = xcalloc(strv_length(sources) + 1, sizeof(char **));
        size_t total = 0, n = strv_length(sources);
        int r = fs_normalize_path(dest, &dest_clean);
        if (r < 0)
                r = lerr_errno(err, r, "%s: destination '%s'", o->instruction, dest);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                r = copy_expand_source(src_root_fd, sources[i], o, &matches[i], err);
                total += strv_length(matches[i]);
        }
        bool dest_is_dir = dest_names_dir(dest) || o->parents;
        if (r >= 0 && total > 1 && !dest_is_dir)
                r = lerr_set(err, EINVAL,
                             "%s: with more than one source file, the destination must be a "
                             "directory and end with a /",
                             o->instruction);
        for (size_t i = 0; r >= 0 && i < n; i++)
                strv_foreach (m, matches[i]) {
                        r = copy_one(&c, sources[i], m, dest_clean, dest_is_dir);
                        if (r < 0)
                                break;
                }
        for (size_t i = 0; i < n; i++)
                strv_free(matches[i]);
        free(matches);
        for (size_t i = 0; i < c.n_links; i++)
                free(c.links[i].dst_rel);
        free(c.links);
        if (r < 0) {
                copy_result_done(&res);
                return r;
        }
        if (!res.paths)
                res.paths = xcalloc(1, sizeof(char *));
        *ret = res;
        return 0;
}

void copy_result_done(struct copy_result *r)
{
        strv_free(r->paths);
        r->paths = NULL;
}
