/* SPDX-License-Identifier: Apache-2.0 */
/* Hostile layers: each case either extracts safely inside the root or fails with the exact
 * error expected, and a canary directory beside the root (contents, modes, owners, mtimes and
 * ctimes in ns) is the same after every case. */
#include "snapshot/extract.h"

#include <locale.h>
#include <zlib.h>

#include "snapshot/ignore.h"
#include "tap.h"
#include "tarbuild.h"

static char *base;
static int base_fd;
static int root;
static char *canary_before;

static void state_at(int dfd, const char *rel, struct buf *out)
{
        int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY);
        DIR *d = fdopendir(fd);
        char **names = NULL;
        size_t n = 0;
        for (struct dirent *de; d && (de = readdir(d));) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                names = xreallocarray(names, n + 1, sizeof(char *));
                names[n++] = xstrdup(de->d_name);
        }
        if (d)
                closedir(d);
        if (n > 0)
                qsort(names, n, sizeof(char *), tb_cmp);
        for (size_t i = 0; i < n; i++) {
                struct stat st;
                char *path = xasprintf("%s/%s", rel, names[i]);
                if (streq(path, "./root")) {
                        free(path);
                        free(names[i]);
                        continue;
                }
                fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW);
                (void) !buf_printf(out, "%s %o %u:%u %jd m%jd.%09ld c%jd.%09ld n%ju\n", path,
                                   st.st_mode, st.st_uid, st.st_gid, (intmax_t) st.st_size,
                                   (intmax_t) st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
                                   (intmax_t) st.st_ctim.tv_sec, st.st_ctim.tv_nsec,
                                   (uintmax_t) st.st_nlink);
                if (S_ISDIR(st.st_mode)) {
                        int sub = openat(dfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
                        state_at(sub, path, out);
                        close(sub);
                } else if (S_ISREG(st.st_mode)) {
                        struct buf c = BUF_INIT(1 << 20);
                        (void) fs_read_file_at(dfd, names[i], &c);
                        (void) !buf_printf(out, "  = '%s'\n", buf_str(&c));
                        buf_done(&c);
                }
                free(path);
                free(names[i]);
        }
        free(names);
}

/* Everything in base except the inside of root. */
static char *outside_state(void)
{
        struct buf out = BUF_INIT(1 << 24);
        state_at(base_fd, ".", &out);
        return buf_steal(&out);
}

static void fresh_root(void)
{
        if (root >= 0)
                close(root);
        (void) fs_rm_rf_at(base_fd, "root");
        mkdirat(base_fd, "root", 0755);
        root = openat(base_fd, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static void canary_unchanged(const char *what)
{
        char *now = outside_state();
        is_str(now, canary_before, "%s: nothing changed outside the root", what);
        free(now);
}

/* Runs t (closed here) in a fresh root unless keep; checks the result and the canary. want_msg
 * NULL: must succeed. */
static int run(const char *what, struct tb *t, const struct extract_options *o, bool keep,
               const char *want_msg)
{
        static const struct extract_options quiet = {.flags = EXTRACT_QUIET};
        if (!keep)
                fresh_root();
        char *msg = NULL;
        int r = tb_extract(root, t, o ? o : &quiet, NULL, &msg);
        if (want_msg)
                is_str(r < 0 ? msg : "(success)", want_msg, "%s: fails with a clear error", what);
        else if (!is_int(r, 0, "%s: extracts", what))
                diag("%s", msg);
        free(msg);
        tb_free(t);
        canary_unchanged(what);
        return r;
}

static void tree_is(const char *want, const char *what)
{
        char *got = tb_list(root, false);
        is_str(got, want, "%s: tree", what);
        free(got);
}

static void names(void)
{
        struct tb *t = tb_new("none");
        TB(t, .name = "../escape", .content = "x");
        run("../ escape", t, NULL, false, "entry '../escape': a '..' component leaves the root");

        t = tb_new("none");
        TB(t, .name = "a/../../canary/x", .content = "x");
        run("nested ..", t, NULL, false,
            "entry 'a/../../canary/x': a '..' component leaves the root");

        t = tb_new("gzip");
        TB(t, .name = "/etc/passwd", .content = "root");
        TB(t, .name = "//./etc//group", .content = "g");
        run("absolute names", t, NULL, false, NULL);
        tree_is("d 0755 etc\nf 0644 etc/group 'g'\nf 0644 etc/passwd 'root'\n",
                "absolute names land under the root");

        char *longname = xmalloc(5001);
        for (int i = 0; i < 5000; i++)
                longname[i] = i % 100 == 99 ? '/' : 'n';
        longname[5000] = '\0';
        t = tb_new("none");
        TB(t, .name = longname, .content = "x");
        char *want = xasprintf("entry '%.*s...': name longer than 4096 bytes", 508, longname);
        run("5000-byte name", t, NULL, false, want);
        free(want);
        t = tb_new("none");
        TB(t, .name = "longlink", .type = AE_IFLNK, .link = longname);
        run("5000-byte link target", t, NULL, false,
            "symlink 'longlink': target longer than 4096 bytes");
        free(longname);

        t = tb_new("none");
        TB(t, .name = ".wh.a/b", .content = "x");
        run(".wh. name with a slash", t, NULL, false,
            "entry '.wh.a/b': a whiteout name is used as a directory");
        t = tb_new("none");
        TB(t, .name = ".wh..");
        run("whiteout of .", t, NULL, false, "whiteout '.wh..' names no entry");
        t = tb_new("none");
        TB(t, .name = "a/.wh...");
        run("whiteout of ..", t, NULL, false, "whiteout 'a/.wh...' names no entry");
        t = tb_new("none");
        TB(t, .name = "./.wh.");
        run("whiteout of the root", t, NULL, false, "whiteout '.wh.' names no entry");
        t = tb_new("none");
        TB(t, .name = "a\nb\033[31m", .content = "x");
        TB(t, .name = "a\nb\033[31m/x", .content = "x");
        run("control characters in names", t, NULL, false,
            "resolve the directory of 'a?b?[31m/x': Not a directory");
}

static void symlinks(void)
{
        struct tb *t = tb_new("none");
        TB(t, .name = "l", .type = AE_IFLNK, .link = "../canary");
        TB(t, .name = "l/pwn", .content = "x");
        TB(t, .name = "l/sentinel", .content = "overwritten?");
        run("relative symlink out, then files through it", t, NULL, false, NULL);
        tree_is("d 0755 canary\nf 0644 canary/pwn 'x'\nf 0644 canary/sentinel 'overwritten?'\n"
                "l l -> ../canary\n",
                "relative symlink out");

        char *abs = xasprintf("%s/canary", base);
        t = tb_new("none");
        TB(t, .name = "abs", .type = AE_IFLNK, .link = abs);
        TB(t, .name = "abs/sentinel", .content = "x");
        run("absolute symlink to the real canary path", t, NULL, false, NULL);
        /* the host path is re-created inside the root, one directory per component */
        struct buf w = BUF_INIT(1 << 16);
        (void) !buf_printf(&w, "l abs -> %s\n", abs);
        for (const char *p = abs + 1;; p++) {
                if (*p != '/' && *p)
                        continue;
                int len = (int) (p - abs - 1);
                (void) !buf_printf(&w, "d 0755 %.*s\n", len, abs + 1);
                if (!*p) {
                        (void) !buf_printf(&w, "f 0644 %s/sentinel 'x'\n", abs + 1);
                        break;
                }
        }
        char *want = buf_steal(&w);
        tree_is(want, "absolute symlink");
        free(want);

        t = tb_new("none");
        TB(t, .name = "slash", .type = AE_IFLNK, .link = "/");
        TB(t, .name = "slash/etc/x", .content = "x");
        TB(t, .name = "slash/slash/slash/y", .content = "y");
        run("symlink to / then entries under it", t, NULL, false, NULL);
        tree_is("d 0755 etc\nf 0644 etc/x 'x'\nl slash -> /\nf 0644 y 'y'\n", "symlink to /");

        t = tb_new("none");
        TB(t, .name = "f", .type = AE_IFLNK, .link = "../canary/sentinel");
        TB(t, .name = "f", .content = "replaced the link");
        TB(t, .name = "g", .type = AE_IFLNK, .link = abs);
        TB(t, .name = "g/", .type = AE_IFDIR, .mode = 0700);
        run("a file and a dir over symlinks pointing out", t, NULL, false, NULL);
        tree_is("f 0644 f 'replaced the link'\nd 0700 g\n", "links replaced, never followed");
        free(abs);

        t = tb_new("none");
        TB(t, .name = "d/", .type = AE_IFDIR);
        TB(t, .name = "d/f", .content = "1");
        TB(t, .name = "d", .type = AE_IFLNK, .link = "../../canary");
        TB(t, .name = "d/pwn", .content = "2");
        run("a dir replaced by a symlink, then entries under the old name", t, NULL, false, NULL);
        tree_is("d 0755 canary\nf 0644 canary/pwn '2'\nl d -> ../../canary\n",
                "entries under the old dir name");

        t = tb_new("none");
        TB(t, .name = "l", .type = AE_IFLNK, .link = "../canary");
        TB(t, .name = "h", .hardlink = "l/sentinel");
        run("hardlink through a symlink out", t, NULL, false,
            "hardlink 'h' to 'l/sentinel': the target does not exist");

        t = tb_new("none");
        TB(t, .name = "a", .type = AE_IFLNK, .link = "b");
        TB(t, .name = "b", .type = AE_IFLNK, .link = "a");
        TB(t, .name = "a/x", .content = "x");
        run("symlink loop", t, NULL, false,
            "resolve the directory of 'a/x': Too many levels of symbolic links");

        t = tb_new("none");
        TB(t, .name = "x", .type = AE_IFLNK, .link = "../canary/sentinel");
        TB(t, .name = "x/y", .content = "y");
        run("a file through a link to a file outside", t, NULL, false, NULL);
        tree_is("d 0755 canary\nd 0755 canary/sentinel\nf 0644 canary/sentinel/y 'y'\n"
                "l x -> ../canary/sentinel\n",
                "the link's target is made inside the root");

        /* whiteouts through links that point out */
        t = tb_new("none");
        TB(t, .name = "l", .type = AE_IFLNK, .link = "../canary");
        run("lower layer with a link out", t, NULL, false, NULL);
        t = tb_new("none");
        TB(t, .name = "l/.wh.sentinel");
        TB(t, .name = "l/.wh..wh..opq");
        TB(t, .name = ".wh.l");
        run("whiteouts through a link out", t, NULL, true, NULL);
        tree_is("", "the link itself was whited out");
}

static void hardlinks(void)
{
        struct tb *t = tb_new("none");
        TB(t, .name = "h", .hardlink = "/etc/shadow");
        run("hardlink to /etc/shadow (not in the root)", t, NULL, false,
            "hardlink 'h' to 'etc/shadow': the target does not exist");

        t = tb_new("none");
        TB(t, .name = "etc/shadow", .content = "root:*:", .mode = 0640);
        run("lower layer with etc/shadow", t, NULL, false, NULL);
        t = tb_new("none");
        TB(t, .name = "h", .hardlink = "/etc/shadow");
        run("hardlink to /etc/shadow (in the root)", t, NULL, true, NULL);
        struct stat a, b;
        fstatat(root, "h", &a, AT_SYMLINK_NOFOLLOW);
        fstatat(root, "etc/shadow", &b, AT_SYMLINK_NOFOLLOW);
        ok(a.st_ino == b.st_ino, "the link is to the root's own etc/shadow");

        t = tb_new("none");
        TB(t, .name = "h", .hardlink = "../canary/sentinel");
        run("hardlink target with ..", t, NULL, false,
            "hardlink 'h' to '../canary/sentinel': the target leaves the root");

        t = tb_new("none");
        TB(t, .name = "etc/", .type = AE_IFDIR);
        TB(t, .name = "h", .hardlink = "etc");
        run("hardlink to a directory", t, NULL, false,
            "hardlink 'h' to 'etc': Operation not permitted");
}

static void bad_streams(void)
{
        char *rnd = xmalloc(65536);
        unsigned s = 1;
        for (int i = 0; i < 65536; i++)
                rnd[i] = (char) ((s = s * 1103515245 + 12345) >> 16);
        struct tb *t = tb_new("gzip");
        TB(t, .name = "big", .content = rnd, .size = 65536);
        TB(t, .name = "after", .content = "a");
        tb_close(t);

        fresh_root();
        char *msg = NULL;
        int r = tb_extract_bytes(root, t->data, t->len / 2, NULL, NULL, &msg);
        is_str(r < 0 ? msg : "(success)",
               "read the content of 'big': decompress gzip: unexpected end of data",
               "truncated gzip");
        free(msg);
        canary_unchanged("truncated gzip");

        /* the CRC in the gzip trailer (8 bytes from the end: CRC32, then the size) */
        char *bad = xmemdup(t->data, t->len);
        bad[t->len - 8] ^= 0x55;
        fresh_root();
        r = tb_extract_bytes(root, bad, t->len, NULL, NULL, &msg);
        is_str(r < 0 ? msg : "(success)",
               "read the end of the layer: decompress gzip: incorrect data check",
               "gzip with a bad CRC");
        free(msg);
        /* deflate data damaged in the middle */
        memcpy(bad, t->data, t->len);
        for (size_t i = t->len / 3; i < t->len / 3 + 64; i++)
                bad[i] ^= 0xa5;
        fresh_root();
        r = tb_extract_bytes(root, bad, t->len, NULL, NULL, &msg);
        ok(r == -EBADMSG && strstr(msg, "decompress gzip: ") != NULL, "corrupt deflate data: %s",
           msg);
        free(msg);
        canary_unchanged("corrupt gzip");
        free(bad);
        tb_free(t);

        t = tb_new("none");
        TB(t, .name = "big", .content = rnd, .size = 65536);
        TB(t, .name = "after", .content = "a");
        tb_close(t);
        fresh_root();
        r = tb_extract_bytes(root, t->data, 30000, NULL, NULL, &msg);
        is_str(r < 0 ? msg : "(success)", "read the content of 'big': Truncated tar archive",
               "truncated tar");
        free(msg);
        /* a damaged header checksum: libarchive would skip it, we stop */
        bad = xmemdup(t->data, t->len);
        char *h = memmem(bad + 512, t->len - 512, "after", 5);
        h[148] = h[148] == '7' ? '1' : '7';
        fresh_root();
        r = tb_extract_bytes(root, bad, t->len, NULL, NULL, &msg);
        is_str(r < 0 ? msg : "(success)", "read the entry after 'big': Damaged tar archive",
               "damaged header");
        free(msg);
        free(bad);
        tb_free(t);
        free(rnd);

        /* a pax header claiming 2 MiB: refused by libarchive before allocating it */
        struct buf bomb = BUF_INIT(8 << 20);
        char hdr[512] = {0};
        snprintf(hdr, 100, "PaxHeaders/x");
        snprintf(hdr + 100, 8, "0000644");
        snprintf(hdr + 124, 12, "%011o", 2 << 20);
        snprintf(hdr + 136, 12, "%011o", 0);
        hdr[156] = 'x';
        memcpy(hdr + 257, "ustar", 6);
        memcpy(hdr + 263, "00", 2);
        memset(hdr + 148, ' ', 8);
        unsigned sum = 0;
        for (int i = 0; i < 512; i++)
                sum += (unsigned char) hdr[i];
        snprintf(hdr + 148, 8, "%06o", sum);
        (void) !buf_append(&bomb, hdr, 512);
        for (int i = 0; i < (2 << 20) / 512 + 2; i++) {
                char blk[512];
                memset(blk, 'a', 512);
                (void) !buf_append(&bomb, blk, 512);
        }
        fresh_root();
        r = tb_extract_bytes(root, bomb.data, bomb.len, NULL, NULL, &msg);
        is_str(r < 0 ? msg : "(success)", "read the layer: Special header too large",
               "2 MiB pax header");
        free(msg);
        buf_done(&bomb);

        /* garbage: not a tar at all */
        fresh_root();
        r = tb_extract_bytes(root, "hello world, not a tar file at all", 34, NULL, NULL, &msg);
        is_str(r < 0 ? msg : "(success)", "read the layer: Unrecognized archive format",
               "not a tar");
        free(msg);
        canary_unchanged("bad streams");
}

static void bombs_and_dups(void)
{
        /* 100k empty files in 100 directories */
        struct tb *t = tb_new("gzip");
        char name[64];
        for (int d = 0; d < 100; d++)
                for (int f = 0; f < 1000; f++) {
                        snprintf(name, sizeof(name), "bomb/d%02d/f%03d", d, f);
                        TB(t, .name = name);
                }
        tb_close(t);
        fresh_root();
        struct extract_stats st = {0};
        const struct extract_options o = {.flags = EXTRACT_QUIET};
        char *msg = NULL;
        int r = tb_extract(root, t, &o, &st, &msg);
        is_int(r, 0, "tar bomb of 100k empty files extracts (%s)", msg);
        free(msg);
        is_int(st.files, 100000, "100k files created");
        is_int(st.entries, 100000, "100k entries read");
        struct stat s;
        fstatat(root, "bomb/d99/f999", &s, 0);
        is_int(s.st_size, 0, "the last one exists and is empty");
        const struct extract_options capped = {.flags = EXTRACT_QUIET, .max_entries = 1000};
        fresh_root();
        r = tb_extract(root, t, &capped, NULL, &msg);
        is_str(r < 0 ? msg : "(success)", "the layer has more than 1000 entries",
               "the per-layer entry cap");
        free(msg);
        tb_free(t);
        canary_unchanged("tar bomb");

        t = tb_new("none");
        TB(t, .name = "dup", .content = "first");
        TB(t, .name = "dup", .content = "second");
        TB(t, .name = "dd/", .type = AE_IFDIR, .mode = 0700);
        TB(t, .name = "dd/in", .content = "in");
        TB(t, .name = "dd/", .type = AE_IFDIR, .mode = 0750);
        TB(t, .name = "x", .content = "file");
        TB(t, .name = "x/", .type = AE_IFDIR);
        TB(t, .name = "hl", .hardlink = "dup");
        TB(t, .name = "hl", .hardlink = "dup");
        run("duplicate entries", t, NULL, false, NULL);
        tree_is("d 0750 dd\nf 0644 dd/in 'in'\nf 0644 dup nlink=2 'second'\n"
                "f 0644 hl nlink=2 'second'\nd 0755 x\n",
                "the last duplicate wins");

        t = tb_new("none");
        TB(t, .name = "dev/sda", .type = AE_IFBLK, .major = 8, .minor = 0, .mode = 0660);
        TB(t, .name = "dev/zero", .type = AE_IFCHR, .major = 1, .minor = 5, .mode = 0666);
        run("device nodes", t, NULL, false, NULL);
        tree_is("d 0755 dev\nb 0660 dev/sda 8:0\nc 0666 dev/zero 1:5\n",
                "device nodes created inside the root");

        t = tb_new("none");
        TB(t, .name = "huge-ids", .content = "x", .uid = (int64_t) 1 << 40,
           .gid = (int64_t) 1 << 40);
        struct extract_stats st2 = {0};
        fresh_root();
        r = tb_extract(root, t, &o, &st2, NULL);
        is_int(r, 0, "uid/gid of 2^40 do not fail the layer");
        is_int(st2.skipped_owners, 1, "they are counted as owners not set");
        tb_free(t);

        /* ignored paths reached every which way */
        _cleanup_(ignore_list_freep) struct ignore_list *ign = ignore_list_new();
        struct lerr *err = NULL;
        ignore_list_add_defaults(ign, "/kaniko", true, &err);
        lerr_free(err);
        struct extract_options io = {.flags = EXTRACT_QUIET, .ignore = ign};
        fresh_root();
        mkdirat(root, "kaniko", 0755);
        t = tb_new("none");
        TB(t, .name = "kaniko", .content = "file over the kaniko dir");
        TB(t, .name = ".wh.kaniko");
        TB(t, .name = "x", .type = AE_IFLNK, .link = "../../kaniko");
        TB(t, .name = "x/exec", .content = "no");
        TB(t, .name = "y", .type = AE_IFLNK, .link = "/proc/self");
        TB(t, .name = "y/x", .content = "no");
        run("ignored paths", t, &io, true, NULL);
        tree_is("d 0755 kaniko\nl x -> ../../kaniko\nl y -> /proc/self\n",
                "nothing written under ignored paths");
}

int main(void)
{
        setlocale(LC_CTYPE, "C.UTF-8"); /* the tar writer needs it for the control chars */
        if (geteuid() != 0) {
                printf("1..0 # SKIP needs root\n");
                return 77;
        }
        base = tb_scratch("lading-test-hostile-XXXXXX");
        base_fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        root = -1;
        mkdirat(base_fd, "canary", 0755);
        int fd = openat(base_fd, "canary/sentinel", O_CREAT | O_WRONLY, 0644);
        (void) !write(fd, "sentinel", 8);
        close(fd);
        mkdirat(base_fd, "canary/sub", 0700);
        (void) !symlinkat("/etc/shadow", base_fd, "canary/sub/link");
        fresh_root();
        canary_before = outside_state();

        names();
        symlinks();
        hardlinks();
        bad_streams();
        bombs_and_dups();

        free(canary_before);
        close(root);
        int r = tap_done();
        if (r == 0) {
                (void) fs_rm_rf_at(AT_FDCWD, base);
        }
        close(base_fd);
        return r;
}
