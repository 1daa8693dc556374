/* SPDX-License-Identifier: Apache-2.0 */
/* The build's driver: context, Dockerfile and plan; the registry client, blobstore and ignore
 * list; the needed stages in order; the outputs; a summary with the time of each phase. */
#include "executor/build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/strv.h"
#include "common/timefmt.h"
#include "executor/blobstore.h"
#include "executor/build-internal.h"
#include "executor/cache.h"
#include "executor/context.h"
#include "executor/dockerfile.h"
#include "executor/dockerignore.h"
#include "executor/image_config.h"
#include "executor/options.h"
#include "executor/planner.h"
#include "executor/vars.h"
#include "registry/registry.h"
#include "snapshot/ignore.h"
#include "snapshot/wipe.h"

int64_t build_now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void build_phase_add(struct build *b, enum build_phase p, int64_t since_ns)
{
        b->phase_ns[p] += build_now_ns() - since_ns;
}

void build_layer_done(struct build_layer *l)
{
        descriptor_done(&l->desc);
        image_ref_free(l->source);
        l->source = NULL;
}

void stage_result_done(struct stage_result *s)
{
        image_config_free(s->config);
        for (size_t i = 0; i < s->n_layers; i++)
                build_layer_done(&s->layers[i]);
        free(s->layers);
        free(s->base_name);
        vars_free(s->vars);
        free(s->saved_root);
        if (s->saved_root_fd >= 0)
                (void) close(s->saved_root_fd);
        memset(s, 0, sizeof(*s));
        s->saved_root_fd = -1;
}

static char *build_timestamp(const struct options *o)
{
        return o->reproducible ? xstrdup("1970-01-01T00:00:00Z") : timefmt_now();
}

static int mkdir_parents(const char *path, mode_t mode)
{
        _cleanup_free_ char *p = xstrdup(path);
        for (char *s = p + 1;; s++) {
                if (*s != '/' && *s != '\0')
                        continue;
                char c = *s;
                *s = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                *s = c;
                if (!c)
                        return 0;
        }
}

static int open_dirs(struct build *b, struct lerr **err)
{
        b->kaniko_dir =
                xstrdup(b->o->kaniko_dir && *b->o->kaniko_dir ? b->o->kaniko_dir : "/kaniko");
        int r = mkdir_parents(b->kaniko_dir, 0777);
        if (r < 0)
                return lerr_errno(err, r, "create '%s'", b->kaniko_dir);
        b->kaniko_fd = open(b->kaniko_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (b->kaniko_fd < 0)
                return lerr_errno(err, errno, "open '%s'", b->kaniko_dir);
        b->root_fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (b->root_fd < 0)
                return lerr_errno(err, errno, "open '/'");
        /* blobs and stage files of an earlier build are stale */
        (void) fs_rm_rf_at(b->kaniko_fd, "blobs");
        (void) fs_rm_rf_at(b->kaniko_fd, "stages");
        (void) fs_rm_rf_at(b->kaniko_fd, "cache-mounts");
        _cleanup_free_ char *blobs = xasprintf("%s/blobs", b->kaniko_dir);
        return blobstore_open(AT_FDCWD, blobs, &b->blobs, err);
}

static int make_ignore_list(struct build *b, struct lerr **err)
{
        b->ignore = ignore_list_new();
        int r = ignore_list_add_defaults(b->ignore, b->kaniko_dir, b->o->ignore_var_run, err);
        if (r >= 0)
                r = ignore_list_add_mounts(b->ignore, "/proc/self/mountinfo", "/", err);
        strv_foreach (p, b->o->ignore_paths)
                if (r >= 0)
                        r = ignore_list_add(b->ignore, p, 0, err);
        if (r < 0)
                return lerr_wrap(err, "build the ignore list");
        for (unsigned i = 0; i < ignore_list_count(b->ignore); i++)
                log_debug("ignoring '/%s'", ignore_list_entry(b->ignore, i));
        return 0;
}

static int make_registry_client(struct build *b, struct lerr **err)
{
        const struct options *o = b->o;
        struct reg_options ro = {
                .kaniko_dir = b->kaniko_dir,
                .insecure = o->insecure,
                .insecure_pull = o->insecure_pull,
                .skip_tls_verify = o->skip_tls_verify,
                .skip_tls_verify_pull = o->skip_tls_verify_pull,
                .insecure_registries = o->insecure_registries,
                .skip_tls_verify_registries = o->skip_tls_verify_registries,
                .registry_certificates = o->registry_certificates,
                .registry_client_certs = o->registry_client_certs,
                .registry_mirrors = o->registry_mirrors,
                .registry_maps = o->registry_maps,
                .skip_default_registry_fallback = o->skip_default_registry_fallback,
                .push_retry = o->push_retry,
                .image_download_retry = o->image_download_retry,
        };
        return reg_client_new(&ro, &b->reg, err);
}

/* Bad destinations and missing push rights fail before anything is built. */
static int check_destinations(struct build *b, struct lerr **err)
{
        strv_foreach (d, b->o->destinations) {
                _cleanup_(image_ref_freep) struct image_ref *ref = NULL;
                int r = image_ref_parse(d, &ref, err);
                if (r < 0)
                        return lerr_wrap(err, "--destination");
                if (b->o->no_push || b->o->skip_push_permission_check)
                        continue;
                r = reg_check_push(b->reg, ref, err);
                if (r < 0)
                        return lerr_wrap(err, "--destination '%s'", d);
        }
        return 0;
}

static int load_dockerfile(struct build *b, struct build_context *ctx, struct lerr **err)
{
        int r = dockerfile_parse(ctx->dockerfile, ctx->dockerfile_len, ctx->dockerfile_name, &b->df,
                                 err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < b->df->n_warnings; i++)
                log_warn("%s", b->df->warnings[i].message);
        r = dockerignore_load(ctx->fd, ctx->dockerfile_path, &b->ignore_file, NULL, err);
        if (r < 0)
                return r;
        struct plan_params params = {
                .build_args = b->o->build_args,
                .target = b->o->target,
                .target_platform = b->o->custom_platform,
        };
        r = plan_build(b->df, &params, &b->plan, err);
        if (r < 0)
                return r;
        strv_foreach (w, b->plan->warnings)
                log_warn("%s", w);
        b->stages = xcalloc(b->plan->n_stages, sizeof(*b->stages));
        for (size_t i = 0; i < b->plan->n_stages; i++)
                b->stages[i].saved_root_fd = -1;
        return 0;
}

static void summary(const struct build *b, int64_t start)
{
        static const char *const names[PHASE_COUNT] = {
                [PHASE_PULL] = "pull", [PHASE_EXTRACT] = "extract",   [PHASE_RUN] = "run",
                [PHASE_COPY] = "copy", [PHASE_SNAPSHOT] = "snapshot", [PHASE_PUSH] = "push/outputs",
        };
        unsigned built = 0;
        for (size_t i = 0; i < b->plan->n_stages; i++)
                built += b->stages[i].built;
        log_info("Built %u of %zu stages, %u new layers in %.2fs", built, b->plan->n_stages,
                 b->layers_written, (double) (build_now_ns() - start) / 1e9);
        for (int p = 0; p < PHASE_COUNT; p++)
                log_info("  %-13s %.2fs", names[p], (double) b->phase_ns[p] / 1e9);
}

static void build_done(struct build *b)
{
        if (b->stages)
                for (size_t i = 0; i < b->plan->n_stages; i++)
                        stage_result_done(&b->stages[i]);
        free(b->stages);
        plan_free(b->plan);
        dockerfile_free(b->df);
        dockerignore_free(b->ignore_file);
        cache_free(b->cache);
        reg_client_free(b->reg);
        blobstore_free(b->blobs);
        ignore_list_free(b->ignore);
        free(b->kaniko_dir);
        free(b->created);
        free(b->context_dir);
        if (b->root_fd >= 0)
                (void) close(b->root_fd);
        if (b->kaniko_fd >= 0)
                (void) close(b->kaniko_fd);
}

int build_run(const struct options *o, struct lerr **err)
{
        struct build b = {.o = o, .root_fd = -1, .kaniko_fd = -1, .current_stage = -1};
        struct build_context ctx = {.fd = -EBADF};
        int64_t start = build_now_ns();
        int r = open_dirs(&b, err);
        if (r >= 0)
                r = make_registry_client(&b, err);
        if (r >= 0)
                r = check_destinations(&b, err);
        if (r >= 0 && o->cache)
                r = cache_open(&b, err);
        if (r >= 0)
                r = context_open(o, b.kaniko_dir, &ctx, err);
        if (r >= 0) {
                b.context_fd = ctx.fd;
                b.context_dir = xstrdup(ctx.dir);
                r = load_dockerfile(&b, &ctx, err);
        }
        if (r >= 0)
                r = make_ignore_list(&b, err);
        b.created = build_timestamp(o);
        for (size_t i = 0; r >= 0 && i < b.plan->n_stages; i++) {
                if (!b.plan->stages[i].needed) {
                        log_info("Skipping stage %zu: not needed for the target", i);
                        continue;
                }
                r = stage_build(&b, (unsigned) i, err);
        }
        if (r >= 0)
                r = outputs_write(&b, &b.stages[b.plan->target], err);
        if (r >= 0 && o->cleanup)
                r = base_wipe_root(&b, err);
        cache_finish(&b);
        if (r >= 0)
                summary(&b, start);
        context_done(&ctx);
        b.context_fd = -1;
        build_done(&b);
        return r;
}
