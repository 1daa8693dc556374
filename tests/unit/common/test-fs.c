/* SPDX-License-Identifier: Apache-2.0 */
/* In-root resolution, with openat2 and with the forced walk fallback: the same answers. */
#include "common/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "tap.h"

#include <dirent.h>

static char base[] = "/tmp/lading-test-fs-XXXXXX";
static int root_fd;

static void setup(void)
{
        if (!mkdtemp(base))
                abort();
        char *p = xasprintf("%s/root", base);
        mkdir(p, 0755);
        free(p);
        p = xasprintf("%s/outside", base);
        mkdir(p, 0755);
        free(p);
        p = xasprintf("%s/outside/secret", base);
        int fd = open(p, O_CREAT | O_WRONLY, 0600);
        (void) !write(fd, "outside", 7);
        close(fd);
        free(p);
        root_fd = open(base, O_PATH | O_DIRECTORY);
        int r = openat(root_fd, "root", O_PATH | O_DIRECTORY);
        close(root_fd);
        root_fd = r;
        mkdirat(root_fd, "etc", 0755);
        fd = openat(root_fd, "etc/secret", O_CREAT | O_WRONLY, 0600);
        (void) !write(fd, "inside", 6);
        close(fd);
        (void) !symlinkat("/etc", root_fd, "abs-link");
        (void) !symlinkat("../../outside", root_fd, "etc/rel-escape");
        (void) !symlinkat("/../../../outside/secret", root_fd, "abs-escape");
        (void) !symlinkat("loop2", root_fd, "loop1");
        (void) !symlinkat("loop1", root_fd, "loop2");
        (void) !symlinkat("newfile", root_fd, "dangling");
}

static void read_is(const char *rel, const char *want, const char *name)
{
        int fd = fs_open_in_root(root_fd, rel, O_RDONLY, 0);
        char b[64] = {0};
        if (fd >= 0) {
                (void) !read(fd, b, sizeof(b) - 1);
                close(fd);
        }
        is_str(fd >= 0 ? b : strerror(-fd), want, "%s", name);
}

static void suite(const char *mode)
{
        diag("mode: %s", mode);
        read_is("etc/secret", "inside", "plain path");
        read_is("/etc/secret", "inside", "absolute path means the root");
        read_is("abs-link/secret", "inside", "absolute symlink resolved in the root");
        read_is("../../outside/secret", strerror(ENOENT), "dot-dot clamps at the root");
        read_is("etc/rel-escape/secret", strerror(ENOENT), "relative link cannot climb out");
        read_is("abs-escape", strerror(ENOENT), "absolute link with dot-dots stays inside");
        read_is("loop1", strerror(ELOOP), "symlink loop detected");
        int fd = fs_open_in_root(root_fd, "abs-link", O_PATH | O_NOFOLLOW, 0);
        struct stat st;
        ok(fd >= 0 && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode), "O_NOFOLLOW opens the link");
        if (fd >= 0)
                close(fd);
        fd = fs_open_in_root(root_fd, "dangling", O_WRONLY | O_CREAT, 0644);
        ok(fd >= 0, "O_CREAT through a dangling link creates its target");
        if (fd >= 0)
                close(fd);
        ok(faccessat(root_fd, "newfile", F_OK, 0) == 0, "target created inside the root");
        unlinkat(root_fd, "newfile", 0);
        fd = fs_mkdir_p_in_root(root_fd, "abs-link/a/b/c", 0755);
        ok(fd >= 0, "mkdir -p through a symlink");
        if (fd >= 0)
                close(fd);
        ok(faccessat(root_fd, "etc/a/b/c", F_OK, 0) == 0, "created under the link target");
        fs_rm_rf_at(root_fd, "etc/a");
        is_int(fs_mkdir_p_in_root(root_fd, "etc/rel-escape/pwn", 0755), -ENOENT,
               "mkdir -p through a link dangling inside the root fails, as mkdir -p does");
        mkdirat(root_fd, "outside", 0755);
        fd = fs_mkdir_p_in_root(root_fd, "etc/rel-escape/pwn", 0755);
        ok(fd >= 0 && faccessat(root_fd, "outside/pwn", F_OK, 0) == 0,
           "an escaping link is followed inside the root");
        if (fd >= 0)
                close(fd);
        char *p = xasprintf("%s/outside/pwn", base);
        ok(access(p, F_OK) != 0, "nothing created outside");
        free(p);
        fs_rm_rf_at(root_fd, "outside");
        is_int(fs_mkdir_p_in_root(root_fd, "etc/secret/x", 0755), -ENOTDIR, "file in the way");
        const char *name;
        fd = fs_open_parent_in_root(root_fd, "abs-link/secret", &name);
        ok(fd >= 0 && streq(name, "secret"), "parent of a path through a link");
        if (fd >= 0) {
                ok(faccessat(fd, name, F_OK, 0) == 0, "name exists under the parent");
                close(fd);
        }
        is_int(fs_open_parent_in_root(root_fd, "", &name), -EINVAL, "the root has no parent");
}

/* The kernel's own answer, for comparison with the walk. */
static long raw_openat2(int dfd, const char *rel, int flags, mode_t mode)
{
        struct open_how how = {.flags = (uint64_t) flags | O_CLOEXEC,
                               .mode = (flags & O_CREAT) ? mode : 0,
                               .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
        long fd = syscall(SYS_openat2, dfd, rel, &how, sizeof(how));
        return fd < 0 ? -errno : fd;
}

/* "ok dev:ino" or the error text, so that both resolvers can be compared as strings */
static char *outcome(long fd)
{
        struct stat st;
        if (fd < 0)
                return xstrdup(strerror((int) -fd));
        if (fstat((int) fd, &st) < 0)
                abort();
        close((int) fd);
        return xasprintf("ok %ju:%ju", (uintmax_t) st.st_dev, (uintmax_t) st.st_ino);
}

static bool have_openat2;

static void same_as_kernel(int dfd, const char *rel, int flags, const char *want)
{
        fs_set_force_walk(true);
        char *walk = outcome(fs_open_in_root(dfd, rel, flags, 0644));
        fs_set_force_walk(false);
        if (have_openat2) {
                char *kern = outcome(raw_openat2(dfd, rel, flags, 0644));
                is_str(walk, kern, "walk agrees with openat2 on '%s' flags %#o", rel, flags);
                free(kern);
        }
        if (want)
                is_str(strncmp(walk, "ok ", 3) == 0 ? "ok" : walk, want, "'%s' flags %#o", rel,
                       flags);
        free(walk);
}

static void differential(void)
{
        long probe = raw_openat2(root_fd, ".", O_PATH, 0);
        have_openat2 = probe >= 0;
        if (probe >= 0)
                close((int) probe);
        else
                diag("openat2 unavailable (%s): checking the walk alone", strerror((int) -probe));

        mkdirat(root_fd, "d", 0755);
        mkdirat(root_fd, "d/sub", 0755);
        int fd = openat(root_fd, "d/file", O_CREAT | O_WRONLY, 0644);
        close(fd);
        (void) !symlinkat("", root_fd, "empty-link");
        (void) !symlinkat("sub", root_fd, "d/rel-dir-link");
        (void) !symlinkat("/d/sub/../file", root_fd, "d/abs-file-link");
        (void) !symlinkat("../../../../d", root_fd, "d/sub/up-link");
        (void) !symlinkat("nowhere", root_fd, "d/dangling");
        (void) !symlinkat("/proc/self/fd/0", root_fd, "d/to-proc");
        /* c1 is a chain of exactly 40 links and resolves; c0 is 41, one too many */
        for (int i = 0; i <= 40; i++) {
                char name[32], target[32];
                snprintf(name, sizeof(name), "c%d", i);
                snprintf(target, sizeof(target), i == 40 ? "d" : "c%d", i + 1);
                (void) !symlinkat(target, root_fd, name);
        }

        same_as_kernel(root_fd, "d/file", O_RDONLY, "ok");
        same_as_kernel(root_fd, "d/file/", O_RDONLY, strerror(ENOTDIR));
        same_as_kernel(root_fd, "d/file/x", O_RDONLY, strerror(ENOTDIR));
        same_as_kernel(root_fd, "d/rel-dir-link/", O_RDONLY | O_NOFOLLOW, "ok");
        same_as_kernel(root_fd, "d/rel-dir-link", O_RDONLY | O_NOFOLLOW, strerror(ELOOP));
        same_as_kernel(root_fd, "d/rel-dir-link", O_PATH | O_NOFOLLOW, "ok");
        same_as_kernel(root_fd, "d/abs-file-link", O_RDONLY, "ok");
        same_as_kernel(root_fd, "d/sub/up-link/file", O_RDONLY, "ok");
        same_as_kernel(root_fd, "d/sub/../../../d/file", O_RDONLY, "ok");
        same_as_kernel(root_fd, "/../d/./sub/..//file", O_RDONLY, "ok");
        same_as_kernel(root_fd, "d/sub/..", O_RDONLY | O_DIRECTORY, "ok");
        same_as_kernel(root_fd, "..", O_RDONLY | O_DIRECTORY, "ok");
        same_as_kernel(root_fd, "empty-link", O_RDONLY, strerror(ENOENT));
        same_as_kernel(root_fd, "empty-link/x", O_RDONLY, strerror(ENOENT));
        same_as_kernel(root_fd, "d/dangling", O_WRONLY | O_CREAT | O_EXCL, strerror(EEXIST));
        same_as_kernel(root_fd, "d/dangling/", O_RDONLY, strerror(ENOENT));
        same_as_kernel(root_fd, "d/sub", O_WRONLY | O_CREAT, strerror(EISDIR));
        same_as_kernel(root_fd, "d/file", O_RDONLY | O_DIRECTORY, strerror(ENOTDIR));
        same_as_kernel(root_fd, "c1", O_RDONLY | O_DIRECTORY, "ok");
        same_as_kernel(root_fd, "c0", O_RDONLY | O_DIRECTORY, strerror(ELOOP));
        same_as_kernel(root_fd, "d/to-proc", O_RDONLY, strerror(ENOENT));
        char longname[300];
        memset(longname, 'n', 256);
        longname[256] = '\0';
        same_as_kernel(root_fd, longname, O_RDONLY, strerror(ENAMETOOLONG));

        /* Magic links need a procfs under the root: use the machine's / as the root. */
        int slash = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        same_as_kernel(slash, "proc/self/fd/0", O_RDONLY, strerror(ELOOP));
        same_as_kernel(slash, "proc/self/ns/net", O_RDONLY, strerror(ELOOP));
        same_as_kernel(slash, "proc/self/exe", O_PATH, strerror(ELOOP));
        same_as_kernel(slash, "proc/self/status", O_RDONLY, "ok");
        same_as_kernel(slash, "proc/self/exe", O_PATH | O_NOFOLLOW, "ok");
        close(slash);

        /* O_CREAT through a dangling link creates the target inside the root */
        fs_set_force_walk(true);
        fd = fs_open_in_root(root_fd, "d/dangling", O_WRONLY | O_CREAT, 0600);
        fs_set_force_walk(false);
        ok(fd >= 0 && faccessat(root_fd, "d/nowhere", F_OK, AT_SYMLINK_NOFOLLOW) == 0,
           "walk: O_CREAT follows a dangling link to its target");
        if (fd >= 0)
                close(fd);
        unlinkat(root_fd, "d/nowhere", 0);

        for (int i = 0; i <= 40; i++) {
                char name[32];
                snprintf(name, sizeof(name), "c%d", i);
                unlinkat(root_fd, name, 0);
        }
        unlinkat(root_fd, "empty-link", 0);
        fs_rm_rf_at(root_fd, "d");
}

static void chase_is(const char *rel, const char *want_canon, const char *want_rest, int want_r)
{
        char *canon = NULL, *rest = NULL;
        int fd = fs_chase_in_root(root_fd, rel, &canon, &rest);
        if (want_r) {
                is_int(fd < 0 ? fd : 0, want_r, "chase '%s' fails", rel);
        } else {
                char *got = fd >= 0 ? xasprintf("%s|%s", canon, rest) : xstrdup(strerror(-fd));
                char *want = xasprintf("%s|%s", want_canon, want_rest);
                is_str(got, want, "chase '%s'", rel);
                struct stat a, b;
                if (fd >= 0) {
                        int c = *want_canon ? openat(root_fd, want_canon, O_PATH | O_NOFOLLOW)
                                            : openat(root_fd, ".", O_PATH);
                        ok(c >= 0 && fstat(fd, &a) == 0 && fstat(c, &b) == 0 &&
                                   a.st_ino == b.st_ino,
                           "chase '%s' returns the fd of its canonical path", rel);
                        if (c >= 0)
                                close(c);
                }
                free(got);
                free(want);
        }
        if (fd >= 0)
                close(fd);
        free(canon);
        free(rest);
}

static void chase_tests(void)
{
        mkdirat(root_fd, "usr", 0755);
        mkdirat(root_fd, "usr/lib", 0755);
        (void) !symlinkat("usr/lib", root_fd, "lib");
        (void) !symlinkat("/usr/lib/../../usr", root_fd, "u");
        chase_is("", "", "", 0);
        chase_is("usr/lib", "usr/lib", "", 0);
        chase_is("lib", "usr/lib", "", 0);
        chase_is("lib/x/y", "usr/lib", "x/y", 0);
        chase_is("u/lib/./x//y/", "usr/lib", "x/y", 0);
        chase_is("abs-link/a/b", "etc", "a/b", 0);
        chase_is("etc/rel-escape/x", "", "outside/x", 0);
        chase_is("dangling/x", "", "newfile/x", 0);
        chase_is("missing/../x", NULL, NULL, -ENOENT);
        chase_is("etc/secret/x", NULL, NULL, -ENOTDIR);
        chase_is("etc/secret", NULL, NULL, -ENOTDIR);
        chase_is("loop1/x", NULL, NULL, -ELOOP);
        unlinkat(root_fd, "lib", 0);
        unlinkat(root_fd, "u", 0);
        fs_rm_rf_at(root_fd, "usr");
}

static void rm_rf_tests(void)
{
        /* 3000 levels, far more than the fds we allow ourselves below */
        int dfd = openat(root_fd, ".", O_RDONLY | O_DIRECTORY);
        mkdirat(dfd, "deep", 0755);
        int cur = openat(dfd, "deep", O_RDONLY | O_DIRECTORY);
        for (int i = 0; i < 3000 && cur >= 0; i++) {
                mkdirat(cur, "d", 0755);
                int f = openat(cur, "f", O_CREAT | O_WRONLY, 0644);
                close(f);
                (void) !symlinkat("/", cur, "l");
                int next = openat(cur, "d", O_RDONLY | O_DIRECTORY);
                close(cur);
                cur = next;
        }
        if (cur >= 0)
                close(cur);
        struct rlimit old, low = {.rlim_cur = 32, .rlim_max = 0};
        getrlimit(RLIMIT_NOFILE, &old);
        low.rlim_max = old.rlim_max;
        setrlimit(RLIMIT_NOFILE, &low);
        is_int(fs_rm_rf_at(dfd, "deep"), 0, "rm -rf of 3000 levels with 32 fds");
        setrlimit(RLIMIT_NOFILE, &old);
        ok(faccessat(dfd, "deep", F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT,
           "deep tree gone");

        mkdirat(dfd, "wide", 0755);
        for (int i = 0; i < 3000; i++) {
                char n[32];
                snprintf(n, sizeof(n), "wide/f%d", i);
                int f = openat(dfd, n, O_CREAT | O_WRONLY, 0644);
                close(f);
        }
        mkdirat(dfd, "wide/locked", 0);
        mkdirat(dfd, "wide/locked/x", 0);
        is_int(fs_empty_dir(openat(dfd, "wide", O_PATH | O_DIRECTORY)), 0,
               "empty a wide dir through an O_PATH fd");
        int w = openat(dfd, "wide", O_RDONLY | O_DIRECTORY);
        DIR *d = fdopendir(w);
        int left = 0;
        for (struct dirent *de; d && (de = readdir(d));)
                left += de->d_name[0] != '.';
        if (d)
                closedir(d);
        is_int(left, 0, "wide dir is empty");
        unlinkat(dfd, "wide", AT_REMOVEDIR);

        /* A mount point below: never emptied. Needs a private mount namespace. */
        if (unshare(CLONE_NEWNS) == 0 &&
            mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) == 0) {
                /* fds opened before unshare() still see the old namespace's mounts */
                close(dfd);
                char *rp = xasprintf("%s/root", base);
                dfd = open(rp, O_RDONLY | O_DIRECTORY);
                free(rp);
                mkdirat(dfd, "m", 0755);
                mkdirat(dfd, "m/a", 0755);
                mkdirat(dfd, "m/mnt", 0755);
                char *mp = xasprintf("%s/root/m/mnt", base);
                if (mount("tmpfs", mp, "tmpfs", 0, NULL) == 0) {
                        int f = openat(dfd, "m/mnt/keep", O_CREAT | O_WRONLY, 0644);
                        close(f);
                        is_int(fs_rm_rf_at(dfd, "m"), -EBUSY, "a mount point below: EBUSY");
                        ok(faccessat(dfd, "m/mnt/keep", F_OK, 0) == 0,
                           "the mounted filesystem was not emptied");
                        umount2(mp, MNT_DETACH);
                } else {
                        diag("mount tmpfs: %s: skipping the mount point case", strerror(errno));
                }
                free(mp);
                is_int(fs_rm_rf_at(dfd, "m"), 0, "removed once unmounted");
        } else {
                diag("no private mount namespace (%s): skipping", strerror(errno));
        }
        close(dfd);
}

static void clean_is(const char *in, const char *want, int want_r)
{
        char *out = NULL;
        int r = fs_clean_path(in, &out);
        if (want_r)
                is_int(r, want_r, "clean '%s' fails", in);
        else
                is_str(r == 0 ? out : "(error)", want, "clean '%s'", in);
        free(out);
}

int main(void)
{
        setup();
        clean_is("/usr//bin/./x", "usr/bin/x", 0);
        clean_is("./a/b/", "a/b", 0);
        clean_is("/", "", 0);
        clean_is("a/../b", NULL, -EINVAL);
        clean_is("..", NULL, -EINVAL);
        char *n = NULL;
        fs_normalize_path("/a/../../b/./c/..", &n);
        is_str(n, "b", "normalize clamps dot-dot at the root");
        free(n);
        char *longp = xmalloc(5000);
        memset(longp, 'a', 4999);
        longp[4999] = 0;
        clean_is(longp, NULL, -ENAMETOOLONG);
        free(longp);

        suite("openat2");
        fs_set_force_walk(true);
        suite("walk");
        fs_set_force_walk(false);
        differential();
        chase_tests();
        rm_rf_tests();

        struct buf b = BUF_INIT(3);
        is_int(fs_read_file_at(root_fd, "etc/secret", &b), -E2BIG, "read respects the limit");
        buf_done(&b);
        is_int(fs_write_file_at(root_fd, "w", "data", 4, 0644), 0, "atomic write");
        b = (struct buf) BUF_INIT(100);
        is_int(fs_read_file_at(root_fd, "w", &b), 0, "read back");
        is_str(b.data, "data", "content");
        buf_done(&b);
        int dfd = open(base, O_RDONLY | O_DIRECTORY);
        is_int(fs_rm_rf_at(dfd, "root"), 0, "rm -rf");
        ok(faccessat(dfd, "outside/secret", F_OK, 0) == 0, "rm -rf did not follow links out");
        fs_rm_rf_at(dfd, "outside");
        close(dfd);
        rmdir(base);
        return tap_done();
}
