/* SPDX-License-Identifier: Apache-2.0 */
/* Serialises a plan to the JSON documented in plan_json.h. Formatting only: every value was
 * computed by the planner. Text that is not valid UTF-8 is written with U+FFFD in its place so
 * that the output is always valid JSON. */
#include "executor/plan_json.h"

#include <cjson/cJSON.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/json.h"
#include "common/strv.h"
#include "executor/dftext.h"
#include "executor/dockerfile.h"
#include "executor/planner.h"
#include "executor/vars.h"

static cJSON *check(cJSON *j)
{
        if (!j)
                oom();
        return j;
}

static char *utf8(const char *s)
{
        struct buf b = BUF_INIT(SIZE_MAX);
        size_t n = strlen(s);
        for (size_t i = 0; i < n;) {
                uint32_t r;
                size_t len = dftext_rune(s + i, n - i, &r);
                int k = (r == 0xfffd && len == 1) ? buf_append_str(&b, "\xef\xbf\xbd")
                                                  : buf_append(&b, s + i, len);
                if (k < 0)
                        oom();
                i += len;
        }
        return buf_steal(&b);
}

static void put_str(cJSON *o, const char *key, const char *s)
{
        if (!s) {
                check(cJSON_AddNullToObject(o, key));
                return;
        }
        _cleanup_free_ char *u = utf8(s);
        check(cJSON_AddStringToObject(o, key, u));
}

static void put_bool(cJSON *o, const char *key, bool b)
{
        check(cJSON_AddBoolToObject(o, key, b));
}

static void put_num(cJSON *o, const char *key, double v)
{
        check(cJSON_AddNumberToObject(o, key, v));
}

static void put_int_or_null(cJSON *o, const char *key, bool has, double v)
{
        if (has)
                put_num(o, key, v);
        else
                check(cJSON_AddNullToObject(o, key));
}

static void arr_str(cJSON *a, const char *s)
{
        _cleanup_free_ char *u = utf8(s);
        if (!cJSON_AddItemToArray(a, check(cJSON_CreateString(u))))
                oom();
}

static cJSON *put_strv(cJSON *o, const char *key, char *const *v)
{
        cJSON *a = check(cJSON_AddArrayToObject(o, key));
        strv_foreach (s, v)
                arr_str(a, s);
        return a;
}

static cJSON *arr_obj(cJSON *a)
{
        cJSON *o = check(cJSON_CreateObject());
        if (!cJSON_AddItemToArray(a, o))
                oom();
        return o;
}

static void put_heredocs(cJSON *o, const struct df_inst *inst)
{
        cJSON *a = check(cJSON_AddArrayToObject(o, "heredocs"));
        for (size_t i = 0; i < inst->n_heredocs; i++) {
                const struct df_heredoc *h = &inst->heredocs[i];
                cJSON *e = arr_obj(a);
                put_str(e, "name", h->name);
                put_str(e, "content", h->content);
                put_bool(e, "expand", h->expand);
                put_bool(e, "chomp", h->chomp);
                put_num(e, "fd", h->fd);
        }
}

static void put_cmdline(cJSON *o, const struct df_cmdline *c)
{
        put_str(o, "form", c->json ? "exec" : "shell");
        put_strv(o, "command", c->args);
}

static void put_mount(cJSON *a, const struct df_mount *m)
{
        cJSON *o = arr_obj(a);
        put_str(o, "type", df_mount_type_name(m->type));
        put_str(o, "target", m->target);
        put_str(o, "source", m->source);
        put_str(o, "from", m->from);
        put_str(o, "id", m->id);
        put_str(o, "env", m->env);
        put_bool(o, "readonly", m->readonly);
        put_bool(o, "required", m->required);
        put_str(o, "sharing", df_mount_sharing_name(m->sharing));
        if (m->has_mode) {
                _cleanup_free_ char *mode = xasprintf("%04o", m->mode);
                put_str(o, "mode", mode);
        } else
                put_str(o, "mode", NULL);
        put_int_or_null(o, "uid", m->has_uid, m->uid);
        put_int_or_null(o, "gid", m->has_gid, m->gid);
        put_int_or_null(o, "size", m->size != 0, (double) m->size);
}

static void put_run(cJSON *o, const struct df_inst *inst)
{
        const struct df_run *run = &inst->u.run;
        put_cmdline(o, &run->cmd);
        cJSON *m = check(cJSON_AddArrayToObject(o, "mounts"));
        for (size_t i = 0; i < run->n_mounts; i++)
                put_mount(m, &run->mounts[i]);
        put_str(o, "network", df_network_name(run->network));
        put_str(o, "security", df_security_name(run->security));
        cJSON *d = check(cJSON_AddArrayToObject(o, "devices"));
        for (size_t i = 0; i < run->n_devices; i++) {
                cJSON *e = arr_obj(d);
                put_str(e, "name", run->devices[i].name);
                put_bool(e, "required", run->devices[i].required);
        }
        put_heredocs(o, inst);
}

static void put_tristate(cJSON *o, const char *key, int v)
{
        if (v < 0)
                check(cJSON_AddNullToObject(o, key));
        else
                put_bool(o, key, v);
}

static void put_copy(cJSON *o, const struct df_inst *inst, int from_stage)
{
        const struct df_copy *c = &inst->u.copy;
        put_strv(o, "sources", c->sources);
        put_str(o, "dest", c->dest);
        cJSON *a = check(cJSON_AddArrayToObject(o, "inline"));
        for (size_t i = 0; i < c->n_inlines; i++) {
                cJSON *e = arr_obj(a);
                put_str(e, "name", c->inlines[i].name);
                put_str(e, "content", c->inlines[i].data);
                put_bool(e, "expand", c->inlines[i].expand);
        }
        put_str(o, "from", c->from);
        put_int_or_null(o, "from_stage", from_stage >= 0, from_stage);
        put_str(o, "chown", c->chown);
        put_str(o, "chmod", c->chmod);
        put_str(o, "checksum", c->checksum);
        put_bool(o, "link", c->link);
        put_bool(o, "parents", c->parents);
        put_strv(o, "excludes", c->excludes);
        put_tristate(o, "keep_git_dir", c->keep_git_dir);
        put_tristate(o, "unpack", c->unpack);
        put_heredocs(o, inst);
}

static void put_kvs(cJSON *o, const struct df_inst *inst, const struct df_inst *raw)
{
        bool arg = inst->kind == DF_ARG;
        cJSON *a = check(cJSON_AddArrayToObject(o, arg ? "args" : "pairs"));
        for (size_t i = 0; i < inst->u.kv.n_kvs; i++) {
                cJSON *e = arr_obj(a);
                put_str(e, arg ? "name" : "key", inst->u.kv.kvs[i].key);
                if (arg)
                        put_str(e, "default", raw->u.kv.kvs[i].value);
                put_str(e, "value", inst->u.kv.kvs[i].value);
        }
}

static void put_health(cJSON *o, const struct df_healthcheck *h)
{
        put_strv(o, "test", h->test);
        put_num(o, "interval_ns", (double) h->interval_ns);
        put_num(o, "timeout_ns", (double) h->timeout_ns);
        put_num(o, "start_period_ns", (double) h->start_period_ns);
        put_num(o, "start_interval_ns", (double) h->start_interval_ns);
        put_num(o, "retries", h->retries);
}

static void put_fields(cJSON *o, const struct df_inst *inst, const struct df_inst *raw,
                       int from_stage);

static void put_common(cJSON *o, const struct df_inst *inst, bool lines)
{
        put_str(o, "kind", df_kind_name(inst->kind));
        if (lines) {
                put_num(o, "line", inst->line);
                put_num(o, "end_line", inst->end_line);
                put_num(o, "last_line", inst->last_line);
        }
        put_str(o, "original", inst->original);
        put_strv(o, "flags", inst->flags);
}

static void put_fields(cJSON *o, const struct df_inst *inst, const struct df_inst *raw,
                       int from_stage)
{
        switch (inst->kind) {
        case DF_RUN:
                put_run(o, inst);
                break;
        case DF_CMD:
        case DF_ENTRYPOINT:
                put_cmdline(o, &inst->u.cmd);
                break;
        case DF_SHELL:
                put_strv(o, "command", inst->u.words);
                break;
        case DF_ENV:
        case DF_LABEL:
        case DF_ARG:
                put_kvs(o, inst, raw);
                break;
        case DF_ADD:
        case DF_COPY:
                put_copy(o, inst, from_stage);
                break;
        case DF_EXPOSE:
                put_strv(o, "ports", inst->u.words);
                break;
        case DF_VOLUME:
                put_strv(o, "paths", inst->u.words);
                break;
        case DF_USER:
                put_str(o, "user", inst->u.value);
                break;
        case DF_WORKDIR:
                put_str(o, "path", inst->u.value);
                break;
        case DF_STOPSIGNAL:
                put_str(o, "signal", inst->u.value);
                break;
        case DF_MAINTAINER:
                put_str(o, "maintainer", inst->u.value);
                break;
        case DF_HEALTHCHECK:
                put_health(o, &inst->u.health);
                break;
        case DF_ONBUILD: {
                put_str(o, "expression", inst->u.onbuild.expression);
                const struct df_inst *t = inst->u.onbuild.trigger;
                if (t) {
                        cJSON *to = check(cJSON_AddObjectToObject(o, "trigger"));
                        put_common(to, t, false);
                        put_fields(to, t, t, -1);
                } else
                        check(cJSON_AddNullToObject(o, "trigger"));
                break;
        }
        case DF_FROM:
                put_str(o, "image", inst->u.from.image);
                put_str(o, "name", inst->u.from.name);
                put_str(o, "platform", inst->u.from.platform);
                break;
        case DF_KIND_COUNT:
                break;
        }
}

static const char *via_name(enum plan_via v)
{
        return v == PLAN_VIA_COPY ? "copy" : v == PLAN_VIA_MOUNT ? "mount" : "from";
}

static int copy_from_stage(const struct plan_stage *s, const struct df_inst *raw)
{
        for (size_t i = 0; i < s->n_deps; i++)
                if (s->deps[i].inst == raw && s->deps[i].via == PLAN_VIA_COPY)
                        return s->deps[i].stage;
        return -1;
}

static void put_stage(cJSON *a, const struct plan_stage *s)
{
        static const char *const kinds[] = {"image", "stage", "scratch"};
        cJSON *o = arr_obj(a);

        put_num(o, "index", s->index);
        put_str(o, "name", s->name);
        put_num(o, "line", s->df->from->line);
        put_str(o, "base", s->base);
        put_str(o, "base_kind", kinds[s->base_kind]);
        put_int_or_null(o, "base_stage", s->base_stage >= 0, s->base_stage);
        put_str(o, "platform", s->platform);
        put_bool(o, "needed", s->needed);
        cJSON *deps = check(cJSON_AddArrayToObject(o, "depends_on"));
        for (size_t i = 0; i < s->n_deps; i++) {
                cJSON *d = arr_obj(deps);
                put_str(d, "via", via_name(s->deps[i].via));
                put_int_or_null(d, "stage", s->deps[i].stage >= 0, s->deps[i].stage);
                put_str(d, "image", s->deps[i].image);
                put_num(d, "line", s->deps[i].inst->line);
        }
        cJSON *insts = check(cJSON_AddArrayToObject(o, "instructions"));
        for (size_t i = 0; i < s->df->n_insts; i++) {
                const struct df_inst *raw = s->df->insts[i], *x = s->insts[i];
                cJSON *io = arr_obj(insts);
                put_common(io, x, true);
                put_fields(io, x, raw, copy_from_stage(s, raw));
        }
}

static void put_name_values(cJSON *o, const char *key, char *const *kv)
{
        cJSON *a = check(cJSON_AddArrayToObject(o, key));
        strv_foreach (e, kv) {
                cJSON *x = arr_obj(a);
                _cleanup_free_ char *name = xstrndup(e, strcspn(e, "="));
                put_str(x, "name", name);
                put_str(x, "value", strchr(e, '=') ? strchr(e, '=') + 1 : NULL);
        }
}

static void put_meta_args(cJSON *o, const struct plan *p)
{
        cJSON *a = check(cJSON_AddArrayToObject(o, "meta_args"));
        for (size_t i = 0; i < p->df->n_meta_args; i++) {
                const struct df_inst *inst = p->df->meta_args[i];
                for (size_t k = 0; k < inst->u.kv.n_kvs; k++) {
                        cJSON *x = arr_obj(a);
                        put_str(x, "name", inst->u.kv.kvs[k].key);
                        put_str(x, "value", vars_get(p->global, inst->u.kv.kvs[k].key));
                }
        }
}

char *plan_to_json(const struct plan *p)
{
        _cleanup_(cJSON_Deletep) cJSON *o = check(cJSON_CreateObject());
        char esc[2] = {p->df->escape, 0};

        put_str(o, "schema", "lading.plan/v1");
        put_str(o, "dockerfile", p->df->filename);
        put_str(o, "syntax", p->df->syntax);
        put_str(o, "escape", esc);
        put_num(o, "target", p->target);
        put_str(o, "target_platform", p->target_platform);
        put_str(o, "build_platform", p->build_platform);
        put_name_values(o, "build_args", p->build_args);
        put_meta_args(o, p);
        cJSON *needed = check(cJSON_AddArrayToObject(o, "needed_stages"));
        for (size_t i = 0; i < p->n_stages; i++)
                if (p->stages[i].needed &&
                    !cJSON_AddItemToArray(needed, check(cJSON_CreateNumber((double) i))))
                        oom();
        cJSON *stages = check(cJSON_AddArrayToObject(o, "stages"));
        for (size_t i = 0; i < p->n_stages; i++)
                put_stage(stages, &p->stages[i]);
        cJSON *w = check(cJSON_AddArrayToObject(o, "warnings"));
        for (size_t i = 0; i < p->df->n_warnings; i++) {
                _cleanup_free_ char *m = p->df->warnings[i].line
                                                 ? xasprintf("line %u: %s", p->df->warnings[i].line,
                                                             p->df->warnings[i].message)
                                                 : xstrdup(p->df->warnings[i].message);
                arr_str(w, m);
        }
        strv_foreach (m, p->warnings)
                arr_str(w, m);
        char *text = cJSON_Print(o);
        if (!text)
                oom();
        char *out = xasprintf("%s\n", text);
        cJSON_free(text);
        return out;
}
