/* SPDX-License-Identifier: Apache-2.0 */
/* The base-image cache (--cache-dir) and its warmer.
 *
 * Layout: an OCI image layout (oci_layout.h), not Kaniko's "<digest>" docker-save tarballs:
 * layers are stored once however many images share them, blobs are written verified and
 * renamed into place, and skopeo or umoci can read the directory. Each warmed image is one
 * index.json entry: the image manifest chosen for the platform (its descriptor with that
 * platform, from the image's config), annotated with
 *   org.opencontainers.image.ref.name   the reference as the build names it, normalised
 *                                       ("docker.io/library/alpine:3.20", "host/x@sha256:…")
 *   dev.lading.warmed                   when it was warmed (--cache-ttl counts from it)
 *   dev.lading.index-digest             the index it was chosen from, when there was one
 * The executor (--cache --cache-dir DIR) looks a base image (FROM, COPY --from an image, RUN
 * --mount from= an image) up there by that name and platform before asking any registry. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct lerr;
struct image_ref;
struct oci_layout;
struct platform;
struct reg_client;
struct reg_image;

#define WARM_ANN_WARMED       "dev.lading.warmed"
#define WARM_ANN_INDEX_DIGEST "dev.lading.index-digest"

/* Pulls ref for platform into the layout (layers verified, several at once) and records it.
 * When the layout already has the same manifest, complete and warmed less than ttl_ns ago,
 * nothing is downloaded (unless force). Returns 1 when it downloaded, 0 when it was there. */
int warm_image(struct reg_client *reg, struct oci_layout *l, const struct image_ref *ref,
               const struct platform *platform, int64_t ttl_ns, bool force, struct lerr **err);

/* The image ref for platform as the layout has it: 1 and *ret (a reg_image as
 * reg_image_resolve() gives, source = ref, every blob verified but the layers, which are in
 * the layout), 0 when it is not there, older than ttl_ns or incomplete (said in the log). */
int warm_load(struct oci_layout *l, const struct image_ref *ref, const struct platform *platform,
              int64_t ttl_ns, struct reg_image **ret, struct lerr **err);

/* The warmer program: `warmer [flags]` and `executor warm [flags]` (warmer_cli.c). Returns
 * the exit status. */
int warmer_main(int argc, char **argv);
