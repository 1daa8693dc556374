/* SPDX-License-Identifier: Apache-2.0 */
/* Image references as Docker reads them (the grammar of distribution/reference):
 *   [domain[:port]/]path[:tag][@algorithm:hex]
 * Docker Hub names are normalised: "busybox" is "docker.io/library/busybox:latest", and the
 * domains "index.docker.io" and "registry-1.docker.io" are aliases of "docker.io".
 *
 * Limits: the whole reference is at most IMAGE_REF_MAX bytes, the repository name (domain and
 * path) at most IMAGE_REF_NAME_MAX, a tag at most 128 characters. */
#pragma once

#include <stdbool.h>
#include "common/macros.h"

struct lerr;

#define IMAGE_REF_MAX      4096
#define IMAGE_REF_NAME_MAX 255
#define IMAGE_REF_TAG_MAX  128

#define DOCKER_HUB_DOMAIN   "docker.io"
#define DOCKER_HUB_API_HOST "registry-1.docker.io"
/* the key Docker writes for Docker Hub in config.json */
#define DOCKER_HUB_AUTH_KEY "https://index.docker.io/v1/"

/* A parsed reference. Fields are read-only for users; all strings are owned by the struct. */
struct image_ref {
        char *domain; /* "docker.io", "localhost:5000", "10.0.0.1:5000", "[::1]:5000" (lower case)
                       */
        char *path;   /* "library/busybox" */
        char *name;   /* domain + "/" + path: the repository name */
        char *tag;    /* NULL when only a digest was given; "latest" when neither was */
        char *digest; /* NULL or "algorithm:hex" */
};

/* Parses s. With no tag and no digest, the tag is "latest". Errors (-EINVAL) say what is wrong:
 * "invalid reference 'Foo': repository name must be lowercase". */
int image_ref_parse(const char *s, struct image_ref **ret, struct lerr **err);
/* Like image_ref_parse but a reference that names no tag and no digest keeps tag == NULL:
 * for repository names (--cache-repo, mount sources). */
int image_ref_parse_repo(const char *s, struct image_ref **ret, struct lerr **err);
/* Builds a reference from parts that were already validated elsewhere (a mirror's domain and
 * a path prefix); the result is validated again. tag and digest may be NULL. */
int image_ref_from_parts(const char *domain, const char *path, const char *tag, const char *digest,
                         struct image_ref **ret, struct lerr **err);
struct image_ref *image_ref_dup(const struct image_ref *r);
void image_ref_free(struct image_ref *r);
DEFINE_FREEP(struct image_ref, image_ref_free)

/* "docker.io/library/busybox:latest", "host/x@sha256:…", "host/x:t@sha256:…". Caller frees. */
char *image_ref_string(const struct image_ref *r);
/* The host that serves the API: "registry-1.docker.io" for Docker Hub, else the domain. */
const char *image_ref_api_host(const struct image_ref *r);
/* A host string in the form used to compare registries: lower case, Docker Hub's aliases
 * ("index.docker.io", "registry-1.docker.io") as "docker.io". Caller frees. NULL if host is not
 * a valid domain[:port]. */
char *image_ref_normalize_domain(const char *host);
/* True for Docker Hub. */
bool image_ref_is_docker_hub(const struct image_ref *r);
/* True if the domain (without port) is "localhost", a loopback IPv4 address or "[::1]". */
bool image_ref_domain_is_loopback(const char *domain);
/* The push/pull scope a registry token needs: "repository:<path>:<actions>". Caller frees. */
char *image_ref_scope(const struct image_ref *r, const char *actions);
