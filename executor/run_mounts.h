/* SPDX-License-Identifier: Apache-2.0 */
/* RUN --mount without mount(2), so that it works in an unprivileged pod: each mount is placed
 * at its target before the step (files copied, a cache directory moved in, a secret written,
 * an empty tmpfs directory) and removed after it, restoring what the target held and the
 * parent directories' times, so that nothing of it reaches the layer. Writes to a bind mount
 * are discarded, as with BuildKit's default read-only binds; a cache directory keeps what the
 * step wrote for the next RUN of the build. */
#pragma once

#include <stddef.h>

struct lerr;
struct stage_ctx;
struct df_run;
struct process_hook;

struct run_mounts;

/* Builds the hooks for run's mounts. *ret_env gets "NAME=value" entries for secrets exposed
 * as environment variables (never logged). */
int run_mounts_new(struct stage_ctx *s, const struct df_run *run, struct run_mounts **ret,
                   struct lerr **err);
const struct process_hook *run_mounts_hooks(const struct run_mounts *m, size_t *ret_n);
char *const *run_mounts_env(const struct run_mounts *m);
void run_mounts_free(struct run_mounts *m);
