/* SPDX-License-Identifier: Apache-2.0 */
/* Root-confined path resolution (openat2 RESOLVE_IN_ROOT, or an equivalent walk) and small
 * whole-file helpers. Learned from crun's safe_openat and systemd's chaseat. */
#include "common/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/macros.h"

static bool force_walk;

void fs_set_force_walk(bool on)
{
        force_walk = on;
}

static int clean(const char *in, bool allow_dotdot, char **ret)
{
        size_t n = strlen(in);
        if (n > FS_PATH_MAX)
                return -ENAMETOOLONG;
        char *out = xmalloc(n + 1);
        size_t o = 0;
        const char *p = in;
        while (*p) {
                while (*p == '/')
                        p++;
                const char *s = p;
                while (*p && *p != '/')
                        p++;
                size_t len = (size_t) (p - s);
                if (len == 0 || (len == 1 && s[0] == '.'))
                        continue;
                if (len == 2 && s[0] == '.' && s[1] == '.') {
                        if (!allow_dotdot) {
                                free(out);
                                return -EINVAL;
                        }
                        while (o > 0 && out[o - 1] != '/')
                                o--;
                        if (o > 0)
                                o--;
                        continue;
                }
                if (o > 0)
                        out[o++] = '/';
                memcpy(out + o, s, len);
                o += len;
        }
        out[o] = '\0';
        *ret = out;
        return 0;
}

int fs_clean_path(const char *in, char **ret)
{
        return clean(in, false, ret);
}

int fs_normalize_path(const char *in, char **ret)
{
        return clean(in, true, ret);
}

/* The fallback walk. Components already resolved are kept as a stack of O_PATH fds so that
 * ".." pops back without re-resolving, and never above the root. */
struct walk {
        int root_fd;
        int *fds; /* fds[0] is a dup of root; fds[n-1] is the current directory */
        size_t n, alloc;
};

static void walk_done(struct walk *w)
{
        for (size_t i = 0; i < w->n; i++)
                (void) close(w->fds[i]);
        free(w->fds);
}

static int walk_push(struct walk *w, int fd)
{
        if (w->n == w->alloc) {
                w->alloc = w->alloc ? w->alloc * 2 : 16;
                w->fds = xreallocarray(w->fds, w->alloc, sizeof(int));
        }
        w->fds[w->n++] = fd;
        return 0;
}

static void walk_reset_to_root(struct walk *w)
{
        while (w->n > 1)
                (void) close(w->fds[--w->n]);
}

static int open_walk(int root_fd, const char *rel, int flags, mode_t mode)
{
        _cleanup_free_ char *todo = xstrdup(rel);
        struct walk w = {.root_fd = root_fd};
        unsigned hops = 0;
        int r;

        int rfd = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
        if (rfd < 0)
                return -errno;
        walk_push(&w, rfd);

        char *p = todo;
        for (;;) {
                while (*p == '/')
                        p++;
                if (!*p) {
                        /* the path named the current directory itself */
                        r = openat(w.fds[w.n - 1], ".",
                                   (flags & ~(O_CREAT | O_EXCL | O_NOFOLLOW)) | O_CLOEXEC);
                        r = r < 0 ? -errno : r;
                        break;
                }
                char *s = p;
                while (*p && *p != '/')
                        p++;
                bool last = true;
                for (char *q = p; *q; q++)
                        if (*q != '/') {
                                last = false;
                                break;
                        }
                if (*p)
                        *p++ = '\0';
                if (streq(s, "."))
                        continue;
                if (streq(s, "..")) {
                        if (w.n > 1)
                                (void) close(w.fds[--w.n]);
                        continue;
                }
                int dir = w.fds[w.n - 1];
                struct stat st;
                if (fstatat(dir, s, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT && last && (flags & O_CREAT)) {
                                r = openat(dir, s, flags | O_NOFOLLOW | O_CLOEXEC, mode);
                                r = r < 0 ? -errno : r;
                        } else
                                r = -errno;
                        break;
                }
                if (S_ISLNK(st.st_mode) && !(last && (flags & O_NOFOLLOW))) {
                        if (++hops > FS_MAX_SYMLINK_HOPS) {
                                r = -ELOOP;
                                break;
                        }
                        char target[FS_PATH_MAX + 1];
                        ssize_t tn = readlinkat(dir, s, target, FS_PATH_MAX);
                        if (tn < 0) {
                                r = -errno;
                                break;
                        }
                        target[tn] = '\0';
                        if (target[0] == '/')
                                walk_reset_to_root(&w);
                        char *next = xasprintf("%s/%s", target, p);
                        free(todo);
                        todo = next;
                        p = todo;
                        continue;
                }
                if (!last) {
                        if (!S_ISDIR(st.st_mode)) {
                                r = -ENOTDIR;
                                break;
                        }
                        int fd = openat(dir, s, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (fd < 0) {
                                r = -errno;
                                break;
                        }
                        walk_push(&w, fd);
                        continue;
                }
                r = openat(dir, s, flags | O_NOFOLLOW | O_CLOEXEC, mode);
                r = r < 0 ? -errno : r;
                break;
        }
        walk_done(&w);
        return r;
}

int fs_open_in_root(int root_fd, const char *rel, int flags, mode_t mode)
{
        struct open_how how = {
                .flags = (uint64_t) flags | O_CLOEXEC,
                .mode = (flags & O_CREAT) ? mode : 0,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };

        if (strlen(rel) > FS_PATH_MAX)
                return -ENAMETOOLONG;
        if (*rel == '\0')
                rel = ".";
        if (force_walk)
                return open_walk(root_fd, rel, flags, mode);
        for (int tries = 0; tries < 16; tries++) {
                long fd = syscall(SYS_openat2, root_fd, rel, &how, sizeof(how));
                if (fd >= 0)
                        return (int) fd;
                if (errno == ENOSYS || errno == EPERM) /* kernel < 5.6, or seccomp */
                        return open_walk(root_fd, rel, flags, mode);
                if (errno != EAGAIN && errno != EINTR)
                        return -errno;
        }
        return -EAGAIN; /* the tree kept changing under us */
}

int fs_open_parent_in_root(int root_fd, const char *rel, const char **ret_name)
{
        _cleanup_free_ char *dir = NULL;
        size_t n = strlen(rel);

        while (n > 0 && rel[n - 1] == '/')
                n--;
        size_t start = n;
        while (start > 0 && rel[start - 1] != '/')
                start--;
        if (n == start)
                return -EINVAL;
        if ((n - start == 1 && rel[start] == '.') ||
            (n - start == 2 && rel[start] == '.' && rel[start + 1] == '.'))
                return -EINVAL;
        if (rel[n] != '\0')
                return -EINVAL; /* callers pass cleaned names without a trailing slash */
        dir = xstrndup(rel, start);
        int fd = fs_open_in_root(root_fd, dir, O_PATH | O_DIRECTORY, 0);
        if (fd < 0)
                return fd;
        *ret_name = rel + start;
        return fd;
}

int fs_mkdir_p_in_root(int root_fd, const char *rel, mode_t mode)
{
        _cleanup_free_ char *path = NULL;
        int r = fs_normalize_path(rel, &path);
        if (r < 0)
                return r;

        /* Fast path: it exists. */
        int fd = fs_open_in_root(root_fd, path, O_RDONLY | O_DIRECTORY, 0);
        if (fd >= 0 || fd != -ENOENT)
                return fd;

        /* Create one component at a time, each resolved in the root again, so that links
         * created concurrently are still confined. */
        for (char *p = path;; p++) {
                if (*p != '/' && *p != '\0')
                        continue;
                char saved = *p;
                *p = '\0';
                const char *name;
                _cleanup_close_ int parent = fs_open_parent_in_root(root_fd, path, &name);
                if (parent < 0) {
                        *p = saved;
                        return parent;
                }
                if (mkdirat(parent, name, mode) < 0 && errno != EEXIST) {
                        *p = saved;
                        return -errno;
                }
                *p = saved;
                if (saved == '\0')
                        break;
        }
        return fs_open_in_root(root_fd, path, O_RDONLY | O_DIRECTORY, 0);
}

int fs_write_all(int fd, const void *p, size_t n)
{
        const char *c = p;
        while (n > 0) {
                ssize_t w = write(fd, c, n);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                c += w;
                n -= (size_t) w;
        }
        return 0;
}

int fs_read_file_at(int dir_fd, const char *path, struct buf *b)
{
        _cleanup_close_ int fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        char chunk[65536];
        if (fd < 0)
                return -errno;
        for (;;) {
                ssize_t n = read(fd, chunk, sizeof(chunk));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return 0;
                int r = buf_append(b, chunk, (size_t) n);
                if (r < 0)
                        return r;
        }
}

int fs_write_file_at(int dir_fd, const char *path, const void *data, size_t len, mode_t mode)
{
        _cleanup_free_ char *tmp = xasprintf("%s.tmp.%d", path, (int) getpid());
        _cleanup_close_ int fd =
                openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;
        int r = fs_write_all(fd, data, len);
        if (r == 0 && renameat(dir_fd, tmp, dir_fd, path) < 0)
                r = -errno;
        if (r < 0)
                (void) unlinkat(dir_fd, tmp, 0);
        return r;
}

int fs_empty_dir(int dir_fd)
{
        int fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        DIR *d = fdopendir(fd);
        if (!d) {
                (void) close(fd);
                return -errno;
        }
        rewinddir(d);
        int r = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                int q = fs_rm_rf_at(dir_fd, de->d_name);
                if (q < 0 && r == 0)
                        r = q;
        }
        closedir(d);
        return r;
}

int fs_rm_rf_at(int dir_fd, const char *name)
{
        if (unlinkat(dir_fd, name, 0) == 0 || errno == ENOENT)
                return 0;
        if (errno != EISDIR && errno != EPERM)
                return -errno;
        _cleanup_close_ int fd =
                openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                /* a directory we cannot read: make it readable once, as rm -rf does */
                if (errno == EACCES && fchmodat(dir_fd, name, 0700, 0) == 0)
                        fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return errno == ENOENT ? 0 : -errno;
        }
        int r = fs_empty_dir(fd);
        if (r < 0)
                return r;
        if (unlinkat(dir_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

int fs_copy_fd(int in_fd, int out_fd)
{
        for (;;) {
                ssize_t n = copy_file_range(in_fd, NULL, out_fd, NULL, 1 << 30, 0);
                if (n == 0)
                        return 0;
                if (n > 0)
                        continue;
                if (errno == EINTR)
                        continue;
                if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP &&
                    errno != EBADF)
                        return -errno;
                break;
        }
        char chunk[65536];
        for (;;) {
                ssize_t n = read(in_fd, chunk, sizeof(chunk));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return 0;
                int r = fs_write_all(out_fd, chunk, (size_t) n);
                if (r < 0)
                        return r;
        }
}
