/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes .dockerignore reading and matching: the input is the file; its own lines (and a few
 * fixed paths) are then matched and asked about as directories. Rejecting input is fine;
 * crashing, leaking, undefined behaviour or hanging is not. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "executor/dockerignore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const fixed[] = {"",
                                            ".",
                                            "/",
                                            "a",
                                            "a/b",
                                            "a/b/c.go",
                                            "node_modules/x",
                                            "./x//y/../z",
                                            "..",
                                            "../a",
                                            "\xc3\xa9/\xff"};
        struct dockerignore *di = NULL;
        struct lerr *err = NULL;

        if (size > DOCKERIGNORE_MAX_BYTES)
                return 0;
        if (dockerignore_parse((const char *) data, size, ".dockerignore", &di, &err) < 0) {
                lerr_free(err);
                return 0;
        }
        for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
                (void) dockerignore_match(di, fixed[i]);
                (void) dockerignore_may_include_below(di, fixed[i]);
        }
        /* the lines of the input as paths, at most 16 of them */
        char *text = strndup((const char *) data, size);
        if (!text)
                abort();
        char *save = text;
        for (int n = 0; n < 16 && *save; n++) {
                size_t len = strcspn(save, "\n");
                char c = save[len];
                save[len] = '\0';
                (void) dockerignore_match(di, save);
                (void) dockerignore_may_include_below(di, save);
                if (!c)
                        break;
                save += len + 1;
        }
        free(text);
        dockerignore_free(di);
        return 0;
}
