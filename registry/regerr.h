/* SPDX-License-Identifier: Apache-2.0 */
/* Registry error responses in words: the HTTP status and, from the body, the distribution
 * spec's {"errors":[{"code","message","detail"}]} or OAuth2's {"error","error_description"}, or
 * a short plain-text body. The body is hostile: it is read within REGERR_BODY_MAX bytes and only
 * printable characters, at most REGERR_TEXT_MAX of them, reach the message. */
#pragma once

#include <stddef.h>

#define REGERR_BODY_MAX (1024 * 1024)
#define REGERR_TEXT_MAX 400

/* "Not Found" for 404; "" for codes without a phrase. */
const char *http_status_text(long status);
/* "HTTP 404 Not Found: MANIFEST_UNKNOWN: manifest unknown" (caller frees). body may be NULL. */
char *regerr_describe(long status, const char *body, size_t len);
/* The errno that fits an HTTP status: EACCES (401, 403), ENOENT (404), ETIMEDOUT (408, 504),
 * E2BIG (413), EAGAIN (429), EOPNOTSUPP (405, 501), EINVAL (other 4xx), EIO (others). */
int regerr_errno(long status);
/* True if the body's errors include this code (e.g. "BLOB_UNKNOWN"). */
int regerr_has_code(const char *body, size_t len, const char *code);
