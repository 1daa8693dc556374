/* SPDX-License-Identifier: Apache-2.0 */
#include "executor/url_fetch.h"

#include <stdlib.h>

#include "tap.h"

static void name_is(const char *url, const char *want)
{
        char *n = url_file_name(url);
        is_str(n, want, "file name of '%s'", url);
        free(n);
}

int main(void)
{
        name_is("https://example.com/a/b/file.tar.gz", "file.tar.gz");
        name_is("https://example.com/file.txt?token=x#frag", "file.txt");
        name_is("https://example.com/dir/", "dir");
        name_is("https://example.com/", NULL);
        name_is("https://example.com", NULL);
        name_is("http://h:8080/x", "x");
        return tap_done();
}
