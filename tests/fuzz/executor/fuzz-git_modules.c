/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the .gitmodules reader and submodule URL resolution: the input is parsed as a
 * .gitmodules file; every url found is resolved against a fixed superproject URL and every
 * path looked up. Rejecting input is fine; crashing, leaking or undefined behaviour is not. */
#include <stdint.h>
#include <stdlib.h>

#include "common/err.h"
#include "executor/git_modules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct git_modules m = {0};
        struct lerr *err = NULL;
        if (git_modules_parse((const char *) data, size, &m, &err) < 0) {
                lerr_free(err);
                return 0;
        }
        for (size_t i = 0; i < m.n; i++) {
                char *url = NULL;
                if (m.v[i].url &&
                    git_modules_resolve_url("https://h/org/super.git", m.v[i].url, &url, &err) < 0)
                        lerr_free(TAKE_PTR(err));
                free(url);
                if (m.v[i].path && !git_modules_find(&m, m.v[i].path))
                        abort();
        }
        git_modules_done(&m);
        return 0;
}
