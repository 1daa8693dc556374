/* SPDX-License-Identifier: Apache-2.0 */
/* Kaniko's built-in Google credentials for Container Registry and Artifact Registry: for
 * gcr.io, *.gcr.io and *-docker.pkg.dev the Application Default Credentials (context_gcs.h:
 * GOOGLE_APPLICATION_CREDENTIALS, gcloud's file, the metadata server of GCE/GKE) give an
 * access token, sent as the password of the user "oauth2accesstoken", as docker-credential-gcr
 * does. */
#pragma once

#include <stdbool.h>

struct creds;
struct lerr;

#define GCR_USER "oauth2accesstoken"

/* Whether host (normalised: lower case, no port) is Google's registry. */
bool gcr_host_match(const char *host);

/* A provider for creds_set_provider(): 0 when domain is not Google's or there are no
 * Application Default Credentials, 1 with the credentials, or an error. */
int gcr_creds_provider(const char *domain, struct creds **ret, struct lerr **err);
