/* SPDX-License-Identifier: Apache-2.0 */
/* The Azure cloud provider's config file (azure.json, as Kubernetes nodes have it in
 * /etc/kubernetes/azure.json) that Kaniko's --azure-container-registry-config names: JSON with
 * tenantId, aadClientId, aadClientSecret, useManagedIdentityExtension, userAssignedIdentityID
 * and cloud (AzurePublicCloud, AzureChinaCloud or AzureUSGovernmentCloud, any case; empty or
 * absent is the public cloud). Other fields are ignored. The YAML form and certificate
 * credentials (aadClientCertPath) are not supported.
 *
 * Limits: the file is read up to AZURE_CONFIG_MAX bytes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct lerr;

#define AZURE_CONFIG_MAX (64u << 10)

enum azure_cloud {
        AZURE_CLOUD_PUBLIC,
        AZURE_CLOUD_CHINA,
        AZURE_CLOUD_USGOV,
};

struct azure_config {
        enum azure_cloud cloud;
        bool use_managed_identity;       /* useManagedIdentityExtension */
        char *user_assigned_identity_id; /* a client ID, or an ARM resource ID ("/subscriptions/…")
                                          */
        char *tenant_id, *client_id;
        char *client_secret; /* secret; NULL when the file has none */
};

/* Parses a cloud name (case-insensitive). Returns 0, or -EINVAL. */
int azure_cloud_parse(const char *name, enum azure_cloud *ret);

/* The cloud's Azure AD host ("https://login.microsoftonline.com"), its Resource Manager
 * resource for IMDS ("https://management.azure.com/") and the same as an OAuth v2 scope
 * ("https://management.azure.com/.default"). */
const char *azure_cloud_authority(enum azure_cloud c);
const char *azure_cloud_resource(enum azure_cloud c);
const char *azure_cloud_scope(enum azure_cloud c);

/* Parses the file's content. A client secret needs tenantId and aadClientId; a file with
 * neither a secret nor useManagedIdentityExtension parses (it then only names the cloud).
 * Errors (EBADMSG, EINVAL, ENOTSUP) name the field: "required field 'aadClientId' is missing",
 * "field 'tenantId' is empty", "field 'useManagedIdentityExtension' is not a boolean",
 * "field 'cloud': 'X' is not AzurePublicCloud, AzureChinaCloud or AzureUSGovernmentCloud".
 * Never a secret in err. */
int azure_config_parse(const char *json, size_t len, struct azure_config *ret, struct lerr **err);

/* Reads and parses the file at path; errors start with "read 'PATH': ". */
int azure_config_load(const char *path, struct azure_config *ret, struct lerr **err);

/* Whether the file configures credentials (a client secret or managed identity). */
bool azure_config_has_credentials(const struct azure_config *c);

/* Wipes the secret and frees the fields. */
void azure_config_done(struct azure_config *c);
