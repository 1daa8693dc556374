/* SPDX-License-Identifier: Apache-2.0 */
/* The layer cache's part of the build, outside the steps: opening the cache repository (probed
 * on a thread) and the base-image cache, pushing new entries on a background thread, the
 * totals at the end. The steps' side is cache_steps.c; the storage cache_store.c's. */
#include "executor/cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/log.h"
#include "executor/blobstore.h"
#include "executor/build-internal.h"
#include "executor/cache-internal.h"
#include "executor/oci_layout.h"
#include "executor/options.h"
#include "executor/warmer.h"
#include "registry/registry.h"

/* after this many failed pushes in a row the rest are not tried (the repository refuses) */
#define PUSH_GIVE_UP 3

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
void cache_wait_probe(struct build_cache *c)
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

void cache_queue_push(struct build_cache *c, struct push_job *j)
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
        free(c->stage_ran);
        pthread_mutex_destroy(&c->lock);
        pthread_cond_destroy(&c->cond);
        free(c);
}

bool cache_defers_root(const struct build *b)
{
        return b->cache && b->cache->store;
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
