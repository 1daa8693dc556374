/* SPDX-License-Identifier: Apache-2.0 */
/* State shared by the build's files (build.c, stage.c, base.c, step_*.c, outputs.c). Not a
 * public interface: only these files include it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/digest.h"
#include "executor/copy.h"
#include "executor/image_manifest.h"

struct options;
struct plan;
struct dockerfile;
struct dockerignore;
struct reg_client;
struct reg_image;
struct image_ref;
struct blobstore;
struct ignore_list;
struct image_config;
struct snapshotter;
struct vars;
struct df_inst;

/* Wall-clock time spent per phase, for the summary. */
enum build_phase {
        PHASE_PULL,     /* resolving and downloading base images */
        PHASE_EXTRACT,  /* unpacking layers onto the root */
        PHASE_RUN,      /* RUN steps */
        PHASE_COPY,     /* COPY/ADD */
        PHASE_SNAPSHOT, /* walking, diffing, writing layers */
        PHASE_PUSH,     /* outputs */
        PHASE_COUNT,
};

/* A layer of an image being built: its descriptor, diff id, and where its bytes are (in the
 * blobstore, or still only in the repository it came from). */
struct build_layer {
        struct descriptor desc;
        char diff_id[DIGEST_STRING_SIZE];
        struct image_ref *source; /* repository holding it (base layers), NULL for new ones */
};

/* The result of a stage: an image (config + layers) and where its files are. */
struct stage_result {
        bool built;
        struct image_config *config;
        struct build_layer *layers;
        size_t n_layers;
        enum image_format format;
        char *base_name;   /* for messages */
        struct vars *vars; /* the stage's final variable scope (FROM <stage> inherits it) */
        char *saved_root;  /* KANIKO_DIR/stages/N when later stages copy from it, else NULL */
        int saved_root_fd; /* -1 when not saved */
        bool cmd_set;      /* CMD was set by an instruction of this stage */
};

struct build {
        const struct options *o;
        char *kaniko_dir;
        int root_fd;    /* "/" */
        int kaniko_fd;  /* KANIKO_DIR */
        int context_fd; /* the build context */
        char *context_dir;
        char *dockerfile_path;
        struct dockerfile *df;
        struct dockerignore *ignore_file; /* NULL when the context has none */
        struct plan *plan;
        struct reg_client *reg;
        struct blobstore *blobs;
        struct ignore_list *ignore;
        struct stage_result *stages; /* one per plan stage */
        int current_stage;           /* the stage whose files the root holds now, or -1 */
        char *created;               /* RFC 3339 time stamp of this build (epoch 0 when
                                      * --reproducible) */
        int64_t phase_ns[PHASE_COUNT];
        char *cache_mounts_dir; /* KANIKO_DIR/cache-mounts for RUN --mount=type=cache */
        unsigned layers_written;
        size_t current_layers;     /* how many of current_stage's layers the root holds */
        struct build_cache *cache; /* --cache (cache.h), else NULL */
};

/* Monotonic clock in ns, for phase times. */
int64_t build_now_ns(void);
void build_phase_add(struct build *b, enum build_phase p, int64_t since_ns);

void build_layer_done(struct build_layer *l);
void stage_result_done(struct stage_result *s);

/* One stage being built. */
struct stage_ctx {
        struct build *b;
        unsigned index;
        const struct plan_stage *ps;
        struct stage_result *res;
        struct vars *vars;
        struct snapshotter *snap; /* NULL while no instruction changed files */
        unsigned step, n_steps;
        bool pending_changes; /* --single-snapshot: files changed since the last layer */
        /* The root holds res->layers[0, applied) when live. A stage whose steps come from the
         * cache leaves its layers unextracted until a step needs the files (stage.c). */
        bool live;
        size_t applied;
        bool config_only;          /* WORKDIR served from the cache: config only, no mkdir */
        struct stage_cache *cache; /* cache.c's state of this stage, NULL without --cache */
};

/* What a step did to the files. */
struct step_out {
        bool changed; /* the root may have changed */
        char **paths; /* the paths it wrote (COPY/ADD), NULL: walk the whole root */
};

/* step_meta.c: ENV, LABEL, EXPOSE, VOLUME, USER, WORKDIR, CMD, ENTRYPOINT, SHELL,
 * STOPSIGNAL, HEALTHCHECK, ONBUILD, MAINTAINER (exp: the expanded instruction). */
int step_meta(struct stage_ctx *s, const struct df_inst *exp, struct step_out *out,
              struct lerr **err);
/* step_run.c */
int step_run(struct stage_ctx *s, const struct df_inst *exp, struct step_out *out,
             struct lerr **err);
/* step_copy.c: COPY and ADD */
int step_copy(struct stage_ctx *s, const struct df_inst *exp, struct step_out *out,
              struct lerr **err);
/* step_copy.c: what COPY/ADD leave out (a copy_filter_fn over a struct copy_filter), shared
 * with the cache keys so that they hash exactly the files copied. */
struct copy_filter {
        const struct dockerignore *ignore;   /* .dockerignore, context sources only */
        const struct dockerignore *excludes; /* --exclude */
};
enum copy_filter_result step_copy_filter(void *userdata, const char *src_rel, const char *below,
                                         bool is_dir);
/* The stage's SHELL (config Shell, or /bin/sh -c). Borrowed or static. */
char *const *stage_shell(const struct stage_ctx *s);
/* An absolute path in the root for p relative to the stage's WORKDIR. Caller frees. */
char *stage_abs_path(const struct stage_ctx *s, const char *p);

/* stage.c: the time stamp of a history entry made now (epoch 0 with --reproducible). */
char *stage_timestamp(const struct build *b);

/* stage.c: builds plan stage i into b->stages[i]. */
int stage_build(struct build *b, unsigned i, struct lerr **err);

/* base.c: applies layers onto root_fd in order (ignore may be NULL), downloading the ones
 * missing from the blobstore on several threads meanwhile. */
int base_extract_layers(struct build *b, int root_fd, const struct ignore_list *ignore,
                        const struct build_layer *layers, size_t n, struct lerr **err);
/* base.c: resolves an image reference for the target platform. */
int base_resolve_image(struct build *b, const char *name, const char *platform,
                       struct reg_image **ret, struct image_ref **ret_ref, struct lerr **err);
/* base.c: wipes the root (keeping the ignore list). */
int base_wipe_root(struct build *b, struct lerr **err);
/* base.c: a stage's or image's files, extracted under KANIKO_DIR/stages/, as a dir fd
 * (COPY --from, RUN --mount from=). ref is a stage reference or an image name. */
int base_source_root(struct build *b, unsigned stage, const char *ref, const struct df_inst *inst,
                     int *ret_fd, struct lerr **err);

/* outputs.c: the final image → blobstore, registries, files. */
int outputs_write(struct build *b, const struct stage_result *final, struct lerr **err);
