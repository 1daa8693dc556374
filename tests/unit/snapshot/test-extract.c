/* SPDX-License-Identifier: Apache-2.0 */
/* Extraction: each entry type with its metadata, whiteouts and opaque directories in every order,
 * replacements, the ignore list, compression formats and input kinds, exact stats and errors. */
#include "snapshot/extract.h"

#include <linux/capability.h>
#include <locale.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "snapshot/ignore.h"
#include "snapshot/wipe.h"
#include "tap.h"
#include "tarbuild.h"

static char *base;
static int base_fd;
static const struct extract_options quiet = {.flags = EXTRACT_QUIET};

static int new_root(const char *name)
{
        (void) fs_rm_rf_at(base_fd, name);
        if (mkdirat(base_fd, name, 0755) < 0)
                abort();
        return openat(base_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static void tree_is(int root, const char *want, const char *what)
{
        char *got = tb_list(root, false);
        is_str(got, want, "%s", what);
        free(got);
}

static void extract_ok(int root, struct tb *t, const struct extract_options *o,
                       struct extract_stats *st, const char *what)
{
        char *msg = NULL;
        int r = tb_extract(root, t, o ? o : &quiet, st, &msg);
        if (!ok(r == 0, "%s extracts", what))
                diag("error: %s", msg);
        free(msg);
        tb_free(t);
}

static void entry_types(void)
{
        int root = new_root("types");
        struct tb *t = tb_new("none");
        TB(t, .name = "./", .type = AE_IFDIR, .mode = 0755, .mtime = 1600000000);
        TB(t, .name = "etc/", .type = AE_IFDIR, .mode = 0750, .uid = 7, .gid = 8,
           .mtime = 1234567890, .mtime_ns = 123456789);
        TB(t, .name = "etc/passwd", .content = "root:x:0:0", .mode = 0640, .uid = 1234, .gid = 5678,
           .mtime = 1111111111, .mtime_ns = 999999999);
        TB(t, .name = "bin/su", .content = "elf", .mode = 04755, .uid = 1000, .gid = 1000);
        TB(t, .name = "tmp/", .type = AE_IFDIR, .mode = 01777);
        TB(t, .name = "abs", .type = AE_IFLNK, .link = "/etc/passwd", .uid = 3, .gid = 4,
           .mtime = 1500000000);
        TB(t, .name = "rel", .type = AE_IFLNK, .link = "../../x/y");
        TB(t, .name = "hard", .hardlink = "etc/passwd");
        TB(t, .name = "dev/null", .type = AE_IFCHR, .mode = 0666, .major = 1, .minor = 3);
        TB(t, .name = "dev/loop0", .type = AE_IFBLK, .mode = 0660, .major = 7, .minor = 0);
        TB(t, .name = "run/fifo", .type = AE_IFIFO, .mode = 0600);
        struct extract_stats st = {0};
        extract_ok(root, t, NULL, &st, "every entry type");
        tree_is(root,
                "l abs -> /etc/passwd\n"
                "d 0755 bin\n"
                "f 4755 bin/su 'elf'\n"
                "d 0755 dev\n"
                "b 0660 dev/loop0 7:0\n"
                "c 0666 dev/null 1:3\n"
                "d 0750 etc\n"
                "f 0640 etc/passwd nlink=2 'root:x:0:0'\n"
                "f 0640 hard nlink=2 'root:x:0:0'\n"
                "l rel -> ../../x/y\n"
                "d 0755 run\n"
                "p 0600 run/fifo 0:0\n"
                "d 1777 tmp\n",
                "tree of every entry type");
        struct stat s;
        fstatat(root, "etc/passwd", &s, AT_SYMLINK_NOFOLLOW);
        is_int(s.st_uid * 100000 + s.st_gid, 1234 * 100000 + 5678, "file owner");
        is_int(s.st_mtim.tv_sec, 1111111111, "file mtime seconds");
        is_int(s.st_mtim.tv_nsec, 999999999, "file mtime nanoseconds");
        fstatat(root, "bin/su", &s, AT_SYMLINK_NOFOLLOW);
        is_int(s.st_mode & 07777, 04755, "setuid kept after chown to 1000");
        is_int(s.st_uid, 1000, "setuid file owner");
        fstatat(root, "etc", &s, AT_SYMLINK_NOFOLLOW);
        is_int(s.st_mtim.tv_sec, 1234567890, "dir mtime set after its contents");
        is_int(s.st_mtim.tv_nsec, 123456789, "dir mtime nanoseconds");
        is_int(s.st_uid * 100 + s.st_gid, 708, "dir owner");
        fstatat(root, "abs", &s, AT_SYMLINK_NOFOLLOW);
        is_int(s.st_mtim.tv_sec, 1500000000, "symlink mtime (not the target's)");
        is_int(s.st_uid * 100 + s.st_gid, 304, "symlink owner (lchown)");
        fstatat(root, ".", &s, 0);
        is_int(s.st_mtim.tv_sec, 1600000000, "root entry mtime");
        fstatat(root, "bin", &s, 0);
        is_int(s.st_mode & 07777, 0755, "implicit parent directory 0755");
        is_int(st.entries, 11, "stats: entries");
        is_int(st.files, 2, "stats: files");
        is_int(st.dirs, 3, "stats: dirs (root, etc, tmp)");
        is_int(st.symlinks, 2, "stats: symlinks");
        is_int(st.hardlinks, 1, "stats: hardlinks");
        is_int(st.specials, 3, "stats: specials");
        is_int(st.bytes, 13, "stats: bytes");
        is_int(st.skipped_devices + st.skipped_owners + st.skipped_xattrs, 0, "nothing skipped");
        close(root);
}

static void xattrs(void)
{
        int root = new_root("xattrs");
        struct tb *t = tb_new("none");
        static const char cap[] = {0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00,
                                   0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
        TB(t, .name = "ping", .content = "elf", .mode = 0755, .uid = 0,
           .xattr_name = "security.capability", .xattr_value = cap, .xattr_size = sizeof(cap));
        TB(t, .name = "u", .content = "x", .xattr_name = "user.comment", .xattr_value = "hi");
        TB(t, .name = "d/", .type = AE_IFDIR, .xattr_name = "user.d", .xattr_value = "dir");
        TB(t, .name = "o/", .type = AE_IFDIR, .xattr_name = "trusted.overlay.opaque",
           .xattr_value = "y");
        char *big = xmalloc(70000);
        memset(big, 'v', 70000);
        TB(t, .name = "big", .content = "x", .xattr_name = "user.big", .xattr_value = big,
           .xattr_size = 70000);
        free(big);
        struct extract_stats st = {0};
        extract_ok(root, t, NULL, &st, "xattrs");
        char v[64] = {0};
        ssize_t n = getxattr("/proc/self/cwd", "user.none", v, sizeof(v)); /* warm up */
        (void) n;
        int fd = openat(root, "ping", O_RDONLY);
        n = fgetxattr(fd, "security.capability", v, sizeof(v));
        ok(n == sizeof(cap) && memcmp(v, cap, sizeof(cap)) == 0,
           "security.capability set after chown (%zd bytes)", n);
        close(fd);
        fd = openat(root, "u", O_RDONLY);
        n = fgetxattr(fd, "user.comment", v, sizeof(v));
        is_int(n, 2, "user xattr on a file");
        close(fd);
        fd = openat(root, "d", O_RDONLY | O_DIRECTORY);
        n = fgetxattr(fd, "user.d", v, sizeof(v));
        is_int(n, 3, "user xattr on a directory");
        close(fd);
        fd = openat(root, "o", O_RDONLY | O_DIRECTORY);
        n = fgetxattr(fd, "trusted.overlay.opaque", v, sizeof(v));
        is_int(n, -1, "overlayfs xattrs are never set from a layer");
        close(fd);
        is_int(st.skipped_xattrs, 2, "refused xattrs counted (overlay, 70000 bytes)");
        close(root);
}

/* Extracts the layers in order into a fresh root and returns it. */
static int layers(const char *name, struct tb **ls, int n, const struct extract_options *o)
{
        int root = new_root(name);
        for (int i = 0; i < n; i++) {
                char *what = xasprintf("%s: layer %d", name, i + 1);
                extract_ok(root, ls[i], o, NULL, what);
                free(what);
        }
        return root;
}

static struct tb *base_layer(void)
{
        struct tb *t = tb_new("gzip");
        TB(t, .name = "a/", .type = AE_IFDIR);
        TB(t, .name = "a/f1", .content = "1");
        TB(t, .name = "a/f2", .content = "2");
        TB(t, .name = "d/", .type = AE_IFDIR);
        TB(t, .name = "d/old", .content = "old");
        TB(t, .name = "d/sub/", .type = AE_IFDIR);
        TB(t, .name = "d/sub/old2", .content = "old2");
        TB(t, .name = "p/", .type = AE_IFDIR);
        TB(t, .name = "p/c", .content = "c");
        TB(t, .name = "q", .content = "file q");
        TB(t, .name = "s", .type = AE_IFLNK, .link = "a");
        return t;
}

static void whiteouts(void)
{
        struct tb *l2 = tb_new("gzip");
        TB(l2, .name = "a/.wh.f1");
        TB(l2, .name = ".wh.p");
        TB(l2, .name = ".wh.missing");
        TB(l2, .name = "d/.wh.nothing-here");
        TB(l2, .name = "x/.wh.y"); /* no directory x: nothing to do, nothing created */
        struct extract_stats st = {0};
        int root = new_root("wh");
        extract_ok(root, base_layer(), NULL, NULL, "base");
        extract_ok(root, l2, NULL, &st, "whiteouts");
        tree_is(root,
                "d 0755 a\nf 0644 a/f2 '2'\nd 0755 d\nf 0644 d/old 'old'\nd 0755 d/sub\n"
                "f 0644 d/sub/old2 'old2'\nf 0644 q 'file q'\nl s -> a\n",
                "file and directory whiteouts");
        is_int(st.whiteouts, 5, "whiteouts counted");
        close(root);

        /* the opaque marker after, before and between the layer's own entries */
        const char *orders[] = {"after", "before", "between"};
        for (int o = 0; o < 3; o++) {
                struct tb *l = tb_new("none");
                if (o == 1)
                        TB(l, .name = "d/.wh..wh..opq");
                TB(l, .name = "d/", .type = AE_IFDIR, .mode = 0700);
                TB(l, .name = "d/new", .content = "new");
                if (o == 2)
                        TB(l, .name = "d/.wh..wh..opq");
                TB(l, .name = "d/sub/x", .content = "x");
                if (o == 0)
                        TB(l, .name = "d/.wh..wh..opq");
                struct tb *ls[] = {base_layer(), l};
                root = layers("opq", ls, 2, NULL);
                char *what = xasprintf("opaque marker %s the layer's entries", orders[o]);
                tree_is(root,
                        "d 0755 a\nf 0644 a/f1 '1'\nf 0644 a/f2 '2'\nd 0700 d\n"
                        "f 0644 d/new 'new'\nd 0755 d/sub\nf 0644 d/sub/x 'x'\n"
                        "d 0755 p\nf 0644 p/c 'c'\nf 0644 q 'file q'\nl s -> a\n",
                        what);
                free(what);
                close(root);
        }

        /* a whiteout in the same layer as its target does not hide it (layer.md) */
        struct tb *l = tb_new("none");
        TB(l, .name = "n", .content = "same layer");
        TB(l, .name = ".wh.n");
        TB(l, .name = ".wh..wh.plnk/");
        struct extract_stats st2 = {0};
        root = new_root("same");
        extract_ok(root, l, NULL, &st2, "same-layer whiteout");
        tree_is(root, "f 0644 n 'same layer'\n", "same-layer whiteout keeps the entry");
        is_int(st2.skipped_other, 1, "AUFS metadata skipped");
        close(root);
}

static void replacements(void)
{
        struct tb *l2 = tb_new("zstd");
        TB(l2, .name = "p", .content = "now a file");         /* file replaces a dir */
        TB(l2, .name = "q/", .type = AE_IFDIR, .mode = 0711); /* dir replaces a file */
        TB(l2, .name = "q/in", .content = "in");
        TB(l2, .name = "a/", .type = AE_IFDIR, .mode = 0700); /* dir over dir keeps content */
        TB(l2, .name = "s", .content = "link replaced");      /* file replaces a symlink */
        TB(l2, .name = "d/old", .type = AE_IFLNK, .link = "/nowhere");
        struct tb *ls[] = {base_layer(), l2};
        int root = layers("repl", ls, 2, NULL);
        tree_is(root,
                "d 0700 a\nf 0644 a/f1 '1'\nf 0644 a/f2 '2'\nd 0755 d\nl d/old -> /nowhere\n"
                "d 0755 d/sub\nf 0644 d/sub/old2 'old2'\nf 0644 p 'now a file'\n"
                "d 0711 q\nf 0644 q/in 'in'\nf 0644 s 'link replaced'\n",
                "replacements");
        close(root);

        /* a symlink replacing a directory that a cached parent fd still points to */
        struct tb *l = tb_new("none");
        TB(l, .name = "x/", .type = AE_IFDIR);
        TB(l, .name = "x/1", .content = "1");
        TB(l, .name = "x", .type = AE_IFLNK, .link = "/y");
        TB(l, .name = "x/2", .content = "2");
        root = new_root("dir-to-link");
        extract_ok(root, l, NULL, NULL, "dir replaced by a symlink");
        tree_is(root, "l x -> /y\nd 0755 y\nf 0644 y/2 '2'\n",
                "entries under the old name go through the new symlink, inside the root");
        close(root);
}

static void ignored(void)
{
        _cleanup_(ignore_list_freep) struct ignore_list *ign = ignore_list_new();
        struct lerr *err = NULL;
        ignore_list_add_defaults(ign, "/kaniko", true, &err);
        ignore_list_add(ign, "etc/hosts", 0, &err);
        struct extract_options o = {.ignore = ign, .flags = EXTRACT_QUIET};
        int root = new_root("ign");
        mkdirat(root, "kaniko", 0755);
        int fd = openat(root, "kaniko/secret", O_CREAT | O_WRONLY, 0600);
        (void) !write(fd, "s3cret", 6);
        close(fd);
        mkdirat(root, "etc", 0755);
        fd = openat(root, "etc/hosts", O_CREAT | O_WRONLY, 0644);
        (void) !write(fd, "mounted", 7);
        close(fd);
        fd = openat(root, "etc/lower", O_CREAT | O_WRONLY, 0644);
        close(fd);

        struct tb *t = tb_new("none");
        TB(t, .name = "kaniko/x", .content = "no");
        TB(t, .name = "kaniko/.wh.secret");
        TB(t, .name = "etc/hosts", .content = "no");
        TB(t, .name = "k", .type = AE_IFLNK, .link = "/kaniko");
        TB(t, .name = "k/through-link", .content = "no");
        TB(t, .name = "k/.wh.secret");
        TB(t, .name = "e", .type = AE_IFLNK, .link = "etc");
        TB(t, .name = "e/hosts", .content = "no");
        TB(t, .name = "stolen", .hardlink = "kaniko/secret");
        TB(t, .name = "stolen2", .hardlink = "k/secret");
        TB(t, .name = "var/run/x", .content = "no");
        TB(t, .name = "proc/1/environ", .content = "no");
        TB(t, .name = "ok", .content = "yes");
        struct extract_stats st = {0};
        extract_ok(root, t, &o, &st, "ignored paths");
        tree_is(root,
                "l e -> etc\nd 0755 etc\nf 0644 etc/hosts 'mounted'\nf 0644 etc/lower ''\n"
                "l k -> /kaniko\nd 0755 kaniko\nf 0600 kaniko/secret 's3cret'\nf 0644 ok 'yes'\n",
                "nothing written or removed under ignored paths");
        is_int(st.skipped_ignored, 10, "ignored entries counted");

        /* whiteout of a directory holding an ignored path, opaque root */
        t = tb_new("none");
        TB(t, .name = ".wh.etc");
        TB(t, .name = "new", .content = "n");
        TB(t, .name = ".wh..wh..opq");
        extract_ok(root, t, &o, &st, "whiteouts over ignored paths");
        tree_is(root,
                "d 0755 etc\nf 0644 etc/hosts 'mounted'\nd 0755 kaniko\n"
                "f 0600 kaniko/secret 's3cret'\nf 0644 new 'n'\n",
                "whiteouts keep ignored paths and their parents");

        /* wipe for a new stage */
        mkdirat(root, "var", 0755);
        mkdirat(root, "var/run", 0755);
        mkdirat(root, "var/lib", 0755);
        (void) !symlinkat("/kaniko", root, "link-to-kaniko");
        struct wipe_stats ws = {0};
        is_int(wipe_root(root, ign, &ws, &err), 0, "wipe the root");
        tree_is(root,
                "d 0755 etc\nf 0644 etc/hosts 'mounted'\nd 0755 kaniko\n"
                "f 0600 kaniko/secret 's3cret'\nd 0755 var\nd 0755 var/run\n",
                "wipe keeps ignored paths and the directories leading to them");
        is_int(ws.kept, 3, "wipe: kept entries");
        wipe_stats_done(&ws);
        lerr_free(err);
        close(root);
}

static struct tb *sample(const char *filter)
{
        struct tb *t = tb_new(filter);
        TB(t, .name = "usr/", .type = AE_IFDIR);
        char *big = xmalloc(3 << 20);
        for (size_t i = 0; i < (3u << 20); i++)
                big[i] = (char) ((i * 7) ^ (i >> 11));
        TB(t, .name = "usr/big", .content = big, .size = 3 << 20);
        free(big);
        for (int i = 0; i < 50; i++) {
                char n[32];
                snprintf(n, sizeof(n), "usr/f%02d", i);
                TB(t, .name = n, .content = n);
        }
        return t;
}

struct pipe_feed {
        int fd;
        const char *p;
        size_t n;
};

static void *feeder(void *ud)
{
        struct pipe_feed *f = ud;
        /* the first bytes one at a time: the sniffer must wait for enough of them */
        for (size_t i = 0; i < f->n; i += i < 8 ? 1 : 4096) {
                size_t len = i < 8 ? 1 : MIN(4096, f->n - i);
                if (fs_write_all(f->fd, f->p + i, len) < 0)
                        break;
        }
        close(f->fd);
        return NULL;
}

struct mem_src {
        const char *p;
        size_t n, off;
};

static ssize_t mem_read(void *ud, void *buf, size_t len)
{
        struct mem_src *m = ud;
        size_t k = MIN(len, MIN(m->n - m->off, 777));
        memcpy(buf, m->p + m->off, k);
        m->off += k;
        return (ssize_t) k;
}

static void inputs(void)
{
        const char *filters[] = {"none", "gzip", "zstd"};
        char *want = NULL;
        for (int i = 0; i < 3; i++) {
                for (int mode = 0; mode < 4; mode++) {
                        struct tb *t = sample(filters[i]);
                        tb_close(t);
                        int root = new_root("in");
                        struct extract_options o = {.flags = EXTRACT_QUIET |
                                                             (mode == 1 ? EXTRACT_NO_THREADS : 0)};
                        struct extract_stats st = {0};
                        struct lerr *err = NULL;
                        int r;
                        /* trailing bytes after the tar end are read too (a pipe drains) */
                        if (mode == 2) {
                                int pfd[2];
                                pipe2(pfd, O_CLOEXEC);
                                struct pipe_feed f = {pfd[1], t->data, t->len};
                                pthread_t th;
                                pthread_create(&th, NULL, feeder, &f);
                                r = extract_layer_fd(root, pfd[0], &o, &st, &err);
                                pthread_join(th, NULL);
                                close(pfd[0]);
                        } else if (mode == 3) {
                                struct mem_src m = {t->data, t->len, 0};
                                r = extract_layer_read(root, mem_read, &m, &o, &st, &err);
                        } else {
                                r = tb_extract(root, t, &o, &st, NULL);
                        }
                        const char *how[] = {"memfd", "memfd, no thread", "pipe", "callback"};
                        if (!is_int(r, 0, "%s via %s", filters[i], how[mode]))
                                diag("%s", lerr_message(err));
                        is_int(st.in_bytes, t->len, "%s via %s: whole input read", filters[i],
                               how[mode]);
                        is_int(st.bytes, (3 << 20) + 50 * 7, "%s via %s: bytes", filters[i],
                               how[mode]);
                        char *got = tb_list(root, false);
                        if (!want)
                                want = xstrdup(got);
                        else
                                is_str(got, want, "%s via %s: same tree", filters[i], how[mode]);
                        free(got);
                        lerr_free(err);
                        tb_free(t);
                        close(root);
                }
        }
        free(want);

        /* gzip in two members with zero padding after: still one layer */
        struct tb *a = tb_new("gzip"), *b = tb_new("gzip");
        TB(a, .name = "one", .content = "1");
        tb_close(a);
        TB(b, .name = "two", .content = "2");
        tb_close(b);
        /* member a without its tar end (drop the trailing zero blocks is not possible after
         * compression), so build a tar stream split in two gzip members by hand */
        struct tb *raw = tb_new("none");
        TB(raw, .name = "one", .content = "1");
        TB(raw, .name = "two", .content = "2");
        tb_close(raw);
        size_t half = 1024; /* two entries of 512 + 512 bytes: split after the first */
        struct buf z = BUF_INIT(1 << 24);
        for (int part = 0; part < 2; part++) {
                struct archive *w = archive_write_new();
                archive_write_add_filter_gzip(w);
                archive_write_set_format_raw(w);
                size_t used = 0;
                char *outb = xmalloc(1 << 20);
                archive_write_open_memory(w, outb, 1 << 20, &used);
                struct archive_entry *e = archive_entry_new();
                archive_entry_set_filetype(e, AE_IFREG);
                archive_write_header(w, e);
                archive_write_data(w, raw->data + (part ? half : 0), part ? raw->len - half : half);
                archive_write_close(w);
                archive_write_free(w);
                archive_entry_free(e);
                (void) !buf_append(&z, outb, used);
                free(outb);
        }
        static const char zeros[100];
        (void) !buf_append(&z, zeros, sizeof(zeros));
        int root = new_root("multi");
        char *msg = NULL;
        int r = tb_extract_bytes(root, z.data, z.len, &quiet, NULL, &msg);
        is_int(r, 0, "multi-member gzip with zero padding (%s)", msg);
        free(msg);
        tree_is(root, "f 0644 one '1'\nf 0644 two '2'\n", "both members extracted");
        buf_done(&z);
        tb_free(a);
        tb_free(b);
        tb_free(raw);
        close(root);

        root = new_root("empty");
        r = tb_extract_bytes(root, "", 0, &quiet, NULL, NULL);
        is_int(r, 0, "a zero-byte layer is an empty layer");
        close(root);
}

static void sparse_and_names(void)
{
        int root = new_root("names");
        struct tb *t = tb_new("none");
        char longname[400];
        memset(longname, 'n', 300);
        memcpy(longname + 100, "/", 1);
        memcpy(longname + 200, "/", 1);
        longname[300] = '\0';
        TB(t, .name = longname, .content = "long");
        TB(t, .name = "ünïcödé/fïlé ✓", .content = "utf8");
        TB(t, .name = "with space/and\ttab", .content = "ws");
        TB(t, .name = "bigid", .content = "id", .uid = 3000000, .gid = 4000000);
        struct extract_stats st = {0};
        extract_ok(root, t, NULL, &st, "odd names");
        char *p = xasprintf("%s", longname);
        ok(faccessat(root, p, F_OK, 0) == 0, "300-byte path");
        free(p);
        ok(faccessat(root, "ünïcödé/fïlé ✓", F_OK, 0) == 0, "unicode path kept as bytes");
        ok(faccessat(root, "with space/and\ttab", F_OK, 0) == 0, "space and tab");
        struct stat s;
        fstatat(root, "bigid", &s, 0);
        is_int(s.st_uid, 3000000, "uid above 2^21");
        is_int(s.st_gid, 4000000, "gid above 2^21");
        close(root);

        /* a sparse file: data at 0 and at 1 MiB, then a hole to 3 MiB */
        root = new_root("sparse");
        t = tb_new("none");
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, "sparse");
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, 3 << 20);
        archive_entry_sparse_add_entry(e, 0, 4096);
        archive_entry_sparse_add_entry(e, 1 << 20, 4096);
        archive_write_header(t->a, e);
        /* the pax writer takes the whole content and stores only the mapped regions */
        char *content = xcalloc(1, 3 << 20);
        memset(content, 'A', 4096);
        memset(content + (1 << 20), 'B', 4096);
        archive_write_data(t->a, content, 3 << 20);
        free(content);
        archive_entry_free(e);
        extract_ok(root, t, NULL, NULL, "sparse file");
        int fd = openat(root, "sparse", O_RDONLY);
        fstat(fd, &s);
        is_int(s.st_size, 3 << 20, "sparse: size");
        ok(s.st_blocks * 512 < (1 << 20), "sparse: holes not allocated (%jd blocks)",
           (intmax_t) s.st_blocks);
        char c[3] = {0};
        pread(fd, c, 1, 0);
        pread(fd, c + 1, 1, 1 << 20);
        pread(fd, c + 2, 1, 2 << 20);
        ok(c[0] == 'A' && c[1] == 'B' && c[2] == 0, "sparse: data at the right offsets");
        close(fd);
        close(root);
}

static void errors(void)
{
        struct {
                struct tb_entry e[3];
                const char *msg;
        } cases[] = {
                {{{.name = "f", .content = "x"}, {.name = "f/x", .content = "y"}},
                 "resolve the directory of 'f/x': Not a directory"},
                {{{.name = "h", .hardlink = "nope"}},
                 "hardlink 'h' to 'nope': the target does not exist"},
                {{{.name = "loop", .type = AE_IFLNK, .link = "loop"},
                  {.name = "loop/x", .content = "y"}},
                 "resolve the directory of 'loop/x': Too many levels of symbolic links"},
                {{{.name = "a/.wh..."}}, "whiteout 'a/.wh...' names no entry"},
                {{{.name = "root-file/", .type = AE_IFDIR},
                  {.name = ".", .type = AE_IFREG, .content = "x"}},
                 "entry '.' names the root but is not a directory"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                int root = new_root("err");
                struct tb *t = tb_new("none");
                for (int j = 0; j < 3 && cases[i].e[j].name; j++)
                        tb_add(t, &cases[i].e[j]);
                char *msg = NULL;
                int r = tb_extract(root, t, &quiet, NULL, &msg);
                ok(r < 0, "error case %zu fails", i);
                is_str(msg, cases[i].msg, "error case %zu message", i);
                free(msg);
                tb_free(t);
                close(root);
        }
}

/* Without CAP_MKNOD and CAP_CHOWN, as in an unprivileged pod: skipped with counts. */
static void unprivileged(void)
{
        pid_t pid = fork();
        if (pid == 0) {
                struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
                struct __user_cap_data_struct d[2];
                syscall(SYS_capget, &h, d);
                for (int i = 0; i < 2; i++)
                        d[i].effective &= ~0u;
                d[0].effective = 1u << CAP_DAC_OVERRIDE | 1u << CAP_FOWNER;
                if (syscall(SYS_capset, &h, d) < 0)
                        _exit(77);
                int root = new_root("unpriv");
                struct tb *t = tb_new("none");
                TB(t, .name = "null", .type = AE_IFCHR, .major = 1, .minor = 3);
                TB(t, .name = "sda", .type = AE_IFBLK, .major = 8, .minor = 0);
                TB(t, .name = "fifo", .type = AE_IFIFO);
                TB(t, .name = "owned", .content = "x", .uid = 1000, .gid = 1000);
                struct extract_stats st = {0};
                char *msg = NULL;
                int r = tb_extract(root, t, &quiet, &st, &msg);
                int code = r == 0 && st.skipped_devices == 2 && st.specials == 1 &&
                                           st.skipped_owners == 1 && st.files == 1
                                   ? 0
                                   : 1;
                if (code)
                        fprintf(stderr, "r=%d %s dev=%ju spec=%ju own=%ju\n", r, msg,
                                (uintmax_t) st.skipped_devices, (uintmax_t) st.specials,
                                (uintmax_t) st.skipped_owners);
                free(msg);
                tb_free(t);
                close(root);
                _exit(code);
        }
        int status;
        waitpid(pid, &status, 0);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
                diag("capset refused: unprivileged case skipped");
        else
                is_int(WEXITSTATUS(status), 0,
                       "no CAP_MKNOD/CAP_CHOWN: 2 devices and 1 owner skipped, FIFO created");
}

int main(void)
{
        /* the writer needs it for non-ASCII names; reading in the C locale is covered by the
         * GNU tar cross-check */
        setlocale(LC_CTYPE, "C.UTF-8");
        base = tb_scratch("lading-test-extract-XXXXXX");
        base_fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (geteuid() != 0) {
                printf("1..0 # SKIP extraction tests need root (owners, devices)\n");
                return 77;
        }
        entry_types();
        xattrs();
        whiteouts();
        replacements();
        ignored();
        inputs();
        sparse_and_names();
        errors();
        unprivileged();
        int r = tap_done();
        if (r == 0) {
                close(base_fd);
                (void) fs_rm_rf_at(AT_FDCWD, base);
        }
        return r;
}
