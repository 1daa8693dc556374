/* SPDX-License-Identifier: Apache-2.0 */
/* Root-confined path resolution (openat2 RESOLVE_IN_ROOT, or an equivalent walk) and small
 * whole-file helpers. Learned from crun's safe_openat and systemd's chaseat. */
#include "common/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/macros.h"

static bool force_walk;
/* 0: not known yet, 1: openat2 works, -1: the kernel or a seccomp profile refuses it. Set once
 * so that a refused openat2 costs one failed syscall per process, not one per path. */
static int openat2_state;

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

/* The fallback walk, with the semantics of openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS):
 * absolute symlinks and ".." restart from / clamp at root_fd, at most FS_MAX_SYMLINK_HOPS links,
 * a trailing slash makes the last component a directory that is followed, O_NOFOLLOW and
 * O_CREAT|O_EXCL do not follow the last component. Resolved directories are kept as a stack of
 * O_PATH fds (so ".." pops back without re-resolving and never above the root) with their
 * canonical root-relative path beside them. Each component is opened with O_NOFOLLOW after
 * fstatat() said what it is, so a component swapped for a symlink in between fails instead of
 * being followed. */
struct walk {
        int *fds;     /* fds[0] is a dup of the root; fds[n-1] is the current directory */
        size_t *ends; /* ends[i]: length of canon for fds[i] */
        size_t n, alloc;
        struct buf canon; /* canonical path of fds[n-1], "" for the root */
};

static void walk_done(struct walk *w)
{
        for (size_t i = 0; i < w->n; i++)
                (void) close(w->fds[i]);
        free(w->fds);
        free(w->ends);
        buf_done(&w->canon);
}

static int walk_push(struct walk *w, int fd, const char *name)
{
        if (w->n == w->alloc) {
                w->alloc = w->alloc ? w->alloc * 2 : 16;
                w->fds = xreallocarray(w->fds, w->alloc, sizeof(int));
                w->ends = xreallocarray(w->ends, w->alloc, sizeof(size_t));
        }
        w->fds[w->n] = fd;
        if (name) {
                int r = 0;
                if (w->canon.len > 0)
                        r = buf_append_char(&w->canon, '/');
                if (r >= 0)
                        r = buf_append_str(&w->canon, name);
                if (r < 0) {
                        (void) close(fd);
                        return -ENAMETOOLONG;
                }
        }
        w->ends[w->n++] = w->canon.len;
        return 0;
}

static void walk_pop(struct walk *w)
{
        if (w->n <= 1)
                return; /* ".." at the root stays at the root */
        (void) close(w->fds[--w->n]);
        w->canon.len = w->ends[w->n - 1];
        if (w->canon.data)
                w->canon.data[w->canon.len] = '\0';
}

static void walk_reset_to_root(struct walk *w)
{
        while (w->n > 1)
                walk_pop(w);
}

/* procfs "magic links" (/proc/PID/fd/N, exe, cwd, root, ns/...) read as an absolute path or as
 * "type:[inode]"; the plain procfs links (self, thread-self, mounts, net) are relative. */
static bool is_magic_link(int dir_fd, const char *target)
{
        struct statfs sfs;
        if (fstatfs(dir_fd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
                return false;
        return target[0] == '/' || strchr(target, ':') != NULL;
}

/* Replaces *todo with target + "/" + rest, where rest is what followed the link. */
static int splice_link(char **todo, const char *target, const char *rest, bool trailing_slash)
{
        char *next;
        if (*rest)
                next = xasprintf("%s/%s", target, rest);
        else
                next = xasprintf("%s%s", target, trailing_slash ? "/" : "");
        if (strlen(next) > FS_PATH_MAX * (FS_MAX_SYMLINK_HOPS + 1)) {
                free(next);
                return -ENAMETOOLONG;
        }
        free(*todo);
        *todo = next;
        return 0;
}

enum walk_mode {
        WALK_OPEN,  /* open the last component with flags/mode */
        WALK_CHASE, /* stop at the first missing component: deepest existing dir + the rest */
};

enum {
        WALK_NEXT = 1,
        WALK_RESTART = 2,
};

struct walk_result {
        int fd;
        char *canon; /* WALK_CHASE: canonical path of fd */
        char *rest;  /* WALK_CHASE: cleaned components not yet existing, "" if none */
};

static int walk_finish_chase(struct walk *w, const char *rest, struct walk_result *res)
{
        char *clean_rest = NULL;
        int r = fs_clean_path(rest, &clean_rest);
        if (r < 0)
                return r == -EINVAL ? -ENOENT : r; /* "missing/.." cannot be resolved */
        int fd = fcntl(w->fds[w->n - 1], F_DUPFD_CLOEXEC, 3);
        if (fd < 0) {
                free(clean_rest);
                return -errno;
        }
        res->fd = fd;
        res->canon = xstrdup(buf_str(&w->canon));
        res->rest = clean_rest;
        return 0;
}

/* One step of the walk on component s (NUL-terminated) of a path whose remainder is rest.
 * Returns WALK_NEXT or WALK_RESTART (*todo was replaced by a link's target) to go on, 0 when res
 * is filled, or -errno. */
static int walk_step(struct walk *w, char **todo, char *s, char *rest, bool trailing, int flags,
                     mode_t mode, enum walk_mode wm, unsigned *hops, struct walk_result *res)
{
        bool last = *rest == '\0';
        int dir = w->fds[w->n - 1];
        struct stat st;

        if (fstatat(dir, s, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno != ENOENT)
                        return -errno;
                if (wm == WALK_CHASE) {
                        _cleanup_free_ char *missing = xasprintf("%s/%s", s, rest);
                        return walk_finish_chase(w, missing, res);
                }
                if (!last || trailing || !(flags & O_CREAT))
                        return -ENOENT;
                int fd = openat(dir, s, flags | O_NOFOLLOW | O_CLOEXEC, mode);
                if (fd < 0)
                        return -errno;
                res->fd = fd;
                return 0;
        }

        bool follow = !last || trailing || wm == WALK_CHASE ||
                      !((flags & O_NOFOLLOW) || ((flags & O_CREAT) && (flags & O_EXCL)));
        if (S_ISLNK(st.st_mode) && follow) {
                char target[FS_PATH_MAX + 1];
                if (++*hops > FS_MAX_SYMLINK_HOPS)
                        return -ELOOP;
                ssize_t tn = readlinkat(dir, s, target, sizeof(target));
                if (tn < 0)
                        return -errno;
                if (tn == 0)
                        return -ENOENT; /* as the kernel does for an empty link */
                if (tn > FS_PATH_MAX)
                        return -ENAMETOOLONG;
                target[tn] = '\0';
                if (is_magic_link(dir, target))
                        return -ELOOP; /* RESOLVE_NO_MAGICLINKS */
                if (target[0] == '/')
                        walk_reset_to_root(w);
                int r = splice_link(todo, target, rest, trailing);
                return r < 0 ? r : WALK_RESTART;
        }

        if (!last || trailing || wm == WALK_CHASE) {
                if (!S_ISDIR(st.st_mode))
                        return -ENOTDIR;
                int fd = openat(dir, s, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                int r = walk_push(w, fd, s);
                return r < 0 ? r : WALK_NEXT;
        }

        int fd = openat(dir, s, flags | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;
        res->fd = fd;
        return 0;
}

/* Cuts the next component out of *p (NUL-terminating it) and advances *p past the slashes
 * after it. *trailing: only slashes followed it (a trailing slash). NULL at the end. */
static char *next_component(char **p, bool *trailing)
{
        char *s = *p;
        while (*s == '/')
                s++;
        if (!*s)
                return NULL;
        char *e = s;
        while (*e && *e != '/')
                e++;
        *trailing = false;
        if (*e) {
                *e++ = '\0';
                while (*e == '/')
                        e++;
                *trailing = *e == '\0';
        }
        *p = e;
        return s;
}

/* The path named the current directory ("", ".", "a/..", "a/"). */
static int walk_at_dir(struct walk *w, int flags, enum walk_mode wm, struct walk_result *res)
{
        if (wm == WALK_CHASE)
                return walk_finish_chase(w, "", res);
        if (flags & O_CREAT)
                return -EISDIR;
        int fd = openat(w->fds[w->n - 1], ".", (flags & ~O_NOFOLLOW) | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        res->fd = fd;
        return 0;
}

static int walk_run(int root_fd, const char *rel, int flags, mode_t mode, enum walk_mode wm,
                    struct walk_result *res)
{
        struct walk w = {.canon = BUF_INIT(FS_PATH_MAX)};
        char *todo = xstrdup(rel);
        unsigned hops = 0;
        int r;

        int rfd = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
        if (rfd < 0) {
                free(todo);
                return -errno;
        }
        r = walk_push(&w, rfd, NULL);
        for (char *p = todo; r >= 0;) {
                bool trailing;
                char *s = next_component(&p, &trailing);
                if (!s) {
                        r = walk_at_dir(&w, flags, wm, res);
                        break;
                }
                if (streq(s, "."))
                        continue;
                if (streq(s, "..")) {
                        walk_pop(&w);
                        continue;
                }
                if (strlen(s) > NAME_MAX) {
                        r = -ENAMETOOLONG;
                        break;
                }
                r = walk_step(&w, &todo, s, p, trailing, flags, mode, wm, &hops, res);
                if (r == WALK_RESTART)
                        p = todo;
                if (r == WALK_NEXT || r == WALK_RESTART) {
                        r = 0;
                        continue;
                }
                break;
        }
        walk_done(&w);
        free(todo);
        return r;
}

static long sys_openat2(int dir_fd, const char *rel, int flags, mode_t mode, uint64_t resolve)
{
        struct open_how how = {
                .flags = (uint64_t) flags | O_CLOEXEC,
                .mode = ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) ? mode : 0,
                .resolve = resolve,
        };
        return syscall(SYS_openat2, dir_fd, rel, &how, sizeof(how));
}

/* After openat2 failed with EPERM: a seccomp profile (Docker's older default returns EPERM for
 * syscalls it does not know), or a real permission error? Probe with a harmless call. */
static bool openat2_refused(int root_fd, int errnum)
{
        if (errnum == ENOSYS)
                return true;
        if (errnum != EPERM)
                return false;
        long fd = sys_openat2(root_fd, ".", O_PATH | O_DIRECTORY, 0, RESOLVE_IN_ROOT);
        if (fd >= 0) {
                (void) close((int) fd);
                return false;
        }
        return errno == EPERM || errno == ENOSYS;
}

int fs_open_in_root(int root_fd, const char *rel, int flags, mode_t mode)
{
        struct walk_result res = {.fd = -EBADF};

        if (strlen(rel) > FS_PATH_MAX)
                return -ENAMETOOLONG;
        if (*rel == '\0')
                rel = ".";
        if (!force_walk && __atomic_load_n(&openat2_state, __ATOMIC_RELAXED) >= 0) {
                for (int tries = 0; tries < 16; tries++) {
                        long fd = sys_openat2(root_fd, rel, flags, mode,
                                              RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
                        if (fd >= 0) {
                                __atomic_store_n(&openat2_state, 1, __ATOMIC_RELAXED);
                                return (int) fd;
                        }
                        if (errno == EAGAIN || errno == EINTR)
                                continue; /* a rename or mount raced with ".." resolution */
                        if (__atomic_load_n(&openat2_state, __ATOMIC_RELAXED) == 1 ||
                            !openat2_refused(root_fd, errno))
                                return -errno;
                        __atomic_store_n(&openat2_state, -1, __ATOMIC_RELAXED);
                        break;
                }
                if (__atomic_load_n(&openat2_state, __ATOMIC_RELAXED) >= 0)
                        return -EAGAIN; /* the tree kept changing under us */
        }
        int r = walk_run(root_fd, rel, flags, mode, WALK_OPEN, &res);
        return r < 0 ? r : res.fd;
}

int fs_chase_in_root(int root_fd, const char *rel, char **ret_canon, char **ret_rest)
{
        struct walk_result res = {.fd = -EBADF};

        if (strlen(rel) > FS_PATH_MAX)
                return -ENAMETOOLONG;
        int r = walk_run(root_fd, rel, O_PATH | O_DIRECTORY, 0, WALK_CHASE, &res);
        if (r < 0)
                return r;
        *ret_canon = res.canon;
        *ret_rest = res.rest;
        return res.fd;
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
        (void) unlinkat(dir_fd, tmp, 0); /* a stale temp file (or a planted link) from a crash */
        _cleanup_close_ int fd =
                openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;
        int r = fs_write_all(fd, data, len);
        if (r == 0 && renameat(dir_fd, tmp, dir_fd, path) < 0)
                r = -errno;
        if (r < 0)
                (void) unlinkat(dir_fd, tmp, 0);
        return r;
}

/* Removal of a tree with a bounded number of fds, whatever its depth: each directory's names are
 * read in full first (removing entries while readdir() is still going can skip some), the walk
 * keeps one fd, and goes back up through ".." after checking that it is the directory it came
 * from (dev/ino), so a tree moved under us makes it stop instead of removing elsewhere. It never
 * follows symlinks and never enters another filesystem: a mount point below gives -EBUSY before
 * anything in it is touched. */
struct rm_level {
        char **names;
        size_t n, i;
        dev_t dev;
        ino_t ino;
        char *name; /* this directory's name in its parent */
};

static int list_names(int dir_fd, char ***ret, size_t *ret_n)
{
        int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        DIR *d = fdopendir(fd);
        if (!d) {
                (void) close(fd);
                return -errno;
        }
        char **names = NULL;
        size_t n = 0, alloc = 0;
        struct dirent *de;
        errno = 0;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (n == alloc) {
                        alloc = alloc ? alloc * 2 : 16;
                        names = xreallocarray(names, alloc, sizeof(char *));
                }
                names[n++] = xstrdup(de->d_name);
        }
        int r = errno ? -errno : 0;
        closedir(d);
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        free(names[i]);
                free(names);
                return r;
        }
        *ret = names;
        *ret_n = n;
        return 0;
}

static void rm_level_done(struct rm_level *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->names[i]);
        free(l->names);
        free(l->name);
}

/* Opens name (a directory, not a symlink) below dir_fd for listing; like rm -rf, a directory
 * we may not read is made readable once. */
static int open_dir_for_rm(int dir_fd, const char *name)
{
        int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == EACCES && fchmodat(dir_fd, name, 0700, 0) == 0)
                fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

/* unlinkat(name) failed with errnum: returns an fd of name if it is a directory to empty,
 * 0 if it vanished, or -errno. dev is the filesystem being emptied. */
static int rm_enter(int dir_fd, const char *name, int errnum, dev_t dev, struct stat *ret_st)
{
        if (errnum != EISDIR && errnum != EPERM)
                return -errnum;
        int fd = open_dir_for_rm(dir_fd, name);
        if (fd == -ENOENT)
                return 0;
        if (fd == -ENOTDIR || fd == -ELOOP)
                return -errnum; /* the unlink error was about a file, not a directory */
        if (fd < 0)
                return fd;
        if (fstat(fd, ret_st) < 0) {
                int r = -errno;
                (void) close(fd);
                return r;
        }
        if (ret_st->st_dev != dev) {
                (void) close(fd);
                return -EBUSY; /* a mount point: never empty another filesystem */
        }
        return fd;
}

/* Back from the emptied directory cur to its parent, checked to be the one we came from
 * (parent: its dev/ino), and removes the emptied directory. Returns the parent's fd. */
static int rm_go_up(int cur, const struct rm_level *parent, const char *name)
{
        struct stat s;
        int up = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (up < 0)
                return -errno;
        if (fstat(up, &s) < 0 || s.st_dev != parent->dev || s.st_ino != parent->ino) {
                (void) close(up);
                return -ESTALE; /* the tree was moved while we removed it */
        }
        if (unlinkat(up, name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
                int r = -errno;
                (void) close(up);
                return r;
        }
        return up;
}

static int rm_tree(int top_fd)
{
        struct rm_level *st = NULL;
        size_t depth = 0, alloc = 16;
        struct stat s;
        int r;

        int cur = fcntl(top_fd, F_DUPFD_CLOEXEC, 3);
        if (cur < 0)
                return -errno;
        if (fstat(cur, &s) < 0) {
                r = -errno;
                (void) close(cur);
                return r;
        }
        st = xcalloc(alloc, sizeof(*st));
        st[depth++] = (struct rm_level){.dev = s.st_dev, .ino = s.st_ino};
        r = list_names(cur, &st[0].names, &st[0].n);
        while (r >= 0) {
                struct rm_level *l = &st[depth - 1];
                if (l->i == l->n) {
                        if (depth == 1)
                                break;
                        int up = rm_go_up(cur, &st[depth - 2], l->name);
                        if (up < 0) {
                                r = up;
                                break;
                        }
                        (void) close(cur);
                        cur = up;
                        rm_level_done(&st[--depth]);
                        continue;
                }
                const char *name = l->names[l->i++];
                if (unlinkat(cur, name, 0) == 0 || errno == ENOENT)
                        continue;
                int fd = rm_enter(cur, name, errno, l->dev, &s);
                if (fd <= 0) {
                        r = fd;
                        continue;
                }
                if (depth == alloc) {
                        alloc *= 2;
                        st = xreallocarray(st, alloc, sizeof(*st));
                }
                st[depth++] =
                        (struct rm_level){.dev = s.st_dev, .ino = s.st_ino, .name = xstrdup(name)};
                (void) close(cur);
                cur = fd;
                r = list_names(cur, &st[depth - 1].names, &st[depth - 1].n);
        }
        for (size_t i = 0; i < depth; i++)
                rm_level_done(&st[i]);
        free(st);
        (void) close(cur);
        return r;
}

int fs_empty_dir(int dir_fd)
{
        return rm_tree(dir_fd);
}

/* The device of the directory holding name (dir_fd may be AT_FDCWD, name may have slashes). */
static int parent_dev(int dir_fd, const char *name, dev_t *ret)
{
        struct stat st;
        const char *slash = strrchr(name, '/');
        _cleanup_free_ char *dir = slash ? xstrndup(name, (size_t) (slash - name)) : NULL;
        if (fstatat(dir_fd, dir ? (*dir ? dir : "/") : ".", &st, 0) < 0)
                return -errno;
        *ret = st.st_dev;
        return 0;
}

int fs_rm_rf_at(int dir_fd, const char *name)
{
        struct stat s;
        dev_t dev = 0;

        if (unlinkat(dir_fd, name, 0) == 0 || errno == ENOENT)
                return 0;
        int errnum = errno;
        int r = parent_dev(dir_fd, name, &dev);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = rm_enter(dir_fd, name, errnum, dev, &s);
        if (fd <= 0)
                return fd;
        r = rm_tree(fd);
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
