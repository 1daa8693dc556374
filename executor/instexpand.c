/* SPDX-License-Identifier: Apache-2.0 */
/* Lifetime of typed instructions (copy, free) and their expansion with the variables in force,
 * by Docker's per-instruction rules (see the table in instructions.h). */
#include "executor/instructions.h"

#include <errno.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/strv.h"
#include "executor/dftext.h"
#include "executor/expand.h"
#include "executor/instructions-internal.h"

static char *dup_or_null(const char *s)
{
        return s ? xstrdup(s) : NULL;
}

void df_mount_done(struct df_mount *m)
{
        free(m->spec);
        free(m->target);
        free(m->source);
        free(m->from);
        free(m->id);
        free(m->env);
        memset(m, 0, sizeof(*m));
}

static void copy_mount(struct df_mount *d, const struct df_mount *s)
{
        *d = *s;
        d->spec = dup_or_null(s->spec);
        d->target = dup_or_null(s->target);
        d->source = dup_or_null(s->source);
        d->from = dup_or_null(s->from);
        d->id = dup_or_null(s->id);
        d->env = dup_or_null(s->env);
}

static void clear_copy(struct df_copy *c)
{
        strv_free(c->sources);
        for (size_t i = 0; i < c->n_inlines; i++) {
                free(c->inlines[i].name);
                free(c->inlines[i].data);
        }
        free(c->inlines);
        free(c->dest);
        free(c->from);
        free(c->chown);
        free(c->chmod);
        free(c->checksum);
        strv_free(c->excludes);
}

void df_inst_clear_union(struct df_inst *inst)
{
        switch (inst->kind) {
        case DF_FROM:
                free(inst->u.from.image);
                free(inst->u.from.name);
                free(inst->u.from.platform);
                break;
        case DF_RUN:
                strv_free(inst->u.run.cmd.args);
                for (size_t i = 0; i < inst->u.run.n_mounts; i++)
                        df_mount_done(&inst->u.run.mounts[i]);
                free(inst->u.run.mounts);
                for (size_t i = 0; i < inst->u.run.n_devices; i++)
                        free(inst->u.run.devices[i].name);
                free(inst->u.run.devices);
                break;
        case DF_CMD:
        case DF_ENTRYPOINT:
                strv_free(inst->u.cmd.args);
                break;
        case DF_COPY:
        case DF_ADD:
                clear_copy(&inst->u.copy);
                break;
        case DF_HEALTHCHECK:
                strv_free(inst->u.health.test);
                break;
        case DF_ONBUILD:
                free(inst->u.onbuild.expression);
                df_inst_free(inst->u.onbuild.trigger);
                break;
        case DF_ENV:
        case DF_LABEL:
        case DF_ARG:
                for (size_t i = 0; i < inst->u.kv.n_kvs; i++) {
                        free(inst->u.kv.kvs[i].key);
                        free(inst->u.kv.kvs[i].value);
                }
                free(inst->u.kv.kvs);
                break;
        case DF_EXPOSE:
        case DF_VOLUME:
        case DF_SHELL:
                strv_free(inst->u.words);
                break;
        case DF_USER:
        case DF_WORKDIR:
        case DF_STOPSIGNAL:
        case DF_MAINTAINER:
                free(inst->u.value);
                break;
        case DF_KIND_COUNT:
                break;
        }
        memset(&inst->u, 0, sizeof(inst->u));
}

void df_inst_free(struct df_inst *inst)
{
        if (!inst)
                return;
        df_inst_clear_union(inst);
        free(inst->keyword);
        free(inst->original);
        strv_free(inst->flags);
        strv_free(inst->args);
        for (size_t i = 0; i < inst->n_heredocs; i++) {
                free(inst->heredocs[i].name);
                free(inst->heredocs[i].content);
        }
        free(inst->heredocs);
        free(inst);
}

static void copy_copy(struct df_copy *d, const struct df_copy *s)
{
        *d = *s;
        d->sources = strv_copy(s->sources);
        d->inlines = s->n_inlines ? xcalloc(s->n_inlines, sizeof(*d->inlines)) : NULL;
        for (size_t i = 0; i < s->n_inlines; i++)
                d->inlines[i] = (struct df_inline){.name = xstrdup(s->inlines[i].name),
                                                   .data = xstrdup(s->inlines[i].data),
                                                   .expand = s->inlines[i].expand};
        d->dest = dup_or_null(s->dest);
        d->from = dup_or_null(s->from);
        d->chown = dup_or_null(s->chown);
        d->chmod = dup_or_null(s->chmod);
        d->checksum = dup_or_null(s->checksum);
        d->excludes = strv_copy(s->excludes);
}

static void copy_run(struct df_run *d, const struct df_run *s)
{
        *d = *s;
        d->cmd.args = strv_copy(s->cmd.args);
        d->mounts = s->n_mounts ? xcalloc(s->n_mounts, sizeof(*d->mounts)) : NULL;
        for (size_t i = 0; i < s->n_mounts; i++)
                copy_mount(&d->mounts[i], &s->mounts[i]);
        d->devices = s->n_devices ? xcalloc(s->n_devices, sizeof(*d->devices)) : NULL;
        for (size_t i = 0; i < s->n_devices; i++)
                d->devices[i] = (struct df_device){.name = xstrdup(s->devices[i].name),
                                                   .required = s->devices[i].required};
}

void df_inst_copy_union(struct df_inst *d, const struct df_inst *s)
{
        d->u = s->u;
        switch (s->kind) {
        case DF_FROM:
                d->u.from.image = dup_or_null(s->u.from.image);
                d->u.from.name = dup_or_null(s->u.from.name);
                d->u.from.platform = dup_or_null(s->u.from.platform);
                break;
        case DF_RUN:
                copy_run(&d->u.run, &s->u.run);
                break;
        case DF_CMD:
        case DF_ENTRYPOINT:
                d->u.cmd.args = strv_copy(s->u.cmd.args);
                break;
        case DF_COPY:
        case DF_ADD:
                copy_copy(&d->u.copy, &s->u.copy);
                break;
        case DF_HEALTHCHECK:
                d->u.health.test = strv_copy(s->u.health.test);
                break;
        case DF_ONBUILD:
                d->u.onbuild.expression = dup_or_null(s->u.onbuild.expression);
                d->u.onbuild.trigger =
                        s->u.onbuild.trigger ? df_inst_copy(s->u.onbuild.trigger) : NULL;
                break;
        case DF_ENV:
        case DF_LABEL:
        case DF_ARG:
                d->u.kv.kvs = s->u.kv.n_kvs ? xcalloc(s->u.kv.n_kvs, sizeof(struct df_kv)) : NULL;
                for (size_t i = 0; i < s->u.kv.n_kvs; i++)
                        d->u.kv.kvs[i] = (struct df_kv){.key = xstrdup(s->u.kv.kvs[i].key),
                                                        .value = dup_or_null(s->u.kv.kvs[i].value),
                                                        .legacy = s->u.kv.kvs[i].legacy};
                break;
        case DF_EXPOSE:
        case DF_VOLUME:
        case DF_SHELL:
                d->u.words = strv_copy(s->u.words);
                break;
        case DF_USER:
        case DF_WORKDIR:
        case DF_STOPSIGNAL:
        case DF_MAINTAINER:
                d->u.value = dup_or_null(s->u.value);
                break;
        case DF_KIND_COUNT:
                break;
        }
}

struct df_inst *df_inst_copy(const struct df_inst *s)
{
        struct df_inst *d = xmemdup(s, sizeof(*s));

        d->keyword = dup_or_null(s->keyword);
        d->original = dup_or_null(s->original);
        d->flags = strv_copy(s->flags);
        d->args = strv_copy(s->args);
        d->heredocs = s->n_heredocs ? xcalloc(s->n_heredocs, sizeof(*d->heredocs)) : NULL;
        for (size_t i = 0; i < s->n_heredocs; i++) {
                d->heredocs[i] = s->heredocs[i];
                d->heredocs[i].name = xstrdup(s->heredocs[i].name);
                d->heredocs[i].content = xstrdup(s->heredocs[i].content);
        }
        df_inst_copy_union(d, s);
        return d;
}

/* ---- expansion ---- */

struct ex {
        const struct expand_env *env;
        unsigned flags;
        char escape;
};

/* Replaces *s (if not NULL) by its expansion. */
static int ex_str(const struct ex *x, char **s, struct lerr **err)
{
        char *out;
        if (!*s)
                return 0;
        int r = expand_word(*s, x->escape, x->flags, x->env, &out, err);
        if (r < 0)
                return r;
        free(*s);
        *s = out;
        return 0;
}

static int ex_strv(const struct ex *x, char **v, struct lerr **err)
{
        for (size_t i = 0; v && v[i]; i++) {
                int r = ex_str(x, &v[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int ex_copy(const struct ex *x, struct df_inst *inst, struct lerr **err)
{
        struct df_copy *c = &inst->u.copy;
        int r = ex_strv(x, c->sources, err);

        if (r >= 0)
                r = ex_str(x, &c->dest, err);
        if (r >= 0)
                r = ex_str(x, &c->chown, err);
        if (r >= 0)
                r = ex_str(x, &c->chmod, err);
        if (r >= 0)
                r = ex_str(x, &c->checksum, err);
        /* heredoc bodies: backslash escapes, quotes are text (BuildKit's ExpandRaw) */
        struct ex raw = {.env = x->env, .flags = x->flags | EXPAND_NO_QUOTES, .escape = '\\'};
        for (size_t i = 0; r >= 0 && i < c->n_inlines; i++)
                if (c->inlines[i].expand)
                        r = ex_str(&raw, &c->inlines[i].data, err);
        /* at plan time a value still holding '$' is not known yet */
        bool final = !(x->flags & EXPAND_KEEP_UNSET);
        if (r >= 0 && c->chmod && (final || !strchr(c->chmod, '$'))) {
                bool octal;
                uint32_t mode;
                r = df_chmod_parse(c->chmod, &octal, &mode, err);
        }
        if (r >= 0 && c->checksum && (final || !strchr(c->checksum, '$')))
                r = df_checksum_check(c->checksum, c->sources, err);
        return r;
}

static int ex_run(const struct ex *x, struct df_inst *inst, struct lerr **err)
{
        struct df_run *run = &inst->u.run;

        for (size_t i = 0; i < run->n_mounts; i++) {
                struct df_mount m = {0};
                int r = df_mount_parse(run->mounts[i].spec, x->env, x->flags, x->escape, &m, err);
                if (r < 0)
                        return r;
                df_mount_done(&run->mounts[i]);
                run->mounts[i] = m;
        }
        return 0;
}

static int ex_kvs(const struct ex *x, struct df_inst *inst, struct lerr **err)
{
        for (size_t i = 0; i < inst->u.kv.n_kvs; i++) {
                int r = ex_str(x, &inst->u.kv.kvs[i].key, err);
                if (r >= 0)
                        r = ex_str(x, &inst->u.kv.kvs[i].value, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int ex_expose(const struct ex *x, struct df_inst *inst, struct lerr **err)
{
        struct strvb all = {0};
        strv_foreach (w, inst->u.words) {
                char **split = NULL;
                int r = expand_words(w, x->escape, x->flags, x->env, &split, err);
                if (r < 0) {
                        strvb_done(&all);
                        return r;
                }
                for (size_t i = 0; split[i]; i++)
                        strvb_consume(&all, TAKE_PTR(split[i]));
                free(split);
        }
        strv_free(inst->u.words);
        inst->u.words = strvb_steal(&all);
        return 0;
}

int df_inst_expand(const struct df_inst *inst, const struct expand_env *env, unsigned flags,
                   struct df_inst **ret, struct lerr **err)
{
        _cleanup_(df_inst_freep) struct df_inst *c = df_inst_copy(inst);
        struct ex x = {.env = env, .flags = flags, .escape = inst->escape};
        int r = 0;

        switch (c->kind) {
        case DF_FROM:
                r = ex_str(&x, &c->u.from.image, err);
                if (r >= 0)
                        r = ex_str(&x, &c->u.from.platform, err);
                break;
        case DF_ENV:
        case DF_LABEL:
                r = ex_kvs(&x, c, err);
                break;
        case DF_COPY:
        case DF_ADD:
                r = ex_copy(&x, c, err);
                break;
        case DF_RUN:
                r = ex_run(&x, c, err);
                break;
        case DF_WORKDIR:
        case DF_USER:
        case DF_STOPSIGNAL:
                r = ex_str(&x, &c->u.value, err);
                break;
        case DF_VOLUME:
                r = ex_strv(&x, c->u.words, err);
                break;
        case DF_EXPOSE:
                r = ex_expose(&x, c, err);
                break;
        case DF_ARG:
        case DF_CMD:
        case DF_ENTRYPOINT:
        case DF_SHELL:
        case DF_HEALTHCHECK:
        case DF_MAINTAINER:
        case DF_ONBUILD:
        case DF_KIND_COUNT:
                break;
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}
