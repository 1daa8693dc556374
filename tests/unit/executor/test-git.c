/* SPDX-License-Identifier: Apache-2.0 */
/* The git client's parsers: pkt-lines, the fetch response, deltas, packfiles made by
 * `git pack-objects` at test time, checkout (including hostile trees) and source URLs. */
#include "executor/git_checkout.h"
#include "executor/git_fetch.h"
#include "executor/git_pack.h"
#include "executor/git_pkt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/fs.h"
#include "tap.h"

static char tmpdir[] = "/tmp/test-git-XXXXXX";

__attribute__((format(printf, 1, 2))) static int sh(const char *fmt, ...)
{
        char cmd[4096];
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(cmd, sizeof(cmd), fmt, ap);
        va_end(ap);
        return system(cmd);
}

/* The first line of a command's output. */
__attribute__((format(printf, 2, 3))) static void sh_out(char *out, const char *fmt, ...)
{
        char cmd[4096];
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(cmd, sizeof(cmd), fmt, ap);
        va_end(ap);
        out[0] = '\0';
        FILE *f = popen(cmd, "r");
        if (!f)
                return;
        if (!fgets(out, 256, f))
                out[0] = '\0';
        out[strcspn(out, "\n")] = '\0';
        (void) pclose(f);
}

static void test_pkt(void)
{
        enum git_pkt_kind k;
        const char *d;
        size_t n;

        is_int(git_pkt_parse("0009hello", 9, &k, &d, &n), 9, "pkt: data packet length");
        ok(k == GIT_PKT_DATA && n == 5 && memcmp(d, "hello", 5) == 0, "pkt: data packet payload");
        is_int(git_pkt_parse("0000", 4, &k, &d, &n), 4, "pkt: flush");
        is_int(k, GIT_PKT_FLUSH, "pkt: flush kind");
        is_int(git_pkt_parse("0001", 4, &k, &d, &n), 4, "pkt: delim");
        is_int(k, GIT_PKT_DELIM, "pkt: delim kind");
        is_int(git_pkt_parse("0002", 4, &k, &d, &n), 4, "pkt: response end");
        is_int(k, GIT_PKT_RESPONSE_END, "pkt: response-end kind");
        is_int(git_pkt_parse("0003", 4, &k, &d, &n), -EPROTO, "pkt: 0003 is invalid");
        is_int(git_pkt_parse("00zz", 4, &k, &d, &n), -EPROTO, "pkt: non-hex length");
        is_int(git_pkt_parse("fff1", 4, &k, &d, &n), -EPROTO, "pkt: over 65520");
        is_int(git_pkt_parse("000", 3, &k, &d, &n), 0, "pkt: partial length");
        is_int(git_pkt_parse("000ahel", 7, &k, &d, &n), 0, "pkt: partial payload");
        is_int(git_pkt_parse("0004", 4, &k, &d, &n), 4, "pkt: empty data packet");
        is_int(n, 0, "pkt: empty data packet length");

        struct buf b = BUF_INIT(1 << 20);
        is_int(git_pkt_printf(&b, "want %s\n", "abc"), 0, "pkt: printf");
        is_int(git_pkt_special(&b, GIT_PKT_DELIM), 0, "pkt: delim written");
        is_int(git_pkt_special(&b, GIT_PKT_FLUSH), 0, "pkt: flush written");
        is_str(b.data, "000dwant abc\n00010000", "pkt: framing");
        buf_done(&b);
}

struct sink {
        struct buf b;
        int fail;
};

static int on_sink(void *userdata, const void *p, size_t n)
{
        struct sink *s = userdata;
        if (s->fail)
                return -s->fail;
        return buf_append(&s->b, p, n);
}

/* Feeds resp byte by byte (the worst split) or whole; returns feed's or finish's result and
 * the message. */
static int run_resp(const char *resp, size_t len, bool bytewise, struct sink *s, char *msg)
{
        struct lerr *err = NULL;
        struct git_fetch_resp *r = git_fetch_resp_new(on_sink, s);
        int k = 0;
        msg[0] = '\0';
        if (bytewise)
                for (size_t i = 0; i < len && k >= 0; i++)
                        k = git_fetch_resp_feed(r, resp + i, 1, &err);
        else
                k = git_fetch_resp_feed(r, resp, len, &err);
        if (k >= 0)
                k = git_fetch_resp_finish(r, &err);
        if (err) {
                snprintf(msg, 512, "%s", lerr_message(err));
                lerr_free(err);
        }
        git_fetch_resp_free(r);
        return k;
}

static void test_fetch_resp(void)
{
        static const char ok_resp[] = "0011shallow-info\n"
                                      "0035shallow 0123456789012345678901234567890123456789\n"
                                      "0001"
                                      "000dpackfile\n"
                                      "0009\001PACK"
                                      "000a\002hello"
                                      "0008\001abc"
                                      "0000";
        char msg[512];
        for (int bytewise = 0; bytewise < 2; bytewise++) {
                struct sink s = {.b = BUF_INIT(1 << 20)};
                is_int(run_resp(ok_resp, sizeof(ok_resp) - 1, bytewise, &s, msg), 0,
                       "fetch response parses (%s)", bytewise ? "bytewise" : "whole");
                is_str(s.b.data, "PACKabc", "fetch response: band 1 only reaches the sink");
                buf_done(&s.b);
        }
        static const char err_pkt[] = "0013ERR no such ref\n";
        struct sink s = {.b = BUF_INIT(1 << 20)};
        is_int(run_resp(err_pkt, sizeof(err_pkt) - 1, false, &s, msg), -EPROTO, "ERR packet");
        is_str(msg, "the server reported an error: no such ref", "ERR packet message");
        static const char band3[] = "000dpackfile\n000b\003broken0000";
        is_int(run_resp(band3, sizeof(band3) - 1, false, &s, msg), -EPROTO, "band 3");
        is_str(msg, "the server reported an error: broken", "band 3 message");
        static const char trunc[] = "000dpackfile\n0009\001PACK";
        is_int(run_resp(trunc, sizeof(trunc) - 1, false, &s, msg), -EPROTO, "truncated");
        is_str(msg, "fetch response: truncated (no complete packfile)", "truncated message");
        static const char bad[] = "000dpackfile\n0009\007PACK0000";
        is_int(run_resp(bad, sizeof(bad) - 1, false, &s, msg), -EPROTO, "unknown band");
        static const char nopack[] = "0011shallow-info\n0000";
        is_int(run_resp(nopack, sizeof(nopack) - 1, false, &s, msg), -EPROTO, "no packfile");
        is_str(msg, "fetch response ended without a packfile", "no packfile message");
        static const char after[] = "000dpackfile\n00000004";
        is_int(run_resp(after, sizeof(after) - 1, false, &s, msg), -EPROTO, "data after");
        s.fail = ENOSPC;
        is_int(run_resp(ok_resp, sizeof(ok_resp) - 1, false, &s, msg), -ENOSPC, "sink error");
        buf_done(&s.b);
}

static void delta_is(const char *base, const unsigned char *delta, size_t n, int want_r,
                     const char *want, const char *name)
{
        unsigned char *out = NULL;
        size_t len = 0;
        int r = git_delta_apply((const unsigned char *) base, strlen(base), delta, n, 1 << 20, &out,
                                &len);
        is_int(r, want_r, "delta %s: result", name);
        if (r == 0)
                ok(len == strlen(want) && memcmp(out, want, len) == 0, "delta %s: bytes", name);
        free(out);
}

static void test_delta(void)
{
        const char *base = "hello world";
        /* src 11, dst 11: copy 6 bytes at 0, insert "there" */
        static const unsigned char good[] = {11, 11, 0x90, 6, 5, 't', 'h', 'e', 'r', 'e'};
        delta_is(base, good, sizeof(good), 0, "hello there", "copy+insert");
        /* copy with offset byte: "world" at 6 */
        static const unsigned char off[] = {11, 5, 0x91, 6, 5};
        delta_is(base, off, sizeof(off), 0, "world", "copy with offset");
        static const unsigned char oob[] = {11, 6, 0x91, 8, 6};
        delta_is(base, oob, sizeof(oob), -EBADMSG, NULL, "copy past the base");
        static const unsigned char srclen[] = {12, 5, 0x91, 6, 5};
        delta_is(base, srclen, sizeof(srclen), -EBADMSG, NULL, "wrong base size");
        static const unsigned char short_dst[] = {11, 4, 0x91, 6, 5};
        delta_is(base, short_dst, sizeof(short_dst), -EBADMSG, NULL, "overflows the result");
        static const unsigned char long_dst[] = {11, 9, 0x91, 6, 5};
        delta_is(base, long_dst, sizeof(long_dst), -EBADMSG, NULL, "result too short");
        static const unsigned char op0[] = {11, 1, 0, 'x'};
        delta_is(base, op0, sizeof(op0), -EBADMSG, NULL, "reserved opcode 0");
        static const unsigned char trunc_insert[] = {11, 5, 5, 'a', 'b'};
        delta_is(base, trunc_insert, sizeof(trunc_insert), -EBADMSG, NULL, "truncated insert");
        static const unsigned char trunc_copy[] = {11, 5, 0x91, 6};
        delta_is(base, trunc_copy, sizeof(trunc_copy), -EBADMSG, NULL, "truncated copy");
        static const unsigned char trunc_varint[] = {0x8b};
        delta_is(base, trunc_varint, sizeof(trunc_varint), -EBADMSG, NULL, "truncated size");
        static const unsigned char huge[] = {11, 0x80, 0x80, 0x80, 0x80, 0x10};
        delta_is(base, huge, sizeof(huge), -E2BIG, NULL, "result over the limit");
        /* copy size 0 means 0x10000: past an 11-byte base */
        static const unsigned char zero_size[] = {11, 0x80, 0x80, 4, 0x80};
        delta_is(base, zero_size, sizeof(zero_size), -EBADMSG, NULL, "copy size 0x10000");
}

/* A copy of ofs.pack at path with one byte inverted (offset < 0: from the end). Inverted, not
 * overwritten with a fixed value, which would sometimes be the byte already there: the pack's
 * bytes change with the commits' timestamps. */
static void copy_flipped(const char *path, off_t offset)
{
        unsigned char byte = 0;
        struct stat st;

        is_int(sh("cp %s/ofs.pack %s", tmpdir, path), 0, "copy the pack");
        int fd = open(path, O_RDWR | O_CLOEXEC);
        if (offset < 0 && fd >= 0 && fstat(fd, &st) == 0)
                offset += st.st_size;
        ok(fd >= 0 && offset >= 0 && pread(fd, &byte, 1, offset) == 1, "read a byte of the pack");
        byte ^= 0xff;
        ok(fd >= 0 && pwrite(fd, &byte, 1, offset) == 1, "invert it");
        if (fd >= 0)
                close(fd);
}

static int open_pack(const char *path, struct git_pack **p, char *msg)
{
        struct lerr *err = NULL;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        int r = git_pack_open(fd, NULL, p, &err);
        msg[0] = '\0';
        if (err) {
                snprintf(msg, 512, "%s", lerr_message(err));
                lerr_free(err);
        }
        if (r < 0)
                close(fd);
        return r < 0 ? r : fd;
}

static void read_is(struct git_pack *p, const char *hex, enum git_obj_type type, const char *file,
                    const char *name)
{
        unsigned char id[GIT_OID_RAWSZ];
        unsigned char *data = NULL;
        size_t len = 0;
        enum git_obj_type t = GIT_OBJ_NONE;
        struct lerr *err = NULL;
        struct buf want = BUF_INIT(64 << 20);
        ok(git_oid_from_hex(hex, id) == 0, "%s: id '%s'", name, hex);
        int r = git_pack_read(p, id, GIT_OBJ_NONE, &t, &data, &len, &err);
        is_int(r, 0, "%s: read", name);
        if (err) {
                diag("%s", lerr_message(err));
                lerr_free(err);
        }
        is_int(t, type, "%s: type", name);
        if (fs_read_file_at(AT_FDCWD, file, &want) >= 0)
                ok(r == 0 && len == want.len && memcmp(data, want.data, len) == 0,
                   "%s: bytes as git cat-file gives them (%zu)", name, len);
        buf_done(&want);
        free(data);
}

static void test_pack(void)
{
        char repo[512], head[256], old_blob[256], new_blob[256], msg[512];
        snprintf(repo, sizeof(repo), "%s/repo", tmpdir);
        int r = sh("set -e; git init -q %s && cd %s && git config user.email t@t && "
                   "git config user.name t && "
                   "seq 1 20000 > big && echo one > a && mkdir -p d/e && echo two > d/e/f && "
                   "chmod 755 d/e/f && ln -s d/e/f link && git add -A && git commit -qm 1 && "
                   "seq 1 20001 > big && git add -A && git commit -qm 2",
                   repo, repo);
        if (!ok(r == 0, "create a repository with git")) {
                diag("git missing?");
                return;
        }
        sh_out(head, "git -C %s rev-parse HEAD", repo);
        sh_out(old_blob, "git -C %s rev-parse HEAD~1:big", repo);
        sh_out(new_blob, "git -C %s rev-parse HEAD:big", repo);
        /* ofs-delta and ref-delta packs of both commits; the second version of "big" is a
         * delta of the first (or the reverse) in both */
        r = sh("cd %s && git rev-list --objects --all | git pack-objects -q --stdout "
               "--delta-base-offset > ../ofs.pack && git rev-list --objects --all | "
               "git pack-objects -q --stdout > ../ref.pack && git cat-file blob HEAD~1:big > "
               "../old && git cat-file blob HEAD:big > ../new && git cat-file commit HEAD > "
               "../commit && git index-pack -o ../ofs.idx ../ofs.pack >/dev/null && git "
               "verify-pack -v ../ofs.idx | grep -c ' 1 [0-9a-f]*$' "
               "> ../deltas || true",
               repo);
        is_int(r, 0, "git pack-objects");
        is_int(sh("test $(cat %s/deltas) -ge 1", tmpdir), 0, "the pack holds a delta");
        const char *packs[] = {"ofs.pack", "ref.pack"};
        for (size_t i = 0; i < 2; i++) {
                char path[600], f[600];
                struct git_pack *p = NULL;
                snprintf(path, sizeof(path), "%s/%s", tmpdir, packs[i]);
                int fd = open_pack(path, &p, msg);
                if (!ok(fd >= 0, "%s opens", packs[i])) {
                        diag("%s", msg);
                        continue;
                }
                is_int(git_pack_count(p), 11, "%s: 2 commits, 5 trees, 4 blobs", packs[i]);
                snprintf(f, sizeof(f), "%s/old", tmpdir);
                read_is(p, old_blob, GIT_OBJ_BLOB, f, "old big");
                snprintf(f, sizeof(f), "%s/new", tmpdir);
                read_is(p, new_blob, GIT_OBJ_BLOB, f, "new big");
                snprintf(f, sizeof(f), "%s/commit", tmpdir);
                read_is(p, head, GIT_OBJ_COMMIT, f, "commit");

                char out[600];
                struct lerr *err = NULL;
                unsigned char id[GIT_OID_RAWSZ];
                (void) git_oid_from_hex(head, id);
                snprintf(out, sizeof(out), "%s/out-%zu", tmpdir, i);
                mkdir(out, 0755);
                int dfd = open(out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                r = git_checkout(p, id, dfd, 0, &err);
                is_int(r, 6, "%s: checkout writes 6 entries", packs[i]);
                if (err) {
                        diag("%s", lerr_message(err));
                        lerr_free(err);
                }
                close(dfd);
                is_int(sh("cd %s && test \"$(cat a)\" = one && test \"$(cat d/e/f)\" = two && "
                          "test \"$(stat -c %%a d/e/f)\" = 755 && test \"$(stat -c %%a a)\" = "
                          "644 && test \"$(readlink link)\" = d/e/f && test $(wc -l < big) = "
                          "20001 && test \"$(stat -c %%a d)\" = 755 && test ! -e .git",
                          out),
                       0, "%s: checked-out files, modes and symlink", packs[i]);
                git_pack_free(p);
                close(fd);
        }

        /* corruption: a byte in an object, the trailer, a truncation */
        char path[600];
        struct git_pack *p = NULL;
        snprintf(path, sizeof(path), "%s/bad.pack", tmpdir);
        copy_flipped(path, 40);
        is_int(open_pack(path, &p, msg), -EBADMSG, "corrupted object");
        ok(strstr(msg, "is malformed") != NULL || strstr(msg, "checksum") != NULL,
           "corrupted object message: %s", msg);
        copy_flipped(path, -1);
        is_int(open_pack(path, &p, msg), -EBADMSG, "corrupted trailer");
        is_str(msg, "packfile checksum does not match its contents", "trailer message");
        sh("cp %s/ofs.pack %s && truncate -s -30 %s", tmpdir, path, path);
        is_int(open_pack(path, &p, msg), -EBADMSG, "truncated pack");
        sh("printf 'PACK\\0\\0\\0\\2\\0\\0\\0\\1' > %s && head -c 20 /dev/zero >> %s", path, path);
        is_int(open_pack(path, &p, msg), -EBADMSG, "object count larger than the pack");
        sh("printf 'PACX\\0\\0\\0\\2\\0\\0\\0\\0' > %s && head -c 20 /dev/zero >> %s", path, path);
        is_int(open_pack(path, &p, msg), -EBADMSG, "bad signature");
        is_str(msg, "not a version 2 or 3 packfile", "bad signature message");
}

/* A commit whose tree holds one entry named name (made with --literally: git itself refuses
 * these), packed; checkout must refuse it. */
static void hostile_tree(const char *name, const char *mode, const char *want_msg)
{
        char repo[512], commit[256], msg[512];
        snprintf(repo, sizeof(repo), "%s/hostile", tmpdir);
        sh("rm -rf %s && git init -q %s", repo, repo);
        sh_out(commit,
               "cd %s && blob=$(echo evil | git hash-object -w --stdin) && "
               "if [ %s = 40000 ]; then blob=$(git hash-object -t tree -w --stdin </dev/null); "
               "fi && "
               "tree=$(printf '%s %s\\0' | cat - /dev/null > t && "
               "printf \"$blob\" | xxd -r -p >> t 2>/dev/null || "
               "python3 -c \"import sys,binascii; "
               "sys.stdout.buffer.write(binascii.unhexlify('$blob'))\" >> t; "
               "git hash-object -t tree -w --literally t) && "
               "git -c user.email=t@t -c user.name=t commit-tree -m x $tree",
               repo, mode, mode, name);
        if (!ok(strlen(commit) == 40, "hostile tree '%s' made", name))
                return;
        char path[600];
        snprintf(path, sizeof(path), "%s/hostile.pack", tmpdir);
        sh("cd %s && git rev-list --objects %s | git pack-objects -q --stdout > %s", repo, commit,
           path);
        struct git_pack *p = NULL;
        int fd = open_pack(path, &p, msg);
        if (!ok(fd >= 0, "hostile pack opens"))
                return;
        char out[600];
        snprintf(out, sizeof(out), "%s/hostile-out", tmpdir);
        sh("rm -rf %s && mkdir %s", out, out);
        int dfd = open(out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        unsigned char id[GIT_OID_RAWSZ];
        struct lerr *err = NULL;
        (void) git_oid_from_hex(commit, id);
        struct git_gitlinks links = {0};
        int r = git_checkout(p, id, dfd, &links, &err);
        git_gitlinks_done(&links);
        ok(r < 0, "checkout refuses '%s' (%s)", name, mode);
        is_str(err ? lerr_message(err) : NULL, want_msg, "message for '%s'", name);
        lerr_free(err);
        is_int(sh("test -z \"$(ls -A %s)\" && test ! -e %s/../evil", out, out), 0,
               "nothing written for '%s'", name);
        close(dfd);
        git_pack_free(p);
        close(fd);
}

/* Gitlinks (one at the top, one nested) are empty 0755 directories, reported with their
 * paths and commit ids, or only warned about. */
static void test_gitlinks(void)
{
        char repo[512], commit[256], msg[512], path[600], out[600];
        const char *a = "1111111111111111111111111111111111111111";
        const char *b = "2222222222222222222222222222222222222222";
        snprintf(repo, sizeof(repo), "%s/links", tmpdir);
        sh("rm -rf %s && git init -q %s && cd %s && echo x > f && git add f && "
           "git update-index --add --cacheinfo 160000,%s,top && "
           "git update-index --add --cacheinfo 160000,%s,d/e/nested",
           repo, repo, repo, a, b);
        sh_out(commit,
               "cd %s && git -c user.email=t@t -c user.name=t commit -qm x && "
               "git rev-parse HEAD",
               repo);
        snprintf(path, sizeof(path), "%s/links.pack", tmpdir);
        sh("cd %s && git rev-list --objects HEAD | git pack-objects -q --stdout > %s", repo, path);
        struct git_pack *p = NULL;
        int fd = open_pack(path, &p, msg);
        if (!ok(fd >= 0 && strlen(commit) == 40, "gitlinks: pack opens"))
                return;
        unsigned char id[GIT_OID_RAWSZ];
        (void) git_oid_from_hex(commit, id);
        for (int report = 0; report < 2; report++) {
                snprintf(out, sizeof(out), "%s/links-out", tmpdir);
                sh("rm -rf %s && mkdir %s", out, out);
                int dfd = open(out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                struct git_gitlinks links = {0};
                struct lerr *err = NULL;
                is_int(git_checkout(p, id, dfd, report ? &links : NULL, &err), 5,
                       "gitlinks: checkout (report %d)", report);
                is_int(sh("cd %s && test \"$(find . | sort | tr '\\n' ' ')\" = "
                          "'. ./d ./d/e ./d/e/nested ./f ./top ' && "
                          "test \"$(stat -c %%a top d/e/nested | tr '\\n' ' ')\" = '755 755 '",
                          out),
                       0, "gitlinks: empty 0755 directories (report %d)", report);
                is_int((int) links.n, report ? 2 : 0, "gitlinks: count (report %d)", report);
                if (links.n == 2) {
                        is_str(links.v[0].path, "d/e/nested", "gitlinks: nested path");
                        is_str(links.v[0].id, b, "gitlinks: nested commit");
                        is_str(links.v[1].path, "top", "gitlinks: top path");
                        is_str(links.v[1].id, a, "gitlinks: top commit");
                }
                git_gitlinks_done(&links);
                lerr_free(err);
                close(dfd);
        }
        git_pack_free(p);
        close(fd);
}

static void test_sources(void)
{
        struct git_source s = {0};
        struct lerr *err = NULL;
        is_int(git_source_from_context("git://github.com/org/repo.git#refs/heads/main", false, &s,
                                       &err),
               0, "context with a ref");
        is_str(s.url, "https://github.com/org/repo.git", "context url");
        is_str(s.ref, "refs/heads/main", "context ref");
        is_str(s.commit, NULL, "context commit");
        git_source_done(&s);
        is_int(git_source_from_context("git://h:8080/r#v1#0123456789abcdef0123456789abcdef01234567",
                                       true, &s, &err),
               0, "context with ref and commit");
        is_str(s.url, "http://h:8080/r", "plain http url");
        is_str(s.ref, "v1", "ref");
        is_str(s.commit, "0123456789abcdef0123456789abcdef01234567", "commit");
        git_source_done(&s);
        is_int(git_source_from_context("git://h/r#v1#nothex", false, &s, &err), -EINVAL,
               "bad commit");
        lerr_free(TAKE_PTR(err));
        is_int(git_source_from_context("git://", false, &s, &err), -EINVAL, "no host");
        lerr_free(TAKE_PTR(err));

        ok(git_is_add_source("https://github.com/moby/buildkit.git#v0.10.1"), "add: .git#ref");
        ok(git_is_add_source("https://h/r.git"), "add: .git");
        ok(git_is_add_source("git@github.com:o/r.git"), "add: scp-like");
        ok(!git_is_add_source("https://h/file.tar.gz"), "add: a file");
        ok(!git_is_add_source("https://h/x.github/y"), "add: .git inside a name");
        is_int(git_source_from_add("https://h/r.git#v2", &s, &err), 0, "add source");
        is_str(s.url, "https://h/r.git", "add url");
        is_str(s.ref, "v2", "add ref");
        git_source_done(&s);
        is_int(git_source_from_add("git@github.com:o/r.git", &s, &err), -ENOTSUP, "add ssh");
        is_str(lerr_message(err),
               "git source 'git@github.com:o/r.git': only https:// repositories are supported "
               "(no ssh or git:// protocol)",
               "add ssh message");
        lerr_free(TAKE_PTR(err));
        is_int(git_source_from_add("https://h/r.git#main:sub", &s, &err), -ENOTSUP, "add subdir");
        lerr_free(TAKE_PTR(err));
        char *red = git_url_redacted("https://user:secret@h/r.git");
        is_str(red, "https://h/r.git", "redacted url");
        free(red);

        char id[GIT_OID_HEXSZ + 1];
        struct git_source c = {.url = (char *) "https://h/r",
                               .ref = (char *) "0123456789ABCDEF0123456789abcdef01234567"};
        struct git_remote_opts o = {0};
        is_int(git_resolve(&c, &o, id, &err), 0, "a hex ref needs no server");
        is_str(id, "0123456789abcdef0123456789abcdef01234567", "hex ref lower-cased");
}

int main(void)
{
        if (!mkdtemp(tmpdir))
                return 1;
        test_pkt();
        test_fetch_resp();
        test_delta();
        test_sources();
        test_pack();
        hostile_tree("..", "40000", "unsafe entry name in tree '/'");
        hostile_tree(".git", "40000", "unsafe entry name in tree '/'");
        hostile_tree(".GIT", "100644", "unsafe entry name in tree '/'");
        test_gitlinks();
        hostile_tree("x", "100600", "check out 'x': unknown mode 100600");
        int r = tap_done();
        if (r == 0)
                sh("rm -rf %s", tmpdir);
        return r;
}
