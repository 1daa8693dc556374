/* SPDX-License-Identifier: Apache-2.0 */
/* One build stage: its base (an image, an earlier stage or scratch) onto the root, ONBUILD
 * triggers, then each instruction expanded with the variables in force, run, and snapshotted
 * into a layer when it changed files; history and config as Docker records them. */
#include "executor/build-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/strv.h"
#include "common/timefmt.h"
#include "executor/blobstore.h"
#include "executor/cache.h"
#include "executor/dockerfile.h"
#include "executor/image_config.h"
#include "executor/instructions.h"
#include "executor/options.h"
#include "executor/planner.h"
#include "executor/vars.h"
#include "registry/registry.h"
#include "snapshot/snapshotter.h"

static char *const default_shell[] = {"/bin/sh", "-c", NULL};

char *const *stage_shell(const struct stage_ctx *s)
{
        char **sh = s->res->config->shell;
        return sh && sh[0] ? sh : default_shell;
}

char *stage_abs_path(const struct stage_ctx *s, const char *p)
{
        const char *wd = s->res->config->working_dir;
        _cleanup_free_ char *joined =
                p[0] == '/' ? xstrdup(p) : xasprintf("%s/%s", wd && *wd ? wd : "/", p);
        char *clean = NULL;
        if (fs_normalize_path(joined, &clean) < 0)
                return xstrdup("/");
        size_t n = strlen(p);
        bool dir = n && (p[n - 1] == '/' || (p[n - 1] == '.' && (n == 1 || p[n - 2] == '/')));
        char *abs = xasprintf("/%s%s", clean, dir && *clean ? "/" : "");
        free(clean);
        return abs;
}

char *stage_timestamp(const struct build *b)
{
        return b->o->reproducible ? xstrdup("1970-01-01T00:00:00Z") : timefmt_now();
}

/* ---- the base ---- */

static int base_from_image(struct stage_ctx *s, struct lerr **err)
{
        struct build *b = s->b;
        _cleanup_(reg_image_freep) struct reg_image *img = NULL;
        log_info("Retrieving image %s", s->ps->base);
        int r = base_resolve_image(b, s->ps->base, s->ps->platform, &img, NULL, err);
        if (r < 0)
                return r;
        r = image_config_parse(img->config, img->config_len, &s->res->config, err);
        if (r < 0)
                return lerr_wrap(err, "image '%s'", s->ps->base);
        if (image_format_from_media_type(img->media_type, &s->res->format) < 0)
                s->res->format = IMAGE_FORMAT_DOCKER;
        size_t n = img->parsed->n_layers;
        s->res->layers = xcalloc(n + 1, sizeof(struct build_layer));
        if (strv_length(s->res->config->diff_ids) != n)
                return lerr_set(err, EBADMSG,
                                "image '%s': its config lists %zu layers but its manifest %zu",
                                s->ps->base, strv_length(s->res->config->diff_ids), n);
        for (size_t i = 0; i < n; i++) {
                struct build_layer *l = &s->res->layers[i];
                descriptor_copy(&l->desc, &img->parsed->layers[i]);
                memcpy(l->diff_id, s->res->config->diff_ids[i], DIGEST_STRING_SIZE - 1);
                l->source = image_ref_dup(img->source);
        }
        s->res->n_layers = n;
        log_info("Retrieved image %s (%s): %zu layers", s->ps->base, img->digest, n);
        cache_stage_begin(s, img->digest);
        return 0;
}

static int base_from_stage(struct stage_ctx *s)
{
        struct build *b = s->b;
        const struct stage_result *p = &b->stages[s->ps->base_stage];
        s->res->config = image_config_copy(p->config);
        s->res->format = p->format;
        s->res->layers = xcalloc(p->n_layers + 1, sizeof(struct build_layer));
        for (size_t i = 0; i < p->n_layers; i++) {
                descriptor_copy(&s->res->layers[i].desc, &p->layers[i].desc);
                memcpy(s->res->layers[i].diff_id, p->layers[i].diff_id, DIGEST_STRING_SIZE);
                s->res->layers[i].source =
                        p->layers[i].source ? image_ref_dup(p->layers[i].source) : NULL;
        }
        s->res->n_layers = p->n_layers;
        return 0;
}

static int base_scratch(struct stage_ctx *s, struct lerr **err)
{
        struct platform p = {0};
        const char *spec = s->ps->platform ? s->ps->platform : s->b->plan->target_platform;
        int r = platform_parse(spec, &p, err);
        if (r < 0)
                return r;
        s->res->config = image_config_new(p.os, p.arch, p.variant);
        platform_done(&p);
        s->res->format = IMAGE_FORMAT_DOCKER; /* as Kaniko's empty image */
        s->res->layers = xcalloc(1, sizeof(struct build_layer));
        return 0;
}

/* Makes the root hold all of the stage's layers: the base's (wiping the root first, unless
 * it holds the files of the stage this one is based on) and those served from the cache
 * since. Stages are lazy only with --cache: a stage whose every step comes from the cache is
 * never extracted. */
static int stage_materialize(struct stage_ctx *s, struct lerr **err)
{
        struct build *b = s->b;
        struct stage_result *res = s->res;
        int r;
        if (s->live && s->applied == res->n_layers)
                return 0;
        if (!s->live) {
                size_t have = 0;
                if (s->ps->base_kind == PLAN_BASE_STAGE && b->current_stage == s->ps->base_stage)
                        have = b->current_layers; /* the root holds that stage's files */
                else if ((r = base_wipe_root(b, err)) < 0)
                        return r;
                s->live = true;
                s->applied = MIN(have, res->n_layers);
                b->current_stage = (int) s->index;
                b->current_layers = s->applied;
        }
        r = base_extract_layers(b, b->root_fd, b->ignore, res->layers + s->applied,
                                res->n_layers - s->applied, err);
        /* --image-fs-extract-retry: start again from an empty root */
        for (int i = 0; r < 0 && i < b->o->image_fs_extract_retry; i++) {
                log_warn("%s; retrying (%d/%d, --image-fs-extract-retry)", lerr_message(*err),
                         i + 1, b->o->image_fs_extract_retry);
                s->applied = 0;
                b->current_layers = 0;
                r = base_wipe_root(b, err);
                if (r >= 0)
                        r = base_extract_layers(b, b->root_fd, b->ignore, res->layers,
                                                res->n_layers, err);
        }
        if (r < 0)
                return r;
        s->applied = res->n_layers;
        b->current_layers = s->applied;
        /* the index no longer matches the root: index it again when a step needs it */
        snapshotter_free(s->snap);
        s->snap = NULL;
        return 0;
}

/* ---- snapshots ---- */

static int ensure_snapshotter(struct stage_ctx *s, struct lerr **err)
{
        const struct options *o = s->b->o;
        struct snapshotter_opts so;
        int r = stage_materialize(s, err);
        if (r < 0 || s->snap)
                return r;
        snapshotter_opts_init(&so);
        so.mode = o->snapshot_mode == SNAPSHOT_MODE_REDO   ? SNAP_MODE_REDO
                  : o->snapshot_mode == SNAPSHOT_MODE_TIME ? SNAP_MODE_TIME
                                                           : SNAP_MODE_FULL;
        so.compression = o->compression == COMPRESSION_ZSTD ? LAYER_ZSTD : LAYER_GZIP;
        so.compression_level = o->compression_level;
        so.reproducible = o->reproducible;
        int64_t t0 = build_now_ns();
        r = snapshotter_new(s->b->root_fd, s->b->ignore, &so, &s->snap, err);
        if (r >= 0)
                r = snapshotter_init(s->snap, err);
        build_phase_add(s->b, PHASE_SNAPSHOT, t0);
        if (r < 0)
                return lerr_wrap(err, "take the initial snapshot");
        return 0;
}

/* Snapshots the changes (of paths, or the whole root) into a new layer of the stage. Returns
 * 1 if a layer was added, 0 if nothing changed. */
static int take_layer(struct stage_ctx *s, char *const *paths, unsigned flags, struct lerr **err)
{
        struct build *b = s->b;
        _cleanup_free_ char *tmp = NULL;
        struct snapshot_result sr = {0};
        int r = ensure_snapshotter(s, err);
        if (r < 0)
                return r;
        int64_t t0 = build_now_ns();
        _cleanup_close_ int fd = blobstore_create_temp(b->blobs, &tmp);
        if (fd < 0)
                return lerr_errno(err, fd, "create a layer file");
        r = paths ? snapshotter_take_paths(s->snap, paths, fd, flags, &sr, err)
                  : snapshotter_take(s->snap, fd, flags, &sr, err);
        build_phase_add(b, PHASE_SNAPSHOT, t0);
        if (r <= 0) {
                blobstore_abort(b->blobs, tmp);
                return r < 0 ? lerr_wrap(err, "take a snapshot") : 0;
        }
        r = blobstore_commit(b->blobs, tmp, sr.layer.digest, err);
        if (r < 0)
                return r;
        struct stage_result *res = s->res;
        const char *mt = NULL;
        enum layer_compression c = b->o->compression == COMPRESSION_ZSTD ? LAYER_ZSTD : LAYER_GZIP;
        if (image_format_layer_type(res->format, c, &mt) < 0) {
                /* zstd layers need OCI media types: the image becomes an OCI image */
                res->format = IMAGE_FORMAT_OCI;
                (void) image_format_layer_type(res->format, c, &mt);
        }
        res->layers = xreallocarray(res->layers, res->n_layers + 2, sizeof(struct build_layer));
        struct build_layer *l = &res->layers[res->n_layers++];
        memset(l, 0, sizeof(*l));
        l->desc.media_type = xstrdup(mt);
        l->desc.digest = xstrdup(sr.layer.digest);
        l->desc.size = sr.layer.size;
        memcpy(l->diff_id, sr.layer.diff_id, DIGEST_STRING_SIZE);
        image_config_add_layer(res->config, sr.layer.diff_id);
        /* the root holds it: it was made from the root */
        s->applied = res->n_layers;
        b->current_layers = s->applied;
        b->layers_written++;
        log_info("Layer %s: %llu bytes (+%zu ~%zu -%zu)", sr.layer.digest,
                 (unsigned long long) sr.layer.size, sr.added, sr.modified, sr.deleted);
        return 1;
}

/* ---- steps ---- */

static bool may_change_files(enum df_kind k)
{
        return k == DF_RUN || k == DF_COPY || k == DF_ADD || k == DF_WORKDIR;
}

static int step_arg(struct stage_ctx *s, const struct df_inst *raw, struct lerr **err)
{
        for (size_t i = 0; i < raw->u.kv.n_kvs; i++) {
                const struct df_kv *kv = &raw->u.kv.kvs[i];
                int r = vars_arg(s->vars, kv->key, kv->value, raw->escape, 0, NULL, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int dispatch(struct stage_ctx *s, const struct df_inst *exp, struct step_out *out,
                    struct lerr **err)
{
        switch (exp->kind) {
        case DF_RUN:
                return step_run(s, exp, out, err);
        case DF_COPY:
        case DF_ADD:
                return step_copy(s, exp, out, err);
        case DF_FROM:
        case DF_ARG:
        case DF_KIND_COUNT:
                return lerr_set(err, EINVAL, "unexpected %s", df_kind_name(exp->kind));
        case DF_CMD:
        case DF_ENTRYPOINT:
        case DF_ENV:
        case DF_EXPOSE:
        case DF_HEALTHCHECK:
        case DF_LABEL:
        case DF_MAINTAINER:
        case DF_ONBUILD:
        case DF_SHELL:
        case DF_STOPSIGNAL:
        case DF_USER:
        case DF_VOLUME:
        case DF_WORKDIR:
                return step_meta(s, exp, out, err);
        }
        return lerr_set(err, EINVAL, "unknown instruction");
}

/* Errors of a step name where it is and what it was: "Dockerfile:4: step 2/3 'RUN exit 42':
 * ..." (keeping the error's exit status: a failing RUN's becomes the executor's). */
static int step_error(const struct stage_ctx *s, const char *filename, const struct df_inst *raw,
                      struct lerr **err)
{
        return lerr_wrap(err, "%s:%u: step %u/%u '%s'", filename, raw->line, s->step, s->n_steps,
                         raw->original);
}

static int run_step(struct stage_ctx *s, const struct df_inst *raw, const char *filename,
                    struct lerr **err)
{
        const struct options *o = s->b->o;
        _cleanup_(df_inst_freep) struct df_inst *exp = NULL;
        struct step_out out = {0};
        int r;

        s->step++;
        log_info("[%s %u/%u] %s", s->ps->name ? s->ps->name : "stage", s->step, s->n_steps,
                 raw->original);
        if (raw->kind == DF_ARG) {
                r = step_arg(s, raw, err);
                return r < 0 ? step_error(s, filename, raw, err) : 0;
        }
        r = df_inst_expand(raw, vars_expand_env(s->vars), 0, &exp, err);
        if (r < 0)
                return step_error(s, filename, raw, err);
        r = cache_step_lookup(s, raw, exp, err);
        if (r != 0)
                return r < 0 ? step_error(s, filename, raw, err) : 0;
        if (may_change_files(exp->kind)) {
                r = ensure_snapshotter(s, err);
                if (r < 0)
                        return r;
        }
        r = dispatch(s, exp, &out, err);
        if (r < 0) {
                strv_free(out.paths);
                return step_error(s, filename, raw, err);
        }
        bool layer = false;
        if (o->single_snapshot) {
                s->pending_changes |= out.changed;
        } else if (out.changed || o->force_build_metadata) {
                r = take_layer(s, out.paths, o->force_build_metadata ? SNAPSHOT_FORCE : 0, err);
                if (r < 0) {
                        strv_free(out.paths);
                        return step_error(s, filename, raw, err);
                }
                layer = r > 0;
                if (!layer)
                        log_info("No files changed in this command, skipping snapshotting.");
        }
        strv_free(out.paths);
        _cleanup_free_ char *created = stage_timestamp(s->b);
        image_config_add_history(s->res->config, created, raw->original, NULL, !layer);
        cache_step_done(s, raw, exp, layer);
        return 0;
}

static size_t count_steps(const struct df_stage *st, char *const *triggers)
{
        return st->n_insts + strv_length(triggers);
}

/* ONBUILD triggers of the base image run first, then leave the config (as Docker does). */
static int run_triggers(struct stage_ctx *s, char **triggers, struct lerr **err)
{
        strv_foreach (t, triggers) {
                _cleanup_(df_inst_freep) struct df_inst *inst = NULL;
                int r = dockerfile_parse_trigger(t, &inst, err);
                if (r >= 0)
                        r = run_step(s, inst, "ONBUILD", err);
                if (r < 0)
                        return lerr_wrap(err, "ONBUILD trigger of '%s'", s->ps->base);
        }
        return 0;
}

static void apply_labels(struct image_config *c, char *const *labels)
{
        strv_foreach (kv, labels) {
                _cleanup_free_ char *k = xstrdup(kv);
                char *eq = strchr(k, '=');
                if (eq)
                        *eq = '\0';
                image_config_set_label(c, k, eq ? eq + 1 : "");
        }
}

static int prepare_base(struct stage_ctx *s, struct lerr **err)
{
        int r;
        switch (s->ps->base_kind) {
        case PLAN_BASE_IMAGE:
                r = base_from_image(s, err);
                break;
        case PLAN_BASE_STAGE:
                r = base_from_stage(s);
                break;
        case PLAN_BASE_SCRATCH:
                r = base_scratch(s, err);
                break;
        default:
                r = lerr_set(err, EINVAL, "unknown base kind");
        }
        if (r >= 0 && s->ps->base_kind != PLAN_BASE_IMAGE)
                cache_stage_begin(s, NULL);
        if (r >= 0 && !cache_defers_root(s->b))
                r = stage_materialize(s, err);
        if (r < 0)
                return r;
        const struct vars *parent =
                s->ps->base_kind == PLAN_BASE_STAGE ? s->b->stages[s->ps->base_stage].vars : NULL;
        s->vars = vars_stage_new(s->b->plan->global, parent,
                                 parent                ? NULL
                                 : s->res->config->env ? s->res->config->env
                                                       : (char *[]){NULL});
        /* BuildKit gives an image without PATH the default one */
        strv_free(s->res->config->env);
        s->res->config->env = vars_config_env(s->vars);
        return 0;
}

int stage_build(struct build *b, unsigned i, struct lerr **err)
{
        const struct plan_stage *ps = &b->plan->stages[i];
        struct stage_ctx s = {.b = b, .index = i, .ps = ps, .res = &b->stages[i]};
        _cleanup_(strv_freep) char **triggers = NULL;

        if (ps->name)
                log_info("Building stage %u (%s): FROM %s", i, ps->name, ps->base);
        else
                log_info("Building stage %u: FROM %s", i, ps->base);
        int r = prepare_base(&s, err);
        if (r < 0) {
                cache_stage_done(&s, false);
                return lerr_wrap(err, "%s:%u: FROM %s", b->df->filename, ps->df->from->line,
                                 ps->base);
        }
        struct image_config *cfg = s.res->config;
        triggers = TAKE_PTR(cfg->onbuild);
        s.n_steps = (unsigned) count_steps(ps->df, triggers);
        r = run_triggers(&s, triggers, err);
        for (size_t k = 0; r >= 0 && k < ps->df->n_insts; k++)
                r = run_step(&s, ps->df->insts[k], b->df->filename, err);
        if (r >= 0 && b->o->single_snapshot && s.pending_changes) {
                r = take_layer(&s, NULL, 0, err);
                if (r > 0) {
                        _cleanup_free_ char *created = stage_timestamp(b);
                        image_config_add_history(cfg, created, "lading --single-snapshot", NULL,
                                                 false);
                }
        }
        snapshotter_free(s.snap);
        cache_stage_done(&s, r >= 0);
        if (r < 0) {
                vars_free(s.vars);
                return r;
        }
        /* --label wins over the Dockerfile's LABEL, as docker build --label does */
        apply_labels(cfg, b->o->labels);
        image_config_set_string(&cfg->created, b->created);
        s.res->vars = s.vars;
        s.res->built = true;
        return 0;
}
