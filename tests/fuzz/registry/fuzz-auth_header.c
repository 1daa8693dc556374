/* SPDX-License-Identifier: Apache-2.0 */
/* WWW-Authenticate values from any server; the input may be split into several headers at
 * '\n', as a response may carry several. */
#include <stdint.h>
#include <string.h>

#include "common/err.h"
#include "registry/auth_header.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct auth_challenges l = {0};
        const char *p = (const char *) data, *end = p + size;

        while (p <= end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t n = nl ? (size_t) (nl - p) : (size_t) (end - p);
                struct lerr *err = NULL;
                if (auth_header_parse(p, n, &l, &err) < 0)
                        lerr_free(err);
                if (!nl)
                        break;
                p = nl + 1;
        }
        const struct auth_challenge *b = auth_challenges_find(&l, "bearer");
        if (b) {
                (void) auth_challenge_param(b, "realm");
                (void) auth_challenge_param(b, "service");
                (void) auth_challenge_param(b, "scope");
        }
        auth_challenges_done(&l);
        return 0;
}
