/* SPDX-License-Identifier: Apache-2.0 */
/* What an S3 context reads from outside: an S3 XML error body (from the server) and an AWS
 * shared credentials or config file. Rejecting input is fine; crashing, leaking or hanging
 * is not. */
#include <stdint.h>
#include <stdlib.h>

#include "executor/context_s3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *code = NULL, *message = NULL, *region = NULL;
        struct s3_credentials c = {0};

        if (size > S3_ERROR_MAX_BYTES)
                return 0;
        s3_error_parse((const char *) data, size, &code, &message);
        free(code);
        free(message);
        (void) s3_profile_parse((const char *) data, size, "default", false, &c, NULL);
        (void) s3_profile_parse((const char *) data, size, "ci", true, &c, &region);
        s3_credentials_done(&c);
        free(region);
        return 0;
}
