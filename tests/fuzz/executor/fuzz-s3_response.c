/* SPDX-License-Identifier: Apache-2.0 */
/* What an S3 context reads from outside: an S3 XML error body (from the server), an AWS
 * shared credentials or config file, an STS AssumeRoleWithWebIdentity response and the
 * credentials JSON of the ECS endpoint or EC2 instance metadata, a profile's settings and
 * the JSON a credential_process prints. Rejecting input is fine; crashing,
 * leaking or hanging is not. */
#include <stdint.h>
#include <stdlib.h>

#include "common/err.h"
#include "executor/aws_creds.h"
#include "executor/aws_profile.h"
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
        struct lerr *err = NULL;
        if (aws_sts_parse((const char *) data, size, &c, &err) < 0)
                lerr_free(err);
        s3_credentials_done(&c);
        err = NULL;
        if (aws_json_creds_parse((const char *) data, size, &c, &err) < 0)
                lerr_free(err);
        s3_credentials_done(&c);
        err = NULL;
        if (aws_process_parse((const char *) data, size, &c, &err) < 0)
                lerr_free(err);
        s3_credentials_done(&c);
        struct aws_profile p = {0};
        (void) aws_profile_parse((const char *) data, size, "dev", true, &p);
        aws_profile_done(&p);
        return 0;
}
