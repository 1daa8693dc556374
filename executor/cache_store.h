/* SPDX-License-Identifier: Apache-2.0 */
/* Where cached steps live: a registry repository (--cache-repo host/repo, default
 * <destination>/cache) or an OCI layout on disk (--cache-repo oci:/path). A cached step is an
 * OCI image tagged (or, in a layout, ref-named) with the hex of its key, holding the step's
 * layer, or no layer for a step that changed no file. Its manifest annotations carry what a
 * lookup needs in one request:
 *
 *   dev.lading.cache.key         the full key ("sha256:…"), checked against the tag
 *   dev.lading.cache.diff-id     the layer's uncompressed digest (when there is a layer)
 *   dev.lading.cache.created-by  the instruction as written (for people)
 *   org.opencontainers.image.created   when the entry was made (--cache-ttl counts from it)
 *
 * and its config is a valid image config with the same layer, history and a label
 * dev.lading.cache.key, so that any tool can inspect or pull it.
 *
 * Entries are trusted as Kaniko trusts its cache: whoever may push to the cache repository
 * decides what later builds get. Layer bytes are still verified when they are downloaded.
 * Thread-safe for concurrent get/put (the registry client is; layout updates are locked). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include "common/digest.h"
#include "common/macros.h"
#include "registry/manifest.h"

struct lerr;
struct blobstore;
struct image_ref;
struct reg_client;
struct cache_store;

#define CACHE_ANN_KEY        "dev.lading.cache.key"
#define CACHE_ANN_DIFF_ID    "dev.lading.cache.diff-id"
#define CACHE_ANN_CREATED_BY "dev.lading.cache.created-by"
#define CACHE_ANN_CREATED    "org.opencontainers.image.created"

struct cache_entry {
        bool has_layer;
        struct descriptor layer; /* media type, digest, size (has_layer) */
        char diff_id[DIGEST_STRING_SIZE];
        int64_t created;  /* seconds since the epoch */
        char *created_by; /* may be NULL */
};
void cache_entry_done(struct cache_entry *e);

/* spec: "oci:PATH" (the layout is created when missing) or a repository reference without
 * tag. reg is borrowed (unused for a layout). */
int cache_store_open(const char *spec, struct reg_client *reg, struct cache_store **ret,
                     struct lerr **err);
void cache_store_free(struct cache_store *cs);
DEFINE_FREEP(struct cache_store, cache_store_free)

/* "host/repo" or "oci:PATH", for messages. */
const char *cache_store_name(const struct cache_store *cs);
/* The repository (blob fetches and cross-repository mounts of cached layers), or NULL for a
 * layout. Borrowed. */
const struct image_ref *cache_store_repo(const struct cache_store *cs);
/* A layout's blobs/sha256 directory (cached layers are read from there), or -1. */
int cache_store_blobs_fd(const struct cache_store *cs);

/* Whether the store answers: without push, pull access (a lookup of a tag that does not
 * exist must say "not found"); with push, push access (as the pre-build check of the
 * destinations). A layout always answers. */
int cache_store_probe(struct cache_store *cs, bool push, struct lerr **err);
/* Looks key up: 1 and *ret filled, 0 when there is no (valid) entry, < 0 when the store
 * could not be asked. An entry whose annotations are missing or name another key, or whose
 * layer is not in the layout, counts as none. */
int cache_store_get(struct cache_store *cs, const char *key, struct cache_entry *ret,
                    struct lerr **err);
/* Stores an entry under key: the layer blob (from bs) first, then the config and the manifest.
 * os/arch/variant describe the image the layer belongs to (variant may be NULL). */
int cache_store_put(struct cache_store *cs, const char *key, const struct cache_entry *e,
                    const char *os, const char *arch, const char *variant, struct blobstore *bs,
                    struct lerr **err);

/* The documents of an entry (for cache_store_put and tests): a config and an OCI manifest.
 * The manifest refers to the config by digest. Both new strings. */
void cache_entry_encode(const char *key, const struct cache_entry *e, const char *os,
                        const char *arch, const char *variant, char **ret_config,
                        char **ret_manifest);
/* Reads an entry from its manifest: 1 and *ret filled, 0 when it is not an entry for key
 * (another key, missing annotations, more than one layer), -EBADMSG for malformed JSON. */
int cache_entry_decode(const char *manifest, size_t len, const char *key, struct cache_entry *ret,
                       struct lerr **err);
/* RFC 3339 "YYYY-MM-DDTHH:MM:SS[.frac]Z" to seconds; -EINVAL otherwise. */
int cache_parse_time(const char *s, int64_t *ret);
