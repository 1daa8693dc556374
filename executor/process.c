/* SPDX-License-Identifier: Apache-2.0 */
/* Runs one RUN step: everything is resolved before the fork (user, PATH lookup, environment,
 * working directory, hooks), and the child only calls async-signal-safe functions until it
 * execs, reporting a failure through a close-on-exec pipe. Waiting and signals: pid1.c. */
#include "executor/process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/priv.h"
#include "common/strv.h"
#include "executor/pid1.h"
#include "executor/users.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

enum child_stage {
        STAGE_STDIO = 1,
        STAGE_HOOK,
        STAGE_CHROOT,
        STAGE_SETGROUPS,
        STAGE_SETGID,
        STAGE_SETUID,
        STAGE_CHDIR,
        STAGE_EXEC,
};

struct child_report {
        int stage;
        int errnum;
        int hook;
};

/* Everything the child needs, prepared before the fork. */
struct child_ctx {
        const char *path;
        char *const *argv;
        char *const *envp;
        const char *cwd;
        uid_t uid;
        gid_t gid;
        const gid_t *groups;
        size_t n_groups;
        bool set_groups;
        int root_fd;
        bool chroot;
        int devnull, out_fd, err_fd, report_fd;
        const struct process_hook *hooks;
        size_t n_hooks;
};

NORETURN static void child_fail(const struct child_ctx *c, int stage, int errnum, int hook)
{
        struct child_report r = {.stage = stage, .errnum = errnum, .hook = hook};
        (void) !write(c->report_fd, &r, sizeof(r));
        _exit(PROCESS_STATUS_NOT_FOUND);
}

/* dup2() keeps FD_CLOEXEC when both fds are the same, so clear it by hand then. */
static int move_fd(int from, int to)
{
        if (from == to)
                return fcntl(to, F_SETFD, 0);
        return dup2(from, to) < 0 ? -1 : 0;
}

/* Raw syscalls: the child has one thread, and glibc's set*id wrappers would try to signal
 * the parent's other threads, which do not exist here. */
NORETURN static void child_run(const struct child_ctx *c)
{
        if (move_fd(c->devnull, STDIN_FILENO) < 0 ||
            (c->out_fd >= 0 && move_fd(c->out_fd, STDOUT_FILENO) < 0) ||
            (c->err_fd >= 0 && move_fd(c->err_fd, STDERR_FILENO) < 0))
                child_fail(c, STAGE_STDIO, errno, 0);
        for (size_t i = 0; i < c->n_hooks; i++) {
                if (!c->hooks[i].child)
                        continue;
                int r = c->hooks[i].child(c->hooks[i].userdata);
                if (r < 0)
                        child_fail(c, STAGE_HOOK, -r, (int) i);
        }
        if (c->chroot && (fchdir(c->root_fd) < 0 || chroot(".") < 0))
                child_fail(c, STAGE_CHROOT, errno, 0);
        if (c->set_groups && syscall(SYS_setgroups, c->n_groups, c->groups) < 0)
                child_fail(c, STAGE_SETGROUPS, errno, 0);
        if (syscall(SYS_setresgid, c->gid, c->gid, c->gid) < 0)
                child_fail(c, STAGE_SETGID, errno, 0);
        if (syscall(SYS_setresuid, c->uid, c->uid, c->uid) < 0)
                child_fail(c, STAGE_SETUID, errno, 0);
        if (chdir(c->cwd) < 0)
                child_fail(c, STAGE_CHDIR, errno, 0);
                /* Belt and braces: no executor fd (registry sockets, layer files) reaches the step
                 * even if some code forgot O_CLOEXEC. Older kernels lack it; that is fine. */
#ifdef SYS_close_range
        (void) syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
#endif
        execve(c->path, c->argv, c->envp);
        child_fail(c, STAGE_EXEC, errno, 0);
}

char **process_shell_argv(char *const *shell, const char *command)
{
        char **argv = strv_copy(shell);
        strv_push(&argv, command);
        return argv;
}

static const char *env_get(char *const *env, const char *key)
{
        size_t n = strlen(key);
        strv_foreach (e, env) {
                if (strncmp(e, key, n) == 0 && e[n] == '=')
                        return e + n + 1;
        }
        return NULL;
}

int process_lookup(int root_fd, const char *argv0, const char *path, char **ret, struct lerr **err)
{
        _cleanup_free_ char *dirs = xstrdup(path ? path : PROCESS_DEFAULT_PATH);
        _cleanup_free_ char *denied = NULL;

        if (!*argv0)
                return lerr_set(err, ENOENT, "empty command");
        if (strchr(argv0, '/')) {
                *ret = xstrdup(argv0);
                return 0;
        }
        for (char *d = dirs, *next; d; d = next) {
                next = strchr(d, ':');
                if (next)
                        *next++ = '\0';
                /* relative PATH entries (and "", the cwd) are skipped, as Go's LookPath
                 * refuses results relative to the working directory */
                if (d[0] != '/')
                        continue;
                _cleanup_free_ char *cand =
                        xasprintf("%s%s%s", d, d[strlen(d) - 1] == '/' ? "" : "/", argv0);
                _cleanup_close_ int fd = fs_open_in_root(root_fd, cand, O_PATH, 0);
                struct stat st;
                if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                        continue;
                if (st.st_mode & 0111) {
                        *ret = TAKE_PTR(cand);
                        return 0;
                }
                if (!denied)
                        denied = TAKE_PTR(cand);
        }
        if (denied)
                return lerr_set(err, EACCES, "'%s' found at '%s' is not executable", argv0, denied);
        return lerr_set(err, ENOENT, "'%s': executable file not found in PATH '%s'", argv0,
                        path ? path : PROCESS_DEFAULT_PATH);
}

int process_make_workdir(int root_fd, const char *dir, uid_t uid, gid_t gid, struct lerr **err)
{
        _cleanup_free_ char *path = NULL;
        bool created = false;
        int r = fs_normalize_path(dir, &path);
        if (r < 0)
                return lerr_errno(err, -r, "working directory '%s'", dir);

        for (char *p = path; *path; p++) {
                if (*p != '/' && *p != '\0')
                        continue;
                char saved = *p;
                *p = '\0';
                const char *name;
                _cleanup_close_ int parent = fs_open_parent_in_root(root_fd, path, &name);
                if (parent < 0) {
                        r = lerr_errno(err, -parent, "create working directory '/%s'", path);
                        *p = saved;
                        return r;
                }
                if (mkdirat(parent, name, 0755) == 0) {
                        created = true;
                        /* 0755 whatever the executor's umask, as BuildKit's MkdirAll does */
                        if (fchmodat(parent, name, 0755, 0) < 0)
                                return lerr_errno(err, errno, "set mode of '/%s'", path);
                        if (fchownat(parent, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                                return priv_error(err, errno, PRIV_OP_CHOWN,
                                                  "give working directory '/%s' to %u:%u", path,
                                                  (unsigned) uid, (unsigned) gid);
                } else if (errno != EEXIST) {
                        r = lerr_errno(err, errno, "create working directory '/%s'", path);
                        *p = saved;
                        return r;
                }
                *p = saved;
                if (saved == '\0')
                        break;
        }
        _cleanup_close_ int fd = fs_open_in_root(root_fd, path, O_PATH | O_DIRECTORY, 0);
        if (fd < 0)
                return lerr_errno(err, -fd, "working directory '/%s'", path);
        return created ? 1 : 0;
}

int process_status_error(struct lerr **err, char *const *argv, int status)
{
        _cleanup_free_ char *cmd = strv_join(argv, " ");
        int r = lerr_set(err, EIO, "process \"%s\" did not complete successfully: exit code: %d",
                         cmd, status);
        if (err)
                lerr_set_exit_status(*err, status);
        return r;
}

static int fail_with_status(struct lerr **err, int r, int status)
{
        if (err)
                lerr_set_exit_status(*err, status);
        return r;
}

/* The error for a child that reported a failure before or at exec. */
static int child_error(const struct child_ctx *c, const struct child_report *rep, const char *user,
                       struct lerr **err)
{
        int e = rep->errnum;
        const char *who = user && *user ? user : "root";

        switch ((enum child_stage) rep->stage) {
        case STAGE_STDIO:
                return lerr_errno(err, e, "set up stdin, stdout and stderr of the step");
        case STAGE_HOOK:
                return lerr_errno(err, e, "set up %s in the step",
                                  strempty(c->hooks[rep->hook].what));
        case STAGE_CHROOT:
                return priv_error(err, e, PRIV_OP_CHROOT, "change the step's root");
        case STAGE_SETGROUPS:
                return priv_error(err, e, PRIV_OP_SETGID,
                                  "set the supplementary groups of user '%s'", who);
        case STAGE_SETGID:
                return priv_error(err, e, PRIV_OP_SETGID, "switch to group %u of user '%s'",
                                  (unsigned) c->gid, who);
        case STAGE_SETUID:
                return priv_error(err, e, PRIV_OP_SETUID, "switch to user '%s' (uid %u)", who,
                                  (unsigned) c->uid);
        case STAGE_CHDIR:
                return lerr_errno(err, e, "change to working directory '%s' as user '%s'", c->cwd,
                                  who);
        case STAGE_EXEC:
                break;
        }
        if (e == ENOENT) {
                /* the file is there (we looked it up) but the kernel says ENOENT: what is
                 * missing is its #! interpreter or its ELF loader */
                _cleanup_close_ int fd = fs_open_in_root(c->root_fd, c->path, O_PATH, 0);
                if (fd >= 0)
                        return fail_with_status(
                                err,
                                lerr_set(err, ENOENT,
                                         "run '%s': its interpreter or dynamic loader is "
                                         "missing from the image",
                                         c->path),
                                PROCESS_STATUS_NOT_FOUND);
                return fail_with_status(err, lerr_errno(err, e, "run '%s'", c->path),
                                        PROCESS_STATUS_NOT_FOUND);
        }
        if (e == EACCES)
                return fail_with_status(err,
                                        lerr_errno(err, e,
                                                   "run '%s' as user '%s': not executable "
                                                   "by that user, or on a noexec mount",
                                                   c->path, who),
                                        PROCESS_STATUS_NOT_EXECUTABLE);
        if (e == ENOEXEC)
                return fail_with_status(err,
                                        lerr_errno(err, e,
                                                   "run '%s': not a program for this machine "
                                                   "(another architecture, or a script "
                                                   "without #!)",
                                                   c->path),
                                        PROCESS_STATUS_NOT_EXECUTABLE);
        return fail_with_status(err, lerr_errno(err, e, "run '%s'", c->path),
                                PROCESS_STATUS_NOT_EXECUTABLE);
}

/* The step's environment: the given one, plus HOME and PATH when missing (runc sets HOME from
 * passwd, BuildKit gives a default PATH). */
static char **make_env(char *const *env, const char *home)
{
        char **out = strv_copy(env);
        if (!env_get(env, "HOME"))
                strv_consume(&out, xasprintf("HOME=%s", home));
        if (!env_get(env, "PATH"))
                strv_push(&out, "PATH=" PROCESS_DEFAULT_PATH);
        return out;
}

/* setgroups(2) is denied in a user namespace whose gid map was written without privilege
 * (a rootless sandbox without /etc/subgid): skip it there when no groups are wanted. */
static bool setgroups_denied(void)
{
        char buf[16] = {0};
        _cleanup_close_ int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
        if (fd < 0 || read(fd, buf, sizeof(buf) - 1) <= 0)
                return false;
        return strncmp(buf, "deny", 4) == 0;
}

/* Runs the cleanups of hooks [0, n) in reverse order. The first failure is returned (in
 * *err), later ones are logged: every cleanup runs whatever happened before. */
static int run_cleanups(const struct process_spec *spec, size_t n, struct lerr **err)
{
        int ret = 0;
        while (n-- > 0) {
                const struct process_hook *h = &spec->hooks[n];
                struct lerr *e = NULL;
                if (!h->cleanup)
                        continue;
                int r = h->cleanup(h->userdata, spec->root_fd, &e);
                if (r < 0 && ret == 0) {
                        ret = lerr_wrap(&e, "clean up %s after the step", strempty(h->what));
                        if (err) {
                                lerr_free(*err);
                                *err = TAKE_PTR(e);
                        }
                } else if (r < 0) {
                        log_warn("clean up %s after the step: %s", strempty(h->what),
                                 lerr_message(e));
                }
                lerr_free(e);
        }
        return ret;
}

/* Reads the child's failure report: 1 if it failed before exec, 0 if it exec'd (EOF). */
static int read_report(int fd, struct child_report *rep)
{
        size_t got = 0;
        while (got < sizeof(*rep)) {
                ssize_t n = read(fd, (char *) rep + got, sizeof(*rep) - got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                got += (size_t) n;
        }
        return got == sizeof(*rep) ? 1 : 0;
}

struct prepared {
        struct users_ids ids;
        char **env;
        char *path;
        int devnull;
        int report[2];
};

static void prepared_done(struct prepared *p)
{
        users_ids_done(&p->ids);
        strv_free(p->env);
        free(p->path);
        for (int i = 0; i < 2; i++)
                closep(&p->report[i]);
        closep(&p->devnull);
}

/* Everything that can be resolved before the fork. */
static int prepare(const struct process_spec *spec, struct prepared *p, struct lerr **err)
{
        int r;

        if (!spec->argv || !spec->argv[0] || !*spec->argv[0])
                return lerr_set(err, EINVAL, "empty command");
        if (spec->root_fd < 0)
                return lerr_set(err, EBADF, "no build root given");
        r = users_resolve(spec->root_fd, spec->user, &p->ids, err);
        if (r < 0)
                return r;
        p->env = make_env(spec->env, p->ids.home);
        /* the image's PATH finds argv[0], as Kaniko swaps it in for exec.LookPath */
        r = process_lookup(spec->root_fd, spec->argv[0], env_get(p->env, "PATH"), &p->path, err);
        if (r < 0)
                return fail_with_status(err, r,
                                        r == -EACCES ? PROCESS_STATUS_NOT_EXECUTABLE
                                                     : PROCESS_STATUS_NOT_FOUND);
        r = process_make_workdir(spec->root_fd, spec->cwd ? spec->cwd : "/", p->ids.uid, p->ids.gid,
                                 err);
        if (r < 0)
                return r;
        if (p->ids.n_groups > 0 && setgroups_denied())
                return priv_error(err, EPERM, PRIV_OP_SETGID,
                                  "set the %zu supplementary groups of user '%s'", p->ids.n_groups,
                                  strempty(p->ids.name));
        p->devnull = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (p->devnull < 0)
                return lerr_errno(err, errno, "open /dev/null for the step's stdin");
        if (pipe2(p->report, O_CLOEXEC) < 0)
                return lerr_errno(err, errno, "create a pipe");
        return 0;
}

/* Forks the step and waits for it; returns what process_run() returns, before cleanups. */
static int fork_and_wait(const struct process_spec *spec, struct prepared *p, struct lerr **err)
{
        struct child_report rep;
        int wstatus;
        struct child_ctx c = {
                .path = p->path,
                .argv = spec->argv,
                .envp = p->env,
                .cwd = spec->cwd ? spec->cwd : "/",
                .uid = p->ids.uid,
                .gid = p->ids.gid,
                .groups = p->ids.groups,
                .n_groups = p->ids.n_groups,
                .set_groups = p->ids.n_groups > 0 || !setgroups_denied(),
                .root_fd = spec->root_fd,
                .chroot = spec->chroot,
                .devnull = p->devnull,
                .out_fd = spec->stdout_fd,
                .err_fd = spec->stderr_fd,
                .report_fd = p->report[1],
                .hooks = spec->hooks,
                .n_hooks = spec->n_hooks,
        };
        pid_t pid = pid1_fork_step();
        if (pid == 0)
                child_run(&c);
        if (pid < 0)
                return lerr_errno(err, (int) -pid, "start '%s'", spec->argv[0]);
        closep(&p->report[1]);
        p->report[1] = -1;
        bool failed = read_report(p->report[0], &rep) > 0;
        int sig = pid1_wait_step(pid, &wstatus);
        if (sig < 0)
                return lerr_errno(err, -sig, "wait for '%s'", spec->argv[0]);
        if (failed)
                return child_error(&c, &rep, spec->user, err);
        if (sig > 0)
                return fail_with_status(err,
                                        lerr_set(err, EINTR,
                                                 "interrupted by %s, which was forwarded to "
                                                 "'%s'",
                                                 pid1_signal_name(sig), spec->argv[0]),
                                        128 + sig);
        return pid1_exit_status(wstatus);
}

int process_run(const struct process_spec *spec, struct lerr **err)
{
        _cleanup_(prepared_done) struct prepared p = {.devnull = -1, .report = {-1, -1}};
        size_t n_prepared = 0;
        int r;

        r = prepare(spec, &p, err);
        for (; r >= 0 && n_prepared < spec->n_hooks; n_prepared++) {
                const struct process_hook *h = &spec->hooks[n_prepared];
                if (h->prepare && (r = h->prepare(h->userdata, spec->root_fd, err)) < 0)
                        r = lerr_wrap(err, "prepare %s", strempty(h->what));
        }
        if (r < 0) {
                (void) run_cleanups(spec, n_prepared, NULL);
                return r;
        }
        r = fork_and_wait(spec, &p, err);

        /* a cleanup failure (a secret left in the root) fails a step that succeeded */
        struct lerr *cleanup_err = NULL;
        int cr = run_cleanups(spec, n_prepared, &cleanup_err);
        if (cr < 0 && r >= 0) {
                if (err) {
                        lerr_free(*err);
                        *err = TAKE_PTR(cleanup_err);
                }
                r = cr;
        } else if (cr < 0) {
                log_warn("%s", lerr_message(cleanup_err));
        }
        lerr_free(cleanup_err);
        return r;
}
