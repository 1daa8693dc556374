/* SPDX-License-Identifier: Apache-2.0 */
/* The fd-relative walk of a build root, the stat key, symlink targets and xattrs of one entry.
 * It only reads; it keeps no state between walks and knows nothing of indexes or layers. */
#include "snapshot/walker.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#ifndef STATX_BASIC_STATS
/* musl before 1.2.5 has no statx(): the kernel's structure and the raw system call */
#include <linux/stat.h>
static int statx_raw(int dir_fd, const char *path, int flags, unsigned mask, struct statx *buf)
{
        return (int) syscall(SYS_statx, dir_fd, path, flags, mask, buf);
}
#define statx(...) statx_raw(__VA_ARGS__)
#endif

#include "common/alloc.h"
#include "common/digest.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/log.h"
#include "snapshot/ignore.h"

/* musl before 1.2.5 (Debian bookworm's, which the static release build uses) has neither the
 * statx() wrapper nor struct statx: the kernel's UAPI header has the struct, the system call is
 * there since Linux 4.11. */
#ifndef STATX_BASIC_STATS
#include <linux/stat.h>
static int statx(int dir_fd, const char *path, int flags, unsigned mask, struct statx *ret)
{
        return (int) syscall(SYS_statx, dir_fd, path, flags, mask, ret);
}
#endif

/* Linux 6.13 added *xattrat(); the numbers are shared by every architecture. Older kernels and
 * seccomp profiles that do not know them answer ENOSYS or EPERM, and we use /proc instead. */
#ifndef __NR_getxattrat
#define __NR_getxattrat 464
#endif
#ifndef __NR_listxattrat
#define __NR_listxattrat 465
#endif

struct xattr_args_compat {
        uint64_t value;
        uint32_t size;
        uint32_t flags;
};

static atomic_bool no_statx, no_xattrat;

void walker_set_force_fallbacks(bool on)
{
        atomic_store(&no_statx, on);
        atomic_store(&no_xattrat, on);
}

static void from_stat(const struct stat *st, struct snap_stat *r)
{
        *r = (struct snap_stat){
                .size = (uint64_t) st->st_size,
                .mtime_ns = (int64_t) st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec,
                .ctime_ns = (int64_t) st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec,
                .ino = st->st_ino,
                .dev = st->st_dev,
                .rdev = (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) ? st->st_rdev : 0,
                .mode = st->st_mode & (S_IFMT | 07777),
                .uid = st->st_uid,
                .gid = st->st_gid,
                .nlink = (uint32_t) st->st_nlink,
        };
}

int walker_stat_at(int dir_fd, const char *name, struct snap_stat *ret, unsigned *ret_flags)
{
        struct statx sx;
        unsigned flags = 0;

        if (!atomic_load_explicit(&no_statx, memory_order_relaxed)) {
                if (statx(dir_fd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_BASIC_STATS,
                          &sx) == 0) {
                        uint32_t mode = sx.stx_mode & (S_IFMT | 07777);
                        bool dev = S_ISCHR(mode) || S_ISBLK(mode);
                        *ret = (struct snap_stat){
                                .size = sx.stx_size,
                                .mtime_ns = sx.stx_mtime.tv_sec * 1000000000 + sx.stx_mtime.tv_nsec,
                                .ctime_ns = sx.stx_ctime.tv_sec * 1000000000 + sx.stx_ctime.tv_nsec,
                                .ino = sx.stx_ino,
                                .dev = makedev(sx.stx_dev_major, sx.stx_dev_minor),
                                .rdev = dev ? makedev(sx.stx_rdev_major, sx.stx_rdev_minor) : 0,
                                .mode = mode,
                                .uid = sx.stx_uid,
                                .gid = sx.stx_gid,
                                .nlink = sx.stx_nlink,
                        };
                        if (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) {
                                flags |= WALKER_MOUNT_KNOWN;
                                if (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT)
                                        flags |= WALKER_MOUNT_ROOT;
                        }
                        if (ret_flags)
                                *ret_flags = flags;
                        return 0;
                }
                if (errno != ENOSYS && errno != EPERM)
                        return -errno;
                /* EPERM here is a seccomp profile from before statx; a real EPERM from the
                 * filesystem is reported again by fstatat */
                atomic_store(&no_statx, true);
        }
        struct stat st;
        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT) < 0)
                return -errno;
        from_stat(&st, ret);
        if (ret_flags)
                *ret_flags = 0;
        return 0;
}

int walker_stat_fd(int fd, struct snap_stat *ret)
{
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        from_stat(&st, ret);
        return 0;
}

int walker_readlink_at(int dir_fd, const char *name, char **ret)
{
        char buf[FS_PATH_MAX + 1];
        ssize_t n = readlinkat(dir_fd, name, buf, sizeof(buf));
        if (n < 0)
                return -errno;
        if ((size_t) n > FS_PATH_MAX)
                return -ENAMETOOLONG;
        *ret = xstrndup(buf, (size_t) n);
        return 0;
}

void snap_xattrs_done(struct snap_xattrs *x)
{
        for (size_t i = 0; i < x->n; i++) {
                free(x->v[i].name);
                free(x->v[i].value);
        }
        free(x->v);
        x->v = NULL;
        x->n = 0;
}

bool walker_xattr_wanted(const char *name)
{
        if (startswith(name, "trusted.overlay.") || startswith(name, "user.overlay."))
                return false;
        if (streq(name, "security.selinux"))
                return false;
        return startswith(name, "user.") || startswith(name, "trusted.") ||
               startswith(name, "security.");
}

static ssize_t list_at(int dir_fd, const char *name, char *list, size_t size)
{
        if (!atomic_load_explicit(&no_xattrat, memory_order_relaxed)) {
                long r = syscall(__NR_listxattrat, dir_fd, name, AT_SYMLINK_NOFOLLOW, list, size);
                if (r >= 0 || (errno != ENOSYS && errno != EPERM))
                        return r;
                atomic_store(&no_xattrat, true);
        }
        char proc[64 + 256];
        if ((size_t) snprintf(proc, sizeof(proc), "/proc/self/fd/%d/%s", dir_fd, name) >=
            sizeof(proc)) {
                errno = ENAMETOOLONG;
                return -1;
        }
        return llistxattr(proc, list, size);
}

static ssize_t get_at(int dir_fd, const char *name, const char *attr, void *value, size_t size)
{
        if (!atomic_load_explicit(&no_xattrat, memory_order_relaxed)) {
                struct xattr_args_compat args = {.value = (uint64_t) (uintptr_t) value,
                                                 .size = (uint32_t) size};
                long r = syscall(__NR_getxattrat, dir_fd, name, AT_SYMLINK_NOFOLLOW, attr, &args,
                                 sizeof(args));
                if (r >= 0 || (errno != ENOSYS && errno != EPERM))
                        return r;
                atomic_store(&no_xattrat, true);
        }
        char proc[64 + 256];
        if ((size_t) snprintf(proc, sizeof(proc), "/proc/self/fd/%d/%s", dir_fd, name) >=
            sizeof(proc)) {
                errno = ENAMETOOLONG;
                return -1;
        }
        return lgetxattr(proc, attr, value, size);
}

static int xattr_cmp(const void *a, const void *b)
{
        return strcmp(((const struct snap_xattr *) a)->name, ((const struct snap_xattr *) b)->name);
}

static bool xattrs_unsupported(int e)
{
        return e == ENOTSUP || e == ENOSYS;
}

int walker_read_xattrs_at(int dir_fd, const char *name, struct snap_xattrs *ret)
{
        char small[1024];
        _cleanup_free_ char *big = NULL;
        char *list = small;
        ssize_t n = list_at(dir_fd, name, small, sizeof(small));
        if (n < 0 && errno == ERANGE) {
                big = xmalloc(WALKER_XATTR_MAX);
                list = big;
                n = list_at(dir_fd, name, big, WALKER_XATTR_MAX);
                if (n < 0 && errno == ERANGE)
                        return -E2BIG;
        }
        if (n < 0)
                return xattrs_unsupported(errno) ? (*ret = (struct snap_xattrs){0}, 0) : -errno;

        struct snap_xattrs x = {0};
        unsigned char *val = NULL;
        int r = 0;
        for (char *p = list; p < list + n; p += strlen(p) + 1) {
                if (!walker_xattr_wanted(p))
                        continue;
                if (x.n == WALKER_MAX_XATTRS) {
                        r = -E2BIG;
                        break;
                }
                if (!val)
                        val = xmalloc(WALKER_XATTR_MAX);
                ssize_t len = get_at(dir_fd, name, p, val, WALKER_XATTR_MAX);
                if (len < 0) {
                        if (errno == ENODATA) /* removed since the listing */
                                continue;
                        r = errno == ERANGE ? -E2BIG : -errno;
                        break;
                }
                x.v = xreallocarray(x.v, x.n + 1, sizeof(*x.v));
                x.v[x.n++] = (struct snap_xattr){.name = xstrdup(p),
                                                 .value = xmemdup(val, (size_t) len),
                                                 .len = (size_t) len};
        }
        free(val);
        if (r < 0) {
                snap_xattrs_done(&x);
                return r;
        }
        if (x.n > 1)
                qsort(x.v, x.n, sizeof(*x.v), xattr_cmp);
        *ret = x;
        return 0;
}

void walker_xattrs_digest(const struct snap_xattrs *x, uint8_t out[SNAP_XATTR_DIGEST_SIZE])
{
        memset(out, 0, SNAP_XATTR_DIGEST_SIZE);
        if (x->n == 0)
                return;
        _cleanup_(digest_freep) struct digest_ctx *d = digest_new();
        for (size_t i = 0; i < x->n; i++) {
                uint8_t len[4] = {(uint8_t) x->v[i].len, (uint8_t) (x->v[i].len >> 8),
                                  (uint8_t) (x->v[i].len >> 16), (uint8_t) (x->v[i].len >> 24)};
                digest_update(d, x->v[i].name, strlen(x->v[i].name) + 1);
                digest_update(d, len, sizeof(len));
                digest_update(d, x->v[i].value, x->v[i].len);
        }
        char hex[DIGEST_STRING_SIZE];
        digest_final(d, hex);
        walker_digest_to_raw(hex, out, SNAP_XATTR_DIGEST_SIZE);
        /* keep "no attributes" distinct from a digest that happens to be zero */
        out[0] |= 1;
}

void walker_digest_to_raw(const char *digest, uint8_t *out, size_t n)
{
        const char *h = digest_hex(digest);
        for (size_t i = 0; h && i < n && i < 32; i++) {
                int hi = h[2 * i] <= '9' ? h[2 * i] - '0' : h[2 * i] - 'a' + 10;
                int lo = h[2 * i + 1] <= '9' ? h[2 * i + 1] - '0' : h[2 * i + 1] - 'a' + 10;
                out[i] = (uint8_t) (hi << 4 | lo);
        }
}

int walker_open_file_at(int dir_fd, const char *name)
{
        int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
        /* O_NOATIME needs ownership or CAP_FOWNER; without it, read like anyone else */
        int fd = openat(dir_fd, name, flags | O_NOATIME);
        if (fd < 0 && errno == EPERM)
                fd = openat(dir_fd, name, flags);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                int e = errno;
                (void) close(fd);
                return S_ISREG(st.st_mode) ? -e : -EINVAL;
        }
        return fd;
}

int walker_hash_file_at(int dir_fd, const char *name, uint8_t out[SNAP_CONTENT_HASH_SIZE])
{
        _cleanup_close_ int fd = walker_open_file_at(dir_fd, name);
        if (fd < 0)
                return fd;
        _cleanup_(digest_freep) struct digest_ctx *d = digest_new();
        _cleanup_free_ char *chunk = xmalloc(128 * 1024);
        for (;;) {
                ssize_t n = read(fd, chunk, 128 * 1024);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                digest_update(d, chunk, (size_t) n);
        }
        char hex[DIGEST_STRING_SIZE];
        digest_final(d, hex);
        walker_digest_to_raw(hex, out, SNAP_CONTENT_HASH_SIZE);
        return 0;
}

int walker_path_cmp(const char *a, const char *b)
{
        const unsigned char *x = (const unsigned char *) a, *y = (const unsigned char *) b;
        while (*x && *x == *y) {
                x++;
                y++;
        }
        /* '/' ranks just above the end of the string and below every other byte */
        unsigned cx = *x == '/' ? 1 : *x == 0 ? 0 : (unsigned) *x + 1;
        unsigned cy = *y == '/' ? 1 : *y == 0 ? 0 : (unsigned) *y + 1;
        return (int) cx - (int) cy;
}

/* The names of one directory, sorted. */
struct names {
        char *buf;
        size_t len, alloc;
        size_t *off;
        size_t n, off_alloc;
};

static void names_done(struct names *n)
{
        free(n->buf);
        free(n->off);
}

static void names_add(struct names *n, const char *name, size_t len)
{
        if (n->len + len + 1 > n->alloc) {
                n->alloc = MAX(n->alloc * 2, n->len + len + 1 + 4096);
                n->buf = xrealloc(n->buf, n->alloc);
        }
        if (n->n == n->off_alloc) {
                n->off_alloc = n->off_alloc ? n->off_alloc * 2 : 64;
                n->off = xreallocarray(n->off, n->off_alloc, sizeof(size_t));
        }
        memcpy(n->buf + n->len, name, len + 1);
        n->off[n->n++] = n->len;
        n->len += len + 1;
}

static int off_cmp(const void *a, const void *b, void *base)
{
        return strcmp((const char *) base + *(const size_t *) a,
                      (const char *) base + *(const size_t *) b);
}

static int read_names(int dir_fd, char *dents, size_t dents_size, struct names *ret)
{
        struct names n = {0};
        for (;;) {
                /* the system call: musl declares getdents64() with its own dirent type */
                ssize_t got = syscall(SYS_getdents64, dir_fd, dents, dents_size);
                if (got < 0) {
                        if (errno == EINTR)
                                continue;
                        int e = errno;
                        names_done(&n);
                        return -e;
                }
                if (got == 0)
                        break;
                for (ssize_t pos = 0; pos < got;) {
                        struct dirent64 *d = (struct dirent64 *) (dents + pos);
                        pos += d->d_reclen;
                        const char *s = d->d_name;
                        if (s[0] == '.' && (s[1] == '\0' || (s[1] == '.' && s[2] == '\0')))
                                continue;
                        names_add(&n, s, strlen(s));
                }
        }
        if (n.n > 1)
                qsort_r(n.off, n.n, sizeof(size_t), off_cmp, n.buf);
        *ret = n;
        return 0;
}

struct walk {
        const struct ignore_list *ign;
        walker_fn fn;
        void *userdata;
        char path[FS_PATH_MAX + 1];
        size_t plen;
        char *dents;
};

#define DENTS_SIZE (64 * 1024)

static int walk_dir(struct walk *w, int dir_fd, uint32_t tag, uint64_t dir_dev, struct lerr **err);

/* One entry of a directory; w->path holds its path, name starts at w->path + at. */
static int walk_entry(struct walk *w, int dir_fd, uint32_t tag, uint64_t dir_dev, size_t at,
                      struct lerr **err)
{
        const char *name = w->path + at;
        struct walker_entry e = {.path = w->path,
                                 .name = name,
                                 .path_len = w->plen,
                                 .dir_fd = dir_fd,
                                 .parent_tag = tag};
        unsigned sflags = 0;
        int r = walker_stat_at(dir_fd, name, &e.st, &sflags);
        if (r == -ENOENT)
                return 0; /* removed while we walk */
        if (r < 0)
                return lerr_errno(err, -r, "stat '%s'", w->path);
        bool isdir = S_ISDIR(e.st.mode);
        /* without statx's answer, a directory on another device is a mount point (statx also
         * knows that btrfs subvolumes are not) */
        bool mount = (sflags & WALKER_MOUNT_KNOWN) ? (sflags & WALKER_MOUNT_ROOT) != 0
                                                   : isdir && e.st.dev != dir_dev;
        if (mount) {
                log_debug("snapshot: skip mount point '%s'", w->path);
                return 0;
        }
        r = w->fn(&e, w->userdata, err);
        if (r < 0 || !isdir || r == WALKER_SKIP)
                return r < 0 ? r : 0;
        _cleanup_close_ int fd =
                openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
                        return 0; /* replaced while we walk */
                return lerr_errno(err, errno, "open directory '%s'", w->path);
        }
        return walk_dir(w, fd, e.tag, e.st.dev, err);
}

static int walk_dir(struct walk *w, int dir_fd, uint32_t tag, uint64_t dir_dev, struct lerr **err)
{
        _cleanup_(names_done) struct names names = {0};
        int r = read_names(dir_fd, w->dents, DENTS_SIZE, &names);
        if (r < 0)
                return lerr_errno(err, -r, "read directory '%s'", w->plen ? w->path : "/");

        size_t base = w->plen;
        for (size_t i = 0; i < names.n && r >= 0; i++) {
                const char *name = names.buf + names.off[i];
                size_t nlen = strlen(name);
                size_t at = base + (base ? 1 : 0);
                if (at + nlen > FS_PATH_MAX) {
                        w->path[base] = '\0';
                        return lerr_set(err, ENAMETOOLONG,
                                        "walk '%s': a name in it makes a path over %d bytes",
                                        w->path, FS_PATH_MAX);
                }
                if (base)
                        w->path[base] = '/';
                memcpy(w->path + at, name, nlen + 1);
                w->plen = at + nlen;
                if (!w->ign || !ignore_list_match_exact(w->ign, w->path))
                        r = walk_entry(w, dir_fd, tag, dir_dev, at, err);
        }
        w->plen = base;
        w->path[base] = '\0';
        return r;
}

int walker_walk(int root_fd, const char *dir, uint32_t dir_tag, const struct ignore_list *ign,
                walker_fn fn, void *userdata, struct lerr **err)
{
        _cleanup_free_ char *clean = NULL;
        int r = fs_clean_path(dir, &clean);
        if (r < 0)
                return lerr_errno(err, -r, "walk '%s'", dir);
        _cleanup_close_ int fd =
                fs_open_in_root(root_fd, clean, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
        if (fd < 0)
                return lerr_errno(err, -fd, "open directory '%s'", *clean ? clean : "/");
        struct stat st;
        if (fstat(fd, &st) < 0)
                return lerr_errno(err, errno, "stat '%s'", *clean ? clean : "/");

        _cleanup_free_ struct walk *w = xcalloc(1, sizeof(*w));
        _cleanup_free_ char *dents = xmalloc(DENTS_SIZE);
        w->ign = ign;
        w->fn = fn;
        w->userdata = userdata;
        w->dents = dents;
        w->plen = strlen(clean);
        memcpy(w->path, clean, w->plen + 1);
        return walk_dir(w, fd, dir_tag, st.st_dev, err);
}
