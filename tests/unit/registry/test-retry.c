/* SPDX-License-Identifier: Apache-2.0 */
#include "registry/retry.h"

#include <curl/curl.h>

#include "common/macros.h"
#include "tap.h"

int main(void)
{
        /* statuses */
        static const long yes[] = {408, 429, 500, 502, 503, 504};
        static const long no[] = {200, 201, 301, 400, 401, 403, 404, 405, 409, 416, 501, 505};
        for (size_t i = 0; i < ARRAY_SIZE(yes); i++)
                ok(retry_status_is_retryable(yes[i]), "status %ld is retried", yes[i]);
        for (size_t i = 0; i < ARRAY_SIZE(no); i++)
                ok(!retry_status_is_retryable(no[i]), "status %ld is not retried", no[i]);

        /* transport errors */
        ok(retry_curl_is_retryable(CURLE_COULDNT_CONNECT), "connection refused is retried");
        ok(retry_curl_is_retryable(CURLE_RECV_ERROR), "reset is retried");
        ok(retry_curl_is_retryable(CURLE_PARTIAL_FILE), "a cut body is retried");
        ok(retry_curl_is_retryable(CURLE_GOT_NOTHING), "an empty reply is retried");
        ok(retry_curl_is_retryable(CURLE_OPERATION_TIMEDOUT), "a timeout is retried");
        ok(retry_curl_is_retryable(CURLE_HTTP2_STREAM), "an HTTP/2 stream error is retried");
        ok(!retry_curl_is_retryable(CURLE_PEER_FAILED_VERIFICATION), "bad certificate is final");
        ok(!retry_curl_is_retryable(CURLE_SSL_CONNECT_ERROR), "TLS handshake failure is final");
        ok(!retry_curl_is_retryable(CURLE_WRITE_ERROR), "an aborted write is final");
        ok(!retry_curl_is_retryable(CURLE_TOO_MANY_REDIRECTS), "a redirect loop is final");
        ok(!retry_curl_is_retryable(CURLE_URL_MALFORMAT), "a bad URL is final");
        ok(!retry_curl_is_retryable(CURLE_OK), "success is not retried");

        /* Retry-After */
        long ms = -1;
        time_t now = 784111777; /* Sun, 06 Nov 1994 08:49:37 GMT */
        is_int(retry_after_parse("5", now, &ms), 0, "delta seconds parse");
        is_int(ms, 5000, "5 s");
        is_int(retry_after_parse("  0", now, &ms), 0, "zero with leading space");
        is_int(ms, 0, "0 s");
        is_int(retry_after_parse("3600", now, &ms), 0, "an hour parses");
        is_int(ms, RETRY_AFTER_MAX_MS, "an hour is capped");
        is_int(retry_after_parse("99999999999999999999", now, &ms), 0, "overflow parses");
        is_int(ms, RETRY_AFTER_MAX_MS, "overflow is capped");
        is_int(retry_after_parse("Sun, 06 Nov 1994 08:49:47 GMT", now, &ms), 0, "HTTP date");
        is_int(ms, 10000, "date 10 s ahead");
        is_int(retry_after_parse("Sun, 06 Nov 1994 08:49:30 GMT", now, &ms), 0, "past date");
        is_int(ms, 0, "a past date means now");
        is_int(retry_after_parse("Mon, 07 Nov 1994 08:49:37 GMT", now, &ms), 0, "a day ahead");
        is_int(ms, RETRY_AFTER_MAX_MS, "a day is capped");
        is_int(retry_after_parse("-1", now, &ms), -EINVAL, "negative refused");
        is_int(retry_after_parse("1.5", now, &ms), -EINVAL, "fraction refused");
        is_int(retry_after_parse("soon", now, &ms), -EINVAL, "words refused");
        is_int(retry_after_parse("Sun, 06 Nov 1994 08:49:37 PST", now, &ms), -EINVAL,
               "non-GMT date refused");
        is_int(retry_after_parse("Sun, 06 Foo 1994 08:49:37 GMT", now, &ms), -EINVAL,
               "bad month refused");
        is_int(retry_after_parse("Sun, 06 Nov 1994 25:49:37 GMT", now, &ms), -EINVAL,
               "bad hour refused");
        is_int(retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT x", now, &ms), -EINVAL,
               "trailing text refused");

        /* backoff: base * 2^attempt, capped, jitter in [0.8, 1.2] */
        is_int(retry_delay_ms(0, 1000, -1, 20), 1000, "first retry, middle jitter");
        is_int(retry_delay_ms(0, 1000, -1, 0), 800, "first retry, lowest jitter");
        is_int(retry_delay_ms(0, 1000, -1, 40), 1200, "first retry, highest jitter");
        is_int(retry_delay_ms(1, 1000, -1, 20), 2000, "second retry doubles");
        is_int(retry_delay_ms(2, 1000, -1, 20), 4000, "third retry doubles again");
        is_int(retry_delay_ms(4, 1000, -1, 20), 16000, "fifth retry");
        is_int(retry_delay_ms(5, 1000, -1, 20), 30000, "capped at 30 s");
        is_int(retry_delay_ms(40, 1000, -1, 0), 24000, "a huge attempt stays capped");
        is_int(retry_delay_ms(3, 100, -1, 20), 800, "a small base");
        for (uint32_t r = 0; r < 1000; r += 7) {
                long d = retry_delay_ms(2, 1000, -1, r * 2654435761u);
                if (!ok(d >= 3200 && d <= 4800, "jitter stays in bounds (%u)", r))
                        break;
        }
        /* Retry-After wins, plus at most 10 % */
        is_int(retry_delay_ms(0, 1000, 2000, 0), 2000, "Retry-After honoured exactly");
        is_int(retry_delay_ms(0, 1000, 2000, 100), 2200, "Retry-After plus 10 %%");
        is_int(retry_delay_ms(5, 1000, 0, 50), 0, "Retry-After 0 means now");
        is_int(retry_delay_ms(0, 1000, 120000, 0), RETRY_AFTER_MAX_MS, "Retry-After capped");
        uint32_t a = retry_random(), b = retry_random(), c = retry_random();
        ok(!(a == b && b == c), "random numbers vary");
        return tap_done();
}
