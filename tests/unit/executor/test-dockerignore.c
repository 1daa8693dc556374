/* SPDX-License-Identifier: Apache-2.0 */
/* .dockerignore: reading, cleaning, every pattern form, exceptions and their order, the
 * directory-pruning answer, the per-Dockerfile file, and the limits, as Docker documents them. */
#include "executor/dockerignore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/strv.h"
#include "tap.h"

struct match_case {
        const char *file; /* the .dockerignore text */
        const char *path;
        bool excluded;
};

static const struct match_case cases[] = {
        /* plain names are anchored at the root and cover everything below */
        {"foo", "foo", true},
        {"foo", "foo/bar/baz", true},
        {"foo", "foobar", false},
        {"foo", "a/foo", false},
        {"FOO", "foo", false},
        {"build/", "build", true},
        {"build/", "build/out.o", true},
        {"/abs/path", "abs/path/x", true},
        {"./dir//sub/", "dir/sub", true},
        {"a/../b", "b", true},
        {"a/../b", "a", false},
        /* * and ? do not cross '/' */
        {"*.go", "main.go", true},
        {"*.go", "src/main.go", false},
        {"*.go", "x.go/inner.txt", true},
        {"*/temp*", "somedir/temporary.txt", true},
        {"*/temp*", "somedir/temp", true},
        {"*/temp*", "temp", false},
        {"*/temp*", "a/b/temp", false},
        {"*/*/temp*", "somedir/subdir/temporary.txt", true},
        {"*/*/temp*", "somedir/temporary.txt", false},
        {"temp?", "tempa", true},
        {"temp?", "temp", false},
        {"temp?", "tempab", false},
        {"temp?", "temp/", false},
        {"x?", "x\xc3\xa9", true},
        {"?", "\xc3\xa9", true},
        /* classes and escapes */
        {"[abc].txt", "a.txt", true},
        {"[abc].txt", "d.txt", false},
        {"[^a].txt", "b.txt", true},
        {"[^a].txt", "a.txt", false},
        {"[a-c]x", "bx", true},
        {"[a-c]x", "dx", false},
        {"\\*.txt", "*.txt", true},
        {"\\*.txt", "a.txt", false},
        {"file]", "file]", true},
        /* ** */
        {"**/*.go", "main.go", true},
        {"**/*.go", "src/main.go", true},
        {"**/*.go", "a/b/c.go", true},
        {"**/*.go", "a/b/c.goo", false},
        {"**", "anything/at/all", true},
        {"**/node_modules", "node_modules", true},
        {"**/node_modules", "web/node_modules/react/index.js", true},
        {"**/node_modules", "web/my_node_modules", false},
        {"src/**", "src/a/b", true},
        {"src/**", "src", false},
        {"a/**/b", "a/b", true},
        {"a/**/b", "a/x/y/b", true},
        {"a/**/b", "ab", false},
        {"a/**/b", "a/xb", false},
        {"**foo", "xfoo", true},
        {"**foo", "a/bfoo", true},
        {"a**", "ab/c", true},
        {"a**", "a", true},
        {"a**", "b", false},
        {"**/a/**/b", "x/a/y/z/b/c", true},
        {"a/**/*.md", "a/README.md", true},
        {"a/**/*.md", "b/README.md", false},
        /* exceptions: the last match wins */
        {"*.md\n!README.md", "README.md", false},
        {"*.md\n!README.md", "CHANGES.md", true},
        {"*.md\n!README*.md\nREADME-secret.md", "README-secret.md", true},
        {"*.md\n!README*.md\nREADME-secret.md", "README-public.md", false},
        {"*.md\nREADME-secret.md\n!README*.md", "README-secret.md", false},
        {"docs\n!docs/keep.md", "docs/keep.md", false},
        {"docs\n!docs/keep.md", "docs/other.md", true},
        {"docs\n!docs/keep", "docs/keep/deep/file", false},
        {"!docs/keep.md\ndocs", "docs/keep.md", true},
        {"**\n!src\n!Dockerfile", "src/main.c", false},
        {"**\n!src\n!Dockerfile", "Dockerfile", false},
        {"**\n!src\n!Dockerfile", "README", true},
        {"!keep\nkeep", "keep", true},
        /* comments, blanks, white space */
        {"# a comment\n\n   \nfoo", "foo", true},
        {"# foo", "# foo", false},
        {" #foo", "#foo", true},
        {"  spaced  \t", "spaced", true},
        {"\xef\xbb\xbf"
         "bom",
         "bom", true},
        {"crlf\r\nother\r\n", "crlf", true},
        {"crlf\r\nother\r\n", "other", true},
        {"!  spaced", "spaced", false},
        /* paths to match are cleaned; the root is never excluded */
        {"a/b", "./a/b", true},
        {"a/b", "/a//b/", true},
        {"**", ".", false},
        {"**", "", false},
        {"*", "x", true},
        {"", "x", false},
};

/* A one-line rendering of a file for TAP test names. */
static char *one_line(const char *s)
{
        struct buf b = BUF_INIT(SIZE_MAX);
        for (; *s; s++) {
                int r = *s == '\n'   ? buf_append_str(&b, "\\n")
                        : *s == '\r' ? buf_append_str(&b, "\\r")
                                     : buf_append_char(&b, *s);
                if (r < 0)
                        abort();
        }
        return buf_steal(&b);
}

static void test_matches(void)
{
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                struct dockerignore *di = NULL;
                struct lerr *err = NULL;
                const struct match_case *c = &cases[i];
                if (dockerignore_parse(c->file, strlen(c->file), ".dockerignore", &di, &err) < 0) {
                        ok(false, "parse %zu: %s", i, lerr_message(err));
                        lerr_free(err);
                        continue;
                }
                _cleanup_free_ char *f = one_line(c->file);
                is_int(dockerignore_match(di, c->path), c->excluded, "%zu: '%s' %s '%s'", i, f,
                       c->excluded ? "excludes" : "keeps", c->path);
                dockerignore_free(di);
        }
}

static void test_patterns(void)
{
        const char *file = "# c\n/root\n!./a/./b/\n  x/../y  \n!  /z\n**/\n";
        struct dockerignore *di = NULL;
        is_int(dockerignore_parse(file, strlen(file), ".dockerignore", &di, NULL), 0, "parse");
        is_int(dockerignore_count(di), 5, "five patterns");
        is_str(dockerignore_pattern(di, 0), "root", "leading / dropped");
        is_str(dockerignore_pattern(di, 1), "!a/b", "exception cleaned");
        is_str(dockerignore_pattern(di, 2), "y", "cleaned with ..");
        is_str(dockerignore_pattern(di, 3), "!z", "exception with blanks and /");
        is_str(dockerignore_pattern(di, 4), "**", "trailing / dropped");
        ok(dockerignore_pattern(di, 5) == NULL, "no sixth pattern");
        ok(dockerignore_has_exceptions(di), "has exceptions");
        dockerignore_free(di);

        static const struct {
                const char *file, *msg;
        } bad[] = {
                {"ok\n!\n", ".dockerignore:2: illegal exclusion pattern: \"!\""},
                {"[abc", ".dockerignore:1: syntax error in pattern '[abc'"},
                {"x\nfoo\\", ".dockerignore:2: syntax error in pattern 'foo\\'"},
                {"[]a]", ".dockerignore:1: syntax error in pattern '[]a]'"},
                {"[a-]", ".dockerignore:1: syntax error in pattern '[a-]'"},
                {"[-a]", ".dockerignore:1: syntax error in pattern '[-a]'"},
                {"a\0b", ".dockerignore:1: holds a NUL byte"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                struct lerr *err = NULL;
                di = NULL;
                size_t len = strlen(bad[i].file) + (strstr(bad[i].msg, "NUL") ? 2 : 0);
                is_int(dockerignore_parse(bad[i].file, len, ".dockerignore", &di, &err), -EINVAL,
                       "bad pattern %zu refused", i);
                is_str(lerr_message(err), bad[i].msg, "bad pattern %zu message", i);
                lerr_free(err);
                dockerignore_free(di);
        }

        char *excl[] = {"*.md", " ", "!keep.md", NULL};
        is_int(dockerignore_from_patterns(excl, &di, NULL), 0, "--exclude patterns");
        is_int(dockerignore_count(di), 2, "blank pattern skipped");
        ok(dockerignore_match(di, "a.md") && !dockerignore_match(di, "keep.md"),
           "--exclude with an exception");
        dockerignore_free(di);
}

struct below_case {
        const char *file, *dir;
        bool may;
};

static void test_may_include_below(void)
{
        static const struct below_case b[] = {
                {"docs", "docs", false},
                {"docs\n!docs/keep.md", "docs", true},
                {"!docs/keep.md\ndocs", "docs", false},
                {"docs\n!other/keep.md", "docs", false},
                {"docs\n!docs", "docs", true},
                {"docs\n!**/keep", "docs", true},
                {"docs\n!*/keep", "docs", true},
                {"docs\n!*/*/keep", "docs", true},
                {"docs\n!x*/keep", "docs", false},
                {"docs\n!d?cs/[a-z]*", "docs", true},
                {"docs\n!d[!]cs/x", "docs", false},
                {"docs\n!docs/a**", "docs", true},
                {"docs\n!doc**", "docs", true},
                {"docs\n!do/x**", "docs", false},
                {"a/b\n!a/b/c/d", "a/b", true},
                {"a\n!a/b/c", "a/b", true},
                {"a\n!a/x/c", "a/b", false},
                {"*\n!*/keep", "x", true},
                {"node_modules\n!node_modules/**/package.json", "node_modules", true},
                {"tmp", "other", true},
                {"", "x", true},
        };
        for (size_t i = 0; i < ARRAY_SIZE(b); i++) {
                struct dockerignore *di = NULL;
                struct lerr *err = NULL;
                if (dockerignore_parse(b[i].file, strlen(b[i].file), "x", &di, &err) < 0) {
                        ok(false, "parse below %zu: %s", i, lerr_message(err));
                        lerr_free(err);
                        continue;
                }
                _cleanup_free_ char *f = one_line(b[i].file);
                is_int(dockerignore_may_include_below(di, b[i].dir), b[i].may,
                       "below %zu: '%s' under '%s'", i, f, b[i].dir);
                dockerignore_free(di);
        }
}

static void write_file(int dfd, const char *path, const char *text)
{
        int r = fs_write_file_at(dfd, path, text, strlen(text), 0644);
        if (r < 0)
                diag("write %s: %s", path, strerror(-r));
}

static void test_load(void)
{
        char dir[] = "/tmp/lading-ignore-XXXXXX";
        if (!ok(mkdtemp(dir) != NULL, "temp dir"))
                return;
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct dockerignore *di = NULL;
        char *used = (char *) "unset";
        struct lerr *err = NULL;

        is_int(dockerignore_load(dfd, NULL, &di, &used, &err), 0, "no ignore file");
        ok(used == NULL && dockerignore_count(di) == 0, "empty matcher");
        dockerignore_free(di);

        write_file(dfd, ".dockerignore", "*.log\n");
        _cleanup_free_ char *dfpath = xasprintf("%s/app.Dockerfile", dir);
        is_int(dockerignore_load(dfd, dfpath, &di, &used, &err), 0, "context .dockerignore");
        is_str(used, ".dockerignore", "context file used");
        ok(dockerignore_match(di, "x.log"), "context patterns apply");
        free(used);
        dockerignore_free(di);

        write_file(dfd, "app.Dockerfile.dockerignore", "*.tmp\n");
        is_int(dockerignore_load(dfd, dfpath, &di, &used, &err), 0, "per-Dockerfile file");
        _cleanup_free_ char *want = xasprintf("%s.dockerignore", dfpath);
        is_str(used, want, "NAME.dockerignore takes precedence");
        ok(dockerignore_match(di, "x.tmp") && !dockerignore_match(di, "x.log"),
           "only its patterns apply");
        free(used);
        dockerignore_free(di);

        write_file(dfd, ".dockerignore", "ok\n[bad\n");
        is_int(dockerignore_load(dfd, NULL, &di, NULL, &err), -EINVAL, "bad file");
        is_str(lerr_message(err), ".dockerignore:2: syntax error in pattern '[bad'",
               "bad file message");
        lerr_free(err);
        err = NULL;

        char *big = xmalloc(DOCKERIGNORE_MAX_BYTES + 2);
        memset(big, 'a', DOCKERIGNORE_MAX_BYTES + 1);
        big[DOCKERIGNORE_MAX_BYTES + 1] = '\0';
        write_file(dfd, ".dockerignore", big);
        free(big);
        is_int(dockerignore_load(dfd, NULL, &di, NULL, &err), -E2BIG, "over the size limit");
        is_str(lerr_message(err), "read '.dockerignore': over the limit of 1048576 bytes",
               "size limit message");
        lerr_free(err);
        err = NULL;

        /* too many patterns */
        struct buf b = BUF_INIT(SIZE_MAX);
        for (int i = 0; i <= DOCKERIGNORE_MAX_PATTERNS; i++)
                if (buf_printf(&b, "%x\n", i) < 0)
                        abort();
        is_int(dockerignore_parse(b.data, b.len, "f", &di, &err), -E2BIG, "too many patterns");
        is_str(lerr_message(err), "f:65537: more than 65536 patterns", "pattern count message");
        lerr_free(err);
        buf_done(&b);

        (void) unlinkat(dfd, ".dockerignore", 0);
        (void) unlinkat(dfd, "app.Dockerfile.dockerignore", 0);
        close(dfd);
        (void) rmdir(dir);
}

int main(void)
{
        test_matches();
        test_patterns();
        test_may_include_below();
        test_load();
        return tap_done();
}
