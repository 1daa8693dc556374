/* SPDX-License-Identifier: Apache-2.0 */
/* Writes a built image to local outputs: an OCI image layout directory (--oci-layout-path)
 * and a `docker save`-style tarball (--tar-path) that `docker load` and
 * `skopeo copy docker-archive:` read. Blobs come from the build's blobstore. */
#pragma once

struct lerr;
struct blobstore;
struct built_image;

/* Creates or extends an OCI layout at path: blobs are added, and the manifest is added to
 * index.json (replacing entries with the same org.opencontainers.image.ref.name). ref_names
 * (tags such as "latest" or "repo:tag", may be NULL) become ref.name annotations, one index
 * entry each; none gives one entry without a name. A Docker-format image is laid out with the
 * equivalent OCI manifest (OCI tools refuse Docker media types in a layout), which is stored
 * in bs too. */
int image_output_oci_layout(struct blobstore *bs, const struct built_image *img, const char *path,
                            char *const *ref_names, struct lerr **err);
/* Writes a tarball at path holding manifest.json ([{Config, RepoTags, Layers}]), the config,
 * the layers (compressed, as Docker accepts them), plus index.json/oci-layout so it is also
 * an OCI archive. repo_tags: "registry/repo:tag" strings (may be NULL). */
int image_output_docker_archive(const struct blobstore *bs, const struct built_image *img,
                                const char *path, char *const *repo_tags, struct lerr **err);
