/* SPDX-License-Identifier: Apache-2.0 */
/* Kaniko's built-in Amazon ECR credentials: for a registry host
 * ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com[.cn], the AWS credentials the SDK would find
 * (context_s3.h, aws_creds.h) are exchanged for a registry password with ECR's
 * GetAuthorizationToken (one SigV4-signed POST to the region's ECR API; AWS_ENDPOINT_URL_ECR,
 * then AWS_ENDPOINT_URL, override the endpoint as in current SDKs). Tokens are cached per
 * registry for the life of the process (ECR's last 12 hours).
 *
 * Limits: a response is read up to ECR_RESPONSE_MAX bytes; the decoded token up to
 * ECR_TOKEN_MAX; the error type and message are cut at ECR_ERROR_FIELD_MAX bytes. */
#pragma once

#include <stddef.h>

struct creds;
struct lerr;
struct s3_credentials;

#define ECR_RESPONSE_MAX    (1u << 20)
#define ECR_TOKEN_MAX       (64u << 10)
#define ECR_ERROR_FIELD_MAX 512
#define ECR_TARGET          "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"
#define ECR_CONTENT_TYPE    "application/x-amz-json-1.1"
#define ECR_BODY            "{}"
/* sha256 of ECR_BODY */
#define ECR_BODY_SHA256 "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

/* Whether host (normalised: lower case, no port) is an ECR registry. Returns 1 with
 * *ret_region and *ret_api_url (the default GetAuthorizationToken endpoint: api.ecr.REGION…,
 * or ecr-fips.REGION… for FIPS hosts), both the caller's, or 0. */
int ecr_host_parse(const char *host, char **ret_region, char **ret_api_url);

/* The user name and password of a GetAuthorizationToken response:
 * authorizationData[0].authorizationToken, base64 of "USER:PASSWORD". Returns 0 with both
 * set (the caller wipes and frees them), or -EBADMSG with err naming what is wrong (never
 * the token). */
int ecr_token_parse(const char *body, size_t len, char **ret_user, char **ret_password,
                    struct lerr **err);

/* The "__type" (its part after '#') and "message" (or "Message") of an ECR JSON error body,
 * control characters replaced by spaces, cut at ECR_ERROR_FIELD_MAX. Either may come back
 * NULL. Caller frees. */
void ecr_error_parse(const char *body, size_t len, char **ret_type, char **ret_message);

/* The request headers of GetAuthorizationToken ("Name: value", NULL-terminated, the caller
 * frees them with strv_free after wiping: the last is Authorization), signed for service
 * "ecr" at amz_date ("YYYYMMDDTHHMMSSZ"); authority is host[:port] as libcurl sends it, path
 * the canonical URI. Returns 0, or -EINVAL. */
int ecr_request_headers(const struct s3_credentials *c, const char *authority, const char *path,
                        const char *region, const char *amz_date, char ***ret);

/* A creds_provider_fn (registry/creds.h): 0 for a host that is not ECR or when no AWS
 * credentials are found (the registry stays anonymous, as in Kaniko), 1 with username and
 * password from the cache or from GetAuthorizationToken, or a negative errno with one line
 * naming the endpoint, the HTTP status and ECR's error type and message. */
int ecr_creds_provider(const char *domain, struct creds **ret, struct lerr **err);

/* Registers ecr_creds_provider() with creds_set_provider(). Call once at start-up. */
void ecr_creds_register(void);

/* Empties the token cache, wiping the secrets (for tests). */
void ecr_creds_cache_clear(void);
