/* SPDX-License-Identifier: Apache-2.0 */
/* Decides whether the executor may treat "/" as its build root. It reads only its own pid and
 * /proc/self/exe; it changes nothing. */
#include "executor/container_check.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/log.h"

int container_check_decide(pid_t pid, bool exe_is_kaniko, bool force, const char *kaniko_dir,
                           struct lerr **err)
{
        if (pid == 1 || exe_is_kaniko)
                return 0;
        if (force) {
                log_warn("--force: building on '/' of this machine although the executor is "
                         "neither PID 1 nor '%s/executor'",
                         kaniko_dir);
                return 0;
        }
        return lerr_set(err, EPERM,
                        "refusing to build on '/' of this machine: the executor is not PID 1 "
                        "and does not run as '%s/executor', so '/' may not be a throwaway "
                        "container (a build replaces the whole root filesystem); use --sandbox "
                        "DIR to build in a directory, or --force if '/' is a disposable "
                        "container",
                        kaniko_dir);
}

bool container_check_exe_is(const char *path)
{
        struct stat self, other;
        char exe[PATH_MAX];
        /* the link's text first: tools that run us under an interpreter (valgrind) make it
         * name our binary while the link itself leads to theirs */
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (n > 0) {
                exe[n] = '\0';
                if (stat(exe, &self) < 0 && stat("/proc/self/exe", &self) < 0)
                        return false;
        } else if (stat("/proc/self/exe", &self) < 0) {
                return false;
        }
        if (stat(path, &other) < 0)
                return false;
        return self.st_dev == other.st_dev && self.st_ino == other.st_ino;
}

int container_check(const char *kaniko_dir, bool force, struct lerr **err)
{
        _cleanup_free_ char *exe = xasprintf("%s/executor", kaniko_dir);
        return container_check_decide(getpid(), container_check_exe_is(exe), force, kaniko_dir,
                                      err);
}
