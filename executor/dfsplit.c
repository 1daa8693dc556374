/* SPDX-License-Identifier: Apache-2.0 */
/* Splitting one logical Dockerfile line into an instruction (BuildKit's splitCommand,
 * extractBuilderFlags and line parsers): the keyword, flags, and arguments as each instruction
 * reads them (JSON or shell form, words, key/value triples). File structure is dockerfile.c's. */
#include "executor/dockerfile-internal.h"

#include <errno.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/strv.h"
#include "executor/dftext.h"
#include "executor/jsonargs.h"

struct dfslice dfslice_trim_left(struct dfslice s)
{
        size_t k;
        while (s.n && (k = dftext_space_len(s.p, s.n))) {
                s.p += k;
                s.n -= k;
        }
        return s;
}

struct dfslice dfslice_trim_right(struct dfslice s)
{
        /* a trailing space rune is found by stepping back over continuation bytes */
        while (s.n) {
                size_t start = s.n - 1;
                while (start > 0 && ((unsigned char) s.p[start] & 0xc0) == 0x80 && s.n - start < 4)
                        start--;
                if (dftext_space_len(s.p + start, s.n - start) != s.n - start)
                        break;
                s.n = start;
        }
        return s;
}

/* ---- splitting an instruction ---- */

/* BuildKit's extractBuilderFlags: leading words starting with "--" are flags (quotes and
 * escapes processed in them); returns where the arguments start. */
static size_t extract_flags(const char *line, size_t n, char escape, struct strvb *flags)
{
        size_t pos = 0;

        for (;;) {
                size_t k;
                while (pos < n && (k = dftext_space_len(line + pos, n - pos)))
                        pos += k;
                if (pos >= n)
                        return n;
                if (line[pos] != '-' || pos + 1 >= n || line[pos + 1] != '-')
                        return pos;
                struct buf w = BUF_INIT(SIZE_MAX);
                bool blank_ok = false;
                char quote = 0;
                while (pos < n) {
                        char ch = line[pos];
                        if (!quote && dftext_space_len(line + pos, n - pos))
                                break;
                        pos++;
                        if (!quote && (ch == '\'' || ch == '"')) {
                                quote = ch;
                                blank_ok = true;
                                continue;
                        }
                        if (quote && ch == quote) {
                                quote = 0;
                                continue;
                        }
                        if (ch == escape) {
                                if (pos >= n) {
                                        quote = 0;
                                        continue; /* an escape at the very end is dropped */
                                }
                                ch = line[pos++];
                        }
                        if (buf_append_char(&w, ch) < 0)
                                oom();
                }
                if (streq(buf_str(&w), "--")) {
                        buf_done(&w);
                        return pos;
                }
                if (blank_ok || w.len)
                        strvb_consume(flags, buf_steal(&w));
                buf_done(&w);
        }
}

/* BuildKit's parseWords: white-space separated words, quotes and escapes kept in them. */
static char **parse_words(const char *rest, char escape)
{
        struct strvb words = {0};
        size_t n = strlen(rest), pos = 0;
        struct buf w = BUF_INIT(SIZE_MAX);
        bool in_word = false, blank_ok = false;
        char quote = 0;

        while (pos < n) {
                uint32_t r;
                size_t cw = dftext_rune(rest + pos, n - pos, &r);
                if (!in_word && !quote) {
                        if (dftext_is_space_rune(r)) {
                                pos += cw;
                                continue;
                        }
                        in_word = true;
                }
                if (!quote && dftext_is_space_rune(r)) {
                        if (blank_ok || w.len)
                                strvb_consume(&words, buf_steal(&w));
                        buf_done(&w);
                        in_word = blank_ok = false;
                        pos += cw;
                        continue;
                }
                if (!quote && (r == '\'' || r == '"')) {
                        quote = (char) r;
                        blank_ok = true;
                } else if (quote && r == (uint32_t) quote) {
                        quote = 0;
                } else if (r == (uint32_t) escape && (!quote || quote != '\'')) {
                        if (pos + cw >= n) {
                                quote = 0;
                                pos += cw;
                                continue; /* an escape at the end is dropped */
                        }
                        if (buf_append(&w, rest + pos, cw) < 0)
                                oom();
                        pos += cw;
                        cw = dftext_rune(rest + pos, n - pos, &r);
                }
                if (buf_append(&w, rest + pos, cw) < 0)
                        oom();
                pos += cw;
        }
        if ((in_word || quote) && (blank_ok || w.len))
                strvb_consume(&words, buf_steal(&w));
        buf_done(&w);
        return strvb_steal(&words);
}

/* Splits at runs of the parser's blanks (\t \v \f \r space), as regexp.Split does. */
static char **split_blanks(const char *s, size_t max)
{
        struct strvb v = {0};
        while (*s) {
                size_t n = 0;
                if (max && v.n + 1 == max)
                        n = strlen(s);
                else
                        while (s[n] && !dftext_is_blank(s[n]))
                                n++;
                strvb_consume(&v, xstrndup(s, n));
                s += n;
                while (dftext_is_blank(*s))
                        s++;
        }
        return strvb_steal(&v);
}

/* ---- line parsers (BuildKit's line_parsers.go), filling inst->args and inst->json ---- */

static int json_or(const struct dfsplit *p, struct df_inst *inst, const char *rest, bool to_list,
                   struct lerr **err)
{
        struct dfslice t = dfslice_trim_left((struct dfslice){rest, strlen(rest)});
        char **v = NULL;
        int r = t.n && t.p[0] == '[' ? jsonargs_parse(t.p, t.n, &v) : -EBADMSG;

        (void) p;
        if (r == 0) {
                inst->args = v;
                inst->json = true;
                return 0;
        }
        if (r == -EINVAL)
                return lerr_set(err, EINVAL,
                                "when using JSON array syntax, arrays must be comprised of "
                                "strings only");
        if (r == -EILSEQ)
                return lerr_set(err, EINVAL, "JSON arguments cannot hold a NUL character");
        if (to_list)
                inst->args = split_blanks(rest, 0);
        else if (*rest)
                strv_push(&inst->args, rest);
        if (t.n && t.p[0] == '[') {
                _cleanup_free_ char *q = dftext_quote(rest, strlen(rest), 80);
                dockerfile_warn(p->df, p->line,
                                "arguments look like JSON but are not valid JSON, so they are "
                                "taken as plain text: '%s'",
                                q);
        }
        return 0;
}

static int name_val(struct df_inst *inst, const char *rest, struct lerr **err)
{
        _cleanup_(strv_freep) char **words = parse_words(rest, inst->escape);
        const char *what = df_kind_name(inst->kind);

        if (!words[0])
                return 0;
        if (!strchr(words[0], '=')) {
                /* legacy "KEY value": the value is the rest of the line as written */
                _cleanup_(strv_freep) char **parts = split_blanks(rest, 2);
                if (strv_length(parts) < 2)
                        return lerr_set(err, EINVAL, "%s must have two arguments", what);
                strv_push(&inst->args, parts[0]);
                strv_push(&inst->args, parts[1]);
                strv_push(&inst->args, "");
                return 0;
        }
        struct strvb args = {0};
        strv_foreach (w, words) {
                const char *eq = strchr(w, '=');
                if (!eq) {
                        _cleanup_free_ char *q = dftext_quote(w, strlen(w), 80);
                        strvb_done(&args);
                        return lerr_set(err, EINVAL,
                                        "syntax error - can't find = in '%s'. Must be of the "
                                        "form: name=value",
                                        q);
                }
                strvb_consume(&args, xstrndup(w, (size_t) (eq - w)));
                strvb_push(&args, eq + 1);
                strvb_push(&args, "=");
        }
        inst->args = strvb_steal(&args);
        return 0;
}

static int health_config(const struct dfsplit *p, struct df_inst *inst, const char *rest,
                         struct lerr **err)
{
        size_t n = strlen(rest), sep = 0, k;

        while (sep < n && !dftext_space_len(rest + sep, n - sep)) {
                uint32_t r;
                sep += dftext_rune(rest + sep, n - sep, &r);
        }
        if (sep == 0)
                return 0;
        size_t next = sep;
        while (next < n && (k = dftext_space_len(rest + next, n - next)))
                next += k;
        struct df_inst tmp = {.kind = DF_HEALTHCHECK};
        int r = json_or(p, &tmp, rest + next, false, err);
        if (r < 0)
                return r;
        struct strvb args = {0};
        strvb_consume(&args, xstrndup(rest, sep));
        strv_foreach (a, tmp.args)
                strvb_push(&args, a);
        strv_free(tmp.args);
        inst->args = strvb_steal(&args);
        inst->json = tmp.json;
        return 0;
}

static int line_args(const struct dfsplit *p, struct df_inst *inst, const char *rest,
                     unsigned depth, struct lerr **err)
{
        switch (inst->kind) {
        case DF_ADD:
        case DF_COPY:
        case DF_VOLUME:
                return json_or(p, inst, rest, true, err);
        case DF_CMD:
        case DF_ENTRYPOINT:
        case DF_RUN:
        case DF_SHELL:
                return *rest ? json_or(p, inst, rest, false, err) : 0;
        case DF_ARG:
                inst->args = parse_words(rest, inst->escape);
                return 0;
        case DF_ENV:
        case DF_LABEL:
                return name_val(inst, rest, err);
        case DF_EXPOSE:
        case DF_FROM:
                inst->args = split_blanks(rest, 0);
                return 0;
        case DF_HEALTHCHECK:
                return health_config(p, inst, rest, err);
        case DF_MAINTAINER:
        case DF_STOPSIGNAL:
        case DF_USER:
        case DF_WORKDIR:
                if (*rest)
                        strv_push(&inst->args, rest);
                return 0;
        case DF_ONBUILD: {
                if (!*rest)
                        return 0;
                struct df_inst *child = NULL;
                int r = dfsplit_node(p, rest, depth + 1, &child, err);
                if (r < 0)
                        return r;
                inst->u.onbuild.trigger = child;
                struct strvb args = {0};
                strvb_push(&args, child->keyword);
                strv_foreach (a, child->args)
                        strvb_push(&args, a);
                inst->args = strvb_steal(&args);
                return 0;
        }
        case DF_KIND_COUNT:
                return 0; /* unknown instruction: reported by the instruction pass */
        }
        return 0;
}

/* BuildKit's newNodeFromLine: the instruction word, its flags, its arguments. */
int dfsplit_node(const struct dfsplit *p, const char *line, unsigned depth, struct df_inst **ret,
                 struct lerr **err)
{
        _cleanup_(df_inst_freep) struct df_inst *inst = xcalloc(1, sizeof(*inst));
        struct dfslice t =
                dfslice_trim_right(dfslice_trim_left((struct dfslice){line, strlen(line)}));
        size_t k = 0;
        enum df_kind kind;

        while (k < t.n && !dftext_is_blank(t.p[k]))
                k++;
        inst->keyword = xstrndup(t.p, k);
        inst->original = xstrndup(t.p, t.n);
        inst->escape = p->escape;
        inst->kind = df_kind_from_name(inst->keyword, &kind) == 0 ? kind : DF_KIND_COUNT;
        if (inst->kind == DF_ONBUILD && depth > 0)
                return lerr_set(err, EINVAL,
                                "chaining ONBUILD via 'ONBUILD ONBUILD' isn't allowed");

        _cleanup_free_ char *rest = NULL;
        struct strvb flags = {0};
        if (k < t.n) {
                while (k < t.n && dftext_is_blank(t.p[k]))
                        k++;
                size_t a = extract_flags(t.p + k, t.n - k, p->escape, &flags);
                struct dfslice r = dfslice_trim_right(
                        dfslice_trim_left((struct dfslice){t.p + k + a, t.n - k - a}));
                rest = xstrndup(r.p, r.n);
        } else
                rest = xstrdup("");
        inst->flags = strvb_steal(&flags);
        /* line_args sets or appends to args */
        strv_free(inst->args);
        inst->args = NULL;
        int r = line_args(p, inst, rest, depth, err);
        if (r < 0)
                return r;
        if (!inst->args)
                inst->args = xcalloc(1, sizeof(char *));
        *ret = TAKE_PTR(inst);
        return 0;
}
