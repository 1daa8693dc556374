/* SPDX-License-Identifier: Apache-2.0 */
/* The executor's entry point: parse the command line, then hand the options to the build.
 * The only place (besides worker threads handing errors back) that prints an error. */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "version.h"
#include "common/err.h"
#include "common/log.h"
#include "executor/options.h"

int main(int argc, char **argv)
{
        if (argc > 1 && (streq(argv[1], "--version") || streq(argv[1], "version"))) {
                printf("lading executor %s (%s)\n", LADING_VERSION, LADING_COMMIT);
                return 0;
        }
        fprintf(stderr, "error: the command line is not built yet\n");
        return 1;
}
