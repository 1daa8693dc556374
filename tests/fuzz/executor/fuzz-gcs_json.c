/* SPDX-License-Identifier: Apache-2.0 */
/* What a gs:// context reads from outside: a credentials file, an OAuth token response, a GCS
 * or OAuth error body, and the gs:// URL and endpoint settings. Rejecting input is fine;
 * crashing, leaking or hanging is not. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "executor/context_gcs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct gcs_credentials c = {0};
        struct lerr *err = NULL;
        char *s = NULL, *a = NULL, *b = NULL;

        if (size > GCS_JSON_MAX_BYTES)
                return 0;
        if (gcs_credentials_parse((const char *) data, size, &c, &err) == 0) {
                if (c.type == GCS_CRED_SERVICE_ACCOUNT && gcs_jwt_build(&c, 0, &s, &err) == 0)
                        free(s);
                gcs_credentials_done(&c);
        }
        lerr_free(err);
        err = NULL;
        if (gcs_token_parse((const char *) data, size, &s, &err) == 0)
                free(s);
        lerr_free(err);
        free(gcs_error_message((const char *) data, size));

        char *text = strndup((const char *) data, size);
        if (!text)
                return 0;
        if (gcs_parse_url(text, &a, &b) == 0) {
                char *u = gcs_object_url(GCS_DEFAULT_ENDPOINT, a, b);
                free(u);
                free(a);
                free(b);
        }
        if (gcs_endpoint_base(text, &s) == 0)
                free(s);
        free(text);
        return 0;
}
