/* SPDX-License-Identifier: Apache-2.0 */
/* `executor --print-plan`: read the Dockerfile the options name, plan it with the options'
 * build arguments, --target and --custom-platform, and print the plan as JSON (plan_json.h),
 * without building anything. */
#pragma once

#include <stdio.h>

struct lerr;
struct options;

/* Reads o->dockerfile (tried as given, then relative to o->context, as Kaniko does; a context
 * given as "dir://path" is that local path; a URL Dockerfile is not supported yet: -ENOTSUP),
 * applies o->build_args (a bare KEY takes its value from the environment), o->target and
 * o->custom_platform (default: the running platform; the build platform is always the
 * running one), and writes the JSON to out. Errors: -ENOENT (no Dockerfile), -E2BIG (over
 * DOCKERFILE_MAX_BYTES), -EINVAL (parse or plan errors, with file:line), -EIO (write). */
int plan_print(const struct options *o, FILE *out, struct lerr **err);
