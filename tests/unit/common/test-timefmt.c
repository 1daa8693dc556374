/* SPDX-License-Identifier: Apache-2.0 */
#include "common/timefmt.h"

#include <stdlib.h>
#include <string.h>

#include "tap.h"

int main(void)
{
        char b[TIMEFMT_RFC3339_SIZE];
        is_str(timefmt_rfc3339((struct timespec){1764321486, 706513870}, b),
               "2025-11-28T09:18:06.70651387Z", "trailing zeros of the fraction dropped");
        is_str(timefmt_rfc3339((struct timespec){0, 0}, b), "1970-01-01T00:00:00Z",
               "a whole second has no fraction");
        is_str(timefmt_rfc3339((struct timespec){86399, 1}, b), "1970-01-01T23:59:59.000000001Z",
               "leading zeros kept");
        is_str(timefmt_rfc3339((struct timespec){4102444800, 500000000}, b),
               "2100-01-01T00:00:00.5Z", "half a second");
        char *now = timefmt_now();
        ok(strlen(now) >= 20 && now[strlen(now) - 1] == 'Z', "now ends with Z");
        free(now);
        return tap_done();
}
