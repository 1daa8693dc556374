/* SPDX-License-Identifier: Apache-2.0 */
/* Image reference parsing and normalisation, following distribution/reference's grammar.
 * Pure string work: no network, no credentials, no knowledge of mirrors or maps. */
#include "registry/ref.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"

static bool is_lower_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
        return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_word(char c)
{
        return is_alnum(c) || c == '_';
}

static bool is_hex_lower(char c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* The reference as it may appear in a message: printable and bounded, since it is user input. */
static char *display(const char *s)
{
        struct buf b = BUF_INIT(512);
        size_t n = strlen(s);
        for (size_t i = 0; i < n && i < 200; i++) {
                char c = s[i];
                (void) !buf_append_char(&b, (c >= 0x20 && c < 0x7f) ? c : '?');
        }
        if (n > 200)
                (void) !buf_append_str(&b, "...");
        return buf_steal(&b);
}

/* path-component := alpha-numeric [separator alpha-numeric]*
 * separator := [_.] | "__" | "-"+ */
static bool valid_path_component(const char *s, size_t n)
{
        size_t i = 0;
        if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
                return false;
        while (i < n) {
                if (is_lower_alnum(s[i])) {
                        i++;
                        continue;
                }
                size_t j = i;
                if (s[i] == '.') {
                        j++;
                } else if (s[i] == '_') {
                        j++;
                        if (j < n && s[j] == '_')
                                j++;
                } else if (s[i] == '-') {
                        while (j < n && s[j] == '-')
                                j++;
                } else {
                        return false;
                }
                if (j >= n || !is_lower_alnum(s[j]))
                        return false;
                i = j;
        }
        return true;
}

static bool valid_path(const char *s)
{
        const char *p = s;
        for (;;) {
                const char *slash = strchr(p, '/');
                size_t n = slash ? (size_t) (slash - p) : strlen(p);
                if (!valid_path_component(p, n))
                        return false;
                if (!slash)
                        return true;
                p = slash + 1;
        }
}

/* domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9] */
static bool valid_domain_name(const char *s, size_t n)
{
        size_t start = 0;
        if (n == 0)
                return false;
        for (size_t i = 0; i <= n; i++) {
                if (i < n && s[i] != '.') {
                        if (!is_alnum(s[i]) && s[i] != '-')
                                return false;
                        continue;
                }
                if (i == start || s[start] == '-' || s[i - 1] == '-')
                        return false;
                start = i + 1;
        }
        return true;
}

static bool valid_port(const char *s, size_t n)
{
        unsigned v = 0;
        if (n == 0 || n > 5)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (unsigned) (s[i] - '0');
        }
        return v >= 1 && v <= 65535;
}

/* host [":" port] where host is a domain name, an IPv4 address or "[" IPv6 "]".
 * Returns NULL if valid, else what is wrong. */
static const char *check_domain(const char *d)
{
        size_t n = strlen(d);
        const char *port = NULL;
        size_t hostlen;

        if (d[0] == '[') {
                const char *close = strchr(d, ']');
                if (!close || close == d + 1)
                        return "invalid IPv6 address";
                for (const char *p = d + 1; p < close; p++)
                        if (!isxdigit((unsigned char) *p) && *p != ':')
                                return "invalid IPv6 address";
                if (close[1] == ':')
                        port = close + 2;
                else if (close[1] != '\0')
                        return "invalid domain";
                hostlen = (size_t) (close - d) + 1;
        } else {
                const char *colon = strchr(d, ':');
                if (colon)
                        port = colon + 1;
                hostlen = colon ? (size_t) (colon - d) : n;
                if (!valid_domain_name(d, hostlen))
                        return "invalid domain";
        }
        if (port && !valid_port(port, strlen(port)))
                return "invalid port";
        return NULL;
}

/* Algorithms go-digest accepts, with the length of their lower-case hex encoding. */
static const char *check_digest(const char *dg)
{
        static const struct {
                const char *alg;
                size_t hexlen;
        } algs[] = {{"sha256", 64}, {"sha384", 96}, {"sha512", 128}};
        const char *colon = strchr(dg, ':');
        if (!colon || colon == dg)
                return "invalid digest";
        /* digest-algorithm := component ([+._-] component)*, component := [A-Za-z][A-Za-z0-9]* */
        bool need_alpha = true;
        for (const char *p = dg; p < colon; p++) {
                if (need_alpha) {
                        if (!isalpha((unsigned char) *p))
                                return "invalid digest";
                        need_alpha = false;
                } else if (*p == '+' || *p == '.' || *p == '_' || *p == '-') {
                        need_alpha = true;
                } else if (!isalnum((unsigned char) *p)) {
                        return "invalid digest";
                }
        }
        if (need_alpha)
                return "invalid digest";
        size_t hexlen = strlen(colon + 1);
        if (hexlen < 32)
                return "invalid digest";
        for (const char *p = colon + 1; *p; p++)
                if (!isxdigit((unsigned char) *p))
                        return "invalid digest";
        for (size_t i = 0; i < ARRAY_SIZE(algs); i++) {
                size_t alen = strlen(algs[i].alg);
                if ((size_t) (colon - dg) != alen || strncmp(dg, algs[i].alg, alen) != 0)
                        continue;
                if (hexlen != algs[i].hexlen)
                        return "invalid digest length";
                for (const char *p = colon + 1; *p; p++)
                        if (!is_hex_lower(*p))
                                return "digest must be lowercase hex";
                return NULL;
        }
        return "unsupported digest algorithm";
}

/* tag := [\w][\w.-]{0,127} */
static bool valid_tag(const char *t)
{
        size_t n = strlen(t);
        if (n == 0 || n > IMAGE_REF_TAG_MAX || !is_word(t[0]))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!is_word(t[i]) && t[i] != '.' && t[i] != '-')
                        return false;
        return true;
}

static void lowercase(char *s)
{
        for (; *s; s++)
                *s = (char) tolower((unsigned char) *s);
}

char *image_ref_normalize_domain(const char *host)
{
        if (!host || strlen(host) > IMAGE_REF_NAME_MAX || check_domain(host))
                return NULL;
        char *d = xstrdup(host);
        lowercase(d);
        if (streq(d, "index.docker.io") || streq(d, "registry-1.docker.io")) {
                free(d);
                d = xstrdup(DOCKER_HUB_DOMAIN);
        }
        return d;
}

void image_ref_free(struct image_ref *r)
{
        if (!r)
                return;
        free(r->domain);
        free(r->path);
        free(r->name);
        free(r->tag);
        free(r->digest);
        free(r);
}

struct image_ref *image_ref_dup(const struct image_ref *r)
{
        struct image_ref *n = xcalloc(1, sizeof(*n));
        n->domain = xstrdup(r->domain);
        n->path = xstrdup(r->path);
        n->name = xstrdup(r->name);
        n->tag = r->tag ? xstrdup(r->tag) : NULL;
        n->digest = r->digest ? xstrdup(r->digest) : NULL;
        return n;
}

static int fail(struct lerr **err, const char *s, const char *what)
{
        _cleanup_free_ char *d = display(s);
        return lerr_set(err, EINVAL, "invalid reference '%s': %s", d, what);
}

/* Splits off the domain as Docker does: the first component is a domain if it is "localhost",
 * contains '.' or ':', or has upper case letters (repository paths are lower case). */
static void split_domain(const char *s, char **ret_domain, const char **ret_rest)
{
        const char *slash = strchr(s, '/');
        if (slash) {
                size_t n = (size_t) (slash - s);
                bool upper = false;
                for (size_t i = 0; i < n; i++)
                        upper |= (s[i] >= 'A' && s[i] <= 'Z');
                if ((n == 9 && strncmp(s, "localhost", 9) == 0) || memchr(s, '.', n) ||
                    memchr(s, ':', n) || upper) {
                        *ret_domain = xstrndup(s, n);
                        *ret_rest = slash + 1;
                        return;
                }
        }
        *ret_domain = xstrdup(DOCKER_HUB_DOMAIN);
        *ret_rest = s;
}

/* Refuses what no reference may contain, before any splitting. */
static int check_text(const char *s, struct lerr **err)
{
        size_t n = strlen(s);
        bool all_hex = n == 64;

        if (n == 0)
                return lerr_set(err, EINVAL, "invalid reference: empty");
        if (n > IMAGE_REF_MAX)
                return lerr_set(err, EINVAL, "invalid reference: longer than %d bytes",
                                IMAGE_REF_MAX);
        for (size_t i = 0; i < n; i++) {
                if ((unsigned char) s[i] <= 0x20 || (unsigned char) s[i] >= 0x7f)
                        return fail(err, s, "contains a space or a non-ASCII character");
                all_hex &= is_hex_lower(s[i]);
        }
        if (all_hex)
                return fail(err, s, "a 64-character hexadecimal string is an image ID, not a name");
        return 0;
}

/* Splits "path[:tag][@digest]" in place into r's tag and digest; rest keeps the path. */
static int split_tag_digest(const char *s, char *rest, struct image_ref *r, struct lerr **err)
{
        const char *why;
        char *at = strchr(rest, '@');
        if (at) {
                *at = '\0';
                if ((why = check_digest(at + 1)))
                        return fail(err, s, why);
                r->digest = xstrdup(at + 1);
        }
        /* a ':' after the last '/' starts the tag (one before it would be a port) */
        char *colon = strrchr(rest, ':');
        if (colon) {
                *colon = '\0';
                if (!valid_tag(colon + 1))
                        return fail(err, s, "invalid tag");
                r->tag = xstrdup(colon + 1);
        }
        if (rest[0] == '\0')
                return fail(err, s, "repository path is empty");
        for (const char *p = rest; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        return fail(err, s, "repository name must be lowercase");
        if (!valid_path(rest))
                return fail(err, s, "invalid repository path");
        return 0;
}

static bool is_hub_alias(const char *domain)
{
        return strcasecmp(domain, "index.docker.io") == 0 ||
               strcasecmp(domain, "registry-1.docker.io") == 0 ||
               strcasecmp(domain, DOCKER_HUB_DOMAIN) == 0;
}

static int parse(const char *s, bool default_tag, struct image_ref **ret, struct lerr **err)
{
        _cleanup_(image_ref_freep) struct image_ref *r = xcalloc(1, sizeof(*r));
        _cleanup_free_ char *domain = NULL, *rest = NULL;
        const char *remainder, *why;
        int k;

        if ((k = check_text(s, err)) < 0)
                return k;
        split_domain(s, &domain, &remainder);
        rest = xstrdup(remainder);
        if ((k = split_tag_digest(s, rest, r, err)) < 0)
                return k;
        if ((why = check_domain(domain)))
                return fail(err, s, why);
        /* the domain keeps its case (distribution does; "Foo/bar" must round-trip), except
         * that every spelling of Docker Hub becomes "docker.io" */
        r->domain = is_hub_alias(domain) ? xstrdup(DOCKER_HUB_DOMAIN) : TAKE_PTR(domain);
        if (streq(r->domain, DOCKER_HUB_DOMAIN) && !strchr(rest, '/'))
                r->path = xasprintf("library/%s", rest);
        else
                r->path = TAKE_PTR(rest);
        r->name = xasprintf("%s/%s", r->domain, r->path);
        if (strlen(r->name) > IMAGE_REF_NAME_MAX)
                return fail(err, s, "repository name is longer than 255 characters");
        if (!r->tag && !r->digest && default_tag)
                r->tag = xstrdup("latest");

        *ret = TAKE_PTR(r);
        return 0;
}

int image_ref_parse(const char *s, struct image_ref **ret, struct lerr **err)
{
        return parse(s, true, ret, err);
}

int image_ref_parse_repo(const char *s, struct image_ref **ret, struct lerr **err)
{
        return parse(s, false, ret, err);
}

int image_ref_from_parts(const char *domain, const char *path, const char *tag, const char *digest,
                         struct image_ref **ret, struct lerr **err)
{
        _cleanup_free_ char *s = xasprintf("%s/%s%s%s%s%s", domain, path, tag ? ":" : "",
                                           tag ? tag : "", digest ? "@" : "", digest ? digest : "");
        _cleanup_(image_ref_freep) struct image_ref *r = xcalloc(1, sizeof(*r));
        const char *why;

        /* validated part by part: a domain such as "mirror" (no '.' or ':') is meant as a domain
         * here, while parsing the joined string would read it as a path component */
        if (strlen(s) > IMAGE_REF_MAX)
                return lerr_set(err, EINVAL, "invalid reference: longer than %d bytes",
                                IMAGE_REF_MAX);
        if ((why = check_domain(domain)))
                return fail(err, s, why);
        if (!valid_path(path))
                return fail(err, s, "invalid repository path");
        if (tag && !valid_tag(tag))
                return fail(err, s, "invalid tag");
        if (digest && (why = check_digest(digest)))
                return fail(err, s, why);
        if (strlen(domain) > IMAGE_REF_NAME_MAX)
                return fail(err, s, "repository name is longer than 255 characters");
        r->domain = is_hub_alias(domain) ? xstrdup(DOCKER_HUB_DOMAIN) : xstrdup(domain);
        r->path = xstrdup(path);
        r->name = xasprintf("%s/%s", r->domain, r->path);
        if (strlen(r->name) > IMAGE_REF_NAME_MAX)
                return fail(err, s, "repository name is longer than 255 characters");
        r->tag = tag ? xstrdup(tag) : NULL;
        r->digest = digest ? xstrdup(digest) : NULL;
        *ret = TAKE_PTR(r);
        return 0;
}

char *image_ref_string(const struct image_ref *r)
{
        return xasprintf("%s%s%s%s%s", r->name, r->tag ? ":" : "", r->tag ? r->tag : "",
                         r->digest ? "@" : "", r->digest ? r->digest : "");
}

const char *image_ref_api_host(const struct image_ref *r)
{
        return image_ref_is_docker_hub(r) ? DOCKER_HUB_API_HOST : r->domain;
}

bool image_ref_is_docker_hub(const struct image_ref *r)
{
        return streq(r->domain, DOCKER_HUB_DOMAIN);
}

bool image_ref_domain_is_loopback(const char *domain)
{
        const char *end;
        size_t n;
        if (domain[0] == '[') {
                end = strchr(domain, ']');
                return end && (size_t) (end - domain) == 4 && strncmp(domain, "[::1]", 5) == 0;
        }
        end = strchr(domain, ':');
        n = end ? (size_t) (end - domain) : strlen(domain);
        if (n == 9 && strncasecmp(domain, "localhost", 9) == 0)
                return true;
        /* 127.0.0.0/8 written as a dotted quad */
        if (n < 9 || strncmp(domain, "127.", 4) != 0)
                return false;
        int dots = 0;
        for (size_t i = 0; i < n; i++) {
                if (domain[i] == '.')
                        dots++;
                else if (domain[i] < '0' || domain[i] > '9')
                        return false;
        }
        return dots == 3;
}

char *image_ref_scope(const struct image_ref *r, const char *actions)
{
        return xasprintf("repository:%s:%s", r->path, actions);
}
