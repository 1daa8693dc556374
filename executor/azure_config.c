/* SPDX-License-Identifier: Apache-2.0 */
/* Reading azure.json (see azure_config.h) and the per-cloud endpoints. It does not talk to
 * Azure: azure_aad.c turns the settings into a token. */
#include "executor/azure_config.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/macros.h"

static const struct {
        const char *name, *authority, *resource, *scope;
} clouds[] = {
        [AZURE_CLOUD_PUBLIC] = {"AzurePublicCloud", "https://login.microsoftonline.com",
                                "https://management.azure.com/",
                                "https://management.azure.com/.default"},
        [AZURE_CLOUD_CHINA] = {"AzureChinaCloud", "https://login.chinacloudapi.cn",
                               "https://management.chinacloudapi.cn/",
                               "https://management.chinacloudapi.cn/.default"},
        [AZURE_CLOUD_USGOV] = {"AzureUSGovernmentCloud", "https://login.microsoftonline.us",
                               "https://management.usgovcloudapi.net/",
                               "https://management.usgovcloudapi.net/.default"},
};

int azure_cloud_parse(const char *name, enum azure_cloud *ret)
{
        for (size_t i = 0; i < ARRAY_SIZE(clouds); i++)
                if (strcasecmp(name, clouds[i].name) == 0) {
                        *ret = (enum azure_cloud) i;
                        return 0;
                }
        return -EINVAL;
}

const char *azure_cloud_authority(enum azure_cloud c)
{
        return clouds[c].authority;
}

const char *azure_cloud_resource(enum azure_cloud c)
{
        return clouds[c].resource;
}

const char *azure_cloud_scope(enum azure_cloud c)
{
        return clouds[c].scope;
}

/* A string field that, when present, must not be empty; copied into *ret. */
static int copy_field(const cJSON *j, const char *key, bool required, char **ret, struct lerr **err)
{
        const char *v = NULL;
        int r = required ? json_require_string(j, key, &v, err) : json_get_string(j, key, &v, err);
        if (r < 0)
                return r;
        if (v && !*v && required)
                return lerr_set(err, EINVAL, "field '%s' is empty", key);
        *ret = v && *v ? xstrdup(v) : NULL;
        return 0;
}

static int parse_cloud(const cJSON *j, enum azure_cloud *ret, struct lerr **err)
{
        const char *name = NULL;
        int r = json_get_string(j, "cloud", &name, err);
        if (r < 0)
                return r;
        *ret = AZURE_CLOUD_PUBLIC;
        if (name && *name && azure_cloud_parse(name, ret) < 0)
                return lerr_set(err, EINVAL,
                                "field 'cloud': '%.64s' is not AzurePublicCloud, AzureChinaCloud "
                                "or AzureUSGovernmentCloud",
                                name);
        return 0;
}

static int parse_managed_identity(const cJSON *j, struct azure_config *c, struct lerr **err)
{
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "useManagedIdentityExtension");
        if (b && !cJSON_IsBool(b))
                return lerr_set(err, EBADMSG,
                                "field 'useManagedIdentityExtension' is not a boolean");
        c->use_managed_identity = cJSON_IsTrue(b);
        return copy_field(j, "userAssignedIdentityID", false, &c->user_assigned_identity_id, err);
}

/* The client secret and what it needs; a certificate alone is refused rather than ignored. */
static int parse_secret(const cJSON *j, struct azure_config *c, struct lerr **err)
{
        const char *cert = NULL;
        int r = copy_field(j, "aadClientSecret", false, &c->client_secret, err);
        if (r >= 0)
                r = json_get_string(j, "aadClientCertPath", &cert, err);
        if (r < 0)
                return r;
        if (!c->client_secret && !c->use_managed_identity && cert && *cert)
                return lerr_set(err, ENOTSUP,
                                "field 'aadClientCertPath': certificate credentials are not "
                                "supported (use aadClientSecret or useManagedIdentityExtension)");
        bool need = c->client_secret && !c->use_managed_identity;
        r = copy_field(j, "tenantId", need, &c->tenant_id, err);
        if (r >= 0)
                r = copy_field(j, "aadClientId", need, &c->client_id, err);
        return r;
}

int azure_config_parse(const char *json, size_t len, struct azure_config *ret, struct lerr **err)
{
        _cleanup_(cJSON_Deletep) cJSON *j = NULL;
        _cleanup_(azure_config_done) struct azure_config c = {0};
        int r = json_parse(json, len, AZURE_CONFIG_MAX, "azure config", &j, err);
        if (r < 0)
                return r;
        if (!cJSON_IsObject(j))
                return lerr_set(err, EBADMSG, "not a JSON object");
        r = parse_cloud(j, &c.cloud, err);
        if (r >= 0)
                r = parse_managed_identity(j, &c, err);
        if (r >= 0)
                r = parse_secret(j, &c, err);
        /* cJSON keeps its copy of the secret until the delete: wipe it */
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "aadClientSecret");
        if (cJSON_IsString(s) && s->valuestring)
                OPENSSL_cleanse(s->valuestring, strlen(s->valuestring));
        if (r < 0)
                return r;
        *ret = c;
        c = (struct azure_config){0};
        return 0;
}

int azure_config_load(const char *path, struct azure_config *ret, struct lerr **err)
{
        _cleanup_(buf_done) struct buf b = BUF_INIT(AZURE_CONFIG_MAX);
        int r = fs_read_file_at(AT_FDCWD, path, &b);
        if (r == -E2BIG)
                return lerr_set(err, E2BIG, "read '%s': over the limit of %u bytes", path,
                                AZURE_CONFIG_MAX);
        if (r < 0)
                return lerr_errno(err, -r, "read '%s'", path);
        r = azure_config_parse(b.data ?: "", b.len, ret, err);
        if (b.data)
                OPENSSL_cleanse(b.data, b.len);
        if (r < 0)
                return lerr_wrap(err, "read '%s'", path);
        return 0;
}

bool azure_config_has_credentials(const struct azure_config *c)
{
        return c->use_managed_identity || c->client_secret;
}

void azure_config_done(struct azure_config *c)
{
        if (c->client_secret)
                OPENSSL_cleanse(c->client_secret, strlen(c->client_secret));
        free(c->client_secret);
        free(c->tenant_id);
        free(c->client_id);
        free(c->user_assigned_identity_id);
        *c = (struct azure_config){0};
}
