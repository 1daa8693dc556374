/* SPDX-License-Identifier: Apache-2.0 */
/* Image manifests and indexes, OCI and Docker schema 2: parsing what a registry sent, telling
 * an image from an index, choosing an index entry for a platform. Schema 1 is refused.
 *
 * Limits: a manifest or index is at most MANIFEST_MAX_BYTES, an image config at most
 * CONFIG_MAX_BYTES, at most MANIFEST_MAX_ENTRIES layers or index entries, at most
 * MANIFEST_MAX_URLS urls per descriptor. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/macros.h"
#include "registry/platform.h"

struct lerr;

#define MANIFEST_MAX_BYTES   (4u * 1024 * 1024)
#define CONFIG_MAX_BYTES     (8u * 1024 * 1024)
#define MANIFEST_MAX_ENTRIES 4096
#define MANIFEST_MAX_URLS    16

#define MEDIA_OCI_MANIFEST       "application/vnd.oci.image.manifest.v1+json"
#define MEDIA_OCI_INDEX          "application/vnd.oci.image.index.v1+json"
#define MEDIA_OCI_CONFIG         "application/vnd.oci.image.config.v1+json"
#define MEDIA_OCI_LAYER          "application/vnd.oci.image.layer.v1.tar"
#define MEDIA_OCI_LAYER_GZIP     "application/vnd.oci.image.layer.v1.tar+gzip"
#define MEDIA_OCI_LAYER_ZSTD     "application/vnd.oci.image.layer.v1.tar+zstd"
#define MEDIA_DOCKER_MANIFEST    "application/vnd.docker.distribution.manifest.v2+json"
#define MEDIA_DOCKER_LIST        "application/vnd.docker.distribution.manifest.list.v2+json"
#define MEDIA_DOCKER_CONFIG      "application/vnd.docker.container.image.v1+json"
#define MEDIA_DOCKER_LAYER_GZIP  "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MEDIA_DOCKER_FOREIGN     "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
#define MEDIA_DOCKER_SCHEMA1     "application/vnd.docker.distribution.manifest.v1+json"
#define MEDIA_DOCKER_SCHEMA1_JWS "application/vnd.docker.distribution.manifest.v1+prettyjws"

/* The Accept header for manifest requests: every type we read, indexes first. */
#define MANIFEST_ACCEPT                                                                            \
        MEDIA_OCI_INDEX ", " MEDIA_DOCKER_LIST ", " MEDIA_OCI_MANIFEST ", " MEDIA_DOCKER_MANIFEST

enum manifest_kind {
        MANIFEST_IMAGE,
        MANIFEST_INDEX,
};

struct descriptor {
        char *media_type;
        char *digest;
        uint64_t size;
        char **urls;               /* NULL-terminated; NULL when none */
        char *artifact_type;       /* NULL when none */
        struct platform *platform; /* index entries only; NULL when absent */
};

struct manifest {
        enum manifest_kind kind;
        char *media_type; /* what the document is, from its mediaType field or Content-Type */
        struct descriptor config; /* images */
        struct descriptor *layers;
        size_t n_layers;
        struct descriptor *manifests; /* indexes */
        size_t n_manifests;
};

/* Parses a manifest or index. content_type is the response's Content-Type (may be NULL or
 * carry parameters). The kind comes from the document's mediaType field, else from
 * content_type, else from its shape; a document that is both (CVE-2021-41190) or whose
 * mediaType and Content-Type disagree on the kind is refused, as is schema 1 (-ENOTSUP with
 * a message saying so). Descriptors need mediaType, a well-formed digest and a size. */
int manifest_parse(const char *data, size_t len, const char *content_type, struct manifest **ret,
                   struct lerr **err);
void manifest_free(struct manifest *m);
DEFINE_FREEP(struct manifest, manifest_free)

bool media_type_is_index(const char *mt);
bool media_type_is_image_manifest(const char *mt);
bool media_type_is_schema1(const char *mt);
/* Whether a layer media type is one we can unpack (tar, gzip, zstd; OCI or Docker; foreign). */
bool media_type_is_layer(const char *mt);

/* Picks the entry of an index that best fits want (platform_match_rank; earlier entries win
 * ties). Entries without a platform are skipped. -ENOENT with a message listing the platforms
 * the index has. *ret points into index. */
int manifest_select_platform(const struct manifest *index, const struct platform *want,
                             const struct descriptor **ret, struct lerr **err);

void descriptor_done(struct descriptor *d);
void descriptor_copy(struct descriptor *dst, const struct descriptor *src);
