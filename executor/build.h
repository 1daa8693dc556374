/* SPDX-License-Identifier: Apache-2.0 */
/* The build, end to end: the context and the Dockerfile, the plan, every needed stage (base
 * image, instructions, snapshots into layers), then the outputs (push, tarball, OCI layout,
 * digest files) and a summary. Runs on the root filesystem "/" (in a pod, or inside the
 * sandbox): the caller has decided that this is allowed. */
#pragma once

struct lerr;
struct options;

/* Returns 0, or -errno with err set (its exit status is the executor's: a failing RUN's). */
int build_run(const struct options *o, struct lerr **err);
