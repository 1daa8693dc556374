/* SPDX-License-Identifier: Apache-2.0 */
/* Reader of JSON arrays of strings with Go encoding/json's acceptance rules. It validates any
 * JSON value (iteratively, so deep nesting cannot exhaust the stack) but decodes only strings. */
#include "executor/jsonargs.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/strv.h"
#include "executor/dftext.h"

struct jr {
        const char *s;
        size_t n, pos;
};

static void skip_ws(struct jr *j)
{
        while (j->pos < j->n && (j->s[j->pos] == ' ' || j->s[j->pos] == '\t' ||
                                 j->s[j->pos] == '\n' || j->s[j->pos] == '\r'))
                j->pos++;
}

static int hex4(const char *p, uint32_t *ret)
{
        uint32_t v = 0;
        for (int i = 0; i < 4; i++) {
                char c = p[i];
                v <<= 4;
                if (c >= '0' && c <= '9')
                        v |= (uint32_t) (c - '0');
                else if (c >= 'a' && c <= 'f')
                        v |= (uint32_t) (c - 'a' + 10);
                else if (c >= 'A' && c <= 'F')
                        v |= (uint32_t) (c - 'A' + 10);
                else
                        return -EBADMSG;
        }
        *ret = v;
        return 0;
}

static int put_rune(struct buf *b, uint32_t r)
{
        char u[4];
        size_t n;

        if (r < 0x80) {
                u[0] = (char) r;
                n = 1;
        } else if (r < 0x800) {
                u[0] = (char) (0xc0 | (r >> 6));
                u[1] = (char) (0x80 | (r & 0x3f));
                n = 2;
        } else if (r < 0x10000) {
                u[0] = (char) (0xe0 | (r >> 12));
                u[1] = (char) (0x80 | ((r >> 6) & 0x3f));
                u[2] = (char) (0x80 | (r & 0x3f));
                n = 3;
        } else {
                u[0] = (char) (0xf0 | (r >> 18));
                u[1] = (char) (0x80 | ((r >> 12) & 0x3f));
                u[2] = (char) (0x80 | ((r >> 6) & 0x3f));
                u[3] = (char) (0x80 | (r & 0x3f));
                n = 4;
        }
        return buf_append(b, u, n);
}

/* \uXXXX, with a following low surrogate when XXXX is a high one; anything unpaired is U+FFFD */
static int unicode_escape(struct jr *j, uint32_t *ret)
{
        uint32_t r, lo;

        if (j->n - j->pos < 4 || hex4(j->s + j->pos, &r) < 0)
                return -EBADMSG;
        j->pos += 4;
        if (r >= 0xd800 && r < 0xdc00) {
                if (j->n - j->pos >= 6 && j->s[j->pos] == '\\' && j->s[j->pos + 1] == 'u' &&
                    hex4(j->s + j->pos + 2, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) {
                        j->pos += 6;
                        r = 0x10000 + ((r - 0xd800) << 10) + (lo - 0xdc00);
                } else
                        r = 0xfffd;
        } else if (r >= 0xdc00 && r < 0xe000)
                r = 0xfffd;
        *ret = r;
        return 0;
}

/* A string at pos (the opening quote); decoded into out when out is not NULL. A NUL character
 * sets *nul and is left out. */
static int string(struct jr *j, struct buf *out, bool *nul)
{
        j->pos++;
        while (j->pos < j->n) {
                unsigned char c = (unsigned char) j->s[j->pos];
                uint32_t r;
                int k = 0;

                if (c == '"') {
                        j->pos++;
                        return 0;
                }
                if (c < 0x20)
                        return -EBADMSG;
                if (c == '\\') {
                        if (++j->pos >= j->n)
                                return -EBADMSG;
                        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
                        const char *e = strchr(from, j->s[j->pos]);
                        if (j->s[j->pos] == 'u') {
                                j->pos++;
                                if (unicode_escape(j, &r) < 0)
                                        return -EBADMSG;
                        } else if (e && *e) {
                                r = (uint32_t) to[e - from];
                                j->pos++;
                        } else
                                return -EBADMSG;
                } else
                        j->pos += dftext_rune(j->s + j->pos, j->n - j->pos, &r);
                if (out && r == 0)
                        *nul = true;
                else if (out)
                        k = put_rune(out, r);
                if (k < 0)
                        return k;
        }
        return -EBADMSG;
}

static bool digit(const struct jr *j)
{
        return j->pos < j->n && j->s[j->pos] >= '0' && j->s[j->pos] <= '9';
}

static int number(struct jr *j)
{
        size_t start = j->pos;

        if (j->s[j->pos] == '-')
                j->pos++;
        if (!digit(j))
                return -EBADMSG;
        if (j->s[j->pos] == '0')
                j->pos++;
        else
                while (digit(j))
                        j->pos++;
        if (j->pos < j->n && j->s[j->pos] == '.') {
                j->pos++;
                if (!digit(j))
                        return -EBADMSG;
                while (digit(j))
                        j->pos++;
        }
        if (j->pos < j->n && (j->s[j->pos] == 'e' || j->s[j->pos] == 'E')) {
                j->pos++;
                if (j->pos < j->n && (j->s[j->pos] == '+' || j->s[j->pos] == '-'))
                        j->pos++;
                if (!digit(j))
                        return -EBADMSG;
                while (digit(j))
                        j->pos++;
        }
        /* Go fails to decode a number beyond float64 range, which makes the text not JSON */
        _cleanup_free_ char *t = xstrndup(j->s + start, j->pos - start);
        errno = 0;
        double d = strtod(t, NULL);
        if (errno == ERANGE && isinf(d))
                return -EBADMSG;
        return 0;
}

static int literal(struct jr *j, const char *word)
{
        size_t l = strlen(word);
        if (j->n - j->pos < l || memcmp(j->s + j->pos, word, l) != 0)
                return -EBADMSG;
        j->pos += l;
        return 0;
}

/* A scalar value (not an array or object) at pos. */
static int scalar(struct jr *j)
{
        switch (j->s[j->pos]) {
        case '"':
                return string(j, NULL, NULL);
        case 't':
                return literal(j, "true");
        case 'f':
                return literal(j, "false");
        case 'n':
                return literal(j, "null");
        default:
                return number(j);
        }
}

static int object_key(struct jr *j)
{
        skip_ws(j);
        if (j->pos >= j->n || j->s[j->pos] != '"' || string(j, NULL, NULL) < 0)
                return -EBADMSG;
        skip_ws(j);
        if (j->pos >= j->n || j->s[j->pos++] != ':')
                return -EBADMSG;
        return 0;
}

/* Validates the value at pos, nesting tracked in an explicit stack ('[' or '{' per level). */
static int value(struct jr *j, char *stack)
{
        size_t depth = 0;
        bool after = false; /* a value just ended */

        for (;;) {
                if (after && depth == 0)
                        return 0;
                skip_ws(j);
                if (j->pos >= j->n)
                        return -EBADMSG;
                char c = j->s[j->pos];
                if (!after) {
                        if (c != '[' && c != '{') {
                                if (scalar(j) < 0)
                                        return -EBADMSG;
                                after = true;
                                continue;
                        }
                        if (depth >= JSONARGS_MAX_DEPTH)
                                return -EBADMSG;
                        stack[depth++] = c;
                        j->pos++;
                        skip_ws(j);
                        if (j->pos < j->n && j->s[j->pos] == (c == '[' ? ']' : '}')) {
                                j->pos++;
                                depth--;
                                after = true;
                        } else if (c == '{' && object_key(j) < 0)
                                return -EBADMSG;
                        continue;
                }
                j->pos++;
                if (c == (stack[depth - 1] == '[' ? ']' : '}')) {
                        depth--;
                        continue;
                }
                if (c != ',' || (stack[depth - 1] == '{' && object_key(j) < 0))
                        return -EBADMSG;
                after = false;
        }
}

int jsonargs_parse(const char *s, size_t n, char ***ret)
{
        struct jr j = {.s = s, .n = n};
        _cleanup_(strvb_done) struct strvb v = {0};
        _cleanup_free_ char *stack = xmalloc(JSONARGS_MAX_DEPTH);
        bool non_string = false, nul = false;

        if (n == 0 || s[0] != '[')
                return -EBADMSG;
        j.pos = 1;
        skip_ws(&j);
        if (j.pos < n && s[j.pos] == ']')
                j.pos++;
        else
                for (;;) {
                        skip_ws(&j);
                        if (j.pos >= n)
                                return -EBADMSG;
                        if (s[j.pos] == '"') {
                                struct buf b = BUF_INIT(SIZE_MAX);
                                int r = string(&j, &b, &nul);
                                if (r < 0) {
                                        buf_done(&b);
                                        return -EBADMSG;
                                }
                                strvb_consume(&v, buf_steal(&b));
                        } else {
                                if (value(&j, stack) < 0)
                                        return -EBADMSG;
                                non_string = true;
                        }
                        skip_ws(&j);
                        if (j.pos >= n)
                                return -EBADMSG;
                        char c = s[j.pos++];
                        if (c == ']')
                                break;
                        if (c != ',')
                                return -EBADMSG;
                }
        skip_ws(&j);
        if (j.pos != n)
                return -EBADMSG;
        if (non_string)
                return -EINVAL;
        if (nul)
                return -EILSEQ;
        *ret = strvb_steal(&v);
        return 0;
}
