/* SPDX-License-Identifier: Apache-2.0 */
/* The .gitmodules reader (git-config syntax as config.c parses it, keeping submodule.NAME.path
 * and .url) and relative submodule URL resolution. No includes ([include] is not followed: a
 * repository's file must not read others), no other keys, no fetching. */
#include "executor/git_modules.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"

void git_modules_done(struct git_modules *m)
{
        for (size_t i = 0; i < m->n; i++) {
                free(m->v[i].name);
                free(m->v[i].path);
                free(m->v[i].url);
        }
        free(m->v);
        *m = (struct git_modules){0};
}

struct parser {
        const char *p, *end;
        unsigned line;
        struct git_modules m;
        bool submodule; /* inside [submodule "NAME"] */
        size_t cur;     /* its index in m */
};

static bool is_alpha(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_keychar(char c)
{
        return is_alpha(c) || (c >= '0' && c <= '9') || c == '-';
}

static bool is_blank(char c)
{
        return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int bad_line(struct parser *ps, const char *what, struct lerr **err)
{
        return lerr_set(err, EBADMSG, "'.gitmodules' line %u: %s", ps->line, what);
}

static void skip_blanks(struct parser *ps)
{
        while (ps->p < ps->end && is_blank(*ps->p))
                ps->p++;
}

static void skip_line(struct parser *ps)
{
        while (ps->p < ps->end && *ps->p != '\n')
                ps->p++;
}

static int enter_section(struct parser *ps, const char *name, const char *sub, struct lerr **err)
{
        ps->submodule = sub && strcasecmp(name, "submodule") == 0;
        if (!ps->submodule)
                return 0;
        for (ps->cur = 0; ps->cur < ps->m.n; ps->cur++)
                if (streq(ps->m.v[ps->cur].name, sub))
                        return 0;
        if (ps->m.n >= GIT_MODULES_MAX)
                return lerr_set(err, E2BIG, "'.gitmodules' has over %u submodules",
                                GIT_MODULES_MAX);
        ps->m.v = xreallocarray(ps->m.v, ps->m.n + 1, sizeof(*ps->m.v));
        ps->m.v[ps->m.n++] = (struct git_module){.name = xstrdup(sub)};
        return 0;
}

/* "[name]", "[name "sub"]" or the old "[name.sub]" (sub then case-insensitive, as in git) */
static int parse_section(struct parser *ps, struct lerr **err)
{
        _cleanup_(buf_done) struct buf name = BUF_INIT(GIT_MODULES_MAX_BYTES);
        _cleanup_(buf_done) struct buf sub = BUF_INIT(GIT_MODULES_MAX_BYTES);
        bool has_sub = false;
        ps->p++;
        while (ps->p < ps->end && (is_keychar(*ps->p) || *ps->p == '.'))
                if (buf_append_char(&name, *ps->p++) < 0)
                        oom();
        if (ps->p < ps->end && is_blank(*ps->p)) {
                skip_blanks(ps);
                if (ps->p >= ps->end || *ps->p != '"')
                        return bad_line(ps, "invalid section header", err);
                for (ps->p++; ps->p < ps->end && *ps->p != '"' && *ps->p != '\n'; ps->p++) {
                        if (*ps->p == '\\' && ps->p + 1 < ps->end && ps->p[1] != '\n')
                                ps->p++;
                        if (buf_append_char(&sub, *ps->p) < 0)
                                oom();
                }
                if (ps->p >= ps->end || *ps->p != '"')
                        return bad_line(ps, "invalid section header", err);
                ps->p++;
                has_sub = true;
        }
        if (ps->p >= ps->end || *ps->p != ']' || name.len == 0 ||
            (has_sub && memchr(name.data, '.', name.len)))
                return bad_line(ps, "invalid section header", err);
        ps->p++;
        char *n = (char *) buf_str(&name);
        char *dot = strchr(n, '.');
        if (dot && !has_sub) {
                *dot = '\0';
                for (char *c = dot + 1; *c; c++)
                        *c = (char) (*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
                return enter_section(ps, n, dot + 1, err);
        }
        return enter_section(ps, n, has_sub ? buf_str(&sub) : NULL, err);
}

/* A value after '=': blanks around it dropped, those inside kept, '"' toggles quoting, '\'
 * escapes (\\ \" \n \t \b, and a line continuation), '#' or ';' unquoted starts a comment. */
static int parse_value(struct parser *ps, struct buf *v, struct lerr **err)
{
        bool quote = false;
        size_t spaces = 0;
        skip_blanks(ps);
        for (; ps->p < ps->end; ps->p++) {
                char c = *ps->p;
                if (c == '\n')
                        break;
                if (!quote && (c == '#' || c == ';')) {
                        skip_line(ps);
                        break;
                }
                if (!quote && is_blank(c)) {
                        spaces++;
                        continue;
                }
                for (; spaces; spaces--)
                        if (v->len && buf_append_char(v, ' ') < 0)
                                oom();
                if (c == '"') {
                        quote = !quote;
                        continue;
                }
                if (c == '\\') {
                        c = ++ps->p < ps->end ? *ps->p : '\0';
                        if (c == '\n') {
                                ps->line++;
                                continue;
                        }
                        c = c == 't' ? '\t' : c == 'n' ? '\n' : c == 'b' ? '\b' : c;
                        if (c != '\t' && c != '\n' && c != '\b' && c != '\\' && c != '"')
                                return bad_line(ps, "invalid escape sequence", err);
                }
                if (buf_append_char(v, c) < 0)
                        oom();
        }
        if (quote)
                return bad_line(ps, "unterminated quoted string", err);
        return 0;
}

static int parse_key(struct parser *ps, struct lerr **err)
{
        const char *key = ps->p;
        while (ps->p < ps->end && is_keychar(*ps->p))
                ps->p++;
        size_t klen = (size_t) (ps->p - key);
        skip_blanks(ps);
        bool has_value = ps->p < ps->end && *ps->p == '=';
        if (!has_value && ps->p < ps->end && *ps->p != '\n' && *ps->p != '#' && *ps->p != ';')
                return bad_line(ps, "invalid key", err);
        _cleanup_(buf_done) struct buf v = BUF_INIT(GIT_MODULES_MAX_BYTES);
        if (has_value) {
                ps->p++;
                int r = parse_value(ps, &v, err);
                if (r < 0)
                        return r;
        } else {
                skip_line(ps);
        }
        if (!ps->submodule)
                return 0;
        bool is_path = klen == 4 && strncasecmp(key, "path", 4) == 0;
        bool is_url = klen == 3 && strncasecmp(key, "url", 3) == 0;
        if (!is_path && !is_url)
                return 0;
        if (!has_value)
                return bad_line(ps, is_path ? "missing value for path" : "missing value for url",
                                err);
        char **dst = is_path ? &ps->m.v[ps->cur].path : &ps->m.v[ps->cur].url;
        free(*dst);
        *dst = buf_steal(&v);
        if (!*dst)
                *dst = xstrdup("");
        for (size_t n = strlen(*dst); is_path && n > 1 && (*dst)[n - 1] == '/'; n--)
                (*dst)[n - 1] = '\0';
        return 0;
}

static int parse_all(struct parser *ps, bool *in_section, struct lerr **err)
{
        while (ps->p < ps->end) {
                skip_blanks(ps);
                if (ps->p >= ps->end)
                        break;
                char c = *ps->p;
                int r = 0;
                if (c == '\n') {
                        ps->line++;
                        ps->p++;
                } else if (c == '#' || c == ';') {
                        skip_line(ps);
                } else if (c == '[') {
                        r = parse_section(ps, err);
                        *in_section = true;
                } else if (!is_alpha(c)) {
                        r = bad_line(ps, "invalid key", err);
                } else if (!*in_section) {
                        r = bad_line(ps, "key outside a section", err);
                } else {
                        r = parse_key(ps, err);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

int git_modules_parse(const char *data, size_t len, struct git_modules *ret, struct lerr **err)
{
        if (len > GIT_MODULES_MAX_BYTES)
                return lerr_set(err, E2BIG, "'.gitmodules' is over %u bytes",
                                GIT_MODULES_MAX_BYTES);
        const char *nul = memchr(data, '\0', len);
        if (nul) {
                unsigned line = 1;
                for (const char *c = data; c < nul; c++)
                        line += *c == '\n';
                return lerr_set(err, EBADMSG, "'.gitmodules' line %u: NUL byte", line);
        }
        struct parser ps = {.p = data, .end = data + len, .line = 1};
        bool in_section = false;
        /* a UTF-8 byte order mark, which git skips */
        if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
                ps.p += 3;
        int r = parse_all(&ps, &in_section, err);
        if (r < 0) {
                git_modules_done(&ps.m);
                return r;
        }
        *ret = ps.m;
        return 0;
}

const struct git_module *git_modules_find(const struct git_modules *m, const char *path)
{
        for (size_t i = m->n; i > 0; i--)
                if (m->v[i - 1].path && streq(m->v[i - 1].path, path))
                        return &m->v[i - 1];
        return NULL;
}

static bool is_http_url(const char *u)
{
        return (startswith(u, "https://") && u[8] && u[8] != '/') ||
               (startswith(u, "http://") && u[7] && u[7] != '/');
}

int git_modules_resolve_url(const char *super_url, const char *url, char **ret, struct lerr **err)
{
        if (!startswith(url, "./") && !startswith(url, "../")) {
                if (!is_http_url(url))
                        return lerr_set(err, ENOTSUP,
                                        "URL '%s': only http(s) submodules are supported", url);
                *ret = xstrdup(url);
                return 0;
        }
        /* super_url is not shown: it may hold credentials */
        if (!is_http_url(super_url))
                return lerr_set(err, ENOTSUP,
                                "URL '%s' relative to a superproject that is not http(s): only "
                                "http(s) submodules are supported",
                                url);
        /* the path starts after "scheme://authority"; "../" never removes the authority */
        const char *auth = strstr(super_url, "://") + 3;
        size_t root = (size_t) (auth - super_url) + strcspn(auth, "/?#");
        size_t n = strlen(super_url);
        while (n > root && super_url[n - 1] == '/')
                n--;
        const char *rel = url;
        for (;;) {
                if (startswith(rel, "./")) {
                        rel += 2;
                } else if (startswith(rel, "../")) {
                        if (n <= root)
                                return lerr_set(err, EINVAL,
                                                "URL '%s': too many '../' for the "
                                                "superproject's URL",
                                                url);
                        while (n > root && super_url[n - 1] != '/')
                                n--;
                        while (n > root && super_url[n - 1] == '/')
                                n--;
                        rel += 3;
                } else {
                        break;
                }
        }
        while (*rel == '/')
                rel++;
        *ret = *rel ? xasprintf("%.*s/%s", (int) n, super_url, rel)
                    : xasprintf("%.*s", (int) n, super_url);
        return 0;
}
