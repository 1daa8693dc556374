/* SPDX-License-Identifier: Apache-2.0 */
/* The gs:// build context: Application Default Credentials to an OAuth access token (RS256 JWT
 * grant, refresh token, or the metadata server), then one GET of the object's media URL. It
 * does not list, upload or resume; the object must be a tar.gz as Kaniko expects. */
#include "executor/context_gcs.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/secret.h"
#include "executor/api_http.h"
#include "executor/url_fetch.h"

#define GCS_BUCKET_MAX 222 /* GCS's limit for dotted names */

static const char *env(const char *name)
{
        const char *v = getenv(name);
        return v && *v ? v : NULL;
}

int gcs_parse_url(const char *url, char **ret_bucket, char **ret_object)
{
        const char *rest = startswith(url, "gs://");
        if (!rest)
                return -EINVAL;
        size_t n = strcspn(rest, "/");
        if (n == 0 || n > GCS_BUCKET_MAX)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                char c = rest[i];
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                      c == '.'))
                        return -EINVAL;
        }
        const char *obj = rest[n] == '/' ? rest + n + 1 : "";
        *ret_bucket = xstrndup(rest, n);
        *ret_object = xstrdup(*obj ? obj : GCS_DEFAULT_OBJECT);
        return 0;
}

static void percent_encode(struct buf *b, const char *s)
{
        static const char hex[] = "0123456789ABCDEF";
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                unsigned char c = *p;
                bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
                char e[3] = {'%', hex[c >> 4], hex[c & 15]};
                /* the buf is unbounded: it fails only on OOM */
                if ((keep ? buf_append_char(b, (char) c) : buf_append(b, e, 3)) < 0)
                        oom();
        }
}

char *gcs_object_url(const char *base, const char *bucket, const char *object)
{
        struct buf b = BUF_INIT(SIZE_MAX);
        if (buf_printf(&b, "%s/storage/v1/b/", base) < 0)
                oom();
        percent_encode(&b, bucket);
        if (buf_append_str(&b, "/o/") < 0)
                oom();
        percent_encode(&b, object);
        if (buf_append_str(&b, "?alt=media") < 0)
                oom();
        return buf_steal(&b);
}

int gcs_endpoint_base(const char *setting, char **ret)
{
        const char *rest;
        _cleanup_free_ char *url = NULL;
        if (startswith(setting, "http://") || startswith(setting, "https://"))
                url = xstrdup(setting);
        else if (strstr(setting, "://"))
                return -EINVAL;
        else
                url = xasprintf("http://%s", setting);
        rest = strstr(url, "://") + 3;
        size_t n = strcspn(rest, "/?#");
        if (n == 0 || memchr(rest, '@', n) || strpbrk(rest, "?#"))
                return -EINVAL;
        size_t len = strlen(url);
        while (len > (size_t) (rest - url) + n && url[len - 1] == '/')
                url[--len] = '\0';
        *ret = TAKE_PTR(url);
        return 0;
}

static int copy_field(const cJSON *j, const char *key, bool required, char **ret, struct lerr **err)
{
        const char *v = NULL;
        int r = required ? json_require_string(j, key, &v, err) : json_get_string(j, key, &v, err);
        if (r < 0)
                return r;
        *ret = v ? xstrdup(v) : NULL;
        return 0;
}

int gcs_credentials_parse(const char *json, size_t len, struct gcs_credentials *ret,
                          struct lerr **err)
{
        _cleanup_(cJSON_Deletep) cJSON *j = NULL;
        _cleanup_(gcs_credentials_done) struct gcs_credentials c = {0};
        const char *type = NULL;
        int r = json_parse(json, len, GCS_JSON_MAX_BYTES, "credentials file", &j, err);
        if (r >= 0)
                r = json_require_string(j, "type", &type, err);
        if (r < 0)
                return r;
        if (streq(type, "service_account")) {
                c.type = GCS_CRED_SERVICE_ACCOUNT;
                r = copy_field(j, "client_email", true, &c.client_email, err);
                if (r >= 0)
                        r = copy_field(j, "private_key", true, &c.private_key, err);
        } else if (streq(type, "authorized_user")) {
                c.type = GCS_CRED_AUTHORIZED_USER;
                r = copy_field(j, "client_id", true, &c.client_id, err);
                if (r >= 0)
                        r = copy_field(j, "client_secret", true, &c.client_secret, err);
                if (r >= 0)
                        r = copy_field(j, "refresh_token", true, &c.refresh_token, err);
        } else
                return lerr_set(err, ENOTSUP,
                                "credentials of type '%.64s' are not supported (use "
                                "service_account or authorized_user)",
                                type);
        if (r >= 0)
                r = copy_field(j, "token_uri", false, &c.token_uri, err);
        if (r < 0)
                return r;
        if (!c.token_uri || !*c.token_uri) {
                free(c.token_uri);
                c.token_uri = xstrdup(GCS_DEFAULT_TOKEN_URI);
        }
        *ret = c;
        c = (struct gcs_credentials){0};
        return 0;
}

void gcs_credentials_done(struct gcs_credentials *c)
{
        char **fields[] = {&c->client_email,  &c->private_key,   &c->client_id,
                           &c->client_secret, &c->refresh_token, &c->token_uri};
        for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
                secret_freep(fields[i]);
                *fields[i] = NULL;
        }
        c->type = 0;
}

char *gcs_base64url(const void *p, size_t n)
{
        size_t cap = 4 * ((n + 2) / 3) + 1;
        unsigned char *out = xmalloc(cap);
        int len = EVP_EncodeBlock(out, p, (int) n);
        while (len > 0 && out[len - 1] == '=')
                len--;
        out[len] = '\0';
        for (int i = 0; i < len; i++)
                out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
        return (char *) out;
}

static char *jwt_claims(const struct gcs_credentials *c, const char *scope, int64_t now)
{
        _cleanup_(cJSON_Deletep) cJSON *o = json_new_object();
        json_add_string(o, "iss", c->client_email);
        json_add_string(o, "scope", scope);
        json_add_string(o, "aud", c->token_uri);
        if (!cJSON_AddNumberToObject(o, "iat", (double) now) ||
            !cJSON_AddNumberToObject(o, "exp", (double) (now + GCS_JWT_LIFETIME)))
                oom();
        return json_print(o);
}

/* RS256: RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3). */
static int rs256_sign(const char *pem, const char *data, unsigned char **ret_sig, size_t *ret_len)
{
        BIO *bio = BIO_new_mem_buf(pem, -1);
        if (!bio)
                oom();
        EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
        BIO_free(bio);
        if (!key)
                return -EINVAL;
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        unsigned char *sig = NULL;
        size_t len = 0;
        int r = -EINVAL;
        if (md && EVP_PKEY_base_id(key) == EVP_PKEY_RSA &&
            EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
            EVP_DigestSign(md, NULL, &len, (const unsigned char *) data, strlen(data)) == 1) {
                sig = xmalloc(len);
                if (EVP_DigestSign(md, sig, &len, (const unsigned char *) data, strlen(data)) == 1)
                        r = 0;
        }
        EVP_MD_CTX_free(md);
        EVP_PKEY_free(key);
        if (r < 0) {
                free(sig);
                return r;
        }
        *ret_sig = sig;
        *ret_len = len;
        return 0;
}

int gcs_jwt_build(const struct gcs_credentials *c, int64_t now, char **ret_jwt, struct lerr **err)
{
        return gcp_jwt_build(c, GCS_SCOPE, now, ret_jwt, err);
}

int gcp_jwt_build(const struct gcs_credentials *c, const char *scope, int64_t now, char **ret_jwt,
                  struct lerr **err)
{
        static const char header[] = "{\"alg\":\"RS256\",\"typ\":\"JWT\"}";
        _cleanup_free_ char *h = gcs_base64url(header, strlen(header));
        _cleanup_free_ char *claims = jwt_claims(c, scope, now);
        _cleanup_free_ char *cl = gcs_base64url(claims, strlen(claims));
        _cleanup_free_ char *input = xasprintf("%s.%s", h, cl);
        _cleanup_free_ unsigned char *sig = NULL;
        size_t sig_len = 0;
        if (rs256_sign(c->private_key, input, &sig, &sig_len) < 0)
                return lerr_set(err, EINVAL,
                                "sign a token request for service account '%s': private_key is "
                                "not a PEM RSA private key",
                                c->client_email);
        _cleanup_free_ char *s = gcs_base64url(sig, sig_len);
        *ret_jwt = xasprintf("%s.%s", input, s);
        return 0;
}

int gcs_token_parse(const char *json, size_t len, char **ret_token, struct lerr **err)
{
        _cleanup_(cJSON_Deletep) cJSON *j = NULL;
        const char *token = NULL, *type = NULL;
        int r = json_parse(json, len, GCS_JSON_MAX_BYTES, "token response", &j, err);
        if (r >= 0)
                r = json_require_string(j, "access_token", &token, err);
        if (r >= 0)
                r = json_get_string(j, "token_type", &type, err);
        if (r < 0)
                return r;
        if (!*token)
                return lerr_set(err, EBADMSG, "token response: empty access_token");
        if (type && strcasecmp(type, "Bearer"))
                return lerr_set(err, EPROTO, "token response: token_type '%.64s' is not Bearer",
                                type);
        if (strpbrk(token, "\r\n"))
                return lerr_set(err, EBADMSG, "token response: access_token has a line break");
        *ret_token = xstrdup(token);
        return 0;
}

static char *clean_field(const char *s)
{
        struct buf b = BUF_INIT(GCS_ERROR_FIELD_MAX);
        for (; *s; s++)
                if (buf_append_char(&b, (unsigned char) *s < 0x20 || *s == 0x7f ? ' ' : *s) < 0)
                        break;
        return buf_steal(&b);
}

char *gcs_error_message(const char *body, size_t len)
{
        _cleanup_(cJSON_Deletep) cJSON *j = NULL;
        if (!body || len == 0 || len > GCS_ERROR_MAX_BYTES)
                return NULL;
        j = cJSON_ParseWithLength(body, len);
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
        if (cJSON_IsObject(e)) {
                const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
                return cJSON_IsString(m) ? clean_field(m->valuestring) : NULL;
        }
        if (!cJSON_IsString(e))
                return NULL;
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "error_description");
        if (!cJSON_IsString(d) || !*d->valuestring)
                return clean_field(e->valuestring);
        _cleanup_free_ char *both = xasprintf("%s: %s", e->valuestring, d->valuestring);
        return clean_field(both);
}

/* POSTs an OAuth form to uri and takes the access_token of the answer. */
static int token_exchange(const char *uri, const char *form, char **ret_token, struct lerr **err)
{
        _cleanup_(buf_done) struct buf resp = BUF_INIT(GCS_JSON_MAX_BYTES);
        long status = 0;
        struct api_request q = {.url = uri, .body = form, .connect_ms = 30000, .total_ms = 120000};
        int r = api_request(&q, &resp, &status, err);
        if (r < 0) {
                if (resp.data)
                        OPENSSL_cleanse(resp.data, resp.len);
                return lerr_wrap(err, "get an access token from '%s'", uri);
        }
        if (status != 200) {
                _cleanup_free_ char *msg = gcs_error_message(resp.data, resp.len);
                return lerr_set(err, status >= 400 && status < 500 ? EACCES : EIO,
                                "get an access token from '%s': HTTP %ld%s%s", uri, status,
                                msg ? ": " : "", msg ? msg : "");
        }
        r = gcs_token_parse(resp.data, resp.len, ret_token, err);
        OPENSSL_cleanse(resp.data, resp.len);
        if (r < 0)
                return lerr_wrap(err, "get an access token from '%s'", uri);
        return 0;
}

static void form_add(struct buf *b, const char *name, const char *value)
{
        if (buf_printf(b, "%s%s=", b->len ? "&" : "", name) < 0)
                oom();
        percent_encode(b, value);
}

static int token_from_credentials(const struct gcs_credentials *c, const char *scope,
                                  char **ret_token, struct lerr **err)
{
        struct buf form = BUF_INIT(SIZE_MAX);
        int r = 0;
        if (c->type == GCS_CRED_SERVICE_ACCOUNT) {
                _cleanup_secret_ char *jwt = NULL;
                r = gcp_jwt_build(c, scope, (int64_t) time(NULL), &jwt, err);
                if (r < 0)
                        return r;
                form_add(&form, "grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer");
                form_add(&form, "assertion", jwt);
        } else {
                form_add(&form, "client_id", c->client_id);
                form_add(&form, "client_secret", c->client_secret);
                form_add(&form, "refresh_token", c->refresh_token);
                form_add(&form, "grant_type", "refresh_token");
        }
        _cleanup_secret_ char *body = buf_steal(&form);
        return token_exchange(c->token_uri, body, ret_token, err);
}

static int token_from_file(const char *path, const char *source, const char *scope,
                           const char *what, char **ret_token, struct lerr **err)
{
        _cleanup_(buf_done) struct buf b = BUF_INIT(GCS_JSON_MAX_BYTES);
        _cleanup_(gcs_credentials_done) struct gcs_credentials c = {0};
        int r = fs_read_file_at(AT_FDCWD, path, &b);
        if (r == -E2BIG)
                return lerr_set(err, E2BIG, "read '%s' (%s): over the limit of %u bytes", path,
                                source, GCS_JSON_MAX_BYTES);
        if (r < 0)
                return lerr_errno(err, -r, "read '%s' (%s)", path, source);
        r = gcs_credentials_parse(b.data, b.len, &c, err);
        if (b.data)
                OPENSSL_cleanse(b.data, b.len);
        if (r < 0)
                return lerr_wrap(err, "read '%s' (%s)", path, source);
        if (c.type == GCS_CRED_SERVICE_ACCOUNT)
                log_info("Using the %s credentials of service account %s from %s", what,
                         c.client_email, path);
        else
                log_info("Using the %s credentials of an authorized user from %s", what, path);
        return token_from_credentials(&c, scope, ret_token, err);
}

/* The metadata server of GCE, GKE (workload identity), Cloud Run. Whether there is one is
 * decided by the 1 s connect; once connected, GKE's server may take seconds to mint a token.
 * Returns 1 with a token, 0 when there is none (not on Google Cloud); errors only when
 * GCE_METADATA_HOST names it. */
static int token_from_metadata(const char *what, char **ret_token, struct lerr **err)
{
        const char *named = env("GCE_METADATA_HOST");
        _cleanup_free_ char *url =
                xasprintf("http://%s/computeMetadata/v1/instance/service-accounts/default/token",
                          named ?: "169.254.169.254");
        _cleanup_(buf_done) struct buf resp = BUF_INIT(GCS_JSON_MAX_BYTES);
        static const char *const headers[] = {"Metadata-Flavor: Google", NULL};
        struct api_request q = {
                .url = url, .headers = headers, .connect_ms = 1000, .total_ms = 30000};
        /* without GCE_METADATA_HOST, no answer means not on Google Cloud: no error */
        struct lerr *quiet = NULL;
        long status = 0;
        int r = api_request(&q, &resp, &status, named ? err : &quiet);
        if (r < 0 || status != 200) {
                if (!named) {
                        log_debug("no GCE metadata server: %s",
                                  r < 0 ? lerr_message(quiet) : "HTTP error");
                        lerr_free(quiet);
                        return 0;
                }
                if (r < 0)
                        return lerr_wrap(err,
                                         "get an access token from the metadata server '%s' "
                                         "(GCE_METADATA_HOST)",
                                         named);
                _cleanup_free_ char *msg = gcs_error_message(resp.data, resp.len);
                return lerr_set(err, EACCES,
                                "get an access token from the metadata server '%s' "
                                "(GCE_METADATA_HOST): HTTP %ld%s%s",
                                named, status, msg ? ": " : "", msg ? msg : "");
        }
        r = gcs_token_parse(resp.data, resp.len, ret_token, err);
        OPENSSL_cleanse(resp.data, resp.len);
        if (r < 0)
                return lerr_wrap(err, "get an access token from the metadata server");
        log_info("Using the %s credentials of the metadata server's default service account", what);
        return 1;
}

int gcp_access_token(const char *scope, const char *what, char **ret_token, struct lerr **err)
{
        const char *gac = env("GOOGLE_APPLICATION_CREDENTIALS");
        if (gac) {
                int r = token_from_file(gac, "GOOGLE_APPLICATION_CREDENTIALS", scope, what,
                                        ret_token, err);
                return r < 0 ? r : 1;
        }
        const char *cfg = env("CLOUDSDK_CONFIG"), *home = env("HOME");
        _cleanup_free_ char *adc = cfg    ? xasprintf("%s/%s", cfg, GCS_ADC_FILE)
                                   : home ? xasprintf("%s/.config/gcloud/%s", home, GCS_ADC_FILE)
                                          : NULL;
        if (adc && access(adc, F_OK) == 0) {
                int r = token_from_file(adc, "gcloud application default credentials", scope, what,
                                        ret_token, err);
                return r < 0 ? r : 1;
        }
        return token_from_metadata(what, ret_token, err);
}

static int http_error(const char *bucket, const char *object, long status, const struct buf *body,
                      struct lerr **err)
{
        _cleanup_free_ char *msg = gcs_error_message(body->data, body->len);
        int errnum = status == 404 ? ENOENT : status == 403 || status == 401 ? EACCES : EIO;
        return lerr_set(err, errnum,
                        "get the build context from GCS bucket '%s', object '%s': HTTP %ld%s%s",
                        bucket, object, status, msg ? ": " : "", msg ? msg : "");
}

static int storage_base(const char **ret_source, char **ret_base, struct lerr **err)
{
        const char *emu = env("STORAGE_EMULATOR_HOST"), *ep = env("LADING_GCS_ENDPOINT");
        const char *name = emu ? "STORAGE_EMULATOR_HOST" : "LADING_GCS_ENDPOINT";
        if (!emu && !ep) {
                *ret_source = NULL;
                *ret_base = xstrdup(GCS_DEFAULT_ENDPOINT);
                return 0;
        }
        if (gcs_endpoint_base(emu ?: ep, ret_base) < 0)
                return lerr_set(err, EINVAL,
                                "invalid %s '%s': expected host:port or an http(s) URL", name,
                                emu ?: ep);
        *ret_source = name;
        return 0;
}

int context_gcs_fetch(const char *url, int out_fd, uint64_t max_bytes, struct lerr **err)
{
        _cleanup_free_ char *bucket = NULL, *object = NULL, *base = NULL, *http_url = NULL;
        _cleanup_secret_ char *token = NULL, *auth = NULL;
        _cleanup_(buf_done) struct buf body = BUF_INIT(GCS_ERROR_MAX_BYTES);
        const char *source = NULL;
        long status = 0;

        if (gcs_parse_url(url, &bucket, &object) < 0)
                return lerr_set(err, EINVAL,
                                "invalid GCS context '%s': expected gs://BUCKET/OBJECT", url);
        int r = storage_base(&source, &base, err);
        if (r < 0)
                return r;
        http_url = gcs_object_url(base, bucket, object);
        /* an emulator takes no credentials, as with Google's client libraries */
        bool emulator = source && streq(source, "STORAGE_EMULATOR_HOST");
        int have = emulator ? 0 : gcp_access_token(GCS_SCOPE, "GCS", &token, err);
        if (have < 0)
                return lerr_wrap(err, "get GCS credentials for '%s'", url);
        if (have)
                auth = xasprintf("Authorization: Bearer %s", token);
        else if (emulator)
                log_info("STORAGE_EMULATOR_HOST is set: requesting %s without credentials", url);
        else
                log_info("No Google credentials found: requesting %s anonymously", url);
        log_info("Downloading the build context from gs://%s/%s (%s)", bucket, object, http_url);
        const char *headers[] = {auth, NULL};
        struct url_fetch_opts fo = {
                .max_bytes = max_bytes,
                .retries = 2,
                .headers = auth ? headers : NULL,
                .error_body = &body,
                .error_status = &status,
        };
        struct url_fetch_result res;
        r = url_fetch(http_url, out_fd, &fo, &res, err);
        if (r < 0 && status >= 400)
                return http_error(bucket, object, status, &body, err);
        if (r < 0)
                return lerr_wrap(err, "get the build context '%s'", url);
        return 0;
}
