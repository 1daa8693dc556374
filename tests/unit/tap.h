/* SPDX-License-Identifier: Apache-2.0 */
/* A minimal TAP producer for unit tests: each check prints "ok N - name" or "not ok N - name"
 * with the values that differed; tap_done() prints the plan and returns the exit status. */
#pragma once

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

__attribute__((format(printf, 2, 3))) static inline bool ok(bool cond, const char *fmt, ...)
{
        va_list ap;
        tap_n++;
        if (!cond)
                tap_failed++;
        printf("%s %d - ", cond ? "ok" : "not ok", tap_n);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
        fflush(stdout);
        return cond;
}

#define is_str(got, want, ...)                                                                     \
        ({                                                                                         \
                const char *_g = (got), *_w = (want);                                              \
                bool _ok = (_g && _w) ? strcmp(_g, _w) == 0 : _g == _w;                            \
                if (!ok(_ok, __VA_ARGS__))                                                         \
                        printf("#   got:  '%s'\n#   want: '%s'\n", _g ? _g : "(null)",             \
                               _w ? _w : "(null)");                                                \
                _ok;                                                                               \
        })

#define is_int(got, want, ...)                                                                     \
        ({                                                                                         \
                intmax_t _g = (intmax_t) (got), _w = (intmax_t) (want);                            \
                bool _ok = _g == _w;                                                               \
                if (!ok(_ok, __VA_ARGS__))                                                         \
                        printf("#   got:  %jd\n#   want: %jd\n", _g, _w);                          \
                _ok;                                                                               \
        })

#define diag(...)                                                                                  \
        do {                                                                                       \
                printf("# ");                                                                      \
                printf(__VA_ARGS__);                                                               \
                printf("\n");                                                                      \
        } while (0)

static inline int tap_done(void)
{
        printf("1..%d\n", tap_n);
        if (tap_failed)
                printf("# %d of %d checks failed\n", tap_failed, tap_n);
        return tap_failed ? 1 : 0;
}
