/* SPDX-License-Identifier: Apache-2.0 */
/* Test driver for the cloud registry credentials (s3/test_ecr.py, gcs/test_gcr.py,
 * azure/test_acr.py): creds-lookup [--azure-config PATH] HOST... looks up credentials for each
 * host with creds_lookup() over an empty config.json and the cloud providers registered, as the
 * executor does (--azure-config plays --azure-container-registry-config), and prints user,
 * password and source, or the error line. Logs at trace level, so the tests can check that no
 * secret reaches them. A real ECR, Google or ACR host cannot be reached from a test, so the
 * registry push itself is not part of this. */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "executor/acr_creds.h"
#include "executor/cloud_creds.h"
#include "executor/ecr_creds.h"
#include "registry/creds.h"

int main(int argc, char **argv)
{
        struct creds_store *s = NULL;
        struct lerr *err = NULL;
        int status = 0, i = 1;

        (void) curl_global_init(CURL_GLOBAL_DEFAULT);
        log_setup(LOG_TRACE, LOG_FORMAT_TEXT, false);
        cloud_creds_register();
        if (argc > 2 && strcmp(argv[1], "--azure-config") == 0) {
                acr_creds_set_config(argv[2]);
                i = 3;
        }
        if (creds_store_parse("{}", 2, "config.json", &s, &err) < 0)
                return 2;
        for (; i < argc; i++) {
                struct creds *c = NULL;
                if (creds_lookup(s, argv[i], NULL, &c, &err) < 0) {
                        printf("error: %s\n", lerr_message(err));
                        lerr_free(err);
                        err = NULL;
                        status = 1;
                        continue;
                }
                printf("user=%s\npassword=%s\nsource=%s\n", c->username ? c->username : "",
                       c->password ? c->password : "", c->source);
                creds_free(c);
        }
        acr_creds_cache_clear();
        ecr_creds_cache_clear();
        acr_creds_set_config(NULL);
        creds_store_free(s);
        curl_global_cleanup();
        return status;
}
