/* SPDX-License-Identifier: Apache-2.0 */
/* Per-instruction parsing of Dockerfile instructions into typed structs (BuildKit's
 * instructions package): argument counts, flags, forms, and the expansion of each kind.
 * Lexing the text is dockerfile.c's job; RUN mount/device options live in runflags.c. */
#include "executor/instructions.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/parse.h"
#include "common/strv.h"
#include "executor/dftext.h"
#include "executor/expand.h"
#include "executor/instructions-internal.h"

static const char *const kind_names[DF_KIND_COUNT] = {
        [DF_ADD] = "ADD",
        [DF_ARG] = "ARG",
        [DF_CMD] = "CMD",
        [DF_COPY] = "COPY",
        [DF_ENTRYPOINT] = "ENTRYPOINT",
        [DF_ENV] = "ENV",
        [DF_EXPOSE] = "EXPOSE",
        [DF_FROM] = "FROM",
        [DF_HEALTHCHECK] = "HEALTHCHECK",
        [DF_LABEL] = "LABEL",
        [DF_MAINTAINER] = "MAINTAINER",
        [DF_ONBUILD] = "ONBUILD",
        [DF_RUN] = "RUN",
        [DF_SHELL] = "SHELL",
        [DF_STOPSIGNAL] = "STOPSIGNAL",
        [DF_USER] = "USER",
        [DF_VOLUME] = "VOLUME",
        [DF_WORKDIR] = "WORKDIR",
};

const char *df_kind_name(enum df_kind k)
{
        return (unsigned) k < DF_KIND_COUNT ? kind_names[k] : "?";
}

int df_kind_from_name(const char *name, enum df_kind *ret)
{
        for (unsigned k = 0; k < DF_KIND_COUNT; k++)
                if (dftext_eq_icase(name, kind_names[k])) {
                        *ret = (enum df_kind) k;
                        return 0;
                }
        return -ENOENT;
}

/* ---- heredoc words ---- */

static int count_quotes(const char *s)
{
        int n = 0;
        for (; *s; s++)
                n += *s == '\'' || *s == '"';
        return n;
}

/* BuildKit's ParseHeredoc: ^(\d*)<<(-?)\s*([^<]*)$, the rest lexed as exactly one word; the
 * body expands unless lexing removed quotes from it. */
int df_heredoc_word(const char *text, bool *ret_is, struct df_heredoc *ret, struct lerr **err)
{
        const char *p = text;
        uint64_t fd = 0;
        bool fd_ok = true;
        int r;

        *ret_is = false;
        while (*p >= '0' && *p <= '9') {
                if (fd > (UINT32_MAX - 9) / 10)
                        fd_ok = false; /* Go's ParseUint fails: the descriptor is 0 */
                else
                        fd = fd * 10 + (uint64_t) (*p - '0');
                p++;
        }
        if (p[0] != '<' || p[1] != '<')
                return 0;
        p += 2;
        bool chomp = *p == '-';
        if (chomp)
                p++;
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\f' || *p == '\r')
                p++;
        if (!*p || strchr(p, '<'))
                return 0;

        _cleanup_(strv_freep) char **words = NULL;
        _cleanup_(strv_freep) char **raw = NULL;
        r = expand_words(p, '\\', EXPAND_KEEP_UNSET, NULL, &words, err);
        if (r < 0)
                return r;
        if (strv_length(words) != 1)
                return 0;
        r = expand_words(p, '\\', EXPAND_KEEP_UNSET | EXPAND_RAW_QUOTES, NULL, &raw, err);
        if (r < 0)
                return r;
        if (strv_length(raw) != 1)
                return lerr_set(err, EINVAL, "heredoc word '%s' lexes inconsistently", p);
        *ret_is = true;
        if (ret)
                *ret = (struct df_heredoc){
                        .name = xstrdup(words[0]),
                        .fd = fd_ok ? (unsigned) fd : 0,
                        .chomp = chomp,
                        .expand = count_quotes(words[0]) == count_quotes(raw[0]),
                };
        return 0;
}

char *df_chomp_tabs(const char *s)
{
        char *out = xmalloc(strlen(s) + 1), *o = out;
        bool bol = true;

        for (; *s; s++) {
                if (bol && *s == '\t')
                        continue;
                bol = *s == '\n';
                *o++ = *s;
        }
        *o = '\0';
        return out;
}

/* ---- flags (BuildKit's BFlags) ---- */

enum flag_type { FLAG_BOOL, FLAG_STRING, FLAG_STRINGS };

struct flag_def {
        const char *name;
        enum flag_type type;
};

struct flag_val {
        bool used;
        bool b;
        const char *s;   /* borrowed from inst->flags */
        const char **ss; /* borrowed strings, NULL-terminated */
        size_t n;
};

static void flag_vals_done(struct flag_val *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i].ss);
}

static int flag_error_unknown(const char *flag, const struct flag_def *defs, size_t n,
                              struct lerr **err)
{
        _cleanup_free_ const char **names = xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++)
                names[i] = defs[i].name;
        const char *eq = strchr(flag, '=');
        _cleanup_free_ char *bare = xstrndup(flag + 2, eq ? (size_t) (eq - flag - 2) : SIZE_MAX);
        _cleanup_free_ char *s = dftext_suggest(bare, names, n, false);
        _cleanup_free_ char *qb = dftext_quote(bare, strlen(bare), 80);
        if (s)
                return lerr_set(err, EINVAL, "unknown flag '--%s' (did you mean '--%s'?)", qb, s);
        return lerr_set(err, EINVAL, "unknown flag '--%s'", qb);
}

static int parse_flags(const struct df_inst *inst, const struct flag_def *defs, size_t n,
                       struct flag_val *vals, struct lerr **err)
{
        strv_foreach (a, inst->flags) {
                if (streq(a, "--"))
                        return 0;
                if (!startswith(a, "--")) {
                        _cleanup_free_ char *q = dftext_quote(a, strlen(a), 80);
                        return lerr_set(err, EINVAL, "flag '%s' does not start with --", q);
                }
                const char *eq = strchr(a, '=');
                size_t len = eq ? (size_t) (eq - a - 2) : strlen(a + 2);
                const char *value = eq ? eq + 1 : NULL;
                size_t i;
                for (i = 0; i < n; i++)
                        if (strlen(defs[i].name) == len && strncmp(defs[i].name, a + 2, len) == 0)
                                break;
                if (i == n)
                        return flag_error_unknown(a, defs, n, err);
                if (vals[i].used && defs[i].type != FLAG_STRINGS)
                        return lerr_set(err, EINVAL, "flag '--%s' given twice", defs[i].name);
                vals[i].used = true;
                switch (defs[i].type) {
                case FLAG_BOOL:
                        if (!value || dftext_eq_icase(value, "true"))
                                vals[i].b = true;
                        else if (!*value)
                                return lerr_set(err, EINVAL, "flag '--%s' needs a value",
                                                defs[i].name);
                        else if (dftext_eq_icase(value, "false"))
                                vals[i].b = false;
                        else {
                                _cleanup_free_ char *q = dftext_quote(value, strlen(value), 80);
                                return lerr_set(err, EINVAL,
                                                "flag '--%s' expects true or false, not '%s'",
                                                defs[i].name, q);
                        }
                        break;
                case FLAG_STRING:
                case FLAG_STRINGS:
                        if (!value)
                                return lerr_set(err, EINVAL, "flag '--%s' needs a value",
                                                defs[i].name);
                        vals[i].s = value;
                        /* room for the value and the NULL after it */
                        vals[i].ss = dftext_grow(vals[i].ss, vals[i].n, sizeof(char *));
                        vals[i].ss = dftext_grow(vals[i].ss, vals[i].n + 1, sizeof(char *));
                        vals[i].ss[vals[i].n++] = value;
                        vals[i].ss[vals[i].n] = NULL;
                        break;
                }
        }
        return 0;
}

static char *dup_or_null(const char *s)
{
        return s ? xstrdup(s) : NULL;
}

/* ---- argument checks ---- */

static int err_at_least_one(const struct df_inst *inst, struct lerr **err)
{
        return lerr_set(err, EINVAL, "%s requires at least one argument", df_kind_name(inst->kind));
}

static int err_exactly_one(const struct df_inst *inst, struct lerr **err)
{
        return lerr_set(err, EINVAL, "%s requires exactly one argument", df_kind_name(inst->kind));
}

static int no_flags(const struct df_inst *inst, struct lerr **err)
{
        struct flag_val v = {0};
        int r = parse_flags(inst, NULL, 0, &v, err);
        flag_vals_done(&v, 1);
        return r;
}

/* ENV and LABEL: the line parser gives key, value, "=" or "" triples */
static int parse_kvs(struct df_inst *inst, struct lerr **err)
{
        size_t n = strv_length(inst->args);
        int r = no_flags(inst, err);

        if (r < 0)
                return r;
        if (n == 0)
                return err_at_least_one(inst, err);
        if (n % 3)
                return lerr_set(err, EINVAL, "%s: bad arguments", df_kind_name(inst->kind));
        inst->u.kv.kvs = xcalloc(n / 3, sizeof(struct df_kv));
        for (size_t i = 0; i < n; i += 3) {
                if (!*inst->args[i])
                        return lerr_set(err, EINVAL, "%s names can not be blank",
                                        df_kind_name(inst->kind));
                inst->u.kv.kvs[inst->u.kv.n_kvs++] = (struct df_kv){
                        .key = xstrdup(inst->args[i]),
                        .value = xstrdup(inst->args[i + 1]),
                        .legacy = !*inst->args[i + 2],
                };
        }
        return 0;
}

static int parse_arg(struct df_inst *inst, struct lerr **err)
{
        size_t n = strv_length(inst->args);
        int r = no_flags(inst, err);

        if (r < 0)
                return r;
        if (n == 0)
                return err_at_least_one(inst, err);
        inst->u.kv.kvs = xcalloc(n, sizeof(struct df_kv));
        for (size_t i = 0; i < n; i++) {
                const char *a = inst->args[i], *eq = strchr(a, '=');
                if (eq == a)
                        return lerr_set(err, EINVAL, "ARG names can not be blank");
                inst->u.kv.kvs[inst->u.kv.n_kvs++] = (struct df_kv){
                        .key = eq ? xstrndup(a, (size_t) (eq - a)) : xstrdup(a),
                        .value = eq ? xstrdup(eq + 1) : NULL,
                };
        }
        return 0;
}

static const struct flag_def from_flags[] = {{"platform", FLAG_STRING}};

static bool valid_stage_name(const char *s)
{
        if (!(*s >= 'a' && *s <= 'z'))
                return false;
        for (s++; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' ||
                      *s == '_' || *s == '.'))
                        return false;
        return true;
}

static int parse_from(struct df_inst *inst, struct lerr **err)
{
        struct flag_val v[1] = {{0}};
        size_t n = strv_length(inst->args);
        int r;

        if (n == 3 && dftext_eq_icase(inst->args[1], "as")) {
                _cleanup_free_ char *name = dftext_lower(xstrdup(inst->args[2]));
                if (!valid_stage_name(name)) {
                        _cleanup_free_ char *q = dftext_quote(inst->args[2], strlen(name), 80);
                        return lerr_set(err, EINVAL,
                                        "invalid name for build stage '%s': a name starts with a "
                                        "letter and has only letters, digits, '-', '_' and '.'",
                                        q);
                }
                inst->u.from.name = TAKE_PTR(name);
        } else if (n != 1)
                return lerr_set(err, EINVAL, "FROM requires either one or three arguments");
        r = parse_flags(inst, from_flags, ARRAY_SIZE(from_flags), v, err);
        if (r >= 0) {
                inst->u.from.image = xstrdup(inst->args[0]);
                inst->u.from.platform = dup_or_null(v[0].s);
        }
        flag_vals_done(v, ARRAY_SIZE(v));
        return r;
}

static void cmdline_set(struct df_cmdline *c, const struct df_inst *inst, char *const *args)
{
        c->json = inst->json;
        if (inst->json || strv_length(args) == 0)
                c->args = strv_copy(args);
        else {
                /* shell form: the words joined back (BuildKit's handleJSONArgs) */
                c->args = xcalloc(2, sizeof(char *));
                c->args[0] = strv_join(args, " ");
        }
}

static int parse_cmd(struct df_inst *inst, struct lerr **err)
{
        int r = no_flags(inst, err);
        if (r >= 0)
                cmdline_set(&inst->u.cmd, inst, inst->args);
        return r;
}

static int parse_shell(struct df_inst *inst, struct lerr **err)
{
        int r = no_flags(inst, err);
        if (r < 0)
                return r;
        if (strv_length(inst->args) == 0)
                return err_at_least_one(inst, err);
        if (!inst->json)
                return lerr_set(err, EINVAL, "SHELL requires the arguments to be in JSON form");
        inst->u.words = strv_copy(inst->args);
        return 0;
}

static int parse_one_value(struct df_inst *inst, bool flags, struct lerr **err)
{
        if (strv_length(inst->args) != 1)
                return err_exactly_one(inst, err);
        if (flags) {
                int r = no_flags(inst, err);
                if (r < 0)
                        return r;
        }
        inst->u.value = xstrdup(inst->args[0]);
        return 0;
}

static int parse_expose(struct df_inst *inst, struct lerr **err)
{
        if (strv_length(inst->args) == 0)
                return err_at_least_one(inst, err);
        int r = no_flags(inst, err);
        if (r >= 0)
                inst->u.words = strv_copy(inst->args);
        return r;
}

static int parse_volume(struct df_inst *inst, struct lerr **err)
{
        if (strv_length(inst->args) == 0)
                return err_at_least_one(inst, err);
        int r = no_flags(inst, err);
        if (r < 0)
                return r;
        inst->u.words = xcalloc(strv_length(inst->args) + 1, sizeof(char *));
        size_t i = 0;
        strv_foreach (a, inst->args) {
                size_t len = strlen(a), s = 0;
                while (s < len && dftext_space_len(a + s, len - s))
                        s += dftext_space_len(a + s, len - s);
                while (len > s && (a[len - 1] == ' ' || a[len - 1] == '\t' || a[len - 1] == '\n' ||
                                   a[len - 1] == '\r' || a[len - 1] == '\v' || a[len - 1] == '\f'))
                        len--;
                if (len == s)
                        return lerr_set(err, EINVAL, "VOLUME specified can not be an empty string");
                inst->u.words[i++] = xstrndup(a + s, len - s);
        }
        return 0;
}

static const struct flag_def health_flags[] = {
        {"interval", FLAG_STRING},       {"timeout", FLAG_STRING}, {"start-period", FLAG_STRING},
        {"start-interval", FLAG_STRING}, {"retries", FLAG_STRING},
};

static int parse_interval(const struct flag_val *v, const char *name, int64_t *ret,
                          struct lerr **err)
{
        *ret = 0;
        if (!v->s || !*v->s)
                return 0;
        int r = parse_duration_ns(v->s, ret);
        if (r < 0) {
                _cleanup_free_ char *q = dftext_quote(v->s, strlen(v->s), 80);
                return lerr_set(err, EINVAL, "invalid duration '%s' for --%s", q, name);
        }
        if (*ret != 0 && *ret < 1000000)
                return lerr_set(err, EINVAL, "--%s cannot be less than 1ms", name);
        return 0;
}

static int health_options(struct df_healthcheck *h, const struct flag_val *v, struct lerr **err)
{
        int64_t *dst[] = {&h->interval_ns, &h->timeout_ns, &h->start_period_ns,
                          &h->start_interval_ns};
        for (size_t i = 0; i < ARRAY_SIZE(dst); i++) {
                int r = parse_interval(&v[i], health_flags[i].name, dst[i], err);
                if (r < 0)
                        return r;
        }
        if (v[4].s && *v[4].s) {
                int64_t n;
                if (parse_i64(v[4].s, &n) < 0 || n > INT32_MAX || n < INT32_MIN) {
                        _cleanup_free_ char *q = dftext_quote(v[4].s, strlen(v[4].s), 80);
                        return lerr_set(err, EINVAL, "invalid number '%s' for --retries", q);
                }
                if (n < 0)
                        return lerr_set(err, EINVAL, "--retries cannot be negative (%lld)",
                                        (long long) n);
                h->retries = (int) n;
        }
        return 0;
}

static int parse_healthcheck(struct df_inst *inst, struct lerr **err)
{
        struct flag_val v[ARRAY_SIZE(health_flags)] = {{0}};
        size_t n = strv_length(inst->args);
        int r;

        if (n == 0)
                return err_at_least_one(inst, err);
        _cleanup_free_ char *typ = xstrdup(inst->args[0]);
        for (char *p = typ; *p; p++)
                if (*p >= 'a' && *p <= 'z')
                        *p = (char) (*p - 32);
        if (streq(typ, "NONE")) {
                /* as in Docker, flags are not looked at for NONE */
                if (n != 1)
                        return lerr_set(err, EINVAL, "HEALTHCHECK NONE takes no arguments");
                strv_push(&inst->u.health.test, "NONE");
                return 0;
        }
        r = parse_flags(inst, health_flags, ARRAY_SIZE(health_flags), v, err);
        if (r >= 0 && !streq(typ, "CMD")) {
                _cleanup_free_ char *q = dftext_quote(inst->args[0], strlen(inst->args[0]), 80);
                r = lerr_set(err, EINVAL, "unknown type '%s' in HEALTHCHECK (try CMD)", q);
        }
        if (r >= 0 && n == 1)
                r = lerr_set(err, EINVAL, "missing command after HEALTHCHECK CMD");
        if (r >= 0) {
                struct df_cmdline c = {0};
                cmdline_set(&c, inst, inst->args + 1);
                struct strvb test = {0};
                strvb_push(&test, inst->json ? "CMD" : "CMD-SHELL");
                strv_foreach (a, c.args)
                        strvb_push(&test, a);
                strv_free(c.args);
                inst->u.health.test = strvb_steal(&test);
                r = health_options(&inst->u.health, v, err);
        }
        flag_vals_done(v, ARRAY_SIZE(v));
        return r;
}

static int parse_onbuild(struct df_inst *inst, struct lerr **err)
{
        if (strv_length(inst->args) == 0)
                return err_at_least_one(inst, err);
        int r = no_flags(inst, err);
        if (r < 0)
                return r;
        const char *trig = inst->args[0];
        if (dftext_eq_icase(trig, "ONBUILD"))
                return lerr_set(err, EINVAL,
                                "chaining ONBUILD via 'ONBUILD ONBUILD' isn't allowed");
        if (dftext_eq_icase(trig, "MAINTAINER") || dftext_eq_icase(trig, "FROM"))
                return lerr_set(err, EINVAL, "%s isn't allowed as an ONBUILD trigger",
                                dftext_eq_icase(trig, "FROM") ? "FROM" : "MAINTAINER");

        /* the stored expression: the text after ONBUILD, heredoc bodies included */
        const char *o = inst->original, *end = o + strlen(o);
        size_t k;
        while (o < end && (k = dftext_space_len(o, (size_t) (end - o))))
                o += k;
        o += strlen(inst->keyword);
        while (o < end && (k = dftext_space_len(o, (size_t) (end - o))))
                o += k;
        struct buf b = BUF_INIT(SIZE_MAX);
        if (buf_append_str(&b, o) < 0)
                oom();
        for (size_t i = 0; i < inst->n_heredocs; i++)
                if (buf_printf(&b, "\n%s%s", inst->heredocs[i].content, inst->heredocs[i].name) < 0)
                        oom();
        inst->u.onbuild.expression = buf_steal(&b);
        return 0;
}

/* ---- COPY and ADD ---- */

static const struct flag_def copy_flags[] = {
        {"chown", FLAG_STRING}, {"from", FLAG_STRING},     {"chmod", FLAG_STRING},
        {"link", FLAG_BOOL},    {"exclude", FLAG_STRINGS}, {"parents", FLAG_BOOL},
};
enum { CF_CHOWN, CF_FROM, CF_CHMOD, CF_LINK, CF_EXCLUDE, CF_PARENTS };

static const struct flag_def add_flags[] = {
        {"chown", FLAG_STRING},      {"chmod", FLAG_STRING},    {"link", FLAG_BOOL},
        {"keep-git-dir", FLAG_BOOL}, {"checksum", FLAG_STRING}, {"unpack", FLAG_BOOL},
        {"exclude", FLAG_STRINGS},
};
enum { AF_CHOWN, AF_CHMOD, AF_LINK, AF_KEEP_GIT_DIR, AF_CHECKSUM, AF_UNPACK, AF_EXCLUDE };

/* Heredoc indexes sorted by name, then position: the body of a heredoc source is that of the
 * last heredoc of its name (BuildKit looks them up in a map). */
static const struct df_inst *sort_inst;

static int cmp_heredoc(const void *a, const void *b)
{
        size_t x = *(const size_t *) a, y = *(const size_t *) b;
        int c = strcmp(sort_inst->heredocs[x].name, sort_inst->heredocs[y].name);
        return c ? c : (x > y) - (x < y);
}

static const char *heredoc_body(const struct df_inst *inst, const size_t *sorted, const char *name)
{
        size_t lo = 0, hi = inst->n_heredocs; /* first index whose name is > name */
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (strcmp(inst->heredocs[sorted[mid]].name, name) <= 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (lo > 0 && streq(inst->heredocs[sorted[lo - 1]].name, name))
                return inst->heredocs[sorted[lo - 1]].content;
        return ""; /* none (JSON form): an empty file */
}

static int sources_and_dest(struct df_inst *inst, struct lerr **err)
{
        struct df_copy *c = &inst->u.copy;
        size_t n = strv_length(inst->args);
        bool is;
        int r;

        r = df_heredoc_word(inst->args[n - 1], &is, NULL, NULL);
        if (r >= 0 && is)
                return lerr_set(err, EINVAL, "%s cannot accept a heredoc as a destination",
                                df_kind_name(inst->kind));
        c->dest = xstrdup(inst->args[n - 1]);
        _cleanup_free_ size_t *sorted = xcalloc(inst->n_heredocs + 1, sizeof(size_t));
        for (size_t k = 0; k < inst->n_heredocs; k++)
                sorted[k] = k;
        sort_inst = inst;
        qsort(sorted, inst->n_heredocs, sizeof(size_t), cmp_heredoc);
        sort_inst = NULL;
        struct strvb sources = {0};
        for (size_t i = 0; i + 1 < n; i++) {
                struct df_heredoc h = {0};
                r = df_heredoc_word(inst->args[i], &is, &h, NULL);
                if (r < 0 || !is) {
                        strvb_push(&sources, inst->args[i]);
                        continue;
                }
                const char *body = heredoc_body(inst, sorted, h.name);
                c->inlines = dftext_grow(c->inlines, c->n_inlines, sizeof(*c->inlines));
                c->inlines[c->n_inlines++] = (struct df_inline){
                        .name = h.name,
                        .data = h.chomp ? df_chomp_tabs(body) : xstrdup(body),
                        .expand = h.expand,
                };
        }
        c->sources = strvb_steal(&sources);
        return 0;
}

static bool has_dollar(const char *s)
{
        return s && strchr(s, '$');
}

static int copy_checks(const struct df_inst *inst, struct lerr **err)
{
        const struct df_copy *c = &inst->u.copy;
        int r = 0;

        if (c->from) {
                /* BuildKit: expansion is not supported for --from (stages are resolved first) */
                _cleanup_free_ char *x = NULL;
                r = expand_word(c->from, inst->escape, 0, NULL, &x, NULL);
                if (r < 0 || !streq(x, c->from))
                        return lerr_set(err, EINVAL,
                                        "variable expansion is not supported for --from, define "
                                        "a new stage with FROM using ARG from global scope as a "
                                        "workaround");
                if (!*c->from)
                        return lerr_set(err, EINVAL, "--from needs a stage name, index or image");
        }
        if (c->chmod && !has_dollar(c->chmod)) {
                bool octal;
                uint32_t mode;
                r = df_chmod_parse(c->chmod, &octal, &mode, err);
        }
        bool sources_final = true; /* a source with a variable is checked once expanded */
        for (size_t i = 0; c->sources && c->sources[i]; i++)
                sources_final &= !has_dollar(c->sources[i]);
        if (r >= 0 && c->checksum && !has_dollar(c->checksum) && sources_final)
                r = df_checksum_check(c->checksum, c->sources, err);
        return r;
}

static int parse_copy(struct df_inst *inst, struct lerr **err)
{
        bool add = inst->kind == DF_ADD;
        const struct flag_def *defs = add ? add_flags : copy_flags;
        size_t nd = add ? ARRAY_SIZE(add_flags) : ARRAY_SIZE(copy_flags);
        struct flag_val v[ARRAY_SIZE(add_flags)] = {{0}};
        struct df_copy *c = &inst->u.copy;
        int r;

        if (strv_length(inst->args) < 2)
                return lerr_set(err, EINVAL,
                                "%s requires at least two arguments, but only one was provided. "
                                "Destination could not be determined",
                                df_kind_name(inst->kind));
        c->keep_git_dir = c->unpack = -1;
        r = parse_flags(inst, defs, nd, v, err);
        if (r >= 0)
                r = sources_and_dest(inst, err);
        if (r >= 0) {
                c->chown = dup_or_null(v[add ? AF_CHOWN : CF_CHOWN].s);
                c->chmod = dup_or_null(v[add ? AF_CHMOD : CF_CHMOD].s);
                c->link = v[add ? AF_LINK : CF_LINK].b;
                c->excludes = strv_copy((char *const *) v[add ? AF_EXCLUDE : CF_EXCLUDE].ss);
                if (add) {
                        c->checksum = dup_or_null(v[AF_CHECKSUM].s);
                        if (v[AF_KEEP_GIT_DIR].used)
                                c->keep_git_dir = v[AF_KEEP_GIT_DIR].b;
                        if (v[AF_UNPACK].used)
                                c->unpack = v[AF_UNPACK].b;
                } else {
                        c->from = dup_or_null(v[CF_FROM].s);
                        c->parents = v[CF_PARENTS].b;
                }
                r = copy_checks(inst, err);
        }
        flag_vals_done(v, nd);
        return r;
}

/* ---- RUN ---- */

static const struct flag_def run_flags[] = {
        {"mount", FLAG_STRINGS},
        {"network", FLAG_STRING},
        {"security", FLAG_STRING},
        {"device", FLAG_STRINGS},
};

static int run_network(struct df_run *run, const char *v, struct lerr **err)
{
        static const char *const names[] = {"default", "none", "host"};
        for (size_t i = 0; i < ARRAY_SIZE(names); i++)
                if (streq(v, names[i])) {
                        run->network = (enum df_network) i;
                        return 0;
                }
        _cleanup_free_ char *q = dftext_quote(v, strlen(v), 80);
        _cleanup_free_ char *s = dftext_suggest(v, names, ARRAY_SIZE(names), true);
        if (s)
                return lerr_set(err, EINVAL, "invalid network mode '%s' (did you mean '%s'?)", q,
                                s);
        return lerr_set(err, EINVAL, "invalid network mode '%s' (use default, none or host)", q);
}

static int run_security(struct df_run *run, const char *v, struct lerr **err)
{
        if (streq(v, "sandbox"))
                run->security = DF_SECURITY_SANDBOX;
        else if (streq(v, "insecure"))
                run->security = DF_SECURITY_INSECURE;
        else {
                _cleanup_free_ char *q = dftext_quote(v, strlen(v), 80);
                return lerr_set(err, EINVAL, "security '%s' is not valid (use sandbox or insecure)",
                                q);
        }
        return 0;
}

static int parse_run(struct df_inst *inst, struct lerr **err)
{
        struct flag_val v[ARRAY_SIZE(run_flags)] = {{0}};
        struct df_run *run = &inst->u.run;
        int r;

        r = parse_flags(inst, run_flags, ARRAY_SIZE(run_flags), v, err);
        for (size_t i = 0; r >= 0 && i < v[0].n; i++) {
                run->mounts = dftext_grow(run->mounts, run->n_mounts, sizeof(*run->mounts));
                r = df_mount_parse(v[0].ss[i], NULL, 0, inst->escape, &run->mounts[run->n_mounts],
                                   err);
                if (r >= 0)
                        run->n_mounts++;
        }
        if (r >= 0)
                r = run_network(run, v[1].s ? v[1].s : "default", err);
        if (r >= 0)
                r = run_security(run, v[2].s ? v[2].s : "sandbox", err);
        for (size_t i = 0; r >= 0 && i < v[3].n; i++) {
                run->devices = dftext_grow(run->devices, run->n_devices, sizeof(*run->devices));
                r = df_device_parse(v[3].ss[i], &run->devices[run->n_devices], err);
                if (r >= 0)
                        run->n_devices++;
        }
        if (r >= 0 && strv_length(inst->args) == 0 && !inst->json)
                r = lerr_set(err, EINVAL, "RUN requires a command");
        if (r >= 0)
                cmdline_set(&run->cmd, inst, inst->args);
        flag_vals_done(v, ARRAY_SIZE(v));
        return r;
}

int df_inst_parse(struct df_inst *inst, struct lerr **err)
{
        switch (inst->kind) {
        case DF_ENV:
        case DF_LABEL:
                return parse_kvs(inst, err);
        case DF_ARG:
                return parse_arg(inst, err);
        case DF_MAINTAINER:
        case DF_WORKDIR:
        case DF_USER:
                return parse_one_value(inst, true, err);
        case DF_STOPSIGNAL:
                return parse_one_value(inst, true, err);
        case DF_ADD:
        case DF_COPY:
                return parse_copy(inst, err);
        case DF_FROM:
                return parse_from(inst, err);
        case DF_ONBUILD:
                return parse_onbuild(inst, err);
        case DF_RUN:
                return parse_run(inst, err);
        case DF_CMD:
        case DF_ENTRYPOINT:
                return parse_cmd(inst, err);
        case DF_HEALTHCHECK:
                return parse_healthcheck(inst, err);
        case DF_EXPOSE:
                return parse_expose(inst, err);
        case DF_VOLUME:
                return parse_volume(inst, err);
        case DF_SHELL:
                return parse_shell(inst, err);
        case DF_KIND_COUNT:
                break;
        }
        return lerr_set(err, EINVAL, "unknown instruction kind");
}
