/* SPDX-License-Identifier: Apache-2.0 */
/* SigV4 against AWS's published examples, URI encoding, s3:// parsing, shared credentials
 * and config files, object URLs and S3 error bodies. */
#include "executor/context_s3.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/macros.h"
#include "executor/s3_sign.h"
#include "tap.h"

#define EMPTY S3_EMPTY_PAYLOAD_SHA256

/* AWS SigV4 test suite, "get-vanilla" */
static void test_get_vanilla(void)
{
        const struct s3_header h[] = {
                {"x-amz-date", "20150830T123600Z"},
                {"host", "example.amazonaws.com"},
        };
        struct s3_sign_input in = {
                .method = "GET",
                .path = "/",
                .headers = h,
                .n_headers = 2,
                .payload_hash = EMPTY,
                .amz_date = "20150830T123600Z",
                .region = "us-east-1",
                .service = "service",
                .access_key = "AKIDEXAMPLE",
                .secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        };
        char *creq = s3_canonical_request(&in);
        is_str(creq,
               "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
               "host;x-amz-date\n" EMPTY,
               "get-vanilla: canonical request");
        free(creq);
        char *auth = NULL;
        is_int(s3_sign(&in, &auth), 0, "get-vanilla: signed");
        is_str(auth,
               "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
               "SignedHeaders=host;x-amz-date, "
               "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
               "get-vanilla: Authorization");
        free(auth);
}

/* the S3 documentation's GetObject example (examplebucket/test.txt with a Range header) */
static void test_s3_get_object(void)
{
        const struct s3_header h[] = {
                {"host", "examplebucket.s3.amazonaws.com"},
                {"range", "bytes=0-9"},
                {"x-amz-content-sha256", EMPTY},
                {"x-amz-date", "20130524T000000Z"},
        };
        struct s3_sign_input in = {
                .method = "GET",
                .path = "/test.txt",
                .headers = h,
                .n_headers = 4,
                .payload_hash = EMPTY,
                .amz_date = "20130524T000000Z",
                .region = "us-east-1",
                .service = "s3",
                .access_key = "AKIAIOSFODNN7EXAMPLE",
                .secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        };
        char *auth = NULL;
        is_int(s3_sign(&in, &auth), 0, "GetObject: signed");
        is_str(auth,
               "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
               "aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
               "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
               "GetObject: Authorization");
        free(auth);
}

/* a session token, an encoded key and trimmed values: expected value from an independent
 * Python implementation (hmac, hashlib) */
static void test_session_token(void)
{
        const struct s3_header h[] = {
                {"x-amz-security-token", "  FQoGZXIvYXdzEXAMPLE "},
                {"host", "examplebucket.s3.us-west-2.amazonaws.com"},
                {"x-amz-date", "20260102T030405Z"},
                {"x-amz-content-sha256", EMPTY},
        };
        struct s3_sign_input in = {
                .method = "GET",
                .path = "/dir/my%20ctx.tar.gz",
                .headers = h,
                .n_headers = 4,
                .payload_hash = EMPTY,
                .amz_date = "20260102T030405Z",
                .region = "us-west-2",
                .service = "s3",
                .access_key = "AKIAIOSFODNN7EXAMPLE",
                .secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        };
        char *auth = NULL;
        is_int(s3_sign(&in, &auth), 0, "session token: signed");
        is_str(auth,
               "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260102/us-west-2/s3/"
               "aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;"
               "x-amz-security-token, "
               "Signature=7b7640706dc6cb299d0cb3d18753e65556cad34b086b78dde0abca5154c98357",
               "session token: Authorization");
        free(auth);
        in.amz_date = "2026-01-02T03:04:05Z";
        auth = NULL;
        is_int(s3_sign(&in, &auth), -EINVAL, "a malformed date is refused");
        ok(auth == NULL, "no output on failure");
        in.amz_date = "20260102T030405Z";
        in.n_headers = S3_SIGN_MAX_HEADERS + 1;
        is_int(s3_sign(&in, &auth), -EINVAL, "too many headers are refused");
}

static void enc_is(const char *s, bool slash, const char *want)
{
        char *e = s3_uri_encode(s, slash);
        is_str(e, want, "URI-encode '%s'%s", s, slash ? " (slash too)" : "");
        free(e);
}

static void test_uri_encode(void)
{
        enc_is("a b/c~d.e_f-g+h=%", false, "a%20b/c~d.e_f-g%2Bh%3D%25");
        enc_is("a b/c", true, "a%20b%2Fc");
        enc_is("caf\xc3\xa9/*?#", false, "caf%C3%A9/%2A%3F%23");
        enc_is("", false, "");
}

static void url_is(const char *url, int want_r, const char *want_bucket, const char *want_key)
{
        char *b = NULL, *k = NULL;
        int r = s3_parse_url(url, &b, &k);
        is_int(r, want_r, "parse '%s'", url);
        is_str(b, want_bucket, "bucket of '%s'", url);
        is_str(k, want_key, "key of '%s'", url);
        free(b);
        free(k);
}

static void test_parse_url(void)
{
        url_is("s3://my-bucket/context.tar.gz", 0, "my-bucket", "context.tar.gz");
        url_is("s3://b.example/a/b/c ctx.tar.gz", 0, "b.example", "a/b/c ctx.tar.gz");
        url_is("s3://bucket", -EINVAL, NULL, NULL);
        url_is("s3://bucket/", -EINVAL, NULL, NULL);
        url_is("s3:///key", -EINVAL, NULL, NULL);
        url_is("s3://bu:cket/key", -EINVAL, NULL, NULL);
        url_is("s3://bucket/a\nb", -EINVAL, NULL, NULL);
        url_is("gs://bucket/key", -EINVAL, NULL, NULL);
}

static const char CREDS[] = "# comment\n"
                            "[default]\n"
                            "aws_access_key_id = AKIDDEFAULT\n"
                            "aws_secret_access_key=secret/default\r\n"
                            "\n"
                            "; other comment\n"
                            "[ci]\n"
                            "  aws_access_key_id   =  AKIDCI  \n"
                            "aws_secret_access_key = secret=ci\n"
                            "aws_session_token = token-ci\n"
                            "region = eu-west-1\n";

static const char CONFIG[] = "[default]\n"
                             "region = us-west-2\n"
                             "[profile ci]\n"
                             "region = eu-central-1\n"
                             "s3 =\n"
                             "    addressing_style = path\n";

static void profile_is(const char *text, const char *profile, bool config, int want_r,
                       const char *ak, const char *sk, const char *tok, const char *region)
{
        struct s3_credentials c = {0};
        char *reg = NULL;
        int r = s3_profile_parse(text, strlen(text), profile, config, &c, &reg);
        is_int(r, want_r, "profile '%s' (%s file): found", profile,
               config ? "config" : "credentials");
        is_str(c.access_key, ak, "profile '%s': access key", profile);
        is_str(c.secret_key, sk, "profile '%s': secret key", profile);
        is_str(c.session_token, tok, "profile '%s': session token", profile);
        is_str(reg, region, "profile '%s': region", profile);
        s3_credentials_done(&c);
        free(reg);
}

static void test_profiles(void)
{
        profile_is(CREDS, "default", false, 1, "AKIDDEFAULT", "secret/default", NULL, NULL);
        profile_is(CREDS, "ci", false, 1, "AKIDCI", "secret=ci", "token-ci", "eu-west-1");
        profile_is(CREDS, "nope", false, 0, NULL, NULL, NULL, NULL);
        profile_is(CONFIG, "default", true, 1, NULL, NULL, NULL, "us-west-2");
        profile_is(CONFIG, "ci", true, 1, NULL, NULL, NULL, "eu-central-1");
        /* in a config file, "[ci]" is not the profile ci */
        profile_is("[ci]\nregion = x\n", "ci", true, 0, NULL, NULL, NULL, NULL);
        profile_is("[default\naws_access_key_id = x\n", "default", false, -EINVAL, NULL, NULL, NULL,
                   NULL);
        profile_is("[default]\njunk\n", "default", false, -EINVAL, NULL, NULL, NULL, NULL);
}

static void request_is(const char *bucket, const char *key, const char *endpoint, bool force,
                       int want_r, const char *want_url, const char *want_host,
                       const char *want_path)
{
        char *url = NULL, *host = NULL, *path = NULL;
        int r = s3_object_request(bucket, key, "eu-west-1", endpoint, force, &url, &host, &path);
        is_int(r, want_r, "request for %s/%s at %s%s", bucket, key, endpoint ? endpoint : "AWS",
               force ? " (path style)" : "");
        is_str(url, want_url, "URL");
        is_str(host, want_host, "host");
        is_str(path, want_path, "canonical path");
        free(url);
        free(host);
        free(path);
}

static void test_object_request(void)
{
        request_is("my-bucket", "ctx/a b.tar.gz", NULL, false, 0,
                   "https://my-bucket.s3.eu-west-1.amazonaws.com/ctx/a%20b.tar.gz",
                   "my-bucket.s3.eu-west-1.amazonaws.com", "/ctx/a%20b.tar.gz");
        request_is("my-bucket", "c.tar.gz", NULL, true, 0,
                   "https://s3.eu-west-1.amazonaws.com/my-bucket/c.tar.gz",
                   "s3.eu-west-1.amazonaws.com", "/my-bucket/c.tar.gz");
        request_is("dotted.bucket", "c.tar.gz", NULL, false, 0,
                   "https://s3.eu-west-1.amazonaws.com/dotted.bucket/c.tar.gz",
                   "s3.eu-west-1.amazonaws.com", "/dotted.bucket/c.tar.gz");
        request_is("bkt", "c.tar.gz", "http://127.0.0.1:9000/", false, 0,
                   "http://127.0.0.1:9000/bkt/c.tar.gz", "127.0.0.1:9000", "/bkt/c.tar.gz");
        request_is("bkt", "c.tar.gz", "https://minio.example:443", false, 0,
                   "https://bkt.minio.example/c.tar.gz", "bkt.minio.example", "/c.tar.gz");
        request_is("bkt", "c.tar.gz", "minio.example:9000", true, 0,
                   "https://minio.example:9000/bkt/c.tar.gz", "minio.example:9000",
                   "/bkt/c.tar.gz");
        request_is("bkt", "k+1", "http://localhost/s3/", false, 0, "http://localhost/s3/bkt/k%2B1",
                   "localhost", "/s3/bkt/k%2B1");
        request_is("bkt", "k", "ftp://h", false, -EINVAL, NULL, NULL, NULL);
        request_is("bkt", "k", "http://user:pw@h", false, -EINVAL, NULL, NULL, NULL);
        request_is("bkt", "k", "http://h/?x=1", false, -EINVAL, NULL, NULL, NULL);
}

static void error_is(const char *body, const char *want_code, const char *want_message)
{
        char *code = NULL, *message = NULL;
        s3_error_parse(body, body ? strlen(body) : 0, &code, &message);
        is_str(code, want_code, "error code");
        is_str(message, want_message, "error message");
        free(code);
        free(message);
}

static void test_error_parse(void)
{
        error_is("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
                 "<Message>The specified key does not exist.</Message><Key>a</Key></Error>",
                 "NoSuchKey", "The specified key does not exist.");
        error_is("<Error><Code>A&amp;B</Code><Message>x &lt;y&gt;\nz &amp;lt;</Message></Error>",
                 "A&B", "x <y> z &lt;");
        error_is("<html>bad gateway</html>", NULL, NULL);
        error_is("<Error><Code>Unterminated", NULL, NULL);
        error_is(NULL, NULL, NULL);
        char big[2000];
        memset(big, 'x', sizeof(big));
        memcpy(big, "<Code>", 6);
        memcpy(big + sizeof(big) - 8, "</Code>", 8);
        char *code = NULL, *message = NULL;
        s3_error_parse(big, sizeof(big) - 1, &code, &message);
        is_int(code ? strlen(code) : 0, S3_ERROR_FIELD_MAX, "a long code is cut");
        free(code);
        free(message);
}

static void clear_env(void)
{
        const char *vars[] = {"AWS_ACCESS_KEY_ID",     "AWS_ACCESS_KEY",
                              "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY",
                              "AWS_SESSION_TOKEN",     "AWS_PROFILE",
                              "AWS_DEFAULT_PROFILE",   "AWS_SHARED_CREDENTIALS_FILE",
                              "AWS_CONFIG_FILE"};
        for (size_t i = 0; i < ARRAY_SIZE(vars); i++)
                (void) unsetenv(vars[i]);
}

static void write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "we");
        if (f) {
                (void) fputs(text, f);
                (void) fclose(f);
        }
}

static void load_is(int want_r, const char *ak, const char *tok, const char *region,
                    const char *want_err, const char *what)
{
        struct s3_credentials c = {0};
        char *reg = NULL;
        struct lerr *err = NULL;
        const char *src = NULL;
        int r = s3_credentials_load(&c, &reg, &src, &err);
        is_str(src,
               r > 0 ? (c.session_token && streq(c.session_token, "tok") ? "environment"
                                                                         : "shared files")
                     : NULL,
               "%s: source", what);
        is_int(r, want_r, "%s: result", what);
        is_str(c.access_key, ak, "%s: access key", what);
        is_str(c.session_token, tok, "%s: session token", what);
        is_str(reg, region, "%s: region", what);
        is_str(err ? lerr_message(err) : NULL, want_err, "%s: error", what);
        s3_credentials_done(&c);
        free(reg);
        lerr_free(err);
}

static void test_credentials_load(void)
{
        char dir[] = "/tmp/test-s3-XXXXXX";
        if (!mkdtemp(dir)) {
                ok(false, "mkdtemp");
                return;
        }
        char *creds = NULL, *config = NULL;
        if (asprintf(&creds, "%s/credentials", dir) < 0 || asprintf(&config, "%s/config", dir) < 0)
                return;
        clear_env();
        (void) setenv("HOME", dir, 1);
        load_is(0, NULL, NULL, NULL, NULL, "nothing: anonymous");
        (void) setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
        load_is(-EINVAL, NULL, NULL, NULL,
                "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not", "half a pair");
        (void) setenv("AWS_SECRET_ACCESS_KEY", "s", 1);
        (void) setenv("AWS_SESSION_TOKEN", "tok", 1);
        write_file(config, CONFIG);
        (void) setenv("AWS_CONFIG_FILE", config, 1);
        load_is(1, "AKIDENV", "tok", "us-west-2", NULL, "environment, region from config");
        clear_env();
        write_file(creds, CREDS);
        (void) setenv("AWS_SHARED_CREDENTIALS_FILE", creds, 1);
        load_is(1, "AKIDDEFAULT", NULL, NULL, NULL, "credentials file, default profile");
        (void) setenv("AWS_CONFIG_FILE", config, 1);
        (void) setenv("AWS_PROFILE", "ci", 1);
        load_is(1, "AKIDCI", "token-ci", "eu-central-1", NULL, "named profile");
        (void) setenv("AWS_PROFILE", "missing", 1);
        char *want = NULL;
        if (asprintf(&want, "AWS profile 'missing' not found in '%s' or '%s'", creds, config) < 0)
                return;
        load_is(-ENOENT, NULL, NULL, NULL, want, "missing named profile");
        free(want);
        write_file(creds, "[missing]\naws_access_key_id = AKIDHALF\n");
        load_is(-EINVAL, NULL, NULL, NULL,
                "AWS profile 'missing' has aws_access_key_id but no aws_secret_access_key",
                "half a pair in a profile");
        clear_env();
        char *aws = NULL, *home_config = NULL;
        if (asprintf(&aws, "%s/.aws", dir) < 0 || asprintf(&home_config, "%s/config", aws) < 0)
                return;
        (void) mkdir(aws, 0700);
        write_file(home_config, CONFIG);
        load_is(0, NULL, NULL, "us-west-2", NULL, "no ~/.aws/credentials, ~/.aws/config read");
        (void) unlink(home_config);
        (void) rmdir(aws);
        free(aws);
        free(home_config);
        (void) unlink(creds);
        (void) unlink(config);
        (void) rmdir(dir);
        free(creds);
        free(config);
}

int main(void)
{
        test_get_vanilla();
        test_s3_get_object();
        test_session_token();
        test_uri_encode();
        test_parse_url();
        test_profiles();
        test_object_request();
        test_error_parse();
        test_credentials_load();
        return tap_done();
}
