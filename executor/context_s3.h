/* SPDX-License-Identifier: Apache-2.0 */
/* Kaniko's S3 build context: --context s3://BUCKET/KEY names a gzip tarball in S3, fetched
 * with one SigV4-signed GET (s3_sign.h) through url_fetch.h. Settings come from the usual AWS
 * environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, then the shared
 * files (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, AWS_CONFIG_FILE or ~/.aws/config,
 * profile AWS_PROFILE or "default"), then web identity, ECS and EC2 (aws_creds.h); AWS_REGION,
 * AWS_DEFAULT_REGION or the profile's region (default us-east-1); Kaniko's S3_ENDPOINT and
 * S3_FORCE_PATH_STYLE. Without credentials the request is anonymous (public buckets).
 *
 * Limits: a credentials or config file is read up to S3_CONFIG_MAX_BYTES; an S3 error body
 * up to S3_ERROR_MAX_BYTES; error Code and Message are cut at S3_ERROR_FIELD_MAX bytes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lerr;

#define S3_CONFIG_MAX_BYTES (1u << 20)
#define S3_ERROR_MAX_BYTES  (64u << 10)
#define S3_ERROR_FIELD_MAX  512
#define S3_DEFAULT_REGION   "us-east-1"

struct s3_credentials {
        char *access_key, *secret_key, *session_token; /* session_token may be NULL */
        char *expiration; /* temporary credentials: ISO 8601 time they end, or NULL */
};

/* The credentials the AWS SDK would find, in its order: the environment, the shared files,
 * then aws_creds_chain() (web identity, ECS, EC2 instance metadata). Returns 1 with *ret and
 * *ret_source (a static name), 0 when there are none (anonymous access), or a negative errno
 * with err. *ret_region (always set on success) is AWS_REGION, AWS_DEFAULT_REGION, the
 * profile's region or S3_DEFAULT_REGION. */
int s3_credentials_find(struct s3_credentials *ret, char **ret_region, const char **ret_source,
                        struct lerr **err);

/* Splits "s3://BUCKET/KEY" (KEY non-empty, may hold '/'). Returns 0, or -EINVAL. */
int s3_parse_url(const char *url, char **ret_bucket, char **ret_key);

/* Looks up a profile in the text of an AWS shared credentials file (config_style false:
 * sections "[name]") or config file (config_style true: "[profile name]", and "[default]").
 * Sets the fields it finds in *creds (access key, secret key, session token) and *ret_region
 * (when not NULL). Returns 1 when the profile's section exists, 0 when not, -EINVAL when a
 * line is malformed. Fields already set are replaced. */
int s3_profile_parse(const char *text, size_t len, const char *profile, bool config_style,
                     struct s3_credentials *creds, char **ret_region);

/* The credentials from the environment, else from the profile of the shared files as
 * aws_profile_credentials() resolves it (static keys, credential_process, AssumeRole, web
 * identity). Returns 1 with *ret and *ret_source (a static name: "environment", "shared
 * files", "credential_process", "AssumeRole", "web identity"), 0 when there are none, or a
 * negative errno with err set (a file unreadable or malformed, a named profile missing, half
 * a key pair, a failing profile). *ret_region (when not NULL) is the profile's region from
 * the config file, or NULL. */
int s3_credentials_load(struct s3_credentials *ret, char **ret_region, const char **ret_source,
                        struct lerr **err);
void s3_credentials_done(struct s3_credentials *c);

/* The request for an object: *ret_url to give libcurl, *ret_host (host[:port] as libcurl
 * sends it) and *ret_path (the canonical URI). endpoint NULL means AWS
 * (https://BUCKET.s3.REGION.amazonaws.com/KEY); a custom endpoint ("http://h:9000", a
 * missing scheme means https) is used virtual-hosted too, except that path style
 * (ENDPOINT/BUCKET/KEY) is used with force_path_style, for buckets that are not DNS names
 * and for endpoints that are IP addresses or localhost. Returns 0, or -EINVAL. */
int s3_object_request(const char *bucket, const char *key, const char *region, const char *endpoint,
                      bool force_path_style, char **ret_url, char **ret_host, char **ret_path);

/* Splits an endpoint URL ("http://h:9000/base", a missing scheme means https) into its
 * scheme (static), host[:port] as libcurl sends it in Host (the default port dropped) and a
 * base path without trailing '/' (may be empty). Returns 0, or -EINVAL (another scheme,
 * userinfo, a query or fragment, no host). */
int s3_endpoint_split(const char *endpoint, const char **ret_scheme, char **ret_authority,
                      char **ret_base);

/* The text of the first <tag>…</tag> in body (no attributes on the tag), with the five XML
 * entities unescaped and control characters replaced by spaces, cut at max bytes; NULL when
 * the tag or its end is missing. Caller frees. */
char *s3_xml_field(const char *body, size_t len, const char *tag, size_t max);

/* The <Code> and <Message> of an S3 XML error body, unescaped, control characters replaced
 * by spaces, cut at S3_ERROR_FIELD_MAX. Either may come back NULL. Caller frees. */
void s3_error_parse(const char *body, size_t len, char **ret_code, char **ret_message);

/* Downloads the object of url ("s3://BUCKET/KEY") into out_fd (empty, seekable), at most
 * max_bytes. An HTTP error gives one line with the bucket, the key, the status and S3's
 * error Code and Message. */
int context_s3_fetch(const char *url, int out_fd, uint64_t max_bytes, struct lerr **err);
