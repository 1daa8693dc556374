/* SPDX-License-Identifier: Apache-2.0 */
/* --print-plan: parse the Dockerfile, apply the build args and --target, and print the plan
 * (stages, the stages needed, each instruction with its flags and expanded arguments) as JSON
 * to out, without building. Returns 0, or a negative errno with *err set. */
#pragma once

#include <stdio.h>

struct lerr;
struct options;

int plan_print(const struct options *o, FILE *out, struct lerr **err);
