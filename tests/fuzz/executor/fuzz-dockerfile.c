/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the Dockerfile frontend end to end: parse, plan, plan JSON, build-time expansion of
 * every instruction with a base image's ENV, RUN scripts, EXPOSE ports, --chmod, ONBUILD
 * triggers re-parsed, and word expansion of each line. Rejecting input is fine; crashing,
 * leaking, undefined behaviour or hanging is not. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/strv.h"
#include "executor/dockerfile.h"
#include "executor/expand.h"
#include "executor/instructions.h"
#include "executor/plan_json.h"
#include "executor/planner.h"
#include "executor/vars.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *base_env[] = {"PATH=/usr/bin:/bin", "HOME=/root", "A=1", "S=a b  c", "E=", NULL};

static void use_expanded(const struct df_inst *x)
{
        struct lerr *err = NULL;
        if (x->kind == DF_RUN) {
                struct df_run_script s = {0};
                if (df_run_script(x, NULL, &s, &err) >= 0)
                        df_run_script_done(&s);
        } else if (x->kind == DF_EXPOSE) {
                char **ports = NULL;
                if (df_expose_ports(x->u.words, &ports, &err) >= 0)
                        strv_free(ports);
        } else if ((x->kind == DF_COPY || x->kind == DF_ADD) && x->u.copy.chmod) {
                bool octal;
                uint32_t mode;
                (void) df_chmod_parse(x->u.copy.chmod, &octal, &mode, &err);
        } else if (x->kind == DF_ONBUILD) {
                struct df_inst *t = NULL;
                if (dockerfile_parse_trigger(x->u.onbuild.expression, &t, &err) >= 0)
                        df_inst_free(t);
        }
        lerr_free(err);
}

/* One stage walked as the build would: scope from the base image's ENV, ARG/ENV applied. */
static void walk_stage(const struct plan *plan, const struct df_stage *st)
{
        struct vars *v = vars_stage_new(plan->global, NULL, base_env);
        for (size_t i = 0; i < st->n_insts; i++) {
                const struct df_inst *inst = st->insts[i];
                struct lerr *err = NULL;
                struct df_inst *x = NULL;
                if (inst->kind == DF_ARG) {
                        for (size_t k = 0; k < inst->u.kv.n_kvs; k++)
                                (void) vars_arg(v, inst->u.kv.kvs[k].key, inst->u.kv.kvs[k].value,
                                                inst->escape, 0, NULL, &err);
                } else if (df_inst_expand(inst, vars_expand_env(v), 0, &x, &err) >= 0) {
                        if (x->kind == DF_ENV)
                                for (size_t k = 0; k < x->u.kv.n_kvs; k++)
                                        vars_env(v, x->u.kv.kvs[k].key, x->u.kv.kvs[k].value);
                        use_expanded(x);
                        df_inst_free(x);
                }
                lerr_free(err);
        }
        char **e = vars_run_env(v);
        strv_free(e);
        e = vars_declared_args(v);
        strv_free(e);
        vars_free(v);
}

static void expand_lines(const char *text)
{
        static const unsigned flag_sets[] = {
                0, EXPAND_KEEP_UNSET, EXPAND_RAW_QUOTES | EXPAND_RAW_ESCAPES, EXPAND_NO_QUOTES};
        struct expand_strv_env env;
        unsigned n = 0;

        expand_strv_env_init(&env, base_env);
        for (const char *l = text; *l && n < 32; n++) {
                size_t len = strcspn(l, "\n");
                char *line = strndup(l, len);
                char *out = NULL, **words = NULL;
                unsigned flags = flag_sets[n % 4];
                char esc = n & 4 ? '`' : '\\';
                if (!line)
                        abort();
                if (expand_word(line, esc, flags, &env.env, &out, NULL) >= 0)
                        free(out);
                if (expand_words(line, esc, flags, &env.env, &words, NULL) >= 0)
                        strv_free(words);
                free(line);
                l += len + (l[len] == '\n');
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct dockerfile *df = NULL;
        struct plan *plan = NULL;
        struct lerr *err = NULL;
        char *build_args[] = {"V=1", "HTTP_PROXY=http://proxy", "TARGETOS=linux", NULL};
        struct plan_params params = {
                .build_args = build_args,
                .target_platform = "linux/arm/v7",
                .build_platform = "linux/amd64",
        };

        if (size > DOCKERFILE_MAX_BYTES)
                return 0;
        if (dockerfile_parse((const char *) data, size, "Dockerfile", &df, &err) < 0) {
                lerr_free(err);
                /* still exercise the word lexer on the text */
                char *text = strndup((const char *) data, size);
                if (text)
                        expand_lines(text);
                free(text);
                return 0;
        }
        if (plan_build(df, &params, &plan, &err) >= 0) {
                free(plan_to_json(plan));
                for (size_t i = 0; i < df->n_stages; i++)
                        walk_stage(plan, &df->stages[i]);
                plan_free(plan);
        } else
                lerr_free(err);
        dockerfile_free(df);
        return 0;
}
