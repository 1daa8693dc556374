/* SPDX-License-Identifier: Apache-2.0 */
/* Google's registries through Application Default Credentials (see gcr_creds.h). */
#include "executor/gcr_creds.h"

#include <openssl/crypto.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/macros.h"
#include "executor/context_gcs.h"
#include "registry/creds.h"

static bool ends_with(const char *s, const char *suffix)
{
        size_t n = strlen(s), m = strlen(suffix);
        return n >= m && streq(s + n - m, suffix);
}

bool gcr_host_match(const char *host)
{
        if (streq(host, "gcr.io"))
                return true;
        /* a label before the suffix: us.gcr.io, europe-west1-docker.pkg.dev */
        if (ends_with(host, ".gcr.io"))
                return strlen(host) > strlen(".gcr.io");
        if (ends_with(host, "-docker.pkg.dev")) {
                size_t label = strlen(host) - strlen("-docker.pkg.dev");
                return label > 0 && !memchr(host, '.', label);
        }
        return false;
}

int gcr_creds_provider(const char *domain, struct creds **ret, struct lerr **err)
{
        if (!gcr_host_match(domain))
                return 0;
        char *token = NULL;
        int r = gcp_access_token(GCP_CLOUD_PLATFORM_SCOPE, "registry", &token, err);
        if (r < 0)
                return lerr_wrap(err, "Google Application Default Credentials");
        if (r == 0)
                return 0;
        struct creds *c = xcalloc(1, sizeof(*c));
        c->username = xstrdup(GCR_USER);
        c->password = token;
        c->source = xasprintf("credentials for '%s' from Google Application Default Credentials "
                              "(an access token as %s)",
                              domain, GCR_USER);
        *ret = c;
        return 1;
}
