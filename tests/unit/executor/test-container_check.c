/* SPDX-License-Identifier: Apache-2.0 */
/* The "may I work on /" decision: PID 1, running as $KANIKO_DIR/executor, --force. */
#include "executor/container_check.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/fs.h"
#include "tap.h"

static const char refusal[] =
        "refusing to build on '/' of this machine: the executor is not PID 1 and does not run "
        "as '/kaniko/executor', so '/' may not be a throwaway container (a build replaces the "
        "whole root filesystem); use --sandbox DIR to build in a directory, or --force if '/' "
        "is a disposable container";

static void decide_is(pid_t pid, bool exe, bool force, int want, const char *name)
{
        struct lerr *err = NULL;
        int r = container_check_decide(pid, exe, force, "/kaniko", &err);
        is_int(r, want, "%s", name);
        if (want < 0)
                is_str(lerr_message(err), refusal, "%s: message", name);
        else
                ok(err == NULL, "%s: no error", name);
        lerr_free(err);
}

int main(void)
{
        decide_is(1, false, false, 0, "PID 1 is allowed");
        decide_is(1234, true, false, 0, "running as /kaniko/executor is allowed");
        decide_is(1234, false, true, 0, "--force is allowed");
        decide_is(1234, false, false, -EPERM, "a plain process is refused");
        decide_is(2, false, false, -EPERM, "PID 2 is refused");

        char dir[] = "/tmp/lading-test-cc-XXXXXX";
        if (!mkdtemp(dir))
                abort();
        char self[PATH_MAX] = {0};
        if (readlink("/proc/self/exe", self, sizeof(self) - 1) < 0)
                abort();
        int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        (void) mkdirat(dfd, "kaniko", 0755);
        (void) mkdirat(dfd, "other", 0755);
        if (symlinkat(self, dfd, "kaniko/executor") < 0)
                abort();
        /* a copy has the same bytes but is another file: not the running executable */
        int in = open(self, O_RDONLY | O_CLOEXEC);
        int out = openat(dfd, "other/executor", O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
        if (in < 0 || out < 0 || fs_copy_fd(in, out) < 0)
                abort();
        close(in);
        close(out);

        char *kdir = xasprintf("%s/kaniko", dir), *odir = xasprintf("%s/other", dir);
        char *kexe = xasprintf("%s/executor", kdir), *oexe = xasprintf("%s/executor", odir);
        ok(container_check_exe_is(self), "the running executable is itself");
        ok(container_check_exe_is(kexe), "a link to the running executable is it");
        ok(!container_check_exe_is(oexe), "a copy is not the running executable");
        ok(!container_check_exe_is("/nonexistent/executor"), "a missing file is not it");

        struct lerr *err = NULL;
        is_int(container_check(kdir, false, &err), 0, "allowed as <kaniko_dir>/executor");
        is_int(container_check(odir, false, &err), -EPERM, "refused elsewhere");
        char *want = xasprintf("refusing to build on '/' of this machine: the executor is not "
                               "PID 1 and does not run as '%s/executor', so '/' may not be a "
                               "throwaway container (a build replaces the whole root "
                               "filesystem); use --sandbox DIR to build in a directory, or "
                               "--force if '/' is a disposable container",
                               odir);
        is_str(lerr_message(err), want, "refusal names the executor path");
        lerr_free(err);
        err = NULL;
        is_int(container_check(odir, true, &err), 0, "--force overrides");
        free(want);
        free(kdir);
        free(odir);
        free(kexe);
        free(oexe);
        int r = tap_done();
        if (r == 0) {
                int t = open("/tmp", O_PATH | O_DIRECTORY | O_CLOEXEC);
                (void) fs_rm_rf_at(t, dir + 5);
                close(t);
        }
        close(dfd);
        return r;
}
