/* SPDX-License-Identifier: Apache-2.0 */
/* AWS Signature Version 4 for one request without a body (an S3 GetObject): the canonical
 * request, the string to sign, the HMAC-SHA256 key chain and the Authorization header value.
 * No I/O, no clock: the caller passes the time and decides which headers are signed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* the sha256 of an empty payload, as x-amz-content-sha256 carries it */
#define S3_EMPTY_PAYLOAD_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define S3_UNSIGNED_PAYLOAD     "UNSIGNED-PAYLOAD"
#define S3_SIGN_MAX_HEADERS     16
#define S3_SIGN_MAX_REQUEST     (64u << 10) /* canonical request */

struct s3_header {
        const char *name; /* lower case */
        const char *value;
};

struct s3_sign_input {
        const char *method; /* "GET" */
        const char *path;   /* the canonical URI: already URI-encoded, starts with '/' */
        const char *query;  /* the canonical query string (sorted, encoded), or NULL */
        const struct s3_header *headers; /* the signed headers, any order; host among them */
        size_t n_headers;                /* at most S3_SIGN_MAX_HEADERS */
        const char *payload_hash;        /* hex sha256 of the body, or S3_UNSIGNED_PAYLOAD */
        const char *amz_date;            /* "YYYYMMDDTHHMMSSZ", as in x-amz-date */
        const char *region, *service;
        const char *access_key, *secret_key;
};

/* The Authorization header value ("AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…,
 * Signature=…") in *ret_value (caller frees; it is a secret-derived value: never log it).
 * Returns 0, -EINVAL for a malformed date, too many headers, a missing field or a canonical
 * request over S3_SIGN_MAX_REQUEST, or -ENOMEM when OpenSSL fails. */
int s3_sign(const struct s3_sign_input *in, char **ret_value);

/* The canonical request of in (for tests and debugging; holds no secret). Caller frees.
 * NULL on the errors of s3_sign(). */
char *s3_canonical_request(const struct s3_sign_input *in);

/* s URI-encoded as SigV4 wants it: unreserved characters (A-Z a-z 0-9 - . _ ~) kept, every
 * other byte as %XX with upper-case hex; '/' kept unless encode_slash. Caller frees. */
char *s3_uri_encode(const char *s, bool encode_slash);
