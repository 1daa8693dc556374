/* SPDX-License-Identifier: Apache-2.0 */
/* Dockerfile lexer and parser (BuildKit's parser package): directives, lines, continuations,
 * comments, flags, per-instruction argument splitting, heredoc bodies, then stages. Typed
 * per-instruction checks are instructions.c's; nothing is expanded here. */
#include "executor/dockerfile.h"
#include "executor/dockerfile-internal.h"

#include <errno.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/strv.h"
#include "executor/dftext.h"
#include "executor/expand.h"
#include "executor/instructions-internal.h"

#define KIND_UNKNOWN DF_KIND_COUNT

struct parser {
        const char *data;
        size_t len, pos;
        unsigned line; /* lines read so far */
        char escape;
        bool directives_done;
        bool seen_syntax, seen_escape, seen_check;
        const char *filename; /* NULL: an ONBUILD trigger (errors carry no location) */
        struct dockerfile *df;
};

/* ---- errors ---- */

static int located_error(const char *filename, unsigned first, unsigned last, const char *text,
                         struct lerr **err, int errnum, const char *msg)
{
        _cleanup_free_ char *q =
                text ? dftext_quote(text, strlen(text), DOCKERFILE_ERROR_QUOTE_MAX) : NULL;
        _cleanup_free_ char *where = NULL;

        if (!filename)
                return lerr_set(err, errnum, "%s", msg);
        if (first == 0)
                where = xstrdup(filename);
        else if (last > first)
                where = xasprintf("%s:%u-%u", filename, first, last);
        else
                where = xasprintf("%s:%u", filename, first);
        if (q)
                return lerr_set(err, errnum, "%s: %s in '%s'", where, msg, q);
        return lerr_set(err, errnum, "%s: %s", where, msg);
}

int dockerfile_inst_error(const char *filename, const struct df_inst *inst, struct lerr **err,
                          int errnum, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *msg = xvasprintf(fmt, ap);
        va_end(ap);
        return located_error(filename, inst->line, inst->end_line, inst->original, err, errnum,
                             msg);
}

int dockerfile_inst_wrap(const char *filename, const struct df_inst *inst, struct lerr **err)
{
        if (!err)
                return -EINVAL;
        int code = *err ? lerr_code(*err) : EIO;
        _cleanup_free_ char *msg = xstrdup(*err ? lerr_message(*err) : "unknown error");
        return located_error(filename, inst->line, inst->end_line, inst->original, err, code, msg);
}

static int parse_error(struct parser *p, unsigned first, unsigned last, const char *text,
                       struct lerr **err, int errnum, const char *fmt, ...) PRINTF(7, 8);
static int parse_error(struct parser *p, unsigned first, unsigned last, const char *text,
                       struct lerr **err, int errnum, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *msg = xvasprintf(fmt, ap);
        va_end(ap);
        return located_error(p->filename, first, last, text, err, errnum, msg);
}

void dockerfile_warn(struct dockerfile *df, unsigned line, const char *fmt, ...)
{
        va_list ap;
        if (!df)
                return;
        va_start(ap, fmt);
        df->warnings = dftext_grow(df->warnings, df->n_warnings, sizeof(*df->warnings));
        df->warnings[df->n_warnings++] =
                (struct df_warning){.line = line, .message = xvasprintf(fmt, ap)};
        va_end(ap);
}

/* ---- lines ---- */

/* The next line with its line ending (BuildKit keeps endings: heredoc bodies need them). */
static bool next_line(struct parser *p, struct dfslice *ret)
{
        if (p->pos >= p->len)
                return false;
        const char *s = p->data + p->pos;
        const char *nl = memchr(s, '\n', p->len - p->pos);
        size_t n = nl ? (size_t) (nl - s) + 1 : p->len - p->pos;
        *ret = (struct dfslice){s, n};
        p->pos += n;
        return true;
}

static struct dfslice trim_newline(struct dfslice s)
{
        while (s.n && (s.p[s.n - 1] == '\n' || s.p[s.n - 1] == '\r'))
                s.n--;
        return s;
}

static bool is_comment(struct dfslice s)
{
        s = dfslice_trim_left(s);
        return s.n && s.p[0] == '#';
}

static bool re_space(char c) /* Go regexp \s */
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static int set_directive(struct parser *p, const char *key, const char *value, struct lerr **err)
{
        bool *seen = streq(key, "syntax")   ? &p->seen_syntax
                     : streq(key, "escape") ? &p->seen_escape
                                            : &p->seen_check;
        if (*seen)
                return parse_error(p, p->line + 1, 0, NULL, err, EINVAL,
                                   "only one %s parser directive can be used", key);
        *seen = true;
        if (streq(key, "escape")) {
                if (!streq(value, "`") && !streq(value, "\\")) {
                        _cleanup_free_ char *q = dftext_quote(value, strlen(value), 40);
                        return parse_error(p, p->line + 1, 0, NULL, err, EINVAL,
                                           "invalid escape token '%s' does not match ` or \\", q);
                }
                p->escape = value[0];
        } else if (p->df) {
                char **dst = streq(key, "syntax") ? &p->df->syntax : &p->df->check;
                *dst = xstrdup(value);
        }
        return 0;
}

/* Matches BuildKit's ^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$ on s. */
static bool match_directive(struct dfslice s, struct dfslice *key, struct dfslice *value)
{
        size_t i = 0;

        if (!(i < s.n && ((s.p[i] | 0x20) >= 'a' && (s.p[i] | 0x20) <= 'z')))
                return false;
        while (i < s.n && (((s.p[i] | 0x20) >= 'a' && (s.p[i] | 0x20) <= 'z') ||
                           (s.p[i] >= '0' && s.p[i] <= '9')))
                i++;
        *key = (struct dfslice){s.p, i};
        while (i < s.n && re_space(s.p[i]))
                i++;
        if (i >= s.n || s.p[i] != '=')
                return false;
        size_t vstart = ++i;
        while (i < s.n && re_space(s.p[i]))
                i++;
        size_t vend = s.n;
        if (i == s.n) {
                /* only blanks: the lazy (.+?) of the regexp takes the last one */
                if (vstart == s.n)
                        return false;
                i = s.n - 1;
        } else
                while (vend > i && re_space(s.p[vend - 1]))
                        vend--;
        *value = (struct dfslice){s.p + i, vend - i};
        return true;
}

/* "# key=value" before anything else (BuildKit's DirectiveParser). Returns 1 for a directive,
 * 0 otherwise (and directives are over), or an error. */
static int directive(struct parser *p, struct dfslice s, struct lerr **err)
{
        struct dfslice k, v;

        if (p->directives_done)
                return 0;
        if (!s.n || s.p[0] != '#' ||
            !match_directive(dfslice_trim_left((struct dfslice){s.p + 1, s.n - 1}), &k, &v)) {
                p->directives_done = true;
                return 0;
        }
        _cleanup_free_ char *key = dftext_lower(xstrndup(k.p, k.n));
        _cleanup_free_ char *value = xstrndup(v.p, v.n);
        if (!streq(key, "syntax") && !streq(key, "escape") && !streq(key, "check")) {
                p->directives_done = true;
                return 0;
        }
        int r = set_directive(p, key, value, err);
        return r < 0 ? r : 1;
}

/* Drops the escape token that ends a line (and the blanks after it): returns true when the
 * line continues. An escaped escape token ("\\") does not continue it. */
static bool trim_continuation(struct dfslice *s, char escape)
{
        size_t i = s->n;
        while (i > 0 && (s->p[i - 1] == ' ' || s->p[i - 1] == '\t'))
                i--;
        if (i == 0 || s->p[i - 1] != escape)
                return false;
        if (i >= 2 && s->p[i - 2] == escape)
                return false;
        s->n = i - 1;
        return true;
}

/* ---- heredocs ---- */

static bool can_contain_heredoc(const struct df_inst *inst)
{
        if (inst->kind == DF_ONBUILD && inst->u.onbuild.trigger)
                inst = inst->u.onbuild.trigger;
        return (inst->kind == DF_RUN || inst->kind == DF_COPY || inst->kind == DF_ADD) &&
               !inst->json;
}

/* The heredocs a line opens: its words (quotes and escapes kept) that are heredoc words. */
static int heredocs_from_line(const char *line, struct df_inst *inst, struct lerr **err)
{
        _cleanup_(strv_freep) char **words = NULL;

        if (expand_words(line, '\\', EXPAND_KEEP_UNSET | EXPAND_RAW_QUOTES | EXPAND_RAW_ESCAPES,
                         NULL, &words, NULL) < 0)
                return 0; /* a line that does not lex has no heredoc */
        strv_foreach (w, words) {
                struct df_heredoc h = {0};
                bool is;
                int r = df_heredoc_word(w, &is, &h, err);
                if (r < 0)
                        return r;
                if (!is)
                        continue;
                h.content = xstrdup("");
                inst->heredocs =
                        dftext_grow(inst->heredocs, inst->n_heredocs, sizeof(*inst->heredocs));
                inst->heredocs[inst->n_heredocs++] = h;
        }
        return 0;
}

/* Reads each heredoc's body: the lines up to one that is its delimiter (after stripping the
 * line ending, and leading tabs for <<-). */
static int read_heredoc_bodies(struct parser *p, struct df_inst *inst, unsigned first,
                               unsigned last, struct lerr **err)
{
        for (size_t i = 0; i < inst->n_heredocs; i++) {
                struct df_heredoc *h = &inst->heredocs[i];
                struct buf body = BUF_INIT(DOCKERFILE_MAX_BYTES);
                struct dfslice l;
                bool done = false;
                size_t nlen = strlen(h->name);

                while (!done && next_line(p, &l)) {
                        p->line++;
                        struct dfslice t = trim_newline(l);
                        if (h->chomp)
                                while (t.n && t.p[0] == '\t') {
                                        t.p++;
                                        t.n--;
                                }
                        if (t.n == nlen && memcmp(t.p, h->name, nlen) == 0)
                                done = true;
                        else if (buf_append(&body, l.p, l.n) < 0)
                                oom(); /* cannot happen: the body is part of the input */
                }
                if (!done) {
                        buf_done(&body);
                        _cleanup_free_ char *q = dftext_quote(h->name, nlen, 80);
                        return parse_error(p, first, last, inst->original, err, EINVAL,
                                           "unterminated heredoc '%s'", q);
                }
                free(h->content);
                h->content = buf_steal(&body);
        }
        return 0;
}

/* ---- the first pass: logical lines into lexed instructions ---- */

static int process_line(struct parser *p, struct dfslice raw, bool first, struct dfslice *ret,
                        struct lerr **err)
{
        struct dfslice t = trim_newline(raw);
        if (first)
                t = dfslice_trim_left(t);
        int r = directive(p, t, err);
        if (r < 0)
                return r;
        *ret = is_comment(t) ? (struct dfslice){t.p, 0} : t;
        return 0;
}

static void append_inst(struct dockerfile *df, struct df_inst *inst)
{
        df->insts = dftext_grow(df->insts, df->n_insts, sizeof(*df->insts));
        df->insts[df->n_insts++] = inst;
}

/* Reads one instruction starting with line `first_raw`; *ret is NULL for nothing (blank or
 * comment lines). */
static int read_instruction(struct parser *p, struct dfslice first_raw, struct df_inst **ret,
                            struct lerr **err)
{
        struct dfslice t, l;
        struct buf line = BUF_INIT(DOCKERFILE_MAX_BYTES);
        bool empty_continuation = false;
        int r;

        *ret = NULL;
        r = process_line(p, first_raw, true, &t, err);
        if (r < 0)
                return r;
        p->line++;
        unsigned first = p->line;
        bool cont = trim_continuation(&t, p->escape);
        if (!cont && t.n == 0)
                return 0;
        if (buf_append(&line, t.p, t.n) < 0)
                oom();
        while (cont && next_line(p, &l)) {
                r = process_line(p, l, false, &t, err);
                if (r < 0) {
                        buf_done(&line);
                        return r;
                }
                p->line++;
                if (is_comment(trim_newline(l)))
                        continue;
                if (dfslice_trim_left(t).n == 0) {
                        empty_continuation = true;
                        continue;
                }
                cont = trim_continuation(&t, p->escape);
                if (buf_append(&line, t.p, t.n) < 0)
                        oom();
        }
        unsigned last = p->line;
        _cleanup_free_ char *text = buf_steal(&line);
        _cleanup_(df_inst_freep) struct df_inst *inst = NULL;
        struct dfsplit sp = {.escape = p->escape, .df = p->df, .line = first};
        r = dfsplit_node(&sp, text, 0, &inst, err);
        if (r < 0) {
                _cleanup_free_ char *msg = xstrdup(lerr_message(*err));
                struct dfslice o =
                        dfslice_trim_right(dfslice_trim_left((struct dfslice){text, strlen(text)}));
                _cleanup_free_ char *orig = xstrndup(o.p, o.n);
                return parse_error(p, first, last, orig, err, lerr_code(*err), "%s", msg);
        }
        inst->line = first;
        inst->end_line = last;
        if (empty_continuation)
                dockerfile_warn(p->df, first,
                                "empty continuation line in '%s' (Docker will reject these)",
                                inst->original);
        if (can_contain_heredoc(inst) && strstr(text, "<<")) {
                r = heredocs_from_line(text, inst, err);
                if (r >= 0)
                        r = read_heredoc_bodies(p, inst, first, last, err);
                if (r < 0)
                        return r;
        }
        inst->last_line = p->line;
        *ret = TAKE_PTR(inst);
        return 0;
}

static int lex_all(struct parser *p, struct lerr **err)
{
        struct dfslice l;

        while (next_line(p, &l)) {
                struct df_inst *inst = NULL;
                if (p->line == 0 && l.n >= 3 && memcmp(l.p, "\xef\xbb\xbf", 3) == 0) {
                        l.p += 3;
                        l.n -= 3;
                }
                int r = read_instruction(p, l, &inst, err);
                if (r < 0)
                        return r;
                if (inst)
                        append_inst(p->df, inst);
        }
        return 0;
}

/* ---- the second pass: typed instructions and stages ---- */

/* keyword is the unknown word; inst the instruction it is in (an ONBUILD for a trigger) */
static int unknown_instruction(struct parser *p, const char *keyword, const struct df_inst *inst,
                               struct lerr **err)
{
        const char *names[DF_KIND_COUNT];
        for (unsigned k = 0; k < DF_KIND_COUNT; k++)
                names[k] = df_kind_name((enum df_kind) k);
        _cleanup_free_ char *s = dftext_suggest(keyword, names, DF_KIND_COUNT, true);
        _cleanup_free_ char *q = dftext_quote(keyword, strlen(keyword), 80);
        if (s)
                return parse_error(p, inst->line, inst->end_line, inst->original, err, EINVAL,
                                   "unknown instruction '%s' (did you mean '%s'?)", q, s);
        return parse_error(p, inst->line, inst->end_line, inst->original, err, EINVAL,
                           "unknown instruction '%s'", q);
}

static int parse_typed(struct parser *p, struct df_inst *inst, struct lerr **err)
{
        int r;

        if (inst->kind == KIND_UNKNOWN)
                return unknown_instruction(p, inst->keyword, inst, err);
        if (inst->kind == DF_ONBUILD && inst->u.onbuild.trigger) {
                struct df_inst *t = inst->u.onbuild.trigger;
                t->line = inst->line;
                t->end_line = inst->end_line;
                t->last_line = inst->last_line;
                /* the trigger carries the heredoc bodies, as when it is parsed again later */
                t->heredocs =
                        inst->n_heredocs ? xcalloc(inst->n_heredocs, sizeof(*t->heredocs)) : NULL;
                for (size_t i = 0; i < inst->n_heredocs; i++) {
                        t->heredocs[i] = inst->heredocs[i];
                        t->heredocs[i].name = xstrdup(inst->heredocs[i].name);
                        t->heredocs[i].content = xstrdup(inst->heredocs[i].content);
                }
                t->n_heredocs = inst->n_heredocs;
                if (t->kind == KIND_UNKNOWN)
                        return unknown_instruction(p, t->keyword, inst, err);
                if (t->kind != DF_ONBUILD && t->kind != DF_FROM && t->kind != DF_MAINTAINER &&
                    df_inst_parse(t, err) < 0)
                        return dockerfile_inst_wrap(p->filename, inst, err);
        }
        r = df_inst_parse(inst, err);
        if (r < 0)
                return p->filename ? dockerfile_inst_wrap(p->filename, inst, err) : r;
        return 0;
}

static int build_stages(struct parser *p, struct lerr **err)
{
        struct dockerfile *df = p->df;

        for (size_t i = 0; i < df->n_insts; i++) {
                struct df_inst *inst = df->insts[i];
                if (df->n_stages == 0 && inst->kind == DF_ARG) {
                        df->meta_args =
                                dftext_grow(df->meta_args, df->n_meta_args, sizeof(*df->meta_args));
                        df->meta_args[df->n_meta_args++] = inst;
                        continue;
                }
                if (inst->kind == DF_FROM && df->n_stages >= DOCKERFILE_MAX_STAGES)
                        return parse_error(p, inst->line, inst->end_line, inst->original, err,
                                           E2BIG, "more than %d stages", DOCKERFILE_MAX_STAGES);
                if (inst->kind == DF_FROM) {
                        df->stages = dftext_grow(df->stages, df->n_stages, sizeof(*df->stages));
                        df->stages[df->n_stages] = (struct df_stage){
                                .index = (unsigned) df->n_stages,
                                .name = inst->u.from.name,
                                .from = inst,
                        };
                        for (size_t s = 0; inst->u.from.name && s < df->n_stages; s++)
                                if (streq_ptr(df->stages[s].name, inst->u.from.name))
                                        dockerfile_warn(
                                                df, inst->line,
                                                "stage name '%s' is used more than once (line %u "
                                                "and line %u)",
                                                inst->u.from.name, df->stages[s].from->line,
                                                inst->line);
                        df->n_stages++;
                        continue;
                }
                if (df->n_stages == 0)
                        return parse_error(p, inst->line, inst->end_line, inst->original, err,
                                           EINVAL,
                                           "no build stage yet: only ARG can come before the "
                                           "first FROM");
                struct df_stage *st = &df->stages[df->n_stages - 1];
                st->insts = dftext_grow(st->insts, st->n_insts, sizeof(*st->insts));
                st->insts[st->n_insts++] = inst;
                if (inst->kind == DF_MAINTAINER)
                        dockerfile_warn(df, inst->line,
                                        "MAINTAINER is deprecated: use a label instead");
        }
        if (df->n_stages == 0)
                return parse_error(p, 0, 0, NULL, err, EINVAL,
                                   "the Dockerfile has no FROM instruction");
        return 0;
}

static int check_input(const char *data, size_t len, const char *filename, struct lerr **err)
{
        if (len > DOCKERFILE_MAX_BYTES)
                return lerr_set(err, E2BIG, "%s: the Dockerfile is %zu bytes, over the limit of %u",
                                filename, len, DOCKERFILE_MAX_BYTES);
        if (len == 0)
                return lerr_set(err, EINVAL, "%s: the Dockerfile is empty", filename);
        const char *nul = memchr(data, '\0', len);
        if (nul) {
                unsigned line = 1;
                for (const char *c = data; c < nul; c++)
                        line += *c == '\n';
                return lerr_set(err, EINVAL, "%s:%u: the Dockerfile holds a NUL byte", filename,
                                line);
        }
        return 0;
}

int dockerfile_parse(const char *data, size_t len, const char *filename, struct dockerfile **ret,
                     struct lerr **err)
{
        _cleanup_(dockerfile_freep) struct dockerfile *df = NULL;
        int r;

        if (!filename)
                filename = "Dockerfile";
        r = check_input(data, len, filename, err);
        if (r < 0)
                return r;
        df = xcalloc(1, sizeof(*df));
        df->filename = xstrdup(filename);
        struct parser p = {
                .data = data, .len = len, .escape = '\\', .filename = filename, .df = df};
        r = lex_all(&p, err);
        if (r < 0)
                return r;
        df->escape = p.escape;
        if (df->n_insts == 0)
                return lerr_set(err, EINVAL, "%s: the Dockerfile has no instructions", filename);
        for (size_t i = 0; i < df->n_insts; i++) {
                r = parse_typed(&p, df->insts[i], err);
                if (r < 0)
                        return r;
        }
        r = build_stages(&p, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(df);
        return 0;
}

void dockerfile_free(struct dockerfile *df)
{
        if (!df)
                return;
        for (size_t i = 0; i < df->n_insts; i++)
                df_inst_free(df->insts[i]);
        free(df->insts);
        free(df->meta_args);
        for (size_t i = 0; i < df->n_stages; i++)
                free(df->stages[i].insts);
        free(df->stages);
        for (size_t i = 0; i < df->n_warnings; i++)
                free(df->warnings[i].message);
        free(df->warnings);
        free(df->filename);
        free(df->syntax);
        free(df->check);
        free(df);
}

int dockerfile_parse_trigger(const char *text, struct df_inst **ret, struct lerr **err)
{
        _cleanup_(dockerfile_freep) struct dockerfile *df = xcalloc(1, sizeof(*df));
        size_t len = strlen(text);
        struct parser p = {.data = text, .len = len, .escape = '\\', .df = df};
        _cleanup_free_ char *q = dftext_quote(text, strcspn(text, "\n"), 80);
        int r;

        if (len == 0)
                r = lerr_set(err, EINVAL, "the trigger is empty");
        else if (len > DOCKERFILE_MAX_BYTES)
                r = lerr_set(err, E2BIG, "the trigger is over %u bytes", DOCKERFILE_MAX_BYTES);
        else
                r = lex_all(&p, err);
        if (r >= 0 && df->n_insts != 1)
                /* also when it is only blank lines or comments */
                r = lerr_set(err, EINVAL, "an ONBUILD trigger must be exactly one instruction");
        if (r >= 0 && (df->insts[0]->kind == DF_ONBUILD || df->insts[0]->kind == DF_FROM ||
                       df->insts[0]->kind == DF_MAINTAINER))
                r = lerr_set(err, EINVAL, "%s isn't allowed as an ONBUILD trigger",
                             df_kind_name(df->insts[0]->kind));
        if (r >= 0)
                r = parse_typed(&p, df->insts[0], err);
        if (r < 0)
                return lerr_wrap(err, "ONBUILD trigger '%s'", q);
        *ret = TAKE_PTR(df->insts[0]);
        df->n_insts = 0;
        return 0;
}
