/* SPDX-License-Identifier: Apache-2.0 */
/* ARG/ENV scopes (see vars.h for the rules). Small ordered maps; values are copied in. It does
 * not parse instructions (the caller passes names and raw defaults). */
#include "executor/vars.h"

#include <errno.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/strv.h"
#include "executor/dftext.h"
#include "executor/expand.h"
#include "registry/platform.h"

struct kv {
        char *key;
        char *value; /* NULL: declared without a value (declared ARGs only) */
};

/* Insertion-ordered; a hash index (open addressing, slot = index + 1, 0 empty) keeps lookups
 * O(1) so that a Dockerfile with very many variables stays linear. */
struct kvlist {
        struct kv *v;
        size_t n;
        size_t *slots;
        size_t n_slots; /* a power of two, over twice n */
};

struct vars {
        struct kvlist build_args; /* --build-arg */
        struct kvlist env;        /* what expansion sees */
        struct kvlist config;     /* the image config's Env */
        struct kvlist declared;   /* ARGs declared in the stage, in order */
        const struct vars *global;
        struct expand_env xenv;
};

static const char *const proxy_args[] = {"HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY",
                                         "ALL_PROXY"};

static const char *const platform_args[] = {
        "TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT",
        "BUILDPLATFORM",  "BUILDOS",  "BUILDARCH",  "BUILDVARIANT",
};

static size_t hash(const char *s)
{
        size_t h = 1469598103934665603u; /* FNV-1a */
        for (; *s; s++)
                h = (h ^ (unsigned char) *s) * 1099511628211u;
        return h;
}

static struct kv *kv_find(const struct kvlist *l, const char *key)
{
        if (!l->n_slots)
                return NULL;
        for (size_t i = hash(key) & (l->n_slots - 1);; i = (i + 1) & (l->n_slots - 1)) {
                size_t e = l->slots[i];
                if (!e)
                        return NULL;
                if (streq(l->v[e - 1].key, key))
                        return &l->v[e - 1];
        }
}

static void kv_index(struct kvlist *l, size_t idx)
{
        size_t i = hash(l->v[idx].key) & (l->n_slots - 1);
        while (l->slots[i])
                i = (i + 1) & (l->n_slots - 1);
        l->slots[i] = idx + 1;
}

static void kv_rehash(struct kvlist *l)
{
        size_t n = 16;
        while (n < 2 * (l->n + 1))
                n *= 2;
        free(l->slots);
        l->slots = xcalloc(n, sizeof(size_t));
        l->n_slots = n;
        for (size_t i = 0; i < l->n; i++)
                kv_index(l, i);
}

static const char *kv_get(const struct kvlist *l, const char *key)
{
        const struct kv *e = kv_find(l, key);
        return e ? e->value : NULL;
}

/* Replaces the value in place (keeping the order, as BuildKit's AddEnv does) or appends. */
static void kv_set(struct kvlist *l, const char *key, const char *value)
{
        struct kv *e = kv_find(l, key);
        char *v = value ? xstrdup(value) : NULL;
        if (e) {
                free(e->value);
                e->value = v;
                return;
        }
        l->v = dftext_grow(l->v, l->n, sizeof(*l->v));
        l->v[l->n++] = (struct kv){.key = xstrdup(key), .value = v};
        if (2 * l->n >= l->n_slots)
                kv_rehash(l);
        else
                kv_index(l, l->n - 1);
}

static void kv_done(struct kvlist *l)
{
        for (size_t i = 0; i < l->n; i++) {
                free(l->v[i].key);
                free(l->v[i].value);
        }
        free(l->v);
        free(l->slots);
        *l = (struct kvlist){0};
}

static void kv_copy(struct kvlist *d, const struct kvlist *s)
{
        for (size_t i = 0; i < s->n; i++)
                kv_set(d, s->v[i].key, s->v[i].value);
}

static void kv_set_pair(struct kvlist *l, const char *kv)
{
        const char *eq = strchr(kv, '=');
        if (!eq)
                return;
        _cleanup_free_ char *k = xstrndup(kv, (size_t) (eq - kv));
        kv_set(l, k, eq + 1);
}

static char **kv_strv(const struct kvlist *l, bool with_unset)
{
        char **out = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i < l->n; i++)
                if (l->v[i].value || with_unset)
                        strv_consume(&out,
                                     xasprintf("%s=%s", l->v[i].key, strempty(l->v[i].value)));
        return out;
}

static const char *lookup(void *userdata, const char *name)
{
        return kv_get(&((const struct vars *) userdata)->env, name);
}

static struct vars *vars_alloc(void)
{
        struct vars *v = xcalloc(1, sizeof(*v));
        v->xenv.lookup = lookup;
        v->xenv.userdata = v;
        return v;
}

bool vars_is_proxy_arg(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(proxy_args); i++)
                if (dftext_eq_icase(name, proxy_args[i]) &&
                    (streq(name, proxy_args[i]) || !strpbrk(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")))
                        return true;
        return false;
}

bool vars_is_platform_arg(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(platform_args); i++)
                if (streq(name, platform_args[i]))
                        return true;
        return false;
}

static int add_platform(struct vars *g, const char *prefix, const char *spec, struct lerr **err)
{
        struct platform p;
        int r = platform_parse(spec, &p, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *full = platform_string(&p);
        const char *values[] = {full, p.os, p.arch, p.variant ? p.variant : ""};
        const char *suffix[] = {"PLATFORM", "OS", "ARCH", "VARIANT"};
        for (size_t i = 0; i < ARRAY_SIZE(values); i++) {
                _cleanup_free_ char *name = xasprintf("%s%s", prefix, suffix[i]);
                const char *over = kv_get(&g->build_args, name);
                kv_set(&g->env, name, over ? over : values[i]);
        }
        platform_done(&p);
        return 0;
}

int vars_global_new(const struct vars_params *params, struct vars **ret, struct lerr **err)
{
        _cleanup_(vars_freep) struct vars *g = vars_alloc();
        int r;

        strv_foreach (a, params->build_args)
                kv_set_pair(&g->build_args, a);
        r = add_platform(g, "TARGET", params->target_platform, err);
        if (r >= 0)
                r = add_platform(g, "BUILD", params->build_platform, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(g);
        return 0;
}

int vars_meta_arg(struct vars *global, const char *name, const char *default_raw, char escape,
                  struct lerr **err)
{
        const char *given = kv_get(&global->build_args, name);
        _cleanup_free_ char *value = NULL;

        if (given)
                value = xstrdup(given);
        else if (default_raw) {
                int r = expand_word(default_raw, escape, 0, &global->xenv, &value, err);
                if (r < 0)
                        return r;
        } else
                return 0;
        kv_set(&global->env, name, value);
        return 0;
}

struct vars *vars_stage_new(const struct vars *global, const struct vars *parent,
                            char *const *image_env)
{
        struct vars *v = vars_alloc();

        v->global = global;
        kv_copy(&v->build_args, &global->build_args);
        if (parent) {
                kv_copy(&v->env, &parent->env);
                kv_copy(&v->config, &parent->config);
                kv_copy(&v->declared, &parent->declared);
                return v;
        }
        strv_foreach (e, image_env) {
                kv_set_pair(&v->config, e);
                kv_set_pair(&v->env, e);
        }
        if (image_env && !kv_get(&v->config, "PATH")) {
                kv_set(&v->config, "PATH", VARS_DEFAULT_PATH);
                kv_set(&v->env, "PATH", VARS_DEFAULT_PATH);
        }
        return v;
}

struct vars *vars_copy(const struct vars *s)
{
        struct vars *v = vars_alloc();
        v->global = s->global;
        kv_copy(&v->build_args, &s->build_args);
        kv_copy(&v->env, &s->env);
        kv_copy(&v->config, &s->config);
        kv_copy(&v->declared, &s->declared);
        return v;
}

void vars_free(struct vars *v)
{
        if (!v)
                return;
        kv_done(&v->build_args);
        kv_done(&v->env);
        kv_done(&v->config);
        kv_done(&v->declared);
        free(v);
}

int vars_arg(struct vars *stage, const char *name, const char *default_raw, char escape,
             unsigned expand_flags, const char **ret_value, struct lerr **err)
{
        const char *given = kv_get(&stage->build_args, name);
        _cleanup_free_ char *value = NULL;

        if (given)
                value = xstrdup(given);
        else if (default_raw) {
                int r = expand_word(default_raw, escape, expand_flags, &stage->xenv, &value, err);
                if (r < 0)
                        return r;
        } else if (stage->global) {
                const char *g = kv_get(&stage->global->env, name);
                value = g ? xstrdup(g) : NULL;
        }
        kv_set(&stage->declared, name, value);
        if (value)
                kv_set(&stage->env, name, value);
        if (ret_value)
                *ret_value = value ? kv_get(&stage->env, name) : NULL;
        return 0;
}

void vars_env(struct vars *stage, const char *key, const char *value)
{
        kv_set(&stage->env, key, value);
        kv_set(&stage->config, key, value);
}

const struct expand_env *vars_expand_env(const struct vars *v)
{
        return &v->xenv;
}

const char *vars_get(const struct vars *v, const char *name)
{
        return kv_get(&v->env, name);
}

/* The --build-arg value for a proxy family, any spelling (BuildKit takes the last in sorted
 * order, so "http_proxy" beats "HTTP_PROXY"). */
static const char *proxy_value(const struct vars *v, const char *family)
{
        const char *found = NULL, *found_key = NULL;
        for (size_t i = 0; i < v->build_args.n; i++) {
                const char *k = v->build_args.v[i].key;
                if (dftext_eq_icase(k, family) && (!found_key || strcmp(k, found_key) > 0)) {
                        found = v->build_args.v[i].value;
                        found_key = k;
                }
        }
        return found;
}

char **vars_run_env(const struct vars *v)
{
        char **out = kv_strv(&v->env, false);

        for (size_t i = 0; i < ARRAY_SIZE(proxy_args); i++) {
                const char *val = proxy_value(v, proxy_args[i]);
                if (!val || !*val)
                        continue;
                _cleanup_free_ char *lower = dftext_lower(xstrdup(proxy_args[i]));
                const char *names[] = {proxy_args[i], lower};
                for (size_t k = 0; k < 2; k++)
                        if (!kv_get(&v->env, names[k]))
                                strv_consume(&out, xasprintf("%s=%s", names[k], val));
        }
        return out;
}

char **vars_config_env(const struct vars *v)
{
        return kv_strv(&v->config, false);
}

char **vars_declared_args(const struct vars *v)
{
        char **out = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i < v->declared.n; i++) {
                const char *cur = kv_get(&v->env, v->declared.v[i].key);
                strv_consume(&out, xasprintf("%s=%s", v->declared.v[i].key,
                                             cur ? cur : strempty(v->declared.v[i].value)));
        }
        return out;
}
