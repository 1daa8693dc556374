/* SPDX-License-Identifier: Apache-2.0 */
/* The "may I work on /" decision, made before a build without --sandbox: the build wipes and
 * rewrites the root filesystem, so it must run only where "/" is a throwaway container.
 * Allowed when the executor is PID 1 (a pod or `docker run`), when it runs as
 * $KANIKO_DIR/executor (the release image, e.g. a GitLab CI job whose shell is PID 1), or
 * with --force. Markers such as /.dockerenv, cgroup names or the `container` variable are not
 * used: a developer machine may carry them and still be precious. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

struct lerr;

/* The decision on given facts; 0 when allowed, else -EPERM with a message that points to
 * --sandbox and --force. kaniko_dir is only used in the message. */
int container_check_decide(pid_t pid, bool exe_is_kaniko, bool force, const char *kaniko_dir,
                           struct lerr **err);

/* true when the running executable (/proc/self/exe) is the file at path (same device and
 * inode: symlinks and bind mounts of the same file count). false when either is missing. */
bool container_check_exe_is(const char *path);

/* Gathers the facts (getpid(), container_check_exe_is("<kaniko_dir>/executor")) and
 * decides. */
int container_check(const char *kaniko_dir, bool force, struct lerr **err);
