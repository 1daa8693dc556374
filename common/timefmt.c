/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 3339 time stamps with Go's nanosecond rules. */
#include "common/timefmt.h"

#include <stdio.h>
#include <string.h>

#include "common/alloc.h"

char *timefmt_rfc3339(struct timespec ts, char buf[TIMEFMT_RFC3339_SIZE])
{
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        size_t n = strftime(buf, TIMEFMT_RFC3339_SIZE, "%Y-%m-%dT%H:%M:%S", &tm);
        if (ts.tv_nsec > 0) {
                char frac[24];
                (void) snprintf(frac, sizeof(frac), ".%09ld", ts.tv_nsec % 1000000000L);
                size_t f = strlen(frac);
                while (f > 1 && frac[f - 1] == '0')
                        frac[--f] = '\0';
                memcpy(buf + n, frac, f + 1);
                n += f;
        }
        memcpy(buf + n, "Z", 2);
        return buf;
}

char *timefmt_now(void)
{
        struct timespec ts;
        char buf[TIMEFMT_RFC3339_SIZE];
        clock_gettime(CLOCK_REALTIME, &ts);
        return xstrdup(timefmt_rfc3339(ts, buf));
}
