/* SPDX-License-Identifier: Apache-2.0 */
/* The frontend corpus: each directory under corpus/ is one case, NNN-name/ with
 *   Dockerfile             the input
 *   args                   optional, one setting per line: build-arg=K=V, target=NAME,
 *                          platform=OS/ARCH, build-platform=OS/ARCH, filename=NAME (the name
 *                          errors use; default "Dockerfile"); '#' starts a comment
 *   expected.json          for a valid input: the plan JSON, compared as a subset (every
 *                          field written here must be in the plan with this value; arrays
 *                          must have exactly these elements, in order)
 *   expected-error.txt     for an invalid input: the exact error message (one line)
 * One TAP line per case. CORPUS_DUMP=NAME prints the plan (or error) of the case NAME. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/strv.h"
#include "executor/dockerfile.h"
#include "executor/plan_json.h"
#include "executor/planner.h"
#include "tap.h"

struct settings {
        char **build_args;
        char *target, *platform, *build_platform, *filename;
};

static void settings_done(struct settings *s)
{
        strv_free(s->build_args);
        free(s->target);
        free(s->platform);
        free(s->build_platform);
        free(s->filename);
}

static int read_text_len(int dfd, const char *name, char **ret, size_t *ret_len)
{
        struct buf b = BUF_INIT(8u << 20);
        int r = fs_read_file_at(dfd, name, &b);
        if (r < 0) {
                buf_done(&b);
                return r;
        }
        if (ret_len)
                *ret_len = b.len;
        *ret = buf_steal(&b);
        return 0;
}

static int read_text(int dfd, const char *name, char **ret)
{
        return read_text_len(dfd, name, ret, NULL);
}

static int read_settings(int dfd, struct settings *s)
{
        _cleanup_free_ char *text = NULL;
        int r = read_text(dfd, "args", &text);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        for (char *line = text, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (!*line || *line == '#')
                        continue;
                const char *v;
                if ((v = startswith(line, "build-arg=")))
                        strv_push(&s->build_args, v);
                else if ((v = startswith(line, "target=")))
                        s->target = strdup(v);
                else if ((v = startswith(line, "platform=")))
                        s->platform = strdup(v);
                else if ((v = startswith(line, "build-platform=")))
                        s->build_platform = strdup(v);
                else if ((v = startswith(line, "filename=")))
                        s->filename = strdup(v);
                else {
                        diag("unknown setting '%s'", line);
                        return -EINVAL;
                }
        }
        return 0;
}

static void note(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct buf *b, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        if (buf_vprintf(b, fmt, ap) < 0)
                abort();
        va_end(ap);
}

/* Whether every field of want is in got with the same value; *where names the first
 * difference. */
static bool subset(const cJSON *want, const cJSON *got, struct buf *where)
{
        if (!got) {
                note(where, " (missing)");
                return false;
        }
        if (cJSON_IsObject(want)) {
                if (!cJSON_IsObject(got))
                        return note(where, " (not an object)"), false;
                for (const cJSON *c = want->child; c; c = c->next) {
                        size_t len = where->len;
                        note(where, ".%s", c->string);
                        if (!subset(c, cJSON_GetObjectItemCaseSensitive(got, c->string), where))
                                return false;
                        where->len = len;
                        where->data[len] = '\0';
                }
                return true;
        }
        if (cJSON_IsArray(want)) {
                if (!cJSON_IsArray(got) || cJSON_GetArraySize(want) != cJSON_GetArraySize(got))
                        return note(where, " (array of %d, got %d)", cJSON_GetArraySize(want),
                                    cJSON_IsArray(got) ? cJSON_GetArraySize(got) : -1),
                               false;
                int i = 0;
                for (const cJSON *c = want->child; c; c = c->next, i++) {
                        size_t len = where->len;
                        note(where, "[%d]", i);
                        if (!subset(c, cJSON_GetArrayItem(got, i), where))
                                return false;
                        where->len = len;
                        where->data[len] = '\0';
                }
                return true;
        }
        if (!cJSON_Compare(want, got, true)) {
                char *w = cJSON_PrintUnformatted(want), *g = cJSON_PrintUnformatted(got);
                note(where, ": want %s, got %s", w, g);
                cJSON_free(w);
                cJSON_free(g);
                return false;
        }
        return true;
}

static bool run_case(int cdir, const char *name)
{
        struct settings s = {0};
        _cleanup_free_ char *df_text = NULL, *want_json = NULL, *want_err = NULL, *got = NULL;
        _cleanup_(dockerfile_freep) struct dockerfile *df = NULL;
        _cleanup_(plan_freep) struct plan *plan = NULL;
        struct lerr *err = NULL;
        bool dump = getenv("CORPUS_DUMP") && streq(getenv("CORPUS_DUMP"), name);
        bool passed = false;
        size_t df_len = 0;
        int r;

        int dfd = openat(cdir, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || read_settings(dfd, &s) < 0 ||
            read_text_len(dfd, "Dockerfile", &df_text, &df_len) < 0) {
                ok(false, "%s: read the case", name);
                goto out;
        }
        if (read_text(dfd, "expected.json", &want_json) < 0 &&
            read_text(dfd, "expected-error.txt", &want_err) < 0) {
                ok(false, "%s: no expected.json or expected-error.txt", name);
                goto out;
        }
        r = dockerfile_parse(df_text, df_len, s.filename ? s.filename : "Dockerfile", &df, &err);
        if (r >= 0) {
                struct plan_params params = {
                        .build_args = s.build_args,
                        .target = s.target,
                        .target_platform = s.platform ? s.platform : "linux/amd64",
                        .build_platform = s.build_platform ? s.build_platform : "linux/amd64",
                };
                r = plan_build(df, &params, &plan, &err);
        }
        if (r >= 0)
                got = plan_to_json(plan);
        if (dump)
                printf("%s\n", r < 0 ? lerr_message(err) : got);
        if (want_err) {
                want_err[strcspn(want_err, "\n")] = '\0';
                passed = is_str(r < 0 ? lerr_message(err) : "(no error)", want_err, "%s", name);
        } else if (r < 0) {
                passed = ok(false, "%s", name);
                diag("unexpected error: %s", lerr_message(err));
        } else {
                cJSON *want = cJSON_Parse(want_json), *g = cJSON_Parse(got);
                struct buf where = BUF_INIT(SIZE_MAX);
                note(&where, "plan");
                if (!want)
                        diag("expected.json of %s is not valid JSON", name);
                passed = ok(want && g && subset(want, g, &where), "%s", name);
                if (!passed && want)
                        diag("%s", buf_str(&where));
                buf_done(&where);
                cJSON_Delete(want);
                cJSON_Delete(g);
        }
out:
        if (dfd >= 0)
                close(dfd);
        lerr_free(err);
        settings_done(&s);
        return passed;
}

int main(int argc, char **argv)
{
        struct dirent **names;
        int passed = 0, n;

        if (argc != 2) {
                fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
                return 2;
        }
        int cdir = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        n = scandir(argv[1], &names, NULL, alphasort);
        if (cdir < 0 || n < 0) {
                perror(argv[1]);
                return 2;
        }
        for (int i = 0; i < n; i++) {
                if (names[i]->d_name[0] != '.' && names[i]->d_type == DT_DIR)
                        passed += run_case(cdir, names[i]->d_name);
                free(names[i]);
        }
        free(names);
        close(cdir);
        diag("%d of %d corpus cases passed", passed, tap_n);
        return tap_done();
}
