/* SPDX-License-Identifier: Apache-2.0 */
/* The stage planner: from a parsed Dockerfile and the build's parameters, the ordered stages
 * with their base (an image, scratch or an earlier stage, FROM expanded with the global ARGs),
 * the dependencies between stages (FROM a stage, COPY --from=name|index|image, RUN --mount
 * from=), the target stage and which stages it needs.
 *
 * The plan also holds every instruction expanded with what is known before the build: the
 * build arguments, the platform ARGs, ARG and ENV of the Dockerfile, and, for a stage based on
 * another, that stage's variables. An expansion error in a needed stage fails the plan; in
 * other stages it becomes a warning and the instruction is kept unexpanded.
 *
 * Stage names are case-insensitive; --target matches case-insensitively (as Kaniko does). A
 * stage can only use stages defined before it: a reference to a later stage or to itself
 * (a circular dependency) is an error, so the dependency graph has no cycle and stages can be
 * built in index order. As in Docker, FROM with the stage's own name ("FROM ubuntu AS ubuntu")
 * names an image. With duplicate stage names, a reference means the latest earlier one.
 *
 * Errors carry the Dockerfile location (see dockerfile.h), e.g.
 *   Dockerfile:7: cannot copy from stage 'test': it is defined after this stage (line 9) in
 *   'COPY --from=test /out /'
 *   target stage 'buidl' could not be found (did you mean 'build'?) */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include "common/macros.h"

struct lerr;
struct dockerfile;
struct df_stage;
struct df_inst;
struct vars;

struct plan_params {
        char *const *build_args;     /* "KEY=VALUE"; a bare "KEY" takes its value from the
                                      * environment (empty when unset), as Kaniko does */
        const char *target;          /* stage name; NULL or "": the last stage */
        const char *target_platform; /* "os/arch[/variant]"; NULL: the running platform */
        const char *build_platform;  /* NULL: the running platform */
};

enum plan_base {
        PLAN_BASE_IMAGE,
        PLAN_BASE_STAGE,
        PLAN_BASE_SCRATCH,
};

enum plan_via {
        PLAN_VIA_FROM,
        PLAN_VIA_COPY,  /* COPY --from */
        PLAN_VIA_MOUNT, /* RUN --mount from= */
};

struct plan_dep {
        enum plan_via via;
        int stage;                  /* the stage used, or -1 for an image */
        const char *image;          /* the image when stage is -1 (borrowed from the inst) */
        const struct df_inst *inst; /* the instruction that makes the dependency */
};

struct plan_stage {
        unsigned index;
        const char *name;          /* lower case, NULL when unnamed (borrowed) */
        const struct df_stage *df; /* the parsed stage (borrowed) */
        char *base;                /* the FROM reference, expanded with the global ARGs */
        enum plan_base base_kind;
        int base_stage;         /* the stage for PLAN_BASE_STAGE, else -1 */
        char *platform;         /* FROM --platform expanded and normalized, or NULL */
        bool needed;            /* the target is this stage or depends on it */
        struct df_inst *from;   /* FROM with image and platform as above (owned) */
        struct df_inst **insts; /* df->insts expanded as far as possible without the base
                                 * image (its ENV is unknown at plan time: references to
                                 * variables the Dockerfile does not set stay as written);
                                 * ARG values are the ones taken, NULL when unset (owned) */
        struct plan_dep *deps;  /* in instruction order, FROM first */
        size_t n_deps;
};

struct plan {
        const struct dockerfile *df; /* borrowed: must outlive the plan */
        struct plan_stage *stages;
        size_t n_stages;
        unsigned target;
        char *target_platform; /* normalized */
        char *build_platform;
        char **build_args;   /* "KEY=VALUE", bare keys resolved */
        struct vars *global; /* the global scope after the ARGs before the first FROM */
        char **warnings;     /* e.g. build arguments no ARG declares */
};

/* Plans df for params. On success *ret is the plan. Errors: -EINVAL (bad platform, unknown
 * target, blank base name, bad --from, references to later stages or to itself). */
int plan_build(const struct dockerfile *df, const struct plan_params *params, struct plan **ret,
               struct lerr **err);
void plan_free(struct plan *p);
DEFINE_FREEP(struct plan, plan_free)

/* Resolves a stage reference made in stage `stage` (COPY --from, RUN --mount from=, also in
 * ONBUILD triggers run at build time): a stage name, an index when allow_index, or else an
 * image. *ret_stage is the stage index or -1 for an image. inst locates errors. */
int plan_resolve_from(const struct plan *p, unsigned stage, const char *ref, bool allow_index,
                      const struct df_inst *inst, int *ret_stage, struct lerr **err);
/* The index of the stage named name (case-insensitive; the last of that name), or -1. */
int plan_find_stage(const struct plan *p, const char *name);
