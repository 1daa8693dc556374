/* SPDX-License-Identifier: Apache-2.0 */
/* Platform strings as Docker and containerd read them ("linux/arm64", "linux/arm/v7",
 * "amd64"), normalized the way containerd's platforms.Parse does (x86_64 -> amd64, aarch64 ->
 * arm64 without variant v8, arm -> arm/v7 ...). Used for --platform, --custom-platform and the
 * automatic TARGET and BUILD ARGs. */
#pragma once

struct lerr;

struct platform {
        char *os;      /* "linux" */
        char *arch;    /* "amd64" */
        char *variant; /* "v7", or "" */
};

/* Parses and normalizes spec; a lone architecture takes the running OS ("linux"), a lone OS
 * the running architecture. -EINVAL with a message for anything else. */
int platform_parse(const char *spec, struct platform *ret, struct lerr **err);
/* The running platform (uname), normalized. */
void platform_host(struct platform *ret);
/* "os/arch" or "os/arch/variant"; a new string. */
char *platform_format(const struct platform *p);
void platform_done(struct platform *p);
