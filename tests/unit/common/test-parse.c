/* SPDX-License-Identifier: Apache-2.0 */
#include "common/parse.h"

#include <errno.h>

#include "tap.h"

int main(void)
{
        uint64_t u;
        int64_t i;
        int n;
        bool b;
        mode_t m;

        is_int(parse_u64("18446744073709551615", &u), 0, "u64 max");
        ok(u == UINT64_MAX, "u64 max value");
        is_int(parse_u64("18446744073709551616", &u), -ERANGE, "u64 overflow");
        is_int(parse_u64("", &u), -EINVAL, "empty");
        is_int(parse_u64("12a", &u), -EINVAL, "trailing junk");
        is_int(parse_u64("-1", &u), -EINVAL, "negative u64");
        is_int(parse_i64("-9223372036854775808", &i), 0, "i64 min");
        ok(i == INT64_MIN, "i64 min value");
        is_int(parse_int("2147483648", &n), -ERANGE, "int overflow");
        is_int(parse_int("-42", &n), 0, "negative int");
        is_int(n, -42, "negative int value");
        is_int(parse_bool("True", &b), 0, "True");
        ok(b, "True is true");
        is_int(parse_bool("0", &b), 0, "0");
        ok(!b, "0 is false");
        is_int(parse_bool("yes", &b), -EINVAL, "yes is not a Go bool");
        is_int(parse_octal_mode("0755", &m), 0, "octal mode");
        is_int(m, 0755, "octal mode value");
        is_int(parse_octal_mode("4755", &m), 0, "setuid mode");
        is_int(parse_octal_mode("8", &m), -EINVAL, "not octal");
        is_int(parse_octal_mode("17777", &m), -ERANGE, "mode too big");
        is_int(parse_duration_ns("336h", &i), 0, "336h");
        ok(i == 336LL * 3600 * 1000000000LL, "336h value");
        is_int(parse_duration_ns("1h30m", &i), 0, "1h30m");
        ok(i == 5400LL * 1000000000LL, "1h30m value");
        is_int(parse_duration_ns("1.5s", &i), 0, "1.5s");
        ok(i == 1500000000LL, "1.5s value");
        is_int(parse_duration_ns("300ms", &i), 0, "300ms");
        ok(i == 300000000LL, "300ms value");
        is_int(parse_duration_ns("0", &i), 0, "bare 0");
        is_int(parse_duration_ns("10", &i), -EINVAL, "missing unit");
        is_int(parse_duration_ns("5d", &i), -EINVAL, "unknown unit");
        return tap_done();
}
