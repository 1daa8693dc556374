/* SPDX-License-Identifier: Apache-2.0 */
/* Kaniko's GCS build context: --context gs://BUCKET/OBJECT names a gzip tarball in Google Cloud
 * Storage (gs://BUCKET alone names OBJECT context.tar.gz, as Kaniko's legacy --bucket does),
 * fetched with one GET of the JSON API's media URL through url_fetch.h. Credentials follow
 * Application Default Credentials: GOOGLE_APPLICATION_CREDENTIALS, else the gcloud file
 * ($CLOUDSDK_CONFIG or ~/.config/gcloud)/application_default_credentials.json (a service
 * account key, signed into an RS256 JWT and exchanged at its token_uri, or an authorized_user
 * refresh token), else the GCE/GKE metadata server (GCE_METADATA_HOST, default 169.254.169.254,
 * 1 s to connect). Without any the request is anonymous (public objects).
 * STORAGE_EMULATOR_HOST (host:port or a URL) sends the request to an emulator, anonymously,
 * as Google's client libraries do; LADING_GCS_ENDPOINT (a URL) replaces
 * https://storage.googleapis.com and keeps the credentials.
 *
 * Limits: a credentials file and a token response are read up to GCS_JSON_MAX_BYTES; an error
 * body up to GCS_ERROR_MAX_BYTES, its message cut at GCS_ERROR_FIELD_MAX bytes. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct lerr;

#define GCS_JSON_MAX_BYTES       (1u << 20)
#define GCS_ERROR_MAX_BYTES      (64u << 10)
#define GCS_ERROR_FIELD_MAX      512
#define GCS_DEFAULT_OBJECT       "context.tar.gz"
#define GCS_DEFAULT_ENDPOINT     "https://storage.googleapis.com"
#define GCS_DEFAULT_TOKEN_URI    "https://oauth2.googleapis.com/token"
#define GCP_CLOUD_PLATFORM_SCOPE "https://www.googleapis.com/auth/cloud-platform"
#define GCS_SCOPE                "https://www.googleapis.com/auth/devstorage.read_only"
#define GCS_JWT_LIFETIME         3600
#define GCS_ADC_FILE             "application_default_credentials.json"

enum gcs_cred_type {
        GCS_CRED_SERVICE_ACCOUNT = 1,
        GCS_CRED_AUTHORIZED_USER,
};

/* One Application Default Credentials file. Secrets are wiped by gcs_credentials_done(). */
struct gcs_credentials {
        enum gcs_cred_type type;
        char *client_email, *private_key;                /* service_account */
        char *client_id, *client_secret, *refresh_token; /* authorized_user */
        char *token_uri; /* GCS_DEFAULT_TOKEN_URI when the file names none */
};

/* Splits "gs://BUCKET[/OBJECT]"; an absent or empty OBJECT is GCS_DEFAULT_OBJECT. Returns 0,
 * or -EINVAL (no gs:// prefix, empty bucket, or a bucket with characters GCS refuses). */
int gcs_parse_url(const char *url, char **ret_bucket, char **ret_object);

/* The media URL of an object: BASE/storage/v1/b/BUCKET/o/OBJECT?alt=media with both
 * percent-encoded (RFC 3986 unreserved characters kept, '/' encoded). base is a URL without
 * a trailing '/'. Caller frees. */
char *gcs_object_url(const char *base, const char *bucket, const char *object);

/* The base URL for the storage API from an endpoint setting: "host:port" becomes
 * "http://host:port"; an http(s) URL loses its trailing '/'. Returns 0, or -EINVAL (another
 * scheme, userinfo, a query, or no host). */
int gcs_endpoint_base(const char *setting, char **ret);

/* Parses a credentials file (type service_account or authorized_user, each with its required
 * fields). err names a missing or mistyped field, or an unsupported type. */
int gcs_credentials_parse(const char *json, size_t len, struct gcs_credentials *ret,
                          struct lerr **err);
void gcs_credentials_done(struct gcs_credentials *c);

/* Base64url without padding (RFC 7515 §2). Caller frees. */
char *gcs_base64url(const void *p, size_t n);

/* The signed JWT assertion for a service account (RFC 7523): iss client_email, scope
 * GCS_SCOPE, aud token_uri, iat now, exp now + GCS_JWT_LIFETIME, RS256 with private_key.
 * Returns 0, or -EINVAL when the key is not a PEM RSA private key. Caller wipes and frees. */
int gcs_jwt_build(const struct gcs_credentials *c, int64_t now, char **ret_jwt, struct lerr **err);

/* gcs_jwt_build with another scope (the registry's: GCP_CLOUD_PLATFORM_SCOPE). */
int gcp_jwt_build(const struct gcs_credentials *c, const char *scope, int64_t now, char **ret_jwt,
                  struct lerr **err);

/* An OAuth2 access token from Application Default Credentials, in their order:
 * GOOGLE_APPLICATION_CREDENTIALS, gcloud's application_default_credentials.json, the metadata
 * server (GCE_METADATA_HOST or 169.254.169.254; its tokens carry the instance's scopes, not
 * scope). what names the use in the log ("GCS", "registry"). Returns 1 with a token (wipe it),
 * 0 when there are no credentials, or an error. */
int gcp_access_token(const char *scope, const char *what, char **ret_token, struct lerr **err);

/* The access_token of an OAuth token response (which must have token_type Bearer when it says).
 * Caller wipes and frees. */
int gcs_token_parse(const char *json, size_t len, char **ret_token, struct lerr **err);

/* The message of an error body: the JSON API's {"error":{"message":...}} or OAuth's
 * {"error":"...","error_description":"..."} ("error: description"); NULL when neither.
 * Control characters become spaces; cut at GCS_ERROR_FIELD_MAX bytes. Caller frees. */
char *gcs_error_message(const char *body, size_t len);

/* Downloads the object named by url (gs://BUCKET[/OBJECT]) into out_fd (empty, seekable),
 * at most max_bytes. Errors name the bucket, the object, the HTTP status and the server's
 * message. */
int context_gcs_fetch(const char *url, int out_fd, uint64_t max_bytes, struct lerr **err);
