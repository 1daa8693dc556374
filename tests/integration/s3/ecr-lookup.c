/* SPDX-License-Identifier: Apache-2.0 */
/* Test driver for test_ecr.py and gcs/test_gcr.py: looks up credentials for each host argument
 * with creds_lookup() over an empty config.json and the cloud providers (ECR, Google)
 * registered, as the executor does, and prints user, password and source (or the error line).
 * A real ECR or Google registry host cannot be reached from a test, so the registry push
 * itself is not part of this. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/err.h"
#include "common/log.h"
#include "executor/cloud_creds.h"
#include "executor/ecr_creds.h"
#include "registry/creds.h"

int main(int argc, char **argv)
{
        struct creds_store *s = NULL;
        struct lerr *err = NULL;
        int status = 0;

        /* the tests check that no secret reaches the log at any verbosity */
        if (getenv("ECR_LOOKUP_TRACE"))
                log_setup(LOG_TRACE, LOG_FORMAT_TEXT, false);
        (void) curl_global_init(CURL_GLOBAL_DEFAULT);
        cloud_creds_register();
        if (creds_store_parse("{}", 2, "config.json", &s, &err) < 0)
                return 2;
        for (int i = 1; i < argc; i++) {
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
        ecr_creds_cache_clear();
        creds_store_free(s);
        curl_global_cleanup();
        return status;
}
