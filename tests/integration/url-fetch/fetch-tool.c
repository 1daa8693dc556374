/* SPDX-License-Identifier: Apache-2.0 */
/* Test driver: url_fetch URL into OUT; prints "size digest last_modified" or the error line.
 * Usage: fetch-tool URL OUT MAX_BYTES RETRIES */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <curl/curl.h>

#include "common/err.h"
#include "common/parse.h"
#include "executor/url_fetch.h"

int main(int argc, char **argv)
{
        struct lerr *err = NULL;
        struct url_fetch_result res;
        uint64_t max = 0;
        int retries = 0;
        if (argc != 5 || parse_u64(argv[3], &max) < 0 || parse_int(argv[4], &retries) < 0)
                return 2;
        curl_global_init(CURL_GLOBAL_DEFAULT);
        int fd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        struct url_fetch_opts o = {.max_bytes = max, .retries = retries};
        if (url_fetch(argv[1], fd, &o, &res, &err) < 0) {
                printf("error: %s\n", lerr_message(err));
                lerr_free(err);
                return 1;
        }
        printf("%llu %s %lld\n", (unsigned long long) res.size, res.digest,
               (long long) res.last_modified);
        curl_global_cleanup();
        return 0;
}
