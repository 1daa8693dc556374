/* SPDX-License-Identifier: Apache-2.0 */
/* The cache keys: framing (no two field sequences collide), what each key holds and what it
 * leaves out, the canonical instruction text, and the digests of copied files in a scratch
 * context under /tmp (owners need root: those checks skip otherwise). */
#include "executor/cache_key.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/strv.h"
#include "executor/build-internal.h"
#include "executor/copy.h"
#include "executor/dockerfile.h"
#include "executor/dockerignore.h"
#include "executor/expand.h"
#include "executor/instructions.h"
#include "tap.h"

typedef char digest_t[DIGEST_STRING_SIZE];

/* ---- framing ---- */

static void two_strs(const char *a, const char *b, digest_t out)
{
        struct cache_hash h;
        cache_hash_init(&h, "test");
        cache_hash_str(&h, 's', a);
        cache_hash_str(&h, 's', b);
        cache_hash_final(&h, out);
}

static void test_framing(void)
{
        digest_t x, y;
        two_strs("ab", "c", x);
        two_strs("a", "bc", y);
        ok(strcmp(x, y) != 0, "'ab'+'c' and 'a'+'bc' differ");
        two_strs("", "x", x);
        two_strs(NULL, "x", y);
        ok(strcmp(x, y) != 0, "an empty string and an absent one differ");
        two_strs("a", "b", x);
        two_strs("a", "b", y);
        is_str(x, y, "the same fields give the same digest");

        struct cache_hash h;
        cache_hash_init(&h, "test");
        cache_hash_strv(&h, 'v', (char *[]){"a", "b", NULL});
        cache_hash_final(&h, x);
        cache_hash_init(&h, "test");
        cache_hash_strv(&h, 'v', (char *[]){"ab", NULL});
        cache_hash_final(&h, y);
        ok(strcmp(x, y) != 0, "list [a b] and [ab] differ");
        cache_hash_init(&h, "test");
        cache_hash_strv(&h, 'v', (char *[]){"a", NULL});
        cache_hash_str(&h, 'v', "b");
        cache_hash_final(&h, y);
        ok(strcmp(x, y) != 0, "list [a] then b and list [a b] differ (counts are framed)");
        cache_hash_init(&h, "test");
        cache_hash_strv(&h, 'v', NULL);
        cache_hash_final(&h, x);
        cache_hash_init(&h, "test");
        cache_hash_strv(&h, 'v', (char *[]){NULL});
        cache_hash_final(&h, y);
        ok(strcmp(x, y) != 0, "an absent list and an empty one differ");
        cache_hash_init(&h, "one");
        cache_hash_final(&h, x);
        cache_hash_init(&h, "two");
        cache_hash_final(&h, y);
        ok(strcmp(x, y) != 0, "domains separate keys");
        cache_hash_init(&h, "test");
        cache_hash_str(&h, 'a', "x");
        cache_hash_final(&h, x);
        cache_hash_init(&h, "test");
        cache_hash_str(&h, 'b', "x");
        cache_hash_final(&h, y);
        ok(strcmp(x, y) != 0, "tags separate fields");
}

/* ---- keys ---- */

static const struct cache_layer_format gzip_fmt = {.compression = "gzip"};

static void test_known_answer(void)
{
        /* computed independently from the README's definition (Python's hashlib) */
        digest_t root, step;
        cache_key_root_image(
                "sha256:abababababababababababababababababababababababababababababababab",
                &gzip_fmt, root);
        is_str(root, "sha256:e265460cceef5904e1dbb03145480dc8cc977d2b0afa751540061c3a430c41b5",
               "image root key: known answer");
        struct cache_step st = {
                .parent = root,
                .text = "RUN {\"argv\":[\"/bin/sh\",\"-c\",\"make\"]}",
                .env = (char *[]){"A=1", "PATH=/bin", NULL},
                .user = "",
                .workdir = "/app",
        };
        cache_key_step(&st, step);
        is_str(step, "sha256:30560eed822becc81dbbcee73ff452bc16fcd655336c3c53c670de703a5c944b",
               "step key: known answer");
}

static void test_step_fields(void)
{
        digest_t base, k, root;
        cache_key_root_image(
                "sha256:1111111111111111111111111111111111111111111111111111111111111111",
                &gzip_fmt, root);
        struct cache_step st = {
                .parent = root,
                .text = "RUN x",
                .env = (char *[]){"A=1", NULL},
                .user = "",
                .workdir = "/",
                .shell = NULL,
                .files = NULL,
        };
        cache_key_step(&st, base);
        struct cache_step c = st;
        c.parent = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
        cache_key_step(&c, k);
        ok(strcmp(base, k) != 0, "the parent key is in the key");
        c = st;
        c.text = "RUN y";
        cache_key_step(&c, k);
        ok(strcmp(base, k) != 0, "the text is in the key");
        c = st;
        c.env = (char *[]){"A=2", NULL};
        cache_key_step(&c, k);
        ok(strcmp(base, k) != 0, "the environment is in the key");
        c = st;
        c.user = "app";
        cache_key_step(&c, k);
        ok(strcmp(base, k) != 0, "USER is in the key");
        c = st;
        c.user = NULL;
        cache_key_step(&c, k);
        ok(strcmp(base, k) != 0, "a step without USER in its key differs from one with USER ''");
        c = st;
        c.workdir = "/app";
        cache_key_step(&c, k);
        ok(strcmp(base, k) != 0, "WORKDIR is in the key");
        c = st;
        c.shell = (char *[]){"/bin/bash", "-c", NULL};
        cache_key_step(&c, k);
        ok(strcmp(base, k) != 0, "SHELL is in the key");
        c = st;
        c.files = "sha256:3333333333333333333333333333333333333333333333333333333333333333";
        cache_key_step(&c, k);
        ok(strcmp(base, k) != 0, "the files digest is in the key");
        cache_key_step(&st, k);
        is_str(k, base, "the same inputs give the same key");

        digest_t a, b;
        cache_key_root_image(
                "sha256:1111111111111111111111111111111111111111111111111111111111111111",
                &(struct cache_layer_format){.compression = "zstd"}, a);
        ok(strcmp(root, a) != 0, "the layer compression is in the root");
        cache_key_root_image(
                "sha256:1111111111111111111111111111111111111111111111111111111111111111",
                &(struct cache_layer_format){.compression = "gzip", .reproducible = true}, b);
        ok(strcmp(root, b) != 0, "--reproducible is in the root");
        cache_key_root_scratch("linux/amd64", &gzip_fmt, a);
        cache_key_root_scratch("linux/arm64", &gzip_fmt, b);
        ok(strcmp(a, b) != 0, "scratch roots differ by platform");
}

static void test_run_env(void)
{
        char *run_env[] = {"PATH=/bin", "HTTP_PROXY=http://p", "http_proxy=http://p", "B=2",
                           "A=1",       "NO_PROXY=x",          "HTTPS_PROXY=s",       NULL};
        _cleanup_(strv_freep) char **e = cache_run_env(run_env, (char *[]){"A=1", "B=2", NULL},
                                                       (char *[]){"PATH=/bin", NULL});
        _cleanup_free_ char *j = strv_join(e, " ");
        is_str(j, "A=1 B=2 PATH=/bin", "proxy build args left out, the rest sorted");
        _cleanup_(strv_freep) char **e2 = cache_run_env(
                run_env, (char *[]){"HTTP_PROXY=http://p", NULL}, (char *[]){"NO_PROXY=x", NULL});
        _cleanup_free_ char *j2 = strv_join(e2, " ");
        is_str(j2, "A=1 B=2 HTTP_PROXY=http://p NO_PROXY=x PATH=/bin",
               "a proxy ARG declared by the stage or set by ENV stays");
}

/* ---- instruction text ---- */

static const char *lookup(void *ud, const char *name)
{
        (void) ud;
        if (streq(name, "SRC"))
                return "src";
        if (streq(name, "OWNER"))
                return "app";
        return NULL;
}

static char *text_of(const char *dockerfile, size_t i, const struct cache_text_ctx *ctx)
{
        _cleanup_(dockerfile_freep) struct dockerfile *df = NULL;
        struct lerr *err = NULL;
        struct expand_env env = {.lookup = lookup};
        char *text = NULL;
        if (dockerfile_parse(dockerfile, strlen(dockerfile), "Dockerfile", &df, &err) < 0) {
                diag("parse: %s", lerr_message(err));
                lerr_free(err);
                return NULL;
        }
        _cleanup_(df_inst_freep) struct df_inst *exp = NULL;
        if (df_inst_expand(df->stages[0].insts[i], &env, 0, &exp, &err) < 0 ||
            cache_inst_text(exp, ctx, &text, &err) < 0) {
                diag("text: %s", lerr_message(err));
                lerr_free(err);
                return NULL;
        }
        return text;
}

static void test_text(void)
{
        struct cache_text_ctx ctx = {.abs_dest = "/app/src/"};
        _cleanup_free_ char *copy =
                text_of("FROM x\nCOPY --chown=$OWNER ${SRC}/a.txt $SRC/\n", 0, &ctx);
        is_str(copy,
               "COPY {\"sources\":[\"src/a.txt\"],\"inline\":[],\"dest\":\"/app/src/\","
               "\"from\":null,\"chown\":\"app\",\"chmod\":null,\"checksum\":null,\"exclude\":[],"
               "\"link\":false,\"parents\":false,\"keep_git_dir\":-1,\"unpack\":-1}",
               "COPY: expanded sources, --chown, absolute destination");

        struct cache_text_ctx none = {0};
        _cleanup_free_ char *r1 = text_of(
                "FROM x\nRUN --mount=type=bind,source=a,target=/t --network=none echo  hi\n", 0,
                &none);
        _cleanup_free_ char *r2 =
                text_of("FROM x\nRUN --network=none --mount=target=/t,src=a,type=bind echo  hi\n",
                        0, &none);
        is_str(r1,
               "RUN {\"argv\":[\"/bin/sh\",\"-c\",\"echo  hi\"],\"script\":null,\"mounts\":[{"
               "\"type\":\"bind\",\"target\":\"/t\",\"source\":\"a\",\"from\":null,\"id\":null,"
               "\"env\":null,\"readonly\":true,\"required\":false,\"sharing\":null,\"mode\":null,"
               "\"uid\":null,\"gid\":null,\"size\":0}],\"network\":\"none\",\"security\":"
               "\"sandbox\",\"devices\":[]}",
               "RUN: argv through the shell, mount options, flags");
        is_str(r2, r1, "flag order and option aliases make no difference");

        struct cache_text_ctx bash = {.shell = (char *[]){"/bin/bash", "-ec", NULL}};
        _cleanup_free_ char *r3 = text_of("FROM x\nRUN echo hi\n", 0, &bash);
        is_str(r3,
               "RUN {\"argv\":[\"/bin/bash\",\"-ec\",\"echo hi\"],\"script\":null,\"mounts\":[],"
               "\"network\":\"default\",\"security\":\"sandbox\",\"devices\":[]}",
               "RUN: SHELL applied");
        _cleanup_free_ char *h1 = text_of("FROM x\nRUN <<EOF\necho one\nEOF\n", 0, &none);
        _cleanup_free_ char *h2 = text_of("FROM x\nRUN <<EOF\necho two\nEOF\n", 0, &none);
        ok(h1 && h2 && strcmp(h1, h2) != 0, "RUN heredoc bodies are in the text");
        _cleanup_free_ char *c1 = text_of("FROM x\nCOPY <<EOF /f\none\nEOF\n", 0, &none);
        _cleanup_free_ char *c2 = text_of("FROM x\nCOPY <<EOF /f\ntwo\nEOF\n", 0, &none);
        ok(c1 && c2 && strcmp(c1, c2) != 0, "COPY inline bodies are in the text");
        struct cache_text_ctx wd = {.abs_path = "/srv/app"};
        _cleanup_free_ char *w = text_of("FROM x\nWORKDIR app\n", 0, &wd);
        is_str(w, "WORKDIR {\"path\":\"/srv/app\"}", "WORKDIR: the absolute path");

        _cleanup_(dockerfile_freep) struct dockerfile *df = NULL;
        struct lerr *err = NULL;
        char *t = NULL;
        const char *text = "FROM x\nENV A=1\n";
        if (dockerfile_parse(text, strlen(text), "Dockerfile", &df, &err) >= 0) {
                is_int(cache_inst_text(df->stages[0].insts[0], &none, &t, &err), -EINVAL,
                       "ENV has no key of its own");
                is_str(lerr_message(err), "ENV has no cache key", "the error says so");
        }
        lerr_free(err);
        free(t);
}

/* ---- files ---- */

static char base[] = "/tmp/lading-test-cache-key-XXXXXX";
static int ctx_fd = -1;

static void write_file(const char *path, const char *content, mode_t mode)
{
        int fd = openat(ctx_fd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        if (fd < 0 || write(fd, content, strlen(content)) < 0)
                abort();
        (void) fchmod(fd, mode);
        close(fd);
}

struct filter_set {
        struct copy_filter f;
        struct dockerignore *ignore, *excludes;
};

static void filter_init(struct filter_set *fs, const char *ignore, char **excludes)
{
        struct lerr *err = NULL;
        memset(fs, 0, sizeof(*fs));
        if (ignore &&
            dockerignore_parse(ignore, strlen(ignore), ".dockerignore", &fs->ignore, &err) < 0)
                abort();
        if (excludes && dockerignore_from_patterns(excludes, &fs->excludes, &err) < 0)
                abort();
        fs->f.ignore = fs->ignore;
        fs->f.excludes = fs->excludes;
}

static void filter_done(struct filter_set *fs)
{
        dockerignore_free(fs->ignore);
        dockerignore_free(fs->excludes);
}

/* The files digest of COPY sources from the context, as cache.c makes it. */
static int sources(char **patterns, const char *ignore, char **excludes, bool preserve_owner,
                   digest_t out)
{
        struct filter_set fs;
        struct lerr *err = NULL;
        filter_init(&fs, ignore, excludes);
        struct copy_opts o = {.instruction = "COPY",
                              .preserve_owner = preserve_owner,
                              .filter = step_copy_filter,
                              .filter_userdata = &fs.f};
        struct cache_hash h;
        cache_hash_init(&h, "files");
        int r = cache_hash_sources(&h, ctx_fd, patterns, &o, &err);
        if (r < 0) {
                diag("%s", lerr_message(err));
                lerr_free(err);
                cache_hash_done(&h);
                filter_done(&fs);
                return r;
        }
        cache_hash_final(&h, out);
        filter_done(&fs);
        return 0;
}

static void all(digest_t out)
{
        if (sources((char *[]){".", NULL}, "*.log\nignored/\n", NULL, false, out) < 0)
                strcpy(out, "error");
}

static void test_files(void)
{
        if (!mkdtemp(base))
                abort();
        ctx_fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        write_file("a.txt", "A", 0644);
        write_file("b.txt", "B", 0644);
        mkdirat(ctx_fd, "dir", 0755);
        write_file("dir/c.txt", "C", 0600);
        write_file("debug.log", "log", 0644);
        mkdirat(ctx_fd, "ignored", 0755);
        write_file("ignored/x", "x", 0644);
        symlinkat("a.txt", ctx_fd, "link");

        digest_t d0, d;
        all(d0);
        all(d);
        is_str(d, d0, "the same tree gives the same digest");

        write_file("a.txt", "A2", 0644);
        all(d);
        ok(strcmp(d, d0) != 0, "a changed file changes the digest");
        write_file("a.txt", "A", 0644);
        all(d);
        is_str(d, d0, "and back");

        struct timespec ts[2] = {{12345, 0}, {12345, 0}};
        utimensat(ctx_fd, "a.txt", ts, 0);
        all(d);
        is_str(d, d0, "mtimes are not in the digest");

        fchmodat(ctx_fd, "a.txt", 0755, 0);
        all(d);
        ok(strcmp(d, d0) != 0, "a changed mode changes the digest");
        fchmodat(ctx_fd, "a.txt", 0644, 0);

        renameat(ctx_fd, "b.txt", ctx_fd, "b2.txt");
        all(d);
        ok(strcmp(d, d0) != 0, "a renamed file changes the digest");
        renameat(ctx_fd, "b2.txt", ctx_fd, "b.txt");
        all(d);
        is_str(d, d0, "and back");

        unlinkat(ctx_fd, "link", 0);
        symlinkat("b.txt", ctx_fd, "link");
        all(d);
        ok(strcmp(d, d0) != 0, "a symlink's target is in the digest");
        unlinkat(ctx_fd, "link", 0);
        symlinkat("a.txt", ctx_fd, "link");

        write_file("debug.log", "other log", 0644);
        write_file("ignored/x", "changed", 0644);
        write_file("ignored/new", "new", 0644);
        all(d);
        is_str(d, d0, "files left out by .dockerignore are not in the digest");

        digest_t ex0, ex1;
        sources((char *[]){".", NULL}, NULL, (char *[]){"*.txt", NULL}, false, ex0);
        write_file("a.txt", "A3", 0644);
        sources((char *[]){".", NULL}, NULL, (char *[]){"*.txt", NULL}, false, ex1);
        is_str(ex1, ex0, "files left out by --exclude are not in the digest");
        write_file("a.txt", "A", 0644);

        /* boundaries: a/bc and ab/c with the same content */
        write_file("dir/c.txt", "C", 0600);
        mkdirat(ctx_fd, "p", 0755);
        mkdirat(ctx_fd, "p/a", 0755);
        write_file("p/a/bc", "same", 0644);
        digest_t b1, b2;
        sources((char *[]){"p", NULL}, NULL, NULL, false, b1);
        unlinkat(ctx_fd, "p/a/bc", 0);
        unlinkat(ctx_fd, "p/a", AT_REMOVEDIR);
        mkdirat(ctx_fd, "p/ab", 0755);
        write_file("p/ab/c", "same", 0644);
        sources((char *[]){"p", NULL}, NULL, NULL, false, b2);
        ok(strcmp(b1, b2) != 0, "p/a/bc and p/ab/c differ");

        /* a hard link is not a copy */
        write_file("h1", "same", 0644);
        write_file("h2", "same", 0644);
        sources((char *[]){"h1", "h2", NULL}, NULL, NULL, false, b1);
        unlinkat(ctx_fd, "h2", 0);
        linkat(ctx_fd, "h1", ctx_fd, "h2", 0);
        sources((char *[]){"h1", "h2", NULL}, NULL, NULL, false, b2);
        ok(strcmp(b1, b2) != 0, "a hard link and a copy of the same bytes differ");

        /* wildcards: only what matches */
        sources((char *[]){"*.txt", NULL}, NULL, NULL, false, b1);
        write_file("other.md", "md", 0644);
        sources((char *[]){"*.txt", NULL}, NULL, NULL, false, b2);
        is_str(b2, b1, "a new file the pattern does not match changes nothing");
        write_file("c.txt", "new", 0644);
        sources((char *[]){"*.txt", NULL}, NULL, NULL, false, b2);
        ok(strcmp(b1, b2) != 0, "a new file the pattern matches changes the digest");

        /* the same file under two patterns is not the same as one pattern */
        sources((char *[]){"a.txt", NULL}, NULL, NULL, false, b1);
        sources((char *[]){"a.txt", "a.txt", NULL}, NULL, NULL, false, b2);
        ok(strcmp(b1, b2) != 0, "patterns are framed");

        /* an excluded directory with a file let back in */
        digest_t x1, x2;
        sources((char *[]){".", NULL}, "dir\n!dir/c.txt\n", NULL, false, x1);
        write_file("dir/other", "o", 0644);
        sources((char *[]){".", NULL}, "dir\n!dir/c.txt\n", NULL, false, x2);
        is_str(x2, x1, "what stays excluded below an excluded directory is not in the digest");
        write_file("dir/c.txt", "C2", 0600);
        sources((char *[]){".", NULL}, "dir\n!dir/c.txt\n", NULL, false, x2);
        ok(strcmp(x1, x2) != 0, "what an exception lets back in is");

        is_int(sources((char *[]){"missing.txt", NULL}, NULL, NULL, false, b1), -ENOENT,
               "a missing source is an error");
        is_int(sources((char *[]){"debug.log", NULL}, "*.log\n", NULL, false, b1), -ENOENT,
               "a source .dockerignore leaves out is not found");

        if (geteuid() == 0) {
                sources((char *[]){"a.txt", NULL}, NULL, NULL, false, b1);
                sources((char *[]){"a.txt", NULL}, NULL, NULL, true, x1);
                if (fchownat(ctx_fd, "a.txt", 1234, 1234, 0) < 0)
                        abort();
                sources((char *[]){"a.txt", NULL}, NULL, NULL, false, b2);
                is_str(b2, b1, "owners of context files are not in the digest");
                sources((char *[]){"a.txt", NULL}, NULL, NULL, true, x2);
                ok(strcmp(x1, x2) != 0, "owners are when the copy keeps them");
                int fd = openat(ctx_fd, "a.txt", O_RDONLY | O_CLOEXEC);
                if (fsetxattr(fd, "user.k", "v", 1, 0) == 0) {
                        sources((char *[]){"a.txt", NULL}, NULL, NULL, false, b1);
                        ok(strcmp(b1, b2) != 0, "xattrs are in the digest");
                } else
                        ok(true, "# SKIP no user xattrs on /tmp");
                close(fd);
        } else {
                ok(true, "# SKIP owners need root");
                ok(true, "# SKIP owners need root");
                ok(true, "# SKIP owners need root");
        }

        /* bind mount sources: the whole tree, unfiltered */
        struct cache_hash h;
        struct lerr *err = NULL;
        cache_hash_init(&h, "files");
        is_int(cache_hash_tree(&h, ctx_fd, "ignored", &err), 0, "hash a bind source");
        cache_hash_final(&h, b1);
        write_file("ignored/x", "again", 0644);
        cache_hash_init(&h, "files");
        is_int(cache_hash_tree(&h, ctx_fd, "./ignored/", &err), 0, "hash it again");
        cache_hash_final(&h, b2);
        ok(strcmp(b1, b2) != 0, "a bind source is hashed without .dockerignore");
        cache_hash_init(&h, "files");
        is_int(cache_hash_tree(&h, ctx_fd, "nope", &err), -ENOENT, "a missing bind source");
        cache_hash_done(&h);
        lerr_free(err);

        close(ctx_fd);
        int d0fd = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        fs_rm_rf_at(d0fd, base + 5);
        close(d0fd);
}

int main(void)
{
        test_framing();
        test_known_answer();
        test_step_fields();
        test_run_env();
        test_text();
        test_files();
        return tap_done();
}
