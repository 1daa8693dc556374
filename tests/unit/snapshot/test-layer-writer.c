/* SPDX-License-Identifier: Apache-2.0 */
/* The layer writer: exact tar headers (checked with Python's tarfile and GNU tar), pax only
 * where needed, hardlinks, whiteouts, digests and sizes against sha256sum and zcat, the same
 * tar whatever the compression, reproducible bytes, and errors. */
#include "snapshot/layer_writer.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>

#include "common/err.h"
#include "snapshot/pgzip.h"
#include "snapshot/walker.h"
#include "snaptest.h"

static const char tarlist_py[] =
        "import sys, tarfile\n"
        "t = tarfile.open(sys.argv[1], encoding='utf-8', errors='surrogateescape')\n"
        "K = {tarfile.REGTYPE: 'f', tarfile.AREGTYPE: 'f', tarfile.DIRTYPE: 'd',\n"
        "     tarfile.SYMTYPE: 'l', tarfile.LNKTYPE: 'h', tarfile.CHRTYPE: 'c',\n"
        "     tarfile.BLKTYPE: 'b', tarfile.FIFOTYPE: 'p'}\n"
        "for m in t:\n"
        "    pax = ','.join(sorted(m.pax_headers.keys()))\n"
        "    dev = '%d,%d' % (m.devmajor, m.devminor) if m.type in (tarfile.CHRTYPE, "
        "tarfile.BLKTYPE) else '-'\n"
        "    print('%s %s %04o %d:%d %d %s %s %s/%s %s [%s]' % (K.get(m.type, '?'), ascii(m.name),"
        " m.mode, m.uid, m.gid, m.size, repr(m.mtime), ascii(m.linkname) if m.linkname else "
        "'-', m.uname, m.gname, dev, pax))\n";

static int root_fd = -1;
static char *tarlist;
static bool privileged;

#define T0 1700000000ll

static void set_time(const char *path, long long sec, long nsec)
{
        struct timespec ts[2] = {{.tv_sec = sec, .tv_nsec = nsec},
                                 {.tv_sec = sec, .tv_nsec = nsec}};
        if (utimensat(root_fd, path, ts, AT_SYMLINK_NOFOLLOW) < 0)
                snaptest_die(path);
}

static char long_name[160];

static void make_tree(void)
{
        _cleanup_free_ char *root = scratch_path("root");
        if (mkdir(root, 0755) < 0)
                snaptest_die("mkdir root");
        root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        privileged = geteuid() == 0;
        mkdirat(root_fd, "d", 0755);
        write_str_at(root_fd, "d/ns", "hello");
        write_str_at(root_fd, "d/plain", "plain");
        memset(long_name, 'n', 150);
        memcpy(long_name, "d/", 2);
        long_name[150] = '\0';
        write_str_at(root_fd, long_name, "long");
        write_str_at(root_fd, "d/hard1", "same inode");
        if (linkat(root_fd, "d/hard1", root_fd, "d/hard2", 0) < 0)
                snaptest_die("link");
        if (symlinkat("ns", root_fd, "d/sym") < 0 || mkfifoat(root_fd, "d/fifo", 0640) < 0)
                snaptest_die("symlink/fifo");
        write_str_at(root_fd, "d/suid", "#!/bin/sh\n");
        fchmodat(root_fd, "d/suid", 04755, 0);
        mkdirat(root_fd, "tmp", 0755);
        fchmodat(root_fd, "tmp", 01777, 0);
        write_str_at(root_fd, "\xc3\xbcnicode name", "u");
        _cleanup_free_ char *xp = scratch_path("root/d/plain");
        if (setxattr(xp, "user.k", "v", 1, 0) < 0)
                snaptest_die("setxattr (the scratch dir needs user xattrs)");
        if (privileged) {
                write_str_at(root_fd, "d/bigids", "big");
                if (fchownat(root_fd, "d/bigids", (1u << 21) + 1, 1u << 31, 0) < 0 ||
                    mknodat(root_fd, "d/null", S_IFCHR | 0666, makedev(1, 3)) < 0)
                        snaptest_die("chown/mknod");
                set_time("d/bigids", T0, 0);
                set_time("d/null", T0, 0);
        }
        /* a socket: tar cannot hold it, the writer skips it */
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        _cleanup_free_ char *sp = scratch_path("root/d/sock");
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sp);
        if (s < 0 || bind(s, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                snaptest_die("bind");
        close(s);
        const char *all[] = {
                "d/plain", long_name, "d/hard1", "d/sym", "d/fifo", "d/suid", "\xc3\xbcnicode name",
                "d/sock",  "d",       "tmp"};
        for (size_t i = 0; i < ARRAY_SIZE(all); i++)
                set_time(all[i], T0, 0);
        set_time("d/ns", T0, 500000000);
}

struct paths {
        char **v;
        size_t n;
};

static int collect(struct walker_entry *e, void *userdata, struct lerr **err)
{
        (void) err;
        struct paths *p = userdata;
        p->v = xreallocarray(p->v, p->n + 1, sizeof(char *));
        p->v[p->n++] = xstrdup(e->path);
        return WALKER_DESCEND;
}

/* Writes every path of the root (walk order) plus a whiteout for "gone" into file name. */
static int write_layer(const char *name, const struct layer_writer_opts *o,
                       struct layer_result *res, struct lerr **err)
{
        struct paths p = {0};
        if (walker_walk(root_fd, "", 0, NULL, collect, &p, err) < 0)
                abort();
        _cleanup_free_ char *path = scratch_path("%s", name);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        _cleanup_(layer_writer_freep) struct layer_writer *w = NULL;
        int r = layer_writer_new(fd, o, &w, err);
        for (size_t i = 0; r >= 0 && i < p.n; i++) {
                if (streq(p.v[i], "d/plain"))
                        r = layer_writer_add_whiteout(w, "d/gone", err);
                if (r >= 0)
                        r = layer_writer_add_path(w, root_fd, p.v[i], NULL, err);
        }
        if (r >= 0)
                r = layer_writer_finish(w, res, err);
        for (size_t i = 0; i < p.n; i++)
                free(p.v[i]);
        free(p.v);
        return r;
}

static void check_digests(const char *name, const char *cat, const struct layer_result *res)
{
        _cleanup_free_ char *path = scratch_path("%s", name);
        _cleanup_free_ char *sum = run_out("sha256sum < '%s' | cut -c1-64", path);
        _cleanup_free_ char *usum = run_out("%s < '%s' | sha256sum | cut -c1-64", cat, path);
        _cleanup_free_ char *size = run_out("stat -c %%s '%s'", path);
        _cleanup_free_ char *usize = run_out("%s < '%s' | wc -c", cat, path);
        _cleanup_free_ char *want_digest = xasprintf("sha256:%.64s", sum);
        _cleanup_free_ char *want_diff = xasprintf("sha256:%.64s", usum);
        is_str(res->digest, want_digest, "%s: digest is sha256sum of the file", name);
        is_str(res->diff_id, want_diff, "%s: diffID is sha256sum of the uncompressed tar", name);
        is_int(res->size, strtoull(size, NULL, 10), "%s: size is the file size", name);
        is_int(res->uncompressed_size, strtoull(usize, NULL, 10), "%s: uncompressed size", name);
}

static void test_headers(void)
{
        struct lerr *err = NULL;
        struct layer_result res;
        struct layer_writer_opts o = {.compression = LAYER_UNCOMPRESSED, .level = -1};
        is_int(write_layer("plain.tar", &o, &res, &err), 0, "write an uncompressed layer");
        if (err)
                diag("%s", lerr_message(err));
        _cleanup_free_ char *tar = scratch_path("plain.tar");
        _cleanup_free_ char *list = run_out("python3 '%s' '%s'", tarlist, tar);
        _cleanup_free_ char *want = xasprintf(
                "d 'd' 0755 0:0 0 1700000000 - / - []\n"
                "%s"
                "p 'd/fifo' 0640 0:0 0 1700000000 - / - []\n"
                "f 'd/hard1' 0644 0:0 10 1700000000 - / - []\n"
                "h 'd/hard2' 0644 0:0 0 1700000000 'd/hard1' / - []\n"
                "f '%s' 0644 0:0 4 1700000000 - / - [path]\n"
                "f 'd/ns' 0644 0:0 5 1700000000.5 - / - [mtime]\n"
                "%s"
                "f 'd/.wh.gone' 0000 0:0 0 0 - / - []\n"
                "f 'd/plain' 0644 0:0 5 1700000000 - / - [SCHILY.xattr.user.k]\n"
                "f 'd/suid' 4755 0:0 10 1700000000 - / - []\n"
                "l 'd/sym' 0777 0:0 0 1700000000 'ns' / - []\n"
                "d 'tmp' 1777 0:0 0 1700000000 - / - []\n"
                "f '\\xfcnicode name' 0644 0:0 1 1700000000 - / - [path]\n",
                privileged ? "f 'd/bigids' 0644 2097153:2147483648 3 1700000000 - / - [gid,uid]\n"
                           : "",
                long_name, privileged ? "c 'd/null' 0644 0:0 0 1700000000 - / 1,3 []\n" : "");
        is_str(list, want, "headers as Python's tarfile reads them");
        is_int(res.entries, privileged ? 14 : 12, "entry count (the socket is skipped)");
        /* tarfile strips a directory's trailing slash; the raw names keep it */
        _cleanup_free_ char *dirs =
                run_out("tar -tf '%s' | grep -e '^d/$' -e '^tmp/$' -e '^d$'", tar);
        is_str(dirs, "d/\ntmp/\n", "directories are named with a trailing slash");

        /* GNU tar reads it without a warning, with the xattr */
        _cleanup_free_ char *gnu = run_out(
                "tar --xattrs -tvf '%s' --numeric-owner 2>&1 | grep -c -e 'tar:' -e '^$' || true",
                tar);
        is_str(gnu, "0\n", "GNU tar lists it without complaints");
        _cleanup_free_ char *out = scratch_path("gnu-out");
        mkdir(out, 0755);
        is_int(run_sh("tar --xattrs --xattrs-include='*' --numeric-owner -p -xf '%s' -C '%s'", tar,
                      out),
               0, "GNU tar extracts it");
        _cleanup_free_ char *xp = scratch_path("gnu-out/d/plain");
        char v[8] = {0};
        is_int(getxattr(xp, "user.k", v, sizeof(v)), 1, "xattr extracted by GNU tar");
        is_str(v, "v", "xattr value");
        _cleanup_free_ char *ns = run_out("stat -c %%y '%s/d/ns'", out);
        ok(strstr(ns, ".500000000") != NULL, "nanosecond mtime extracted: %s", ns);
        lerr_free(err);
}

static void test_compressions(void)
{
        struct lerr *err = NULL;
        struct layer_result plain, gz1, gz2, zst, zst1;
        struct layer_writer_opts o = {.compression = LAYER_UNCOMPRESSED, .level = -1};
        write_layer("c.tar", &o, &plain, &err);
        check_digests("c.tar", "cat", &plain);
        is_str(plain.diff_id, plain.digest, "uncompressed: digest == diffID");
        o.compression = LAYER_GZIP;
        o.threads = 1;
        is_int(write_layer("c1.tar.gz", &o, &gz1, &err), 0, "gzip, 1 thread");
        o.threads = 2;
        is_int(write_layer("c2.tar.gz", &o, &gz2, &err), 0, "gzip, 2 threads");
        check_digests("c2.tar.gz", "zcat", &gz2);
        is_str(gz1.digest, gz2.digest, "gzip: same bytes for 1 and 2 threads");
        is_str(gz2.diff_id, plain.diff_id, "gzip: the same tar inside");
        _cleanup_free_ char *p = scratch_path("c2.tar.gz");
        is_int(run_sh("gzip -t '%s'", p), 0, "gzip -t");
        o.compression = LAYER_ZSTD;
        int r = write_layer("c.tar.zst", &o, &zst, &err);
        if (r == -ENOTSUP) {
                ok(true, "# SKIP no zstd in this build");
                return;
        }
        is_int(r, 0, "zstd");
        check_digests("c.tar.zst", "zstd -dc", &zst);
        is_str(zst.diff_id, plain.diff_id, "zstd: the same tar inside");
        o.threads = 1;
        write_layer("c1.tar.zst", &o, &zst1, &err);
        is_str(zst1.digest, zst.digest, "zstd: same bytes for 1 and 2 threads");
        o.level = 40;
        is_int(write_layer("bad.tar.zst", &o, &zst1, &err), -EINVAL, "zstd level 40 refused");
        is_str(lerr_message(err), "zstd compression level 40 is not in 1..22", "its message");
        lerr_free(err);
}

/* Several gzip blocks and zstd jobs: the bytes do not depend on the thread count. */
static void test_threads_determinism(void)
{
        struct lerr *err = NULL;
        _cleanup_free_ char *dir = scratch_path("bigroot");
        mkdir(dir, 0755);
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        size_t n = 5u << 20;
        unsigned char *data = xmalloc(n);
        fill_bytes(data, n, 5, true);
        write_file_at(fd, "five-mib", data, n, 0644);
        free(data);
        static const enum layer_compression comps[] = {LAYER_GZIP, LAYER_ZSTD};
        for (int c = 0; c < 2; c++) {
                char first[DIGEST_STRING_SIZE] = "";
                bool same = true;
                for (unsigned threads = 1; threads <= 3; threads++) {
                        struct layer_writer_opts o = {
                                .compression = comps[c], .level = -1, .threads = threads};
                        struct layer_writer *w = NULL;
                        struct layer_result res;
                        _cleanup_close_ int out = open("/dev/null", O_WRONLY | O_CLOEXEC);
                        if (layer_writer_new(out, &o, &w, &err) < 0 ||
                            layer_writer_add_path(w, fd, "five-mib", NULL, &err) < 0 ||
                            layer_writer_finish(w, &res, &err) < 0) {
                                same = false;
                                layer_writer_free(w);
                                continue;
                        }
                        layer_writer_free(w);
                        if (!*first)
                                memcpy(first, res.digest, sizeof(first));
                        same &= streq(first, res.digest);
                }
                ok(same, "%s: 1, 2 and 3 threads give the same digest over 5 MiB",
                   comps[c] == LAYER_GZIP ? "gzip" : "zstd");
        }
        lerr_free(err);
}

static void test_reproducible(void)
{
        struct lerr *err = NULL;
        struct layer_result a, b;
        struct layer_writer_opts o = {.compression = LAYER_GZIP, .level = -1, .reproducible = true};
        is_int(write_layer("r1.tar.gz", &o, &a, &err), 0, "reproducible layer 1");
        /* touch everything: only mtimes change */
        set_time("d/ns", T0 + 100, 7);
        set_time("d", T0 + 5, 0);
        is_int(write_layer("r2.tar.gz", &o, &b, &err), 0, "reproducible layer 2");
        is_str(a.digest, b.digest, "same digest after a touch");
        _cleanup_free_ char *p1 = scratch_path("r1.tar.gz");
        _cleanup_free_ char *p2 = scratch_path("r2.tar.gz");
        is_int(run_sh("cmp -s '%s' '%s'", p1, p2), 0, "byte-identical files");
        _cleanup_free_ char *mt = run_out(
                "tar -tvzf '%s' --full-time | grep -vc ' 1970-01-01 00:00:00 ' || true", p1);
        is_str(mt, "0\n", "every mtime is 0");
        set_time("d/ns", T0, 500000000);
        set_time("d", T0, 0);
        lerr_free(err);
}

struct fail_sink {
        int fd;
};

static void test_errors(void)
{
        struct lerr *err = NULL;
        struct layer_result res;
        struct layer_writer_opts o = {.compression = LAYER_GZIP, .level = 12};
        struct layer_writer *w = NULL;
        is_int(layer_writer_new(1, &o, &w, &err), -EINVAL, "gzip level 12 refused");
        is_str(lerr_message(err), "gzip compression level 12 is not in -1..9", "its message");

        /* a full disk: /dev/full fails every write with ENOSPC */
        int full = open("/dev/full", O_WRONLY | O_CLOEXEC);
        if (full < 0) {
                ok(true, "# SKIP no /dev/full");
                return;
        }
        o = (struct layer_writer_opts){.compression = LAYER_UNCOMPRESSED, .level = -1};
        is_int(layer_writer_new(full, &o, &w, &err), 0, "writer on /dev/full");
        int r = layer_writer_add_path(w, root_fd, "d/hard1", NULL, &err);
        if (r >= 0)
                r = layer_writer_finish(w, &res, &err);
        is_int(r, -ENOSPC, "ENOSPC comes back");
        is_str(lerr_message(err),
               "write the header of 'd/hard1': write layer: No space left on device",
               "with what was written");
        is_int(layer_writer_add_path(w, root_fd, "d/ns", NULL, &err), -EIO,
               "the writer refuses more after a failure");
        layer_writer_free(w);
        close(full);

        o.compression = LAYER_GZIP;
        w = NULL;
        is_int(layer_writer_new(open("/dev/null", O_WRONLY | O_CLOEXEC), &o, &w, &err), 0,
               "writer on /dev/null");
        is_int(layer_writer_add_path(w, root_fd, "d/missing", NULL, &err), -ENOENT,
               "a vanished path is -ENOENT");
        struct layer_entry_info info;
        is_int(layer_writer_add_path(w, root_fd, "d/hard1", &info, &err), 0, "still usable");
        ok(info.has_xattrs && !info.hardlink && info.st.size == 10, "info of the entry");
        is_int(layer_writer_finish(w, &res, &err), 0, "finish");
        is_int(res.entries, 1, "one entry");
        layer_writer_free(w);

        enum layer_compression c;
        is_int(layer_compression_parse("zstd", &c), 0, "parse zstd");
        is_int(c, LAYER_ZSTD, "zstd");
        is_int(layer_compression_parse("lz4", &c), -EINVAL, "lz4 refused");
        is_str(layer_media_type(LAYER_GZIP, true), "application/vnd.oci.image.layer.v1.tar+gzip",
               "OCI gzip type");
        is_str(layer_media_type(LAYER_GZIP, false),
               "application/vnd.docker.image.rootfs.diff.tar.gzip", "Docker gzip type");
        lerr_free(err);
}

static void test_hash_content(void)
{
        struct lerr *err = NULL;
        struct layer_writer_opts o = {.compression = LAYER_UNCOMPRESSED, .hash_content = true};
        struct layer_writer *w = NULL;
        struct layer_entry_info a, b;
        struct layer_result res;
        is_int(layer_writer_new(open("/dev/null", O_WRONLY | O_CLOEXEC), &o, &w, &err), 0, "new");
        layer_writer_add_path(w, root_fd, "d/hard1", &a, &err);
        layer_writer_add_path(w, root_fd, "d/hard2", &b, &err);
        layer_writer_finish(w, &res, &err);
        layer_writer_free(w);
        uint8_t want[SNAP_CONTENT_HASH_SIZE];
        char hex[DIGEST_STRING_SIZE];
        digest_buffer("same inode", 10, hex);
        walker_digest_to_raw(hex, want, sizeof(want));
        ok(a.has_content && memcmp(a.content, want, sizeof(want)) == 0,
           "content hash of a written file");
        ok(b.hardlink && !b.has_content, "the second link is a hardlink, not hashed");
        lerr_free(err);
}

int main(void)
{
        snaptest_setup("layer-writer");
        tarlist = scratch_path("tarlist.py");
        write_file_at(AT_FDCWD, tarlist, tarlist_py, strlen(tarlist_py), 0644);
        make_tree();
        test_headers();
        test_compressions();
        test_reproducible();
        test_threads_determinism();
        test_errors();
        test_hash_content();
        free(tarlist);
        close(root_fd);
        return snaptest_done();
}
