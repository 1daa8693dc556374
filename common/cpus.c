/* SPDX-License-Identifier: Apache-2.0 */
/* Usable CPUs: sched_getaffinity, capped by the cgroup CPU quota visible at the usual places
 * (a container sees its own cgroup at the root of /sys/fs/cgroup). Best effort: anything
 * unreadable means "no limit". */
#include "common/cpus.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/fs.h"
#include "common/macros.h"
#include "common/parse.h"

static int quota_cpus(uint64_t quota, uint64_t period)
{
        if (period == 0)
                return -EINVAL;
        uint64_t n = (quota + period - 1) / period;
        return n == 0 ? 1 : n > 4096 ? 4096 : (int) n;
}

int cpus_parse_cpu_max(const char *s)
{
        char q[32], p[32];
        uint64_t quota, period;
        if (sscanf(s, "%31s %31s", q, p) != 2)
                return -EINVAL;
        if (streq(q, "max"))
                return 0;
        if (parse_u64(q, &quota) < 0 || parse_u64(p, &period) < 0)
                return -EINVAL;
        return quota_cpus(quota, period);
}

int cpus_parse_cfs(const char *quota_us, const char *period_us)
{
        uint64_t quota, period;
        char q[32];
        if (sscanf(quota_us, "%31s", q) != 1)
                return -EINVAL;
        if (streq(q, "-1"))
                return 0;
        char p[32];
        if (sscanf(period_us, "%31s", p) != 1 || parse_u64(q, &quota) < 0 ||
            parse_u64(p, &period) < 0)
                return -EINVAL;
        return quota_cpus(quota, period);
}

static int read_small(const char *path, struct buf *b)
{
        buf_reset(b);
        return fs_read_file_at(AT_FDCWD, path, b);
}

static int cgroup_limit(void)
{
        struct buf a = BUF_INIT(256), b = BUF_INIT(256);
        int n = 0;
        if (read_small("/sys/fs/cgroup/cpu.max", &a) >= 0)
                n = cpus_parse_cpu_max(buf_str(&a));
        else if (read_small("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", &a) >= 0 &&
                 read_small("/sys/fs/cgroup/cpu/cpu.cfs_period_us", &b) >= 0)
                n = cpus_parse_cfs(buf_str(&a), buf_str(&b));
        buf_done(&a);
        buf_done(&b);
        return n < 0 ? 0 : n;
}

unsigned cpus_usable(void)
{
        static unsigned cached; /* 0: not computed yet; racing first calls compute the same */
        unsigned n = __atomic_load_n(&cached, __ATOMIC_RELAXED);
        if (n)
                return n;
        cpu_set_t set;
        n = sched_getaffinity(0, sizeof(set), &set) == 0 ? (unsigned) CPU_COUNT(&set) : 1;
        int limit = cgroup_limit();
        if (limit > 0 && (unsigned) limit < n)
                n = (unsigned) limit;
        if (n == 0)
                n = 1;
        __atomic_store_n(&cached, n, __ATOMIC_RELAXED);
        return n;
}
