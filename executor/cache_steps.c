/* SPDX-License-Identifier: Apache-2.0 */
/* The layer cache in each stage: the key chain, the inputs of each step's key (its text,
 * environment, config, files), serving a step from the cache or queueing its push once it
 * ran. The keys are cache_key.c's; the root and the snapshots stay stage.c's. */
#include "executor/cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/log.h"
#include "common/strv.h"
#include "executor/build-internal.h"
#include "executor/cache-internal.h"
#include "executor/dockerignore.h"
#include "executor/git_fetch.h"
#include "executor/image_config.h"
#include "executor/instructions.h"
#include "executor/options.h"
#include "executor/planner.h"
#include "executor/url_fetch.h"
#include "executor/vars.h"
#include "registry/registry.h"

#define ADD_URL_MAX_BYTES (UINT64_C(64) << 30)

struct download {
        char *url;
        int fd;
        struct url_fetch_result res;
};

struct git_commit {
        char *src; /* the ADD source as written */
        char id[GIT_OID_HEXSZ + 1];
};

struct stage_cache {
        char key[DIGEST_STRING_SIZE];      /* the chain so far; "" once it is broken */
        char step_key[DIGEST_STRING_SIZE]; /* the step being run */
        bool step_push;                    /* push it once it ran */
        unsigned ran_run_step;             /* the first RUN that ran, 0 if none */
        bool base_ran;                     /* a RUN of the stage this one is based on ran */
        char **served, **ran;              /* step numbers, for the summary */
        struct download *downloads;
        size_t n_downloads;
        struct git_commit *git_commits; /* ADD git sources the keys resolved */
        size_t n_git_commits;
};

/* ---- stages ---- */

void cache_stage_begin(struct stage_ctx *s, const char *base_digest)
{
        struct build_cache *c = s->b->cache;
        if (!c || !c->store || s->cache)
                return;
        struct stage_cache *sc = xcalloc(1, sizeof(*sc));
        s->cache = sc;
        const struct plan_stage *ps = s->ps;
        switch (ps->base_kind) {
        case PLAN_BASE_IMAGE:
                if (base_digest)
                        cache_key_root_image(base_digest, &c->fmt, sc->key);
                break;
        case PLAN_BASE_STAGE:
                /* the chain goes on, and so does "a RUN ran": the entries above were made on
                 * the files of the base stage's earlier run */
                if (ps->base_stage >= 0 && (size_t) ps->base_stage < c->n_stages &&
                    c->stage_keys[ps->base_stage]) {
                        memcpy(sc->key, c->stage_keys[ps->base_stage], DIGEST_STRING_SIZE);
                        sc->base_ran = c->stage_ran[ps->base_stage];
                }
                break;
        case PLAN_BASE_SCRATCH: {
                const char *p = ps->platform ? ps->platform : s->b->plan->target_platform;
                cache_key_root_scratch(p ? p : "", &c->fmt, sc->key);
                break;
        }
        }
        if (!sc->key[0])
                log_debug("stage %u: no cache key chain (its base stage has none)", s->index);
}

static char *join_steps(char *const *v)
{
        return v && v[0] ? strv_join(v, ", ") : xstrdup("none");
}

void cache_stage_done(struct stage_ctx *s, bool built)
{
        struct build_cache *c = s->b->cache;
        struct stage_cache *sc = s->cache;
        if (!sc)
                return;
        if (built) {
                if (!c->stage_keys) {
                        c->n_stages = s->b->plan->n_stages;
                        c->stage_keys = xcalloc(c->n_stages, sizeof(char *));
                        c->stage_ran = xcalloc(c->n_stages, sizeof(bool));
                }
                if (sc->key[0] && s->index < c->n_stages)
                        c->stage_keys[s->index] = xstrdup(sc->key);
                if (s->index < c->n_stages)
                        c->stage_ran[s->index] = sc->ran_run_step || sc->base_ran;
                _cleanup_free_ char *served = join_steps(sc->served);
                _cleanup_free_ char *ran = join_steps(sc->ran);
                if (!s->live) {
                        c->stages_from_cache++;
                        log_info("Cache: stage %u: every step from the cache (%s), nothing "
                                 "extracted or run",
                                 s->index, served);
                } else
                        log_info("Cache: stage %u: steps from the cache: %s; steps run: %s",
                                 s->index, served, ran);
        }
        for (size_t i = 0; i < sc->n_downloads; i++) {
                free(sc->downloads[i].url);
                if (sc->downloads[i].fd >= 0)
                        (void) close(sc->downloads[i].fd);
        }
        free(sc->downloads);
        for (size_t i = 0; i < sc->n_git_commits; i++)
                free(sc->git_commits[i].src);
        free(sc->git_commits);
        strv_free(sc->served);
        strv_free(sc->ran);
        free(sc);
        s->cache = NULL;
}

/* ---- keys of steps ---- */

static bool is_url(const char *s)
{
        return startswith(s, "http://") || startswith(s, "https://");
}

/* An ADD git source: its URL and the commit its ref names now (asked of the server; the
 * step checks out that same commit). */
static int hash_git(struct stage_ctx *s, struct cache_hash *h, const char *src, struct lerr **err)
{
        struct stage_cache *sc = s->cache;
        _cleanup_(git_source_done) struct git_source gs = {0};
        char id[GIT_OID_HEXSZ + 1];
        int r = git_source_from_add(src, &gs, err);
        if (r < 0)
                return r;
        struct git_remote_opts go = {.allow_http = startswith(gs.url, "http://") != NULL};
        r = git_resolve(&gs, &go, id, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *shown = git_url_redacted(gs.url);
        cache_hash_str(h, 'G', shown);
        cache_hash_str(h, 'C', id);
        sc->git_commits =
                xreallocarray(sc->git_commits, sc->n_git_commits + 1, sizeof(*sc->git_commits));
        struct git_commit *gc = &sc->git_commits[sc->n_git_commits++];
        gc->src = xstrdup(src);
        memcpy(gc->id, id, sizeof(id));
        return 0;
}

/* The files of another stage or an image: the stage's final key (it stands for its files:
 * by the cache's premise equal keys give equal files), or the image's manifest digest. */
static int hash_other(struct stage_ctx *s, struct cache_hash *h, const char *from,
                      struct lerr **err)
{
        struct build *b = s->b;
        int stage = -1;
        int r = plan_resolve_from(b->plan, s->index, from, true, NULL, &stage, err);
        if (r < 0)
                return r;
        if (stage >= 0) {
                struct build_cache *c = b->cache;
                if ((size_t) stage >= c->n_stages || !c->stage_keys[stage])
                        return lerr_set(err, ENOENT, "stage '%s' has no cache key", from);
                cache_hash_str(h, 'S', c->stage_keys[stage]);
                return 0;
        }
        _cleanup_(reg_image_freep) struct reg_image *img = NULL;
        r = base_resolve_image(b, from, NULL, &img, NULL, err);
        if (r < 0)
                return r;
        cache_hash_str(h, 'I', img->digest);
        return 0;
}

/* An ADD URL without --checksum: downloaded now (its key needs the bytes); the step reuses
 * the download if it runs. */
static int hash_url(struct stage_ctx *s, struct cache_hash *h, const char *url, struct lerr **err)
{
        struct stage_cache *sc = s->cache;
        _cleanup_free_ char *tmp =
                xasprintf("%s/cache-download-%u-%zu", s->b->kaniko_dir, s->index, sc->n_downloads);
        _cleanup_close_ int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return lerr_errno(err, errno, "create '%s'", tmp);
        (void) unlink(tmp);
        struct url_fetch_opts fo = {.max_bytes = ADD_URL_MAX_BYTES, .retries = 2};
        struct url_fetch_result res;
        log_info("Downloading %s", url);
        int r = url_fetch(url, fd, &fo, &res, err);
        if (r < 0)
                return r;
        cache_hash_str(h, 'K', res.digest);
        sc->downloads = xreallocarray(sc->downloads, sc->n_downloads + 1, sizeof(*sc->downloads));
        sc->downloads[sc->n_downloads++] =
                (struct download){.url = xstrdup(url), .fd = TAKE_FD(fd), .res = res};
        return 0;
}

static int hash_copy_files(struct stage_ctx *s, const struct df_inst *exp, struct cache_hash *h,
                           struct lerr **err)
{
        const struct df_copy *cp = &exp->u.copy;
        _cleanup_(strv_freep) char **local = NULL;
        int r = 0;
        strv_foreach (src, cp->sources) {
                if (exp->kind == DF_ADD && git_is_add_source(src)) {
                        r = hash_git(s, h, src, err);
                        if (r < 0)
                                return r;
                } else if (is_url(src)) {
                        cache_hash_str(h, 'U', src);
                        r = cp->checksum ? (cache_hash_str(h, 'K', cp->checksum), 0)
                                         : hash_url(s, h, src, err);
                        if (r < 0)
                                return r;
                } else
                        strv_push(&local, src);
        }
        if (!local)
                return 0;
        if (cp->from)
                return hash_other(s, h, cp->from, err);
        _cleanup_(dockerignore_freep) struct dockerignore *excludes = NULL;
        struct copy_filter f = {.ignore = s->b->ignore_file};
        if (cp->excludes && cp->excludes[0]) {
                r = dockerignore_from_patterns(cp->excludes, &excludes, err);
                if (r < 0)
                        return r;
                f.excludes = excludes;
        }
        struct copy_opts o = {
                .instruction = exp->kind == DF_ADD ? "ADD" : "COPY",
                .chown = cp->chown != NULL,
                .parents = cp->parents,
                .filter = step_copy_filter,
                .filter_userdata = &f,
                .source_name = "build context",
        };
        return cache_hash_sources(h, s->b->context_fd, local, &o, err);
}

static int hash_run_files(struct stage_ctx *s, const struct df_inst *exp, struct cache_hash *h,
                          bool *any, struct lerr **err)
{
        const struct df_run *run = &exp->u.run;
        for (size_t i = 0; i < run->n_mounts; i++) {
                const struct df_mount *m = &run->mounts[i];
                if (m->type != DF_MOUNT_BIND)
                        continue;
                *any = true;
                cache_hash_u64(h, 'm', i);
                int r = m->from ? hash_other(s, h, m->from, err)
                                : cache_hash_tree(h, s->b->context_fd,
                                                  m->source && *m->source ? m->source : ".", err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The digest of what the step reads besides its text, into files (empty when nothing). */
static int files_digest(struct stage_ctx *s, const struct df_inst *exp,
                        char files[DIGEST_STRING_SIZE], struct lerr **err)
{
        struct cache_hash h;
        bool any = false;
        int r = 0;
        cache_hash_init(&h, "files");
        if (exp->kind == DF_COPY || exp->kind == DF_ADD) {
                any = true;
                r = hash_copy_files(s, exp, &h, err);
        } else if (exp->kind == DF_RUN)
                r = hash_run_files(s, exp, &h, &any, err);
        if (r < 0 || !any) {
                cache_hash_done(&h);
                files[0] = '\0';
                return r;
        }
        cache_hash_final(&h, files);
        return 0;
}

static int step_key(struct stage_ctx *s, const struct df_inst *exp, char key[DIGEST_STRING_SIZE],
                    struct lerr **err)
{
        const struct image_config *cfg = s->res->config;
        struct cache_text_ctx tc = {.shell = stage_shell(s)};
        _cleanup_free_ char *abs = NULL, *text = NULL;
        _cleanup_(strv_freep) char **run_env = NULL, **declared = NULL, **config_env = NULL,
                                   **env = NULL;
        char files[DIGEST_STRING_SIZE];
        if (exp->kind == DF_COPY || exp->kind == DF_ADD) {
                abs = stage_abs_path(s, exp->u.copy.dest);
                tc.abs_dest = abs;
        } else if (exp->kind == DF_WORKDIR) {
                abs = stage_abs_path(s, exp->u.value);
                size_t n = strlen(abs);
                if (n > 1 && abs[n - 1] == '/')
                        abs[n - 1] = '\0';
                tc.abs_path = abs;
        }
        int r = cache_inst_text(exp, &tc, &text, err);
        if (r >= 0)
                r = files_digest(s, exp, files, err);
        if (r < 0)
                return r;
        struct cache_step st = {
                .parent = s->cache->key, .text = text, .files = files[0] ? files : NULL};
        if (exp->kind == DF_RUN) {
                run_env = vars_run_env(s->vars);
                declared = vars_declared_args(s->vars);
                config_env = vars_config_env(s->vars);
                env = cache_run_env(run_env, declared, config_env);
                st.env = env;
                st.user = strempty(cfg->user);
                st.workdir = strempty(cfg->working_dir);
                st.shell = cfg->shell;
        } else if (exp->kind == DF_WORKDIR)
                st.user = strempty(cfg->user);
        cache_key_step(&st, key);
        return 0;
}

/* ---- serving and pushing ---- */

static bool cacheable(const struct options *o, enum df_kind k)
{
        return (k == DF_RUN && o->cache_run_layers) ||
               ((k == DF_COPY || k == DF_ADD) && o->cache_copy_layers) || k == DF_WORKDIR;
}

static void note_step(char ***list, unsigned step)
{
        strv_consume(list, xasprintf("%u", step));
}

static int serve(struct stage_ctx *s, const struct df_inst *raw, const struct df_inst *exp,
                 struct cache_entry *e, struct lerr **err)
{
        struct stage_result *res = s->res;
        const struct image_ref *repo = cache_store_repo(s->b->cache->store);
        if (e->has_layer) {
                if (res->format == IMAGE_FORMAT_DOCKER &&
                    streq(e->layer.media_type, MEDIA_OCI_LAYER_ZSTD))
                        res->format = IMAGE_FORMAT_OCI; /* zstd layers need OCI media types */
                res->layers =
                        xreallocarray(res->layers, res->n_layers + 2, sizeof(struct build_layer));
                struct build_layer *l = &res->layers[res->n_layers++];
                memset(l, 0, sizeof(*l));
                l->desc = e->layer;
                memset(&e->layer, 0, sizeof(e->layer));
                memcpy(l->diff_id, e->diff_id, DIGEST_STRING_SIZE);
                l->source = repo ? image_ref_dup(repo) : NULL;
                image_config_add_layer(res->config, e->diff_id);
        }
        if (exp->kind == DF_WORKDIR) {
                struct step_out out = {0};
                s->config_only = true;
                int r = step_meta(s, exp, &out, err);
                s->config_only = false;
                strv_free(out.paths);
                if (r < 0)
                        return r;
        }
        _cleanup_free_ char *created = stage_timestamp(s->b);
        image_config_add_history(res->config, created, raw->original, NULL, !e->has_layer);
        return 0;
}

/* Advances the chain by the step's key; true when the step is cacheable (its key then in
 * sc->step_key). */
static bool chain_step(struct stage_ctx *s, const struct df_inst *raw, const struct df_inst *exp)
{
        struct stage_cache *sc = s->cache;
        char key[DIGEST_STRING_SIZE];
        struct lerr *e = NULL;
        if (exp->kind != DF_RUN && exp->kind != DF_COPY && exp->kind != DF_ADD &&
            exp->kind != DF_WORKDIR)
                return false; /* metadata: in later keys only through the config and variables */
        if (!sc->key[0])
                return false;
        if (step_key(s, exp, key, &e) < 0) {
                /* the step will fail or run without the cache; later steps cannot chain */
                log_info("No cache key for cmd %s (%s): this step and the rest of the stage run "
                         "without the cache",
                         raw->original, lerr_message(e));
                lerr_free(e);
                sc->key[0] = '\0';
                return false;
        }
        memcpy(sc->key, key, sizeof(key));
        if (!cacheable(s->b->cache->o, exp->kind))
                return false;
        memcpy(sc->step_key, key, sizeof(key));
        return true;
}

int cache_step_lookup(struct stage_ctx *s, const struct df_inst *raw, const struct df_inst *exp,
                      struct lerr **err)
{
        struct build_cache *c = s->b->cache;
        struct stage_cache *sc = s->cache;
        if (!c || !sc)
                return 0;
        sc->step_push = false;
        sc->step_key[0] = '\0';
        if (!chain_step(s, raw, exp))
                return 0;
        const char *key = sc->step_key;
        struct lerr *e = NULL;
        cache_wait_probe(c);
        sc->step_push = c->pushes;
        if (!c->lookups)
                return 0;
        struct cache_entry ce = {0};
        int r = cache_store_get(c->store, key, &ce, &e);
        if (r < 0) {
                if (!c->lookup_warned)
                        log_warn("Cache lookup failed, running the step: %s", lerr_message(e));
                c->lookup_warned = true;
                lerr_free(e);
                return 0;
        }
        if (r == 0) {
                log_info("No cached layer found for cmd %s (key %s)", raw->original, key);
                return 0;
        }
        int64_t age = (int64_t) time(NULL) - ce.created;
        if (age > c->o->cache_ttl_ns / 1000000000LL) {
                log_info("Cached layer for cmd %s has expired (made %llds ago, --cache-ttl %llds)",
                         raw->original, (long long) age,
                         (long long) (c->o->cache_ttl_ns / 1000000000LL));
                cache_entry_done(&ce);
                return 0;
        }
        if (sc->ran_run_step || sc->base_ran) {
                if (sc->ran_run_step)
                        log_info("Cached layer for cmd %s not used: the RUN at step %u of this "
                                 "stage ran",
                                 raw->original, sc->ran_run_step);
                else
                        log_info("Cached layer for cmd %s not used: a RUN of the stage this one "
                                 "is based on ran",
                                 raw->original);
                cache_entry_done(&ce);
                return 0;
        }
        log_info("Using caching version of cmd: %s (key %s)", raw->original, key);
        if (ce.has_layer)
                log_info("Layer %s: %llu bytes, from the cache", ce.layer.digest,
                         (unsigned long long) ce.layer.size);
        else
                log_info("No layer: the step changed no file");
        r = serve(s, raw, exp, &ce, err);
        cache_entry_done(&ce);
        if (r < 0)
                return r;
        sc->step_push = false;
        c->served++;
        note_step(&sc->served, s->step);
        return 1;
}

void cache_step_done(struct stage_ctx *s, const struct df_inst *raw, const struct df_inst *exp,
                     bool layer)
{
        struct build_cache *c = s->b->cache;
        struct stage_cache *sc = s->cache;
        if (!c || !sc)
                return;
        if (exp->kind == DF_RUN || exp->kind == DF_COPY || exp->kind == DF_ADD ||
            exp->kind == DF_WORKDIR) {
                c->ran++;
                note_step(&sc->ran, s->step);
        }
        if (exp->kind == DF_RUN && !sc->ran_run_step)
                sc->ran_run_step = s->step;
        if (!sc->step_push || !sc->step_key[0])
                return;
        struct push_job *j = xcalloc(1, sizeof(*j));
        memcpy(j->key, sc->step_key, DIGEST_STRING_SIZE);
        j->e.created = (int64_t) time(NULL);
        j->e.created_by = xstrdup(raw->original);
        if (layer) {
                struct build_layer *l = &s->res->layers[s->res->n_layers - 1];
                j->e.has_layer = true;
                descriptor_copy(&j->e.layer, &l->desc);
                memcpy(j->e.diff_id, l->diff_id, DIGEST_STRING_SIZE);
                /* the destination push may then mount it from the cache repository */
                const struct image_ref *repo = cache_store_repo(c->store);
                if (!l->source && repo)
                        l->source = image_ref_dup(repo);
        }
        const struct image_config *cfg = s->res->config;
        j->os = xstrdup(cfg->os ? cfg->os : "linux");
        j->arch = xstrdup(cfg->architecture ? cfg->architecture : "amd64");
        j->variant = cfg->variant ? xstrdup(cfg->variant) : NULL;
        cache_queue_push(c, j);
        sc->step_push = false;
}

int cache_take_download(struct stage_ctx *s, const char *url, struct url_fetch_result *ret)
{
        struct stage_cache *sc = s->cache;
        for (size_t i = 0; sc && i < sc->n_downloads; i++) {
                struct download *d = &sc->downloads[i];
                if (d->fd < 0 || !streq(d->url, url))
                        continue;
                if (lseek(d->fd, 0, SEEK_SET) < 0)
                        return -errno;
                *ret = d->res;
                return TAKE_FD(d->fd);
        }
        return -ENOENT;
}

const char *cache_git_commit(struct stage_ctx *s, const char *src)
{
        struct stage_cache *sc = s->cache;
        for (size_t i = 0; sc && i < sc->n_git_commits; i++)
                if (streq(sc->git_commits[i].src, src))
                        return sc->git_commits[i].id;
        return NULL;
}
