/* SPDX-License-Identifier: Apache-2.0 */
/* Parent directories for extraction: consecutive tar entries mostly share their directory, so the
 * directories along the last path stay open and a new path costs one openat() per component that
 * differs. Only directories reached without a symlink are cached that way (opened O_NOFOLLOW one
 * at a time, so their lexical path is their real place); a path through a symlink is resolved by
 * fs_chase_in_root, which stays inside the root and reports where the path really lands, so the
 * ignore list (lexical) can be checked against that. */
#include "snapshot/extract-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/macros.h"
#include "snapshot/ignore.h"

void dircache_init(struct dircache *dc, int root_fd)
{
        *dc = (struct dircache){.root_fd = root_fd, .n = 1, .slow_fd = -EBADF};
        dc->fds[0] = root_fd;
        dc->ends[0] = 0;
        dc->path[0] = '\0';
}

static void bury(struct dircache *dc, int fd)
{
        if (fd >= 0)
                dc->grave[dc->ngrave++] = fd;
}

static void empty_grave(struct dircache *dc)
{
        while (dc->ngrave > 0)
                (void) close(dc->grave[--dc->ngrave]);
}

static void pop_to(struct dircache *dc, unsigned n)
{
        while (dc->n > n)
                (void) close(dc->fds[--dc->n]);
        dc->path[dc->ends[dc->n - 1]] = '\0';
}

static void slow_clear(struct dircache *dc)
{
        if (dc->slow_fd >= 0)
                (void) close(dc->slow_fd);
        dc->slow_fd = -EBADF;
        free(dc->slow_lex);
        free(dc->slow_canon);
        dc->slow_lex = dc->slow_canon = NULL;
}

void dircache_flush(struct dircache *dc)
{
        /* the stack and the slow slot go to the grave (at most DIRCACHE_DEPTH fds in all: a
         * flush empties both, and both are only refilled by dircache_get, which empties it) */
        while (dc->n > 1)
                bury(dc, dc->fds[--dc->n]);
        dc->path[0] = '\0';
        bury(dc, dc->slow_fd);
        dc->slow_fd = -EBADF;
        slow_clear(dc);
        dc->last_fast = false;
}

void dircache_done(struct dircache *dc)
{
        pop_to(dc, 1);
        slow_clear(dc);
        empty_grave(dc);
}

/* Deepest cached level whose path is dir or a parent of it. */
static unsigned common_level(const struct dircache *dc, const char *dir, size_t len)
{
        for (unsigned i = dc->n - 1; i > 0; i--) {
                size_t e = dc->ends[i];
                if (e <= len && (dir[e] == '/' || dir[e] == '\0') && memcmp(dc->path, dir, e) == 0)
                        return i;
        }
        return 0;
}

static void push(struct dircache *dc, int fd, const char *name, size_t nlen)
{
        size_t at = dc->ends[dc->n - 1];
        if (at > 0)
                dc->path[at++] = '/';
        memcpy(dc->path + at, name, nlen);
        at += nlen;
        dc->path[at] = '\0';
        dc->fds[dc->n] = fd;
        dc->ends[dc->n] = at;
        dc->n++;
}

/* Creates the missing components rest (cleaned, relative) under *fd, replacing *fd by the
 * deepest. */
static int create_rest(struct dircache *dc, int *fd, const char *rest)
{
        _cleanup_free_ char *copy = xstrdup(rest);
        for (char *c = copy, *next; c && *c; c = next) {
                next = strchr(c, '/');
                if (next)
                        *next++ = '\0';
                if (mkdirat(*fd, c, 0755) < 0 && errno != EEXIST)
                        return -errno;
                dc->created++;
                int sub = openat(*fd, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0)
                        return -errno;
                (void) close(*fd);
                *fd = sub;
        }
        return 0;
}

static int slow_get(struct dircache *dc, const char *dir, unsigned flags,
                    const struct ignore_list *ignore, int *ret_fd, const char **ret_canon)
{
        _cleanup_free_ char *canon = NULL, *rest = NULL;
        _cleanup_close_ int fd = fs_chase_in_root(dc->root_fd, dir, &canon, &rest);
        if (fd < 0)
                return fd;
        char *full =
                *rest ? (*canon ? xasprintf("%s/%s", canon, rest) : xstrdup(rest)) : xstrdup(canon);
        if ((flags & DC_NO_LINKS) && !streq(full, dir)) {
                free(full);
                return -ELOOP;
        }
        if (ignore && *full && ignore_list_match(ignore, full)) {
                free(full);
                return -EACCES;
        }
        if (*rest) {
                int r = (flags & DC_CREATE) ? create_rest(dc, &fd, rest) : 0;
                if (r < 0 || !(flags & DC_CREATE)) {
                        free(full);
                        return r;
                }
        }
        slow_clear(dc);
        dc->slow_lex = xstrdup(dir);
        dc->slow_canon = full;
        dc->slow_fd = TAKE_FD(fd);
        *ret_fd = dc->slow_fd;
        *ret_canon = dc->slow_canon;
        return 1;
}

int dircache_get(struct dircache *dc, const char *dir, unsigned flags,
                 const struct ignore_list *ignore, int *ret_fd, const char **ret_canon)
{
        size_t len = strlen(dir);
        empty_grave(dc);
        dc->last_fast = false;
        if (len > FS_PATH_MAX)
                return -ENAMETOOLONG;
        if (dc->slow_lex && streq(dc->slow_lex, dir)) {
                *ret_fd = dc->slow_fd;
                *ret_canon = dc->slow_canon;
                return 1;
        }
        pop_to(dc, common_level(dc, dir, len) + 1);
        const char *p = dir + dc->ends[dc->n - 1];
        /* The cached levels were checked when they were opened; a miss enters or creates new
         * directories, never an ignored one. */
        if (*p && ignore && ignore_list_match(ignore, dir))
                return -EACCES;
        while (*p) {
                while (*p == '/')
                        p++;
                const char *q = p;
                while (*q && *q != '/')
                        q++;
                size_t nlen = (size_t) (q - p);
                char name[NAME_MAX + 1];
                if (nlen > NAME_MAX)
                        return -ENAMETOOLONG;
                if (dc->n == DIRCACHE_DEPTH)
                        return slow_get(dc, dir, flags, ignore, ret_fd, ret_canon);
                memcpy(name, p, nlen);
                name[nlen] = '\0';
                int top = dc->fds[dc->n - 1];
                int fd = openat(top, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 && errno == ENOENT) {
                        if (!(flags & DC_CREATE))
                                return 0;
                        if (mkdirat(top, name, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        dc->created++;
                        fd = openat(top, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                }
                if (fd < 0 && errno == ENOTDIR) {
                        struct stat st;
                        if (fstatat(top, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                            S_ISLNK(st.st_mode)) {
                                if (flags & DC_NO_LINKS)
                                        return -ELOOP;
                                return slow_get(dc, dir, flags, ignore, ret_fd, ret_canon);
                        }
                        errno = ENOTDIR;
                }
                if (fd < 0)
                        return -errno;
                push(dc, fd, name, nlen);
                p = q;
        }
        *ret_fd = dc->fds[dc->n - 1];
        *ret_canon = dc->path;
        dc->last_fast = true;
        return 1;
}

void dircache_push(struct dircache *dc, const char *canon_parent, const char *name, int dir_fd)
{
        size_t nlen = strlen(name);
        size_t at = dc->ends[dc->n - 1];
        if (dc->last_fast && dc->n < DIRCACHE_DEPTH && canon_parent == dc->path &&
            at + 1 + nlen <= FS_PATH_MAX) {
                push(dc, dir_fd, name, nlen);
                return;
        }
        (void) close(dir_fd);
}
