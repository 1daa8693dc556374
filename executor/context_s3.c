/* SPDX-License-Identifier: Apache-2.0 */
/* The S3 build context: parses s3://BUCKET/KEY, finds credentials and settings the way the
 * AWS SDK does (environment, then the shared files), signs one GET and downloads it with
 * url_fetch(). It does not unpack the archive (context.c does) nor retry beyond url_fetch. */
#include "executor/context_s3.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <openssl/crypto.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/strv.h"
#include "executor/aws_creds.h"
#include "executor/aws_profile.h"
#include "executor/s3_sign.h"
#include "executor/url_fetch.h"

int s3_parse_url(const char *url, char **ret_bucket, char **ret_key)
{
        const char *rest = startswith(url, "s3://");
        if (!rest)
                return -EINVAL;
        const char *slash = strchr(rest, '/');
        if (!slash || slash == rest || !slash[1])
                return -EINVAL;
        for (const char *p = rest; p < slash; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_'))
                        return -EINVAL;
        for (const char *p = slash + 1; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        return -EINVAL;
        *ret_bucket = xstrndup(rest, (size_t) (slash - rest));
        *ret_key = xstrdup(slash + 1);
        return 0;
}

int s3_profile_parse(const char *text, size_t len, const char *profile, bool config_style,
                     struct s3_credentials *creds, char **ret_region)
{
        _cleanup_(aws_profile_done) struct aws_profile p = {0};
        int r = aws_profile_parse(text, len, profile, config_style, &p);
        char **fields[] = {&creds->access_key, &creds->secret_key, &creds->session_token};
        static const enum aws_key keys[] = {AWS_KEY_ACCESS_KEY_ID, AWS_KEY_SECRET_ACCESS_KEY,
                                            AWS_KEY_SESSION_TOKEN};
        for (size_t i = 0; r > 0 && i < ARRAY_SIZE(keys); i++)
                if (p.v[keys[i]]) {
                        if (*fields[i])
                                OPENSSL_cleanse(*fields[i], strlen(*fields[i]));
                        free(*fields[i]);
                        *fields[i] = TAKE_PTR(p.v[keys[i]]);
                }
        if (r > 0 && ret_region && p.v[AWS_KEY_REGION]) {
                free(*ret_region);
                *ret_region = TAKE_PTR(p.v[AWS_KEY_REGION]);
        }
        return r;
}

void s3_credentials_done(struct s3_credentials *c)
{
        char **fields[] = {&c->access_key, &c->secret_key, &c->session_token, &c->expiration};
        for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
                if (*fields[i])
                        OPENSSL_cleanse(*fields[i], strlen(*fields[i]));
                free(*fields[i]);
                *fields[i] = NULL;
        }
}

static const char *env(const char *name)
{
        const char *v = getenv(name);
        return v && *v ? v : NULL;
}

static int credentials_from_env(struct s3_credentials *ret, struct lerr **err)
{
        const char *ak = env("AWS_ACCESS_KEY_ID") ?: env("AWS_ACCESS_KEY");
        const char *sk = env("AWS_SECRET_ACCESS_KEY") ?: env("AWS_SECRET_KEY");
        if (!ak && !sk)
                return 0;
        if (!ak || !sk)
                return lerr_set(err, EINVAL, "%s is set but %s is not",
                                ak ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                                ak ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
        ret->access_key = xstrdup(ak);
        ret->secret_key = xstrdup(sk);
        ret->session_token = env("AWS_SESSION_TOKEN") ? xstrdup(env("AWS_SESSION_TOKEN")) : NULL;
        return 1;
}

static const char *region_of(const char *from_config)
{
        return env("AWS_REGION") ?: env("AWS_DEFAULT_REGION") ?: from_config ?: S3_DEFAULT_REGION;
}

int s3_credentials_load(struct s3_credentials *ret, char **ret_region, const char **ret_source,
                        struct lerr **err)
{
        _cleanup_(s3_credentials_done) struct s3_credentials c = {0};
        _cleanup_(aws_files_done) struct aws_files f = {0};
        _cleanup_(aws_profile_done) struct aws_profile p = {0};
        const char *named = env("AWS_PROFILE") ?: env("AWS_DEFAULT_PROFILE");
        const char *profile = named ?: "default", *source = "environment";

        int r = credentials_from_env(&c, err);
        if (r < 0)
                return r;
        /* the profile's region counts even when the keys come from the environment */
        int found = aws_files_read(&f, err);
        if (found >= 0)
                found = aws_files_profile(&f, profile, &p, err);
        if (found < 0)
                return found;
        if (r == 0) {
                if (named && !found)
                        return lerr_set(err, ENOENT, "AWS profile '%s' not found in '%s' or '%s'",
                                        profile, f.creds_path ?: "~/.aws/credentials",
                                        f.config_path ?: "~/.aws/config");
                r = aws_profile_credentials(&f, profile, region_of(p.v[AWS_KEY_REGION]), &c,
                                            &source, err);
                if (r < 0)
                        return r;
        }
        if (ret_region)
                *ret_region = TAKE_PTR(p.v[AWS_KEY_REGION]);
        if (r == 0)
                return 0;
        *ret_source = source;
        *ret = c;
        c = (struct s3_credentials){0};
        return 1;
}

/* Names that work as a host name label under TLS: lower case, digits, '-', no dots. */
static bool dns_bucket(const char *b)
{
        size_t n = strlen(b);
        if (n < 3 || n > 63 || b[0] == '-' || b[n - 1] == '-')
                return false;
        for (const char *p = b; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
                        return false;
        return true;
}

static bool ip_or_localhost(const char *authority)
{
        if (authority[0] == '[')
                return true;
        size_t n = strcspn(authority, ":");
        if (n == 9 && !strncmp(authority, "localhost", 9))
                return true;
        for (size_t i = 0; i < n; i++)
                if (!((authority[i] >= '0' && authority[i] <= '9') || authority[i] == '.'))
                        return false;
        return n > 0;
}

int s3_endpoint_split(const char *endpoint, const char **ret_scheme, char **ret_authority,
                      char **ret_base)
{
        const char *scheme = "https", *rest = endpoint;
        if ((rest = startswith(endpoint, "https://")))
                scheme = "https";
        else if ((rest = startswith(endpoint, "http://")))
                scheme = "http";
        else if (strstr(endpoint, "://"))
                return -EINVAL;
        else
                rest = endpoint;
        size_t n = strcspn(rest, "/?#");
        if (n == 0 || memchr(rest, '@', n) || strpbrk(rest + n, "?#"))
                return -EINVAL;
        const char *dflt = streq(scheme, "https") ? ":443" : ":80";
        size_t dl = strlen(dflt);
        size_t an = n > dl && !strncmp(rest + n - dl, dflt, dl) ? n - dl : n;
        size_t bn = strlen(rest + n);
        while (bn && rest[n + bn - 1] == '/')
                bn--;
        *ret_scheme = scheme;
        *ret_authority = xstrndup(rest, an);
        *ret_base = xstrndup(rest + n, bn);
        return 0;
}

int s3_object_request(const char *bucket, const char *key, const char *region, const char *endpoint,
                      bool force_path_style, char **ret_url, char **ret_host, char **ret_path)
{
        const char *scheme = "https";
        _cleanup_free_ char *authority = NULL, *base = NULL;
        if (endpoint) {
                if (s3_endpoint_split(endpoint, &scheme, &authority, &base) < 0)
                        return -EINVAL;
        } else {
                authority = xasprintf("s3.%s.amazonaws.com", region);
                base = xstrdup("");
        }
        bool path_style = force_path_style || !dns_bucket(bucket) || ip_or_localhost(authority);
        _cleanup_free_ char *ekey = s3_uri_encode(key, false);
        _cleanup_free_ char *ebucket = s3_uri_encode(bucket, true);
        char *host, *path;
        if (path_style) {
                host = xstrdup(authority);
                path = xasprintf("%s/%s/%s", base, ebucket, ekey);
        } else {
                host = xasprintf("%s.%s", bucket, authority);
                path = xasprintf("%s/%s", base, ekey);
        }
        *ret_url = xasprintf("%s://%s%s", scheme, host, path);
        *ret_host = host;
        *ret_path = path;
        return 0;
}

char *s3_xml_field(const char *body, size_t len, const char *tag, size_t max)
{
        _cleanup_free_ char *open = xasprintf("<%s>", tag), *close = xasprintf("</%s>", tag);
        const char *s = memmem(body, len, open, strlen(open));
        if (!s)
                return NULL;
        s += strlen(open);
        const char *e = memmem(s, len - (size_t) (s - body), close, strlen(close));
        if (!e)
                return NULL;
        static const struct {
                const char *name;
                char c;
        } ents[] = {
                {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
        struct buf b = BUF_INIT(max);
        while (s < e) {
                char c = *s++;
                for (size_t i = 0; c == '&' && i < ARRAY_SIZE(ents); i++) {
                        size_t n = strlen(ents[i].name) - 1;
                        if ((size_t) (e - s) >= n && !memcmp(s, ents[i].name + 1, n)) {
                                s += n;
                                c = ents[i].c;
                                break;
                        }
                }
                if (buf_append_char(&b, (unsigned char) c < 0x20 || c == 0x7f ? ' ' : c) < 0)
                        break;
        }
        return buf_steal(&b);
}

void s3_error_parse(const char *body, size_t len, char **ret_code, char **ret_message)
{
        *ret_code = body ? s3_xml_field(body, len, "Code", S3_ERROR_FIELD_MAX) : NULL;
        *ret_message = body ? s3_xml_field(body, len, "Message", S3_ERROR_FIELD_MAX) : NULL;
}

static void strv_cleanse_free(char ***l)
{
        for (size_t i = 0; *l && (*l)[i]; i++)
                OPENSSL_cleanse((*l)[i], strlen((*l)[i]));
        strv_free(*l);
}

/* The signed headers for libcurl ("Name: value"); host goes out as libcurl makes it. */
static int sign_headers(const struct s3_credentials *c, const char *host, const char *path,
                        const char *region, char ***ret)
{
        char amz_date[17];
        struct tm tm;
        time_t now = time(NULL);
        if (!gmtime_r(&now, &tm) ||
            strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", &tm) != 16)
                return -EINVAL;
        struct s3_header h[4] = {
                {"host", host},
                {"x-amz-content-sha256", S3_EMPTY_PAYLOAD_SHA256},
                {"x-amz-date", amz_date},
                {"x-amz-security-token", c->session_token},
        };
        struct s3_sign_input in = {
                .method = "GET",
                .path = path,
                .headers = h,
                .n_headers = c->session_token ? 4 : 3,
                .payload_hash = S3_EMPTY_PAYLOAD_SHA256,
                .amz_date = amz_date,
                .region = region,
                .service = "s3",
                .access_key = c->access_key,
                .secret_key = c->secret_key,
        };
        _cleanup_free_ char *auth = NULL;
        int r = s3_sign(&in, &auth);
        if (r < 0)
                return r;
        char **l = NULL;
        for (size_t i = 1; i < in.n_headers; i++)
                strv_consume(&l, xasprintf("%s: %s", h[i].name, h[i].value));
        strv_consume(&l, xasprintf("Authorization: %s", auth));
        OPENSSL_cleanse(auth, strlen(auth));
        *ret = l;
        return 0;
}

static int http_error(const char *bucket, const char *key, long status, const struct buf *body,
                      struct lerr **err)
{
        _cleanup_free_ char *code = NULL, *message = NULL;
        s3_error_parse(body->data, body->len, &code, &message);
        int errnum = status == 404 ? ENOENT : status == 403 || status == 401 ? EACCES : EIO;
        return lerr_set(err, errnum,
                        "get the build context from S3 bucket '%s', key '%s': HTTP %ld%s%s%s%s",
                        bucket, key, status, code ? " " : "", code ? code : "", message ? ": " : "",
                        message ? message : "");
}

int s3_credentials_find(struct s3_credentials *ret, char **ret_region, const char **ret_source,
                        struct lerr **err)
{
        _cleanup_(s3_credentials_done) struct s3_credentials c = {0};
        _cleanup_free_ char *cfg_region = NULL;
        const char *source = NULL;
        int r = s3_credentials_load(&c, &cfg_region, &source, err);
        if (r < 0)
                return r;
        const char *region = region_of(cfg_region);
        if (r == 0)
                r = aws_creds_chain(region, &c, &source, err);
        if (r < 0)
                return r;
        *ret_region = xstrdup(region);
        if (r == 0)
                return 0;
        *ret_source = source;
        *ret = c;
        c = (struct s3_credentials){0};
        return 1;
}

int context_s3_fetch(const char *url, int out_fd, uint64_t max_bytes, struct lerr **err)
{
        _cleanup_free_ char *bucket = NULL, *key = NULL, *region = NULL;
        _cleanup_free_ char *http_url = NULL, *host = NULL, *path = NULL;
        _cleanup_(s3_credentials_done) struct s3_credentials c = {0};
        _cleanup_(strv_cleanse_free) char **headers = NULL;
        _cleanup_(buf_done) struct buf body = BUF_INIT(S3_ERROR_MAX_BYTES);
        const char *force = env("S3_FORCE_PATH_STYLE");
        long status = 0;

        if (s3_parse_url(url, &bucket, &key) < 0)
                return lerr_set(err, EINVAL, "invalid S3 context '%s': expected s3://BUCKET/KEY",
                                url);
        const char *source = NULL;
        int have = s3_credentials_find(&c, &region, &source, err);
        if (have < 0)
                return lerr_wrap(err, "get AWS credentials for '%s'", url);
        if (s3_object_request(bucket, key, region, env("S3_ENDPOINT"),
                              force && !strcasecmp(force, "true"), &http_url, &host, &path) < 0)
                return lerr_set(err, EINVAL, "invalid S3_ENDPOINT '%s'", env("S3_ENDPOINT"));
        if (have) {
                log_debug("signing the S3 request with access key ID %s (from %s%s%s), region %s",
                          c.access_key, source, c.expiration ? ", valid until " : "",
                          c.expiration ? c.expiration : "", region);
                if (sign_headers(&c, host, path, region, &headers) < 0)
                        return lerr_set(err, EINVAL, "sign the S3 request for '%s'", url);
        } else
                log_info("No AWS credentials found: requesting %s anonymously", url);
        log_info("Downloading the build context from %s (%s)", url, http_url);
        struct url_fetch_opts fo = {
                .max_bytes = max_bytes,
                .retries = 2,
                .headers = (const char *const *) headers,
                .error_body = &body,
                .error_status = &status,
        };
        struct url_fetch_result res;
        int r = url_fetch(http_url, out_fd, &fo, &res, err);
        if (r < 0 && status >= 400)
                return http_error(bucket, key, status, &body, err);
        if (r < 0)
                return lerr_wrap(err, "get the build context '%s'", url);
        return 0;
}
