/* SPDX-License-Identifier: Apache-2.0 */
/* How many CPUs this process can really use: its affinity mask, capped by a cgroup CPU quota
 * (v2 cpu.max, v1 cpu.cfs_quota_us), as a pod's CPU limit sets it. For deciding whether a
 * helper thread can run in parallel or would only take turns with its caller. */
#pragma once

/* At least 1. Computed once per process (later quota changes are not seen). */
unsigned cpus_usable(void);

/* Parsers, exposed for tests. A quota is rounded up: 1.5 CPUs allow a second thread some time.
 * Return 0 (no limit), a CPU count >= 1, or -EINVAL. */
int cpus_parse_cpu_max(const char *s);                           /* "max 100000", "150000 100000" */
int cpus_parse_cfs(const char *quota_us, const char *period_us); /* "-1", "200000" + "100000" */
