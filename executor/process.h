/* SPDX-License-Identifier: Apache-2.0 */
/* Running a RUN step's process, as Docker/BuildKit run it: argv (shell form is the stage's
 * SHELL + the command, see process_shell_argv(); exec form is argv as written, argv[0] looked
 * up in the IMAGE's PATH), the step's whole environment, a working directory created when
 * missing, a user resolved in the image's own etc/passwd and etc/group, stdin from /dev/null,
 * stdout and stderr inherited (streamed live, unbuffered, exactly as the step writes them),
 * its own process group, and its exit status returned. Signals and reaping are pid1.h's.
 *
 * It does not parse Dockerfiles, expand variables or snapshot anything. RUN --mount is done
 * by the build through hooks (struct process_hook): files placed before the step and removed
 * after it, which works in an unprivileged pod where mount(2) does not. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct lerr;

/* Docker's default PATH, used to look up argv[0] (and given to the step) when the step's
 * environment has none. */
#define PROCESS_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Exit statuses of a step that could not start, as shells use them. */
#define PROCESS_STATUS_NOT_EXECUTABLE 126
#define PROCESS_STATUS_NOT_FOUND      127

/* Work around one step, e.g. one RUN --mount. prepare runs in the executor before the fork;
 * cleanup runs after the step whatever its outcome (also after a failed prepare of a later
 * hook), in reverse order, only for hooks whose prepare succeeded: a hook that places a secret
 * must make cleanup remove it, and a cleanup failure fails the step. child runs in the forked
 * child before it drops privileges (e.g. unshare(CLONE_NEWNS) and a real mount, where the
 * kernel allows it); it may only use async-signal-safe calls and returns 0 or -errno. Any of
 * the three may be NULL. */
struct process_hook {
        const char *what; /* for messages, e.g. "mount type=secret,id=npmrc" */
        int (*prepare)(void *userdata, int root_fd, struct lerr **err);
        int (*cleanup)(void *userdata, int root_fd, struct lerr **err);
        int (*child)(void *userdata);
        void *userdata;
};

struct process_spec {
        char *const *argv; /* required, argv[0] non-empty */
        char *const *env;  /* "KEY=VALUE"; HOME is added from passwd (or "/") when missing,
                            * PATH as PROCESS_DEFAULT_PATH when missing */
        const char *cwd;   /* absolute path in the root; NULL means "/" */
        const char *user;  /* "user[:group]" (see users_resolve()); NULL or "" is root */
        int root_fd;       /* the build root: "/" in a pod and in the sandbox */
        bool chroot;       /* chroot into root_fd before exec (root_fd is not "/") */
        int stdout_fd;     /* -1: inherit the executor's */
        int stderr_fd;     /* -1: inherit the executor's */
        const struct process_hook *hooks;
        size_t n_hooks;
};

#define PROCESS_SPEC_INIT                                                                          \
        {                                                                                          \
                .root_fd = -1, .stdout_fd = -1, .stderr_fd = -1                                    \
        }

/* Runs the step and waits for it (and for what is left of its process group, which is then
 * killed, as Kaniko does). Returns its exit status, >= 0 (128 + N when killed by signal N:
 * the caller turns a non-zero status into an error with process_status_error()). Returns
 * -errno with err set when it could not run: -ENOENT for a command not found (exit status
 * 127 attached to err), -EACCES/-ENOEXEC for a file that cannot be executed (126), -EINTR
 * when the executor received a fatal signal N and forwarded it to the step (128 + N attached:
 * the build must stop), other errors (user not found, privilege errors explained by
 * priv_error()) with exit status 1. */
int process_run(const struct process_spec *spec, struct lerr **err);

/* Sets err to "process \"<argv joined>\" did not complete successfully: exit code: N"
 * (BuildKit's words) with N as the executor's exit status. Returns -EIO. */
int process_status_error(struct lerr **err, char *const *argv, int status);

/* The argv of a shell-form command: shell (e.g. {"/bin/sh", "-c"}) + command. Caller frees
 * with strv_free. */
char **process_shell_argv(char *const *shell, const char *command);

/* Looks argv0 up as the step will run it: a name with a '/' is used as is, otherwise each
 * absolute directory of path (NULL: PROCESS_DEFAULT_PATH) is tried inside root_fd for a
 * regular file with an execute bit. *ret is the path to exec (caller frees). -ENOENT (none
 * found) or -EACCES (found, but not executable) with err naming the command and the PATH. */
int process_lookup(int root_fd, const char *argv0, const char *path, char **ret, struct lerr **err);

/* Creates the working directory dir (absolute in the root) and its missing parents inside
 * root_fd, as BuildKit does for WORKDIR and for a RUN step's cwd: mode 0755 and owned by
 * uid:gid (the stage's USER), for the directories it creates only. Symlinks on the way are
 * followed inside the root. Returns 1 if it created something, 0 if dir existed, -errno with
 * err set (-ENOTDIR when a component is not a directory). */
int process_make_workdir(int root_fd, const char *dir, uid_t uid, gid_t gid, struct lerr **err);
