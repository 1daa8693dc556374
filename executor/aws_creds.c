/* SPDX-License-Identifier: Apache-2.0 */
/* AWS credentials from STS web identity, the ECS container endpoint and EC2 instance
 * metadata, each one small libcurl request with a bounded body. It does not cache or refresh
 * credentials: a build context is one download. */
#include "executor/aws_creds.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "common/macros.h"
#include "executor/api_http.h"
#include "executor/context_s3.h"
#include "executor/s3_sign.h"

static const char *env(const char *name)
{
        const char *v = getenv(name);
        return v && *v ? v : NULL;
}

static void buf_cleanse_done(struct buf *b)
{
        if (b->data)
                OPENSSL_cleanse(b->data, b->alloc);
        buf_done(b);
}

static void str_cleanse_free(char **s)
{
        if (*s)
                OPENSSL_cleanse(*s, strlen(*s));
        free(*s);
}

int aws_creds_check_field(const char *name, const char *v, struct lerr **err)
{
        size_t n = v ? strlen(v) : 0;
        if (!n)
                return lerr_set(err, EBADMSG, "missing or empty %s", name);
        if (n >= AWS_CREDS_FIELD_MAX)
                return lerr_set(err, EBADMSG, "%s over the limit of %d bytes", name,
                                AWS_CREDS_FIELD_MAX - 1);
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) v[i] < 0x20 || v[i] == 0x7f)
                        return lerr_set(err, EBADMSG, "%s has a control character", name);
        return 0;
}

int aws_sts_parse(const char *body, size_t len, struct s3_credentials *ret, struct lerr **err)
{
        static const char *const tags[] = {"AccessKeyId", "SecretAccessKey", "SessionToken"};
        _cleanup_(s3_credentials_done) struct s3_credentials c = {0};
        char **fields[] = {&c.access_key, &c.secret_key, &c.session_token};
        for (size_t i = 0; i < ARRAY_SIZE(tags); i++) {
                *fields[i] = s3_xml_field(body, len, tags[i], AWS_CREDS_FIELD_MAX);
                int r = aws_creds_check_field(tags[i], *fields[i], err);
                if (r < 0)
                        return lerr_wrap(err, "parse STS response");
        }
        c.expiration = s3_xml_field(body, len, "Expiration", 64);
        *ret = c;
        c = (struct s3_credentials){0};
        return 0;
}

static void json_cleanse(cJSON *j)
{
        for (cJSON *it = j ? j->child : NULL; it; it = it->next)
                if (cJSON_IsString(it) && it->valuestring)
                        OPENSSL_cleanse(it->valuestring, strlen(it->valuestring));
}

static void json_cleanse_freep(cJSON **j)
{
        json_cleanse(*j);
        cJSON_Delete(*j);
}

static int json_creds_fields(const cJSON *j, struct s3_credentials *c, struct lerr **err)
{
        static const char *const keys[] = {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"};
        char **fields[] = {&c->access_key, &c->secret_key, &c->session_token, &c->expiration};
        const char *code = NULL;
        int r = json_get_string(j, "Code", &code, err);
        if (r >= 0 && code)
                r = aws_creds_check_field("Code", code, err);
        if (r < 0)
                return r;
        if (code && !streq(code, "Success"))
                return lerr_set(err, EBADMSG, "Code '%.64s'", code);
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
                const char *v = NULL;
                r = i < 2 ? json_require_string(j, keys[i], &v, err)
                          : json_get_string(j, keys[i], &v, err);
                if (r >= 0 && (i < 2 || v))
                        r = aws_creds_check_field(keys[i], v, err);
                if (r < 0)
                        return r;
                if (v && (i < 3 || strlen(v) < 64))
                        *fields[i] = xstrdup(v);
        }
        return 0;
}

int aws_json_creds_parse(const char *body, size_t len, struct s3_credentials *ret,
                         struct lerr **err)
{
        _cleanup_(json_cleanse_freep) cJSON *j = NULL;
        _cleanup_(s3_credentials_done) struct s3_credentials c = {0};
        int r = json_parse(body, len, AWS_CREDS_RESPONSE_MAX, "credentials response", &j, err);
        if (r < 0)
                return r;
        if (!cJSON_IsObject(j))
                return lerr_set(err, EBADMSG, "parse credentials response: not a JSON object");
        r = json_creds_fields(j, &c, err);
        if (r < 0)
                return lerr_wrap(err, "parse credentials response");
        *ret = c;
        c = (struct s3_credentials){0};
        return 0;
}

int aws_post(const char *url, const char *const *headers, const char *body, struct buf *out,
             long *ret_status, struct lerr **err)
{
        struct api_request q = {.method = "POST",
                                .url = url,
                                .headers = headers,
                                .body = body,
                                .connect_ms = 10000,
                                .total_ms = 30000,
                                .retries = 2};
        return api_request(&q, out, ret_status, err);
}

/* A token file's content without the trailing newline. */
static int read_token_file(const char *var, const char *path, char **ret, struct lerr **err)
{
        _cleanup_(buf_cleanse_done) struct buf b = BUF_INIT(AWS_CREDS_TOKEN_MAX);
        int r = fs_read_file_at(AT_FDCWD, path, &b);
        if (r == -E2BIG)
                return lerr_set(err, E2BIG, "read %s '%s': over the limit of %u bytes", var, path,
                                AWS_CREDS_TOKEN_MAX);
        if (r < 0)
                return lerr_errno(err, -r, "read %s '%s'", var, path);
        while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r' ||
                         b.data[b.len - 1] == ' ' || b.data[b.len - 1] == '\t'))
                b.data[--b.len] = '\0';
        if (!b.len || strnlen(b.data, b.len) != b.len)
                return lerr_set(err, EINVAL, "read %s '%s': %s", var, path,
                                b.len ? "has a NUL byte" : "empty");
        *ret = xstrndup(b.data, b.len);
        return 0;
}

static int sts_form(const char *role, const char *session, const char *token, struct buf *out)
{
        _cleanup_free_ char *erole = s3_uri_encode(role, true);
        _cleanup_free_ char *esession = s3_uri_encode(session, true);
        _cleanup_(str_cleanse_free) char *etoken = s3_uri_encode(token, true);
        return buf_printf(out,
                          "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=%s"
                          "&RoleSessionName=%s&WebIdentityToken=%s",
                          erole, esession, etoken);
}

static int sts_error(const char *role, const char *url, long status, const struct buf *body,
                     struct lerr **err)
{
        _cleanup_free_ char *code = NULL, *message = NULL;
        s3_error_parse(body->data, body->len, &code, &message);
        return lerr_set(err, status == 403 || status == 401 ? EACCES : EIO,
                        "assume role '%s' with web identity at '%s': HTTP %ld%s%s%s%s", role, url,
                        status, code ? " " : "", code ? code : "", message ? ": " : "",
                        message ? message : "");
}

char *aws_sts_url(const char *region, bool global)
{
        const char *endpoint = env("AWS_ENDPOINT_URL_STS") ?: env("AWS_ENDPOINT_URL");
        if (endpoint)
                return xstrdup(endpoint);
        /* the China partition has its own domain and no global endpoint */
        if (startswith(region, "cn-"))
                return xasprintf("https://sts.%s.amazonaws.com.cn/", region);
        return global ? xstrdup("https://sts.amazonaws.com/")
                      : xasprintf("https://sts.%s.amazonaws.com/", region);
}

int aws_web_identity(const char *role, const char *token_file, const char *token_what,
                     const char *session, const char *region, struct s3_credentials *ret,
                     struct lerr **err)
{
        _cleanup_(str_cleanse_free) char *token = NULL;
        _cleanup_(buf_cleanse_done) struct buf form = BUF_INIT(4 * AWS_CREDS_TOKEN_MAX);
        _cleanup_(buf_cleanse_done) struct buf body = BUF_INIT(AWS_CREDS_RESPONSE_MAX);
        _cleanup_free_ char *dflt_session = NULL, *url = NULL;
        long status = 0;

        int r = read_token_file(token_what, token_file, &token, err);
        if (r < 0)
                return r;
        if (!session)
                session = dflt_session = xasprintf("lading-%lld", (long long) time(NULL));
        url = aws_sts_url(region, false);
        if (sts_form(role, session, token, &form) < 0)
                return lerr_set(err, E2BIG, "web identity token too long");
        static const char *const headers[] = {
                "Content-Type: application/x-www-form-urlencoded; charset=utf-8",
                "Accept: application/xml", "Expect:", NULL};
        struct api_request q = {.method = "POST",
                                .url = url,
                                .headers = headers,
                                .body = form.data,
                                .connect_ms = 10000,
                                .total_ms = 30000,
                                .retries = 2};
        log_debug("AWS credentials: assuming role '%s' with web identity at %s", role, url);
        r = api_request(&q, &body, &status, err);
        if (r < 0)
                return lerr_wrap(err, "assume role '%s' with web identity at '%s'", role, url);
        if (status != 200)
                return sts_error(role, url, status, &body, err);
        r = aws_sts_parse(body.data ?: "", body.len, ret, err);
        if (r < 0)
                return lerr_wrap(err, "assume role '%s' with web identity at '%s'", role, url);
        return 1;
}

static int from_web_identity(const char *region, struct s3_credentials *ret, struct lerr **err)
{
        const char *file = env("AWS_WEB_IDENTITY_TOKEN_FILE"), *role = env("AWS_ROLE_ARN");
        if (!file && !role)
                return 0;
        if (!file || !role)
                return lerr_set(err, EINVAL, "%s is set but %s is not",
                                file ? "AWS_WEB_IDENTITY_TOKEN_FILE" : "AWS_ROLE_ARN",
                                file ? "AWS_ROLE_ARN" : "AWS_WEB_IDENTITY_TOKEN_FILE");
        return aws_web_identity(role, file, "AWS_WEB_IDENTITY_TOKEN_FILE",
                                env("AWS_ROLE_SESSION_NAME"), region, ret, err);
}

/* Plain http is allowed only to hosts that cannot be elsewhere on the network, as the SDK
 * does: loopback and the link-local addresses of the ECS and EKS agents. */
static bool container_url_allowed(const char *url)
{
        if (startswith(url, "https://"))
                return true;
        const char *host = startswith(url, "http://");
        if (!host)
                return false;
        size_t n = host[0] == '[' ? strcspn(host, "]") + 1 : strcspn(host, ":/?#");
        static const char *const ok[] = {"localhost",     "127.0.0.1",      "[::1]",
                                         "169.254.170.2", "169.254.170.23", "[fd00:ec2::23]"};
        for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
                if (strlen(ok[i]) == n && !strncasecmp(host, ok[i], n))
                        return true;
        return n > 4 && !strncmp(host, "127.", 4) && strspn(host, "0123456789.") == n;
}

static int container_token(char **ret, struct lerr **err)
{
        const char *file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
        const char *token = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
        _cleanup_(str_cleanse_free) char *t = NULL;
        if (file) {
                int r = read_token_file("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", file, &t, err);
                if (r < 0)
                        return r;
        } else if (token)
                t = xstrdup(token);
        else
                return 0;
        if (strpbrk(t, "\r\n"))
                return lerr_set(err, EINVAL, "the container authorization token has a line break");
        *ret = xasprintf("Authorization: %s", t);
        return 0;
}

int aws_creds_ecs(struct s3_credentials *ret, struct lerr **err)
{
        const char *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
        const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
        _cleanup_(str_cleanse_free) char *auth = NULL;
        _cleanup_(buf_cleanse_done) struct buf body = BUF_INIT(AWS_CREDS_RESPONSE_MAX);
        _cleanup_free_ char *url = NULL;
        long status = 0;

        if (!rel && !full)
                return 0;
        url = rel ? xasprintf("%s%s%s", AWS_ECS_ENDPOINT, rel[0] == '/' ? "" : "/", rel)
                  : xstrdup(full);
        if (!rel && !container_url_allowed(url))
                return lerr_set(err, EINVAL,
                                "AWS_CONTAINER_CREDENTIALS_FULL_URI '%s': http only to loopback "
                                "or the ECS/EKS agent addresses",
                                url);
        int r = container_token(&auth, err);
        if (r < 0)
                return r;
        const char *headers[] = {"Accept: application/json", auth, NULL};
        struct api_request q = {.method = "GET",
                                .url = url,
                                .headers = headers,
                                .connect_ms = 2000,
                                .total_ms = 10000,
                                .retries = 2};
        log_debug("AWS credentials: asking the container endpoint %s", url);
        r = api_request(&q, &body, &status, err);
        if (r >= 0 && status != 200)
                r = lerr_set(err, status == 401 || status == 403 ? EACCES : EIO, "HTTP %ld",
                             status);
        if (r >= 0)
                r = aws_json_creds_parse(body.data ?: "", body.len, ret, err);
        if (r < 0)
                return lerr_wrap(err, "get credentials from the container endpoint '%s'", url);
        return 1;
}

static bool imds_disabled(void)
{
        const char *v = env("AWS_EC2_METADATA_DISABLED");
        return v && !strcasecmp(v, "true");
}

/* GET base+path with the session token; 0 with the body, 1 on 404, or an error. */
static int imds_get(const char *base, const char *path, const char *token_header, struct buf *body,
                    struct lerr **err)
{
        _cleanup_free_ char *url = xasprintf("%s%s", base, path);
        const char *headers[] = {token_header, NULL};
        struct api_request q = {.method = "GET",
                                .url = url,
                                .headers = headers,
                                .connect_ms = 1000,
                                .total_ms = 2000,
                                .retries = 1};
        long status = 0;
        int r = api_request(&q, body, &status, err);
        if (r >= 0 && status == 404)
                return 1;
        if (r >= 0 && status != 200)
                r = lerr_set(err, EIO, "HTTP %ld", status);
        if (r < 0)
                return lerr_wrap(err, "get '%s'", url);
        return 0;
}

/* The session token header, or NULL when instance metadata does not answer. */
static char *imds_token(const char *base)
{
        _cleanup_free_ char *url = xasprintf("%s/latest/api/token", base);
        _cleanup_(buf_cleanse_done) struct buf body = BUF_INIT(4096);
        static const char *const headers[] = {"X-aws-ec2-metadata-token-ttl-seconds: 300", NULL};
        struct api_request q = {.method = "PUT",
                                .url = url,
                                .headers = headers,
                                .body = "",
                                .connect_ms = 1000,
                                .total_ms = 2000,
                                .retries = 1};
        struct lerr *e = NULL;
        long status = 0;
        if (api_request(&q, &body, &status, &e) < 0 || status != 200) {
                log_debug("AWS credentials: no EC2 instance metadata at %s (%s)", base,
                          e ? lerr_message(e) : "token refused");
                lerr_free(e);
                return NULL;
        }
        if (!body.len || strpbrk(body.data, "\r\n") || strnlen(body.data, body.len) != body.len) {
                log_debug("AWS credentials: EC2 instance metadata at %s gave a malformed token",
                          base);
                return NULL;
        }
        return xasprintf("X-aws-ec2-metadata-token: %s", body.data);
}

static int imds_role(const char *base, const char *token_header, char **ret, struct lerr **err)
{
        _cleanup_(buf_done) struct buf body = BUF_INIT(4096);
        int r = imds_get(base, "/latest/meta-data/iam/security-credentials/", token_header, &body,
                         err);
        if (r != 0)
                return r;
        size_t n = body.data ? strcspn(body.data, "\r\n") : 0;
        for (size_t i = 0; i < n; i++)
                if (!((body.data[i] >= 'a' && body.data[i] <= 'z') ||
                      (body.data[i] >= 'A' && body.data[i] <= 'Z') ||
                      (body.data[i] >= '0' && body.data[i] <= '9') ||
                      strchr("+=,.@_-", body.data[i])))
                        n = 0;
        if (!n || n > 128)
                return lerr_set(err, EBADMSG, "malformed IAM role name from instance metadata");
        *ret = xstrndup(body.data, n);
        return 0;
}

int aws_creds_imds(struct s3_credentials *ret, struct lerr **err)
{
        _cleanup_free_ char *base = NULL, *role = NULL, *path = NULL;
        _cleanup_(str_cleanse_free) char *token_header = NULL;
        _cleanup_(buf_cleanse_done) struct buf body = BUF_INIT(AWS_CREDS_RESPONSE_MAX);

        if (imds_disabled()) {
                log_debug("AWS credentials: EC2 instance metadata disabled");
                return 0;
        }
        base = xstrdup(env("AWS_EC2_METADATA_SERVICE_ENDPOINT") ?: AWS_IMDS_ENDPOINT);
        for (size_t n = strlen(base); n && base[n - 1] == '/'; n--)
                base[n - 1] = '\0';
        token_header = imds_token(base);
        if (!token_header)
                return 0;
        int r = imds_role(base, token_header, &role, err);
        if (r == 1)
                log_debug("AWS credentials: no IAM role in the EC2 instance metadata at %s", base);
        if (r != 0)
                return r < 0 ? lerr_wrap(err, "get the IAM role from the EC2 instance metadata")
                             : 0;
        path = xasprintf("/latest/meta-data/iam/security-credentials/%s", role);
        r = imds_get(base, path, token_header, &body, err);
        if (r == 1)
                r = lerr_set(err, ENOENT, "no credentials for IAM role '%s'", role);
        if (r >= 0)
                r = aws_json_creds_parse(body.data ?: "", body.len, ret, err);
        if (r < 0)
                return lerr_wrap(err,
                                 "get the credentials of IAM role '%s' from the EC2 instance "
                                 "metadata",
                                 role);
        return 1;
}

int aws_creds_chain(const char *region, struct s3_credentials *ret, const char **ret_source,
                    struct lerr **err)
{
        int r = from_web_identity(region, ret, err);
        if (r > 0)
                *ret_source = "web identity";
        if (r == 0 && (r = aws_creds_ecs(ret, err)) > 0)
                *ret_source = "ECS container endpoint";
        if (r == 0 && (r = aws_creds_imds(ret, err)) > 0)
                *ret_source = "EC2 instance metadata";
        return r;
}
