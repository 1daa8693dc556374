/* SPDX-License-Identifier: Apache-2.0 */
/* Everything the command line (and Kaniko's environment variables) can say, as one struct.
 * The CLI fills it; the build reads it. Names follow Kaniko's flags. Multi-value flags are
 * NULL-terminated string vectors in command-line order; key=value map flags are kept as the
 * raw "key=value" strings and parsed by the module that uses them. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include "common/macros.h"

enum snapshot_mode_opt {
        SNAPSHOT_MODE_FULL,
        SNAPSHOT_MODE_REDO,
        SNAPSHOT_MODE_TIME,
};

enum compression_opt {
        COMPRESSION_GZIP,
        COMPRESSION_ZSTD,
};

struct options {
        /* build input */
        char *dockerfile;       /* -f, default "Dockerfile" */
        char *dockerfile_shown; /* the Dockerfile as the user named it, for messages, when
                                 * dockerfile was rewritten (sandbox); NULL otherwise */
        char *context;          /* -c, default "/workspace/"; "dir://" is removed */
        char *context_sub_path; /* for a local context, the CLI joins it to context and clears it */
        char *bucket;           /* hidden, legacy GCS context */
        char *target;
        /* KEY=VAL; a bare KEY is resolved by the CLI from the environment (dropped if unset) */
        char **build_args;
        char **labels;         /* k=v, added to every stage */
        char **annotations;    /* k=v, manifest annotations (chainguard's --annotation) */
        char *custom_platform; /* os/arch[/variant]; NULL: the running platform */
        char *git_options;     /* --git pairs as given, comma-joined; parsed into git_* */
        char *git_branch;      /* --git branch=NAME; NULL: the remote's default branch */
        bool git_single_branch;
        bool git_recurse_submodules;
        bool git_insecure_skip_tls;
        /* --secret, normalised by the CLI to "id=NAME,src=PATH" or "id=NAME,env=VAR" (NAME has
         * no ','; PATH or VAR is everything after "src=" / "env=") */
        char **secrets;
        bool skip_unused_stages;

        /* outputs */
        char **destinations; /* -d */
        bool no_push;
        char *tar_path;
        char *oci_layout_path;
        char *digest_file;
        char *image_name_with_digest_file;
        char *image_name_tag_with_digest_file;
        bool push_ignore_immutable_tag_errors;
        bool skip_push_permission_check;
        int push_retry;

        /* layers and snapshots */
        enum snapshot_mode_opt snapshot_mode; /* default full */
        bool single_snapshot;
        bool reproducible;
        bool use_new_run;
        bool force_build_metadata;
        enum compression_opt compression; /* default gzip */
        int compression_level;            /* -1: library default */
        char **ignore_paths;
        bool ignore_var_run; /* default true */
        int image_fs_extract_retry;
        bool cleanup;

        /* cache */
        bool cache;
        char *cache_repo;
        char *cache_dir;      /* default "/cache" */
        int64_t cache_ttl_ns; /* default 336h */
        bool cache_copy_layers;
        bool cache_run_layers;   /* default true */
        bool compressed_caching; /* default true */
        bool no_push_cache;

        /* registries */
        bool insecure;
        bool insecure_pull;
        bool skip_tls_verify;
        bool skip_tls_verify_pull;
        char **insecure_registries;
        char **skip_tls_verify_registries;
        char **registry_certificates; /* host=/path/ca.crt, one per host (the last one given) */
        char **registry_client_certs; /* host=/path/cert,/path/key, one per host */
        char **registry_mirrors;      /* as given (flags, then KANIKO_REGISTRY_MIRROR) */
        /* one "orig=new" per entry: --registry-map (split at ';'), then KANIKO_REGISTRY_MAP, then
         * one "index.docker.io=MIRROR" per mirror, as Kaniko converts them; for one orig, try
         * the entries in this order */
        char **registry_maps;
        bool skip_default_registry_fallback;
        int image_download_retry;
        char *azure_container_registry_config; /* hidden, from a library Kaniko vendors */

        /* runtime */
        char *kaniko_dir; /* default "/kaniko" or $KANIKO_DIR */
        char *sandbox;    /* --sandbox DIR: lading's local mode */
        bool force;
        char *verbosity;  /* default "info" */
        char *log_format; /* default "color" */
        bool log_timestamp;

        /* lading-only actions */
        bool print_plan; /* parse and plan, print JSON, do not build */
};

/* Sets every field to Kaniko's default (strings allocated). */
void options_init(struct options *o);
void options_done(struct options *o);
