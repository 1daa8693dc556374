/* SPDX-License-Identifier: Apache-2.0 */
/* The walker (order, ignore list, mount points, xattrs) and the snapshot index (build, lookups,
 * updates, removal, compaction, memory per entry). */
#include "snapshot/index.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "common/err.h"
#include "snapshot/ignore.h"
#include "snapshot/walker.h"
#include "snaptest.h"

static int root_fd = -1;

static void make_tree(void)
{
        char *root = scratch_path("root");
        if (mkdir(root, 0755) < 0)
                snaptest_die("mkdir root");
        root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        free(root);
        mkdirat(root_fd, "a", 0755);
        mkdirat(root_fd, "a/b", 0700);
        mkdirat(root_fd, "a.b", 0755);
        mkdirat(root_fd, "skip", 0755);
        mkdirat(root_fd, "z", 0755);
        write_str_at(root_fd, "a/b/file", "hello");
        write_str_at(root_fd, "a/x", "x");
        write_str_at(root_fd, "a.b/y", "yy");
        write_str_at(root_fd, "skip/hidden", "no");
        write_str_at(root_fd, "B", "upper case sorts first");
        if (symlinkat("a/b/file", root_fd, "link") < 0 || mkfifoat(root_fd, "z/fifo", 0600) < 0 ||
            linkat(root_fd, "a/x", root_fd, "z/hard", 0) < 0)
                snaptest_die("special files");
}

struct collect {
        char **paths;
        size_t n;
};

static int collect_one(struct walker_entry *e, void *userdata, struct lerr **err)
{
        (void) err;
        struct collect *c = userdata;
        c->paths = xreallocarray(c->paths, c->n + 1, sizeof(char *));
        c->paths[c->n++] = xstrdup(e->path);
        return WALKER_DESCEND;
}

static char *joined(struct collect *c)
{
        struct buf b = BUF_INIT(1 << 20);
        for (size_t i = 0; i < c->n; i++) {
                if (buf_printf(&b, "%s%s", i ? " " : "", c->paths[i]) < 0)
                        abort();
                free(c->paths[i]);
        }
        free(c->paths);
        c->paths = NULL;
        c->n = 0;
        return buf_steal(&b);
}

static void test_walk(void)
{
        struct lerr *err = NULL;
        struct collect c = {0};
        _cleanup_(ignore_list_freep) struct ignore_list *ign = ignore_list_new();
        is_int(ignore_list_add(ign, "/skip", 0, &err), 0, "ignore skip");

        is_int(walker_walk(root_fd, "", 0, ign, collect_one, &c, &err), 0, "walk the root");
        _cleanup_free_ char *all = joined(&c);
        is_str(all, "B a a/b a/b/file a/x a.b a.b/y link z z/fifo z/hard",
               "sorted depth-first order, ignored dir left out");

        is_int(walker_walk(root_fd, "a", 0, NULL, collect_one, &c, &err), 0, "walk a subdir");
        _cleanup_free_ char *sub = joined(&c);
        is_str(sub, "a/b a/b/file a/x", "subdir walk gives root-relative paths");

        is_int(walker_walk(root_fd, "link", 0, NULL, collect_one, &c, &err), -ENOTDIR,
               "a symlink is not walked into");
        is_str(lerr_message(err), "open directory 'link': Not a directory", "error names it");
        _cleanup_free_ char *none = joined(&c);
        lerr_free(err);
}

static void test_mount_point(void)
{
        char *mp = scratch_path("root/mnt");
        mkdir(mp, 0755);
        if (mount("lading-test", mp, "tmpfs", 0, "size=1m") < 0) {
                ok(true, "# SKIP cannot mount tmpfs: %s", strerror(errno));
                rmdir(mp);
                free(mp);
                return;
        }
        write_str_at(root_fd, "mnt/inside", "on another filesystem");
        struct lerr *err = NULL;
        struct collect c = {0};
        is_int(walker_walk(root_fd, "", 0, NULL, collect_one, &c, &err), 0, "walk with a mount");
        _cleanup_free_ char *all = joined(&c);
        ok(strstr(all, "mnt") == NULL, "the mount point is skipped: %s", all);
        umount(mp);
        rmdir(mp);
        free(mp);
}

static void test_path_cmp(void)
{
        ok(walker_path_cmp("a", "a/b") < 0, "parent before child");
        ok(walker_path_cmp("a/b", "a.b") < 0, "children of a before a.b");
        ok(walker_path_cmp("a/z", "a.b") < 0, "'/' below '.'");
        ok(walker_path_cmp("a-", "a/") > 0, "'/' below '-'");
        ok(walker_path_cmp("b", "a/zzz") > 0, "b after a's children");
        is_int(walker_path_cmp("x/y", "x/y"), 0, "equal");
        ok(walker_path_cmp("\xc3\xa9", "z") > 0, "bytes compare unsigned");
}

static void test_xattrs(void)
{
        ok(walker_xattr_wanted("user.foo"), "user.* kept");
        ok(walker_xattr_wanted("security.capability"), "security.capability kept");
        ok(walker_xattr_wanted("trusted.x"), "trusted.* kept");
        ok(!walker_xattr_wanted("security.selinux"), "host SELinux label dropped");
        ok(!walker_xattr_wanted("system.posix_acl_access"), "ACLs dropped");
        ok(!walker_xattr_wanted("trusted.overlay.opaque"), "overlayfs' own dropped");

        write_str_at(root_fd, "xa", "x");
        struct snap_xattrs x = {0};
        uint8_t d0[SNAP_XATTR_DIGEST_SIZE], d1[SNAP_XATTR_DIGEST_SIZE], d2[SNAP_XATTR_DIGEST_SIZE];
        static const uint8_t zero[SNAP_XATTR_DIGEST_SIZE] = {0};
        is_int(walker_read_xattrs_at(root_fd, "xa", &x), 0, "read no xattrs");
        is_int(x.n, 0, "none");
        walker_xattrs_digest(&x, d0);
        ok(memcmp(d0, zero, sizeof(zero)) == 0, "no xattrs: zero digest");

        _cleanup_free_ char *p = scratch_path("root/xa");
        if (setxattr(p, "user.b", "2", 1, 0) < 0 || setxattr(p, "user.a", "1\0z", 3, 0) < 0) {
                ok(true, "# SKIP user xattrs not supported here: %s", strerror(errno));
                return;
        }
        is_int(walker_read_xattrs_at(root_fd, "xa", &x), 0, "read two xattrs");
        is_int(x.n, 2, "two");
        ok(x.n == 2 && streq(x.v[0].name, "user.a") && streq(x.v[1].name, "user.b"),
           "sorted by name");
        ok(x.n == 2 && x.v[0].len == 3 && memcmp(x.v[0].value, "1\0z", 3) == 0,
           "binary value kept");
        walker_xattrs_digest(&x, d1);
        snap_xattrs_done(&x);
        ok(memcmp(d1, zero, sizeof(zero)) != 0, "digest is not zero");
        (void) setxattr(p, "user.b", "3", 1, 0);
        walker_read_xattrs_at(root_fd, "xa", &x);
        walker_xattrs_digest(&x, d2);
        snap_xattrs_done(&x);
        ok(memcmp(d1, d2, sizeof(d1)) != 0, "a changed value changes the digest");
        if (symlinkat("xa", root_fd, "xlink") == 0) {
                is_int(walker_read_xattrs_at(root_fd, "xlink", &x), 0, "symlink: not followed");
                is_int(x.n, 0, "the link itself has none");
                snap_xattrs_done(&x);
                unlinkat(root_fd, "xlink", 0);
        }
        unlinkat(root_fd, "xa", 0);
}

static void test_build(void)
{
        struct lerr *err = NULL;
        _cleanup_(ignore_list_freep) struct ignore_list *ign = ignore_list_new();
        is_int(ignore_list_add(ign, "skip", 0, &err), 0, "ignore skip");
        _cleanup_(snap_index_freep) struct snap_index *idx = snap_index_new();
        is_int(snap_index_build(idx, root_fd, ign, SNAP_INDEX_HASH_CONTENT, &err), 0, "build");
        is_int(snap_index_count(idx), 11, "11 entries");
        ok(snap_index_find(idx, "skip") == SNAP_INDEX_NONE, "ignored dir not indexed");
        ok(snap_index_find(idx, "skip/hidden") == SNAP_INDEX_NONE, "nor its content");
        is_int(snap_index_find(idx, ""), SNAP_INDEX_ROOT, "the root");

        uint32_t id = snap_index_find(idx, "a/b/file");
        struct snap_key k;
        ok(id != SNAP_INDEX_NONE, "a/b/file found");
        is_int(snap_index_get(idx, id, &k), 0, "get");
        is_int(k.st.size, 5, "size");
        is_int(k.st.mode, S_IFREG | 0644, "mode");
        ok(k.has_content, "content hash kept");
        uint8_t want[SNAP_CONTENT_HASH_SIZE];
        char hex[DIGEST_STRING_SIZE];
        digest_buffer("hello", 5, hex);
        walker_digest_to_raw(hex, want, sizeof(want));
        ok(memcmp(k.content, want, sizeof(want)) == 0, "content hash is sha256 of the bytes");
        ok(k.has_xattrs, "xattrs read");
        _cleanup_free_ char *path = snap_index_path(idx, id);
        is_str(path, "a/b/file", "path rebuilt from parents");
        is_str(snap_index_name(idx, id), "file", "name");
        ok(snap_index_is_under(idx, id, snap_index_find(idx, "a")), "under a");
        ok(!snap_index_is_under(idx, id, snap_index_find(idx, "a.b")), "not under a.b");

        id = snap_index_find(idx, "link");
        is_int(snap_index_get(idx, id, &k), 0, "get link");
        ok(S_ISLNK(k.st.mode), "symlink type");
        is_str(k.link_target, "a/b/file", "link target");
        id = snap_index_find(idx, "z/fifo");
        ok(snap_index_get(idx, id, &k) == 0 && S_ISFIFO(k.st.mode), "fifo");
        uint32_t h1 = snap_index_find(idx, "a/x"), h2 = snap_index_find(idx, "z/hard");
        struct snap_key k1, k2;
        snap_index_get(idx, h1, &k1);
        snap_index_get(idx, h2, &k2);
        ok(k1.st.ino == k2.st.ino && k1.st.dev == k2.st.dev, "hardlinks share (dev, ino)");
        is_int(snap_index_find(idx, "a/b/nope"), SNAP_INDEX_NONE, "missing path");
        is_int(snap_index_find(idx, "a//b"), SNAP_INDEX_NONE, "unclean path not found");

        snap_index_remove_tree(idx, snap_index_find(idx, "a"));
        is_int(snap_index_count(idx), 7, "remove_tree drops a and its 3 entries");
        is_int(snap_index_find(idx, "a/b/file"), SNAP_INDEX_NONE, "child gone");
        ok(snap_index_find(idx, "a.b/y") != SNAP_INDEX_NONE, "sibling kept");
}

static void test_updates(void)
{
        _cleanup_(snap_index_freep) struct snap_index *idx = snap_index_new();
        struct snap_key dir = {.st = {.mode = S_IFDIR | 0755}};
        struct snap_key file = {.st = {.mode = S_IFREG | 0644, .size = 1}};
        struct snap_key link = {.st = {.mode = S_IFLNK | 0777}, .link_target = "/target"};
        uint32_t d;
        is_int(snap_index_put_path(idx, "d", &dir, &d), 0, "put dir");
        is_int(snap_index_put_path(idx, "d/x/y", &file, NULL), -ENOENT, "missing parent");
        is_int(snap_index_put(idx, d, "a/b", 3, &file, NULL), -EINVAL, "slash in a name");
        is_int(snap_index_put_path(idx, "d/f", &file, NULL), 0, "put file");
        uint32_t f = snap_index_find(idx, "d/f");
        is_int(snap_index_put(idx, f, "x", 1, &file, NULL), -EINVAL, "a file is no parent");

        /* many entries: the table grows, names stay right */
        char name[32];
        for (int i = 0; i < 20000; i++) {
                snprintf(name, sizeof(name), "n%05d", i);
                if (snap_index_put(idx, d, name, strlen(name), i % 3 ? &file : &link, NULL) < 0)
                        abort();
        }
        is_int(snap_index_count(idx), 20002, "20002 entries");
        struct snap_key k;
        uint32_t id = snap_index_find(idx, "d/n12345");
        ok(id != SNAP_INDEX_NONE && snap_index_get(idx, id, &k) == 0 && S_ISLNK(k.st.mode) &&
                   streq(k.link_target, "/target"),
           "entry 12345 is a link to /target");
        /* replace a key in place */
        struct snap_key big = file;
        big.st.size = 99;
        big.has_content = true;
        memset(big.content, 7, sizeof(big.content));
        uint32_t again;
        is_int(snap_index_put_path(idx, "d/n12345", &big, &again), 0, "replace");
        is_int(again, id, "same id");
        snap_index_get(idx, id, &k);
        ok(k.st.size == 99 && S_ISREG(k.st.mode) && !k.link_target && k.has_content &&
                   k.content[31] == 7,
           "new key, link target gone, content kept");

        /* remove most, forcing arena compaction; the rest must be intact */
        for (int i = 0; i < 20000; i++)
                if (i % 10) {
                        snprintf(name, sizeof(name), "d/n%05d", i);
                        snap_index_remove(idx, snap_index_find(idx, name));
                }
        is_int(snap_index_count(idx), 2002, "2002 left");
        bool all = true;
        for (int i = 0; i < 20000; i += 10) {
                snprintf(name, sizeof(name), "d/n%05d", i);
                id = snap_index_find(idx, name);
                all &= id != SNAP_INDEX_NONE && snap_index_get(idx, id, &k) == 0 &&
                       (i % 3 ? S_ISREG(k.st.mode) : streq_ptr(k.link_target, "/target"));
                _cleanup_free_ char *p = id == SNAP_INDEX_NONE ? NULL : snap_index_path(idx, id);
                all &= p && streq(p, name);
        }
        ok(all, "survivors found with their keys and paths after compaction");
        snprintf(name, sizeof(name), "d/n%05d", 11);
        is_int(snap_index_find(idx, name), SNAP_INDEX_NONE, "removed one is gone");
}

static void test_memory(void)
{
        /* 100k entries shaped like a real tree: 1000 dirs of 100 files, names ~12 bytes */
        _cleanup_(snap_index_freep) struct snap_index *idx = snap_index_new();
        struct snap_key dir = {.st = {.mode = S_IFDIR | 0755}};
        struct snap_key file = {.st = {.mode = S_IFREG | 0644, .size = 100}};
        char name[32];
        for (int d = 0; d < 1000; d++) {
                uint32_t did;
                snprintf(name, sizeof(name), "dir-%04d", d);
                if (snap_index_put(idx, SNAP_INDEX_ROOT, name, strlen(name), &dir, &did) < 0)
                        abort();
                for (int f = 0; f < 100; f++) {
                        snprintf(name, sizeof(name), "file-%03d.txt", f);
                        if (snap_index_put(idx, did, name, strlen(name), &file, NULL) < 0)
                                abort();
                }
        }
        size_t per = snap_index_memory(idx) / snap_index_count(idx);
        diag("index memory: %zu bytes for %zu entries, %zu bytes/entry", snap_index_memory(idx),
             snap_index_count(idx), per);
        ok(per <= 104, "at most 104 bytes per entry (%zu)", per);
}

int main(void)
{
        snaptest_setup("index");
        make_tree();
        test_walk();
        test_mount_point();
        test_path_cmp();
        test_xattrs();
        test_build();
        /* the same with fstatat and /proc/self/fd/N/name for xattrs */
        walker_set_force_fallbacks(true);
        test_xattrs();
        test_build();
        test_mount_point();
        walker_set_force_fallbacks(false);
        test_updates();
        test_memory();
        close(root_fd);
        return snaptest_done();
}
