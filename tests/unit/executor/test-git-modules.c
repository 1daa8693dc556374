/* SPDX-License-Identifier: Apache-2.0 */
/* .gitmodules parsing (git-config syntax: sections, quoting, escapes, continuations,
 * comments, the exact errors) and relative submodule URL resolution. */
#include "executor/git_modules.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "tap.h"

/* Parses text; on success *msg is "", else the error. */
static int parse(const char *text, struct git_modules *m, char *msg, size_t msg_len)
{
        struct lerr *err = NULL;
        int r = git_modules_parse(text, strlen(text), m, &err);
        msg[0] = '\0';
        if (err)
                snprintf(msg, msg_len, "%s", lerr_message(err));
        lerr_free(err);
        return r;
}

static void test_parse(void)
{
        struct git_modules m = {0};
        char msg[512];
        const char *text = "\xef\xbb\xbf# a comment\n"
                           "; another\n"
                           "[submodule \"lib/a\"]\n"
                           "\tpath = lib/a\n"
                           "\turl = ../a.git   # trailing comment\n"
                           "\tbranch = main\n"
                           "[core]\n"
                           "\tbare\n"
                           "[SubModule \"Q \\\"x\\\"\"] PATH = \"with  spaces/\" ; c\n"
                           "URL=\"https://h/x;y#z\"\r\n"
                           "[submodule.old]\n"
                           "  path = o\\\n"
                           "ld\n"
                           "  url = https://h/old.git\n"
                           "[submodule \"lib/a\"]\n"
                           "  url = ./b.git\n"
                           "[submodule \"esc\"]\n"
                           "  path = \"t\\tn\\nb\\\\q\\\"\"\n"
                           "  url\t=\t   a  b   \n"
                           "[submodule \"empty\"]\n"
                           "  url =\n";
        is_int(parse(text, &m, msg, sizeof(msg)), 0, "parse: a full file");
        is_str(msg, "", "parse: no error");
        if (!ok(m.n == 5, "parse: 5 submodules (%zu)", m.n))
                goto out;
        is_str(m.v[0].name, "lib/a", "parse: name");
        is_str(m.v[0].path, "lib/a", "parse: path");
        is_str(m.v[0].url, "./b.git", "parse: a section named twice merges, last url wins");
        is_str(m.v[1].name, "Q \"x\"", "parse: quoted subsection with escapes, case kept");
        is_str(m.v[1].path, "with  spaces", "parse: quoted value, key after the header, '/' cut");
        is_str(m.v[1].url, "https://h/x;y#z", "parse: quoted comment characters, CRLF");
        is_str(m.v[2].name, "old", "parse: [submodule.old]");
        is_str(m.v[2].path, "old", "parse: line continuation");
        is_str(m.v[2].url, "https://h/old.git", "parse: old form url");
        is_str(m.v[3].path, "t\tn\nb\\q\"", "parse: escapes");
        is_str(m.v[3].url, "a  b", "parse: inner blanks kept, outer dropped");
        is_str(m.v[4].path, NULL, "parse: no path");
        is_str(m.v[4].url, "", "parse: empty url");
        ok(git_modules_find(&m, "lib/a") == &m.v[0], "find: by path");
        ok(git_modules_find(&m, "with  spaces") == &m.v[1], "find: path without its '/'");
        ok(git_modules_find(&m, "lib") == NULL, "find: no prefix match");
        ok(git_modules_find(&m, "Lib/a") == NULL, "find: paths are case-sensitive");
out:
        git_modules_done(&m);

        is_int(parse("", &m, msg, sizeof(msg)), 0, "parse: empty file");
        is_int((int) m.n, 0, "parse: empty file has no submodules");
        git_modules_done(&m);
        is_int(parse("[submodule \"a\"]\n\tpath = x\n", &m, msg, sizeof(msg)), 0, "parse: no url");
        is_str(m.n == 1 ? m.v[0].url : "?", NULL, "parse: url unset");
        git_modules_done(&m);

        static const struct {
                const char *text, *want;
                int r;
        } bad[] = {
                {"path = x\n", "'.gitmodules' line 1: key outside a section", -EBADMSG},
                {"[submodule \"a\"]\n\n[oops\n", "'.gitmodules' line 3: invalid section header",
                 -EBADMSG},
                {"[]\n", "'.gitmodules' line 1: invalid section header", -EBADMSG},
                {"[submodule \"a]\n", "'.gitmodules' line 1: invalid section header", -EBADMSG},
                {"[submodule a]\n", "'.gitmodules' line 1: invalid section header", -EBADMSG},
                {"[sub.x \"a\"]\n", "'.gitmodules' line 1: invalid section header", -EBADMSG},
                {"[s]\n1key = v\n", "'.gitmodules' line 2: invalid key", -EBADMSG},
                {"[s]\nke_y = v\n", "'.gitmodules' line 2: invalid key", -EBADMSG},
                {"[s]\nkey = \"v\n", "'.gitmodules' line 2: unterminated quoted string", -EBADMSG},
                {"[s]\nkey = \\q\n", "'.gitmodules' line 2: invalid escape sequence", -EBADMSG},
                {"[s]\na = b\\\nc\nkey = \\q\n", "'.gitmodules' line 4: invalid escape sequence",
                 -EBADMSG},
                {"[submodule \"a\"]\n  path\n", "'.gitmodules' line 2: missing value for path",
                 -EBADMSG},
                {"[submodule \"a\"]\n  url ; c\n", "'.gitmodules' line 2: missing value for url",
                 -EBADMSG},
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                is_int(parse(bad[i].text, &m, msg, sizeof(msg)), bad[i].r, "bad %zu: result", i);
                is_str(msg, bad[i].want, "bad %zu: message", i);
                is_int((int) m.n, 0, "bad %zu: nothing returned", i);
        }

        struct lerr *err = NULL;
        is_int(git_modules_parse("[s]\nk = v\0x\n", 11, &m, &err), -EBADMSG, "NUL byte");
        is_str(err ? lerr_message(err) : NULL, "'.gitmodules' line 2: NUL byte",
               "NUL byte message");
        lerr_free(TAKE_PTR(err));
        size_t big = GIT_MODULES_MAX_BYTES + 1;
        char *huge = malloc(big);
        memset(huge, '\n', big);
        is_int(git_modules_parse(huge, big, &m, &err), -E2BIG, "over 1 MiB");
        is_str(err ? lerr_message(err) : NULL, "'.gitmodules' is over 1048576 bytes",
               "over 1 MiB message");
        lerr_free(TAKE_PTR(err));
        free(huge);
}

static void resolve(const char *super, const char *url, int want_r, const char *want)
{
        struct lerr *err = NULL;
        char *got = NULL;
        int r = git_modules_resolve_url(super, url, &got, &err);
        is_int(r, want_r, "resolve '%s' against '%s'", url, super);
        is_str(r < 0 ? (err ? lerr_message(err) : NULL) : got, want, "resolved '%s'", url);
        free(got);
        lerr_free(err);
}

static void test_resolve(void)
{
        resolve("https://h/org/super.git", "../sub.git", 0, "https://h/org/sub.git");
        resolve("https://h/org/super.git", "./sub", 0, "https://h/org/super.git/sub");
        resolve("https://h/org/super.git/", "../sub", 0, "https://h/org/sub");
        resolve("https://h/org/super.git//", "../../other/x.git", 0, "https://h/other/x.git");
        resolve("https://h/org/super", "./../sub.git", 0, "https://h/org/sub.git");
        resolve("https://u:p@h:8443/a/b/c", "../../../d", 0, "https://u:p@h:8443/d");
        resolve("http://127.0.0.1:9/auth/super.git", "../sub.git", 0,
                "http://127.0.0.1:9/auth/sub.git");
        resolve("https://h/org/super.git", "..//x/", 0, "https://h/org/x/");
        resolve("https://h/a", "../../x", -EINVAL,
                "URL '../../x': too many '../' for the superproject's URL");
        resolve("https://h", "../x", -EINVAL,
                "URL '../x': too many '../' for the superproject's URL");
        resolve("https://h/a", "https://other/x.git", 0, "https://other/x.git");
        resolve("https://h/a", "http://other/x", 0, "http://other/x");
        static const char *const refused[] = {"git@github.com:o/r.git",
                                              "ssh://h/r.git",
                                              "git://h/r.git",
                                              "file:///srv/r.git",
                                              "/srv/r.git",
                                              "sub",
                                              "https:///x",
                                              ".../x"};
        for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
                char want[256];
                snprintf(want, sizeof(want), "URL '%s': only http(s) submodules are supported",
                         refused[i]);
                resolve("https://h/a", refused[i], -ENOTSUP, want);
        }
        resolve("file:///srv/super", "../x", -ENOTSUP,
                "URL '../x' relative to a superproject that is not http(s): only http(s) "
                "submodules are supported");
        resolve("https://user:secret@h/a", "../../x", -EINVAL,
                "URL '../../x': too many '../' for the superproject's URL");
}

int main(void)
{
        test_parse();
        test_resolve();
        return tap_done();
}
