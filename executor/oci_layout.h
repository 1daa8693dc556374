/* SPDX-License-Identifier: Apache-2.0 */
/* An OCI image layout on disk (image-spec image-layout.md) used as a store that several
 * processes share: the warmer's base-image cache (--cache-dir) and an on-disk layer cache
 * (--cache-repo oci:DIR). Index entries are found by their org.opencontainers.image.ref.name
 * annotation (and platform); index.json is read again for every lookup and rewritten
 * atomically under an exclusive flock(2) of "DIR/.lading.lock", so concurrent builds and
 * warmers see each other's entries and never lose one. Blobs are written under a temporary
 * name and renamed, so a blob file always holds its digest's bytes.
 *
 * Limits: index.json at most OCI_LAYOUT_INDEX_MAX bytes and OCI_LAYOUT_MAX_ENTRIES entries;
 * small blobs read into memory at most the caller's max. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include "common/digest.h"
#include "common/macros.h"
#include "registry/manifest.h"

struct lerr;
struct platform;
struct oci_layout;

#define OCI_LAYOUT_INDEX_MAX   (32u << 20)
#define OCI_LAYOUT_MAX_ENTRIES 100000
#define OCI_REF_NAME           "org.opencontainers.image.ref.name"

/* Opens the layout at path (absolute or relative to the working directory). create: make the
 * directory, oci-layout, an empty index.json and blobs/sha256 when missing; otherwise a
 * missing layout is -ENOENT. */
int oci_layout_open(const char *path, bool create, struct oci_layout **ret, struct lerr **err);
void oci_layout_free(struct oci_layout *l);
DEFINE_FREEP(struct oci_layout, oci_layout_free)

const char *oci_layout_path(const struct oci_layout *l);
/* The directory fd of the layout (holding blobs/sha256). Borrowed. */
int oci_layout_dir_fd(const struct oci_layout *l);
/* The blobs/sha256 directory fd: blob files are named by their hex digest. Borrowed. */
int oci_layout_blobs_fd(const struct oci_layout *l);
bool oci_layout_has_blob(const struct oci_layout *l, const char *digest);
/* Reads a blob of at most max bytes into memory (NUL-terminated) and checks its digest:
 * -EBADMSG on a mismatch, -E2BIG over max, -ENOENT when absent. */
int oci_layout_read_blob(const struct oci_layout *l, const char *digest, size_t max, char **ret,
                         size_t *ret_len, struct lerr **err);
/* Stores bytes as a blob; ret_digest gets its digest. */
int oci_layout_put_blob(struct oci_layout *l, const void *data, size_t len,
                        char ret_digest[DIGEST_STRING_SIZE], struct lerr **err);

/* Stores the blob read from src_fd (from its current offset to the end) under digest,
 * through a temporary file renamed into place: a failed copy leaves nothing under the name.
 * The caller vouches for the digest (a blob of its own blobstore). */
int oci_layout_import_blob(struct oci_layout *l, int src_fd, const char *digest, struct lerr **err);

/* One index.json entry: a manifest (or index) descriptor, its platform if any, and its
 * annotations as "key=value" strings (ref.name among them). */
struct oci_layout_entry {
        struct descriptor desc;
        char **annotations;
};
void oci_layout_entry_done(struct oci_layout_entry *e);
/* The value of an annotation (borrowed), or NULL. */
const char *oci_layout_entry_annotation(const struct oci_layout_entry *e, const char *key);

/* Finds the entry named ref_name; with platform, only entries whose platform can run there
 * count, the best fit winning (platform_match_rank). 1 and *ret filled, 0 when there is none. */
int oci_layout_find(struct oci_layout *l, const char *ref_name, const struct platform *platform,
                    struct oci_layout_entry *ret, struct lerr **err);
/* Adds e under ref_name (set as its ref.name annotation, besides e's own), replacing an entry
 * with the same name and the same platform (or none). The blobs it names must be in place. */
int oci_layout_put(struct oci_layout *l, const char *ref_name, const struct oci_layout_entry *e,
                   struct lerr **err);
