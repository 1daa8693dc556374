/* SPDX-License-Identifier: Apache-2.0 */
/* ACR credentials without the network: which hosts match, azure.json parsing and its exact
 * error texts, the request forms and URLs, the answers' parsing, and the provider's choices
 * when nothing is configured (acr_creds.h, azure_config.h, azure_aad.h). */
#include "executor/acr_creds.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/macros.h"
#include "executor/azure_aad.h"
#include "executor/azure_config.h"
#include "registry/creds.h"
#include "tap.h"

static void host_is(const char *host, bool want, enum azure_cloud want_cloud)
{
        enum azure_cloud cloud = 99;
        bool got = acr_host_match(host, &cloud);
        ok(got == want, "%s: %s", host, want ? "ACR" : "not ACR");
        if (want)
                is_int(cloud, want_cloud, "%s: its cloud", host);
}

static void test_hosts(void)
{
        host_is("myregistry.azurecr.io", true, AZURE_CLOUD_PUBLIC);
        host_is("my-reg-abc123.azurecr.io", true, AZURE_CLOUD_PUBLIC);
        host_is("reg.azurecr.cn", true, AZURE_CLOUD_CHINA);
        host_is("reg.azurecr.de", true, AZURE_CLOUD_PUBLIC);
        host_is("reg.azurecr.us", true, AZURE_CLOUD_USGOV);
        host_is("azurecr.io", false, 0);
        host_is(".azurecr.io", false, 0);
        host_is("a.b.azurecr.io", false, 0);
        host_is("reg.westus.data.azurecr.io", false, 0);
        host_is("reg.azurecr.io.example.com", false, 0);
        host_is("evilazurecr.io", false, 0);
        host_is("Reg.azurecr.io", false, 0);
        host_is("reg.azurecr.com", false, 0);
        host_is("", false, 0);
        ok(acr_host_match("x.azurecr.io", NULL), "the cloud is optional");
}

/* Parses json; returns the error text or "ok", and the config in *c. */
static char *parse(const char *json, struct azure_config *c)
{
        struct lerr *err = NULL;
        int r = azure_config_parse(json, strlen(json), c, &err);
        if (r >= 0)
                return xstrdup("ok");
        char *m = xasprintf("%d %s", -r, lerr_message(err));
        lerr_free(err);
        return m;
}

static void config_err(const char *json, const char *want)
{
        struct azure_config c = {0};
        _cleanup_free_ char *got = parse(json, &c);
        is_str(got, want, "config %s", json);
        azure_config_done(&c);
}

static void test_config(void)
{
        struct azure_config c = {0};
        _cleanup_free_ char *m = parse("{\"cloud\":\"AzureChinaCloud\",\"tenantId\":\"t1\","
                                       "\"aadClientId\":\"c1\",\"aadClientSecret\":\"s3cr3t\","
                                       "\"subscriptionId\":\"ignored\"}",
                                       &c);
        is_str(m, "ok", "a client secret config parses");
        is_int(c.cloud, AZURE_CLOUD_CHINA, "its cloud");
        is_str(c.tenant_id, "t1", "tenantId");
        is_str(c.client_id, "c1", "aadClientId");
        is_str(c.client_secret, "s3cr3t", "aadClientSecret");
        ok(!c.use_managed_identity, "no managed identity");
        ok(azure_config_has_credentials(&c), "it has credentials");
        azure_config_done(&c);
        ok(!c.client_secret && !c.tenant_id, "done clears the fields");

        free(m);
        m = parse("{\"useManagedIdentityExtension\":true,\"userAssignedIdentityID\":\"u1\","
                  "\"cloud\":\"azureusgovernmentcloud\"}",
                  &c);
        is_str(m, "ok", "a managed identity config parses without tenant or client");
        ok(c.use_managed_identity, "managed identity");
        is_str(c.user_assigned_identity_id, "u1", "userAssignedIdentityID");
        is_int(c.cloud, AZURE_CLOUD_USGOV, "cloud names ignore case");
        azure_config_done(&c);

        free(m);
        m = parse("{\"cloud\":\"\",\"tenantId\":\"t\"}", &c);
        is_str(m, "ok", "a config without credentials parses");
        ok(!azure_config_has_credentials(&c), "and has no credentials");
        is_int(c.cloud, AZURE_CLOUD_PUBLIC, "an empty cloud is the public one");
        azure_config_done(&c);

        config_err("{\"aadClientSecret\":\"s\",\"aadClientId\":\"c\"}",
                   "74 required field 'tenantId' is missing");
        config_err("{\"aadClientSecret\":\"s\",\"tenantId\":\"t\"}",
                   "74 required field 'aadClientId' is missing");
        config_err("{\"aadClientSecret\":\"s\",\"tenantId\":\"\",\"aadClientId\":\"c\"}",
                   "22 field 'tenantId' is empty");
        config_err("{\"useManagedIdentityExtension\":\"true\"}",
                   "74 field 'useManagedIdentityExtension' is not a boolean");
        config_err("{\"cloud\":\"AzureGermanCloud\"}",
                   "22 field 'cloud': 'AzureGermanCloud' is not AzurePublicCloud, "
                   "AzureChinaCloud or AzureUSGovernmentCloud");
        config_err("{\"aadClientSecret\":42}", "74 field 'aadClientSecret' is not a string");
        config_err("{\"aadClientCertPath\":\"/c.pfx\",\"aadClientId\":\"c\"}",
                   "95 field 'aadClientCertPath': certificate credentials are not supported "
                   "(use aadClientSecret or useManagedIdentityExtension)");
        config_err("[]", "74 not a JSON object");
        config_err("cloud: AzurePublicCloud", "74 parse azure config: invalid JSON near byte 0");
}

static void test_config_load(void)
{
        struct lerr *err = NULL;
        struct azure_config c = {0};
        char path[] = "/tmp/test-acr-XXXXXX";
        int fd = mkstemp(path);
        const char body[] = "{\"aadClientSecret\":\"topsecret\",\"tenantId\":\"t\"}";
        ok(fd >= 0 && write(fd, body, strlen(body)) == (ssize_t) strlen(body), "write a config");
        close(fd);
        int r = azure_config_load(path, &c, &err);
        _cleanup_free_ char *want =
                xasprintf("read '%s': required field 'aadClientId' is missing", path);
        is_int(r, -EBADMSG, "an invalid file fails");
        is_str(err ? lerr_message(err) : NULL, want, "the error names the file and the field");
        ok(err && !strstr(lerr_message(err), "topsecret"), "and not the secret");
        lerr_free(err);
        err = NULL;
        (void) unlink(path);
        r = azure_config_load(path, &c, &err);
        _cleanup_free_ char *want2 = xasprintf("read '%s': No such file or directory", path);
        is_int(r, -ENOENT, "a missing file fails");
        is_str(err ? lerr_message(err) : NULL, want2, "naming the file");
        lerr_free(err);
}

static void test_forms(void)
{
        _cleanup_free_ char *f =
                azure_form_client_secret("c-1", "s&e=c+r/t", azure_cloud_scope(AZURE_CLOUD_PUBLIC));
        is_str(f,
               "grant_type=client_credentials&client_id=c-1&client_secret=s%26e%3Dc%2Br%2Ft"
               "&scope=https%3A%2F%2Fmanagement.azure.com%2F.default",
               "the client secret form");
        _cleanup_free_ char *a = azure_form_assertion("c-1", "eyJ.x_y-z", "https://s/.default");
        is_str(a,
               "grant_type=client_credentials&client_id=c-1&client_assertion_type=urn%3Aietf%"
               "3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=eyJ.x_y-z"
               "&scope=https%3A%2F%2Fs%2F.default",
               "the workload identity form");
        _cleanup_free_ char *x = acr_exchange_form("r.azurecr.io", "t 1", "tok+en");
        is_str(x, "grant_type=access_token&service=r.azurecr.io&tenant=t%201&access_token=tok%2Ben",
               "the exchange form");
        _cleanup_free_ char *x2 = acr_exchange_form("r.azurecr.io", NULL, "tok");
        is_str(x2, "grant_type=access_token&service=r.azurecr.io&access_token=tok",
               "the exchange form without a tenant");
        _cleanup_free_ char *u = azure_token_url("https://login.microsoftonline.com/", "t-1");
        is_str(u, "https://login.microsoftonline.com/t-1/oauth2/v2.0/token", "the token URL");
        _cleanup_free_ char *i = azure_imds_url("http://169.254.169.254",
                                                azure_cloud_resource(AZURE_CLOUD_CHINA), NULL);
        is_str(i,
               "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01"
               "&resource=https%3A%2F%2Fmanagement.chinacloudapi.cn%2F",
               "the IMDS URL");
        _cleanup_free_ char *i2 = azure_imds_url("http://h", "r", "cid");
        is_str(i2,
               "http://h/metadata/identity/oauth2/token?api-version=2018-02-01&resource=r"
               "&client_id=cid",
               "a user-assigned identity by client ID");
        _cleanup_free_ char *i3 = azure_imds_url("http://h", "r", "/subscriptions/s/x");
        is_str(i3,
               "http://h/metadata/identity/oauth2/token?api-version=2018-02-01&resource=r"
               "&msi_res_id=%2Fsubscriptions%2Fs%2Fx",
               "a user-assigned identity by resource ID");
        is_str(azure_cloud_authority(AZURE_CLOUD_USGOV), "https://login.microsoftonline.us",
               "the US Government authority");
}

static void error_is(const char *body, const char *want)
{
        _cleanup_free_ char *m = azure_error_message(body, strlen(body));
        is_str(m, want, "error of %s", body);
}

static void refresh_is(const char *body, const char *want)
{
        struct lerr *err = NULL;
        char *tok = NULL;
        int r = acr_refresh_token_parse(body, strlen(body), &tok, &err);
        _cleanup_free_ char *got = r >= 0 ? xasprintf("token %s", tok) : xstrdup(lerr_message(err));
        is_str(got, want, "refresh token of %s", body);
        free(tok);
        lerr_free(err);
}

static void test_answers(void)
{
        error_is("{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: Invalid "
                 "client secret provided.\\r\\nTrace ID: 1\",\"error_codes\":[7000215]}",
                 "invalid_client: AADSTS7000215: Invalid client secret provided.  Trace ID: 1");
        error_is("{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"bad token\"}]}",
                 "UNAUTHORIZED: bad token");
        error_is("{\"errors\":[]}", NULL);
        error_is("<html>", NULL);
        refresh_is("{\"refresh_token\":\"r.e.f\"}", "token r.e.f");
        refresh_is("{\"access_token\":\"x\"}", "required field 'refresh_token' is missing");
        refresh_is("{\"refresh_token\":\"\"}", "exchange response: empty refresh_token");
        refresh_is("{\"refresh_token\":\"a\\nb\"}",
                   "exchange response: refresh_token has a line break");
        refresh_is("nope", "parse exchange response: invalid JSON near byte 0");
}

static void test_provider(void)
{
        static const char *const vars[] = {"AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET",
                                           "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE"};
        for (size_t i = 0; i < ARRAY_SIZE(vars); i++)
                (void) unsetenv(vars[i]);
        struct creds *c = NULL;
        struct lerr *err = NULL;
        is_int(acr_creds_provider("registry.example", &c, &err), 0, "not ACR: not applicable");
        is_int(acr_creds_provider("r.azurecr.io", &c, &err), 0,
               "ACR without Azure credentials: anonymous");
        (void) setenv("AZURE_CLIENT_ID", "c", 1);
        (void) setenv("AZURE_TENANT_ID", "t", 1);
        is_int(acr_creds_provider("r.azurecr.io", &c, &err), 0,
               "a client ID and tenant without a secret or token file: anonymous");
        acr_creds_set_config("/nonexistent/azure.json");
        int r = acr_creds_provider("r.azurecr.io", &c, &err);
        is_int(r, -ENOENT, "a config file that is missing fails");
        is_str(err ? lerr_message(err) : NULL,
               "Azure AD token: read '/nonexistent/azure.json': No such file or directory",
               "naming the step and the file");
        ok(c == NULL, "no credentials on failure");
        lerr_free(err);
        acr_creds_set_config(NULL);
        acr_creds_cache_clear();
        for (size_t i = 0; i < ARRAY_SIZE(vars); i++)
                (void) unsetenv(vars[i]);
}

int main(void)
{
        test_hosts();
        test_config();
        test_config_load();
        test_forms();
        test_answers();
        test_provider();
        return tap_done();
}
