/* SPDX-License-Identifier: Apache-2.0 */
/* Builds the manifest of a new image (Docker schema 2 or OCI) from its config and layer
 * descriptors, and names the media types each format uses. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include "common/digest.h"
#include "registry/manifest.h"     /* struct descriptor, media types */
#include "snapshot/layer_writer.h" /* enum layer_compression */

enum image_format {
        IMAGE_FORMAT_DOCKER, /* application/vnd.docker.distribution.manifest.v2+json */
        IMAGE_FORMAT_OCI,    /* application/vnd.oci.image.manifest.v1+json */
};

const char *image_format_manifest_type(enum image_format f);
const char *image_format_config_type(enum image_format f);
/* The media type of a new layer; Docker schema 2 has no zstd/uncompressed types, so those
 * are refused there (-EINVAL). */
int image_format_layer_type(enum image_format f, enum layer_compression c, const char **ret);
/* Which format a manifest media type belongs to; -EINVAL for an unknown type. */
int image_format_from_media_type(const char *media_type, enum image_format *ret);

/* Serialises a manifest (schemaVersion 2, mediaType, config, layers, annotations given as
 * "key=value" strings, written sorted by key). Caller frees. */
char *image_manifest_build(enum image_format f, const struct descriptor *config,
                           const struct descriptor *layers, size_t n_layers,
                           char *const *annotations);

/* A finished image whose blobs (config, layers, manifest) are in a blobstore. */
struct built_image {
        enum image_format format;
        char manifest_digest[DIGEST_STRING_SIZE];
        uint64_t manifest_size;
        struct descriptor config;
        struct descriptor *layers;
        size_t n_layers;
};
