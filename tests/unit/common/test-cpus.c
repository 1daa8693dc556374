/* SPDX-License-Identifier: Apache-2.0 */
/* Usable CPUs: the quota parsers, and the answer within the affinity mask. */
#include "common/cpus.h"

#include <errno.h>
#include <sched.h>

#include "tap.h"

int main(void)
{
        is_int(cpus_parse_cpu_max("max 100000\n"), 0, "cpu.max without a limit");
        is_int(cpus_parse_cpu_max("200000 100000\n"), 2, "cpu.max of 2 CPUs");
        is_int(cpus_parse_cpu_max("150000 100000"), 2, "1.5 CPUs round up");
        is_int(cpus_parse_cpu_max("50000 100000"), 1, "half a CPU is one");
        is_int(cpus_parse_cpu_max("garbage"), -EINVAL, "malformed cpu.max");
        is_int(cpus_parse_cpu_max("1 0"), -EINVAL, "zero period");
        is_int(cpus_parse_cfs("-1\n", "100000\n"), 0, "cfs quota -1: no limit");
        is_int(cpus_parse_cfs("100000\n", "100000\n"), 1, "cfs quota of one CPU");
        is_int(cpus_parse_cfs("x", "100000"), -EINVAL, "malformed cfs quota");
        cpu_set_t set;
        sched_getaffinity(0, sizeof(set), &set);
        unsigned n = cpus_usable();
        ok(n >= 1 && n <= (unsigned) CPU_COUNT(&set), "usable CPUs %u within the affinity (%d)", n,
           CPU_COUNT(&set));
        is_int(cpus_usable(), n, "the same answer the second time");
        return tap_done();
}
