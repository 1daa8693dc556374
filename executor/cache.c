/* SPDX-License-Identifier: Apache-2.0 */
/* The layer cache's part of the build: opening the cache repository and the base-image cache,
 * each stage's key chain, serving steps from the cache, pushing new entries on a background
 * thread. The keys are cache_key.c's, the storage cache_store.c's; the root and the snapshots
 * stay stage.c's. */
#include "executor/cache.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/log.h"
#include "common/strv.h"
#include "executor/blobstore.h"
#include "executor/build-internal.h"
#include "executor/cache_key.h"
#include "executor/cache_store.h"
#include "executor/dockerignore.h"
#include "executor/image_config.h"
#include "executor/instructions.h"
#include "executor/oci_layout.h"
#include "executor/options.h"
#include "executor/planner.h"
#include "executor/url_fetch.h"
#include "executor/vars.h"
#include "executor/warmer.h"
#include "registry/registry.h"

#define ADD_URL_MAX_BYTES (UINT64_C(64) << 30)
/* after this many failed pushes in a row the rest are not tried (the repository refuses) */
#define PUSH_GIVE_UP 3

struct push_job {
        struct push_job *next;
        char key[DIGEST_STRING_SIZE];
        struct cache_entry e;
        char *os, *arch, *variant;
};

struct build_cache {
        const struct options *o;
        struct cache_store *store; /* NULL: no layer cache */
        struct oci_layout *warm;   /* --cache-dir, NULL when there is none */
        struct cache_layer_format fmt;
        bool want_push;

        /* the probe of the cache repository, on a thread */
        pthread_t probe_thread;
        bool probe_started, probe_done;
        struct lerr *probe_pull_err, *probe_push_err;
        bool lookups, pushes; /* once the probe is done */

        /* the pusher */
        pthread_mutex_t lock;
        pthread_cond_t cond;
        struct push_job *head, **tail;
        bool stop, pusher_started, give_up;
        pthread_t pusher;
        unsigned pushed, failed, failed_in_a_row;
        struct lerr *push_err;
        struct blobstore *blobs;

        char **stage_keys; /* final key of each plan stage, NULL when it has none */
        size_t n_stages;
        unsigned served, ran, stages_from_cache;
        bool lookup_warned;
};

struct download {
        char *url;
        int fd;
        struct url_fetch_result res;
};

struct stage_cache {
        char key[DIGEST_STRING_SIZE];      /* the chain so far; "" once it is broken */
        char step_key[DIGEST_STRING_SIZE]; /* the step being run */
        bool step_push;                    /* push it once it ran */
        unsigned ran_run_step;             /* the first RUN that ran, 0 if none */
        char **served, **ran;              /* step numbers, for the summary */
        struct download *downloads;
        size_t n_downloads;
};

/* ---- opening, probing, finishing ---- */

static char *default_repo(const struct options *o)
{
        if (o->cache_repo && *o->cache_repo)
                return xstrdup(o->cache_repo);
        _cleanup_(image_ref_freep) struct image_ref *ref = NULL;
        if (!o->destinations || !o->destinations[0] ||
            image_ref_parse(o->destinations[0], &ref, NULL) < 0)
                return NULL;
        return xasprintf("%s/cache", ref->name);
}

static void *probe_main(void *arg)
{
        struct build_cache *c = arg;
        if (cache_store_probe(c->store, false, &c->probe_pull_err) >= 0 && c->want_push)
                (void) cache_store_probe(c->store, true, &c->probe_push_err);
        return NULL;
}

/* Waits for the probe and says once what it found. */
static void wait_probe(struct build_cache *c)
{
        if (c->probe_done)
                return;
        if (c->probe_started)
                pthread_join(c->probe_thread, NULL);
        else
                probe_main(c);
        c->probe_done = true;
        c->lookups = !c->probe_pull_err;
        c->pushes = c->want_push && !c->probe_pull_err && !c->probe_push_err;
        if (c->probe_pull_err)
                log_warn("Cache repository %s is not usable, building without the layer cache: "
                         "%s",
                         cache_store_name(c->store), lerr_message(c->probe_pull_err));
        else if (c->probe_push_err)
                log_warn("Cannot push to cache repository %s, new layers will not be cached: %s",
                         cache_store_name(c->store), lerr_message(c->probe_push_err));
}

static int open_warm(struct build *b, struct build_cache *c)
{
        const char *dir = b->o->cache_dir;
        struct lerr *e = NULL;
        if (!dir || !*dir)
                return 0;
        int r = oci_layout_open(dir, false, &c->warm, &e);
        if (r < 0) {
                log_debug("no base-image cache in '%s': %s", dir, lerr_message(e));
                lerr_free(e);
                return 0;
        }
        r = blobstore_add_fallback(b->blobs, oci_layout_blobs_fd(c->warm));
        if (r < 0) {
                oci_layout_free(c->warm);
                c->warm = NULL;
                return 0;
        }
        log_info("Using the base-image cache in %s", dir);
        return 0;
}

int cache_open(struct build *b, struct lerr **err)
{
        const struct options *o = b->o;
        struct build_cache *c = xcalloc(1, sizeof(*c));
        c->o = o;
        c->fmt.compression = o->compression == COMPRESSION_ZSTD ? "zstd" : "gzip";
        c->fmt.reproducible = o->reproducible;
        c->want_push = !o->no_push_cache;
        c->blobs = b->blobs;
        c->tail = &c->head;
        pthread_mutex_init(&c->lock, NULL);
        pthread_cond_init(&c->cond, NULL);
        b->cache = c;
        (void) open_warm(b, c);
        if (o->single_snapshot) {
                log_warn("--cache caches no layers with --single-snapshot (one layer per stage); "
                         "only --cache-dir is used");
                return 0;
        }
        _cleanup_free_ char *spec = default_repo(o);
        if (!spec) {
                log_warn("--cache without --cache-repo or --destination: no layer cache");
                return 0;
        }
        int r = cache_store_open(spec, b->reg, &c->store, err);
        if (r < 0)
                return r;
        if (cache_store_blobs_fd(c->store) >= 0)
                (void) blobstore_add_fallback(b->blobs, cache_store_blobs_fd(c->store));
        c->probe_started = pthread_create(&c->probe_thread, NULL, probe_main, c) == 0;
        log_info("Using the layer cache in %s", cache_store_name(c->store));
        return 0;
}

static void *pusher_main(void *arg)
{
        struct build_cache *c = arg;
        pthread_mutex_lock(&c->lock);
        for (;;) {
                while (!c->head && !c->stop)
                        pthread_cond_wait(&c->cond, &c->lock);
                struct push_job *j = c->head;
                if (!j)
                        break;
                c->head = j->next;
                if (!c->head)
                        c->tail = &c->head;
                bool give_up = c->give_up;
                pthread_mutex_unlock(&c->lock);
                struct lerr *e = NULL;
                int r = give_up ? -ECANCELED
                                : cache_store_put(c->store, j->key, &j->e, j->os, j->arch,
                                                  j->variant, c->blobs, &e);
                if (r >= 0)
                        log_debug("pushed cache entry %s (%s)", j->key, strempty(j->e.created_by));
                pthread_mutex_lock(&c->lock);
                if (r < 0) {
                        c->failed++;
                        if (++c->failed_in_a_row >= PUSH_GIVE_UP)
                                c->give_up = true;
                        if (!c->push_err)
                                c->push_err = TAKE_PTR(e);
                } else {
                        c->pushed++;
                        c->failed_in_a_row = 0;
                }
                lerr_free(e);
                cache_entry_done(&j->e);
                free(j->os);
                free(j->arch);
                free(j->variant);
                free(j);
        }
        pthread_mutex_unlock(&c->lock);
        return NULL;
}

static void queue_push(struct build_cache *c, struct push_job *j)
{
        pthread_mutex_lock(&c->lock);
        if (!c->pusher_started && !c->stop)
                c->pusher_started = pthread_create(&c->pusher, NULL, pusher_main, c) == 0;
        if (!c->pusher_started) {
                /* no thread: push now, in line */
                pthread_mutex_unlock(&c->lock);
                struct lerr *e = NULL;
                if (cache_store_put(c->store, j->key, &j->e, j->os, j->arch, j->variant, c->blobs,
                                    &e) < 0) {
                        c->failed++;
                        if (!c->push_err)
                                c->push_err = TAKE_PTR(e);
                } else
                        c->pushed++;
                lerr_free(e);
                cache_entry_done(&j->e);
                free(j->os);
                free(j->arch);
                free(j->variant);
                free(j);
                return;
        }
        *c->tail = j;
        c->tail = &j->next;
        pthread_cond_signal(&c->cond);
        pthread_mutex_unlock(&c->lock);
}

void cache_finish(struct build *b)
{
        struct build_cache *c = b->cache;
        if (!c)
                return;
        pthread_mutex_lock(&c->lock);
        c->stop = true;
        bool started = c->pusher_started;
        pthread_cond_broadcast(&c->cond);
        pthread_mutex_unlock(&c->lock);
        int64_t t0 = build_now_ns();
        if (started)
                pthread_join(c->pusher, NULL);
        if (c->probe_started && !c->probe_done) {
                pthread_join(c->probe_thread, NULL);
                c->probe_done = true;
        }
        if (started)
                log_debug("waited %.2fs for cache pushes", (double) (build_now_ns() - t0) / 1e9);
        if (c->failed)
                log_warn("Could not push %u of %u cache entries to %s: %s", c->failed,
                         c->failed + c->pushed, cache_store_name(c->store),
                         c->push_err ? lerr_message(c->push_err) : "not tried after failures");
        if (c->store)
                log_info("Cache: %u steps served from the cache, %u run, %u entries pushed to %s",
                         c->served, c->ran, c->pushed, cache_store_name(c->store));
}

void cache_free(struct build_cache *c)
{
        if (!c)
                return;
        while (c->head) {
                struct push_job *j = c->head;
                c->head = j->next;
                cache_entry_done(&j->e);
                free(j->os);
                free(j->arch);
                free(j->variant);
                free(j);
        }
        cache_store_free(c->store);
        oci_layout_free(c->warm);
        lerr_free(c->probe_pull_err);
        lerr_free(c->probe_push_err);
        lerr_free(c->push_err);
        for (size_t i = 0; i < c->n_stages; i++)
                free(c->stage_keys[i]);
        free(c->stage_keys);
        pthread_mutex_destroy(&c->lock);
        pthread_cond_destroy(&c->cond);
        free(c);
}

bool cache_defers_root(const struct build *b)
{
        return b->cache && b->cache->store;
}

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
                if (ps->base_stage >= 0 && (size_t) ps->base_stage < c->n_stages &&
                    c->stage_keys[ps->base_stage])
                        memcpy(sc->key, c->stage_keys[ps->base_stage], DIGEST_STRING_SIZE);
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
                }
                if (sc->key[0] && s->index < c->n_stages)
                        c->stage_keys[s->index] = xstrdup(sc->key);
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

static bool is_git(const char *s)
{
        size_t n = strlen(s);
        return startswith(s, "git@") || startswith(s, "git://") ||
               (is_url(s) && ((n > 4 && streq(s + n - 4, ".git")) || strstr(s, ".git#")));
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
                if (is_git(src))
                        return lerr_set(err, ENOTSUP, "git source '%s'", src);
                if (is_url(src)) {
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

int cache_step_lookup(struct stage_ctx *s, const struct df_inst *raw, const struct df_inst *exp,
                      struct lerr **err)
{
        struct build_cache *c = s->b->cache;
        struct stage_cache *sc = s->cache;
        if (!c || !sc)
                return 0;
        sc->step_push = false;
        sc->step_key[0] = '\0';
        if (exp->kind != DF_RUN && exp->kind != DF_COPY && exp->kind != DF_ADD &&
            exp->kind != DF_WORKDIR)
                return 0; /* metadata: in later keys only through the config and variables */
        if (!sc->key[0])
                return 0;
        char key[DIGEST_STRING_SIZE];
        struct lerr *e = NULL;
        if (step_key(s, exp, key, &e) < 0) {
                /* the step will fail or run without the cache; later steps cannot chain */
                log_info("No cache key for cmd %s (%s): this step and the rest of the stage run "
                         "without the cache",
                         raw->original, lerr_message(e));
                lerr_free(e);
                sc->key[0] = '\0';
                return 0;
        }
        memcpy(sc->key, key, sizeof(key));
        if (!cacheable(c->o, exp->kind))
                return 0;
        memcpy(sc->step_key, key, sizeof(key));
        wait_probe(c);
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
        if (sc->ran_run_step) {
                log_info("Cached layer for cmd %s not used: the RUN at step %u of this stage ran",
                         raw->original, sc->ran_run_step);
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
        queue_push(c, j);
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

/* ---- base images from --cache-dir ---- */

int cache_warm_image(struct build *b, const struct image_ref *ref, const struct platform *platform,
                     struct reg_image **ret)
{
        struct build_cache *c = b->cache;
        if (!c || !c->warm)
                return 0;
        struct lerr *e = NULL;
        int r = warm_load(c->warm, ref, platform, c->o->cache_ttl_ns, ret, &e);
        if (r < 0) {
                log_warn("Base-image cache %s: %s; pulling instead", oci_layout_path(c->warm),
                         lerr_message(e));
                lerr_free(e);
                return 0;
        }
        return r;
}
