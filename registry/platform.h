/* SPDX-License-Identifier: Apache-2.0 */
/* Platforms (os/architecture/variant) and how an image index entry is chosen for one, as
 * containerd's platforms package does: names are normalised (x86_64 → amd64, aarch64 → arm64,
 * arm64 variant v8 → none, arm variant 7 → v7, ...), and a platform also accepts the ones it
 * can run, best first (amd64 then 386; arm64 then arm v8..v5; arm v7 then v6, v5). */
#pragma once

#include <stdbool.h>
#include "common/macros.h"

struct lerr;

#define PLATFORM_PART_MAX 64

struct platform {
        char *os;         /* "linux" */
        char *arch;       /* "amd64" */
        char *variant;    /* NULL when none */
        char *os_version; /* NULL when none (Windows images carry one) */
};

/* Parses "os/arch[/variant]", or a lone "arch" (os linux) or known os name (this machine's
 * arch), and normalises it. -EINVAL with a message naming the bad part. */
int platform_parse(const char *s, struct platform *ret, struct lerr **err);
/* The platform this program runs on (containerd's DefaultSpec), normalised. */
void platform_default(struct platform *ret);
/* Normalises in place (lower case, aliases, default variants). */
void platform_normalize(struct platform *p);
void platform_copy(struct platform *dst, const struct platform *src);
/* "linux/arm64/v8"-style, variant omitted when empty. Caller frees. */
char *platform_string(const struct platform *p);
void platform_done(struct platform *p);

/* How well have fits want: 0 is an exact match, higher is a worse but usable fallback, -1
 * means have cannot run where want is asked for. Both are normalised first (copies). */
int platform_match_rank(const struct platform *want, const struct platform *have);
