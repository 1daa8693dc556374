/* SPDX-License-Identifier: Apache-2.0 */
/* Kaniko's built-in Azure Container Registry credentials (docker-credential-acr-env): for a
 * registry host NAME.azurecr.io (.cn, .de, .us) an Azure AD token (azure_aad.h: the file of
 * --azure-container-registry-config, the AZURE_* environment, workload identity, managed
 * identity when the file asks for it) is exchanged at https://HOST/oauth2/exchange for an ACR
 * refresh token, used as the password of the user ACR_USER. Credentials are cached per
 * registry for the life of the process. LADING_TEST_ACR_ENDPOINT (a base URL such as
 * http://127.0.0.1:PORT) replaces https://HOST for tests only.
 *
 * Limits: the exchange's answer is read up to AZURE_RESPONSE_MAX bytes; a refresh token is at
 * most ACR_TOKEN_MAX bytes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "executor/azure_config.h"

struct creds;
struct lerr;

#define ACR_USER      "00000000-0000-0000-0000-000000000000"
#define ACR_TOKEN_MAX (64u << 10)

/* Whether host (lower case, no port, as creds_lookup gives it) is an ACR registry: one label
 * of [a-z0-9-] before .azurecr.io, .azurecr.cn, .azurecr.de or .azurecr.us. *ret_cloud (may be
 * NULL) gets the cloud the suffix belongs to (.de: the public cloud, Azure Germany is closed). */
bool acr_host_match(const char *host, enum azure_cloud *ret_cloud);

/* The exchange form: grant_type=access_token&service=REGISTRY[&tenant=TENANT]&access_token=…,
 * percent-encoded. Caller wipes and frees. */
char *acr_exchange_form(const char *registry, const char *tenant, const char *access_token);

/* The refresh_token of the exchange's answer. Returns 0 (caller wipes and frees), or -EBADMSG
 * with err naming the problem, never the token. */
int acr_refresh_token_parse(const char *body, size_t len, char **ret, struct lerr **err);

/* The --azure-container-registry-config file (NULL: none); copied. At start-up, before threads. */
void acr_creds_set_config(const char *path);

/* A creds_provider_fn (registry/creds.h): 0 for a host that is not ACR or when no Azure
 * credentials are configured (anonymous, as in Kaniko), 1 with ACR_USER and the refresh token
 * (from the cache or a new exchange), or a negative errno with one line naming the step
 * ("Azure AD token: …" or "ACR token exchange at 'URL': …"), the HTTP status and the
 * service's error description. */
int acr_creds_provider(const char *domain, struct creds **ret, struct lerr **err);

/* Empties the cache, wiping the secrets (for tests). */
void acr_creds_cache_clear(void);
