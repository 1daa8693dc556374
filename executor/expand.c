/* SPDX-License-Identifier: Apache-2.0 */
/* Variable expansion of Dockerfile words with BuildKit's rules (shell/lex.go): quoting,
 * escapes, ${} modifiers and the * ? patterns of ${v#p} ${v%p} ${v/p/r}. It does not decide
 * which instruction expands what (instructions.c) and knows nothing of ARG/ENV scopes (vars.c). */
#include "executor/expand.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/strv.h"
#include "executor/dftext.h"

struct lexer {
        const char *s;
        size_t n, pos;
        char esc;
        unsigned flags;
        bool raw_escapes;
        const struct expand_env *env;
        unsigned depth;
        char *errmsg; /* what went wrong, set with the negative return */
};

struct words {
        struct strvb v;
        struct buf cur;
        bool in_word;
};

static int fail(struct lexer *lx, int code, const char *fmt, ...) PRINTF(3, 4);
static int fail(struct lexer *lx, int code, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        free(lx->errmsg);
        lx->errmsg = xvasprintf(fmt, ap);
        va_end(ap);
        return -code;
}

static int put(struct lexer *lx, struct buf *b, const void *p, size_t n)
{
        if (buf_append(b, p, n) < 0)
                return fail(lx, E2BIG, "the result is over %u bytes", EXPAND_MAX_BYTES);
        return 0;
}

static int put_str(struct lexer *lx, struct buf *b, const char *s)
{
        return put(lx, b, s, strlen(s));
}

static const char *lookup(const struct lexer *lx, const char *name)
{
        return lx->env && lx->env->lookup ? lx->env->lookup(lx->env->userdata, name) : NULL;
}

/* ---- word splitting (BuildKit's wordsStruct) ---- */

static int words_push(struct lexer *lx, struct words *w)
{
        (void) lx;
        strvb_consume(&w->v, buf_steal(&w->cur));
        w->in_word = false;
        return 0;
}

static int words_add_raw(struct lexer *lx, struct words *w, const char *p, size_t n)
{
        if (!w)
                return 0;
        w->in_word = true;
        return put(lx, &w->cur, p, n);
}

/* Adds text that expansion produced: white space in it separates words. */
static int words_add_text(struct lexer *lx, struct words *w, const char *p, size_t n)
{
        if (!w)
                return 0;
        for (size_t i = 0; i < n;) {
                size_t sp = dftext_space_len(p + i, n - i);
                if (sp) {
                        if (w->in_word && w->cur.len)
                                words_push(lx, w);
                        i += sp;
                        continue;
                }
                uint32_t r;
                size_t len = dftext_rune(p + i, n - i, &r);
                int k = words_add_raw(lx, w, p + i, len);
                if (k < 0)
                        return k;
                i += len;
        }
        return 0;
}

/* ---- * ? patterns: a small Pike VM with leftmost-first (Perl) priorities, as Go's regexp
 * would run the regular expression BuildKit builds from the pattern. ---- */

enum pat_op { PAT_RUNE, PAT_ANY, PAT_SPLIT, PAT_JMP, PAT_MATCH };

struct pat_inst {
        enum pat_op op;
        uint32_t rune;
        size_t x, y;
};

struct pattern {
        struct pat_inst *prog;
        size_t n;
};

static void pattern_done(struct pattern *p)
{
        free(p->prog);
        p->prog = NULL;
}

static void emit(struct pattern *p, enum pat_op op, uint32_t rune, size_t x, size_t y)
{
        p->prog = dftext_grow(p->prog, p->n, sizeof(*p->prog));
        p->prog[p->n++] = (struct pat_inst){.op = op, .rune = rune, .x = x, .y = y};
}

static int pattern_compile(struct lexer *lx, const char *pat, size_t len, bool greedy,
                           struct pattern *ret)
{
        struct pattern p = {0};

        for (size_t i = 0; i < len;) {
                uint32_t r;
                size_t l = dftext_rune(pat + i, len - i, &r);
                i += l;
                if (r == '*') {
                        size_t at = p.n;
                        /* greedy: prefer one more character; lazy: prefer leaving */
                        if (greedy)
                                emit(&p, PAT_SPLIT, 0, at + 1, at + 3);
                        else
                                emit(&p, PAT_SPLIT, 0, at + 3, at + 1);
                        emit(&p, PAT_ANY, 0, 0, 0);
                        emit(&p, PAT_JMP, 0, at, 0);
                } else if (r == '?') {
                        emit(&p, PAT_ANY, 0, 0, 0);
                } else if (r == '\\') {
                        /* "\}" and "\/" only kept the terminator out of ${}: drop the \ */
                        if (i < len && (pat[i] == '}' || pat[i] == '/'))
                                continue;
                        if (i >= len || (pat[i] != '*' && pat[i] != '?' && pat[i] != '\\')) {
                                _cleanup_free_ char *q = dftext_quote(pat + i, i < len ? 1 : 0, 4);
                                pattern_done(&p);
                                return fail(lx, EINVAL,
                                            "invalid pattern '%.*s' in substitution: invalid "
                                            "escape '\\%s'",
                                            (int) MIN(len, 64), pat, q);
                        }
                        emit(&p, PAT_RUNE, (uint32_t) pat[i], 0, 0);
                        i++;
                } else
                        emit(&p, PAT_RUNE, r, 0, 0);
        }
        emit(&p, PAT_MATCH, 0, 0, 0);
        *ret = p;
        return 0;
}

struct thread {
        size_t pc, start;
};

struct tlist {
        struct thread *t;
        size_t n;
};

struct vm {
        const struct pattern *p;
        size_t *mark; /* generation in which each pc was added to a list */
        size_t *stack;
        size_t gen;
};

/* Adds pc and everything reachable from it without consuming input, in priority order. */
static void addthread(struct vm *vm, struct tlist *l, size_t pc, size_t start)
{
        size_t sp = 0;

        vm->stack[sp++] = pc;
        while (sp) {
                pc = vm->stack[--sp];
                if (vm->mark[pc] == vm->gen)
                        continue;
                vm->mark[pc] = vm->gen;
                const struct pat_inst *in = &vm->p->prog[pc];
                switch (in->op) {
                case PAT_JMP:
                        vm->stack[sp++] = in->x;
                        break;
                case PAT_SPLIT:
                        vm->stack[sp++] = in->y;
                        vm->stack[sp++] = in->x;
                        break;
                case PAT_RUNE:
                case PAT_ANY:
                case PAT_MATCH:
                        l->t[l->n++] = (struct thread){.pc = pc, .start = start};
                        break;
                }
        }
}

/* Leftmost-first match of p in v[from..n); only at from when anchored. */
static bool pattern_search(const struct pattern *p, const char *v, size_t n, size_t from,
                           bool anchored, size_t *ret_start, size_t *ret_end)
{
        _cleanup_free_ size_t *mark = xcalloc(p->n, sizeof(size_t));
        _cleanup_free_ size_t *stack = xcalloc(p->n * 2 + 2, sizeof(size_t));
        _cleanup_free_ struct thread *a = xcalloc(p->n, sizeof(struct thread));
        _cleanup_free_ struct thread *b = xcalloc(p->n, sizeof(struct thread));
        struct vm vm = {.p = p, .mark = mark, .stack = stack, .gen = 1};
        struct tlist cl = {.t = a}, nl = {.t = b};
        bool matched = false;

        for (size_t pos = from;;) {
                uint32_t r = 0;
                size_t w = 0;

                if (!matched && (pos == from || !anchored))
                        addthread(&vm, &cl, 0, pos); /* a new start has the lowest priority */
                if (cl.n == 0 && (matched || anchored || pos >= n))
                        break;
                if (pos < n)
                        w = dftext_rune(v + pos, n - pos, &r);
                vm.gen++;
                nl.n = 0;
                for (size_t i = 0; i < cl.n; i++) {
                        const struct pat_inst *in = &p->prog[cl.t[i].pc];
                        if (in->op == PAT_MATCH) {
                                matched = true;
                                *ret_start = cl.t[i].start;
                                *ret_end = pos;
                                break; /* lower-priority threads lose */
                        }
                        if (pos < n && ((in->op == PAT_RUNE && r == in->rune) ||
                                        (in->op == PAT_ANY && r != '\n')))
                                addthread(&vm, &nl, cl.t[i].pc + 1, cl.t[i].start);
                }
                if (pos >= n)
                        break;
                struct thread *t = cl.t;
                cl = nl;
                nl.t = t;
                nl.n = 0;
                pos += w;
        }
        return matched;
}

static int check_cost(struct lexer *lx, const struct pattern *p, size_t n)
{
        size_t cost;
        if (__builtin_mul_overflow(p->n, n + 1, &cost) || cost > EXPAND_MAX_MATCH_COST)
                return fail(lx, E2BIG, "pattern match is too large (%zu x %zu)", p->n, n);
        return 0;
}

static int trim_prefix(struct lexer *lx, const char *pat, size_t plen, const char *v, size_t n,
                       bool greedy, size_t *ret_cut)
{
        struct pattern p = {0};
        size_t s, e;
        int r = pattern_compile(lx, pat, plen, greedy, &p);
        if (r < 0)
                return r;
        r = check_cost(lx, &p, n);
        if (r >= 0)
                *ret_cut = pattern_search(&p, v, n, 0, true, &s, &e) ? e : 0;
        pattern_done(&p);
        return r;
}

/* Reverses s by runes; with escapes, "\x" pairs keep their order (BuildKit's reversePattern). */
static char *reverse(const char *s, size_t n, bool escapes)
{
        char *out = xmalloc(n + 1);
        size_t i = 0;

        while (i < n) {
                uint32_t r;
                size_t len = dftext_rune(s + i, n - i, &r);
                if (escapes && s[i] == '\\' && i + 1 < n) {
                        uint32_t r2;
                        len = 1 + dftext_rune(s + i + 1, n - i - 1, &r2);
                }
                memcpy(out + n - i - len, s + i, len);
                i += len;
        }
        out[n] = '\0';
        return out;
}

static int trim(struct lexer *lx, char op, const char *word, const char *value, struct buf *out)
{
        size_t wlen = strlen(word), vlen = strlen(value), cut = 0;
        bool greedy = wlen > 0 && word[0] == op;
        int r;

        if (greedy) {
                word++;
                wlen--;
        }
        if (op == '#') {
                r = trim_prefix(lx, word, wlen, value, vlen, greedy, &cut);
                return r < 0 ? r : put(lx, out, value + cut, vlen - cut);
        }
        /* shortest or longest suffix: a prefix match on both strings reversed */
        _cleanup_free_ char *rw = reverse(word, wlen, true);
        _cleanup_free_ char *rv = reverse(value, vlen, false);
        r = trim_prefix(lx, rw, wlen, rv, vlen, greedy, &cut);
        if (r < 0)
                return r;
        _cleanup_free_ char *back = reverse(rv + cut, vlen - cut, false);
        return put(lx, out, back, vlen - cut);
}

static int replace(struct lexer *lx, const char *pat, const char *repl, const char *v, bool all,
                   struct buf *out)
{
        struct pattern p = {0};
        size_t n = strlen(v), search = 0, last = 0, ms, me;
        int r = pattern_compile(lx, pat, strlen(pat), true, &p);

        if (r < 0)
                return r;
        r = check_cost(lx, &p, n);
        /* Go's Regexp.ReplaceAllString loop, including its rules for empty matches */
        while (r >= 0 && search <= n && pattern_search(&p, v, n, search, false, &ms, &me)) {
                r = put(lx, out, v + last, ms - last);
                if (r >= 0 && (me > last || ms == 0))
                        r = put_str(lx, out, repl);
                last = me;
                if (!all)
                        break;
                uint32_t rune;
                size_t w = search < n ? dftext_rune(v + search, n - search, &rune) : 0;
                if (search + w > me)
                        search += w;
                else if (search + 1 > me)
                        search++;
                else
                        search = me;
        }
        if (r >= 0)
                r = put(lx, out, v + last, n - last);
        pattern_done(&p);
        return r;
}

/* ---- the lexer ---- */

static int process_stop_on(struct lexer *lx, int stop, bool raw_escapes, struct buf *out,
                           struct words *w);

static bool is_special_param(char c)
{
        return c == '@' || c == '*' || c == '#' || c == '?' || c == '-' || c == '$' || c == '!' ||
               c == '0';
}

/* Reads a variable name at pos: digits only when it starts with one, a single special
 * parameter, or letters, digits and _ (any non-ASCII rune but a space counts as a letter). */
static char *process_name(struct lexer *lx)
{
        size_t start = lx->pos;
        const char *s = lx->s;

        if (lx->pos < lx->n && s[lx->pos] >= '0' && s[lx->pos] <= '9') {
                while (lx->pos < lx->n && s[lx->pos] >= '0' && s[lx->pos] <= '9')
                        lx->pos++;
        } else if (lx->pos < lx->n && is_special_param(s[lx->pos])) {
                lx->pos++;
        } else {
                while (lx->pos < lx->n) {
                        unsigned char c = (unsigned char) s[lx->pos];
                        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '_') {
                                lx->pos++;
                                continue;
                        }
                        if (c < 0x80 || dftext_space_len(s + lx->pos, lx->n - lx->pos))
                                break;
                        uint32_t r;
                        lx->pos += dftext_rune(s + lx->pos, lx->n - lx->pos, &r);
                }
        }
        return xstrndup(s + start, lx->pos - start);
}

static int dollar_modifier(struct lexer *lx, const char *name, const char *chs, char ch,
                           bool null_is_unset, struct buf *out)
{
        struct buf word = BUF_INIT(EXPAND_MAX_BYTES);
        bool raw = ch == '#' || ch == '%';
        int r;

        if (null_is_unset && raw)
                return fail(lx, EINVAL, "unsupported modifier (%s) in substitution", chs);
        r = process_stop_on(lx, '}', raw, &word, NULL);
        if (r < 0) {
                buf_done(&word);
                return lx->pos >= lx->n ? fail(lx, EINVAL, "syntax error: missing '}'") : r;
        }
        const char *value = lookup(lx, name), *wd = buf_str(&word);
        bool set = value != NULL;
        bool empty = !set || (null_is_unset && !*value);

        if (!set && (lx->flags & EXPAND_KEEP_UNSET)) {
                r = put_str(lx, out, "${");
                if (r >= 0)
                        r = put_str(lx, out, name);
                if (r >= 0)
                        r = put_str(lx, out, chs);
                if (r >= 0)
                        r = put_str(lx, out, wd);
                if (r >= 0)
                        r = put_str(lx, out, "}");
        } else if (ch == '-')
                r = put_str(lx, out, empty ? wd : value);
        else if (ch == '+')
                r = put_str(lx, out, empty ? "" : wd);
        else if (ch == '?') {
                if (empty)
                        r = fail(lx, EINVAL, "%s: %s", name,
                                 *wd   ? wd
                                 : set ? "is not allowed to be empty"
                                       : "is not allowed to be unset");
                else
                        r = put_str(lx, out, value);
        } else if (ch == '#' || ch == '%')
                r = trim(lx, ch, wd, strempty(value), out);
        else
                r = fail(lx, EINVAL, "unsupported modifier (%s) in substitution", chs);
        buf_done(&word);
        return r;
}

static int dollar_replace(struct lexer *lx, const char *name, struct buf *out)
{
        struct buf pat = BUF_INIT(EXPAND_MAX_BYTES), rep = BUF_INIT(EXPAND_MAX_BYTES);
        bool all = lx->pos < lx->n && lx->s[lx->pos] == '/';
        int r;

        if (all)
                lx->pos++;
        r = process_stop_on(lx, '/', true, &pat, NULL);
        if (r < 0 && lx->pos >= lx->n)
                r = fail(lx, EINVAL, "syntax error: missing '/' in ${}");
        if (r >= 0) {
                r = process_stop_on(lx, '}', true, &rep, NULL);
                if (r < 0 && lx->pos >= lx->n)
                        r = fail(lx, EINVAL, "syntax error: missing '}'");
        }
        if (r >= 0) {
                const char *value = lookup(lx, name);
                if (!value && (lx->flags & EXPAND_KEEP_UNSET)) {
                        _cleanup_free_ char *s = xasprintf("${%s%s%s/%s}", name, all ? "//" : "/",
                                                           buf_str(&pat), buf_str(&rep));
                        r = put_str(lx, out, s);
                } else
                        r = replace(lx, buf_str(&pat), buf_str(&rep), strempty(value), all, out);
        }
        buf_done(&pat);
        buf_done(&rep);
        return r;
}

static int process_braces(struct lexer *lx, struct buf *out)
{
        if (lx->pos >= lx->n)
                return fail(lx, EINVAL, "syntax error: missing '}'");
        char c = lx->s[lx->pos];
        if (c == '{' || c == '}' || c == ':')
                return fail(lx, EINVAL, "syntax error: bad substitution");

        _cleanup_free_ char *name = process_name(lx);
        if (lx->pos >= lx->n)
                return fail(lx, EINVAL, "syntax error: missing '}'");

        char ch = lx->s[lx->pos++];
        char chs[8] = {ch, 0};
        switch (ch) {
        case '}': {
                const char *v = lookup(lx, name);
                if (!v && (lx->flags & EXPAND_KEEP_UNSET)) {
                        _cleanup_free_ char *s = xasprintf("${%s}", name);
                        return put_str(lx, out, s);
                }
                return put_str(lx, out, strempty(v));
        }
        case ':': {
                if (lx->pos >= lx->n)
                        return fail(lx, EINVAL, "syntax error: missing '}'");
                uint32_t r;
                size_t len = dftext_rune(lx->s + lx->pos, lx->n - lx->pos, &r);
                memcpy(chs + 1, lx->s + lx->pos, len);
                chs[1 + len] = '\0';
                ch = lx->s[lx->pos];
                lx->pos += len;
                return dollar_modifier(lx, name, chs, ch, true, out);
        }
        case '+':
        case '-':
        case '?':
        case '#':
        case '%':
                return dollar_modifier(lx, name, chs, ch, false, out);
        case '/':
                return dollar_replace(lx, name, out);
        default: {
                _cleanup_free_ char *q = dftext_quote(&ch, 1, 4);
                return fail(lx, EINVAL, "unsupported modifier (%s) in substitution", q);
        }
        }
}

static int process_dollar(struct lexer *lx, struct buf *out)
{
        int r;

        if (++lx->depth > EXPAND_MAX_DEPTH)
                return fail(lx, EINVAL, "substitutions nested deeper than %d", EXPAND_MAX_DEPTH);
        lx->pos++; /* the $ */
        if (lx->pos >= lx->n || lx->s[lx->pos] != '{') {
                _cleanup_free_ char *name = process_name(lx);
                if (!*name)
                        r = put_str(lx, out, "$");
                else {
                        const char *v = lookup(lx, name);
                        if (!v && (lx->flags & EXPAND_KEEP_UNSET)) {
                                r = put_str(lx, out, "$");
                                if (r >= 0)
                                        r = put_str(lx, out, name);
                        } else
                                r = put_str(lx, out, strempty(v));
                }
        } else {
                lx->pos++; /* the { */
                r = process_braces(lx, out);
        }
        lx->depth--;
        return r;
}

/* 'literal': nothing is special inside, not even the escape token */
static int process_single_quote(struct lexer *lx, struct buf *out)
{
        bool raw = lx->flags & EXPAND_RAW_QUOTES;
        size_t start = ++lx->pos;

        while (lx->pos < lx->n && lx->s[lx->pos] != '\'')
                lx->pos++;
        if (lx->pos >= lx->n)
                return fail(lx, EINVAL,
                            "unexpected end of statement while looking for matching "
                            "single-quote");
        lx->pos++;
        if (raw)
                return put(lx, out, lx->s + start - 1, lx->pos - start + 1);
        return put(lx, out, lx->s + start, lx->pos - start - 1);
}

/* "text": $ expands; the escape token escapes " $ and itself and stays before anything else */
static int process_double_quote(struct lexer *lx, struct buf *out)
{
        bool raw = lx->flags & EXPAND_RAW_QUOTES;
        int r = 0;

        lx->pos++;
        if (raw)
                r = put_str(lx, out, "\"");
        while (r >= 0) {
                if (lx->pos >= lx->n)
                        return fail(lx, EINVAL,
                                    "unexpected end of statement while looking for "
                                    "matching double-quote");
                char ch = lx->s[lx->pos];
                if (ch == '"') {
                        lx->pos++;
                        return raw ? put_str(lx, out, "\"") : 0;
                }
                if (ch == '$') {
                        r = process_dollar(lx, out);
                        continue;
                }
                lx->pos++;
                if (ch == lx->esc) {
                        if (lx->raw_escapes && (r = put(lx, out, &ch, 1)) < 0)
                                break;
                        if (lx->pos >= lx->n)
                                continue; /* reported as the missing quote */
                        char next = lx->s[lx->pos];
                        if (next == '"' || next == '$' || next == lx->esc) {
                                ch = next;
                                lx->pos++;
                        }
                }
                r = put(lx, out, &ch, 1);
        }
        return r;
}

/* "<<" keeps the blanks after it, so that "<< EOF" stays one word */
static int process_less(struct lexer *lx, struct buf *out)
{
        lx->pos++;
        if (lx->pos >= lx->n || lx->s[lx->pos] != '<')
                return put_str(lx, out, "<");
        size_t start = ++lx->pos;
        while (lx->pos < lx->n &&
               (lx->s[lx->pos] == ' ' || lx->s[lx->pos] == '\t' || lx->s[lx->pos] == '\r'))
                lx->pos++;
        int r = put_str(lx, out, "<<");
        return r < 0 ? r : put(lx, out, lx->s + start, lx->pos - start);
}

static int special(struct lexer *lx, char ch, struct buf *out, struct words *w)
{
        struct buf tmp = BUF_INIT(EXPAND_MAX_BYTES);
        int r;

        if (ch == '$')
                r = process_dollar(lx, &tmp);
        else if (ch == '<')
                r = process_less(lx, &tmp);
        else if (ch == '\'')
                r = process_single_quote(lx, &tmp);
        else
                r = process_double_quote(lx, &tmp);
        if (r >= 0)
                r = put(lx, out, tmp.data, tmp.len);
        if (r >= 0)
                r = ch == '$' ? words_add_text(lx, w, tmp.data, tmp.len)
                              : words_add_raw(lx, w, tmp.data, tmp.len);
        buf_done(&tmp);
        return r;
}

static int stop_on_loop(struct lexer *lx, int stop, struct buf *out, struct words *w)
{
        bool quotes = !(lx->flags & EXPAND_NO_QUOTES);
        int r = 0;

        while (r >= 0 && lx->pos < lx->n) {
                char ch = lx->s[lx->pos];
                if (stop >= 0 && ch == stop) {
                        lx->pos++;
                        return 0;
                }
                if (ch == '$' || ch == '<' || (quotes && (ch == '\'' || ch == '"'))) {
                        r = special(lx, ch, out, w);
                        continue;
                }
                if (ch == lx->esc) {
                        lx->pos++;
                        if (lx->raw_escapes) {
                                r = put(lx, out, &ch, 1);
                                if (r >= 0)
                                        r = words_add_raw(lx, w, &ch, 1);
                        }
                        if (r < 0 || lx->pos >= lx->n)
                                break;
                        uint32_t rune;
                        size_t len = dftext_rune(lx->s + lx->pos, lx->n - lx->pos, &rune);
                        r = put(lx, out, lx->s + lx->pos, len);
                        if (r >= 0)
                                r = words_add_raw(lx, w, lx->s + lx->pos, len);
                        lx->pos += len;
                        continue;
                }
                uint32_t rune;
                size_t len = dftext_rune(lx->s + lx->pos, lx->n - lx->pos, &rune);
                r = put(lx, out, lx->s + lx->pos, len);
                if (r >= 0)
                        r = words_add_text(lx, w, lx->s + lx->pos, len);
                lx->pos += len;
        }
        if (r >= 0 && stop >= 0)
                r = fail(lx, EINVAL, "unexpected end of statement while looking for matching %c",
                         stop);
        return r;
}

static int process_stop_on(struct lexer *lx, int stop, bool raw_escapes, struct buf *out,
                           struct words *w)
{
        bool saved = lx->raw_escapes;
        lx->raw_escapes = raw_escapes;
        int r = stop_on_loop(lx, stop, out, w);
        lx->raw_escapes = saved;
        return r;
}

static int run(const char *word, char escape, unsigned flags, const struct expand_env *env,
               struct buf *out, struct words *w, struct lerr **err)
{
        struct lexer lx = {
                .s = word,
                .n = strlen(word),
                .esc = escape,
                .flags = flags,
                .raw_escapes = flags & EXPAND_RAW_ESCAPES,
                .env = env,
        };
        int r = process_stop_on(&lx, -1, lx.raw_escapes, out, w);
        if (r < 0) {
                _cleanup_free_ char *q = dftext_quote(word, lx.n, 80);
                r = lerr_set(err, -r, "expand '%s': %s", q, strempty(lx.errmsg));
        }
        free(lx.errmsg);
        return r;
}

int expand_word(const char *word, char escape, unsigned flags, const struct expand_env *env,
                char **ret, struct lerr **err)
{
        struct buf out = BUF_INIT(EXPAND_MAX_BYTES);
        int r = run(word, escape, flags, env, &out, NULL, err);
        if (r < 0) {
                buf_done(&out);
                return r;
        }
        *ret = buf_steal(&out);
        return 0;
}

int expand_words(const char *word, char escape, unsigned flags, const struct expand_env *env,
                 char ***ret, struct lerr **err)
{
        struct buf out = BUF_INIT(EXPAND_MAX_BYTES);
        struct words w = {.cur = BUF_INIT(EXPAND_MAX_BYTES)};
        int r = run(word, escape, flags, env, &out, &w, err);

        buf_done(&out);
        if (r < 0) {
                buf_done(&w.cur);
                strvb_done(&w.v);
                return r;
        }
        if (w.cur.len)
                strvb_consume(&w.v, buf_steal(&w.cur));
        buf_done(&w.cur);
        *ret = strvb_steal(&w.v);
        return 0;
}

static const char *strv_lookup(void *userdata, const char *name)
{
        const struct expand_strv_env *e = userdata;
        const char *found = NULL;
        size_t n = strlen(name);

        strv_foreach (kv, e->kv)
                if (strncmp(kv, name, n) == 0 && kv[n] == '=')
                        found = kv + n + 1;
        return found;
}

void expand_strv_env_init(struct expand_strv_env *e, char *const *kv)
{
        e->env.lookup = strv_lookup;
        e->env.userdata = e;
        e->kv = kv;
}
