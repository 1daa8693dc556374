/* SPDX-License-Identifier: Apache-2.0 */
/* Image references: parse, print, parse again; the round trip must be stable. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "registry/ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct image_ref *r = NULL, *again = NULL;
        struct lerr *err = NULL;
        char *s = xstrndup((const char *) data, size);

        if (image_ref_parse(s, &r, &err) < 0) {
                lerr_free(err);
        } else {
                char *str = image_ref_string(r);
                if (image_ref_parse(str, &again, NULL) < 0)
                        abort();
                char *str2 = image_ref_string(again);
                if (strcmp(str, str2) != 0)
                        abort();
                char *scope = image_ref_scope(r, "pull");
                (void) image_ref_api_host(r);
                (void) image_ref_domain_is_loopback(r->domain);
                free(scope);
                free(str);
                free(str2);
        }
        image_ref_free(r);
        image_ref_free(again);
        err = NULL;
        if (image_ref_parse_repo(s, &r, &err) < 0)
                lerr_free(err);
        image_ref_free(r);
        char *d = image_ref_normalize_domain(s);
        free(d);
        free(s);
        return 0;
}
