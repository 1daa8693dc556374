/* SPDX-License-Identifier: Apache-2.0 */
/* Platform parsing, normalisation and matching, following containerd's platforms package
 * (Normalize, Only/platformVector). Knows nothing of manifests; manifest.c asks it to rank. */
#include "registry/platform.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"

static char *lower_dup(const char *s)
{
        char *d = xstrdup(s);
        for (char *p = d; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char) (*p - 'A' + 'a');
        return d;
}

static void set(char **field, const char *value)
{
        free(*field);
        *field = value ? xstrdup(value) : NULL;
}

void platform_normalize(struct platform *p)
{
        char *os = lower_dup(strempty(p->os)), *arch = lower_dup(strempty(p->arch));
        char *variant = p->variant && p->variant[0] ? lower_dup(p->variant) : NULL;

        free(p->os);
        free(p->arch);
        free(p->variant);
        p->os = os;
        p->arch = arch;
        p->variant = variant;

        if (streq(p->os, "macos"))
                set(&p->os, "darwin");
        if (streq(p->arch, "i386")) {
                set(&p->arch, "386");
                set(&p->variant, NULL);
        } else if (streq(p->arch, "x86_64") || streq(p->arch, "x86-64") ||
                   streq(p->arch, "amd64")) {
                set(&p->arch, "amd64");
                if (streq_ptr(p->variant, "v1"))
                        set(&p->variant, NULL);
        } else if (streq(p->arch, "aarch64") || streq(p->arch, "arm64")) {
                set(&p->arch, "arm64");
                if (streq_ptr(p->variant, "8") || streq_ptr(p->variant, "v8") ||
                    streq_ptr(p->variant, "v8.0"))
                        set(&p->variant, NULL);
                else if (streq_ptr(p->variant, "9") || streq_ptr(p->variant, "9.0") ||
                         streq_ptr(p->variant, "v9.0"))
                        set(&p->variant, "v9");
        } else if (streq(p->arch, "armhf")) {
                set(&p->arch, "arm");
                set(&p->variant, "v7");
        } else if (streq(p->arch, "armel")) {
                set(&p->arch, "arm");
                set(&p->variant, "v6");
        } else if (streq(p->arch, "arm")) {
                if (!p->variant || streq(p->variant, "7"))
                        set(&p->variant, "v7");
                else if (streq(p->variant, "5") || streq(p->variant, "6") ||
                         streq(p->variant, "8")) {
                        char v[3] = {'v', p->variant[0], '\0'};
                        set(&p->variant, v);
                }
        }
}

static bool valid_part(const char *s, size_t n)
{
        if (n == 0 || n > PLATFORM_PART_MAX)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-' || c == '.'))
                        return false;
        }
        return true;
}

static const char *const known_os[] = {"aix",     "android", "darwin",  "dragonfly", "freebsd",
                                       "illumos", "ios",     "js",      "linux",     "netbsd",
                                       "openbsd", "plan9",   "solaris", "wasip1",    "windows"};

static const char *const known_arch[] = {
        "386",       "amd64",       "amd64p32", "arm",    "armbe",   "arm64",
        "arm64be",   "loong64",     "mips",     "mipsle", "mips64",  "mips64le",
        "mips64p32", "mips64p32le", "ppc",      "ppc64",  "ppc64le", "riscv",
        "riscv64",   "s390",        "s390x",    "sparc",  "sparc64", "wasm",
};

static bool in_list(const char *s, const char *const *l, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (strcasecmp(s, l[i]) == 0)
                        return true;
        return false;
}

static bool is_known_os(const char *s)
{
        for (size_t i = 0; i < ARRAY_SIZE(known_os); i++)
                if (strcasecmp(s, known_os[i]) == 0)
                        return true;
        return false;
}

int platform_parse(const char *s, struct platform *ret, struct lerr **err)
{
        struct platform p = {0};
        const char *parts[4];
        size_t lens[4], n = 0;
        const char *q = s;

        for (;;) {
                const char *slash = strchr(q, '/');
                size_t len = slash ? (size_t) (slash - q) : strlen(q);
                if (n == 3)
                        return lerr_set(err, EINVAL,
                                        "invalid platform '%.80s': expected os/arch[/variant]", s);
                if (!valid_part(q, len))
                        return lerr_set(err, EINVAL, "invalid platform '%.80s': bad part '%.*s'", s,
                                        (int) MIN(len, (size_t) 80), q);
                parts[n] = q;
                lens[n++] = len;
                if (!slash)
                        break;
                q = slash + 1;
        }
        if (n == 1) {
                _cleanup_free_ char *one = xstrndup(parts[0], lens[0]);
                struct platform def;
                platform_default(&def);
                if (is_known_os(one)) {
                        p.os = xstrdup(one);
                        p.arch = TAKE_PTR(def.arch);
                        p.variant = TAKE_PTR(def.variant);
                } else {
                        p.os = xstrdup("linux");
                        p.arch = xstrdup(one);
                }
                platform_done(&def);
        } else {
                p.os = xstrndup(parts[0], lens[0]);
                p.arch = xstrndup(parts[1], lens[1]);
                if (n == 3)
                        p.variant = xstrndup(parts[2], lens[2]);
        }
        platform_normalize(&p);
        /* a typo ("linux/amd46") would otherwise only show up as "no match" in an index */
        if (!is_known_os(p.os) || !in_list(p.arch, known_arch, ARRAY_SIZE(known_arch))) {
                platform_done(&p);
                return lerr_set(
                        err, EINVAL,
                        "invalid platform '%.80s': unknown operating system or architecture", s);
        }
        *ret = p;
        return 0;
}

void platform_default(struct platform *ret)
{
        const char *arch = "unknown", *variant = NULL;
#if defined(__x86_64__)
        arch = "amd64";
#elif defined(__aarch64__)
        arch = "arm64";
#elif defined(__arm__)
        arch = "arm";
#if defined(__ARM_ARCH) && __ARM_ARCH >= 7
        variant = "v7";
#elif defined(__ARM_ARCH) && __ARM_ARCH == 6
        variant = "v6";
#else
        variant = "v5";
#endif
#elif defined(__i386__)
        arch = "386";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        arch = "ppc64le";
#elif defined(__powerpc64__)
        arch = "ppc64";
#elif defined(__s390x__)
        arch = "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
        arch = "riscv64";
#elif defined(__loongarch64)
        arch = "loong64";
#elif defined(__mips64) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        arch = "mips64le";
#endif
        *ret = (struct platform){.os = xstrdup("linux"), .arch = xstrdup(arch)};
        ret->variant = variant ? xstrdup(variant) : NULL;
        platform_normalize(ret);
}

void platform_copy(struct platform *dst, const struct platform *src)
{
        dst->os = src->os ? xstrdup(src->os) : NULL;
        dst->arch = src->arch ? xstrdup(src->arch) : NULL;
        dst->variant = src->variant ? xstrdup(src->variant) : NULL;
        dst->os_version = src->os_version ? xstrdup(src->os_version) : NULL;
}

char *platform_string(const struct platform *p)
{
        return xasprintf("%s/%s%s%s", strempty(p->os), strempty(p->arch),
                         p->variant && p->variant[0] ? "/" : "", strempty(p->variant));
}

void platform_done(struct platform *p)
{
        free(p->os);
        free(p->arch);
        free(p->variant);
        free(p->os_version);
        *p = (struct platform){0};
}

/* "v7" → 7; -1 for anything else. */
static int variant_number(const char *v)
{
        if (!v || v[0] != 'v' || v[1] < '1' || v[1] > '9' || (v[2] && (v[2] < '0' || v[2] > '9')) ||
            (v[2] && v[3]))
                return -1;
        return v[2] ? (v[1] - '0') * 10 + (v[2] - '0') : v[1] - '0';
}

static bool same(const struct platform *a, const char *arch, int variant)
{
        int hv = a->variant ? variant_number(a->variant) : -1;
        if (!streq(a->arch, arch))
                return false;
        if (variant < 0)
                return !a->variant;
        /* amd64 v1 is normalised to no variant */
        if (streq(arch, "amd64") && variant == 1)
                return !a->variant;
        return hv == variant;
}

/* The position of have in want's compatibility vector (containerd's platformVector), or -1. */
static int vector_rank(const struct platform *want, const struct platform *have)
{
        int wv = want->variant ? variant_number(want->variant) : -1;
        int rank = 0;

        if (streq(want->arch, have->arch) && streq_ptr(want->variant, have->variant))
                return 0;
        if (streq(want->arch, "amd64")) {
                for (int v = wv - 1; wv > 1 && v >= 1; v--) {
                        rank++;
                        if (same(have, "amd64", v))
                                return rank;
                }
                return same(have, "386", -1) ? rank + 1 : -1;
        }
        if (streq(want->arch, "arm64")) {
                /* an arm64 CPU also runs 32-bit arm, v8 down to v5 */
                for (int v = wv > 8 ? wv : 8; v >= 5; v--) {
                        rank++;
                        if (same(have, "arm", v))
                                return rank;
                }
                return -1;
        }
        if (streq(want->arch, "arm") && wv > 5) {
                for (int v = wv - 1; v >= 5; v--) {
                        rank++;
                        if (same(have, "arm", v))
                                return rank;
                }
        }
        return -1;
}

int platform_match_rank(const struct platform *want, const struct platform *have)
{
        struct platform w = {0}, h = {0};
        int rank = -1;

        if (!want->os || !want->arch || !have->os || !have->arch)
                return -1;
        platform_copy(&w, want);
        platform_copy(&h, have);
        platform_normalize(&w);
        platform_normalize(&h);
        if (streq(w.os, h.os))
                rank = vector_rank(&w, &h);
        platform_done(&w);
        platform_done(&h);
        return rank;
}
