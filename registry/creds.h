/* SPDX-License-Identifier: Apache-2.0 */
/* Registry credentials as Docker and Kaniko read them from a Docker config.json: "auths"
 * entries (auth = base64 "user:password", username/password, identitytoken, registrytoken),
 * under any of the key forms Docker writes ("https://index.docker.io/v1/", "host",
 * "https://host", "host/repo"), "credHelpers" and "credsStore" through the
 * `docker-credential-NAME get` protocol (server on stdin, JSON on stdout).
 *
 * The config file is the first that exists of: $DOCKER_CONFIG/config.json,
 * <kaniko dir>/.docker/config.json, $HOME/.docker/config.json, $REGISTRY_AUTH_FILE,
 * $XDG_RUNTIME_DIR/containers/auth.json (podman's, same format).
 *
 * Secrets never reach a log line or an error message; creds->source describes where the
 * credentials came from, in words safe to print.
 * Limits: CREDS_CONFIG_MAX bytes of config file, CREDS_HELPER_OUTPUT_MAX bytes of helper output,
 * CREDS_HELPER_TIMEOUT_S seconds per helper run. */
#pragma once

#include <stdbool.h>
#include "common/macros.h"

struct lerr;

#define CREDS_CONFIG_MAX        (4 * 1024 * 1024)
#define CREDS_HELPER_OUTPUT_MAX (1024 * 1024)
#define CREDS_HELPER_TIMEOUT_S  60

struct creds {
        char *username; /* Basic auth, or the token endpoint's Basic auth */
        char *password;
        char *identity_token; /* OAuth2 refresh token for the token endpoint */
        char *registry_token; /* a bearer token to send as is */
        char *source;         /* printable, never a secret */
};

struct creds_store;

/* Finds and parses the config file (see above). kaniko_dir NULL means $KANIKO_DIR or "/kaniko".
 * No file at all is not an error (every lookup is then anonymous); a file that cannot be read or
 * parsed is. */
int creds_store_load(const char *kaniko_dir, struct creds_store **ret, struct lerr **err);
/* Parses config.json content directly; path names it in messages. */
int creds_store_parse(const char *data, size_t len, const char *path, struct creds_store **ret,
                      struct lerr **err);
/* The file in use, or NULL when none was found. */
const char *creds_store_path(const struct creds_store *s);
void creds_store_free(struct creds_store *s);
DEFINE_FREEP(struct creds_store, creds_store_free)

/* Credentials for a registry domain as a reference names it ("docker.io", "host:5000") and an
 * optional repository path (for "host/repo" keys). Always returns a creds object on success;
 * it is anonymous (no secret set) when nothing applies. Errors: a malformed entry, a helper that
 * fails (its exit status and first line of output, which helpers keep free of secrets), a
 * helper named in credHelpers that is not on PATH. */
int creds_lookup(const struct creds_store *s, const char *domain, const char *repo_path,
                 struct creds **ret, struct lerr **err);
bool creds_is_anonymous(const struct creds *c);

/* A built-in credential source asked last, when config.json and the CI variables leave a
 * registry anonymous (Kaniko's built-in ECR helper lives in executor/, which registry/ must
 * not call). It returns 1 with *ret (never anonymous), 0 when it does not apply (*ret left
 * alone), or a negative errno with err, which creds_lookup() passes on. */
typedef int (*creds_provider_fn)(const char *domain, struct creds **ret, struct lerr **err);
/* Sets the provider (NULL removes it). Call at start-up, before any thread looks up
 * credentials. */
void creds_set_provider(creds_provider_fn fn);
struct creds *creds_dup(const struct creds *c);
/* Wipes the secrets before freeing. */
void creds_free(struct creds *c);
DEFINE_FREEP(struct creds, creds_free)
