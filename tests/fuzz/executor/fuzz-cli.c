/* SPDX-License-Identifier: Apache-2.0 */
/* The command line: the input is argv, one argument per line. Rejecting it is fine; crashing,
 * leaking or reading out of bounds (short-flag groups, '=' splitting, CSV quotes) is not. */
#include <stdint.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "executor/cli.h"
#include "executor/options.h"

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *text = xstrndup((const char *) data, size);
        char *argv[MAX_ARGS + 2] = {"executor"};
        int argc = 1;
        struct options o;
        struct cli_result res = {0};
        struct lerr *err = NULL;

        for (char *p = text; p && argc <= MAX_ARGS;) {
                char *nl = strchr(p, '\n');
                if (nl)
                        *nl++ = '\0';
                argv[argc++] = p;
                p = nl;
        }
        argv[argc] = NULL;
        options_init(&o);
        if (cli_parse(argc, argv, &o, &res, &err) < 0)
                lerr_free(err);
        cli_result_done(&res);
        options_done(&o);
        return 0;
}
