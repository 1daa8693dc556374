/* SPDX-License-Identifier: Apache-2.0 */
/* Creating one tar entry under its parent directory fd: regular files, directories, symlinks,
 * hardlinks, device nodes and FIFOs, then owner, mode, xattrs and times, in that order (chown
 * clears setuid bits and security.capability, so the mode and the xattrs come after it).
 * Nothing here follows the last component: new names are created with O_EXCL/O_NOFOLLOW or
 * mkdirat/symlinkat/mknodat/linkat, an existing one is removed first, metadata goes through the
 * new fd or AT_SYMLINK_NOFOLLOW. Special files are never opened (a FIFO would block). */
#include "snapshot/extract-internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/macros.h"
#include "snapshot/ignore.h"
#include "snapshot/wipe.h"

/* Where the entry goes: its parent directory fd (borrowed from the dircache) and its canonical
 * root-relative path. */
struct target {
        int pfd;
        bool psgid;         /* the parent is set-group-ID */
        bool fresh;         /* created by this entry: owned by euid:egid unless psgid */
        const char *pcanon; /* canonical parent, borrowed from the dircache */
        const char *base;
        char canon[FS_PATH_MAX + NAME_MAX + 2];
};

static bool skippable_owner_errno(int e)
{
        return e == EPERM || e == EINVAL || e == EOPNOTSUPP;
}

/* xattrs the filesystem may refuse without the layer being wrong */
static bool skippable_xattr_errno(int e)
{
        return e == ENOTSUP || e == EOPNOTSUPP || e == EPERM || e == EACCES || e == EINVAL ||
               e == E2BIG || e == ERANGE || e == ENOENT || e == ENAMETOOLONG;
}

static int set_owner(struct extractor *x, const struct target *t, int fd, struct lerr **err)
{
        if (x->o->flags & EXTRACT_NO_CHOWN)
                return 0;
        int64_t uid = archive_entry_uid(x->e), gid = archive_entry_gid(x->e);
        int r;
        /* most entries are owned by whoever extracts them (root:root in a build): a new file
         * already is, no need to ask */
        if (t->fresh && !t->psgid && uid == x->euid && gid == x->egid)
                return 0;
        if (uid < 0 || gid < 0 || uid >= (int64_t) UINT32_MAX || gid >= (int64_t) UINT32_MAX) {
                extract_note(&x->st.skipped_owners, &x->note_owners,
                             "'%s': uid/gid %jd:%jd out of range", extract_show(x, 0, t->canon),
                             (intmax_t) uid, (intmax_t) gid);
                return 0;
        }
        if (fd >= 0)
                r = fchown(fd, (uid_t) uid, (gid_t) gid);
        else
                r = fchownat(t->pfd, t->base, (uid_t) uid, (gid_t) gid, AT_SYMLINK_NOFOLLOW);
        if (r == 0)
                return 0;
        if (skippable_owner_errno(errno)) {
                extract_note(&x->st.skipped_owners, &x->note_owners, "'%s' to %jd:%jd: %s",
                             extract_show(x, 0, t->canon), (intmax_t) uid, (intmax_t) gid,
                             strerror(errno));
                return 0;
        }
        return lerr_errno(err, errno, "set the owner of '%s'", extract_show(x, 0, t->canon));
}

/* overlayfs keeps its own state in these: a layer must not be able to forge it */
static bool forbidden_xattr(const char *name)
{
        return startswith(name, "trusted.overlay.") || startswith(name, "user.overlay.");
}

static int set_one_xattr(struct extractor *x, const struct target *t, int fd, const char *name,
                         const void *value, size_t size, struct lerr **err)
{
        const char *why = NULL;
        int r = -1;
        if (strlen(name) > EXTRACT_MAX_XATTR_NAME || size > EXTRACT_MAX_XATTR_SIZE)
                why = "over the size limits";
        else if (forbidden_xattr(name))
                why = "reserved for overlayfs";
        else if (fd >= 0)
                r = fsetxattr(fd, name, value, size, 0);
        else {
                /* symlinks and device nodes cannot be opened for fsetxattr(); the procfs path of
                 * the parent fd plus the name, not followed, reaches the same inode */
                char path[64 + NAME_MAX];
                snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", t->pfd, t->base);
                r = lsetxattr(path, name, value, size, 0);
        }
        if (r == 0)
                return 0;
        if (why || skippable_xattr_errno(errno)) {
                extract_note(&x->st.skipped_xattrs, &x->note_xattrs, "%s on '%s': %s",
                             extract_show(x, 1, name), extract_show(x, 0, t->canon),
                             why ? why : strerror(errno));
                return 0;
        }
        return lerr_errno(err, errno, "set xattr '%s' of '%s'", extract_show(x, 1, name),
                          extract_show(x, 0, t->canon));
}

static int set_xattrs(struct extractor *x, const struct target *t, int fd, struct lerr **err)
{
        const char *name;
        const void *value;
        size_t size;
        const char *seen[EXTRACT_MAX_XATTRS];
        unsigned n = 0;

        if ((x->o->flags & EXTRACT_NO_XATTRS) || archive_entry_xattr_reset(x->e) == 0)
                return 0;
        while (archive_entry_xattr_next(x->e, &name, &value, &size) == ARCHIVE_OK) {
                /* a pax header may carry the same xattr twice (libarchive writes both its own
                 * LIBARCHIVE.xattr and SCHILY.xattr records) */
                bool dup = false;
                for (unsigned i = 0; i < MIN(n, EXTRACT_MAX_XATTRS) && !dup; i++)
                        dup = streq(seen[i], name);
                if (dup)
                        continue;
                if (n < EXTRACT_MAX_XATTRS)
                        seen[n] = name;
                if (++n > EXTRACT_MAX_XATTRS) {
                        extract_note(&x->st.skipped_xattrs, &x->note_xattrs,
                                     "%s on '%s': more than %d xattrs", extract_show(x, 1, name),
                                     extract_show(x, 0, t->canon), EXTRACT_MAX_XATTRS);
                        continue;
                }
                int r = set_one_xattr(x, t, fd, name, value, size, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void entry_times(struct extractor *x, struct timespec ts[2])
{
        ts[1].tv_sec = archive_entry_mtime(x->e);
        ts[1].tv_nsec = archive_entry_mtime_nsec(x->e);
        if (archive_entry_atime_is_set(x->e)) {
                ts[0].tv_sec = archive_entry_atime(x->e);
                ts[0].tv_nsec = archive_entry_atime_nsec(x->e);
        } else {
                ts[0] = ts[1];
        }
}

/* chmod of name in dir_fd without following it: glibc does it with fchmodat2 or through an
 * O_PATH fd and /proc; without either, the caller checked that name is not a symlink. */
static int chmod_nofollow(int dir_fd, const char *name, mode_t mode)
{
        if (fchmodat(dir_fd, name, mode, AT_SYMLINK_NOFOLLOW) == 0)
                return 0;
        if (errno != ENOTSUP && errno != EOPNOTSUPP && errno != ENOSYS && errno != ENOENT)
                return -1;
        struct stat st;
        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -1;
        if (S_ISLNK(st.st_mode)) {
                errno = ELOOP;
                return -1;
        }
        return fchmodat(dir_fd, name, mode, 0);
}

/* Owner, mode, xattrs and times of a file or directory through its fd, of anything else
 * through its parent (fd < 0). Directory times are deferred by the caller. */
static int set_meta(struct extractor *x, const struct target *t, int fd, mode_t type,
                    bool set_times, struct lerr **err)
{
        mode_t mode = archive_entry_perm(x->e) & 07777;
        int r = set_owner(x, t, fd, err);
        if (r < 0)
                return r;
        if (type != AE_IFLNK && !(type == AE_IFDIR && (mode & 0700) != 0700 && !x->is_root)) {
                r = fd >= 0 ? fchmod(fd, mode) : chmod_nofollow(t->pfd, t->base, mode);
                if (r < 0)
                        return lerr_errno(err, errno, "set the mode of '%s'",
                                          extract_show(x, 0, t->canon));
        }
        r = set_xattrs(x, t, fd, err);
        if (r < 0 || !set_times)
                return r;
        struct timespec ts[2];
        entry_times(x, ts);
        r = fd >= 0 ? futimens(fd, ts) : utimensat(t->pfd, t->base, ts, AT_SYMLINK_NOFOLLOW);
        if (r < 0)
                return lerr_errno(err, errno, "set the times of '%s'",
                                  extract_show(x, 0, t->canon));
        return 0;
}

int extract_remove(struct extractor *x, int dir_fd, const char *name, const char *canon,
                   struct lerr **err)
{
        struct stat st;
        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT
                               ? 0
                               : lerr_errno(err, errno, "stat '%s'", extract_show(x, 0, canon));
        if (!S_ISDIR(st.st_mode)) {
                if (unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT)
                        return lerr_errno(err, errno, "remove '%s'", extract_show(x, 0, canon));
                if (S_ISLNK(st.st_mode))
                        dircache_flush(&x->dc); /* a cached path may have gone through it */
                return 0;
        }
        dircache_flush(&x->dc);
        if (x->ignore && ignore_list_has_below(x->ignore, canon)) {
                _cleanup_close_ int fd =
                        openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return lerr_errno(err, errno, "open '%s'", extract_show(x, 0, canon));
                int r = wipe_dir_at(fd, canon, wipe_filter_ignored, (void *) x->ignore, NULL, err);
                if (r < 0)
                        return r;
                if (unlinkat(dir_fd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
                        return 0;
                if (errno == ENOTEMPTY || errno == EEXIST || errno == EBUSY)
                        return 1;
                return lerr_errno(err, errno, "remove '%s'", extract_show(x, 0, canon));
        }
        int r = fs_rm_rf_at(dir_fd, name);
        if (r == -EBUSY)
                return lerr_set(err, EBUSY, "remove '%s': a filesystem is mounted below it",
                                extract_show(x, 0, canon));
        if (r < 0)
                return lerr_errno(err, -r, "remove '%s'", extract_show(x, 0, canon));
        return 0;
}

/* An entry that cannot replace a directory holding ignored paths is skipped. */
static int kept_for_ignored(struct extractor *x, const struct target *t)
{
        extract_note(&x->st.skipped_ignored, &x->note_ignored,
                     "'%s' (a directory holding ignored paths is in the way)",
                     extract_show(x, 0, t->canon));
        return 0;
}

static int write_data(struct extractor *x, const struct target *t, int fd, struct lerr **err)
{
        const void *buf;
        size_t size;
        la_int64_t off;
        int64_t end = 0;

        for (;;) {
                int r = archive_read_data_block(x->a, &buf, &size, &off);
                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
                        if (xin_failed(x->in, err) < 0)
                                return lerr_wrap(err, "read the content of '%s'",
                                                 extract_show(x, 0, t->canon));
                        int e = archive_errno(x->a);
                        return lerr_set(err, e > 0 ? e : EBADMSG, "read the content of '%s': %s",
                                        extract_show(x, 0, t->canon),
                                        archive_error_string(x->a) ? archive_error_string(x->a)
                                                                   : "malformed tar");
                }
                /* offsets jump over the holes of sparse files: pwrite leaves them unallocated */
                const char *p = buf;
                while (size > 0) {
                        ssize_t w = pwrite(fd, p, size, off);
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w <= 0)
                                return lerr_errno(err, w < 0 ? errno : EIO, "write '%s'",
                                                  extract_show(x, 0, t->canon));
                        p += w;
                        off += w;
                        size -= (size_t) w;
                        x->st.bytes += (uint64_t) w;
                }
                if (off > end)
                        end = off;
        }
        int64_t want = archive_entry_size_is_set(x->e) ? archive_entry_size(x->e) : end;
        if (want > end && ftruncate(fd, want) < 0) /* a sparse file ending in a hole */
                return lerr_errno(err, errno, "write '%s'", extract_show(x, 0, t->canon));
        return 0;
}

static int regular_entry(struct extractor *x, struct target *t, struct lerr **err)
{
        const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
        _cleanup_close_ int fd = openat(t->pfd, t->base, flags, 0600);
        if (fd < 0 && errno == EEXIST) {
                int r = extract_remove(x, t->pfd, t->base, t->canon, err);
                if (r != 0)
                        return r < 0 ? r : kept_for_ignored(x, t);
                fd = openat(t->pfd, t->base, flags, 0600);
        }
        if (fd < 0)
                return lerr_errno(err, errno, "create '%s'", extract_show(x, 0, t->canon));
        t->fresh = true;
        int r = write_data(x, t, fd, err);
        if (r >= 0)
                r = set_meta(x, t, fd, AE_IFREG, true, err);
        if (r < 0)
                return r;
        if (close(TAKE_FD(fd)) < 0 && errno != EINTR)
                return lerr_errno(err, errno, "write '%s'", extract_show(x, 0, t->canon));
        x->st.files++;
        return 1;
}

static int defer_dir(struct extractor *x, const char *canon, bool set_mode)
{
        if (x->ndirs == x->adirs) {
                x->adirs = x->adirs ? x->adirs * 2 : 256;
                x->dirs = xreallocarray(x->dirs, x->adirs, sizeof(*x->dirs));
        }
        struct deferred_dir *d = &x->dirs[x->ndirs++];
        d->path = xstrdup(canon);
        entry_times(x, d->ts);
        d->mode = archive_entry_perm(x->e) & 07777;
        d->set_mode = set_mode;
        return 0;
}

static int dir_entry(struct extractor *x, struct target *t, struct lerr **err)
{
        t->fresh = true;
        if (mkdirat(t->pfd, t->base, 0700) < 0) {
                struct stat st;
                if (errno != EEXIST)
                        return lerr_errno(err, errno, "create directory '%s'",
                                          extract_show(x, 0, t->canon));
                if (fstatat(t->pfd, t->base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return lerr_errno(err, errno, "stat '%s'", extract_show(x, 0, t->canon));
                t->fresh = false;
                if (!S_ISDIR(st.st_mode)) {
                        /* a directory over a file or a symlink replaces it; over a directory it
                         * keeps the contents and only its metadata changes */
                        t->fresh = true;
                        int r = extract_remove(x, t->pfd, t->base, t->canon, err);
                        if (r < 0)
                                return r;
                        if (mkdirat(t->pfd, t->base, 0700) < 0)
                                return lerr_errno(err, errno, "create directory '%s'",
                                                  extract_show(x, 0, t->canon));
                }
        }
        int fd = openat(t->pfd, t->base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return lerr_errno(err, errno, "open directory '%s'", extract_show(x, 0, t->canon));
        int r = set_meta(x, t, fd, AE_IFDIR, false, err);
        if (r < 0) {
                (void) close(fd);
                return r;
        }
        mode_t mode = archive_entry_perm(x->e) & 07777;
        defer_dir(x, t->canon, (mode & 0700) != 0700 && !x->is_root);
        dircache_push(&x->dc, t->pcanon, t->base, fd);
        x->st.dirs++;
        return 1;
}

static int symlink_entry(struct extractor *x, struct target *t, struct lerr **err)
{
        const char *target = archive_entry_symlink(x->e);
        if (!target || !*target)
                return lerr_set(err, EINVAL, "symlink '%s' has no target",
                                extract_show(x, 0, t->canon));
        if (strlen(target) > FS_PATH_MAX)
                return lerr_set(err, ENAMETOOLONG, "symlink '%s': target longer than %d bytes",
                                extract_show(x, 0, t->canon), FS_PATH_MAX);
        int r = symlinkat(target, t->pfd, t->base);
        if (r < 0 && errno == EEXIST) {
                r = extract_remove(x, t->pfd, t->base, t->canon, err);
                if (r != 0)
                        return r < 0 ? r : kept_for_ignored(x, t);
                r = symlinkat(target, t->pfd, t->base);
        }
        if (r < 0)
                return lerr_errno(err, errno, "create symlink '%s'", extract_show(x, 0, t->canon));
        t->fresh = true;
        r = set_meta(x, t, -1, AE_IFLNK, true, err);
        if (r < 0)
                return r;
        x->st.symlinks++;
        return 1;
}

static int special_entry(struct extractor *x, struct target *t, mode_t type, struct lerr **err)
{
        dev_t dev = makedev(archive_entry_rdevmajor(x->e), archive_entry_rdevminor(x->e));
        mode_t kind = type == AE_IFCHR ? S_IFCHR : type == AE_IFBLK ? S_IFBLK : S_IFIFO;
        int r = mknodat(t->pfd, t->base, kind | 0600, dev);
        if (r < 0 && errno == EEXIST) {
                r = extract_remove(x, t->pfd, t->base, t->canon, err);
                if (r != 0)
                        return r < 0 ? r : kept_for_ignored(x, t);
                r = mknodat(t->pfd, t->base, kind | 0600, dev);
        }
        if (r < 0 && (errno == EPERM || errno == EACCES || errno == EOPNOTSUPP)) {
                /* no CAP_MKNOD (a user namespace, an unprivileged pod): what Docker does too */
                extract_note(&x->st.skipped_devices, &x->note_devices, "'%s': %s",
                             extract_show(x, 0, t->canon), strerror(errno));
                return 0;
        }
        if (r < 0)
                return lerr_errno(err, errno, "create device node '%s'",
                                  extract_show(x, 0, t->canon));
        t->fresh = true;
        r = set_meta(x, t, -1, type, true, err);
        if (r < 0)
                return r;
        x->st.specials++;
        return 1;
}

/* Splits cleaned path into its directory (a new string) and last component. */
static char *split(const char *clean, const char **ret_base)
{
        const char *slash = strrchr(clean, '/');
        *ret_base = slash ? slash + 1 : clean;
        return xstrndup(clean, slash ? (size_t) (slash - clean) : 0);
}

static int make_canon(struct extractor *x, struct target *t, struct lerr **err)
{
        int n = snprintf(t->canon, sizeof(t->canon), "%s%s%s", t->pcanon, *t->pcanon ? "/" : "",
                         t->base);
        if (n < 0 || (size_t) n > FS_PATH_MAX)
                return lerr_set(err, ENAMETOOLONG, "'%s/%s': resolved path too long",
                                extract_show(x, 0, t->pcanon), t->base);
        return 0;
}

/* Resolves (and creates) the parent of clean. Returns 1 with t filled, 0 when the entry is to be
 * skipped because it lands on an ignored path, or -errno. */
static int locate(struct extractor *x, const char *clean, unsigned flags, struct target *t,
                  struct lerr **err)
{
        _cleanup_free_ char *dir = split(clean, &t->base);
        int r = dircache_get(&x->dc, dir, flags, x->ignore, &t->pfd, &t->pcanon);
        t->psgid = x->dc.last_sgid;
        t->fresh = false;
        if (r == -EACCES)
                return 0;
        if (r < 0)
                return lerr_errno(err, -r, "resolve the directory of '%s'",
                                  extract_show(x, 0, clean));
        if (r == 0)
                return lerr_set(err, ENOENT, "'%s': no such file or directory",
                                extract_show(x, 0, clean));
        r = make_canon(x, t, err);
        if (r < 0)
                return r;
        /* through a symlink the entry may land somewhere else: check the real place too */
        if (x->ignore && !streq(t->canon, clean) && ignore_list_match(x->ignore, t->canon))
                return 0;
        return 1;
}

static int skip_link(struct extractor *x, const char *clean, const char *target)
{
        extract_note(&x->st.skipped_ignored, &x->note_ignored, "'%s' (a link to '%s')",
                     extract_show(x, 0, clean), extract_show(x, 1, target));
        return 0;
}

/* A hardlink's target: cleaned, existing, not ignored (by name or by where it really is).
 * Returns 1 with *ret_fd (a dup of its directory) and *ret_name, 0 to skip, or -errno. */
static int link_target(struct extractor *x, const char *clean, const char *link, int *ret_fd,
                       char **ret_name, struct lerr **err)
{
        _cleanup_free_ char *lclean = NULL;
        struct target lt;
        int r = fs_clean_path(link, &lclean);
        if (r < 0 || !*lclean)
                return lerr_set(err, EINVAL, "hardlink '%s' to '%s': the target leaves the root",
                                extract_show(x, 0, clean), extract_show(x, 1, link));
        if (x->ignore && ignore_list_match(x->ignore, lclean))
                return skip_link(x, clean, lclean);
        _cleanup_free_ char *ldir = split(lclean, &lt.base);
        r = dircache_get(&x->dc, ldir, 0, x->ignore, &lt.pfd, &lt.pcanon);
        if (r == 0)
                return lerr_set(err, ENOENT, "hardlink '%s' to '%s': the target does not exist",
                                extract_show(x, 0, clean), extract_show(x, 1, lclean));
        if (r == -EACCES)
                return skip_link(x, clean, lclean);
        if (r < 0)
                return lerr_errno(err, -r, "hardlink '%s' to '%s'", extract_show(x, 0, clean),
                                  extract_show(x, 1, lclean));
        r = make_canon(x, &lt, err);
        if (r < 0)
                return r;
        if (x->ignore && ignore_list_match(x->ignore, lt.canon))
                return skip_link(x, clean, lt.canon);
        /* the next dircache_get may close lt.pfd */
        int fd = fcntl(lt.pfd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return lerr_errno(err, errno, "hardlink '%s'", extract_show(x, 0, clean));
        *ret_fd = fd;
        *ret_name = xstrdup(lt.base);
        return 1;
}

static bool same_inode(int dfd1, const char *n1, int dfd2, const char *n2)
{
        struct stat a, b;
        return fstatat(dfd1, n1, &a, AT_SYMLINK_NOFOLLOW) == 0 &&
               fstatat(dfd2, n2, &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_dev == b.st_dev &&
               a.st_ino == b.st_ino;
}

static int hardlink_entry(struct extractor *x, const char *clean, const char *link,
                          struct lerr **err)
{
        _cleanup_close_ int lfd = -EBADF;
        _cleanup_free_ char *lname = NULL;
        struct target t;
        int r = link_target(x, clean, link, &lfd, &lname, err);
        if (r <= 0)
                return r;
        r = locate(x, clean, DC_CREATE, &t, err);
        if (r <= 0)
                return r == 0 ? skip_link(x, clean, link) : r;
        r = linkat(lfd, lname, t.pfd, t.base, 0);
        if (r < 0 && errno == EEXIST) {
                if (same_inode(lfd, lname, t.pfd, t.base))
                        r = 0; /* already that file: a duplicate entry */
                else {
                        r = extract_remove(x, t.pfd, t.base, t.canon, err);
                        if (r != 0)
                                return r < 0 ? r : kept_for_ignored(x, &t);
                        r = linkat(lfd, lname, t.pfd, t.base, 0);
                }
        }
        if (r < 0 && errno == ENOENT)
                return lerr_set(err, ENOENT, "hardlink '%s' to '%s': the target does not exist",
                                extract_show(x, 0, clean), extract_show(x, 1, link));
        if (r < 0)
                return lerr_errno(err, errno, "hardlink '%s' to '%s'", extract_show(x, 0, clean),
                                  extract_show(x, 1, link));
        x->st.hardlinks++;
        return extract_remember(x, t.canon, err);
}

static int root_entry(struct extractor *x, mode_t type, struct lerr **err)
{
        if (type != AE_IFDIR)
                return lerr_set(err, EINVAL, "entry '%s' names the root but is not a directory",
                                extract_show(x, 0, archive_entry_pathname(x->e)));
        if (x->o->flags & EXTRACT_KEEP_ROOT)
                return 0;
        struct target t = {.pfd = x->root_fd, .pcanon = "", .base = ".", .canon = "/"};
        /* .fresh = false: the root exists, its owner is set from the entry */
        _cleanup_close_ int fd = openat(x->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return lerr_errno(err, errno, "open the root");
        int r = set_meta(x, &t, fd, AE_IFDIR, false, err);
        if (r < 0)
                return r;
        mode_t mode = archive_entry_perm(x->e) & 07777;
        x->st.dirs++;
        return defer_dir(x, "", (mode & 0700) != 0700 && !x->is_root);
}

int extract_entry(struct extractor *x, const char *clean, struct lerr **err)
{
        mode_t type = archive_entry_filetype(x->e);
        const char *link = archive_entry_hardlink(x->e);
        struct target t;
        int r;

        if (!*clean)
                return root_entry(x, type, err);
        if (link)
                return hardlink_entry(x, clean, link, err);
        if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK && type != AE_IFCHR &&
            type != AE_IFBLK && type != AE_IFIFO) {
                extract_note(&x->st.skipped_other, &x->note_other, "'%s': file type %#o",
                             extract_show(x, 0, clean), (unsigned) type);
                return 0;
        }
        r = locate(x, clean, DC_CREATE, &t, err);
        if (r == 0) {
                extract_note(&x->st.skipped_ignored, &x->note_ignored, "'%s'",
                             extract_show(x, 0, clean));
                return 0;
        }
        if (r < 0)
                return r;
        switch (type) {
        case AE_IFREG:
                r = regular_entry(x, &t, err);
                break;
        case AE_IFDIR:
                r = dir_entry(x, &t, err);
                break;
        case AE_IFLNK:
                r = symlink_entry(x, &t, err);
                break;
        default:
                r = special_entry(x, &t, type, err);
                break;
        }
        if (r <= 0)
                return r;
        return extract_remember(x, t.canon, err);
}

int extract_finish_dirs(struct extractor *x, struct lerr **err)
{
        for (size_t i = 0; i < x->ndirs; i++) {
                struct deferred_dir *d = &x->dirs[i];
                struct target t;
                int pfd, r;
                _cleanup_free_ char *dir = NULL;

                if (!*d->path) {
                        pfd = x->root_fd;
                        t.base = ".";
                } else {
                        dir = split(d->path, &t.base);
                        /* no links: the directory must still be where it was created */
                        r = dircache_get(&x->dc, dir, DC_NO_LINKS, NULL, &pfd, &t.pcanon);
                        if (r <= 0)
                                continue;
                }
                struct stat st;
                if (fstatat(pfd, t.base, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                        continue; /* replaced or removed later in the layer */
                if (d->set_mode && chmod_nofollow(pfd, t.base, d->mode) < 0)
                        return lerr_errno(err, errno, "set the mode of '%s'",
                                          extract_show(x, 0, d->path));
                if (utimensat(pfd, t.base, d->ts, AT_SYMLINK_NOFOLLOW) < 0)
                        return lerr_errno(err, errno, "set the times of '%s'",
                                          extract_show(x, 0, *d->path ? d->path : "/"));
        }
        return 0;
}
