/* SPDX-License-Identifier: Apache-2.0 */
/* Runs credential helpers. The child gets an unblocked signal mask and default handlers
 * (the executor, as PID 1, blocks everything), stdin through a socketpair so that writing to a
 * helper that exited early gives EPIPE rather than SIGPIPE, and a deadline. Its output holds a
 * secret, so buffers are wiped before they are freed. */
#include "registry/credhelper.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/json.h"
#include "registry/creds.h"

extern char **environ;

static void wipe_buf(struct buf *b)
{
        if (b->data)
                explicit_bzero(b->data, b->alloc);
        buf_done(b);
}

static bool valid_name(const char *name)
{
        size_t n = strlen(name);
        if (n == 0 || n > 128)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = name[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.'))
                        return false;
        }
        return true;
}

static long long now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The helper's path from PATH, as Go's exec.LookPath finds it (relative PATH entries are
 * skipped, as Go 1.19 does); NULL if not found. Looking it up here rather than in
 * posix_spawnp() gives a clear "not found" on every libc and under valgrind. */
static char *find_in_path(const char *prog)
{
        const char *path = getenv("PATH");
        if (!path || !path[0])
                path = "/usr/local/bin:/usr/bin:/bin";
        for (const char *p = path; *p;) {
                size_t n = strcspn(p, ":");
                if (n > 0 && p[0] == '/') {
                        char *full = xasprintf("%.*s/%s", (int) n, p, prog);
                        struct stat st;
                        if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && access(full, X_OK) == 0)
                                return full;
                        free(full);
                }
                p += n;
                if (*p == ':')
                        p++;
        }
        return NULL;
}

static int spawn(const char *path, const char *prog, int in_fd, int out_fd, int err_fd,
                 pid_t *ret_pid)
{
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t none, all;
        char *argv[] = {(char *) prog, (char *) "get", NULL};
        int r;

        sigemptyset(&none);
        sigfillset(&all);
        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_init(&attr);
        posix_spawn_file_actions_adddup2(&fa, in_fd, STDIN_FILENO);
        posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&fa, err_fd, STDERR_FILENO);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &all);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        r = posix_spawn(ret_pid, path, &fa, &attr, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        return -r;
}

/* Reads both pipes to EOF or the deadline. -ETIMEDOUT, -E2BIG (too much output), or 0. */
static int collect(int out_fd, int err_fd, struct buf *out, struct buf *errout)
{
        long long deadline = now_ms() + CREDS_HELPER_TIMEOUT_S * 1000LL;
        struct pollfd p[2] = {{.fd = out_fd, .events = POLLIN}, {.fd = err_fd, .events = POLLIN}};
        char chunk[4096];

        while (p[0].fd >= 0 || p[1].fd >= 0) {
                long long left = deadline - now_ms();
                if (left <= 0)
                        return -ETIMEDOUT;
                int n = poll(p, 2, (int) MIN(left, 1000LL));
                if (n < 0 && errno != EINTR)
                        return -errno;
                for (int i = 0; n > 0 && i < 2; i++) {
                        if (p[i].fd < 0 || !p[i].revents)
                                continue;
                        ssize_t k = read(p[i].fd, chunk, sizeof(chunk));
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k <= 0) {
                                p[i].fd = -1;
                                continue;
                        }
                        if (i == 0 && buf_append(out, chunk, (size_t) k) < 0) {
                                explicit_bzero(chunk, sizeof(chunk));
                                return -E2BIG;
                        }
                        /* stderr is only for the error message: its start is enough */
                        if (i == 1)
                                (void) !buf_append(errout, chunk,
                                                   MIN((size_t) k, errout->max - errout->len));
                }
        }
        explicit_bzero(chunk, sizeof(chunk));
        return 0;
}

/* The first line of s, printable characters only, at most 200 bytes. */
static char *first_line(const char *s)
{
        struct buf b = BUF_INIT(256);
        while (*s == '\n' || *s == ' ')
                s++;
        for (size_t i = 0; s[i] && s[i] != '\n' && i < 200; i++)
                (void) !buf_append_char(&b, (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?');
        return buf_steal(&b);
}

static int parse_output(const struct buf *out, const char *prog, struct creds *ret,
                        struct lerr **err)
{
        _cleanup_(cJSON_Deletep) cJSON *j = NULL;
        const char *user = NULL, *secret = NULL;

        if (json_parse(buf_str(out), out->len, CREDS_HELPER_OUTPUT_MAX, "helper output", &j, NULL) <
                    0 ||
            !cJSON_IsObject(j) || json_get_string(j, "Username", &user, NULL) < 0 ||
            json_get_string(j, "Secret", &secret, NULL) < 0)
                return lerr_set(err, EBADMSG, "%s get: output is not the expected JSON object",
                                prog);
        if (!secret || !secret[0]) {
                if (j->child && j->child->valuestring)
                        explicit_bzero(j->child->valuestring, strlen(j->child->valuestring));
                return 0;
        }
        if (user && streq(user, "<token>")) {
                ret->identity_token = xstrdup(secret);
        } else {
                ret->username = xstrdup(strempty(user));
                ret->password = xstrdup(secret);
        }
        for (cJSON *c = j->child; c; c = c->next)
                if (cJSON_IsString(c))
                        explicit_bzero(c->valuestring, strlen(c->valuestring));
        return 1;
}

/* Starts the helper with its stdin, stdout and stderr connected to us; writes server to its
 * stdin. Fills ret_pid, ret_out and ret_err (the read ends). */
static int start(const char *path, const char *prog, const char *server, pid_t *ret_pid,
                 int *ret_out, int *ret_err, struct lerr **err)
{
        _cleanup_close_ int in_parent = -1, in_child = -1, out_r = -1, out_w = -1, err_r = -1,
                            err_w = -1;
        int sv[2], po[2], pe[2], r;

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return lerr_errno(err, errno, "run %s: socketpair", prog);
        in_parent = sv[0];
        in_child = sv[1];
        if (pipe2(po, O_CLOEXEC) < 0)
                return lerr_errno(err, errno, "run %s: pipe", prog);
        out_r = po[0];
        out_w = po[1];
        if (pipe2(pe, O_CLOEXEC) < 0)
                return lerr_errno(err, errno, "run %s: pipe", prog);
        err_r = pe[0];
        err_w = pe[1];
        r = spawn(path, prog, in_child, out_w, err_w, ret_pid);
        if (r < 0)
                return lerr_errno(err, -r, "run %s", prog);
        /* a helper may exit without reading: its exit status tells, not this write */
        (void) send(in_parent, server, strlen(server), MSG_NOSIGNAL);
        *ret_out = TAKE_FD(out_r);
        *ret_err = TAKE_FD(err_r);
        return 0;
}

static int wait_helper(pid_t pid, bool had_output)
{
        int status = 0;
        while (waitpid(pid, &status, 0) < 0) {
                if (errno == EINTR)
                        continue;
                /* someone else reaped it (a PID 1 reaper): judge by the output alone */
                return had_output ? 0 : 1 << 8;
        }
        return status;
}

/* What a helper's exit status and output mean: 1 credentials, 0 none, or an error. */
static int judge(const char *prog, int status, const struct buf *out, const struct buf *errout,
                 struct creds *ret, struct lerr **err)
{
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return parse_output(out, prog, ret, err);
        /* docker-credential-helpers' ErrCredentialsNotFound message */
        if (strstr(buf_str(out), "credentials not found") ||
            strstr(buf_str(errout), "credentials not found"))
                return 0;
        if (WIFSIGNALED(status))
                return lerr_set(err, EIO, "%s get: killed by signal %d", prog, WTERMSIG(status));
        _cleanup_free_ char *line = first_line(errout->len ? buf_str(errout) : buf_str(out));
        return lerr_set(err, EIO, "%s get: exit status %d%s%s", prog, WEXITSTATUS(status),
                        line[0] ? ": " : "", line);
}

int credhelper_get(const char *name, const char *server, struct creds *ret, struct lerr **err)
{
        _cleanup_free_ char *prog = NULL, *path = NULL;
        _cleanup_close_ int out_fd = -1, err_fd = -1;
        struct buf out = BUF_INIT(CREDS_HELPER_OUTPUT_MAX), errout = BUF_INIT(4096);
        pid_t pid;
        int r;

        if (!valid_name(name))
                return lerr_set(err, EINVAL, "invalid credential helper name '%.80s'", name);
        prog = xasprintf("docker-credential-%s", name);
        path = find_in_path(prog);
        if (!path)
                return lerr_set(err, ENOENT, "credential helper %s not found on PATH", prog);
        r = start(path, prog, server, &pid, &out_fd, &err_fd, err);
        if (r < 0)
                return r;
        r = collect(out_fd, err_fd, &out, &errout);
        if (r < 0)
                (void) kill(pid, SIGKILL);
        int status = wait_helper(pid, out.len > 0);
        if (r == -ETIMEDOUT)
                r = lerr_set(err, ETIMEDOUT, "%s get: no answer within %d s", prog,
                             CREDS_HELPER_TIMEOUT_S);
        else if (r < 0)
                r = lerr_errno(err, -r, "%s get: read output", prog);
        else
                r = judge(prog, status, &out, &errout, ret, err);
        wipe_buf(&out);
        buf_done(&errout);
        return r;
}
