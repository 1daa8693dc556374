/* SPDX-License-Identifier: Apache-2.0 */
/* Kaniko's Azure Blob Storage context: an https:// URL of a tar.gz on a blob host
 * (ACCOUNT.blob.core.windows.net, and the blob.core hosts of Azure China, US Government and
 * Germany). With AZURE_STORAGE_ACCESS_KEY (the account's base64 key, as Kaniko reads it) the GET
 * is signed with Shared Key; without it, or for a URL with a query (a SAS URL carries its own
 * signature), the URL is fetched as it is. An error is one line with the account, the blob,
 * the status and Azure's error Code and Message.
 *
 * Limits: the key is at most AZURE_KEY_MAX characters; error bodies are read up to
 * AZURE_ERROR_MAX_BYTES. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct lerr;

#define AZURE_KEY_MAX         1024
#define AZURE_ERROR_MAX_BYTES (64u << 10)
#define AZURE_API_VERSION     "2021-08-06"

/* Whether url is http(s) on a blob host; *ret_account (may be NULL) gets the account name. */
bool azure_blob_url(const char *url, char **ret_account);

/* The Shared Key string to sign of a GET of path (as sent, percent-encoded, no query) with only
 * the x-ms-date and x-ms-version headers. Caller frees. */
char *azure_string_to_sign(const char *account, const char *path, const char *ms_date);

/* The Authorization header value "SharedKey ACCOUNT:SIGNATURE". Returns 0, or -EINVAL when
 * key_b64 is not base64 (or too long). Caller frees. */
int azure_shared_key(const char *account, const char *key_b64, const char *path,
                     const char *ms_date, char **ret);

/* RFC 1123 date of t, as x-ms-date wants it ("Sat, 28 Nov 2026 13:05:00 GMT"). */
void azure_date(time_t t, char out[32]);

/* Downloads the blob of url into out_fd (empty, seekable), at most max_bytes. */
int context_azure_fetch(const char *url, int out_fd, uint64_t max_bytes, struct lerr **err);
