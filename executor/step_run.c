/* SPDX-License-Identifier: Apache-2.0 */
/* RUN: the command (shell form through the stage's SHELL, exec form, heredocs), its
 * environment (ENV and the ARGs in scope), user, working directory and mounts. */
#include "executor/build-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/strv.h"
#include "executor/image_config.h"
#include "executor/instructions.h"
#include "executor/process.h"
#include "executor/run_mounts.h"
#include "executor/users.h"
#include "executor/vars.h"

#define PIPES_DIR "dev/pipes"

/* A "#!" heredoc is run as a file of its own (BuildKit puts it under /dev/pipes/). */
struct script_file {
        const char *name, *data;
};

static int script_prepare(void *userdata, int root_fd, struct lerr **err)
{
        const struct script_file *f = userdata;
        _cleanup_close_ int dir = fs_mkdir_p_in_root(root_fd, PIPES_DIR, 0755);
        if (dir < 0)
                return lerr_errno(err, dir, "create '/%s'", PIPES_DIR);
        _cleanup_close_ int fd =
                openat(dir, f->name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0755);
        if (fd < 0)
                return lerr_errno(err, errno, "create '/%s/%s'", PIPES_DIR, f->name);
        int r = fs_write_all(fd, f->data, strlen(f->data));
        if (r >= 0 && fchmod(fd, 0755) < 0)
                r = -errno;
        return r < 0 ? lerr_errno(err, r, "write '/%s/%s'", PIPES_DIR, f->name) : 0;
}

static int script_cleanup(void *userdata, int root_fd, struct lerr **err)
{
        const struct script_file *f = userdata;
        (void) err;
        _cleanup_close_ int dir = fs_open_in_root(root_fd, PIPES_DIR, O_PATH | O_DIRECTORY, 0);
        if (dir >= 0)
                (void) unlinkat(dir, f->name, 0);
        return 0;
}

/* --network=none: the step gets a network namespace of its own with only loopback. */
static int network_none_child(void *userdata)
{
        (void) userdata;
        return unshare(CLONE_NEWNET) < 0 ? -errno : 0;
}

int step_run(struct stage_ctx *s, const struct df_inst *exp, struct step_out *out,
             struct lerr **err)
{
        const struct df_run *run = &exp->u.run;
        struct df_run_script script = {0};
        struct run_mounts *mounts = NULL;
        _cleanup_(strv_freep) char **env = NULL;
        struct image_config *c = s->res->config;
        int r = df_run_script(exp, stage_shell(s), &script, err);
        if (r < 0)
                return r;
        r = run_mounts_new(s, run, &mounts, err);
        if (r < 0) {
                df_run_script_done(&script);
                return r;
        }
        size_t n_mount_hooks;
        const struct process_hook *mh = run_mounts_hooks(mounts, &n_mount_hooks);
        struct process_hook *hooks = xcalloc(n_mount_hooks + 2, sizeof(*hooks));
        size_t n = 0;
        struct script_file file = {script.file_name, script.file_data};
        if (script.file_name)
                hooks[n++] = (struct process_hook){.what = "heredoc script",
                                                   .prepare = script_prepare,
                                                   .cleanup = script_cleanup,
                                                   .userdata = &file};
        for (size_t i = 0; i < n_mount_hooks; i++)
                hooks[n++] = mh[i];
        if (run->network == DF_NETWORK_NONE)
                hooks[n++] = (struct process_hook){.what = "--network=none",
                                                   .child = network_none_child};

        env = vars_run_env(s->vars);
        strv_foreach (e, run_mounts_env(mounts))
                strv_push(&env, e);
        struct process_spec spec = PROCESS_SPEC_INIT;
        spec.argv = script.argv;
        spec.env = env;
        spec.cwd = c->working_dir && *c->working_dir ? c->working_dir : "/";
        spec.user = c->user;
        spec.root_fd = s->b->root_fd;
        spec.hooks = hooks;
        spec.n_hooks = n;

        int64_t t0 = build_now_ns();
        r = process_run(&spec, err);
        build_phase_add(s->b, PHASE_RUN, t0);
        if (r > 0)
                r = process_status_error(err, script.argv, r);
        strv_foreach (e, env)
                explicit_bzero(e, strlen(e)); /* secrets passed as env */
        free(hooks);
        run_mounts_free(mounts);
        df_run_script_done(&script);
        if (r < 0)
                return r;
        out->changed = true;
        return 0;
}
