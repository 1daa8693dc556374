/* SPDX-License-Identifier: Apache-2.0 */
/* The WWW-Authenticate parser. It only tokenises: which challenge to answer and how is
 * auth.c's business. The input is hostile (any registry, any proxy), so every loop is bounded
 * by the input length and every count by a limit. */
#include "registry/auth_header.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"

struct cursor {
        const char *s;
        size_t len, pos;
};

/* tchar of RFC 7230 §3.2.6 */
static bool is_tchar(char c)
{
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
                return true;
        return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_token68_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (c && strchr("-._~+/", c) != NULL);
}

static bool at_end(const struct cursor *c)
{
        return c->pos >= c->len;
}

static char peek(const struct cursor *c, size_t ahead)
{
        return c->pos + ahead < c->len ? c->s[c->pos + ahead] : '\0';
}

static void skip_ows(struct cursor *c)
{
        while (!at_end(c) && (c->s[c->pos] == ' ' || c->s[c->pos] == '\t'))
                c->pos++;
}

static size_t token_len(const struct cursor *c, size_t from)
{
        size_t n = 0;
        while (from + n < c->len && is_tchar(c->s[from + n]))
                n++;
        return n;
}

static char *lower_dup(const char *s, size_t n)
{
        char *d = xstrndup(s, n);
        for (char *p = d; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char) (*p - 'A' + 'a');
        return d;
}

/* Is there "token OWS =" at the cursor (a parameter rather than a new challenge)? */
static bool param_ahead(const struct cursor *c)
{
        size_t n = token_len(c, c->pos), i = c->pos + n;
        if (n == 0)
                return false;
        while (i < c->len && (c->s[i] == ' ' || c->s[i] == '\t'))
                i++;
        return i < c->len && c->s[i] == '=';
}

static int parse_quoted(struct cursor *c, char **ret, struct lerr **err)
{
        struct buf b = BUF_INIT(AUTH_HEADER_MAX);
        c->pos++; /* opening quote */
        while (!at_end(c)) {
                char ch = c->s[c->pos++];
                if (ch == '"') {
                        *ret = buf_steal(&b);
                        return 0;
                }
                if (ch == '\\') {
                        if (at_end(c))
                                break;
                        ch = c->s[c->pos++];
                }
                if (buf_append_char(&b, ch) < 0)
                        break;
        }
        buf_done(&b);
        return lerr_set(err, EBADMSG, "unterminated quoted string");
}

/* A value: quoted-string, or (leniently) everything up to a comma or whitespace. */
static int parse_value(struct cursor *c, char **ret, struct lerr **err)
{
        if (peek(c, 0) == '"')
                return parse_quoted(c, ret, err);
        size_t start = c->pos;
        while (!at_end(c) && c->s[c->pos] != ',' && c->s[c->pos] != ' ' && c->s[c->pos] != '\t')
                c->pos++;
        *ret = xstrndup(c->s + start, c->pos - start);
        return 0;
}

static int add_param(struct auth_challenge *ch, struct cursor *c, struct lerr **err)
{
        size_t n = token_len(c, c->pos);
        _cleanup_free_ char *name = lower_dup(c->s + c->pos, n), *value = NULL;
        int r;

        c->pos += n;
        skip_ows(c);
        c->pos++; /* '=' (checked by param_ahead) */
        skip_ows(c);
        r = parse_value(c, &value, err);
        if (r < 0)
                return lerr_wrap(err, "parameter '%s'", name);
        if (auth_challenge_param(ch, name))
                return 0; /* RFC 7235: names occur once; the first one wins */
        if (ch->n_params >= AUTH_PARAMS_MAX)
                return lerr_set(err, E2BIG, "more than %d parameters", AUTH_PARAMS_MAX);
        ch->params = xreallocarray(ch->params, ch->n_params + 1, sizeof(*ch->params));
        ch->params[ch->n_params++] = (struct auth_param){TAKE_PTR(name), TAKE_PTR(value)};
        return 0;
}

/* token68 := 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=", then end or ','. */
static size_t token68_ahead(const struct cursor *c)
{
        size_t i = c->pos;
        while (i < c->len && is_token68_char(c->s[i]))
                i++;
        if (i == c->pos)
                return 0;
        while (i < c->len && c->s[i] == '=')
                i++;
        size_t end = i;
        while (i < c->len && (c->s[i] == ' ' || c->s[i] == '\t'))
                i++;
        return (i >= c->len || c->s[i] == ',') ? end - c->pos : 0;
}

static void challenge_done(struct auth_challenge *ch)
{
        free(ch->scheme);
        free(ch->token68);
        for (size_t i = 0; i < ch->n_params; i++) {
                free(ch->params[i].name);
                free(ch->params[i].value);
        }
        free(ch->params);
}

/* Parses the body of one challenge (after the scheme) up to the start of the next one. */
static int parse_challenge_body(struct cursor *c, struct auth_challenge *ch, struct lerr **err)
{
        size_t t68;
        int r;

        skip_ows(c);
        /* "abc==" is a token68, not a parameter "abc" with the value "=" */
        if ((t68 = token68_ahead(c)) > 0) {
                ch->token68 = xstrndup(c->s + c->pos, t68);
                c->pos += t68;
                skip_ows(c);
                return 0;
        }
        for (;;) {
                skip_ows(c);
                while (peek(c, 0) == ',') {
                        c->pos++;
                        skip_ows(c);
                }
                if (at_end(c) || !param_ahead(c))
                        return 0; /* end, or the scheme of the next challenge */
                r = add_param(ch, c, err);
                if (r < 0)
                        return r;
                skip_ows(c);
                if (!at_end(c) && peek(c, 0) != ',')
                        return lerr_set(err, EBADMSG, "expected ',' at byte %zu", c->pos);
        }
}

int auth_header_parse(const char *s, size_t len, struct auth_challenges *list, struct lerr **err)
{
        struct cursor c = {.s = s, .len = len, .pos = 0};
        int r;

        if (len > AUTH_HEADER_MAX)
                return lerr_set(err, E2BIG, "WWW-Authenticate header over %d bytes",
                                AUTH_HEADER_MAX);
        if (memchr(s, '\0', len))
                return lerr_set(err, EBADMSG, "WWW-Authenticate header contains a NUL byte");
        for (;;) {
                skip_ows(&c);
                while (peek(&c, 0) == ',') {
                        c.pos++;
                        skip_ows(&c);
                }
                if (at_end(&c))
                        return 0;
                size_t n = token_len(&c, c.pos);
                if (n == 0)
                        return lerr_set(err, EBADMSG,
                                        "parse WWW-Authenticate: expected a scheme at byte %zu",
                                        c.pos);
                if (list->n >= AUTH_CHALLENGES_MAX)
                        return lerr_set(err, E2BIG,
                                        "parse WWW-Authenticate: more than %d challenges",
                                        AUTH_CHALLENGES_MAX);
                struct auth_challenge ch = {.scheme = lower_dup(s + c.pos, n)};
                c.pos += n;
                if (!at_end(&c) && peek(&c, 0) != ' ' && peek(&c, 0) != '\t' &&
                    peek(&c, 0) != ',') {
                        challenge_done(&ch);
                        return lerr_set(err, EBADMSG,
                                        "parse WWW-Authenticate: unexpected '%c' at byte %zu",
                                        peek(&c, 0), c.pos);
                }
                r = parse_challenge_body(&c, &ch, err);
                if (r < 0) {
                        (void) lerr_wrap(err, "parse WWW-Authenticate challenge '%s'", ch.scheme);
                        challenge_done(&ch);
                        return r;
                }
                list->items = xreallocarray(list->items, list->n + 1, sizeof(*list->items));
                list->items[list->n++] = ch;
        }
}

const char *auth_challenge_param(const struct auth_challenge *c, const char *name)
{
        for (size_t i = 0; i < c->n_params; i++)
                if (strcasecmp(c->params[i].name, name) == 0)
                        return c->params[i].value;
        return NULL;
}

const struct auth_challenge *auth_challenges_find(const struct auth_challenges *list,
                                                  const char *scheme)
{
        for (size_t i = 0; i < list->n; i++)
                if (strcasecmp(list->items[i].scheme, scheme) == 0)
                        return &list->items[i];
        return NULL;
}

void auth_challenges_done(struct auth_challenges *list)
{
        for (size_t i = 0; i < list->n; i++)
                challenge_done(&list->items[i]);
        free(list->items);
        list->items = NULL;
        list->n = 0;
}
