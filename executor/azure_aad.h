/* SPDX-License-Identifier: Apache-2.0 */
/* An Azure AD (Entra ID) access token for Azure Resource Manager, from the first source that
 * is configured, as docker-credential-acr-env and Kubernetes' azure credential provider find
 * one:
 *   1. the azure.json of --azure-container-registry-config (azure_config.h): managed identity
 *      through IMDS when useManagedIdentityExtension is true, else its client secret;
 *   2. AZURE_CLIENT_ID + AZURE_CLIENT_SECRET + AZURE_TENANT_ID (client credentials);
 *   3. AZURE_FEDERATED_TOKEN_FILE + AZURE_CLIENT_ID + AZURE_TENANT_ID (workload identity: the
 *      file's token as a jwt-bearer client_assertion).
 * IMDS is asked only when the config file says so: a machine outside Azure never waits on
 * 169.254.169.254. The token endpoint is AUTHORITY/TENANT/oauth2/v2.0/token with AUTHORITY
 * from AZURE_AUTHORITY_HOST (as the Azure SDKs read it) or the cloud's.
 * LADING_TEST_AZURE_IMDS_ENDPOINT (a base URL) replaces http://169.254.169.254 for tests only.
 *
 * Secrets (client secret, assertion, tokens) reach no log and no error. Limits: a response is
 * read up to AZURE_RESPONSE_MAX bytes, the federated token file up to AZURE_ASSERTION_MAX. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "executor/azure_config.h"

struct buf;
struct lerr;

#define AZURE_RESPONSE_MAX     (1u << 20)
#define AZURE_ASSERTION_MAX    (64u << 10)
#define AZURE_IMDS_ENDPOINT    "http://169.254.169.254"
#define AZURE_IMDS_API_VERSION "2018-02-01"
#define AZURE_JWT_BEARER       "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

struct azure_token {
        char *access_token; /* secret */
        char *tenant;       /* the tenant asked, or NULL (managed identity without tenantId) */
        char *source;       /* printable: where the credentials came from */
};

/* The token for a registry in cloud (the config file's cloud wins over it). config_path may be
 * NULL. Returns 1 with *ret (azure_token_done() it), 0 when no source is configured, or a
 * negative errno with err naming the source, the URL, the HTTP status and Azure AD's
 * error_description. */
int azure_aad_token(const char *config_path, enum azure_cloud cloud, struct azure_token *ret,
                    struct lerr **err);
void azure_token_done(struct azure_token *t);

/* The token endpoint: AUTHORITY/TENANT/oauth2/v2.0/token, authority without its trailing '/'.
 * Caller frees. */
char *azure_token_url(const char *authority, const char *tenant);

/* Appends name=value (percent-encoded; '&' before all but the first) to a form body. */
void azure_form_add(struct buf *b, const char *name, const char *value);
/* The forms of the client-credentials grant, percent-encoded, with a client secret or a
 * jwt-bearer client_assertion. Caller wipes and frees. */
char *azure_form_client_secret(const char *client_id, const char *secret, const char *scope);
char *azure_form_assertion(const char *client_id, const char *assertion, const char *scope);

/* IMDS's token URL for resource and an optional user-assigned identity (a client ID, or an ARM
 * resource ID, which goes as msi_res_id). Caller frees. */
char *azure_imds_url(const char *base, const char *resource, const char *identity);

/* The printable error of an Azure AD or ACR answer: OAuth's "error: error_description", or the
 * registry's errors[0] "CODE: message"; NULL when neither. Caller frees. */
char *azure_error_message(const char *body, size_t len);

/* One request (executor/api_http.h) without redirects: a POST of form
 * (application/x-www-form-urlencoded) or, with form NULL, a GET; header is one extra header or
 * NULL. Plain http only to loopback hosts and IMDS. The body lands in out (up to its max).
 * Returns 0 on HTTP 200; otherwise -EIO / -E2BIG, or -EACCES (4xx) / -EIO (other statuses)
 * with "HTTP N: Azure's error" in err (no URL: the caller names the endpoint). */
int azure_http(const char *url, const char *form, const char *header, struct buf *out,
               struct lerr **err);
