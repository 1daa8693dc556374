/* SPDX-License-Identifier: Apache-2.0 */
/* ECR registry credentials: host matching, one signed GetAuthorizationToken call per registry
 * and a process-wide cache. It does not find AWS credentials (context_s3.c, aws_creds.c) nor
 * refresh tokens that expire during a build (a build is shorter than ECR's 12 hours). */
#include "executor/ecr_creds.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/secret.h"
#include "common/strv.h"
#include "executor/aws_creds.h"
#include "executor/context_s3.h"
#include "executor/creds_cache.h"
#include "executor/s3_sign.h"
#include "registry/base64.h"
#include "registry/creds.h"

#define ECR_REGION_MAX 32

/* unset and empty are the same to the AWS SDKs */
static const char *env(const char *name)
{
        const char *v = getenv(name);
        return v && *v ? v : NULL;
}

static bool all_digits(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (s[i] < '0' || s[i] > '9')
                        return false;
        return true;
}

int ecr_host_parse(const char *host, char **ret_region, char **ret_api_url)
{
        const char *p = host;
        if (strlen(p) < 12 || !all_digits(p, 12))
                return 0;
        p += 12;
        const char *rest = startswith(p, ".dkr.ecr-fips.");
        bool fips = rest != NULL;
        if (!rest)
                rest = startswith(p, ".dkr.ecr.");
        if (!rest)
                return 0;
        size_t n = strcspn(rest, ".");
        if (n == 0 || n > ECR_REGION_MAX || rest[0] == '-' || rest[n - 1] == '-')
                return 0;
        for (size_t i = 0; i < n; i++)
                if (!((rest[i] >= 'a' && rest[i] <= 'z') || (rest[i] >= '0' && rest[i] <= '9') ||
                      rest[i] == '-'))
                        return 0;
        const char *suffix = rest + n;
        if (!streq(suffix, ".amazonaws.com") && !streq(suffix, ".amazonaws.com.cn"))
                return 0;
        _cleanup_free_ char *region = xstrndup(rest, n);
        *ret_api_url = xasprintf("https://%s.%s%s/", fips ? "ecr-fips" : "api.ecr", region, suffix);
        *ret_region = TAKE_PTR(region);
        return 1;
}

static int token_field(const char *body, size_t len, const char **ret, cJSON **ret_json,
                       struct lerr **err)
{
        _cleanup_(secret_json_freep) cJSON *j = NULL;
        const cJSON *data = NULL, *first;
        const char *token = NULL;
        int r = json_parse(body, len, ECR_RESPONSE_MAX, "GetAuthorizationToken response", &j, err);
        if (r < 0)
                return r;
        if (!cJSON_IsObject(j))
                return lerr_set(err, EBADMSG, "not a JSON object");
        r = json_get_array(j, "authorizationData", &data, err);
        if (r < 0)
                return r;
        first = data ? cJSON_GetArrayItem(data, 0) : NULL;
        if (!first || !cJSON_IsObject(first))
                return lerr_set(err, EBADMSG, "no authorizationData");
        r = json_require_string(first, "authorizationToken", &token, err);
        if (r < 0)
                return r;
        *ret = token;
        *ret_json = TAKE_PTR(j);
        return 0;
}

int ecr_token_parse(const char *body, size_t len, char **ret_user, char **ret_password,
                    struct lerr **err)
{
        _cleanup_(secret_json_freep) cJSON *j = NULL;
        _cleanup_secret_ char *decoded = NULL;
        const char *token = NULL;
        size_t n = 0;
        int r = token_field(body, len, &token, &j, err);
        if (r < 0)
                return lerr_wrap(err, "parse ECR GetAuthorizationToken response");
        if (strlen(token) > ECR_TOKEN_MAX / 3 * 4 + 4)
                return lerr_set(err, EBADMSG,
                                "parse ECR GetAuthorizationToken response: authorizationToken "
                                "over the limit of %u bytes",
                                ECR_TOKEN_MAX);
        if (base64_decode(token, &decoded, &n) < 0)
                return lerr_set(err, EBADMSG,
                                "parse ECR GetAuthorizationToken response: authorizationToken "
                                "is not base64");
        const char *colon = memchr(decoded, ':', n);
        if (!colon || colon == decoded || strnlen(decoded, n) != n)
                return lerr_set(err, EBADMSG,
                                "parse ECR GetAuthorizationToken response: authorizationToken "
                                "is not USER:PASSWORD");
        *ret_user = xstrndup(decoded, (size_t) (colon - decoded));
        *ret_password = xstrdup(colon + 1);
        return 0;
}

static char *error_field(const cJSON *j, const char *key)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
        if (!cJSON_IsString(v) || !v->valuestring || !*v->valuestring)
                return NULL;
        const char *s = v->valuestring, *hash = strrchr(s, '#');
        if (streq(key, "__type") && hash && hash[1])
                s = hash + 1;
        char *out = xstrndup(s, strnlen(s, ECR_ERROR_FIELD_MAX));
        for (char *p = out; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        *p = ' ';
        return out;
}

void ecr_error_parse(const char *body, size_t len, char **ret_type, char **ret_message)
{
        _cleanup_(cJSON_Deletep) cJSON *j = NULL;
        *ret_type = *ret_message = NULL;
        if (!body || len > ECR_RESPONSE_MAX)
                return;
        j = cJSON_ParseWithLength(body, len);
        if (!cJSON_IsObject(j))
                return;
        *ret_type = error_field(j, "__type");
        *ret_message = error_field(j, "message") ?: error_field(j, "Message");
}

int ecr_request_headers(const struct s3_credentials *c, const char *authority, const char *path,
                        const char *region, const char *amz_date, char ***ret)
{
        struct s3_header h[5] = {
                {"content-type", ECR_CONTENT_TYPE},
                {"x-amz-target", ECR_TARGET},
                {"x-amz-date", amz_date},
                {"host", authority},
                {"x-amz-security-token", c->session_token},
        };
        struct s3_sign_input in = {
                .method = "POST",
                .path = path,
                .headers = h,
                .n_headers = c->session_token ? 5 : 4,
                .payload_hash = ECR_BODY_SHA256,
                .amz_date = amz_date,
                .region = region,
                .service = "ecr",
                .access_key = c->access_key,
                .secret_key = c->secret_key,
        };
        _cleanup_secret_ char *auth = NULL;
        int r = s3_sign(&in, &auth);
        if (r < 0)
                return r;
        static const char *const names[] = {"Content-Type", "X-Amz-Target", "X-Amz-Date", NULL,
                                            "X-Amz-Security-Token"};
        char **l = NULL;
        for (size_t i = 0; i < in.n_headers; i++)
                if (names[i])
                        strv_consume(&l, xasprintf("%s: %s", names[i], h[i].value));
        strv_consume(&l, xasprintf("Authorization: %s", auth));
        *ret = l;
        return 0;
}

static struct creds_cache cache = CREDS_CACHE_INIT;

void ecr_creds_cache_clear(void)
{
        creds_cache_clear(&cache);
}

/* The AWS credentials for region: environment and shared files, then the SDK's chain. */
static int aws_credentials(const char *region, struct s3_credentials *ret, const char **ret_source,
                           struct lerr **err)
{
        int r = s3_credentials_load(ret, NULL, ret_source, err);
        if (r == 0)
                r = aws_creds_chain(region, ret, ret_source, err);
        return r;
}

static int call_ecr(const char *url, const char *authority, const char *path, const char *region,
                    const struct s3_credentials *c, struct buf *body, long *ret_status,
                    struct lerr **err)
{
        _cleanup_(secret_strv_freep) char **headers = NULL;
        char amz_date[17];
        struct tm tm;
        time_t now = time(NULL);
        if (!gmtime_r(&now, &tm) ||
            strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", &tm) != 16 ||
            ecr_request_headers(c, authority, path, region, amz_date, &headers) < 0)
                return lerr_set(err, EINVAL, "sign the request");
        /* no "Expect: 100-continue" round trip for a two-byte body */
        strv_consume(&headers, xstrdup("Expect:"));
        return aws_post(url, (const char *const *) headers, ECR_BODY, body, ret_status, err);
}

static int http_error(long status, const struct buf *body, struct lerr **err)
{
        _cleanup_free_ char *type = NULL, *message = NULL;
        ecr_error_parse(body->data, body->len, &type, &message);
        return lerr_set(err, status == 400 || status == 401 || status == 403 ? EACCES : EIO,
                        "HTTP %ld%s%s%s%s", status, type ? " " : "", type ? type : "",
                        message ? ": " : "", message ? message : "");
}

/* GetAuthorizationToken with credentials c; fills *ret. */
static int get_token(const char *domain, const char *region, const char *api_url,
                     const struct s3_credentials *c, const char *source, struct creds **ret,
                     struct lerr **err)
{
        const char *endpoint = env("AWS_ENDPOINT_URL_ECR") ?: env("AWS_ENDPOINT_URL") ?: api_url;
        const char *scheme = NULL;
        _cleanup_free_ char *authority = NULL, *base = NULL, *path = NULL, *url = NULL;
        _cleanup_(secret_buf_done) struct buf body = BUF_INIT(ECR_RESPONSE_MAX);
        _cleanup_secret_ char *user = NULL, *password = NULL;
        long status = 0;
        if (s3_endpoint_split(endpoint, &scheme, &authority, &base) < 0)
                return lerr_set(err, EINVAL, "invalid ECR endpoint '%s'", endpoint);
        path = xasprintf("%s/", base);
        url = xasprintf("%s://%s%s", scheme, authority, path);
        log_debug("ECR: GetAuthorizationToken for '%s' at %s with access key ID %s (from %s)",
                  domain, url, c->access_key, source);
        int r = call_ecr(url, authority, path, region, c, &body, &status, err);
        if (r >= 0 && status != 200)
                r = http_error(status, &body, err);
        if (r >= 0)
                r = ecr_token_parse(body.data ?: "", body.len, &user, &password, err);
        if (r < 0)
                return lerr_wrap(err, "ECR GetAuthorizationToken at '%s'", url);
        struct creds *cr = xcalloc(1, sizeof(*cr));
        cr->username = TAKE_PTR(user);
        cr->password = TAKE_PTR(password);
        cr->source = xasprintf("credentials for '%s' from ECR GetAuthorizationToken (AWS "
                               "credentials from %s)",
                               domain, source);
        *ret = cr;
        return 0;
}

int ecr_creds_provider(const char *domain, struct creds **ret, struct lerr **err)
{
        _cleanup_free_ char *region = NULL, *api_url = NULL;
        _cleanup_(s3_credentials_done) struct s3_credentials c = {0};
        struct creds *cr = NULL;
        const char *source = NULL;

        if (!ecr_host_parse(domain, &region, &api_url))
                return 0;
        if ((cr = creds_cache_get(&cache, domain))) {
                *ret = cr;
                return 1;
        }
        int r = aws_credentials(region, &c, &source, err);
        if (r < 0)
                return lerr_wrap(err, "get AWS credentials for ECR");
        if (r == 0) {
                log_debug("ECR registry '%s' but no AWS credentials found: anonymous", domain);
                return 0;
        }
        r = get_token(domain, region, api_url, &c, source, &cr, err);
        if (r < 0)
                return r;
        creds_cache_put(&cache, domain, cr);
        *ret = cr;
        return 1;
}

void ecr_creds_register(void)
{
        creds_set_provider(ecr_creds_provider);
}
