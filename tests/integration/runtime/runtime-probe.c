/* SPDX-License-Identifier: Apache-2.0 */
/* A small driver for the runtime integration tests: optionally enters a sandbox, then runs
 * one step through process_run() as the build would, and reports what it saw.
 *   runtime-probe [--sandbox DIR | --chroot DIR] [--bind PATH[:ro|:parent]]... [--map PATH]...
 *                 [--user SPEC] [--cwd DIR] [--env K=V]... [--report] [--ignore]
 *                 [--wait-file PATH] -- ARGV...
 * --ignore prints the ignore list built from mountinfo inside; --wait-file waits (up to 60 s)
 * for PATH to exist before the step, so that a test can signal the executor between steps.
 * Exit status: the step's, or the error's exit status (the message on stderr). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/strv.h"
#include "executor/pid1.h"
#include "executor/process.h"
#include "executor/sandbox.h"
#include "snapshot/ignore.h"

/* Counts processes in /proc and those that are zombies. */
static void report(void)
{
        DIR *d = opendir("/proc");
        int procs = 0, zombies = 0;
        struct dirent *de;
        while (d && (de = readdir(d))) {
                if (de->d_name[0] < '0' || de->d_name[0] > '9')
                        continue;
                char path[300], buf[512] = {0};
                (void) snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                (void) !read(fd, buf, sizeof(buf) - 1);
                close(fd);
                const char *paren = strrchr(buf, ')');
                procs++;
                if (paren && paren[1] == ' ' && paren[2] == 'Z')
                        zombies++;
        }
        if (d)
                closedir(d);
        printf("procs=%d zombies=%d\n", procs, zombies);
}

static int fail(struct lerr *err)
{
        int status = lerr_exit_status(err);
        fprintf(stderr, "error: %s\n", lerr_message(err));
        lerr_free(err);
        return status;
}

int main(int argc, char **argv)
{
        const char *sandbox_dir = NULL, *chroot_dir = NULL, *user = NULL, *cwd = "/";
        _cleanup_(strv_freep) char **binds = NULL, **maps = NULL, **env = NULL;
        bool want_report = false, want_ignore = false;
        const char *wait_file = NULL;
        struct lerr *err = NULL;
        int i;

        for (i = 1; i < argc; i++) {
                if (streq(argv[i], "--"))
                        break;
                if (streq(argv[i], "--report")) {
                        want_report = true;
                        continue;
                }
                if (streq(argv[i], "--ignore")) {
                        want_ignore = true;
                        continue;
                }
                if (i + 1 >= argc)
                        return 2;
                if (streq(argv[i], "--sandbox"))
                        sandbox_dir = argv[++i];
                else if (streq(argv[i], "--chroot"))
                        chroot_dir = argv[++i];
                else if (streq(argv[i], "--bind"))
                        strv_push(&binds, argv[++i]);
                else if (streq(argv[i], "--map"))
                        strv_push(&maps, argv[++i]);
                else if (streq(argv[i], "--user"))
                        user = argv[++i];
                else if (streq(argv[i], "--cwd"))
                        cwd = argv[++i];
                else if (streq(argv[i], "--env"))
                        strv_push(&env, argv[++i]);
                else if (streq(argv[i], "--wait-file"))
                        wait_file = argv[++i];
                else
                        return 2;
        }
        if (i >= argc - 1)
                return 2;
        char **step = argv + i + 1;

        _cleanup_(sandbox_freep) struct sandbox *sb = NULL;
        if (sandbox_dir) {
                sb = sandbox_new(sandbox_dir, "/kaniko");
                strv_foreach (b, binds) {
                        char *spec = xstrdup(b);
                        unsigned flags = 0;
                        char *colon = strrchr(spec, ':');
                        if (colon && streq(colon, ":ro"))
                                flags = SANDBOX_PATH_RO, *colon = '\0';
                        else if (colon && streq(colon, ":parent"))
                                flags = SANDBOX_PATH_PARENT, *colon = '\0';
                        int r = sandbox_add_path(sb, spec, flags, &err);
                        free(spec);
                        if (r < 0)
                                return fail(err);
                }
                strv_foreach (m, maps) {
                        char *in = sandbox_map_path(sb, m);
                        printf("map %s -> %s\n", m, in ? in : "(none)");
                        free(in);
                }
                fflush(stdout);
                int status;
                int r = sandbox_enter(sb, &status, &err);
                if (r < 0)
                        return fail(err);
                if (r == 1)
                        return status;
                printf("pid=%d userns=%s\n", (int) getpid(), sandbox_userns_mode(sb));
        } else {
                if (pid1_init(&err) < 0)
                        return fail(err);
                printf("pid=%d\n", (int) getpid());
        }
        fflush(stdout);

        if (want_ignore) {
                _cleanup_(ignore_list_freep) struct ignore_list *l = ignore_list_new();
                if (ignore_list_add_mounts(l, "/proc/self/mountinfo", "/", &err) < 0)
                        return fail(err);
                printf("ignore=");
                for (unsigned k = 0; k < ignore_list_count(l); k++)
                        printf("%s%s", k ? "," : "", ignore_list_entry(l, k));
                printf("\n");
                fflush(stdout);
        }
        for (int w = 0; wait_file && w < 6000 && access(wait_file, F_OK) < 0; w++)
                (void) usleep(10000);

        int root_fd = open(chroot_dir ? chroot_dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return 2;
        struct process_spec spec = PROCESS_SPEC_INIT;
        spec.argv = step;
        spec.env = env;
        spec.cwd = cwd;
        spec.user = user;
        spec.root_fd = root_fd;
        spec.chroot = chroot_dir != NULL;
        int r = process_run(&spec, &err);
        fflush(stdout);
        if (want_report)
                report();
        fflush(stdout);
        close(root_fd);
        if (r < 0)
                return fail(err);
        return r;
}
