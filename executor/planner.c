/* SPDX-License-Identifier: Apache-2.0 */
/* Stage planning (BuildKit's dispatch-state graph, Kaniko's stage selection): bases, stage
 * references, the target and the stages it needs. It does not run or pull anything. */
#include "executor/planner.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/strv.h"
#include "executor/dftext.h"
#include "executor/dockerfile.h"
#include "executor/expand.h"
#include "registry/platform.h"
#include "executor/vars.h"

void plan_free(struct plan *p)
{
        if (!p)
                return;
        for (size_t i = 0; i < p->n_stages; i++) {
                free(p->stages[i].base);
                free(p->stages[i].platform);
                free(p->stages[i].deps);
                df_inst_free(p->stages[i].from);
                for (size_t k = 0; p->stages[i].insts && k < p->stages[i].df->n_insts; k++)
                        df_inst_free(p->stages[i].insts[k]);
                free(p->stages[i].insts);
        }
        free(p->stages);
        free(p->target_platform);
        free(p->build_platform);
        strv_free(p->build_args);
        vars_free(p->global);
        strv_free(p->warnings);
        free(p);
}

int plan_find_stage(const struct plan *p, const char *name)
{
        for (size_t i = p->n_stages; i > 0; i--)
                if (p->stages[i - 1].name && dftext_eq_icase(p->stages[i - 1].name, name))
                        return (int) (i - 1);
        return -1;
}

/* Go's strconv.Atoi: an optional sign and decimal digits that fit an int. */
static bool atoi_like(const char *s, long *ret)
{
        char *end;
        if (!*s || !(*s == '-' || *s == '+' || (*s >= '0' && *s <= '9')))
                return false;
        if ((*s == '-' || *s == '+') && !(s[1] >= '0' && s[1] <= '9'))
                return false;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (*end || errno == ERANGE)
                return false;
        *ret = v;
        return true;
}

int plan_resolve_from(const struct plan *p, unsigned stage, const char *ref, bool allow_index,
                      const struct df_inst *inst, int *ret_stage, struct lerr **err)
{
        const char *fn = p->df->filename;
        const char *verb = inst && inst->kind == DF_RUN ? "mount from" : "copy from";
        _cleanup_free_ char *q = dftext_quote(ref, strlen(ref), 80);
        long idx;

        if (allow_index && atoi_like(ref, &idx)) {
                if (idx < 0 || (size_t) idx >= p->n_stages)
                        return dockerfile_inst_error(fn, inst, err, EINVAL,
                                                     "invalid stage index %ld (the Dockerfile has "
                                                     "%zu stages)",
                                                     idx, p->n_stages);
        } else {
                idx = -1;
                for (unsigned j = stage; j > 0 && idx < 0; j--)
                        if (p->stages[j - 1].name && dftext_eq_icase(p->stages[j - 1].name, ref))
                                idx = j - 1;
                if (idx < 0)
                        for (size_t j = stage; j < p->n_stages && idx < 0; j++)
                                if (p->stages[j].name && dftext_eq_icase(p->stages[j].name, ref))
                                        idx = (long) j;
                if (idx < 0) {
                        *ret_stage = -1; /* an image */
                        return 0;
                }
        }
        if ((unsigned) idx == stage)
                return dockerfile_inst_error(fn, inst, err, EINVAL,
                                             "circular dependency detected on stage '%s': it "
                                             "uses itself",
                                             q);
        if ((unsigned) idx > stage)
                return dockerfile_inst_error(fn, inst, err, EINVAL,
                                             "cannot %s stage '%s': it is defined after this "
                                             "stage (line %u)",
                                             verb, q, p->stages[idx].df->from->line);
        *ret_stage = (int) idx;
        return 0;
}

static void add_dep(struct plan_stage *s, enum plan_via via, int stage, const char *image,
                    const struct df_inst *inst)
{
        s->deps = dftext_grow(s->deps, s->n_deps, sizeof(*s->deps));
        s->deps[s->n_deps++] = (struct plan_dep){
                .via = via, .stage = stage, .image = stage < 0 ? image : NULL, .inst = inst};
}

static int stage_platform(struct plan *p, struct plan_stage *s, struct lerr **err)
{
        const struct df_inst *from = s->df->from;
        const char *raw = from->u.from.platform;
        _cleanup_free_ char *v = NULL;
        struct platform pl;
        int r;

        if (!raw)
                return 0;
        r = expand_word(raw, from->escape, 0, vars_expand_env(p->global), &v, err);
        if (r < 0)
                return dockerfile_inst_wrap(p->df->filename, from, err);
        if (!*v)
                return dockerfile_inst_error(p->df->filename, from, err, EINVAL,
                                             "empty platform value from expression '%s'", raw);
        r = platform_parse(v, &pl, err);
        if (r < 0)
                return dockerfile_inst_wrap(p->df->filename, from, err);
        s->platform = platform_string(&pl);
        platform_done(&pl);
        return 0;
}

static int stage_base(struct plan *p, unsigned i, struct lerr **err)
{
        struct plan_stage *s = &p->stages[i];
        const struct df_inst *from = s->df->from;
        int r;

        r = expand_word(from->u.from.image, from->escape, 0, vars_expand_env(p->global), &s->base,
                        err);
        if (r < 0)
                return dockerfile_inst_wrap(p->df->filename, from, err);
        if (!*s->base)
                return dockerfile_inst_error(p->df->filename, from, err, EINVAL,
                                             "base name '%s' should not be blank",
                                             from->u.from.image);
        s->base_stage = -1;
        s->base_kind = streq(s->base, "scratch") ? PLAN_BASE_SCRATCH : PLAN_BASE_IMAGE;
        for (unsigned j = i; j > 0 && s->base_kind == PLAN_BASE_IMAGE; j--)
                if (p->stages[j - 1].name && dftext_eq_icase(p->stages[j - 1].name, s->base)) {
                        s->base_kind = PLAN_BASE_STAGE;
                        s->base_stage = (int) j - 1;
                }
        for (size_t j = i + 1; j < p->n_stages && s->base_kind == PLAN_BASE_IMAGE; j++)
                if (p->stages[j].name && dftext_eq_icase(p->stages[j].name, s->base))
                        return dockerfile_inst_error(
                                p->df->filename, from, err, EINVAL,
                                "FROM names stage '%s', defined later (line %u): a stage can only "
                                "be based on stages defined before it",
                                s->base, p->stages[j].df->from->line);
        if (s->base_kind == PLAN_BASE_STAGE)
                add_dep(s, PLAN_VIA_FROM, s->base_stage, NULL, from);
        else if (s->base_kind == PLAN_BASE_IMAGE)
                add_dep(s, PLAN_VIA_FROM, -1, s->base, from);
        return stage_platform(p, s, err);
}

static int stage_deps(struct plan *p, unsigned i, struct lerr **err)
{
        struct plan_stage *s = &p->stages[i];

        for (size_t k = 0; k < s->df->n_insts; k++) {
                const struct df_inst *inst = s->df->insts[k];
                int st, r;
                if (inst->kind == DF_COPY && inst->u.copy.from) {
                        r = plan_resolve_from(p, i, inst->u.copy.from, true, inst, &st, err);
                        if (r < 0)
                                return r;
                        add_dep(s, PLAN_VIA_COPY, st, inst->u.copy.from, inst);
                }
                for (size_t m = 0; inst->kind == DF_RUN && m < inst->u.run.n_mounts; m++) {
                        const char *from = inst->u.run.mounts[m].from;
                        if (!from || !*from)
                                continue;
                        r = plan_resolve_from(p, i, from, false, inst, &st, err);
                        if (r < 0)
                                return r;
                        add_dep(s, PLAN_VIA_MOUNT, st, from, inst);
                }
        }
        return 0;
}

static void mark_needed(struct plan *p, unsigned i)
{
        struct plan_stage *s = &p->stages[i];
        if (s->needed)
                return;
        s->needed = true;
        /* every edge points to an earlier stage, so this recursion is at most n deep */
        for (size_t k = 0; k < s->n_deps; k++)
                if (s->deps[k].stage >= 0)
                        mark_needed(p, (unsigned) s->deps[k].stage);
}

static int resolve_target(struct plan *p, const char *target, struct lerr **err)
{
        if (!target || !*target) {
                p->target = (unsigned) p->n_stages - 1;
                return 0;
        }
        int t = plan_find_stage(p, target);
        if (t >= 0) {
                p->target = (unsigned) t;
                return 0;
        }
        _cleanup_free_ const char **names = xcalloc(p->n_stages + 1, sizeof(char *));
        size_t n = 0;
        for (size_t i = 0; i < p->n_stages; i++)
                if (p->stages[i].name)
                        names[n++] = p->stages[i].name;
        _cleanup_free_ char *q = dftext_quote(target, strlen(target), 80);
        _cleanup_free_ char *s = dftext_suggest(target, names, n, true);
        if (s)
                return lerr_set(err, EINVAL,
                                "target stage '%s' could not be found (did you mean '%s'?)", q, s);
        return lerr_set(err, EINVAL, "target stage '%s' could not be found", q);
}

static int set_platforms(struct plan *p, const struct plan_params *params, struct lerr **err)
{
        const char *specs[] = {params->target_platform, params->build_platform};
        char **dst[] = {&p->target_platform, &p->build_platform};
        const char *what[] = {"target", "build"};

        for (size_t i = 0; i < 2; i++) {
                struct platform pl;
                if (specs[i] && *specs[i]) {
                        int r = platform_parse(specs[i], &pl, err);
                        if (r < 0)
                                return lerr_wrap(err, "%s platform", what[i]);
                } else
                        platform_default(&pl);
                *dst[i] = platform_string(&pl);
                platform_done(&pl);
        }
        return 0;
}

static int global_scope(struct plan *p, struct lerr **err)
{
        struct vars_params vp = {
                .build_args = p->build_args,
                .target_platform = p->target_platform,
                .build_platform = p->build_platform,
        };
        int r = vars_global_new(&vp, &p->global, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < p->df->n_meta_args; i++) {
                const struct df_inst *a = p->df->meta_args[i];
                for (size_t k = 0; k < a->u.kv.n_kvs; k++) {
                        r = vars_meta_arg(p->global, a->u.kv.kvs[k].key, a->u.kv.kvs[k].value,
                                          a->escape, err);
                        if (r < 0)
                                return dockerfile_inst_wrap(p->df->filename, a, err);
                }
        }
        return 0;
}

static bool declares(const struct df_inst *inst, const char *name)
{
        for (size_t k = 0; inst->kind == DF_ARG && k < inst->u.kv.n_kvs; k++)
                if (streq(inst->u.kv.kvs[k].key, name))
                        return true;
        return false;
}

static void unused_build_args(struct plan *p, struct strvb *warn)
{
        strv_foreach (a, p->build_args) {
                _cleanup_free_ char *name = xstrndup(a, strcspn(a, "="));
                bool used = vars_is_proxy_arg(name) || vars_is_platform_arg(name);
                for (size_t i = 0; !used && i < p->df->n_meta_args; i++)
                        used = declares(p->df->meta_args[i], name);
                for (size_t i = 0; !used && i < p->n_stages; i++)
                        for (size_t k = 0;
                             !used && p->stages[i].needed && k < p->stages[i].df->n_insts; k++)
                                used = declares(p->stages[i].df->insts[k], name);
                if (!used)
                        strvb_consume(warn, xasprintf("build argument '%s' is not consumed by "
                                                      "any ARG",
                                                      name));
        }
}

static char **resolve_build_args(char *const *in)
{
        char **out = xcalloc(1, sizeof(char *));
        strv_foreach (a, in) {
                if (strchr(a, '='))
                        strv_push(&out, a);
                else {
                        const char *v = getenv(a);
                        strv_consume(&out, xasprintf("%s=%s", a, strempty(v)));
                }
        }
        return out;
}

/* An ARG at plan time: the values taken become the copy's values. */
static int simulate_arg(const struct df_inst *inst, struct vars *v, unsigned flags,
                        struct df_inst **ret, struct lerr **err)
{
        _cleanup_(df_inst_freep) struct df_inst *c = df_inst_copy(inst);
        for (size_t k = 0; k < c->u.kv.n_kvs; k++) {
                const char *val;
                int r = vars_arg(v, c->u.kv.kvs[k].key, inst->u.kv.kvs[k].value, inst->escape,
                                 flags, &val, err);
                if (r < 0)
                        return r;
                free(c->u.kv.kvs[k].value);
                c->u.kv.kvs[k].value = val ? xstrdup(val) : NULL;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

static int simulate_inst(struct plan *p, struct plan_stage *s, size_t k, struct vars *v,
                         unsigned flags, struct strvb *warn, struct lerr **err)
{
        const struct df_inst *inst = s->df->insts[k];
        struct lerr *e = NULL;
        int r;

        if (inst->kind == DF_ARG)
                r = simulate_arg(inst, v, flags, &s->insts[k], &e);
        else
                r = df_inst_expand(inst, vars_expand_env(v), flags, &s->insts[k], &e);
        if (r < 0) {
                r = dockerfile_inst_wrap(p->df->filename, inst, &e);
                if (s->needed) {
                        if (err) {
                                lerr_free(*err);
                                *err = TAKE_PTR(e);
                        }
                        lerr_free(e);
                        return r;
                }
                strvb_push(warn, lerr_message(e));
                lerr_free(e);
                s->insts[k] = df_inst_copy(inst);
                return 0;
        }
        if (inst->kind == DF_ENV)
                for (size_t i = 0; i < s->insts[k]->u.kv.n_kvs; i++)
                        vars_env(v, s->insts[k]->u.kv.kvs[i].key, s->insts[k]->u.kv.kvs[i].value);
        return 0;
}

/* Expands every stage's instructions with what is known before the build. A stage whose base
 * image is unknown keeps references to variables it does not set; one built on scratch (maybe
 * through other stages) knows all its variables. */
static int simulate(struct plan *p, struct strvb *warn, struct lerr **err)
{
        _cleanup_free_ struct vars **finals = xcalloc(p->n_stages, sizeof(struct vars *));
        _cleanup_free_ bool *known = xcalloc(p->n_stages, sizeof(bool));
        char *no_env[] = {NULL};
        int r = 0;

        for (size_t i = 0; r >= 0 && i < p->n_stages; i++) {
                struct plan_stage *s = &p->stages[i];
                const struct vars *parent =
                        s->base_kind == PLAN_BASE_STAGE ? finals[s->base_stage] : NULL;
                finals[i] = vars_stage_new(p->global, parent,
                                           s->base_kind == PLAN_BASE_SCRATCH ? no_env : NULL);
                known[i] = s->base_kind == PLAN_BASE_SCRATCH ||
                           (s->base_kind == PLAN_BASE_STAGE && known[s->base_stage]);
                s->from = df_inst_copy(s->df->from);
                free(s->from->u.from.image);
                s->from->u.from.image = xstrdup(s->base);
                free(s->from->u.from.platform);
                s->from->u.from.platform = s->platform ? xstrdup(s->platform) : NULL;
                s->insts = xcalloc(s->df->n_insts + 1, sizeof(struct df_inst *));
                for (size_t k = 0; r >= 0 && k < s->df->n_insts; k++)
                        r = simulate_inst(p, s, k, finals[i], known[i] ? 0 : EXPAND_KEEP_UNSET,
                                          warn, err);
        }
        for (size_t i = 0; i < p->n_stages; i++)
                vars_free(finals[i]);
        return r;
}

int plan_build(const struct dockerfile *df, const struct plan_params *params, struct plan **ret,
               struct lerr **err)
{
        _cleanup_(plan_freep) struct plan *p = xcalloc(1, sizeof(*p));
        _cleanup_(strvb_done) struct strvb warn = {0};
        int r;

        p->df = df;
        p->build_args = resolve_build_args(params->build_args);
        r = set_platforms(p, params, err);
        if (r >= 0)
                r = global_scope(p, err);
        if (r < 0)
                return r;
        p->n_stages = df->n_stages;
        p->stages = xcalloc(df->n_stages, sizeof(*p->stages));
        for (unsigned i = 0; i < df->n_stages; i++)
                p->stages[i] = (struct plan_stage){
                        .index = i,
                        .name = df->stages[i].name,
                        .df = &df->stages[i],
                        .base_stage = -1,
                };
        for (unsigned i = 0; i < df->n_stages; i++) {
                r = stage_base(p, i, err);
                if (r >= 0)
                        r = stage_deps(p, i, err);
                if (r < 0)
                        return r;
        }
        r = resolve_target(p, params->target, err);
        if (r < 0)
                return r;
        mark_needed(p, p->target);
        r = simulate(p, &warn, err);
        if (r < 0)
                return r;
        unused_build_args(p, &warn);
        p->warnings = strvb_steal(&warn);
        *ret = TAKE_PTR(p);
        return 0;
}
