/* SPDX-License-Identifier: Apache-2.0 */
/* Azure AD access tokens (see azure_aad.h): picks the configured source, builds its request,
 * reads the token out of the answer. It keeps no cache (acr_creds.c caches what it makes of
 * the token) and does not refresh tokens. */
#include "executor/azure_aad.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/secret.h"
#include "executor/api_http.h"
#include "executor/context_gcs.h"
#include "executor/s3_sign.h"

static const char *env(const char *name)
{
        const char *v = getenv(name);
        return v && *v ? v : NULL;
}

void azure_token_done(struct azure_token *t)
{
        secret_freep(&t->access_token);
        free(t->tenant);
        free(t->source);
        *t = (struct azure_token){0};
}

char *azure_token_url(const char *authority, const char *tenant)
{
        size_t n = strlen(authority);
        while (n && authority[n - 1] == '/')
                n--;
        _cleanup_free_ char *t = s3_uri_encode(tenant, true);
        return xasprintf("%.*s/%s/oauth2/v2.0/token", (int) n, authority, t);
}

void azure_form_add(struct buf *b, const char *name, const char *value)
{
        _cleanup_secret_ char *v = s3_uri_encode(value, true);
        if (buf_printf(b, "%s%s=%s", b->len ? "&" : "", name, v) < 0)
                oom();
}

char *azure_form_client_secret(const char *client_id, const char *secret, const char *scope)
{
        struct buf b = BUF_INIT(SIZE_MAX);
        azure_form_add(&b, "grant_type", "client_credentials");
        azure_form_add(&b, "client_id", client_id);
        azure_form_add(&b, "client_secret", secret);
        azure_form_add(&b, "scope", scope);
        return buf_steal(&b);
}

char *azure_form_assertion(const char *client_id, const char *assertion, const char *scope)
{
        struct buf b = BUF_INIT(SIZE_MAX);
        azure_form_add(&b, "grant_type", "client_credentials");
        azure_form_add(&b, "client_id", client_id);
        azure_form_add(&b, "client_assertion_type", AZURE_JWT_BEARER);
        azure_form_add(&b, "client_assertion", assertion);
        azure_form_add(&b, "scope", scope);
        return buf_steal(&b);
}

char *azure_imds_url(const char *base, const char *resource, const char *identity)
{
        struct buf b = BUF_INIT(SIZE_MAX);
        if (buf_printf(&b, "%s/metadata/identity/oauth2/token?", base) < 0)
                oom();
        /* buf_printf's separator logic wants an empty buffer: build the query apart */
        struct buf q = BUF_INIT(SIZE_MAX);
        azure_form_add(&q, "api-version", AZURE_IMDS_API_VERSION);
        azure_form_add(&q, "resource", resource);
        if (identity)
                azure_form_add(&q, identity[0] == '/' ? "msi_res_id" : "client_id", identity);
        if (buf_append(&b, q.data, q.len) < 0)
                oom();
        buf_done(&q);
        return buf_steal(&b);
}

static char *clean_field(const char *s)
{
        struct buf b = BUF_INIT(GCS_ERROR_FIELD_MAX);
        for (; *s; s++)
                if (buf_append_char(&b, (unsigned char) *s < 0x20 || *s == 0x7f ? ' ' : *s) < 0)
                        break;
        return buf_steal(&b) ?: xstrdup("");
}

char *azure_error_message(const char *body, size_t len)
{
        char *oauth = gcs_error_message(body, len);
        if (oauth || !body || len > GCS_ERROR_MAX_BYTES)
                return oauth;
        _cleanup_(cJSON_Deletep) cJSON *j = cJSON_ParseWithLength(body, len);
        const cJSON *errs = cJSON_GetObjectItemCaseSensitive(j, "errors");
        const cJSON *e = cJSON_IsArray(errs) ? cJSON_GetArrayItem(errs, 0) : NULL;
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
        if (!cJSON_IsString(code) || !cJSON_IsString(msg))
                return NULL;
        _cleanup_free_ char *both = xasprintf("%s: %s", code->valuestring, msg->valuestring);
        return clean_field(both);
}

/* http is for IMDS (link-local, http by design) and loopback test fakes; tokens and secrets
 * go nowhere else in the clear. */
static bool plain_http_allowed(const char *url)
{
        const char *rest = startswith(url, "http://");
        if (!rest)
                return false;
        size_t n = rest[0] == '[' ? strcspn(rest, "]") + 1 : strcspn(rest, ":/?#");
        _cleanup_free_ char *host = xstrndup(rest, n);
        if (streq(host, "localhost") || streq(host, "[::1]") || streq(host, "169.254.169.254"))
                return true;
        return startswith(host, "127.") && strspn(host, "0123456789.") == n;
}

int azure_http(const char *url, const char *form, const char *header, struct buf *out,
               struct lerr **err)
{
        /* no "Expect: 100-continue" round trip for a small form */
        const char *headers[] = {"Expect:", header, NULL};
        struct api_request q = {.url = url,
                                .headers = headers,
                                .body = form,
                                .protocols = plain_http_allowed(url) ? "http" : "https"};
        long status = 0;
        int r = api_request(&q, out, &status, err);
        if (r < 0 || status == 200)
                return r;
        _cleanup_free_ char *msg = azure_error_message(out->data, out->len);
        return lerr_set(err, status >= 400 && status < 500 ? EACCES : EIO, "HTTP %ld%s%s", status,
                        msg ? ": " : "", msg ? msg : "");
}

/* One token request (form NULL: IMDS's GET); what names the source in errors. */
static int request_token(const char *what, const char *url, const char *form, const char *header,
                         char **ret_token, struct lerr **err)
{
        _cleanup_(secret_buf_done) struct buf resp = BUF_INIT(AZURE_RESPONSE_MAX);
        int r = azure_http(url, form, header, &resp, err);
        if (r >= 0)
                r = gcs_token_parse(resp.data ?: "", resp.len, ret_token, err);
        if (r < 0)
                return lerr_wrap(err, "%s at '%s'", what, url);
        return 0;
}

static const char *authority(enum azure_cloud cloud)
{
        return env("AZURE_AUTHORITY_HOST") ?: azure_cloud_authority(cloud);
}

static int with_secret(const char *tenant, const char *client_id, const char *secret,
                       const char *where, enum azure_cloud cloud, struct azure_token *ret,
                       struct lerr **err)
{
        _cleanup_free_ char *url = azure_token_url(authority(cloud), tenant);
        _cleanup_secret_ char *form =
                azure_form_client_secret(client_id, secret, azure_cloud_scope(cloud));
        _cleanup_free_ char *what = xasprintf("client secret of '%s' from %s", client_id, where);
        log_debug("Azure AD: client credentials of '%s' (tenant '%s') at %s", client_id, tenant,
                  url);
        int r = request_token(what, url, form, NULL, &ret->access_token, err);
        if (r < 0)
                return r;
        ret->tenant = xstrdup(tenant);
        ret->source = TAKE_PTR(what);
        return 1;
}

static int with_managed_identity(const struct azure_config *c, const char *path,
                                 struct azure_token *ret, struct lerr **err)
{
        /* the override exists for tests: IMDS is a fixed link-local address */
        const char *base = env("LADING_TEST_AZURE_IMDS_ENDPOINT") ?: AZURE_IMDS_ENDPOINT;
        const char *id = c->user_assigned_identity_id;
        _cleanup_free_ char *url = azure_imds_url(base, azure_cloud_resource(c->cloud), id);
        _cleanup_free_ char *what =
                xasprintf("managed identity%s%s%s (IMDS, --azure-container-registry-config '%s')",
                          id ? " '" : "", id ? id : "", id ? "'" : "", path);
        log_debug("Azure AD: managed identity token from %s", url);
        int r = request_token(what, url, NULL, "Metadata: true", &ret->access_token, err);
        if (r < 0)
                return r;
        ret->tenant = c->tenant_id ? xstrdup(c->tenant_id) : NULL;
        ret->source = TAKE_PTR(what);
        return 1;
}

/* The file's token without trailing white space (the kubelet writes none, editors do). */
static int read_assertion(const char *path, char **ret, struct lerr **err)
{
        _cleanup_(secret_buf_done) struct buf b = BUF_INIT(AZURE_ASSERTION_MAX);
        int r = fs_read_file_at(AT_FDCWD, path, &b);
        if (r == -E2BIG)
                return lerr_set(err, E2BIG,
                                "read AZURE_FEDERATED_TOKEN_FILE '%s': over the limit "
                                "of %u bytes",
                                path, AZURE_ASSERTION_MAX);
        if (r < 0)
                return lerr_errno(err, -r, "read AZURE_FEDERATED_TOKEN_FILE '%s'", path);
        while (b.len && strchr(" \t\r\n", b.data[b.len - 1]))
                b.data[--b.len] = '\0';
        if (!b.len || strnlen(b.data, b.len) != b.len)
                return lerr_set(err, EINVAL, "read AZURE_FEDERATED_TOKEN_FILE '%s': %s", path,
                                b.len ? "has a NUL byte" : "empty");
        *ret = xstrndup(b.data, b.len);
        return 0;
}

static int with_workload_identity(const char *file, const char *tenant, const char *client_id,
                                  enum azure_cloud cloud, struct azure_token *ret,
                                  struct lerr **err)
{
        _cleanup_secret_ char *assertion = NULL, *form = NULL;
        int r = read_assertion(file, &assertion, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *url = azure_token_url(authority(cloud), tenant);
        form = azure_form_assertion(client_id, assertion, azure_cloud_scope(cloud));
        _cleanup_free_ char *what = xasprintf(
                "workload identity of '%s' from AZURE_FEDERATED_TOKEN_FILE '%s'", client_id, file);
        log_debug("Azure AD: workload identity of '%s' (tenant '%s') at %s", client_id, tenant,
                  url);
        r = request_token(what, url, form, NULL, &ret->access_token, err);
        if (r < 0)
                return r;
        ret->tenant = xstrdup(tenant);
        ret->source = TAKE_PTR(what);
        return 1;
}

static int from_config(const char *path, enum azure_cloud *cloud, struct azure_token *ret,
                       struct lerr **err)
{
        _cleanup_(azure_config_done) struct azure_config c = {0};
        int r = azure_config_load(path, &c, err);
        if (r < 0)
                return r;
        /* the file names the cloud for the other sources too, as on a Kubernetes node */
        *cloud = c.cloud;
        if (c.use_managed_identity)
                return with_managed_identity(&c, path, ret, err);
        if (!c.client_secret) {
                log_debug("Azure AD: '%s' has no credentials, trying the environment", path);
                return 0;
        }
        _cleanup_free_ char *where = xasprintf("--azure-container-registry-config '%s'", path);
        return with_secret(c.tenant_id, c.client_id, c.client_secret, where, c.cloud, ret, err);
}

int azure_aad_token(const char *config_path, enum azure_cloud cloud, struct azure_token *ret,
                    struct lerr **err)
{
        _cleanup_(azure_token_done) struct azure_token t = {0};
        const char *id = env("AZURE_CLIENT_ID"), *tenant = env("AZURE_TENANT_ID");
        const char *secret = env("AZURE_CLIENT_SECRET"), *file = env("AZURE_FEDERATED_TOKEN_FILE");
        int r = 0;
        if (config_path)
                r = from_config(config_path, &cloud, &t, err);
        if (r == 0 && id && tenant && secret)
                r = with_secret(tenant, id, secret, "AZURE_CLIENT_SECRET", cloud, &t, err);
        else if (r == 0 && id && tenant && file)
                r = with_workload_identity(file, tenant, id, cloud, &t, err);
        else if (r == 0 && (id || tenant || secret || file))
                log_debug("Azure AD: the environment has only some of AZURE_CLIENT_ID, "
                          "AZURE_TENANT_ID and AZURE_CLIENT_SECRET or AZURE_FEDERATED_TOKEN_FILE");
        if (r <= 0)
                return r;
        *ret = t;
        t = (struct azure_token){0};
        return 1;
}
