/* SPDX-License-Identifier: Apache-2.0 */
/* Start-up of an executor binary: its size, the wall time of `EXE --version` (median and fastest
 * of N runs), and its peak RSS. The peak RSS is read from /proc/PID/status (VmHWM) while the
 * child is stopped at its exit under ptrace: the rusage of wait4 would also count the memory of
 * the process that forked it, which is larger than a static executor's.
 * Not a test: timings depend on the machine and its load.
 * Usage: bench-startup [--runs N] EXE [EXE ...] */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static pid_t spawn_version(const char *exe, int traced)
{
        pid_t pid = fork();
        if (pid < 0) {
                perror("fork");
                exit(1);
        }
        if (pid == 0) {
                int null = open("/dev/null", O_WRONLY);
                if (null >= 0)
                        dup2(null, STDOUT_FILENO);
                if (traced)
                        ptrace(PTRACE_TRACEME, 0, NULL, NULL);
                execl(exe, exe, "--version", (char *) NULL);
                _exit(127);
        }
        return pid;
}

static void expect_success(const char *exe, int status)
{
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "bench-startup: %s --version failed (status %#x)\n", exe, status);
                exit(1);
        }
}

static double time_one(const char *exe)
{
        double start = now();
        int status;
        pid_t pid = spawn_version(exe, 0);
        if (waitpid(pid, &status, 0) < 0) {
                perror("waitpid");
                exit(1);
        }
        expect_success(exe, status);
        return now() - start;
}

/* VmHWM of the child as it exits, in KiB */
static long peak_rss_kib(const char *exe)
{
        int status;
        pid_t pid = spawn_version(exe, 1);
        waitpid(pid, &status, 0); /* stopped at its execve */
        ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *) (long) PTRACE_O_TRACEEXIT);
        ptrace(PTRACE_CONT, pid, NULL, NULL);
        long kib = -1;
        while (waitpid(pid, &status, 0) == pid && WIFSTOPPED(status)) {
                if (status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXIT << 8))) {
                        char path[64], line[256];
                        snprintf(path, sizeof path, "/proc/%d/status", (int) pid);
                        FILE *f = fopen(path, "r");
                        while (f && fgets(line, sizeof line, f))
                                if (strncmp(line, "VmHWM:", 6) == 0)
                                        kib = strtol(line + 6, NULL, 10);
                        if (f)
                                fclose(f);
                }
                int sig = WSTOPSIG(status) == SIGTRAP ? 0 : WSTOPSIG(status);
                ptrace(PTRACE_CONT, pid, NULL, (void *) (long) sig);
        }
        expect_success(exe, status);
        return kib;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
        int runs = 200, i = 1;
        if (argc > 2 && strcmp(argv[1], "--runs") == 0) {
                runs = atoi(argv[2]);
                i = 3;
        }
        if (i >= argc || runs < 1) {
                fprintf(stderr, "usage: bench-startup [--runs N] EXE [EXE ...]\n");
                return 2;
        }
        double *walls = calloc((size_t) runs, sizeof *walls);
        if (!walls)
                return 1;
        for (; i < argc; i++) {
                const char *exe = argv[i];
                struct stat st;
                if (stat(exe, &st) < 0) {
                        fprintf(stderr, "bench-startup: %s: %s\n", exe, strerror(errno));
                        return 1;
                }
                time_one(exe); /* page cache warm */
                for (int r = 0; r < runs; r++)
                        walls[r] = time_one(exe);
                qsort(walls, (size_t) runs, sizeof *walls, cmp_double);
                printf("%s: %lld bytes\n  --version x%d: median %.2f ms, fastest %.2f ms, "
                       "peak RSS %ld KiB\n",
                       exe, (long long) st.st_size, runs, walls[runs / 2] * 1000, walls[0] * 1000,
                       peak_rss_kib(exe));
        }
        free(walls);
        return 0;
}
