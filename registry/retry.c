/* SPDX-License-Identifier: Apache-2.0 */
/* Retry policy arithmetic. The caller sleeps and counts attempts; this only decides. */
#include "registry/retry.h"

#include <curl/curl.h>
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "common/macros.h"
#include "common/parse.h"

bool retry_status_is_retryable(long status)
{
        return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
               status == 504;
}

bool retry_curl_is_retryable(int curl_code)
{
        switch (curl_code) { /* an int: most CURLcodes are not retryable */
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_CONNECT:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_WEIRD_SERVER_REPLY:
                return true;
        default:
                return false;
        }
}

static int month_index(const char *m)
{
        static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
        for (int i = 0; i < 12; i++)
                if (strncmp(months + 3 * i, m, 3) == 0)
                        return i;
        return -1;
}

int retry_after_parse(const char *value, time_t now, long *ret_ms)
{
        uint64_t secs;
        while (*value == ' ')
                value++;
        int k = parse_u64(value, &secs);
        if (k == -ERANGE) {
                *ret_ms = RETRY_AFTER_MAX_MS;
                return 0;
        }
        if (k == 0) {
                *ret_ms = secs > (uint64_t) RETRY_AFTER_MAX_MS / 1000 ? RETRY_AFTER_MAX_MS
                                                                      : (long) secs * 1000;
                return 0;
        }
        /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
        char wday[4], mon[4], zone[4];
        int day, year, hh, mm, ss, n = 0;
        if (sscanf(value, "%3[A-Za-z], %d %3s %d %d:%d:%d %3s%n", wday, &day, mon, &year, &hh, &mm,
                   &ss, zone, &n) != 8 ||
            value[n] != '\0' || strcmp(zone, "GMT") != 0)
                return -EINVAL;
        int mi = month_index(mon);
        if (mi < 0 || day < 1 || day > 31 || year < 1970 || year > 9999 || hh > 23 || mm > 59 ||
            ss > 60 || hh < 0 || mm < 0 || ss < 0)
                return -EINVAL;
        struct tm tm = {.tm_year = year - 1900,
                        .tm_mon = mi,
                        .tm_mday = day,
                        .tm_hour = hh,
                        .tm_min = mm,
                        .tm_sec = ss};
        time_t t = timegm(&tm);
        if (t == (time_t) -1)
                return -EINVAL;
        long long diff = t > now ? (long long) (t - now) : 0;
        *ret_ms = diff > RETRY_AFTER_MAX_MS / 1000 ? RETRY_AFTER_MAX_MS : (long) diff * 1000;
        return 0;
}

long retry_delay_ms(unsigned attempt, unsigned base_ms, long retry_after_ms, uint32_t rnd)
{
        if (retry_after_ms >= 0) {
                long d = MIN(retry_after_ms, (long) RETRY_AFTER_MAX_MS);
                return d + (long) ((uint64_t) d * (rnd % 101) / 1000);
        }
        uint64_t d = base_ms;
        for (unsigned i = 0; i < attempt && d < RETRY_MAX_DELAY_MS; i++)
                d *= 2;
        d = MIN(d, (uint64_t) RETRY_MAX_DELAY_MS);
        /* jitter in [0.8, 1.2] so that parallel transfers do not retry in step */
        return (long) (d * (80 + rnd % 41) / 100);
}

uint32_t retry_random(void)
{
        uint32_t r = 0;
        if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t) sizeof(r))
                r = (uint32_t) time(NULL) * 2654435761u;
        return r;
}
