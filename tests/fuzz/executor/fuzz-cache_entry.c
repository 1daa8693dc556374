/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the reading of a layer-cache entry: a manifest from the cache repository (anyone who
 * may push there writes it), decoded for the key its annotations name (so that a valid input
 * reaches the layer checks too) and for a fixed key. Rejecting input is fine; crashing,
 * leaking, undefined behaviour or hanging is not. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "executor/cache_store.h"
#include "registry/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode(const char *text, size_t size, const char *key)
{
        struct cache_entry e = {0};
        struct lerr *err = NULL;
        int r = cache_entry_decode(text, size, key, &e, &err);
        if (r > 0)
                cache_entry_done(&e);
        lerr_free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char fixed[] =
                "sha256:1111111111111111111111111111111111111111111111111111111111111111";
        if (size > MANIFEST_MAX_BYTES)
                return 0;
        const char *text = (const char *) data;
        decode(text, size, fixed);
        /* the key the input claims, when it has one */
        const char *k = memmem(text, size, "sha256:", 7);
        if (k && (size_t) (k - text) + 71 <= size) {
                char key[72];
                memcpy(key, k, 71);
                key[71] = '\0';
                decode(text, size, key);
        }
        /* its first line as a time */
        char line[64];
        size_t n = 0;
        while (n < size && n < sizeof(line) - 1 && text[n] != '\n')
                n++;
        memcpy(line, text, n);
        line[n] = '\0';
        int64_t t;
        (void) cache_parse_time(line, &t);
        return 0;
}
