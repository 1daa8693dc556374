/* SPDX-License-Identifier: Apache-2.0 */
/* Round trips: a tree with every entry type and odd names → snapshot → layer → extracted by
 * independent tools (GNU tar for the first layer; umoci, which applies whiteouts, for an OCI
 * image of both layers) → the extracted tree equals the original, entry by entry. */
#include "snapshot/snapshotter.h"
#include "snapshot/extract.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "common/err.h"
#include "common/json.h"
#include "snaptest.h"
#include "treecmp.h"

#define T0 1650000000ll
#define UNICODE_DIR                                                                                \
        "\xc3\xbc"                                                                                 \
        "n"                                                                                        \
        "\xc3\xaf"                                                                                 \
        "c"                                                                                        \
        "\xc3\xb6"                                                                                 \
        "d"                                                                                        \
        "\xc3\xa9"

static int root_fd = -1;
static bool privileged;
static char long_path[400];

static void set_time(const char *path, long long sec, long nsec)
{
        struct timespec ts[2] = {{.tv_sec = sec, .tv_nsec = nsec},
                                 {.tv_sec = sec, .tv_nsec = nsec}};
        if (utimensat(root_fd, path, ts, AT_SYMLINK_NOFOLLOW) < 0)
                snaptest_die(path);
}

static void xattr_at(const char *rel, const char *name, const void *v, size_t n)
{
        _cleanup_free_ char *p = scratch_path("root/%s", rel);
        if (lsetxattr(p, name, v, n, 0) < 0)
                snaptest_die(name);
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

/* Gives every entry a distinct nanosecond mtime, children before their directories. */
static void stamp_times(void)
{
        struct paths p = {0};
        struct lerr *err = NULL;
        if (walker_walk(root_fd, "", 0, NULL, collect, &p, &err) < 0)
                abort();
        for (size_t i = p.n; i-- > 0;) {
                set_time(p.v[i], T0 + (long long) i, (long) (i * 1000003 % 1000000000));
                free(p.v[i]);
        }
        free(p.v);
}

static void make_tree(void)
{
        mkdirat(root_fd, "dir with space", 0755);
        write_str_at(root_fd, "dir with space/file with space", "spaces");
        mkdirat(root_fd, UNICODE_DIR, 0755);
        write_str_at(root_fd,
                     UNICODE_DIR "/"
                                 "\xe6\x97\xa5"
                                 "\xe6\x9c\xac"
                                 ".txt",
                     "unicode");
        write_str_at(root_fd, "new\nline", "newline in the name");
        write_str_at(root_fd, "tab\there", "tab");
        write_str_at(root_fd, "back\\slash", "backslash");
        write_str_at(root_fd, ".hidden", "dot");
        write_str_at(root_fd, "-dash", "dash");
        /* a 300+ byte path over three components */
        char a[121], b[121], c[61];
        memset(a, 'a', 120);
        a[120] = '\0';
        memset(b, 'b', 120);
        b[120] = '\0';
        memset(c, 'c', 60);
        c[60] = '\0';
        snprintf(long_path, sizeof(long_path), "long/%s/%s/%s", a, b, c);
        mkdirat(root_fd, "long", 0755);
        char tmp[400];
        snprintf(tmp, sizeof(tmp), "long/%s", a);
        mkdirat(root_fd, tmp, 0755);
        snprintf(tmp, sizeof(tmp), "long/%s/%s", a, b);
        mkdirat(root_fd, tmp, 0755);
        write_str_at(root_fd, long_path, "three hundred bytes of path");
        /* a long link target and a hardlink to the long path: pax linkpath both */
        char target[220];
        memset(target, 't', sizeof(target) - 1);
        target[sizeof(target) - 1] = '\0';
        if (symlinkat(target, root_fd, "long-target") < 0 ||
            linkat(root_fd, long_path, root_fd, "to-long", 0) < 0)
                snaptest_die("long links");

        mkdirat(root_fd, "modes", 0755);
        write_str_at(root_fd, "modes/suid", "#!/bin/sh\n");
        fchmodat(root_fd, "modes/suid", 04755, 0);
        mkdirat(root_fd, "modes/sgid-dir", 0755);
        fchmodat(root_fd, "modes/sgid-dir", 02775, 0);
        mkdirat(root_fd, "modes/sticky", 0755);
        fchmodat(root_fd, "modes/sticky", 01777, 0);
        write_str_at(root_fd, "modes/none", "no permissions at all");
        fchmodat(root_fd, "modes/none", 0, 0);
        write_str_at(root_fd, "modes/ro", "read only");
        fchmodat(root_fd, "modes/ro", 0444, 0);

        mkdirat(root_fd, "empty", 0755);
        mkdirat(root_fd, "empty/nested-empty", 0700);
        write_file_at(root_fd, "empty-file", "", 0, 0600);
        unsigned char *big = xmalloc(3u << 20);
        fill_bytes(big, 3u << 20, 42, false);
        write_file_at(root_fd, "big.bin", big, 3u << 20, 0644);
        free(big);

        mkdirat(root_fd, "links", 0755);
        write_str_at(root_fd, "links/one", "three names, one inode");
        linkat(root_fd, "links/one", root_fd, "links/two", 0);
        linkat(root_fd, "links/one", root_fd, "modes/three", 0);
        if (symlinkat("/etc/passwd", root_fd, "links/abs") < 0 ||
            symlinkat("../big.bin", root_fd, "links/rel") < 0 ||
            symlinkat("nowhere", root_fd, "links/dangling") < 0 ||
            symlinkat("../empty", root_fd, "links/to-dir") < 0 ||
            mkfifoat(root_fd, "links/fifo", 0620) < 0)
                snaptest_die("links");

        write_str_at(root_fd, "xattrs", "with attributes");
        xattr_at("xattrs", "user.plain", "value", 5);
        xattr_at("xattrs", "user.binary", "\x00\x01\xff", 3);
        xattr_at("empty", "user.on-a-dir", "d", 1);
        if (privileged) {
                /* VFS_CAP_REVISION_2 | effective, permitted = CAP_NET_RAW */
                static const unsigned char cap[20] = {1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0,
                                                      0, 0, 0, 0, 0, 0,    0, 0, 0, 0};
                mkdirat(root_fd, "owners", 0755);
                write_str_at(root_fd, "owners/ping", "pretend binary");
                xattr_at("owners/ping", "security.capability", cap, sizeof(cap));
                xattr_at("owners/ping", "trusted.lading", "t", 1);
                write_str_at(root_fd, "owners/big", "big ids");
                if (fchownat(root_fd, "owners/big", (1u << 21) + 7, 1u << 31, 0) < 0 ||
                    fchownat(root_fd, "owners", 1000, 1000, 0) < 0 ||
                    fchownat(root_fd, "links/abs", 33, 33, AT_SYMLINK_NOFOLLOW) < 0 ||
                    mknodat(root_fd, "owners/null", S_IFCHR | 0666, makedev(1, 3)) < 0 ||
                    mknodat(root_fd, "owners/loop", S_IFBLK | 0660, makedev(7, 200)) < 0)
                        snaptest_die("owners and devices");
                xattr_at("owners/ping", "security.capability", cap, sizeof(cap));
        }
        stamp_times();
}

static int open_dir(const char *rel)
{
        _cleanup_free_ char *p = scratch_path("%s", rel);
        int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                snaptest_die(p);
        return fd;
}

static void check_tree(const char *what, const char *dir, unsigned flags)
{
        _cleanup_close_ int fd = open_dir(dir);
        _cleanup_free_ char *d = tree_compare(root_fd, fd, flags);
        is_str(d, "", "%s: the extracted tree equals the original", what);
}

static struct layer_result layers[2];

/* Applies layer files (under the scratch dir) in order onto a new directory with lading's
 * extractor. */
static void lading_extract(const char *dir, const char *const *names, size_t n)
{
        struct lerr *err = NULL;
        _cleanup_free_ char *p = scratch_path("%s", dir);
        mkdir(p, 0755);
        _cleanup_close_ int fd = open_dir(dir);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *l = scratch_path("%s", names[i]);
                _cleanup_close_ int in = open(l, O_RDONLY | O_CLOEXEC);
                struct extract_options eo = {.name = names[i]};
                struct extract_stats st;
                is_int(extract_layer_fd(fd, in, &eo, &st, &err), 0, "lading extracts %s into %s",
                       names[i], dir);
                if (err)
                        diag("%s", lerr_message(err));
                ok(st.skipped_ignored + st.skipped_devices + st.skipped_xattrs + st.skipped_owners +
                                   st.skipped_other ==
                           0,
                   "%s: nothing skipped", names[i]);
        }
        lerr_free(err);
}

static void snapshot_to(struct snapshotter *s, const char *name, int n)
{
        struct lerr *err = NULL;
        _cleanup_free_ char *p = scratch_path("%s", name);
        _cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        struct snapshot_result res;
        is_int(snapshotter_take(s, fd, 0, &res, &err), 1, "%s written", name);
        if (err)
                diag("%s", lerr_message(err));
        layers[n] = res.layer;
        lerr_free(err);
}

/* An OCI image layout with our layers, built by hand, for umoci. */
static char *write_blob(const char *oci, const char *data, size_t len)
{
        char d[DIGEST_STRING_SIZE];
        digest_buffer(data, len, d);
        _cleanup_free_ char *p = xasprintf("%s/blobs/sha256/%s", oci, digest_hex(d));
        write_file_at(AT_FDCWD, p, data, len, 0644);
        return xstrdup(d);
}

static void make_oci(const char *oci, int nlayers)
{
        is_int(run_sh("mkdir -p '%s/blobs/sha256'", oci), 0, "oci dir");
        for (int i = 0; i < nlayers; i++) {
                _cleanup_free_ char *src = scratch_path("layer%d.tar.gz", i + 1);
                is_int(run_sh("cp '%s' '%s/blobs/sha256/%s'", src, oci,
                              digest_hex(layers[i].digest)),
                       0, "layer %d blob", i + 1);
        }
        struct buf cfg = BUF_INIT(1 << 20), man = BUF_INIT(1 << 20);
        (void) !buf_printf(&cfg, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},"
                                 "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[");
        for (int i = 0; i < nlayers; i++)
                (void) !buf_printf(&cfg, "%s\"%s\"", i ? "," : "", layers[i].diff_id);
        (void) !buf_printf(&cfg, "]}}");
        _cleanup_free_ char *cfgd = write_blob(oci, cfg.data, cfg.len);
        (void) !buf_printf(&man,
                           "{\"schemaVersion\":2,\"mediaType\":"
                           "\"application/vnd.oci.image.manifest.v1+json\",\"config\":{"
                           "\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
                           "\"digest\":\"%s\",\"size\":%zu},\"layers\":[",
                           cfgd, cfg.len);
        for (int i = 0; i < nlayers; i++)
                (void) !buf_printf(&man, "%s{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%ju}",
                                   i ? "," : "", layer_media_type(LAYER_GZIP, true),
                                   layers[i].digest, (uintmax_t) layers[i].size);
        (void) !buf_printf(&man, "]}");
        _cleanup_free_ char *mand = write_blob(oci, man.data, man.len);
        _cleanup_free_ char *index = xasprintf(
                "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
                "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":%zu,"
                "\"annotations\":{\"org.opencontainers.image.ref.name\":\"latest\"}}]}",
                mand, man.len);
        _cleanup_free_ char *ip = xasprintf("%s/index.json", oci);
        write_file_at(AT_FDCWD, ip, index, strlen(index), 0644);
        _cleanup_free_ char *lp = xasprintf("%s/oci-layout", oci);
        write_str_at(AT_FDCWD, lp, "{\"imageLayoutVersion\":\"1.0.0\"}");
        buf_done(&cfg);
        buf_done(&man);
}

static void change_tree(void)
{
        is_int(run_sh("rm -rf '%s/root/long' '%s/root/links/two'", snaptest_scratch,
                      snaptest_scratch),
               0, "delete a deep tree and one hardlink");
        write_str_at(root_fd, "dir with space/file with space", "changed content");
        fchmodat(root_fd, ".hidden", 0600, 0);
        unlinkat(root_fd, "empty-file", 0);
        mkdirat(root_fd, "empty-file", 0750);
        write_str_at(root_fd, "empty-file/now-a-dir", "x");
        is_int(run_sh("rm -rf '%s/root/empty'", snaptest_scratch), 0, "delete empty/");
        write_str_at(root_fd, "empty", "a file where a directory was");
        write_str_at(root_fd, "added", "added");
        stamp_times();
}

int main(void)
{
        struct lerr *err = NULL;
        snaptest_setup("roundtrip");
        privileged = geteuid() == 0;
        _cleanup_free_ char *root = scratch_path("root");
        mkdir(root, 0755);
        root_fd = open_dir("root");

        /* FROM scratch: the index of the empty root, then everything is new */
        struct snapshotter_opts o;
        snapshotter_opts_init(&o);
        o.threads = 2;
        _cleanup_(snapshotter_freep) struct snapshotter *s = NULL;
        is_int(snapshotter_new(root_fd, NULL, &o, &s, &err), 0, "snapshotter");
        is_int(snapshotter_init(s, &err), 0, "index the empty root");
        make_tree();
        snapshot_to(s, "layer1.tar.gz", 0);

        _cleanup_free_ char *l1 = scratch_path("layer1.tar.gz");
        _cleanup_free_ char *warn = run_out("tar -tzf '%s' 2>&1 >/dev/null | head -3", l1);
        is_str(warn, "", "GNU tar lists layer 1 without a warning");
        _cleanup_free_ char *gnu = scratch_path("gnu");
        mkdir(gnu, 0755);
        is_int(run_sh("tar --xattrs --xattrs-include='*' --numeric-owner -p --same-owner "
                      "-xzf '%s' -C '%s'",
                      l1, gnu),
               0, "GNU tar extracts layer 1");
        check_tree("GNU tar, layer 1", "gnu", 0);

        /* the comparison itself notices a difference in each field it checks */
        _cleanup_close_ int gfd = open_dir("gnu");
        fchmodat(gfd, "modes/ro", 0400, 0);
        struct timespec ts[2] = {{.tv_sec = 5}, {.tv_sec = 5}};
        utimensat(gfd, "big.bin", ts, 0);
        _cleanup_free_ char *gx = scratch_path("gnu/xattrs");
        removexattr(gx, "user.binary");
        unlinkat(gfd, "links/two", 0);
        write_str_at(gfd, "links/two", "three names, one inode");
        _cleanup_free_ char *d = tree_compare(root_fd, gfd, 0);
        ok(strstr(d, "modes/ro: mode 100444 vs 100400\n") && strstr(d, "xattrs: xattrs differ\n") &&
                   strstr(d, "links/two: hardlink group 'links/one' vs ''\n") &&
                   strstr(d, "big.bin: mtime ") && strstr(d, " vs 5000000000\n"),
           "the comparison catches mode, mtime, xattr and hardlink differences");

        static const char *const first[] = {"layer1.tar.gz"};
        lading_extract("lading1", first, 1);
        check_tree("lading's extractor, layer 1", "lading1", 0);

        change_tree();
        snapshot_to(s, "layer2.tar.gz", 1);
        _cleanup_free_ char *l2 = scratch_path("layer2.tar.gz");
        _cleanup_free_ char *wh = run_out("tar -tzf '%s' | grep '\\.wh\\.' ", l2);
        is_str(wh, "links/.wh.two\n.wh.long\n", "layer 2 whiteouts: one per deleted tree");

        static const char *const both[] = {"layer1.tar.gz", "layer2.tar.gz"};
        lading_extract("lading2", both, 2);
        check_tree("lading's extractor, both layers", "lading2", TREE_NO_DIR_MTIME);

        /* the final tree in one layer, uncompressed and zstd, FROM scratch */
        static const enum layer_compression comps[] = {LAYER_UNCOMPRESSED, LAYER_ZSTD};
        static const char *const cnames[] = {"all.tar", "all.tar.zst"};
        for (int i = 0; i < 2; i++) {
                struct snapshotter_opts co;
                snapshotter_opts_init(&co);
                co.compression = comps[i];
                _cleanup_(snapshotter_freep) struct snapshotter *cs = NULL;
                snapshotter_new(root_fd, NULL, &co, &cs, &err);
                _cleanup_free_ char *p = scratch_path("%s", cnames[i]);
                _cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                struct snapshot_result res;
                /* no init: the index is empty, everything is added */
                is_int(snapshotter_take(cs, fd, 0, &res, &err), 1, "%s written", cnames[i]);
                const char *one[] = {cnames[i]};
                _cleanup_free_ char *out = xasprintf("lading-%s", cnames[i]);
                lading_extract(out, one, 1);
                check_tree(cnames[i], out, 0);
        }

        if (!have_tool("umoci")) {
                ok(true, "# SKIP umoci not installed");
        } else {
                _cleanup_free_ char *oci = scratch_path("oci");
                make_oci(oci, 2);
                _cleanup_free_ char *bundle = scratch_path("bundle");
                is_int(run_sh("umoci unpack --image '%s:latest' '%s' >/dev/null", oci, bundle), 0,
                       "umoci unpacks the image");
                check_tree("umoci, both layers", "bundle/rootfs", TREE_NO_DIR_MTIME);
        }
        close(root_fd);
        lerr_free(err);
        return snaptest_done();
}
