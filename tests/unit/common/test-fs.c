/* SPDX-License-Identifier: Apache-2.0 */
/* In-root resolution, with openat2 and with the forced walk fallback: the same answers. */
#include "common/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "tap.h"

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
