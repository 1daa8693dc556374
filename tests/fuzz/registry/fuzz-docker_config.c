/* SPDX-License-Identifier: Apache-2.0 */
/* Docker config.json content, then lookups for a few registries. PATH is emptied so that a
 * credHelpers/credsStore entry fails to run anything. */
#include <stdint.h>
#include <stdlib.h>

#include "common/err.h"
#include "registry/creds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const domains[][2] = {{"docker.io", "library/busybox"},
                                                 {"localhost:5000", "a/b"},
                                                 {"reg.example", NULL},
                                                 {"[::1]:443", "x"}};
        struct creds_store *s = NULL;
        struct lerr *err = NULL;

        setenv("PATH", "/nonexistent-lading-fuzz", 1);
        if (creds_store_parse((const char *) data, size, "config.json", &s, &err) < 0) {
                lerr_free(err);
                return 0;
        }
        for (size_t i = 0; i < 4; i++) {
                struct creds *c = NULL;
                err = NULL;
                if (creds_lookup(s, domains[i][0], domains[i][1], &c, &err) < 0)
                        lerr_free(err);
                else if (!c->source)
                        abort();
                creds_free(c);
        }
        creds_store_free(s);
        return 0;
}
