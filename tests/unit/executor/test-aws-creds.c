/* SPDX-License-Identifier: Apache-2.0 */
/* The STS and credentials-JSON parsers of aws_creds.h, and the order in which
 * s3_credentials_find() tries the sources, driven by the environment (the network sources
 * point at a closed port on 127.0.0.1; the integration test runs them against fakes). */
#include "executor/aws_creds.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/macros.h"
#include "executor/context_s3.h"
#include "tap.h"

#define CLOSED "http://127.0.0.1:1"

static const char STS_OK[] =
        "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
        "  <AssumeRoleWithWebIdentityResult>\n"
        "    <SubjectFromWebIdentityToken>system:serviceaccount:ci:kaniko</"
        "SubjectFromWebIdentityToken>\n"
        "    <Credentials>\n"
        "      <SessionToken>IQoJb3JpZ2luX2Vj&amp;token/+=</SessionToken>\n"
        "      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCY</SecretAccessKey>\n"
        "      <Expiration>2026-11-28T13:00:00Z</Expiration>\n"
        "      <AccessKeyId>ASIAEXAMPLE</AccessKeyId>\n"
        "    </Credentials>\n"
        "  </AssumeRoleWithWebIdentityResult>\n"
        "</AssumeRoleWithWebIdentityResponse>\n";

static void sts_is(const char *body, int want_r, const char *ak, const char *sk, const char *tok,
                   const char *exp, const char *want_err, const char *what)
{
        struct s3_credentials c = {0};
        struct lerr *err = NULL;
        int r = aws_sts_parse(body, strlen(body), &c, &err);
        is_int(r, want_r, "%s: result", what);
        is_str(c.access_key, ak, "%s: access key", what);
        is_str(c.secret_key, sk, "%s: secret key", what);
        is_str(c.session_token, tok, "%s: session token", what);
        is_str(c.expiration, exp, "%s: expiration", what);
        is_str(err ? lerr_message(err) : NULL, want_err, "%s: error", what);
        s3_credentials_done(&c);
        lerr_free(err);
}

static void test_sts_parse(void)
{
        sts_is(STS_OK, 0, "ASIAEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCY",
               "IQoJb3JpZ2luX2Vj&token/+=", "2026-11-28T13:00:00Z", NULL, "STS response");
        sts_is("<Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey>"
               "</Credentials>",
               -EBADMSG, NULL, NULL, NULL, NULL,
               "parse STS response: missing or empty SessionToken", "no session token");
        sts_is("<AccessKeyId></AccessKeyId>", -EBADMSG, NULL, NULL, NULL, NULL,
               "parse STS response: missing or empty AccessKeyId", "empty key");
        sts_is("<AccessKeyId>A<SecretAccessKey>", -EBADMSG, NULL, NULL, NULL, NULL,
               "parse STS response: missing or empty AccessKeyId", "unterminated");
        sts_is("", -EBADMSG, NULL, NULL, NULL, NULL,
               "parse STS response: missing or empty AccessKeyId", "empty body");

        size_t n = AWS_CREDS_FIELD_MAX + 64;
        char *big = malloc(n + 200);
        if (!big)
                return;
        int off = snprintf(big, 200,
                           "<AccessKeyId>A</AccessKeyId><SecretAccessKey>S"
                           "</SecretAccessKey><SessionToken>");
        memset(big + off, 'x', n);
        (void) snprintf(big + off + n, 200, "</SessionToken>");
        char want[128];
        (void) snprintf(want, sizeof(want),
                        "parse STS response: SessionToken over the limit of %d bytes",
                        AWS_CREDS_FIELD_MAX - 1);
        sts_is(big, -EBADMSG, NULL, NULL, NULL, NULL, want, "token over the limit");
        free(big);
}

static void json_is(const char *body, int want_r, const char *ak, const char *tok, const char *exp,
                    const char *want_err, const char *what)
{
        struct s3_credentials c = {0};
        struct lerr *err = NULL;
        int r = aws_json_creds_parse(body, strlen(body), &c, &err);
        is_int(r, want_r, "%s: result", what);
        is_str(c.access_key, ak, "%s: access key", what);
        is_str(c.secret_key, ak ? "secret" : NULL, "%s: secret key", what);
        is_str(c.session_token, tok, "%s: session token", what);
        is_str(c.expiration, exp, "%s: expiration", what);
        is_str(err ? lerr_message(err) : NULL, want_err, "%s: error", what);
        s3_credentials_done(&c);
        lerr_free(err);
}

static void test_json_parse(void)
{
        json_is("{\"AccessKeyId\":\"ASIAECS\",\"SecretAccessKey\":\"secret\",\"Token\":\"tok\","
                "\"Expiration\":\"2026-11-28T13:00:00Z\",\"RoleArn\":\"arn:aws:iam::1:role/r\"}",
                0, "ASIAECS", "tok", "2026-11-28T13:00:00Z", NULL, "ECS response");
        json_is("{\"Code\":\"Success\",\"LastUpdated\":\"2026-11-28T12:00:00Z\",\"Type\":"
                "\"AWS-HMAC\",\"AccessKeyId\":\"ASIAIMDS\",\"SecretAccessKey\":\"secret\","
                "\"Token\":\"t2\"}",
                0, "ASIAIMDS", "t2", NULL, NULL, "IMDS response");
        json_is("{\"AccessKeyId\":\"AKID\",\"SecretAccessKey\":\"secret\"}", 0, "AKID", NULL, NULL,
                NULL, "no token");
        json_is("{\"Code\":\"AssumeRoleUnauthorizedAccess\",\"Message\":\"no\"}", -EBADMSG, NULL,
                NULL, NULL, "parse credentials response: Code 'AssumeRoleUnauthorizedAccess'",
                "IMDS error code");
        json_is("{\"AccessKeyId\":\"AKID\"}", -EBADMSG, NULL, NULL, NULL,
                "parse credentials response: required field 'SecretAccessKey' is missing",
                "no secret");
        json_is("{\"AccessKeyId\":\"AKID\",\"SecretAccessKey\":\"secret\",\"Token\":\"a\\r\\nX: "
                "y\"}",
                -EBADMSG, NULL, NULL, NULL,
                "parse credentials response: Token has a control character",
                "a line break in the token");
        json_is("{\"AccessKeyId\":7,\"SecretAccessKey\":\"secret\"}", -EBADMSG, NULL, NULL, NULL,
                "parse credentials response: field 'AccessKeyId' is not a string",
                "a number for a key");
        json_is("[]", -EBADMSG, NULL, NULL, NULL, "parse credentials response: not a JSON object",
                "an array");
        json_is("{", -EBADMSG, NULL, NULL, NULL,
                "parse credentials response: invalid JSON near byte 0", "truncated");
}

static void clear_env(void)
{
        const char *vars[] = {"AWS_ACCESS_KEY_ID",
                              "AWS_ACCESS_KEY",
                              "AWS_SECRET_ACCESS_KEY",
                              "AWS_SECRET_KEY",
                              "AWS_SESSION_TOKEN",
                              "AWS_PROFILE",
                              "AWS_DEFAULT_PROFILE",
                              "AWS_SHARED_CREDENTIALS_FILE",
                              "AWS_CONFIG_FILE",
                              "AWS_REGION",
                              "AWS_DEFAULT_REGION",
                              "AWS_WEB_IDENTITY_TOKEN_FILE",
                              "AWS_ROLE_ARN",
                              "AWS_ROLE_SESSION_NAME",
                              "AWS_ENDPOINT_URL",
                              "AWS_ENDPOINT_URL_STS",
                              "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                              "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                              "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                              "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                              "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                              "AWS_EC2_METADATA_DISABLED"};
        for (size_t i = 0; i < ARRAY_SIZE(vars); i++)
                (void) unsetenv(vars[i]);
}

/* want_err: the whole message, or its start when it ends with '*' (curl's own words) */
static void find_is(int want_r, const char *ak, const char *source, const char *region,
                    const char *want_err, const char *what)
{
        struct s3_credentials c = {0};
        char *reg = NULL;
        const char *src = NULL;
        struct lerr *err = NULL;
        int r = s3_credentials_find(&c, &reg, &src, &err);
        is_int(r, want_r, "%s: result", what);
        is_str(c.access_key, ak, "%s: access key", what);
        is_str(src, source, "%s: source", what);
        is_str(reg, region, "%s: region", what);
        const char *msg = err ? lerr_message(err) : NULL;
        size_t n = want_err ? strlen(want_err) : 0;
        if (n && want_err[n - 1] == '*')
                is_int(msg ? strncmp(msg, want_err, n - 1) : -1, 0, "%s: error '%s'", what,
                       msg ? msg : "(none)");
        else
                is_str(msg, want_err, "%s: error", what);
        s3_credentials_done(&c);
        free(reg);
        lerr_free(err);
}

static void test_order(void)
{
        char dir[] = "/tmp/test-aws-creds-XXXXXX";
        if (!mkdtemp(dir)) {
                ok(false, "mkdtemp");
                return;
        }
        char token[64];
        (void) snprintf(token, sizeof(token), "%s/token", dir);
        FILE *f = fopen(token, "we");
        if (f) {
                (void) fputs("eyJhbGciOiJSUzI1NiJ9.payload.sig\n", f);
                (void) fclose(f);
        }
        clear_env();
        (void) setenv("HOME", dir, 1);
        (void) setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
        find_is(0, NULL, NULL, "us-east-1", NULL, "nothing, IMDS disabled: anonymous");

        (void) setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
        (void) setenv("AWS_SECRET_ACCESS_KEY", "s", 1);
        (void) setenv("AWS_REGION", "eu-west-3", 1);
        (void) setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token", 1);
        (void) setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/ci", 1);
        (void) setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", CLOSED "/creds", 1);
        find_is(1, "AKIDENV", "environment", "eu-west-3", NULL,
                "the environment comes before web identity and ECS");

        (void) unsetenv("AWS_ACCESS_KEY_ID");
        (void) unsetenv("AWS_SECRET_ACCESS_KEY");
        find_is(-ENOENT, NULL, NULL, NULL,
                "read AWS_WEB_IDENTITY_TOKEN_FILE '/nonexistent/token': No such file or directory",
                "web identity comes before ECS");
        (void) setenv("AWS_WEB_IDENTITY_TOKEN_FILE", token, 1);
        (void) setenv("AWS_ENDPOINT_URL", CLOSED, 1);
        find_is(-EIO, NULL, NULL, NULL,
                "assume role 'arn:aws:iam::123456789012:role/ci' with web identity at '" CLOSED
                "': *",
                "web identity: AWS_ENDPOINT_URL, STS unreachable");
        (void) setenv("AWS_ENDPOINT_URL_STS", CLOSED "/sts/", 1);
        find_is(-EIO, NULL, NULL, NULL,
                "assume role 'arn:aws:iam::123456789012:role/ci' with web identity at '" CLOSED
                "/sts/': *",
                "web identity: AWS_ENDPOINT_URL_STS wins over AWS_ENDPOINT_URL");
        (void) unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
        find_is(-EINVAL, NULL, NULL, NULL,
                "AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not", "half web identity");

        (void) unsetenv("AWS_ROLE_ARN");
        find_is(-EIO, NULL, NULL, NULL,
                "get credentials from the container endpoint '" CLOSED "/creds': *",
                "ECS comes before IMDS");
        (void) setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/nonexistent/auth", 1);
        find_is(-ENOENT, NULL, NULL, NULL,
                "read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE '/nonexistent/auth': No such file or "
                "directory",
                "ECS: a missing token file");
        (void) setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://10.1.2.3/creds", 1);
        find_is(-EINVAL, NULL, NULL, NULL,
                "AWS_CONTAINER_CREDENTIALS_FULL_URI 'http://10.1.2.3/creds': http only to "
                "loopback or the ECS/EKS agent addresses",
                "ECS: plain http to another host");

        (void) unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
        (void) unsetenv("AWS_EC2_METADATA_DISABLED");
        (void) setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", CLOSED, 1);
        find_is(0, NULL, NULL, "eu-west-3", NULL, "IMDS unreachable: anonymous");
        clear_env();
        (void) unlink(token);
        (void) rmdir(dir);
}

int main(void)
{
        test_sts_parse();
        test_json_parse();
        test_order();
        return tap_done();
}
