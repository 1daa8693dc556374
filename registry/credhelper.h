/* SPDX-License-Identifier: Apache-2.0 */
/* The Docker credential helper protocol, "get" only: run `docker-credential-NAME get` from
 * PATH, write the server address to its stdin, read {"ServerURL","Username","Secret"} from its
 * stdout. A Username of "<token>" means Secret is an identity token (docker-credential-helpers).
 * Limits: CREDS_HELPER_OUTPUT_MAX bytes of output, CREDS_HELPER_TIMEOUT_S seconds. */
#pragma once

struct creds;
struct lerr;

/* Returns 1 and fills ret's username/password or identity_token (ret's other fields are left
 * alone), 0 if the helper has no credentials for server, -ENOENT if the helper is not on PATH,
 * another negative errno if it failed (the message has its exit status and first line of
 * output). name must be a plain name ("ecr-login"), not a path. */
int credhelper_get(const char *name, const char *server, struct creds *ret, struct lerr **err);
