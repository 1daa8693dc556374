/* SPDX-License-Identifier: Apache-2.0 */
/* ACR registry credentials: host matching, the exchange of an Azure AD token for an ACR
 * refresh token, and a process-wide cache. It does not find Azure AD tokens (azure_aad.c)
 * nor refresh what expires during a build (ACR's refresh tokens last hours). */
#include "executor/acr_creds.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/secret.h"
#include "executor/azure_aad.h"
#include "executor/creds_cache.h"
#include "registry/creds.h"

static const struct {
        const char *suffix;
        enum azure_cloud cloud;
} suffixes[] = {
        {".azurecr.io", AZURE_CLOUD_PUBLIC},
        {".azurecr.cn", AZURE_CLOUD_CHINA},
        {".azurecr.de", AZURE_CLOUD_PUBLIC},
        {".azurecr.us", AZURE_CLOUD_USGOV},
};

static char *config_path;

bool acr_host_match(const char *host, enum azure_cloud *ret_cloud)
{
        size_t n = strlen(host);
        for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
                size_t m = strlen(suffixes[i].suffix);
                if (n <= m || !streq(host + n - m, suffixes[i].suffix))
                        continue;
                if (strspn(host, "abcdefghijklmnopqrstuvwxyz0123456789-") != n - m)
                        return false;
                if (ret_cloud)
                        *ret_cloud = suffixes[i].cloud;
                return true;
        }
        return false;
}

char *acr_exchange_form(const char *registry, const char *tenant, const char *access_token)
{
        struct buf b = BUF_INIT(SIZE_MAX);
        azure_form_add(&b, "grant_type", "access_token");
        azure_form_add(&b, "service", registry);
        if (tenant)
                azure_form_add(&b, "tenant", tenant);
        azure_form_add(&b, "access_token", access_token);
        return buf_steal(&b);
}

int acr_refresh_token_parse(const char *body, size_t len, char **ret, struct lerr **err)
{
        _cleanup_(cJSON_Deletep) cJSON *j = NULL;
        const char *token = NULL;
        int r = json_parse(body, len, AZURE_RESPONSE_MAX, "exchange response", &j, err);
        if (r >= 0 && !cJSON_IsObject(j))
                r = lerr_set(err, EBADMSG, "exchange response: not a JSON object");
        if (r >= 0)
                r = json_require_string(j, "refresh_token", &token, err);
        if (r >= 0 && !*token)
                r = lerr_set(err, EBADMSG, "exchange response: empty refresh_token");
        if (r >= 0 && strlen(token) > ACR_TOKEN_MAX)
                r = lerr_set(err, E2BIG, "exchange response: refresh_token over %u bytes",
                             ACR_TOKEN_MAX);
        if (r >= 0 && strpbrk(token, "\r\n"))
                r = lerr_set(err, EBADMSG, "exchange response: refresh_token has a line break");
        if (r >= 0)
                *ret = xstrdup(token);
        if (token)
                OPENSSL_cleanse((char *) token, strlen(token));
        return r;
}

void acr_creds_set_config(const char *path)
{
        free(config_path);
        config_path = path && *path ? xstrdup(path) : NULL;
}

/* The AAD token for a refresh token at REGISTRY/oauth2/exchange. */
static int exchange(const char *registry, const struct azure_token *t, char **ret,
                    struct lerr **err)
{
        /* the override exists for tests: the fake cannot be NAME.azurecr.io over TLS */
        const char *base = getenv("LADING_TEST_ACR_ENDPOINT");
        _cleanup_free_ char *url = base && *base
                                           ? xasprintf("%s/oauth2/exchange", base)
                                           : xasprintf("https://%s/oauth2/exchange", registry);
        _cleanup_secret_ char *form = acr_exchange_form(registry, t->tenant, t->access_token);
        _cleanup_(secret_buf_done) struct buf resp = BUF_INIT(AZURE_RESPONSE_MAX);
        log_debug("ACR: exchanging an Azure AD token (%s) for a refresh token at %s", t->source,
                  url);
        int r = azure_http(url, form, NULL, &resp, err);
        if (r >= 0)
                r = acr_refresh_token_parse(resp.data ?: "", resp.len, ret, err);
        if (r < 0)
                return lerr_wrap(err, "ACR token exchange at '%s'", url);
        return 0;
}

static struct creds_cache cache = CREDS_CACHE_INIT;

void acr_creds_cache_clear(void)
{
        creds_cache_clear(&cache);
}

int acr_creds_provider(const char *domain, struct creds **ret, struct lerr **err)
{
        _cleanup_(azure_token_done) struct azure_token t = {0};
        _cleanup_secret_ char *refresh = NULL;
        enum azure_cloud cloud = AZURE_CLOUD_PUBLIC;
        struct creds *cr = NULL;

        if (!acr_host_match(domain, &cloud))
                return 0;
        if ((cr = creds_cache_get(&cache, domain))) {
                *ret = cr;
                return 1;
        }
        int r = azure_aad_token(config_path, cloud, &t, err);
        if (r < 0)
                return lerr_wrap(err, "Azure AD token");
        if (r == 0) {
                log_debug("ACR registry '%s' but no Azure credentials configured: anonymous",
                          domain);
                return 0;
        }
        r = exchange(domain, &t, &refresh, err);
        if (r < 0)
                return r;
        cr = xcalloc(1, sizeof(*cr));
        cr->username = xstrdup(ACR_USER);
        cr->password = TAKE_PTR(refresh);
        cr->source = xasprintf("credentials for '%s' from the ACR token exchange (Azure AD token: "
                               "%s)",
                               domain, t.source);
        creds_cache_put(&cache, domain, cr);
        *ret = cr;
        return 1;
}
