/* SPDX-License-Identifier: Apache-2.0 */
#include "registry/platform.h"

#include <stdlib.h>

#include "common/err.h"
#include "tap.h"

static char *parsed(const char *s)
{
        struct platform p;
        struct lerr *err = NULL;
        if (platform_parse(s, &p, &err) < 0) {
                char *m = strdup(lerr_message(err));
                lerr_free(err);
                return m;
        }
        char *r = platform_string(&p);
        platform_done(&p);
        return r;
}

static int rank(const char *want, const char *have)
{
        struct platform w, h;
        if (platform_parse(want, &w, NULL) < 0)
                return -100;
        /* have comes raw, as an index would carry it: os/arch/variant without normalising */
        char *copy = strdup(have), *a = strchr(copy, '/'), *v = NULL;
        *a++ = '\0';
        if ((v = strchr(a, '/')))
                *v++ = '\0';
        h = (struct platform){.os = copy, .arch = a, .variant = v};
        int r = platform_match_rank(&w, &h);
        free(copy);
        platform_done(&w);
        return r;
}

int main(void)
{
        static const struct {
                const char *in, *want;
        } parses[] = {
                {"linux/amd64", "linux/amd64"},
                {"linux/x86_64", "linux/amd64"},
                {"Linux/X86-64", "linux/amd64"},
                {"linux/amd64/v1", "linux/amd64"},
                {"linux/amd64/v3", "linux/amd64/v3"},
                {"linux/arm64", "linux/arm64"},
                {"linux/arm64/v8", "linux/arm64"},
                {"linux/aarch64", "linux/arm64"},
                {"linux/arm64/8", "linux/arm64"},
                {"linux/arm64/v9.0", "linux/arm64/v9"},
                {"linux/arm", "linux/arm/v7"},
                {"linux/arm/7", "linux/arm/v7"},
                {"linux/arm/6", "linux/arm/v6"},
                {"linux/armhf", "linux/arm/v7"},
                {"linux/armel", "linux/arm/v6"},
                {"linux/i386", "linux/386"},
                {"linux/ppc64le", "linux/ppc64le"},
                {"linux/s390x", "linux/s390x"},
                {"windows/amd64", "windows/amd64"},
                {"macos/arm64", "darwin/arm64"},
                {"arm64", "linux/arm64"},
                {"s390x", "linux/s390x"},
                {"linux", "linux/amd64"}, /* this machine's arch; the tests run on amd64 */
                {"linux/", "invalid platform 'linux/': bad part ''"},
                {"/amd64", "invalid platform '/amd64': bad part ''"},
                {"linux/amd64/v2/x", "invalid platform 'linux/amd64/v2/x': expected "
                                     "os/arch[/variant]"},
                {"linux/am d64", "invalid platform 'linux/am d64': bad part 'am d64'"},
                {"", "invalid platform '': bad part ''"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(parses); i++) {
                char *got = parsed(parses[i].in);
#if !defined(__x86_64__)
                if (streq(parses[i].in, "linux")) {
                        free(got);
                        continue;
                }
#endif
                is_str(got, parses[i].want, "parse '%s'", parses[i].in);
                free(got);
        }

        static const struct {
                const char *want, *have;
                int rank;
        } ranks[] = {
                {"linux/amd64", "linux/amd64", 0},         {"linux/amd64", "linux/x86_64", 0},
                {"linux/amd64", "linux/amd64/v1", 0},      {"linux/amd64", "linux/386", 1},
                {"linux/amd64", "linux/arm64", -1},        {"linux/amd64", "linux/amd64/v2", -1},
                {"linux/amd64", "windows/amd64", -1},      {"linux/amd64/v3", "linux/amd64/v3", 0},
                {"linux/amd64/v3", "linux/amd64/v2", 1},   {"linux/amd64/v3", "linux/amd64", 2},
                {"linux/amd64/v3", "linux/386", 3},        {"linux/arm64", "linux/arm64", 0},
                {"linux/arm64", "linux/arm64/v8", 0},      {"linux/arm64/v8", "linux/arm64", 0},
                {"linux/arm64/v8", "linux/aarch64/v8", 0}, {"linux/arm64", "linux/arm/v8", 1},
                {"linux/arm64", "linux/arm/v7", 2},        {"linux/arm64", "linux/arm", 2},
                {"linux/arm64", "linux/arm/v6", 3},        {"linux/arm64", "linux/arm/v5", 4},
                {"linux/arm64", "linux/arm64/v9", -1},     {"linux/arm64", "linux/amd64", -1},
                {"linux/arm/v7", "linux/arm/v7", 0},       {"linux/arm/v7", "linux/arm", 0},
                {"linux/arm/v7", "linux/arm/v6", 1},       {"linux/arm/v7", "linux/arm/v5", 2},
                {"linux/arm/v7", "linux/arm/v8", -1},      {"linux/arm/v6", "linux/arm/v7", -1},
                {"linux/arm/v5", "linux/arm/v5", 0},       {"linux/386", "linux/amd64", -1},
                {"linux/s390x", "linux/s390x", 0},         {"linux/ppc64le", "linux/ppc64le", 0},
                {"linux/amd64", "unknown/unknown", -1},    {"LINUX/AMD64", "Linux/AMD64", 0},
        };
        for (size_t i = 0; i < ARRAY_SIZE(ranks); i++)
                is_int(rank(ranks[i].want, ranks[i].have), ranks[i].rank, "rank of %s for %s",
                       ranks[i].have, ranks[i].want);

        struct platform d;
        platform_default(&d);
        char *s = platform_string(&d);
#if defined(__x86_64__)
        is_str(s, "linux/amd64", "default platform on x86-64");
#elif defined(__aarch64__)
        is_str(s, "linux/arm64", "default platform on arm64");
#else
        ok(strncmp(s, "linux/", 6) == 0, "default platform is linux");
#endif
        free(s);
        struct platform c = {0};
        platform_copy(&c, &d);
        ok(streq(c.os, d.os) && streq(c.arch, d.arch) && c.os != d.os, "copy is deep");
        platform_done(&c);
        platform_done(&d);
        return tap_done();
}
