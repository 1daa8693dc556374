/* SPDX-License-Identifier: Apache-2.0 */
/* The credentials of a profile in the AWS shared files, as the AWS SDKs and CLI resolve them:
 * role_arn (AssumeRole signed with the credentials of source_profile or credential_source, or
 * AssumeRoleWithWebIdentity with web_identity_token_file), then SSO (refused: not supported),
 * then credential_process, then static keys. A profile's settings come from the config file
 * ("[profile NAME]", "[default]") merged with the credentials file ("[NAME]"), which wins.
 *
 * Limits: source_profile chains are at most AWS_PROFILE_MAX_HOPS role assumptions, a cycle is
 * an error; credential_process runs at most AWS_PROCESS_TIMEOUT_S seconds and its stdout is
 * read up to AWS_PROCESS_OUTPUT_MAX bytes; a profile value is at most AWS_PROFILE_VALUE_MAX
 * bytes. No secret is ever put in an error or a log line. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct lerr;
struct s3_credentials;

#define AWS_PROFILE_MAX_HOPS   5
#define AWS_PROCESS_TIMEOUT_S  60
#define AWS_PROCESS_OUTPUT_MAX (64u << 10)
#define AWS_PROFILE_VALUE_MAX  4096

enum aws_key {
        AWS_KEY_ACCESS_KEY_ID,
        AWS_KEY_SECRET_ACCESS_KEY,
        AWS_KEY_SESSION_TOKEN,
        AWS_KEY_REGION,
        AWS_KEY_ROLE_ARN,
        AWS_KEY_SOURCE_PROFILE,
        AWS_KEY_CREDENTIAL_SOURCE,
        AWS_KEY_ROLE_SESSION_NAME,
        AWS_KEY_DURATION_SECONDS,
        AWS_KEY_EXTERNAL_ID,
        AWS_KEY_MFA_SERIAL,
        AWS_KEY_WEB_IDENTITY_TOKEN_FILE,
        AWS_KEY_CREDENTIAL_PROCESS,
        AWS_KEY_SSO_START_URL,
        AWS_KEY_SSO_SESSION,
        AWS_KEY_SSO_ACCOUNT_ID,
        AWS_KEY_STS_REGIONAL_ENDPOINTS,
        AWS_KEY_MAX_
};

/* The settings lading reads from one profile; v[key] is NULL when not set. */
struct aws_profile {
        char *v[AWS_KEY_MAX_];
};

/* The shared files' text, read once for a whole resolution. */
struct aws_files {
        char *config_path, *creds_path; /* may be NULL (no HOME) */
        char *config, *creds;           /* the text, NULL when the file does not exist */
        size_t config_len, creds_len;
};

/* Looks up profile in the text of a credentials file (config_style false: "[NAME]") or a
 * config file (config_style true: "[profile NAME]", and "[default]"), and sets in *p the
 * settings it finds (replacing those already set). A key with an empty value followed by
 * indented lines (the config file's "s3 =" sub-sections) is skipped with them. Returns 1 when
 * the section exists, 0 when not, -EINVAL for a malformed line. */
int aws_profile_parse(const char *text, size_t len, const char *profile, bool config_style,
                      struct aws_profile *p);
void aws_profile_done(struct aws_profile *p);

/* Reads the shared files (AWS_CONFIG_FILE or ~/.aws/config, AWS_SHARED_CREDENTIALS_FILE or
 * ~/.aws/credentials); a missing file is empty. Returns 0 or a negative errno with err. */
int aws_files_read(struct aws_files *ret, struct lerr **err);
void aws_files_done(struct aws_files *f);

/* profile's settings from both files. Returns 1 when either file has it, 0 when neither,
 * -EINVAL with err naming the file for a malformed line. */
int aws_files_profile(const struct aws_files *f, const char *profile, struct aws_profile *ret,
                      struct lerr **err);

/* The credential_process JSON output: Version (the number 1), AccessKeyId and
 * SecretAccessKey required, SessionToken and Expiration optional. Returns 0 with *ret, or
 * -EBADMSG with err naming the field. */
int aws_process_parse(const char *out, size_t len, struct s3_credentials *ret, struct lerr **err);

/* Runs command with "/bin/sh -c", stdin from /dev/null, stderr kept for the message, and
 * parses its stdout with aws_process_parse(). Returns 0 with *ret, -EIO for a non-zero exit
 * (the message has the last line of its stderr, printable characters only, cut at 200
 * bytes), -ETIMEDOUT, -E2BIG or -EBADMSG, with err. The command is not in the message (it
 * may carry a secret argument). */
int aws_process_run(const char *command, struct s3_credentials *ret, struct lerr **err);

/* The AssumeRole form body (RoleArn, RoleSessionName and, when set, DurationSeconds and
 * ExternalId of p, URL-encoded); session is the session name to use. Caller frees. */
char *aws_assume_role_form(const struct aws_profile *p, const char *session);

/* The credentials of profile as the SDKs resolve them (see above); region is the region for
 * STS (regional endpoint, signing) when the profile has none. Returns 1 with *ret and
 * *ret_source (a static name: "shared files", "credential_process", "AssumeRole", "web
 * identity"), 0 when the profile has no credential settings, or a negative errno with err
 * (one line starting "AWS profile 'NAME'"). */
int aws_profile_credentials(const struct aws_files *f, const char *profile, const char *region,
                            struct s3_credentials *ret, const char **ret_source, struct lerr **err);
