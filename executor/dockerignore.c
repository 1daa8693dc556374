/* SPDX-License-Identifier: Apache-2.0 */
/* .dockerignore reading and matching (moby/patternmatcher semantics, see dockerignore.h). A
 * pattern compiles to the same kind of match Docker uses (exact, prefix, suffix, or a regular
 * expression, here run as a small NFA over runes). It does not walk directories. */
#include "executor/dockerignore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/strv.h"
#include "executor/dftext.h"

enum ptype { P_EXACT, P_PREFIX, P_SUFFIX, P_REGEXP };

enum tkind {
        T_LIT,     /* one rune */
        T_ANY1,    /* [^/] */
        T_STAR,    /* [^/]* */
        T_DOTSTAR, /* .* */
        T_DIRS,    /* (.*\/)? */
        T_CLASS,   /* [...] */
};

struct range {
        uint32_t lo, hi;
};

struct tok {
        enum tkind kind;
        uint32_t rune;
        bool negate;
        size_t first, n; /* ranges of a class */
};

struct pattern {
        char *text; /* cleaned, without the '!' */
        bool exclusion;
        enum ptype type;
        struct tok *toks;
        size_t n_toks;
        struct range *ranges;
        size_t n_ranges;
};

struct dockerignore {
        struct pattern *p;
        size_t n, cap;
        bool exceptions;
        struct strvb display; /* patterns as dockerignore_pattern() shows them */
};

/* Go's path/filepath.Clean for '/' separators. */
static char *go_clean(const char *p)
{
        size_t n = strlen(p), r = 0, w = 0, dotdot = 0;
        bool rooted = n > 0 && p[0] == '/';
        char *out = xmalloc(n + 2);

        if (rooted) {
                out[w++] = '/';
                r = dotdot = 1;
        }
        while (r < n) {
                if (p[r] == '/')
                        r++;
                else if (p[r] == '.' && (r + 1 == n || p[r + 1] == '/'))
                        r++;
                else if (p[r] == '.' && p[r + 1] == '.' && (r + 2 == n || p[r + 2] == '/')) {
                        r += 2;
                        if (w > dotdot) {
                                w--;
                                while (w > dotdot && out[w] != '/')
                                        w--;
                        } else if (!rooted) {
                                if (w > 0)
                                        out[w++] = '/';
                                out[w++] = '.';
                                out[w++] = '.';
                                dotdot = w;
                        }
                } else {
                        if ((rooted && w != 1) || (!rooted && w != 0))
                                out[w++] = '/';
                        while (r < n && p[r] != '/')
                                out[w++] = p[r++];
                }
        }
        if (w == 0)
                out[w++] = '.';
        out[w] = '\0';
        return out;
}

/* ---- pattern syntax (Go's filepath.Match rules for what is malformed) ---- */

/* One class member at *i: a rune or "\x"; false when malformed. */
static bool class_char(const char *s, size_t n, size_t *i, uint32_t *ret)
{
        if (*i >= n || s[*i] == '-' || s[*i] == ']')
                return false;
        if (s[*i] == '\\' && ++*i >= n)
                return false;
        size_t len = dftext_rune(s + *i, n - *i, ret);
        if (*ret == 0xfffd && len == 1)
                return false;
        *i += len;
        return *i < n; /* the class must still be closed */
}

/* Parses a class starting after '['; appends its ranges. */
static bool parse_class(const char *s, size_t n, size_t *i, struct pattern *p, struct tok *t)
{
        t->kind = T_CLASS;
        t->negate = *i < n && s[*i] == '^';
        if (t->negate)
                ++*i;
        t->first = p->n_ranges;
        for (size_t nrange = 0;; nrange++) {
                struct range r;
                if (*i < n && s[*i] == ']' && nrange > 0) {
                        ++*i;
                        break;
                }
                if (!class_char(s, n, i, &r.lo))
                        return false;
                r.hi = r.lo;
                if (s[*i] == '-') {
                        ++*i;
                        if (!class_char(s, n, i, &r.hi))
                                return false;
                }
                p->ranges = dftext_grow(p->ranges, p->n_ranges, sizeof(*p->ranges));
                p->ranges[p->n_ranges++] = r;
        }
        t->n = p->n_ranges - t->first;
        return true;
}

static void add_tok(struct pattern *p, struct tok t)
{
        p->toks = dftext_grow(p->toks, p->n_toks, sizeof(*p->toks));
        p->toks[p->n_toks++] = t;
}

/* patternmatcher's compile: the same match type, the regular expression as tokens. */
static bool compile(struct pattern *p)
{
        const char *s = p->text;
        size_t n = strlen(s), i = 0;

        p->type = P_EXACT;
        for (size_t iter = 0; i < n; iter++) {
                uint32_t r;
                struct tok t = {.kind = T_LIT};
                i += dftext_rune(s + i, n - i, &r);
                if (r == '*' && i < n && s[i] == '*') {
                        i++;
                        if (i < n && s[i] == '/')
                                i++;
                        if (i >= n && p->type == P_EXACT)
                                p->type = P_PREFIX;
                        else {
                                t.kind = i >= n ? T_DOTSTAR : T_DIRS;
                                add_tok(p, t);
                                p->type = P_REGEXP;
                        }
                        if (iter == 0)
                                p->type = P_SUFFIX;
                        continue;
                }
                if (r == '*' || r == '?') {
                        t.kind = r == '*' ? T_STAR : T_ANY1;
                        p->type = P_REGEXP;
                } else if (r == '\\' && i < n) {
                        i += dftext_rune(s + i, n - i, &t.rune);
                        p->type = P_REGEXP;
                } else if (r == '[') {
                        if (!parse_class(s, n, &i, p, &t))
                                return false;
                        p->type = P_REGEXP;
                } else if (r == '\\') {
                        return false; /* a trailing escape */
                } else {
                        t.rune = r;
                        if (r == ']')
                                p->type = P_REGEXP;
                }
                add_tok(p, t);
        }
        return true;
}

/* ---- matching ---- */

static bool class_has(const struct pattern *p, const struct tok *t, uint32_t r)
{
        bool in = false;
        for (size_t k = 0; k < t->n && !in; k++)
                in = r >= p->ranges[t->first + k].lo && r <= p->ranges[t->first + k].hi;
        return in != t->negate;
}

/* States are (token, inside) pairs: 2*i before token i, 2*i+1 inside a T_DIRS group. */
static void closure(const struct pattern *p, uint8_t *set)
{
        for (size_t i = 0; i < p->n_toks; i++) {
                if (!set[2 * i])
                        continue;
                enum tkind k = p->toks[i].kind;
                if (k == T_STAR || k == T_DOTSTAR || k == T_DIRS)
                        set[2 * (i + 1)] = 1;
                if (k == T_DIRS)
                        set[2 * i + 1] = 1;
        }
}

static bool step(const struct pattern *p, const uint8_t *cur, uint8_t *next, uint32_t r)
{
        bool any = false;
        memset(next, 0, 2 * (p->n_toks + 1));
        for (size_t i = 0; i < p->n_toks; i++) {
                const struct tok *t = &p->toks[i];
                if (cur[2 * i]) {
                        bool adv = (t->kind == T_LIT && r == t->rune) ||
                                   (t->kind == T_ANY1 && r != '/') ||
                                   (t->kind == T_CLASS && class_has(p, t, r));
                        if (adv)
                                next[2 * (i + 1)] = 1;
                        if ((t->kind == T_STAR && r != '/') || (t->kind == T_DOTSTAR && r != '\n'))
                                next[2 * i] = 1;
                }
                if (cur[2 * i + 1]) {
                        if (r != '\n')
                                next[2 * i + 1] = 1;
                        if (r == '/')
                                next[2 * (i + 1)] = 1;
                }
        }
        closure(p, next);
        for (size_t k = 0; k < 2 * (p->n_toks + 1) && !any; k++)
                any = next[k];
        return any;
}

/* Runs the tokens over s; with prefix, true when some longer text could still match. */
static bool nfa(const struct pattern *p, const char *s, size_t n, bool prefix)
{
        size_t states = 2 * (p->n_toks + 1);
        _cleanup_free_ uint8_t *a = xcalloc(states, 1);
        _cleanup_free_ uint8_t *b = xcalloc(states, 1);
        uint8_t *cur = a, *next = b;

        cur[0] = 1;
        closure(p, cur);
        for (size_t i = 0; i < n;) {
                uint32_t r;
                i += dftext_rune(s + i, n - i, &r);
                if (!step(p, cur, next, r))
                        return false;
                uint8_t *t = cur;
                cur = next;
                next = t;
        }
        return prefix || cur[2 * p->n_toks];
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
        size_t k = strlen(suffix);
        return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

static bool pattern_match(const struct pattern *p, const char *s, size_t n)
{
        size_t len = strlen(p->text);

        switch (p->type) {
        case P_EXACT:
                return n == len && memcmp(s, p->text, n) == 0;
        case P_PREFIX:
                return n >= len - 2 && memcmp(s, p->text, len - 2) == 0;
        case P_SUFFIX: {
                const char *suffix = p->text + 2;
                return ends_with(s, n, suffix) ||
                       (suffix[0] == '/' && n == len - 3 && memcmp(s, suffix + 1, n) == 0);
        }
        case P_REGEXP:
                return nfa(p, s, n, false);
        }
        return false;
}

/* The pattern matches path or one of its parent directories. */
static bool match_or_parent(const struct pattern *p, const char *path)
{
        size_t n = strlen(path);
        if (pattern_match(p, path, n))
                return true;
        for (size_t i = 0; i < n; i++)
                if (path[i] == '/' && pattern_match(p, path, i))
                        return true;
        return false;
}

static char *clean_rel(const char *rel)
{
        char *c = go_clean(rel);
        if (c[0] == '/') {
                char *t = xstrdup(c[1] ? c + 1 : ".");
                free(c);
                c = t;
        }
        return c;
}

bool dockerignore_match(const struct dockerignore *di, const char *rel)
{
        if (!di || strlen(rel) > FS_PATH_MAX)
                return false;
        _cleanup_free_ char *path = clean_rel(rel);
        bool matched = false;

        if (streq(path, "."))
                return false; /* the context root itself */
        for (size_t i = 0; i < di->n; i++) {
                /* an exception only matters once excluded, an exclusion only when not */
                if (di->p[i].exclusion != matched)
                        continue;
                if (match_or_parent(&di->p[i], path))
                        matched = !di->p[i].exclusion;
        }
        return matched;
}

/* Whether p could match some path strictly below dir (or a parent of one). */
static bool could_match_below(const struct pattern *p, const char *dir)
{
        _cleanup_free_ char *prefix = xasprintf("%s/", dir);
        size_t len = strlen(p->text);

        switch (p->type) {
        case P_EXACT:
                return startswith(p->text, prefix) && len > strlen(prefix);
        case P_PREFIX: {
                _cleanup_free_ char *pfx = xstrndup(p->text, len - 2);
                return startswith(pfx, prefix) || startswith(prefix, pfx);
        }
        case P_SUFFIX:
                return true;
        case P_REGEXP:
                return nfa(p, prefix, strlen(prefix), true);
        }
        return true;
}

bool dockerignore_may_include_below(const struct dockerignore *di, const char *dir)
{
        if (!di || strlen(dir) > FS_PATH_MAX)
                return true;
        _cleanup_free_ char *path = clean_rel(dir);
        size_t last = SIZE_MAX;

        if (streq(path, ".") || !dockerignore_match(di, path))
                return true;
        /* after the last pattern excluding dir, everything below is excluded too, unless a
         * later exception matches there */
        for (size_t i = 0; i < di->n; i++)
                if (!di->p[i].exclusion && match_or_parent(&di->p[i], path))
                        last = i;
        if (last == SIZE_MAX)
                return true;
        for (size_t i = last + 1; i < di->n; i++)
                if (di->p[i].exclusion && could_match_below(&di->p[i], path))
                        return true;
        return false;
}

bool dockerignore_has_exceptions(const struct dockerignore *di)
{
        return di && di->exceptions;
}

size_t dockerignore_count(const struct dockerignore *di)
{
        return di ? di->n : 0;
}

const char *dockerignore_pattern(const struct dockerignore *di, size_t i)
{
        return di && i < di->n ? di->display.v[i] : NULL;
}

void dockerignore_free(struct dockerignore *di)
{
        if (!di)
                return;
        for (size_t i = 0; i < di->n; i++) {
                free(di->p[i].text);
                free(di->p[i].toks);
                free(di->p[i].ranges);
        }
        free(di->p);
        strvb_done(&di->display);
        free(di);
}

/* ---- building ---- */

static char *trim(const char *s)
{
        size_t n = strlen(s), b = 0, k;
        while (b < n && (k = dftext_space_len(s + b, n - b)))
                b += k;
        while (n > b) {
                size_t start = n - 1;
                while (start > b && ((unsigned char) s[start] & 0xc0) == 0x80 && n - start < 4)
                        start--;
                if (dftext_space_len(s + start, n - start) != n - start)
                        break;
                n = start;
        }
        return xstrndup(s + b, n - b);
}

/* Adds one pattern as patternmatcher.New does (trim, clean, '!'); 0 when skipped (empty). */
static int add_pattern(struct dockerignore *di, const char *raw, struct lerr **err)
{
        _cleanup_free_ char *t = trim(raw);
        if (!*t)
                return 0;
        if (di->n >= DOCKERIGNORE_MAX_PATTERNS)
                return lerr_set(err, E2BIG, "more than %d patterns", DOCKERIGNORE_MAX_PATTERNS);
        if (strlen(t) > DOCKERIGNORE_MAX_PATTERN_BYTES)
                return lerr_set(err, E2BIG, "pattern over %d bytes",
                                DOCKERIGNORE_MAX_PATTERN_BYTES);
        _cleanup_free_ char *c = go_clean(t);
        struct pattern p = {0};
        const char *body = c;
        if (c[0] == '!') {
                if (!c[1])
                        return lerr_set(err, EINVAL, "illegal exclusion pattern: \"!\"");
                p.exclusion = true;
                body = c + 1;
        }
        p.text = xstrdup(body);
        if (!compile(&p)) {
                _cleanup_free_ char *q = dftext_quote(t, strlen(t), 80);
                free(p.text);
                free(p.toks);
                free(p.ranges);
                return lerr_set(err, EINVAL, "syntax error in pattern '%s'", q);
        }
        if (di->n == di->cap) {
                di->cap = di->cap ? di->cap * 2 : 16;
                di->p = xreallocarray(di->p, di->cap, sizeof(*di->p));
        }
        di->p[di->n++] = p;
        di->exceptions |= p.exclusion;
        strvb_push(&di->display, c);
        return 1;
}

/* ignorefile.ReadAll's normalization of one line: trim, '!', clean, leading '/'. NULL when the
 * line holds no pattern. */
static char *read_line_pattern(const char *line)
{
        if (line[0] == '#')
                return NULL;
        _cleanup_free_ char *t = trim(line);
        if (!*t)
                return NULL;
        bool invert = t[0] == '!';
        _cleanup_free_ char *body = invert ? trim(t + 1) : xstrdup(t);
        if (*body) {
                char *c = go_clean(body);
                free(body);
                body = c;
                if (body[0] == '/' && body[1]) {
                        c = xstrdup(body + 1);
                        free(body);
                        body = c;
                }
        }
        return invert ? xasprintf("!%s", body) : TAKE_PTR(body);
}

int dockerignore_parse(const char *data, size_t len, const char *what, struct dockerignore **ret,
                       struct lerr **err)
{
        _cleanup_(dockerignore_freep) struct dockerignore *di = xcalloc(1, sizeof(*di));
        unsigned line = 0;

        if (len > DOCKERIGNORE_MAX_BYTES)
                return lerr_set(err, E2BIG, "%s: %zu bytes, over the limit of %u", what, len,
                                DOCKERIGNORE_MAX_BYTES);
        for (size_t pos = 0; pos < len; line++) {
                const char *nl = memchr(data + pos, '\n', len - pos);
                size_t n = nl ? (size_t) (nl - data - pos) : len - pos;
                _cleanup_free_ char *l = xstrndup(data + pos, n);
                pos += n + (nl ? 1 : 0);
                if (strlen(l) != n)
                        return lerr_set(err, EINVAL, "%s:%u: holds a NUL byte", what, line + 1);
                while (n && l[n - 1] == '\r')
                        l[--n] = '\0'; /* bufio.ScanLines drops a \r before \n */
                const char *s = l;
                if (line == 0 && startswith(s, "\xef\xbb\xbf"))
                        s += 3;
                _cleanup_free_ char *pat = read_line_pattern(s);
                if (pat && add_pattern(di, pat, err) < 0)
                        return lerr_wrap(err, "%s:%u", what, line + 1);
        }
        *ret = TAKE_PTR(di);
        return 0;
}

int dockerignore_from_patterns(char *const *patterns, struct dockerignore **ret, struct lerr **err)
{
        _cleanup_(dockerignore_freep) struct dockerignore *di = xcalloc(1, sizeof(*di));
        strv_foreach (p, patterns) {
                int r = add_pattern(di, p, err);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(di);
        return 0;
}

int dockerignore_load(int context_fd, const char *dockerfile, struct dockerignore **ret,
                      char **ret_path, struct lerr **err)
{
        struct buf b = BUF_INIT(DOCKERIGNORE_MAX_BYTES);
        _cleanup_free_ char *path = dockerfile ? xasprintf("%s.dockerignore", dockerfile) : NULL;
        int r = path ? fs_read_file_at(AT_FDCWD, path, &b) : -ENOENT;

        if (r == -ENOENT) {
                free(path);
                path = xstrdup(".dockerignore");
                buf_reset(&b);
                r = fs_read_file_at(context_fd, path, &b);
        }
        if (r == -ENOENT) {
                buf_done(&b);
                if (ret_path)
                        *ret_path = NULL;
                return dockerignore_from_patterns(NULL, ret, err);
        }
        if (r == -E2BIG)
                r = lerr_set(err, E2BIG, "read '%s': over the limit of %u bytes", path,
                             DOCKERIGNORE_MAX_BYTES);
        else if (r < 0)
                r = lerr_errno(err, r, "read '%s'", path);
        else
                r = dockerignore_parse(b.data ? b.data : "", b.len, path, ret, err);
        buf_done(&b);
        if (r >= 0 && ret_path)
                *ret_path = TAKE_PTR(path);
        return r;
}
