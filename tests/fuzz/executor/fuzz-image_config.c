/* SPDX-License-Identifier: Apache-2.0 */
/* Image configs come from registries: parsing one may fail, never crash or leak; a parsed
 * config serialises to JSON that parses back to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "executor/image_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct image_config *c = NULL, *again = NULL;
        struct lerr *err = NULL;
        if (image_config_parse((const char *) data, size, &c, &err) < 0) {
                lerr_free(err);
                return 0;
        }
        char *json = image_config_to_json(c);
        if (image_config_parse(json, strlen(json), &again, &err) < 0)
                abort(); /* what we write must be readable */
        char *json2 = image_config_to_json(again);
        if (strcmp(json, json2) != 0)
                abort(); /* and stable */
        free(json);
        free(json2);
        image_config_free(c);
        image_config_free(again);
        return 0;
}
