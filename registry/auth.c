/* SPDX-License-Identifier: Apache-2.0 */
/* Talking to a registry with the right credentials: the /v2/ ping (scheme and challenge), Basic
 * and Bearer authorization, the token endpoint (GET, or the OAuth2 POST for identity tokens),
 * tokens cached per scope and refreshed on 401, and error messages that name the credential.
 * Secrets live only in struct creds, token values and the Authorization header; none of them
 * is ever formatted into a log line or an error. */
#include "registry/client-internal.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strv.h"
#include "registry/auth_header.h"
#include "registry/base64.h"
#include "registry/creds.h"
#include "registry/regerr.h"

#define TOKEN_MIN_LIFETIME_S   60 /* the token spec's default and minimum */
#define TOKEN_EARLY_REFRESH_MS 10000
#define TOKENS_MAX             256

const char *reg_scheme(const struct endpoint *ep, enum reg_op op)
{
        return ep->use_http[op] ? "http" : "https";
}

static void wipe_free(char *s)
{
        if (s) {
                explicit_bzero(s, strlen(s));
                free(s);
        }
}

/* go-containerregistry also tries plain HTTP for loopback and RFC 1918 addresses */
static bool is_private_or_loopback(const char *domain)
{
        unsigned a, b, c, d;
        char tail;
        if (image_ref_domain_is_loopback(domain))
                return true;
        int n = sscanf(domain, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail);
        if (n < 4 || (n == 5 && tail != ':') || a > 255 || b > 255 || c > 255 || d > 255)
                return false;
        return a == 10 || (a == 172 && b >= 16 && b <= 31) || (a == 192 && b == 168);
}

static bool http_allowed(const struct reg_client *c, const struct endpoint *ep, enum reg_op op)
{
        return c->insecure[op] || ep->insecure_registry || is_private_or_loopback(ep->domain);
}

/* ---- challenges ---- */

static int learn_challenge(struct endpoint *ep, enum reg_op op, const struct http_resp *resp,
                           struct lerr **err)
{
        struct auth_challenges l = {0};
        const struct auth_challenge *ch;
        int r = 0;

        strv_foreach (h, resp->www_auth) {
                struct lerr *e = NULL;
                if (auth_header_parse(h, strlen(h), &l, &e) < 0) {
                        log_debug("%s: ignoring a WWW-Authenticate header: %s", ep->domain,
                                  lerr_message(e));
                        lerr_free(e);
                }
        }
        if ((ch = auth_challenges_find(&l, "bearer")) && auth_challenge_param(ch, "realm")) {
                const char *realm = auth_challenge_param(ch, "realm");
                const char *service = auth_challenge_param(ch, "service");
                bool https = strncasecmp(realm, "https://", 8) == 0;
                if (!https && !(strncasecmp(realm, "http://", 7) == 0 && ep->use_http[op]))
                        r = lerr_set(err, EPROTO,
                                     "registry '%s' sends credentials to the token realm "
                                     "'%.200s', which is not an https:// URL",
                                     ep->domain, realm);
                if (r >= 0) {
                        free(ep->realm);
                        free(ep->service);
                        ep->realm = xstrdup(realm);
                        ep->service = service ? xstrdup(service) : NULL;
                        ep->kind = AUTH_BEARER;
                }
        } else if (auth_challenges_find(&l, "basic")) {
                ep->kind = AUTH_BASIC;
        } else {
                r = lerr_set(err, EPROTO,
                             "registry '%s' answered 401 without a Bearer or Basic challenge",
                             ep->domain);
        }
        auth_challenges_done(&l);
        return r;
}

/* *ret_answered says whether the server answered HTTP at all (as opposed to a connection or
 * TLS failure, after which plain HTTP may be worth a try). */
static int ping_once(struct reg_client *c, struct endpoint *ep, enum reg_op op, bool http,
                     bool *ret_answered, struct lerr **err)
{
        _cleanup_free_ char *url = xasprintf("%s://%s/v2/", http ? "http" : "https", ep->host);
        struct http_resp resp = {.content_length = -1};
        struct http_req rq = {.op = op, .ep = ep, .method = "GET", .url = url, .follow = true};
        int r;

        ep->use_http[op] = http;
        r = http_exchange_retry(c, &rq, &resp, err);
        *ret_answered = r >= 0;
        if (r < 0) {
                http_resp_done(&resp);
                return r;
        }
        if (resp.status == 401) {
                r = learn_challenge(ep, op, &resp, err);
        } else if (resp.status >= 200 && resp.status < 300) {
                if (ep->kind == AUTH_UNKNOWN)
                        ep->kind = AUTH_NONE;
        } else if (resp.status == 404) {
                /* some proxies do not answer /v2/; requests will tell if auth is needed */
                log_debug("%s: GET /v2/ answered 404, assuming no authentication", ep->domain);
                if (ep->kind == AUTH_UNKNOWN)
                        ep->kind = AUTH_NONE;
        } else {
                _cleanup_free_ char *d =
                        regerr_describe(resp.status, resp.body.data, resp.body.len);
                r = lerr_set(err, regerr_errno(resp.status), "GET %s: %s", url, d);
        }
        http_resp_done(&resp);
        return r;
}

/* Learns scheme and challenge for op; called with ep->lock held. */
static int ping(struct reg_client *c, struct endpoint *ep, enum reg_op op, struct lerr **err)
{
        struct lerr *https_err = NULL;
        bool answered = false;
        int r;

        if (ep->pinged[op])
                return 0;
        r = ping_once(c, ep, op, false, &answered, &https_err);
        /* only a failure to talk HTTPS at all is a reason to try plain HTTP */
        if (r < 0 && !answered && http_allowed(c, ep, op)) {
                struct lerr *http_err = NULL;
                log_debug("%s; trying plain HTTP", lerr_message(https_err));
                r = ping_once(c, ep, op, true, &answered, &http_err);
                if (r < 0)
                        log_debug("%s", lerr_message(http_err));
                lerr_free(http_err);
        }
        if (r < 0) {
                ep->use_http[op] = false;
                if (err) {
                        lerr_free(*err);
                        *err = TAKE_PTR(https_err);
                }
                lerr_free(https_err);
                return lerr_wrap(err, "reach registry '%s'", ep->domain);
        }
        lerr_free(https_err);
        ep->pinged[op] = true;
        log_debug("registry '%s': %s, %s", ep->domain, reg_scheme(ep, op),
                  ep->kind == AUTH_BEARER  ? "Bearer token auth"
                  : ep->kind == AUTH_BASIC ? "Basic auth"
                                           : "no auth");
        return 0;
}

/* ---- credentials and tokens ---- */

/* The repository path of the first scope ("repository:a/b:pull,push ..." → "a/b"). */
static char *scope_repo(const char *scope)
{
        const char *p = scope ? startswith(scope, "repository:") : NULL;
        if (!p)
                return xstrdup("");
        size_t n = strcspn(p, " ");
        const char *colon = memrchr(p, ':', n);
        return xstrndup(p, colon ? (size_t) (colon - p) : n);
}

static int get_creds(struct reg_client *c, struct endpoint *ep, const char *repo,
                     const struct creds **ret, struct lerr **err)
{
        struct creds *cr = NULL;
        for (size_t i = 0; i < ep->n_creds; i++)
                if (streq(ep->creds[i].repo, repo)) {
                        *ret = ep->creds[i].creds;
                        return 0;
                }
        int r = creds_lookup(c->creds, ep->domain, repo[0] ? repo : NULL, &cr, err);
        if (r < 0)
                return r;
        log_debug("%s", cr->source);
        ep->creds = xreallocarray(ep->creds, ep->n_creds + 1, sizeof(*ep->creds));
        ep->creds[ep->n_creds++] = (struct ep_creds){.repo = xstrdup(repo), .creds = cr};
        *ret = cr;
        return 0;
}

static char *basic_value(const char *user, const char *pass)
{
        _cleanup_free_ char *plain = xasprintf("%s:%s", strempty(user), strempty(pass));
        char *enc = base64_encode(plain, strlen(plain));
        char *v = xasprintf("Basic %s", enc);
        wipe_free(enc);
        explicit_bzero(plain, strlen(plain));
        return v;
}

static struct token *find_token(struct endpoint *ep, const char *scope)
{
        for (size_t i = 0; i < ep->n_tokens; i++)
                if (streq(ep->tokens[i].scope, scope))
                        return &ep->tokens[i];
        return NULL;
}

static void drop_token(struct endpoint *ep, const char *scope)
{
        struct token *t = find_token(ep, scope);
        if (!t)
                return;
        free(t->scope);
        wipe_free(t->value);
        *t = ep->tokens[--ep->n_tokens];
}

static void store_token(struct endpoint *ep, const char *scope, char *value, int64_t expires)
{
        drop_token(ep, scope);
        if (ep->n_tokens >= TOKENS_MAX) {
                free(ep->tokens[0].scope);
                wipe_free(ep->tokens[0].value);
                ep->tokens[0] = ep->tokens[--ep->n_tokens];
        }
        ep->tokens = xreallocarray(ep->tokens, ep->n_tokens + 1, sizeof(*ep->tokens));
        ep->tokens[ep->n_tokens++] =
                (struct token){.scope = xstrdup(scope), .value = value, .expires_ms = expires};
}

static char *escape(const char *s)
{
        char *e = curl_easy_escape(NULL, s, 0);
        if (!e)
                oom();
        char *r = xstrdup(e);
        curl_free(e);
        return r;
}

/* "service=…&scope=…&scope=…" (each scope its own parameter, as the token spec has it). */
static char *token_params(const struct endpoint *ep, const char *scope)
{
        struct buf b = BUF_INIT(64 * 1024);
        if (ep->service) {
                _cleanup_free_ char *s = escape(ep->service);
                (void) !buf_printf(&b, "service=%s", s);
        }
        _cleanup_free_ char *copy = xstrdup(strempty(scope));
        for (char *p = copy, *end; p && *p; p = end) {
                end = strchr(p, ' ');
                if (end)
                        *end++ = '\0';
                if (!*p)
                        continue;
                _cleanup_free_ char *s = escape(p);
                (void) !buf_printf(&b, "%sscope=%s", b.len ? "&" : "", s);
        }
        return buf_steal(&b);
}

static int parse_token(const struct http_resp *resp, char **ret, int64_t *ret_expires,
                       struct lerr **err)
{
        _cleanup_(cJSON_Deletep) cJSON *j = NULL;
        const char *tok = NULL, *access = NULL;
        uint64_t expires_in = 0;
        bool has_expiry = false;

        if (json_parse(resp->body.data ? resp->body.data : "", resp->body.len, REG_SMALL_BODY_MAX,
                       "token response", &j, err) < 0)
                return -EBADMSG;
        if (!cJSON_IsObject(j) || json_get_string(j, "token", &tok, NULL) < 0 ||
            json_get_string(j, "access_token", &access, NULL) < 0 ||
            json_get_u64(j, "expires_in", &expires_in, &has_expiry, NULL) < 0)
                return lerr_set(err, EBADMSG, "token response is not the expected JSON object");
        if (!tok || !tok[0])
                tok = access;
        if (!tok || !tok[0])
                return lerr_set(err, EBADMSG, "token response has no 'token' or 'access_token'");
        if (strlen(tok) > 64 * 1024 || strpbrk(tok, "\r\n"))
                return lerr_set(err, EBADMSG, "token response has a malformed token");
        if (!has_expiry || expires_in < TOKEN_MIN_LIFETIME_S)
                expires_in = TOKEN_MIN_LIFETIME_S;
        *ret = xstrdup(tok);
        *ret_expires = http_now_ms() + (int64_t) MIN(expires_in, (uint64_t) 86400 * 365) * 1000;
        /* the body held the token: wipe it from cJSON's copy too */
        for (cJSON *f = j->child; f; f = f->next)
                if (cJSON_IsString(f))
                        explicit_bzero(f->valuestring, strlen(f->valuestring));
        return 0;
}

static int token_request(struct reg_client *c, struct endpoint *ep, enum reg_op op,
                         const char *scope, const struct creds *cr, bool post,
                         struct http_resp *resp, struct lerr **err)
{
        _cleanup_free_ char *params = token_params(ep, scope), *url = NULL, *authz = NULL;
        struct http_req rq = {.op = op, .ep = ep, .follow = true};
        struct upload body = {0};
        _cleanup_free_ char *form = NULL;

        if (post) {
                /* OAuth2 refresh-token grant (the token spec's "OAuth2 token" section) */
                _cleanup_free_ char *rt = escape(cr->identity_token);
                form = xasprintf("grant_type=refresh_token&client_id=lading&%s%srefresh_token=%s",
                                 params, params[0] ? "&" : "", rt);
                explicit_bzero(rt, strlen(rt));
                body = (struct upload){.data = form, .len = strlen(form)};
                rq.method = "POST";
                rq.url = ep->realm;
                rq.content_type = "application/x-www-form-urlencoded";
                rq.upload = &body;
        } else {
                _cleanup_free_ char *account = NULL;
                if (cr->username && cr->username[0]) {
                        _cleanup_free_ char *u = escape(cr->username);
                        account = xasprintf("account=%s", u);
                }
                const char *sep = strchr(ep->realm, '?') ? "&" : "?";
                url = xasprintf("%s%s%s%s%s", ep->realm, sep, params,
                                account && params[0] ? "&" : "", strempty(account));
                rq.method = "GET";
                rq.url = url;
                if (cr->username || cr->password)
                        authz = basic_value(cr->username, cr->password);
                rq.authorization = authz;
        }
        int r = http_exchange_retry(c, &rq, resp, err);
        if (form)
                explicit_bzero(form, strlen(form));
        if (authz)
                explicit_bzero(authz, strlen(authz));
        return r;
}

static int fetch_token(struct reg_client *c, struct endpoint *ep, enum reg_op op, const char *scope,
                       const struct creds *cr, char **ret, int64_t *ret_expires, struct lerr **err)
{
        struct http_resp resp = {.content_length = -1};
        _cleanup_free_ char *realm = http_url_for_log(ep->realm);
        int r;

        r = token_request(c, ep, op, scope, cr, cr->identity_token != NULL, &resp, err);
        /* registries without the OAuth2 form take the identity token as a Basic password */
        if (r >= 0 && cr->identity_token && (resp.status == 404 || resp.status == 405)) {
                struct creds basic = {.username = cr->username ? cr->username : "<token>",
                                      .password = cr->identity_token};
                log_debug("token endpoint '%s' has no OAuth2 POST (HTTP %ld), using GET", realm,
                          resp.status);
                r = token_request(c, ep, op, scope, &basic, false, &resp, err);
        }
        if (r >= 0 && resp.status == 200)
                r = parse_token(&resp, ret, ret_expires, err);
        else if (r >= 0) {
                _cleanup_free_ char *d =
                        regerr_describe(resp.status, resp.body.data, resp.body.len);
                r = lerr_set(err, regerr_errno(resp.status), "%s (%s)", d, cr->source);
        }
        if (resp.body.data)
                explicit_bzero(resp.body.data, resp.body.len);
        http_resp_done(&resp);
        if (r < 0)
                return lerr_wrap(err, "get a token from '%s' for '%s'", realm, strempty(scope));
        log_debug("got a token from '%s' for '%s'", realm, strempty(scope));
        return 0;
}

/* The Authorization header value for a request, or NULL; called with ep->lock held. */
static int authorization(struct reg_client *c, struct endpoint *ep, enum reg_op op,
                         const char *scope, char **ret, char **ret_source, struct lerr **err)
{
        _cleanup_free_ char *repo = scope_repo(scope);
        const struct creds *cr = NULL;
        struct token *t;
        int r;

        *ret = NULL;
        *ret_source = NULL;
        if (ep->kind == AUTH_NONE || ep->kind == AUTH_UNKNOWN)
                return 0;
        r = get_creds(c, ep, repo, &cr, err);
        if (r < 0)
                return r;
        *ret_source = xstrdup(cr->source);
        if (ep->kind == AUTH_BASIC) {
                if (cr->username || cr->password)
                        *ret = basic_value(cr->username, cr->password);
                return 0;
        }
        if (cr->registry_token) {
                *ret = xasprintf("Bearer %s", cr->registry_token);
                return 0;
        }
        const char *key = strempty(scope);
        t = find_token(ep, key);
        if (!t || t->expires_ms - TOKEN_EARLY_REFRESH_MS < http_now_ms()) {
                char *value = NULL;
                int64_t expires = 0;
                r = fetch_token(c, ep, op, scope, cr, &value, &expires, err);
                if (r < 0)
                        return r;
                store_token(ep, key, value, expires);
                t = find_token(ep, key);
        }
        *ret = xasprintf("Bearer %s", t->value);
        return 0;
}

/* Whether url is on the registry's own origin (so that it may carry our Authorization). */
static bool same_origin(const struct endpoint *ep, enum reg_op op, const char *url)
{
        _cleanup_free_ char *prefix = xasprintf("%s://%s/", reg_scheme(ep, op), ep->host);
        return strncasecmp(url, prefix, strlen(prefix)) == 0;
}

int reg_send(struct reg_client *c, struct endpoint *ep, const char *scope, struct http_req *rq,
             struct http_resp *resp, struct lerr **err)
{
        enum reg_op op = rq->op;
        _cleanup_free_ char *url = NULL;
        int r;

        pthread_mutex_lock(&ep->lock);
        r = ping(c, ep, op, err);
        pthread_mutex_unlock(&ep->lock);
        if (r < 0)
                return r;
        url = rq->url[0] == '/' ? xasprintf("%s://%s%s", reg_scheme(ep, op), ep->host, rq->url)
                                : xstrdup(rq->url);

        for (int round = 0;; round++) {
                _cleanup_free_ char *authz = NULL, *source = NULL;
                struct http_req once = *rq;

                pthread_mutex_lock(&ep->lock);
                r = authorization(c, ep, op, scope, &authz, &source, err);
                pthread_mutex_unlock(&ep->lock);
                if (r < 0)
                        return r;
                once.url = url;
                once.authorization = same_origin(ep, op, url) ? authz : NULL;
                free(resp->auth_source);
                resp->auth_source = TAKE_PTR(source);
                r = http_exchange_retry(c, &once, resp, err);
                if (authz)
                        explicit_bzero(authz, strlen(authz));
                if (r < 0 || resp->status != 401 || round > 0)
                        return r;

                /* 401: the token expired, or the registry wants more (another scope, or auth
                 * where the ping needed none). Learn the challenge again and try once more. */
                pthread_mutex_lock(&ep->lock);
                enum auth_kind before = ep->kind;
                struct lerr *e = NULL;
                bool again = learn_challenge(ep, op, resp, &e) >= 0 &&
                             (before != ep->kind || ep->kind == AUTH_BEARER);
                lerr_free(e);
                if (again && ep->kind == AUTH_BEARER)
                        drop_token(ep, strempty(scope));
                pthread_mutex_unlock(&ep->lock);
                if (!again)
                        return r;
                log_debug("%s: HTTP 401, authenticating again", ep->domain);
        }
}

int reg_status_error(struct endpoint *ep, const struct http_resp *resp, struct lerr **err)
{
        _cleanup_free_ char *d = regerr_describe(resp->status, resp->body.data, resp->body.len);
        if (resp->status == 401 || resp->status == 403)
                return lerr_set(err, regerr_errno(resp->status), "%s (%s)", d,
                                resp->auth_source ? resp->auth_source : "anonymous");
        (void) ep;
        return lerr_set(err, regerr_errno(resp->status), "%s", d);
}
