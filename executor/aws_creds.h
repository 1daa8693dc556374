/* SPDX-License-Identifier: Apache-2.0 */
/* The AWS credential sources that come after the environment and the shared files, in the
 * AWS SDK's order: web identity (EKS IRSA: AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN,
 * exchanged at STS with AssumeRoleWithWebIdentity), ECS container credentials
 * (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI) and EC2 instance metadata (IMDSv2).
 *
 * Limits: a response is read up to AWS_CREDS_RESPONSE_MAX bytes, a token file up to
 * AWS_CREDS_TOKEN_MAX; a credential field is at most AWS_CREDS_FIELD_MAX bytes and holds no
 * control character (it goes into a request header). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct buf;
struct lerr;
struct s3_credentials;

#define AWS_CREDS_RESPONSE_MAX (64u << 10)
#define AWS_CREDS_TOKEN_MAX    (64u << 10)
#define AWS_CREDS_FIELD_MAX    8192
#define AWS_ECS_ENDPOINT       "http://169.254.170.2"
#define AWS_IMDS_ENDPOINT      "http://169.254.169.254"

/* The Credentials of an STS AssumeRoleWithWebIdentity response (XML): AccessKeyId,
 * SecretAccessKey, SessionToken (all required) and Expiration (optional). Returns 0 with
 * *ret filled, -EBADMSG (a field missing, empty or over the limit; err names it). */
int aws_sts_parse(const char *body, size_t len, struct s3_credentials *ret, struct lerr **err);

/* The credentials JSON of the ECS container endpoint or of EC2 instance metadata:
 * AccessKeyId and SecretAccessKey required, Token and Expiration optional; a "Code" other
 * than "Success" (IMDS) is an error naming it. Returns 0 with *ret filled, or -EBADMSG. */
int aws_json_creds_parse(const char *body, size_t len, struct s3_credentials *ret,
                         struct lerr **err);

/* 0 when v is a usable credential field (non-empty, under AWS_CREDS_FIELD_MAX, no control
 * character), else -EBADMSG with err naming it. */
int aws_creds_check_field(const char *name, const char *v, struct lerr **err);

/* The STS endpoint URL: AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL, else the global
 * https://sts.amazonaws.com/ (global) or the region's (China regions always). Caller frees. */
char *aws_sts_url(const char *region, bool global);

/* AssumeRoleWithWebIdentity of role with the token in token_file (token_what names it in
 * errors: "AWS_WEB_IDENTITY_TOKEN_FILE" or "web_identity_token_file"); session NULL means
 * "lading-<unix time>". Returns 1 with *ret, or a negative errno with err. */
int aws_web_identity(const char *role, const char *token_file, const char *token_what,
                     const char *session, const char *region, struct s3_credentials *ret,
                     struct lerr **err);

/* The ECS container endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI) and EC2
 * instance metadata alone: 1 with *ret, 0 when not configured (IMDS: unreachable or no role),
 * or a negative errno with err. */
int aws_creds_ecs(struct s3_credentials *ret, struct lerr **err);
int aws_creds_imds(struct s3_credentials *ret, struct lerr **err);

/* Tries web identity, then ECS, then IMDS; region picks STS's regional endpoint
 * (AWS_ENDPOINT_URL_STS or AWS_ENDPOINT_URL override it). Returns 1 with *ret and
 * *ret_source (a static name: "web identity", "ECS container endpoint", "EC2 instance
 * metadata"), 0 when no source is configured or instance metadata is unreachable or has no
 * role, or a negative errno with err when a configured source fails. */
int aws_creds_chain(const char *region, struct s3_credentials *ret, const char **ret_source,
                    struct lerr **err);

/* One POST of body to url with headers ("Name: value", NULL-terminated), no redirects,
 * retried twice on connection errors and 5xx; the response body (any status) lands in out,
 * up to its max. Returns 0 with *ret_status, or -EIO / -E2BIG with err. The headers are
 * wiped after use (they may carry a signature or a session token). */
int aws_post(const char *url, const char *const *headers, const char *body, struct buf *out,
             long *ret_status, struct lerr **err);
