/* SPDX-License-Identifier: Apache-2.0 */
/* ARG and ENV scoping of a build, as BuildKit does it, driven step by step by the build (and by
 * the planner, which drives it without base images).
 *
 * - The global scope holds the automatic platform ARGs (TARGETPLATFORM, TARGETOS, TARGETARCH,
 *   TARGETVARIANT, BUILDPLATFORM, BUILDOS, BUILDARCH, BUILDVARIANT; a --build-arg of the same
 *   name overrides them) and the ARGs before the first FROM. It is what FROM lines expand with;
 *   instructions inside a stage do not see it.
 * - A stage scope starts from the base image's ENV (or, when FROM names a stage, from that
 *   stage's final scope). "ARG X" without default then takes the --build-arg value, else the
 *   global value; "ARG X=d" takes the --build-arg value, else d expanded in the stage scope.
 *   ENV and ARG both define variables, the later definition winning (an ENV after an ARG
 *   overrides it, and so does an ARG after an inherited ENV), but only ENV (and the base
 *   image's) reach the image config.
 * - The predefined proxy ARGs (HTTP_PROXY, HTTPS_PROXY, FTP_PROXY, NO_PROXY, ALL_PROXY, in
 *   either case) given as --build-arg reach RUN's environment without an ARG, and are not
 *   persisted; declared with ARG they behave like any ARG.
 *
 * Limits: values come from the Dockerfile and the command line, both already bounded. */
#pragma once

#include <stdbool.h>
#include "common/macros.h"

struct lerr;
struct expand_env;
struct vars;

struct vars_params {
        char *const *build_args;     /* "KEY=VALUE" (later ones win); "KEY" alone is unset */
        const char *target_platform; /* normalized "os/arch[/variant]" */
        const char *build_platform;
};

/* The default PATH BuildKit gives a stage whose base image sets none (scratch). */
#define VARS_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* A new global scope with the platform ARGs. -EINVAL for a bad platform string. */
int vars_global_new(const struct vars_params *params, struct vars **ret, struct lerr **err);
/* An ARG before the first FROM: the --build-arg value, else default (raw, may be NULL)
 * expanded with the global scope so far (escape token escape). */
int vars_meta_arg(struct vars *global, const char *name, const char *default_raw, char escape,
                  struct lerr **err);

/* A new stage scope. parent: the final scope of the stage FROM names, or NULL for an image or
 * scratch, whose config Env ("KEY=VALUE") is image_env: NULL when not known (plan time),
 * else PATH is added when missing. The global scope is borrowed and must outlive it. */
struct vars *vars_stage_new(const struct vars *global, const struct vars *parent,
                            char *const *image_env);
struct vars *vars_copy(const struct vars *v);
void vars_free(struct vars *v);
DEFINE_FREEP(struct vars, vars_free)

/* "ARG name[=default]" inside a stage (see above). expand_flags: EXPAND_KEEP_UNSET at plan
 * time. *ret_value (if not NULL) is set to the value taken, borrowed, or NULL when the ARG
 * stays unset. */
int vars_arg(struct vars *stage, const char *name, const char *default_raw, char escape,
             unsigned expand_flags, const char **ret_value, struct lerr **err);
/* "ENV key=value" with both already expanded. */
void vars_env(struct vars *stage, const char *key, const char *value);

/* The variables for expanding an instruction at this point; valid while v lives and is not
 * changed. */
const struct expand_env *vars_expand_env(const struct vars *v);
/* A variable's value in this scope, or NULL. */
const char *vars_get(const struct vars *v, const char *name);
/* The environment of a RUN at this point ("KEY=VALUE", new vector): ENV, ARGs with a value,
 * base image ENV, then the proxy build args not set otherwise (both spellings). */
char **vars_run_env(const struct vars *v);
/* The image config's Env at this point: base image ENV then ENV instructions (new vector). */
char **vars_config_env(const struct vars *v);
/* Every ARG declared in the stage so far, "KEY=VALUE" with its current value (empty when
 * unset): BuildKit's RUN history prefix "|N K=V ...". New vector. */
char **vars_declared_args(const struct vars *v);
/* Whether name is one of the predefined proxy ARGs. */
bool vars_is_proxy_arg(const char *name);
/* Whether name is one of the automatic platform ARGs. */
bool vars_is_platform_arg(const char *name);
