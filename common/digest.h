/* SPDX-License-Identifier: Apache-2.0 */
/* sha256 digests in the OCI form "sha256:<64 lowercase hex>", computed with OpenSSL EVP.
 * Streams of any length are hashed incrementally; nothing is buffered here. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/macros.h"

#define DIGEST_SHA256_HEX_LEN 64
#define DIGEST_STRING_LEN     (7 + DIGEST_SHA256_HEX_LEN) /* "sha256:" + hex */
#define DIGEST_STRING_SIZE    (DIGEST_STRING_LEN + 1)

struct digest_ctx; /* opaque */

struct digest_ctx *digest_new(void); /* aborts on OOM */
void digest_update(struct digest_ctx *d, const void *p, size_t n);
/* Writes "sha256:hex" into out (DIGEST_STRING_SIZE bytes). The context may not be updated
 * afterwards but may be reset with digest_reset(). */
void digest_final(struct digest_ctx *d, char out[DIGEST_STRING_SIZE]);
/* Like digest_final without ending the context (hash of everything so far). */
void digest_peek(const struct digest_ctx *d, char out[DIGEST_STRING_SIZE]);
void digest_reset(struct digest_ctx *d);
void digest_free(struct digest_ctx *d);
DEFINE_FREEP(struct digest_ctx, digest_free)

/* One-shot digest of a buffer. */
void digest_buffer(const void *p, size_t n, char out[DIGEST_STRING_SIZE]);
/* true if s is "sha256:" followed by exactly 64 lowercase hex digits. */
bool digest_is_valid(const char *s);
/* true for any "algorithm:encoded" of the OCI grammar (sha256, sha512, others). */
bool digest_is_wellformed(const char *s);
/* The hex part of a valid digest (pointer into s), or NULL. */
const char *digest_hex(const char *s);
