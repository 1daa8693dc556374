/* SPDX-License-Identifier: Apache-2.0 */
/* Credentials that a CI system hands a job in its environment, used as Kaniko's built-in GitLab
 * helper uses them when config.json has nothing for a registry:
 *   CI_REGISTRY, CI_REGISTRY_USER, CI_REGISTRY_PASSWORD (the project's container registry)
 *   CI_DEPENDENCY_PROXY_SERVER, CI_DEPENDENCY_PROXY_USER, CI_DEPENDENCY_PROXY_PASSWORD
 * A pair applies only to the registry its server variable names (host[:port], compared as image
 * references normalise it). */
#pragma once

struct creds;

/* The credentials of the first pair that names domain (normalised), or NULL. */
struct creds *creds_from_ci_env(const char *domain);
