/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the snapshot unit tests: scratch directories (removed only when every
 * check passed), running tools, small file helpers. Tests only: it may exit on setup failure. */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/digest.h"
#include "common/fs.h"
#include "common/macros.h"
#include "tap.h"

static char *snaptest_scratch;

static inline void snaptest_die(const char *what)
{
        fprintf(stderr, "test setup: %s: %s\n", what, strerror(errno));
        exit(99);
}

/* Runs a shell command line; returns its exit status (or 128+signal). stdout goes to ours. */
__attribute__((format(printf, 1, 2))) static inline int run_sh(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *cmd = xvasprintf(fmt, ap);
        va_end(ap);
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0)
                snaptest_die("fork");
        if (pid == 0) {
                execl("/bin/sh", "sh", "-c", cmd, (char *) NULL);
                _exit(127);
        }
        int st = 0;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        free(cmd);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Runs a command and returns its stdout (caller frees). */
__attribute__((format(printf, 1, 2))) static inline char *run_out(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *cmd = xvasprintf(fmt, ap);
        va_end(ap);
        char out[] = "/tmp/lading-test-out-XXXXXX";
        int fd = mkstemp(out);
        if (fd < 0)
                snaptest_die("mkstemp");
        close(fd);
        int st = run_sh("{ %s\n} > '%s'", cmd, out);
        free(cmd);
        struct buf b = BUF_INIT(64u << 20);
        if (fs_read_file_at(AT_FDCWD, out, &b) < 0)
                snaptest_die("read command output");
        unlink(out);
        if (st != 0)
                printf("# command exited %d\n", st);
        return buf_steal(&b);
}

static inline bool have_tool(const char *name)
{
        return run_sh("command -v '%s' >/dev/null 2>&1", name) == 0;
}

/* Creates the test's scratch directory /tmp/lading-test-<name>-XXXXXX. */
static inline const char *snaptest_setup(const char *name)
{
        snaptest_scratch = xasprintf("/tmp/lading-test-%s-XXXXXX", name);
        if (!mkdtemp(snaptest_scratch))
                snaptest_die("mkdtemp");
        return snaptest_scratch;
}

/* Removes the scratch directory if every check passed, and returns the TAP exit status. */
static inline int snaptest_done(void)
{
        if (snaptest_scratch) {
                if (tap_failed == 0)
                        (void) run_sh("chattr -R -i '%s' 2>/dev/null; rm -rf '%s'",
                                      snaptest_scratch, snaptest_scratch);
                else
                        printf("# scratch kept: %s\n", snaptest_scratch);
                free(snaptest_scratch);
        }
        return tap_done();
}

/* A path under the scratch directory (caller frees). */
__attribute__((format(printf, 1, 2))) static inline char *scratch_path(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *rel = xvasprintf(fmt, ap);
        va_end(ap);
        char *p = xasprintf("%s/%s", snaptest_scratch, rel);
        free(rel);
        return p;
}

static inline void write_file_at(int dir_fd, const char *path, const void *data, size_t len,
                                 mode_t mode)
{
        int fd = openat(dir_fd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0 || fs_write_all(fd, data, len) < 0)
                snaptest_die(path);
        if (fchmod(fd, mode) < 0)
                snaptest_die("fchmod");
        close(fd);
}

static inline void write_str_at(int dir_fd, const char *path, const char *s)
{
        write_file_at(dir_fd, path, s, strlen(s), 0644);
}

/* sha256 of a file's content, or "" when it cannot be read (caller frees). */
static inline char *file_digest_at(int dir_fd, const char *path)
{
        int fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return xstrdup("");
        _cleanup_(digest_freep) struct digest_ctx *d = digest_new();
        char chunk[65536];
        ssize_t n;
        while ((n = read(fd, chunk, sizeof(chunk))) > 0)
                digest_update(d, chunk, (size_t) n);
        close(fd);
        char out[DIGEST_STRING_SIZE];
        digest_final(d, out);
        return xstrdup(out);
}

/* Deterministic pseudo-random bytes; compressible when text is true. */
static inline void fill_bytes(unsigned char *p, size_t n, uint64_t seed, bool text)
{
        static const char *const words[] = {"layer ",  "snapshot ", "gzip ",  "lading ",
                                            "kaniko ", "tar\n",     "index ", "0123 "};
        uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
        size_t i = 0;
        while (i < n) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                if (text) {
                        const char *w = words[x % 8];
                        for (; *w && i < n; w++)
                                p[i++] = (unsigned char) *w;
                        if (i < n && (x >> 40) % 5 == 0)
                                p[i++] = (unsigned char) ('a' + (x >> 20) % 26);
                } else
                        p[i++] = (unsigned char) (x >> 24);
        }
}
