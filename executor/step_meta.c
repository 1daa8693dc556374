/* SPDX-License-Identifier: Apache-2.0 */
/* The instructions that change only the image config (and WORKDIR, which also creates its
 * directory), recorded the way Docker records them. */
#include "executor/build-internal.h"

#include <errno.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/log.h"
#include "common/strv.h"
#include "executor/image_config.h"
#include "executor/instructions.h"
#include "executor/process.h"
#include "executor/users.h"
#include "executor/vars.h"

/* CMD/ENTRYPOINT argv: exec form as written, shell form through the stage's SHELL. */
static char **command_argv(const struct stage_ctx *s, const struct df_cmdline *c)
{
        if (c->json)
                return strv_copy(c->args ? c->args : (char *[]){NULL});
        if (!c->args || !c->args[0])
                return NULL;
        return process_shell_argv(stage_shell(s), c->args[0]);
}

static int meta_workdir(struct stage_ctx *s, const char *value, struct step_out *out,
                        struct lerr **err)
{
        struct image_config *c = s->res->config;
        _cleanup_free_ char *abs = stage_abs_path(s, value);
        size_t n = strlen(abs);
        if (n > 1 && abs[n - 1] == '/')
                abs[n - 1] = '\0';
        image_config_set_string(&c->working_dir, abs);
        if (s->config_only)
                return 0; /* served from the cache: its layer has the directory */
        /* the directory belongs to the stage's USER, as BuildKit creates it */
        struct users_ids ids = {0};
        uid_t uid = 0;
        gid_t gid = 0;
        if (c->user && *c->user && users_resolve(s->b->root_fd, c->user, &ids, NULL) >= 0) {
                uid = ids.uid;
                gid = ids.gid;
        }
        users_ids_done(&ids);
        int r = process_make_workdir(s->b->root_fd, abs, uid, gid, err);
        if (r < 0)
                return r;
        if (r > 0) {
                out->changed = true;
                strv_push(&out->paths, abs);
        }
        return 0;
}

static void meta_healthcheck(struct image_config *c, const struct df_healthcheck *h)
{
        struct healthcheck hc = {
                .test = h->test,
                .interval_ns = h->interval_ns,
                .timeout_ns = h->timeout_ns,
                .start_period_ns = h->start_period_ns,
                .start_interval_ns = h->start_interval_ns,
                .retries = h->retries,
        };
        image_config_set_healthcheck(c, &hc);
}

int step_meta(struct stage_ctx *s, const struct df_inst *exp, struct step_out *out,
              struct lerr **err)
{
        struct image_config *c = s->res->config;
        _cleanup_(strv_freep) char **argv = NULL;
        int r = 0;

        switch (exp->kind) {
        case DF_ENV:
                for (size_t i = 0; i < exp->u.kv.n_kvs; i++)
                        vars_env(s->vars, exp->u.kv.kvs[i].key, exp->u.kv.kvs[i].value);
                strv_free(c->env);
                c->env = vars_config_env(s->vars);
                return 0;
        case DF_LABEL:
                for (size_t i = 0; i < exp->u.kv.n_kvs; i++)
                        image_config_set_label(c, exp->u.kv.kvs[i].key, exp->u.kv.kvs[i].value);
                return 0;
        case DF_EXPOSE: {
                _cleanup_(strv_freep) char **ports = NULL;
                r = df_expose_ports(exp->u.words, &ports, err);
                strv_foreach (p, ports)
                        if (r >= 0 && image_config_add_port(c, p) < 0)
                                r = lerr_set(err, EINVAL, "invalid port '%s'", p);
                return r;
        }
        case DF_VOLUME:
                strv_foreach (v, exp->u.words)
                        image_config_add_volume(c, v);
                return 0;
        case DF_USER:
                image_config_set_string(&c->user, exp->u.value);
                return 0;
        case DF_WORKDIR:
                return meta_workdir(s, exp->u.value, out, err);
        case DF_CMD:
                argv = command_argv(s, &exp->u.cmd);
                image_config_set_cmd(c, argv);
                s->res->cmd_set = true;
                return 0;
        case DF_ENTRYPOINT:
                argv = command_argv(s, &exp->u.cmd);
                image_config_set_entrypoint(c, argv, s->res->cmd_set);
                return 0;
        case DF_SHELL:
                image_config_set_shell(c, exp->u.words);
                return 0;
        case DF_STOPSIGNAL:
                image_config_set_string(&c->stop_signal, exp->u.value);
                return 0;
        case DF_HEALTHCHECK:
                meta_healthcheck(c, &exp->u.health);
                return 0;
        case DF_ONBUILD:
                image_config_add_onbuild(c, exp->u.onbuild.expression);
                return 0;
        case DF_MAINTAINER:
                image_config_set_string(&c->author, exp->u.value);
                return 0;
        case DF_ADD:
        case DF_ARG:
        case DF_COPY:
        case DF_FROM:
        case DF_RUN:
        case DF_KIND_COUNT:
                break;
        }
        return lerr_set(err, EINVAL, "not a metadata instruction: %s", df_kind_name(exp->kind));
}
