/* SPDX-License-Identifier: Apache-2.0 */
/* Text helpers of the Dockerfile frontend: runes, white space, message quoting, suggestions.
 * Pure functions over caller-bounded strings; nothing here knows Dockerfile syntax. */
#include "executor/dftext.h"

#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/buf.h"

size_t dftext_rune(const char *s, size_t n, uint32_t *ret_rune)
{
        const unsigned char *u = (const unsigned char *) s;
        uint32_t r;
        size_t len;

        if (u[0] < 0x80) {
                *ret_rune = u[0];
                return 1;
        }
        if (u[0] >= 0xc2 && u[0] <= 0xdf) {
                len = 2;
                r = u[0] & 0x1f;
        } else if (u[0] >= 0xe0 && u[0] <= 0xef) {
                len = 3;
                r = u[0] & 0x0f;
        } else if (u[0] >= 0xf0 && u[0] <= 0xf4) {
                len = 4;
                r = u[0] & 0x07;
        } else
                goto invalid;
        if (n < len)
                goto invalid;
        for (size_t i = 1; i < len; i++) {
                if ((u[i] & 0xc0) != 0x80)
                        goto invalid;
                r = (r << 6) | (u[i] & 0x3f);
        }
        /* overlong forms, surrogates and values past U+10FFFF are invalid, as in Go */
        if ((len == 3 && r < 0x800) || (len == 4 && (r < 0x10000 || r > 0x10ffff)) ||
            (r >= 0xd800 && r <= 0xdfff))
                goto invalid;
        *ret_rune = r;
        return len;
invalid:
        *ret_rune = 0xfffd;
        return 1;
}

bool dftext_is_space_rune(uint32_t r)
{
        switch (r) {
        case '\t':
        case '\n':
        case '\v':
        case '\f':
        case '\r':
        case ' ':
        case 0x85:
        case 0xa0:
        case 0x1680:
        case 0x2028:
        case 0x2029:
        case 0x202f:
        case 0x205f:
        case 0x3000:
                return true;
        default:
                return r >= 0x2000 && r <= 0x200a;
        }
}

size_t dftext_space_len(const char *s, size_t n)
{
        uint32_t r;
        size_t len;

        if (n == 0)
                return 0;
        len = dftext_rune(s, n, &r);
        /* an invalid byte decodes to U+FFFD, which is not a space */
        return dftext_is_space_rune(r) ? len : 0;
}

char *dftext_quote(const char *s, size_t n, size_t max)
{
        struct buf b = BUF_INIT(SIZE_MAX);
        size_t i = 0;

        while (i < n) {
                uint32_t r;
                size_t len;

                if (i >= max) {
                        if (buf_append_str(&b, "...") < 0)
                                oom();
                        break;
                }
                len = dftext_rune(s + i, n - i, &r);
                if ((r == 0xfffd && len == 1) || r < 0x20 || r == 0x7f) {
                        if (buf_printf(&b, "\\x%02x", (unsigned char) s[i]) < 0)
                                oom();
                } else if (buf_append(&b, s + i, len) < 0)
                        oom();
                i += len;
        }
        return buf_steal(&b);
}

static size_t levenshtein(const char *a, const char *b, bool icase)
{
        size_t la = strlen(a), lb = strlen(b);
        _cleanup_free_ size_t *row = xcalloc(lb + 1, sizeof(size_t));

        for (size_t j = 0; j <= lb; j++)
                row[j] = j;
        for (size_t i = 1; i <= la; i++) {
                size_t prev = row[0];
                row[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        char ca = a[i - 1], cb = b[j - 1];
                        size_t cur = row[j];
                        if (icase) {
                                ca = (char) (ca >= 'A' && ca <= 'Z' ? ca + 32 : ca);
                                cb = (char) (cb >= 'A' && cb <= 'Z' ? cb + 32 : cb);
                        }
                        size_t best = prev + (ca == cb ? 0 : 1);
                        best = MIN(best, row[j] + 1);
                        best = MIN(best, row[j - 1] + 1);
                        row[j] = best;
                        prev = cur;
                }
        }
        return row[lb];
}

static bool all_case(const char *s, bool upper)
{
        for (; *s; s++)
                if (upper ? (*s >= 'a' && *s <= 'z') : (*s >= 'A' && *s <= 'Z'))
                        return false;
        return true;
}

char *dftext_suggest(const char *val, const char *const *options, size_t n_options, bool icase)
{
        const char *match = NULL;
        size_t mindist = 3, lv = strlen(val);

        for (size_t i = 0; i < n_options; i++) {
                size_t lo = strlen(options[i]);
                if (icase ? dftext_eq_icase(val, options[i]) : streq(val, options[i]))
                        return NULL; /* the value is valid: the error is about something else */
                /* the distance is at least the difference of the lengths */
                if ((lv > lo ? lv - lo : lo - lv) >= mindist)
                        continue;
                size_t d = levenshtein(val, options[i], icase);
                if (d < mindist) {
                        match = options[i];
                        mindist = d;
                }
        }
        if (!match)
                return NULL;
        char *r = xstrdup(match);
        /* Go's matchCase: upper case only for an all-upper-case value, else lower case */
        if (icase) {
                bool upper = all_case(val, true) && !all_case(val, false);
                for (char *p = r; *p; p++) {
                        if (!upper && *p >= 'A' && *p <= 'Z')
                                *p = (char) (*p + 32);
                        else if (upper && *p >= 'a' && *p <= 'z')
                                *p = (char) (*p - 32);
                }
        }
        return r;
}

bool dftext_eq_icase(const char *a, const char *b)
{
        return strcasecmp(a, b) == 0;
}

char *dftext_lower(char *s)
{
        for (char *p = s; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char) (*p + 32);
        return s;
}

void strvb_consume(struct strvb *b, char *s)
{
        if (b->n + 2 > b->cap) {
                size_t cap = b->cap ? b->cap * 2 : 8;
                b->v = xreallocarray(b->v, cap, sizeof(char *));
                b->cap = cap;
        }
        b->v[b->n++] = s;
        b->v[b->n] = NULL;
}

void strvb_push(struct strvb *b, const char *s)
{
        strvb_consume(b, xstrdup(s));
}

char **strvb_steal(struct strvb *b)
{
        char **v = b->v ? b->v : xcalloc(1, sizeof(char *));
        *b = (struct strvb){0};
        return v;
}

void strvb_done(struct strvb *b)
{
        for (size_t i = 0; i < b->n; i++)
                free(b->v[i]);
        free(b->v);
        *b = (struct strvb){0};
}

void *dftext_grow(void *p, size_t n, size_t size)
{
        if (n == 0)
                return xreallocarray(p, 1, size);
        if ((n & (n - 1)) == 0)
                return xreallocarray(p, n * 2, size);
        return p;
}
