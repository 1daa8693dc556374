/* SPDX-License-Identifier: Apache-2.0 */
/* Strict parsers: the whole string must be consumed. */
#include "common/parse.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/macros.h"

int parse_u64(const char *s, uint64_t *ret)
{
        uint64_t v = 0;
        if (!s || !*s)
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                if (__builtin_mul_overflow(v, 10, &v) ||
                    __builtin_add_overflow(v, (uint64_t) (*p - '0'), &v))
                        return -ERANGE;
        }
        *ret = v;
        return 0;
}

int parse_i64(const char *s, int64_t *ret)
{
        bool neg = false;
        uint64_t u;
        if (s && (*s == '-' || *s == '+')) {
                neg = *s == '-';
                s++;
        }
        int r = parse_u64(s, &u);
        if (r < 0)
                return r;
        if (neg) {
                if (u > (uint64_t) INT64_MAX + 1)
                        return -ERANGE;
                *ret = u == (uint64_t) INT64_MAX + 1 ? INT64_MIN : -(int64_t) u;
        } else {
                if (u > INT64_MAX)
                        return -ERANGE;
                *ret = (int64_t) u;
        }
        return 0;
}

int parse_uint(const char *s, unsigned *ret)
{
        uint64_t v;
        int r = parse_u64(s, &v);
        if (r < 0)
                return r;
        if (v > UINT_MAX)
                return -ERANGE;
        *ret = (unsigned) v;
        return 0;
}

int parse_int(const char *s, int *ret)
{
        int64_t v;
        int r = parse_i64(s, &v);
        if (r < 0)
                return r;
        if (v < INT_MIN || v > INT_MAX)
                return -ERANGE;
        *ret = (int) v;
        return 0;
}

int parse_octal_mode(const char *s, mode_t *ret)
{
        unsigned v = 0;
        if (!s || !*s)
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '7')
                        return -EINVAL;
                v = v * 8 + (unsigned) (*p - '0');
                if (v > 07777)
                        return -ERANGE;
        }
        *ret = (mode_t) v;
        return 0;
}

int parse_bool(const char *s, bool *ret)
{
        static const char *const t[] = {"1", "t", "T", "TRUE", "true", "True"};
        static const char *const f[] = {"0", "f", "F", "FALSE", "false", "False"};
        for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
                if (streq(s, t[i])) {
                        *ret = true;
                        return 0;
                }
                if (streq(s, f[i])) {
                        *ret = false;
                        return 0;
                }
        }
        return -EINVAL;
}

static int64_t unit_ns(const char *u, size_t n)
{
        static const struct {
                const char *name;
                int64_t ns;
        } units[] = {
                {"ns", 1},
                {"us", 1000},
                {"\xc2\xb5s", 1000},
                {"ms", 1000000},
                {"s", 1000000000LL},
                {"m", 60 * 1000000000LL},
                {"h", 3600 * 1000000000LL},
        };
        for (size_t i = 0; i < ARRAY_SIZE(units); i++)
                if (strlen(units[i].name) == n && memcmp(units[i].name, u, n) == 0)
                        return units[i].ns;
        return 0;
}

int parse_duration_ns(const char *s, int64_t *ret)
{
        bool neg = false;
        double total = 0;
        if (!s || !*s)
                return -EINVAL;
        if (*s == '-' || *s == '+')
                neg = *s++ == '-';
        if (streq(s, "0")) {
                *ret = 0;
                return 0;
        }
        if (!*s)
                return -EINVAL;
        while (*s) {
                char *end;
                if (!((*s >= '0' && *s <= '9') || *s == '.'))
                        return -EINVAL;
                errno = 0;
                double v = strtod(s, &end);
                if (errno || end == s)
                        return -EINVAL;
                const char *u = end;
                while (*end && !((*end >= '0' && *end <= '9') || *end == '.'))
                        end++;
                int64_t mult = unit_ns(u, (size_t) (end - u));
                if (!mult)
                        return -EINVAL;
                total += v * (double) mult;
                if (total > 9.2e18)
                        return -ERANGE;
                s = end;
        }
        *ret = neg ? -(int64_t) total : (int64_t) total;
        return 0;
}
