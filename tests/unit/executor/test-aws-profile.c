/* SPDX-License-Identifier: Apache-2.0 */
/* aws_profile.h: the profile parser, the credential_process output parser and runner, the
 * AssumeRole form, and how a profile resolves (precedence, source_profile chains, cycles and
 * the exact error lines). STS itself is a closed port on 127.0.0.1 here; the integration test
 * (tests/integration/s3/test_aws_profiles.py) runs AssumeRole against a fake. */
#include "executor/aws_profile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/macros.h"
#include "executor/aws_creds.h"
#include "executor/context_s3.h"
#include "tap.h"

#define CLOSED "http://127.0.0.1:1"

static void process_parse_is(const char *out, int want_r, const char *ak, const char *tok,
                             const char *exp, const char *want_err, const char *what)
{
        struct s3_credentials c = {0};
        struct lerr *err = NULL;
        int r = aws_process_parse(out, strlen(out), &c, &err);
        is_int(r, want_r, "%s: result", what);
        is_str(c.access_key, ak, "%s: access key", what);
        is_str(c.secret_key, ak ? "sec/ret" : NULL, "%s: secret key", what);
        is_str(c.session_token, tok, "%s: session token", what);
        is_str(c.expiration, exp, "%s: expiration", what);
        is_str(err ? lerr_message(err) : NULL, want_err, "%s: error", what);
        s3_credentials_done(&c);
        lerr_free(err);
}

static void test_process_parse(void)
{
        process_parse_is("{\"Version\": 1, \"AccessKeyId\": \"ASIAPROC\", \"SecretAccessKey\": "
                         "\"sec/ret\", \"SessionToken\": \"tok+=\", \"Expiration\": "
                         "\"2030-01-01T00:00:00Z\"}\n",
                         0, "ASIAPROC", "tok+=", "2030-01-01T00:00:00Z", NULL, "full output");
        process_parse_is("{\"Version\":1,\"AccessKeyId\":\"AKIDPROC\",\"SecretAccessKey\":"
                         "\"sec/ret\"}",
                         0, "AKIDPROC", NULL, NULL, NULL, "long-term keys");
        process_parse_is("{\"Version\":2,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\"}",
                         -EBADMSG, NULL, NULL, NULL,
                         "parse output: unsupported Version (want the number 1)", "Version 2");
        process_parse_is("{\"Version\":\"1\",\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\"}",
                         -EBADMSG, NULL, NULL, NULL,
                         "parse output: unsupported Version (want the number 1)",
                         "Version as a string");
        process_parse_is("{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\"}", -EBADMSG, NULL, NULL,
                         NULL, "parse output: required field 'Version' is missing", "no Version");
        process_parse_is("{\"Version\":1,\"SecretAccessKey\":\"s\"}", -EBADMSG, NULL, NULL, NULL,
                         "parse output: required field 'AccessKeyId' is missing", "no AccessKeyId");
        process_parse_is("{\"Version\":1,\"AccessKeyId\":\"A\"}", -EBADMSG, NULL, NULL, NULL,
                         "parse output: required field 'SecretAccessKey' is missing",
                         "no SecretAccessKey");
        process_parse_is("{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\","
                         "\"SessionToken\":\"a\\nX: y\"}",
                         -EBADMSG, NULL, NULL, NULL,
                         "parse output: SessionToken has a control character",
                         "a line break in the token");
        process_parse_is("not json", -EBADMSG, NULL, NULL, NULL,
                         "parse output: invalid JSON near byte 0", "not JSON");
        process_parse_is("[1]", -EBADMSG, NULL, NULL, NULL, "parse output: not a JSON object",
                         "an array");
}

static void run_is(const char *command, int want_r, const char *ak, const char *want_err,
                   const char *what)
{
        struct s3_credentials c = {0};
        struct lerr *err = NULL;
        int r = aws_process_run(command, &c, &err);
        is_int(r, want_r, "%s: result", what);
        is_str(c.access_key, ak, "%s: access key", what);
        is_str(err ? lerr_message(err) : NULL, want_err, "%s: error", what);
        s3_credentials_done(&c);
        lerr_free(err);
}

static void test_process_run(void)
{
        run_is("printf '%s' '{\"Version\":1,\"AccessKeyId\":\"ASIARUN\",\"SecretAccessKey\":"
               "\"s\"}'",
               0, "ASIARUN", NULL, "a command that prints JSON");
        run_is("read x; echo \"{\\\"Version\\\":1,\\\"AccessKeyId\\\":\\\"EOF${x}\\\","
               "\\\"SecretAccessKey\\\":\\\"s\\\"}\"",
               0, "EOF", NULL, "stdin is empty");
        run_is("echo first >&2; printf 'token expired\\n\\n' >&2; exit 3", -EIO, NULL,
               "exit status 3: token expired", "non-zero exit: the last stderr line");
        run_is("exit 1", -EIO, NULL, "exit status 1", "non-zero exit, no stderr");
        char cmd[400], want[300];
        (void) snprintf(cmd, sizeof(cmd), "printf '%%0300d\\n' 0 >&2; exit 2");
        memset(want, '0', 200);
        want[200] = '\0';
        char full[320];
        (void) snprintf(full, sizeof(full), "exit status 2: %s", want);
        run_is(cmd, -EIO, NULL, full, "a long stderr line is cut at 200 bytes");
        run_is("printf 'a\\tb\\033[31m' >&2; exit 1", -EIO, NULL, "exit status 1: a?b?[31m",
               "control characters of stderr replaced");
        run_is("echo nope", -EBADMSG, NULL, "parse output: invalid JSON near byte 0", "bad JSON");
        run_is("kill -9 $$", -EIO, NULL, "killed by signal 9", "killed");
        run_is("head -c 70000 /dev/zero", -E2BIG, NULL, "output over the limit of 65536 bytes",
               "too much output");
}

static void test_profile_parse(void)
{
        static const char text[] = "[profile dev]\n"
                                   "role_arn = arn:aws:iam::123456789012:role/dev\n"
                                   "source_profile = base\n"
                                   "s3 =\n"
                                   "  region = nested-is-not-the-profile\n"
                                   "Role_Session_Name = sess\n"
                                   "external_id = ext&id\n"
                                   "duration_seconds = 1800\n"
                                   "unknown_key = x\n";
        struct aws_profile p = {0};
        is_int(aws_profile_parse(text, strlen(text), "dev", true, &p), 1, "profile dev found");
        is_str(p.v[AWS_KEY_ROLE_ARN], "arn:aws:iam::123456789012:role/dev", "role_arn");
        is_str(p.v[AWS_KEY_SOURCE_PROFILE], "base", "source_profile");
        is_str(p.v[AWS_KEY_REGION], NULL, "an indented s3 sub-key is not the region");
        is_str(p.v[AWS_KEY_ROLE_SESSION_NAME], "sess", "keys are case-insensitive");
        char *form = aws_assume_role_form(&p, "lading-1");
        is_str(form,
               "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%"
               "3Arole%2Fdev&RoleSessionName=lading-1&DurationSeconds=1800&ExternalId=ext%26id",
               "the AssumeRole form");
        free(form);
        aws_profile_done(&p);
        p.v[AWS_KEY_ROLE_ARN] = strdup("r");
        form = aws_assume_role_form(&p, "s");
        is_str(form, "Action=AssumeRole&Version=2011-06-15&RoleArn=r&RoleSessionName=s",
               "the form without the optional fields");
        free(form);
        aws_profile_done(&p);
}

static char dir[] = "/tmp/test-aws-profile-XXXXXX";
static char config_path[128], creds_path[128], token_path[128];

static void write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "we");
        if (f) {
                (void) fputs(text, f);
                (void) fclose(f);
        }
}

/* want_err: the whole message, or its start when it ends with '*' (curl's own words) */
static void creds_is(const char *profile, int want_r, const char *ak, const char *source,
                     const char *want_err, const char *what)
{
        struct aws_files f = {0};
        struct s3_credentials c = {0};
        const char *src = NULL;
        struct lerr *err = NULL;
        int r = aws_files_read(&f, &err);
        if (r >= 0)
                r = aws_profile_credentials(&f, profile, "eu-west-1", &c, &src, &err);
        is_int(r, want_r, "%s: result", what);
        is_str(c.access_key, ak, "%s: access key", what);
        is_str(src, source, "%s: source", what);
        const char *msg = err ? lerr_message(err) : NULL;
        size_t n = want_err ? strlen(want_err) : 0;
        if (n && want_err[n - 1] == '*')
                is_int(msg ? strncmp(msg, want_err, n - 1) : -1, 0, "%s: error '%s'", what,
                       msg ? msg : "(none)");
        else
                is_str(msg, want_err, "%s: error", what);
        s3_credentials_done(&c);
        aws_files_done(&f);
        lerr_free(err);
}

static const char CONFIG[] =
        "[default]\n"
        "region = eu-west-3\n"
        "[profile proc]\n"
        "credential_process = printf '{\"Version\":1,\"AccessKeyId\":\"ASIAPROC\","
        "\"SecretAccessKey\":\"s\"}'\n"
        "aws_access_key_id = AKIDSTATIC\n"
        "aws_secret_access_key = static\n"
        "[profile procfail]\n"
        "credential_process = sh -c 'echo no session >&2; exit 1'\n"
        "[profile role]\n"
        "role_arn = arn:aws:iam::1:role/r\n"
        "source_profile = base\n"
        "credential_process = false\n"
        "[profile a]\n"
        "role_arn = arn:aws:iam::1:role/a\n"
        "source_profile = b\n"
        "[profile b]\n"
        "role_arn = arn:aws:iam::1:role/b\n"
        "source_profile = a\n"
        "[profile self]\n"
        "role_arn = arn:aws:iam::1:role/self\n"
        "source_profile = self\n"
        "[profile mfa]\n"
        "role_arn = arn:aws:iam::1:role/m\n"
        "source_profile = base\n"
        "mfa_serial = arn:aws:iam::1:mfa/me\n"
        "[profile sso]\n"
        "sso_session = corp\n"
        "sso_account_id = 1\n"
        "[profile nosrc]\n"
        "role_arn = arn:aws:iam::1:role/n\n"
        "[profile both]\n"
        "role_arn = arn:aws:iam::1:role/n\n"
        "source_profile = base\n"
        "credential_source = Environment\n"
        "[profile badcs]\n"
        "role_arn = arn:aws:iam::1:role/n\n"
        "credential_source = Laptop\n"
        "[profile envcs]\n"
        "role_arn = arn:aws:iam::1:role/n\n"
        "credential_source = Environment\n"
        "[profile missing-src]\n"
        "role_arn = arn:aws:iam::1:role/n\n"
        "source_profile = ghost\n"
        "[profile empty-src]\n"
        "role_arn = arn:aws:iam::1:role/n\n"
        "source_profile = empty\n"
        "[profile empty]\n"
        "region = us-west-2\n"
        "[profile wi-alone]\n"
        "web_identity_token_file = /x\n"
        "[profile wi]\n"
        "role_arn = arn:aws:iam::1:role/wi\n"
        "web_identity_token_file = /nonexistent/wi-token\n"
        "[profile duration]\n"
        "role_arn = arn:aws:iam::1:role/n\n"
        "source_profile = base\n"
        "duration_seconds = 60\n"
        "[profile c1]\nrole_arn = arn:aws:iam::1:role/c1\nsource_profile = c2\n"
        "[profile c2]\nrole_arn = arn:aws:iam::1:role/c2\nsource_profile = c3\n"
        "[profile c3]\nrole_arn = arn:aws:iam::1:role/c3\nsource_profile = c4\n"
        "[profile c4]\nrole_arn = arn:aws:iam::1:role/c4\nsource_profile = c5\n"
        "[profile c5]\nrole_arn = arn:aws:iam::1:role/c5\nsource_profile = c6\n"
        "[profile c6]\nrole_arn = arn:aws:iam::1:role/c6\nsource_profile = base\n";

static const char CREDS[] = "[base]\n"
                            "aws_access_key_id = AKIDBASE\n"
                            "aws_secret_access_key = base\n"
                            "[self]\n"
                            "aws_access_key_id = AKIDSELF\n"
                            "aws_secret_access_key = self\n"
                            "[proc]\n"
                            "region = not-from-the-credentials-file\n";

static void test_resolve(void)
{
        if (!mkdtemp(dir)) {
                ok(false, "mkdtemp");
                return;
        }
        (void) snprintf(config_path, sizeof(config_path), "%s/config", dir);
        (void) snprintf(creds_path, sizeof(creds_path), "%s/credentials", dir);
        (void) snprintf(token_path, sizeof(token_path), "%s/token", dir);
        write_file(config_path, CONFIG);
        write_file(creds_path, CREDS);
        const char *unset[] = {"AWS_ACCESS_KEY_ID",   "AWS_SECRET_ACCESS_KEY",
                               "AWS_SESSION_TOKEN",   "AWS_ENDPOINT_URL",
                               "AWS_REGION",          "AWS_PROFILE",
                               "AWS_DEFAULT_PROFILE", "AWS_DEFAULT_REGION",
                               "AWS_ROLE_ARN",        "AWS_ACCESS_KEY",
                               "AWS_SECRET_KEY",      "AWS_WEB_IDENTITY_TOKEN_FILE"};
        for (size_t i = 0; i < ARRAY_SIZE(unset); i++)
                (void) unsetenv(unset[i]);
        (void) setenv("AWS_CONFIG_FILE", config_path, 1);
        (void) setenv("AWS_SHARED_CREDENTIALS_FILE", creds_path, 1);
        (void) setenv("AWS_ENDPOINT_URL_STS", CLOSED "/", 1);
        (void) setenv("AWS_EC2_METADATA_DISABLED", "true", 1);

        creds_is("base", 1, "AKIDBASE", "shared files", NULL, "static keys");
        creds_is("default", 0, NULL, NULL, NULL, "a profile without credentials");
        creds_is("proc", 1, "ASIAPROC", "credential_process", NULL,
                 "credential_process before static keys");
        creds_is("procfail", -EIO, NULL, NULL,
                 "AWS profile 'procfail': credential_process: exit status 1: no session",
                 "credential_process fails");
        creds_is("role", -EIO, NULL, NULL,
                 "AWS profile 'role': assume role 'arn:aws:iam::1:role/r' at '" CLOSED "/': *",
                 "role_arn before credential_process");
        creds_is("a", -ELOOP, NULL, NULL, "AWS profile 'a': source_profile cycle a -> b -> a",
                 "a source_profile cycle");
        creds_is("self", -EIO, NULL, NULL,
                 "AWS profile 'self': assume role 'arn:aws:iam::1:role/self' at '" CLOSED "/': *",
                 "a profile that is its own source uses its keys");
        creds_is("mfa", -EINVAL, NULL, NULL,
                 "AWS profile 'mfa': mfa_serial is not supported (a build has no terminal to "
                 "type an MFA code)",
                 "mfa_serial refused");
        creds_is("sso", -ENOTSUP, NULL, NULL,
                 "AWS profile 'sso': SSO (IAM Identity Center) credentials are not supported; "
                 "use credential_process or static keys",
                 "SSO refused");
        creds_is("nosrc", -EINVAL, NULL, NULL,
                 "AWS profile 'nosrc': role_arn needs source_profile, credential_source or "
                 "web_identity_token_file",
                 "role_arn alone");
        creds_is("both", -EINVAL, NULL, NULL,
                 "AWS profile 'both': source_profile and credential_source are mutually "
                 "exclusive",
                 "source_profile and credential_source");
        creds_is("badcs", -EINVAL, NULL, NULL,
                 "AWS profile 'badcs': credential_source 'Laptop' is not Environment, "
                 "Ec2InstanceMetadata or EcsContainer",
                 "an unknown credential_source");
        creds_is("envcs", -ENOENT, NULL, NULL,
                 "AWS profile 'envcs': credential_source Environment has no credentials",
                 "credential_source Environment, nothing there");
        (void) setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
        (void) setenv("AWS_SECRET_ACCESS_KEY", "env", 1);
        creds_is("envcs", -EIO, NULL, NULL,
                 "AWS profile 'envcs': assume role 'arn:aws:iam::1:role/n' at '" CLOSED "/': *",
                 "credential_source Environment signs the AssumeRole");
        (void) unsetenv("AWS_ACCESS_KEY_ID");
        (void) unsetenv("AWS_SECRET_ACCESS_KEY");
        char want[400];
        (void) snprintf(want, sizeof(want),
                        "AWS profile 'missing-src': source_profile 'ghost' not found in '%s' or "
                        "'%s'",
                        creds_path, config_path);
        creds_is("missing-src", -ENOENT, NULL, NULL, want, "a missing source_profile");
        creds_is("empty-src", -ENOENT, NULL, NULL,
                 "AWS profile 'empty-src': source_profile 'empty' has no credentials",
                 "a source_profile without credentials");
        creds_is("wi-alone", -EINVAL, NULL, NULL,
                 "AWS profile 'wi-alone': web_identity_token_file needs role_arn",
                 "web_identity_token_file alone");
        creds_is("wi", -ENOENT, NULL, NULL,
                 "AWS profile 'wi': read web_identity_token_file '/nonexistent/wi-token': No such "
                 "file or directory",
                 "role_arn with web_identity_token_file");
        creds_is("duration", -EINVAL, NULL, NULL,
                 "AWS profile 'duration': duration_seconds '60' is not a number of seconds from "
                 "900 to 43200",
                 "duration_seconds out of range");
        creds_is("c1", -ELOOP, NULL, NULL, "AWS profile 'c6': more than 5 chained role assumptions",
                 "six chained roles");
        creds_is("c2", -EIO, NULL, NULL,
                 "AWS profile 'c6': assume role 'arn:aws:iam::1:role/c6' at '" CLOSED "/': *",
                 "five chained roles are allowed");

        /* through s3_credentials_load(): the profile region comes from the config file only */
        (void) setenv("AWS_PROFILE", "proc", 1);
        struct s3_credentials c = {0};
        char *reg = NULL;
        const char *src = NULL;
        struct lerr *err = NULL;
        is_int(s3_credentials_load(&c, &reg, &src, &err), 1, "load: profile proc");
        is_str(c.access_key, "ASIAPROC", "load: credential_process keys");
        is_str(src, "credential_process", "load: source");
        is_str(reg, NULL, "load: no region from the credentials file");
        s3_credentials_done(&c);
        free(reg);
        lerr_free(err);
        (void) unsetenv("AWS_PROFILE");
        (void) unsetenv("AWS_ENDPOINT_URL_STS");
        (void) unsetenv("AWS_CONFIG_FILE");
        (void) unsetenv("AWS_SHARED_CREDENTIALS_FILE");
        (void) unlink(config_path);
        (void) unlink(creds_path);
        (void) rmdir(dir);
}

static void test_sts_url(void)
{
        (void) unsetenv("AWS_ENDPOINT_URL_STS");
        (void) unsetenv("AWS_ENDPOINT_URL");
        char *u = aws_sts_url("eu-west-1", true);
        is_str(u, "https://sts.amazonaws.com/", "global STS endpoint");
        free(u);
        u = aws_sts_url("eu-west-1", false);
        is_str(u, "https://sts.eu-west-1.amazonaws.com/", "regional STS endpoint");
        free(u);
        u = aws_sts_url("cn-north-1", true);
        is_str(u, "https://sts.cn-north-1.amazonaws.com.cn/", "China: always regional");
        free(u);
        (void) setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9/", 1);
        u = aws_sts_url("eu-west-1", true);
        is_str(u, "http://127.0.0.1:9/", "AWS_ENDPOINT_URL");
        free(u);
        (void) unsetenv("AWS_ENDPOINT_URL");
}

int main(void)
{
        test_process_parse();
        test_process_run();
        test_profile_parse();
        test_resolve();
        test_sts_url();
        return tap_done();
}
