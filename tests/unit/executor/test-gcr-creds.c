/* SPDX-License-Identifier: Apache-2.0 */
/* Which hosts get Google's registry credentials (gcr_creds.h). */
#include "executor/gcr_creds.h"

#include "tap.h"

static void host_is(const char *host, bool want)
{
        ok(gcr_host_match(host) == want, "%s: %s", host, want ? "Google's" : "not Google's");
}

int main(void)
{
        host_is("gcr.io", true);
        host_is("us.gcr.io", true);
        host_is("eu.gcr.io", true);
        host_is("marketplace.gcr.io", true);
        host_is("europe-west1-docker.pkg.dev", true);
        host_is("us-docker.pkg.dev", true);
        host_is(".gcr.io", false);
        host_is("gcr.io.example.com", false);
        host_is("evilgcr.io", false);
        host_is("docker.pkg.dev", false);
        host_is("-docker.pkg.dev", false);
        host_is("a.b-docker.pkg.dev", false);
        host_is("us-docker.pkg.dev.example", false);
        host_is("index.docker.io", false);
        host_is("", false);
        return tap_done();
}
