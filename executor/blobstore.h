/* SPDX-License-Identifier: Apache-2.0 */
/* A content-addressed store of blobs (layers, configs, manifests) in OCI image-layout form
 * (DIR/blobs/sha256/<hex>), kept under the executor's dir during a build so that layers are
 * written once to disk and then pushed, saved or laid out from there. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/digest.h"
#include "common/macros.h"

struct lerr;
struct blobstore;

/* Opens (creating) the store at path (relative to dir_fd or absolute). */
int blobstore_open(int dir_fd, const char *path, struct blobstore **ret, struct lerr **err);
void blobstore_free(struct blobstore *bs);
DEFINE_FREEP(struct blobstore, blobstore_free)

/* Adds a read-only directory of blobs named by hex digest (an OCI layout's blobs/sha256: the
 * warmer's --cache-dir, an oci: cache repository) that has, open and size also look into,
 * after the store's own. blobs_fd is duplicated. At most BLOBSTORE_MAX_FALLBACKS. Blobs found
 * there are trusted as the store's own are (their writers verified them). */
#define BLOBSTORE_MAX_FALLBACKS 4
int blobstore_add_fallback(struct blobstore *bs, int blobs_fd);

/* The store's directory fd (the layout's root, holding blobs/). Borrowed. */
int blobstore_dir_fd(const struct blobstore *bs);
bool blobstore_has(const struct blobstore *bs, const char *digest);
/* Opens a blob for reading; -ENOENT if absent. */
int blobstore_open_blob(const struct blobstore *bs, const char *digest);
/* Size of a stored blob, or -errno. */
int64_t blobstore_size(const struct blobstore *bs, const char *digest);

/* Creates a temporary file in the store for a blob being written; *ret_name is its name
 * (caller frees) to pass to blobstore_commit or blobstore_abort. Returns a write fd. */
int blobstore_create_temp(struct blobstore *bs, char **ret_name);
/* Moves the temporary file in place as digest (the caller computed it while writing). If the
 * blob exists already, the temporary file is removed. */
int blobstore_commit(struct blobstore *bs, const char *tmp_name, const char *digest,
                     struct lerr **err);
void blobstore_abort(struct blobstore *bs, const char *tmp_name);
/* Stores a small blob from memory and returns its digest. */
int blobstore_put(struct blobstore *bs, const void *data, size_t len,
                  char ret_digest[DIGEST_STRING_SIZE], struct lerr **err);
/* Makes the blob appear at dst_dir_fd/name: a hard link when possible, else a copy. */
int blobstore_export(const struct blobstore *bs, const char *digest, int dst_dir_fd,
                     const char *name, struct lerr **err);
