/* SPDX-License-Identifier: Apache-2.0 */
/* The layer cache's keys: one sha256 per step that chains (each key includes the previous one)
 * from a stage's root (its base image's manifest digest, the final key of the stage it is
 * based on, or scratch and the platform) through every file-changing step of the stage.
 *
 * Every value goes into the hash framed: a one-byte tag, its length as 8 bytes big-endian
 * (all ones for an absent value) and the bytes. Lists carry their count first. So no two
 * different sequences of fields hash the same bytes: "ab"+"c" is not "a"+"bc", a renamed file
 * is not the old one, a NULL is not "".
 *
 * What each key holds is documented with cache_key_step() and in the README ("Layer cache").
 * Nothing here talks to a registry or knows about the build; the build (cache.c) gathers the
 * inputs. Limits: files are read as they are (a context is trusted input of bounded size);
 * directory trees are walked to at most CACHE_TREE_MAX_DEPTH levels (-ELOOP beyond). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/digest.h"

struct lerr;
struct df_inst;
struct copy_opts;
struct digest_ctx;

/* Changing what a key holds changes this, so that old entries are never taken for new ones. */
#define CACHE_KEY_VERSION    "lading-cache-v1"
#define CACHE_TREE_MAX_DEPTH 256

/* Framed hashing. */
struct cache_hash {
        struct digest_ctx *d;
};
/* Starts a hash of the given domain ("root", "step", "files"): keys of different kinds never
 * meet. */
void cache_hash_init(struct cache_hash *h, const char *domain);
void cache_hash_bytes(struct cache_hash *h, char tag, const void *p, size_t n);
/* s NULL: an absent value, distinct from "". */
void cache_hash_str(struct cache_hash *h, char tag, const char *s);
void cache_hash_u64(struct cache_hash *h, char tag, uint64_t v);
/* The count, then each string (v NULL: an absent list, distinct from an empty one). */
void cache_hash_strv(struct cache_hash *h, char tag, char *const *v);
/* Writes "sha256:…" and frees the state. */
void cache_hash_final(struct cache_hash *h, char out[DIGEST_STRING_SIZE]);
/* Frees the state without a result (error paths); NULL-safe on a zeroed struct. */
void cache_hash_done(struct cache_hash *h);

/* Settings that change a layer's bytes without being in the Dockerfile: they are part of every
 * chain root, so that a --reproducible build never takes a layer with real mtimes and a zstd
 * build never takes a gzip layer. */
struct cache_layer_format {
        const char *compression; /* "gzip" or "zstd" */
        bool reproducible;
};

/* The chain root of a stage FROM an image: the digest of the platform's image manifest (not
 * of an index, which changes when another platform is pushed). */
void cache_key_root_image(const char *manifest_digest, const struct cache_layer_format *f,
                          char out[DIGEST_STRING_SIZE]);
/* The chain root of a stage FROM scratch: "os/arch[/variant]". */
void cache_key_root_scratch(const char *platform, const struct cache_layer_format *f,
                            char out[DIGEST_STRING_SIZE]);

/* The inputs of one step's key. A field that is NULL is not part of this step's key (and
 * hashes as absent). */
struct cache_step {
        const char *parent;  /* the previous key of the chain (required) */
        const char *text;    /* cache_inst_text(): the expanded instruction (required) */
        char *const *env;    /* RUN: cache_run_env() */
        const char *user;    /* RUN, WORKDIR: config User ("" when unset) */
        const char *workdir; /* RUN: config WorkingDir ("" when unset) */
        char *const *shell;  /* RUN: config Shell (NULL: unset) */
        const char *files;   /* digest of what the step reads besides its text: COPY/ADD
                              * sources, RUN bind mounts; NULL when nothing */
};
void cache_key_step(const struct cache_step *st, char out[DIGEST_STRING_SIZE]);

/* Where the text of a step takes what its own words do not say. */
struct cache_text_ctx {
        char *const *shell;   /* RUN: the stage's SHELL (NULL: /bin/sh -c) */
        const char *abs_dest; /* COPY/ADD: the destination with WORKDIR applied */
        const char *abs_path; /* WORKDIR: the directory with the previous WORKDIR applied */
};
/* The instruction in canonical form: its keyword, a space, and a JSON object of its expanded
 * arguments and flags in a fixed order (flag order, aliases such as src=/source= and spacing
 * of the Dockerfile make no difference). RUN: the argv it executes (SHELL applied, heredoc
 * script included), every mount, --network, --security, --device. COPY/ADD: sources, inline
 * files with their bodies, absolute destination, --from, --chown, --chmod, --checksum,
 * --exclude, --link, --parents, --keep-git-dir, --unpack. WORKDIR: the absolute path. Other
 * kinds: -EINVAL. *ret is a new string. */
int cache_inst_text(const struct df_inst *exp, const struct cache_text_ctx *ctx, char **ret,
                    struct lerr **err);

/* The environment of a RUN as its key takes it: run_env (vars_run_env()) sorted, without the
 * predefined proxy ARGs that only come from --build-arg (neither declared by an ARG of the
 * stage, named in declared_args "K=V", nor set by ENV, in config_env): Docker keeps those out
 * of the cache. New vector. */
char **cache_run_env(char *const *run_env, char *const *declared_args, char *const *config_env);

/* Hashes the local sources of a COPY/ADD into h exactly as the copy engine will find them:
 * each pattern expanded in src_root_fd with o (its filter: .dockerignore, --exclude), each
 * match (followed if a symlink, as COPY does) and, for a directory, everything below it that
 * the filter lets through. Each entry: its path (the match relative to the source root, or
 * the path below the match), type, permission bits, owner only when the copy keeps owners
 * (o->preserve_owner without o->chown), the sha256 of a regular file's bytes, its xattrs,
 * which earlier entry it is a hard link of, a symlink's target, a device's numbers. Not
 * mtimes, atimes or inode numbers. Errors as copy_expand_source() (a source that does not
 * exist) or -errno reading the tree. */
int cache_hash_sources(struct cache_hash *h, int src_root_fd, char *const *patterns,
                       const struct copy_opts *o, struct lerr **err);
/* Hashes path under root_fd (followed inside the root) and everything below it, unfiltered:
 * the source of a RUN --mount=type=bind from the context. */
int cache_hash_tree(struct cache_hash *h, int root_fd, const char *path, struct lerr **err);
