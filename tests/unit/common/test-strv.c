/* SPDX-License-Identifier: Apache-2.0 */
#include "common/strv.h"

#include <stdlib.h>

#include "tap.h"

int main(void)
{
        _cleanup_(strv_freep) char **l = NULL;
        is_int(strv_length(l), 0, "NULL is empty");
        strv_push(&l, "a");
        strv_push(&l, "b");
        strv_consume(&l, strdup("c"));
        is_int(strv_length(l), 3, "three entries");
        ok(strv_contains(l, "b"), "contains b");
        ok(!strv_contains(l, "d"), "not d");
        _cleanup_free_ char *j = strv_join(l, ", ");
        is_str(j, "a, b, c", "join");
        _cleanup_(strv_freep) char **c = strv_copy(l);
        is_str(c[2], "c", "copy");
        int n = 0;
        strv_foreach (s, l)
                n += (int) strlen(s);
        is_int(n, 3, "foreach visits all");
        return tap_done();
}
