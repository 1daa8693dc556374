/* SPDX-License-Identifier: Apache-2.0 */
/* Base images onto the build root: resolve a reference for the target platform, download its
 * layers into the blobstore on several threads while the main thread extracts them in order as
 * soon as each one is there, wipe the root between stages, and unpack other stages' or
 * images' files for COPY --from and RUN --mount from=. */
#include "executor/build-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/log.h"
#include "executor/blobstore.h"
#include "executor/cache.h"
#include "executor/dockerfile.h"
#include "executor/image_config.h"
#include "executor/options.h"
#include "executor/planner.h"
#include "registry/registry.h"
#include "snapshot/extract.h"
#include "snapshot/wipe.h"

#define DOWNLOAD_THREADS 4

int base_resolve_image(struct build *b, const char *name, const char *platform,
                       struct reg_image **ret, struct image_ref **ret_ref, struct lerr **err)
{
        _cleanup_(image_ref_freep) struct image_ref *ref = NULL;
        struct platform want = {0};
        int64_t t0 = build_now_ns();
        int r = image_ref_parse(name, &ref, err);
        if (r < 0)
                return lerr_wrap(err, "base image");
        r = platform_parse(platform ? platform : b->plan->target_platform, &want, err);
        if (r >= 0) {
                /* the warmer's --cache-dir first: no registry at all when it has the image */
                r = cache_warm_image(b, ref, &want, ret);
                r = r > 0 ? 0 : reg_image_resolve(b->reg, ref, &want, ret, err);
        }
        platform_done(&want);
        build_phase_add(b, PHASE_PULL, t0);
        if (r < 0)
                return lerr_wrap(err, "get image '%s'", name);
        if (ret_ref)
                *ret_ref = TAKE_PTR(ref);
        return 0;
}

/* ---- parallel download, in-order extraction ---- */

struct download {
        struct build *b;
        int root_fd;
        const struct ignore_list *ignore;
        const struct build_layer *layers;
        size_t n;
        size_t next;        /* next layer a worker takes */
        bool *done;         /* per layer */
        struct lerr **errs; /* per layer */
        bool stop;
        pthread_mutex_t lock;
        pthread_cond_t cond;
};

static char *blob_path(const char *digest)
{
        return xasprintf("blobs/sha256/%s", digest_hex(digest));
}

static void *download_worker(void *arg)
{
        struct download *d = arg;
        for (;;) {
                pthread_mutex_lock(&d->lock);
                size_t i = d->next < d->n && !d->stop ? d->next++ : d->n;
                pthread_mutex_unlock(&d->lock);
                if (i >= d->n)
                        return NULL;
                const struct build_layer *l = &d->layers[i];
                struct lerr *e = NULL;
                if (!blobstore_has(d->b->blobs, l->desc.digest)) {
                        _cleanup_free_ char *path = blob_path(l->desc.digest);
                        if (!l->source)
                                (void) lerr_set(&e, ENOENT, "layer %s is in no repository",
                                                l->desc.digest);
                        else if (reg_blob_fetch_file(d->b->reg, l->source, &l->desc,
                                                     blobstore_dir_fd(d->b->blobs), path, &e) < 0)
                                (void) lerr_wrap(&e, "download layer %s", l->desc.digest);
                }
                pthread_mutex_lock(&d->lock);
                d->done[i] = true;
                d->errs[i] = e;
                if (e)
                        d->stop = true;
                pthread_cond_broadcast(&d->cond);
                pthread_mutex_unlock(&d->lock);
        }
}

/* Waits for layer i; returns its error (taken) or NULL. */
static struct lerr *download_wait(struct download *d, size_t i)
{
        pthread_mutex_lock(&d->lock);
        while (!d->done[i])
                pthread_cond_wait(&d->cond, &d->lock);
        struct lerr *e = TAKE_PTR(d->errs[i]);
        pthread_mutex_unlock(&d->lock);
        return e;
}

static int extract_one(struct download *d, const struct build_layer *l, size_t i, struct lerr **err)
{
        _cleanup_close_ int fd = blobstore_open_blob(d->b->blobs, l->desc.digest);
        if (fd < 0)
                return lerr_errno(err, fd, "open layer %s", l->desc.digest);
        struct extract_options eo = {.ignore = d->ignore, .name = l->desc.digest};
        struct extract_stats st = {0};
        int64_t t0 = build_now_ns();
        int r = extract_layer_fd(d->root_fd, fd, &eo, &st, err);
        build_phase_add(d->b, PHASE_EXTRACT, t0);
        if (r < 0)
                return lerr_wrap(err, "extract layer %zu/%zu %s", i + 1, d->n, l->desc.digest);
        log_debug("extracted layer %s: %llu entries, %llu bytes", l->desc.digest,
                  (unsigned long long) st.entries, (unsigned long long) st.bytes);
        return 0;
}

int base_extract_layers(struct build *b, int root_fd, const struct ignore_list *ignore,
                        const struct build_layer *layers, size_t n, struct lerr **err)
{
        struct download d = {
                .b = b, .root_fd = root_fd, .ignore = ignore, .layers = layers, .n = n};
        pthread_t threads[DOWNLOAD_THREADS];
        size_t n_threads = 0;
        int r = 0;

        if (n == 0)
                return 0;
        d.done = xcalloc(n, sizeof(bool));
        d.errs = xcalloc(n, sizeof(struct lerr *));
        pthread_mutex_init(&d.lock, NULL);
        pthread_cond_init(&d.cond, NULL);
        int64_t t0 = build_now_ns(), extract_before = b->phase_ns[PHASE_EXTRACT];
        for (; n_threads < MIN((size_t) DOWNLOAD_THREADS, n); n_threads++)
                if (pthread_create(&threads[n_threads], NULL, download_worker, &d) != 0)
                        break;
        if (n_threads == 0)
                download_worker(&d); /* no thread: download everything first */
        for (size_t i = 0; i < n && r >= 0; i++) {
                struct lerr *e = download_wait(&d, i);
                if (e) {
                        lerr_free(*err);
                        *err = e;
                        r = -lerr_code(e);
                        break;
                }
                r = extract_one(&d, &layers[i], i, err);
        }
        pthread_mutex_lock(&d.lock);
        d.stop = true;
        pthread_mutex_unlock(&d.lock);
        for (size_t i = 0; i < n_threads; i++)
                pthread_join(threads[i], NULL);
        /* downloads overlap extraction: the pull phase is the time extraction did not cover */
        b->phase_ns[PHASE_PULL] +=
                build_now_ns() - t0 - (b->phase_ns[PHASE_EXTRACT] - extract_before);
        for (size_t i = 0; i < n; i++)
                lerr_free(d.errs[i]);
        free(d.errs);
        free(d.done);
        pthread_mutex_destroy(&d.lock);
        pthread_cond_destroy(&d.cond);
        return r;
}

int base_wipe_root(struct build *b, struct lerr **err)
{
        struct wipe_stats st = {0};
        int r = wipe_root(b->root_fd, b->ignore, &st, err);
        if (r >= 0 && st.mountpoints)
                log_debug("kept %zu mount points while wiping the root (first: '/%s')",
                          st.mountpoints, strempty(st.first_mount));
        wipe_stats_done(&st);
        if (r < 0)
                return lerr_wrap(err, "clear the root filesystem for the next stage");
        b->current_stage = -1;
        return 0;
}

/* ---- files of other stages and images ---- */

/* Extracts layers into a directory under KANIKO_DIR/stages (for an image named in COPY --from
 * or a stage whose files were not kept). */
static int unpack_into(struct build *b, const char *dirname, const struct build_layer *layers,
                       size_t n, int *ret_fd, struct lerr **err)
{
        _cleanup_free_ char *rel = xasprintf("stages/%s", dirname);
        if (mkdirat(b->kaniko_fd, "stages", 0700) < 0 && errno != EEXIST)
                return lerr_errno(err, errno, "create '%s/stages'", b->kaniko_dir);
        int fd = openat(b->kaniko_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
                *ret_fd = fd;
                return 0;
        }
        if (mkdirat(b->kaniko_fd, rel, 0755) < 0)
                return lerr_errno(err, errno, "create '%s/%s'", b->kaniko_dir, rel);
        fd = openat(b->kaniko_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return lerr_errno(err, errno, "open '%s/%s'", b->kaniko_dir, rel);
        /* no ignore list: nothing but these files lives there */
        int r = base_extract_layers(b, fd, NULL, layers, n, err);
        if (r < 0) {
                (void) close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

static int image_source_root(struct build *b, const char *name, int *ret_fd, struct lerr **err)
{
        _cleanup_(reg_image_freep) struct reg_image *img = NULL;
        _cleanup_(image_ref_freep) struct image_ref *ref = NULL;
        int r = base_resolve_image(b, name, NULL, &img, &ref, err);
        if (r < 0)
                return r;
        size_t n = img->parsed->n_layers;
        struct build_layer *layers = xcalloc(n + 1, sizeof(*layers));
        for (size_t i = 0; i < n; i++) {
                descriptor_copy(&layers[i].desc, &img->parsed->layers[i]);
                layers[i].source = image_ref_dup(img->source);
        }
        _cleanup_free_ char *dir =
                xasprintf("image-%s", digest_hex(img->digest) ? digest_hex(img->digest) : "x");
        r = unpack_into(b, dir, layers, n, ret_fd, err);
        for (size_t i = 0; i < n; i++)
                build_layer_done(&layers[i]);
        free(layers);
        if (r < 0)
                return lerr_wrap(err, "unpack image '%s'", name);
        return 0;
}

int base_source_root(struct build *b, unsigned stage, const char *ref, const struct df_inst *inst,
                     int *ret_fd, struct lerr **err)
{
        int from = -1;
        int r = plan_resolve_from(b->plan, stage, ref, true, inst, &from, err);
        if (r < 0)
                return r;
        if (from < 0)
                return image_source_root(b, ref, ret_fd, err);
        struct stage_result *s = &b->stages[from];
        if (!s->built)
                return lerr_set(err, EINVAL, "stage '%s' was not built", ref);
        if (s->saved_root_fd >= 0) {
                int fd = fcntl(s->saved_root_fd, F_DUPFD_CLOEXEC, 3);
                return fd < 0 ? lerr_errno(err, errno, "open the files of stage '%s'", ref)
                              : (*ret_fd = fd, 0);
        }
        _cleanup_free_ char *dir = xasprintf("%u", (unsigned) from);
        r = unpack_into(b, dir, s->layers, s->n_layers, ret_fd, err);
        if (r >= 0) {
                s->saved_root_fd = fcntl(*ret_fd, F_DUPFD_CLOEXEC, 3);
                s->saved_root = xasprintf("%s/stages/%s", b->kaniko_dir, dir);
        }
        return r;
}
