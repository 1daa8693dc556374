/* SPDX-License-Identifier: Apache-2.0 */
/* The build action of main: sandbox mode (--sandbox DIR, host paths made visible inside and
 * the options rewritten to them) or the container check on "/", PID 1 duties, then the
 * build. */
#pragma once

struct lerr;
struct options;

/* Returns the exit status for main: 0, a build error's status (err set), or the sandbox's
 * status seen from outside. */
int run_build(struct options *o, struct lerr **err);
