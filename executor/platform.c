/* SPDX-License-Identifier: Apache-2.0 */
/* Platform specifier parsing and normalization (containerd's platforms package rules), and the
 * running platform. No registry logic (manifest-list matching is registry/'s job). */
#include "executor/platform.h"

#include <errno.h>
#include <string.h>
#include <sys/utsname.h>

#include "common/alloc.h"
#include "common/err.h"
#include "executor/dftext.h"

static const char *const known_os[] = {
        "aix",     "android", "darwin",  "dragonfly", "freebsd", "hurd",
        "illumos", "ios",     "js",      "linux",     "nacl",    "netbsd",
        "openbsd", "plan9",   "solaris", "wasip1",    "windows", "zos",
};

static const char *const known_arch[] = {
        "386",       "amd64",       "amd64p32", "arm",    "armbe",   "arm64",
        "arm64be",   "loong64",     "mips",     "mipsle", "mips64",  "mips64le",
        "mips64p32", "mips64p32le", "ppc",      "ppc64",  "ppc64le", "riscv",
        "riscv64",   "s390",        "s390x",    "sparc",  "sparc64", "wasm",
};

static bool in_list(const char *s, const char *const *l, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (streq(s, l[i]))
                        return true;
        return false;
}

static bool valid_component(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
                      *s == '-' || *s == '.'))
                        return false;
        return true;
}

static void set(char **dst, const char *v)
{
        free(*dst);
        *dst = xstrdup(v);
}

/* containerd's normalizeArch */
static void normalize(struct platform *p)
{
        const char *a = p->arch, *v = p->variant;

        if (streq(p->os, "macos"))
                set(&p->os, "darwin");
        if (streq(a, "i386")) {
                set(&p->arch, "386");
                set(&p->variant, "");
        } else if (streq(a, "x86_64") || streq(a, "x86-64") || streq(a, "amd64")) {
                set(&p->arch, "amd64");
                if (streq(v, "v1"))
                        set(&p->variant, "");
        } else if (streq(a, "aarch64") || streq(a, "arm64")) {
                set(&p->arch, "arm64");
                if (streq(v, "8") || streq(v, "v8") || streq(v, "v8.0"))
                        set(&p->variant, "");
        } else if (streq(a, "armhf")) {
                set(&p->arch, "arm");
                set(&p->variant, "v7");
        } else if (streq(a, "armel")) {
                set(&p->arch, "arm");
                set(&p->variant, "v6");
        } else if (streq(a, "arm")) {
                if (streq(v, "") || streq(v, "7"))
                        set(&p->variant, "v7");
                else if (streq(v, "5") || streq(v, "6") || streq(v, "8")) {
                        char b[3] = {'v', v[0], 0};
                        set(&p->variant, b);
                }
        }
}

void platform_done(struct platform *p)
{
        free(p->os);
        free(p->arch);
        free(p->variant);
        memset(p, 0, sizeof(*p));
}

static const char *host_arch(const char *machine, const char **variant)
{
        static const struct {
                const char *machine, *arch, *variant;
        } map[] = {
                {"x86_64", "amd64", ""},
                {"aarch64", "arm64", ""},
                {"arm64", "arm64", ""},
                {"armv7l", "arm", "v7"},
                {"armv6l", "arm", "v6"},
                {"armv5tel", "arm", "v5"},
                {"i686", "386", ""},
                {"i386", "386", ""},
                {"ppc64le", "ppc64le", ""},
                {"s390x", "s390x", ""},
                {"riscv64", "riscv64", ""},
                {"mips64", "mips64", ""},
                {"loongarch64", "loong64", ""},
        };
        for (size_t i = 0; i < ARRAY_SIZE(map); i++)
                if (streq(machine, map[i].machine)) {
                        *variant = map[i].variant;
                        return map[i].arch;
                }
        *variant = "";
        return machine;
}

void platform_host(struct platform *ret)
{
        struct utsname u;
        const char *variant = "";
        const char *arch = uname(&u) == 0 ? host_arch(u.machine, &variant) : "amd64";

        *ret = (struct platform){
                .os = xstrdup("linux"),
                .arch = xstrdup(arch),
                .variant = xstrdup(variant),
        };
}

int platform_parse(const char *spec, struct platform *ret, struct lerr **err)
{
        _cleanup_free_ char *low = dftext_lower(xstrdup(spec));
        struct platform p = {0}, host;
        char *parts[4] = {0};
        size_t n = 0;

        for (char *s = low, *slash; n < 4; s = slash + 1) {
                slash = strchr(s, '/');
                parts[n++] = s;
                if (!slash)
                        break;
                *slash = '\0';
        }
        for (size_t i = 0; i < n; i++)
                if (!valid_component(parts[i]) || n > 3)
                        return lerr_set(err, EINVAL,
                                        "invalid platform '%s': expected os/arch[/variant]", spec);
        platform_host(&host);
        if (n == 1) {
                /* one component: an OS or an architecture, the other from the host */
                bool os = in_list(parts[0], known_os, ARRAY_SIZE(known_os)) ||
                          streq(parts[0], "macos");
                p.os = xstrdup(os ? parts[0] : host.os);
                p.arch = xstrdup(os ? host.arch : parts[0]);
                p.variant = xstrdup(os ? host.variant : "");
        } else {
                p.os = xstrdup(parts[0]);
                p.arch = xstrdup(parts[1]);
                p.variant = xstrdup(n == 3 ? parts[2] : "");
        }
        platform_done(&host);
        normalize(&p);
        if ((!in_list(p.os, known_os, ARRAY_SIZE(known_os))) ||
            !in_list(p.arch, known_arch, ARRAY_SIZE(known_arch))) {
                platform_done(&p);
                return lerr_set(err, EINVAL,
                                "invalid platform '%s': unknown operating system or architecture",
                                spec);
        }
        *ret = p;
        return 0;
}

char *platform_format(const struct platform *p)
{
        if (p->variant && *p->variant)
                return xasprintf("%s/%s/%s", p->os, p->arch, p->variant);
        return xasprintf("%s/%s", p->os, p->arch);
}
