/* SPDX-License-Identifier: Apache-2.0 */
/* The layer cache in the build (--cache): the hooks the build calls, nothing else.
 *
 * - cache_open() opens the cache repository (a registry repository, default
 *   "<first destination repository>/cache", or "oci:DIR") and the warmer's base-image cache
 *   (--cache-dir); the repository is probed on a thread while the build reads its context.
 *   Unreachable or unauthorized: one warning, and the build goes on without the cache.
 * - Each stage starts a chain (cache_stage_begin) and every RUN, COPY, ADD and WORKDIR gets a
 *   key (cache_key.h). A cacheable step (RUN with --cache-run-layers, COPY/ADD with
 *   --cache-copy-layers, WORKDIR always) whose key is in the cache and not older than
 *   --cache-ttl is served from it (cache_step_lookup): its layer, or no layer, is added to the
 *   image and nothing runs; the root is not touched (stage.c extracts pending layers only when
 *   a later step needs the files). Every cacheable step is looked up, also after a miss; but
 *   once a RUN of a stage has run, later hits of that stage are not used: a RUN's output is
 *   not determined by its key, and the cached layers above it were made on another output.
 *   COPY, ADD and WORKDIR are determined by their keys, so running one does not stop hits.
 * - A cacheable step that ran is pushed to the cache repository by a background thread
 *   (cache_step_done); the build waits for the pushes only at its end (cache_finish). A failed
 *   push is one warning for the whole build.
 * - Base images: a reference found in --cache-dir (filled by the warmer, see warmer.h) is
 *   read from there, without the registry (cache_warm_image).
 *
 * Log lines (stable, for people and tests):
 *   "Using caching version of cmd: <instruction>"   (Kaniko's wording), then the key and layer
 *   "No cached layer found for cmd <instruction>"
 *   "Cached layer for cmd <instruction> not used: the RUN at step N of this stage ran"
 *   "Cached layer for cmd <instruction> has expired"
 *   "Cache: stage N: ..." (a summary per stage) */
#pragma once

#include <stdbool.h>

struct lerr;
struct build;
struct build_cache;
struct stage_ctx;
struct df_inst;
struct image_ref;
struct platform;
struct reg_image;
struct url_fetch_result;

/* build.c: with --cache, once the registry client and the blobstore exist. Fails only for a
 * malformed --cache-repo; everything else about the cache is a warning. */
int cache_open(struct build *b, struct lerr **err);
/* build.c, at the end of every build (failed or not): waits for the pushes, warns once if some
 * failed, logs the totals. */
void cache_finish(struct build *b);
void cache_free(struct build_cache *c);

/* stage.c: whether a stage's base may stay unextracted until a step needs the files. */
bool cache_defers_root(const struct build *b);
/* stage.c: the chain's root once the base is known: the image manifest digest for a base
 * image, NULL for a stage or scratch. */
void cache_stage_begin(struct stage_ctx *s, const char *base_digest);
/* stage.c, run_step, for an expanded instruction: 1 when the step was served from the cache
 * (layer or none appended, history and config applied, logged), 0 when it must run. */
int cache_step_lookup(struct stage_ctx *s, const struct df_inst *raw, const struct df_inst *exp,
                      struct lerr **err);
/* stage.c, run_step, after a step ran: layer says whether it added a layer (the last of the
 * stage's layers). Queues the push of a cacheable step. */
void cache_step_done(struct stage_ctx *s, const struct df_inst *raw, const struct df_inst *exp,
                     bool layer);
/* stage.c, at the end of a stage (built or failed). */
void cache_stage_done(struct stage_ctx *s, bool built);

/* base.c: the image ref for platform from --cache-dir: 1 and *ret, 0 when not there (or
 * expired, or incomplete). */
int cache_warm_image(struct build *b, const struct image_ref *ref, const struct platform *platform,
                     struct reg_image **ret);
/* step_copy.c: a URL the step's key already downloaded: an fd at offset 0 (the caller's) and
 * its fetch result; -ENOENT when there is none. */
int cache_take_download(struct stage_ctx *s, const char *url, struct url_fetch_result *ret);
/* step_copy.c: the commit id (40 hex) the step's key resolved for an ADD git source, so the
 * step checks out what the key names; NULL when the key did not resolve it. Borrowed. */
const char *cache_git_commit(struct stage_ctx *s, const char *src);
