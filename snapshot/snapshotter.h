/* SPDX-License-Identifier: Apache-2.0 */
/* The snapshotter: what the build uses to turn changes of its root filesystem into layers.
 * It owns the snapshot index of one root and, for each snapshot, diffs the root against it,
 * streams the layer (tar → gzip/zstd → out_fd, digests on the fly) and updates the index with
 * exactly the entries that changed.
 *
 * Flows:
 *   - per instruction (Kaniko's default): snapshotter_init() once the base image is extracted,
 *     then snapshotter_take() after each RUN, or snapshotter_take_paths() after a COPY or ADD
 *     with the paths it wrote (no walk of the whole root);
 *   - --single-snapshot: snapshotter_init() after the base, no snapshot between instructions,
 *     one snapshotter_take() at the end: one layer from the base to the final state;
 *   - FROM scratch: snapshotter_init() on the empty root, the same way.
 * A snapshot with nothing to write writes nothing (returns 0) unless SNAPSHOT_FORCE asks for an
 * empty layer (--force-build-metadata).
 *
 * Not thread-safe: one build thread drives it (the gzip workers are its own). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include "common/macros.h"
#include "snapshot/diff.h"
#include "snapshot/layer_writer.h"

struct lerr;
struct ignore_list;
struct snapshotter;

struct snapshotter_opts {
        enum snap_mode mode;                /* --snapshot-mode, default full */
        enum layer_compression compression; /* --compression, default gzip */
        int compression_level;              /* --compression-level, -1 default */
        unsigned threads;                   /* compression threads; 0: all CPUs */
        bool reproducible;                  /* --reproducible: mtimes 0 in layers */
        unsigned index_flags;               /* snap_index_build flags for snapshotter_init */
        unsigned diff_flags;                /* snap_diff flags (SNAP_DIFF_HASH_ALWAYS) */
};

/* Defaults: full mode, gzip, level -1, all CPUs, not reproducible. */
void snapshotter_opts_init(struct snapshotter_opts *o);

enum snapshot_flags {
        SNAPSHOT_FORCE = 1u << 0, /* write a layer even when nothing changed */
};

struct snapshot_result {
        bool written;              /* a layer was written to out_fd */
        struct layer_result layer; /* when written */
        size_t added, modified, deleted, parents, refreshed;
        size_t vanished; /* changed paths gone before they could be written */
};

/* root_fd is duplicated; ign is borrowed and must outlive the snapshotter (may be NULL). */
int snapshotter_new(int root_fd, const struct ignore_list *ign, const struct snapshotter_opts *o,
                    struct snapshotter **ret, struct lerr **err);
void snapshotter_free(struct snapshotter *s);
DEFINE_FREEP(struct snapshotter, snapshotter_free)

/* Indexes the root as it is now: the state later snapshots are compared with. */
int snapshotter_init(struct snapshotter *s, struct lerr **err);

/* Walks the whole root, writes the layer of its changes to out_fd and updates the index.
 * Returns 1 if a layer was written, 0 if nothing changed (out_fd untouched). */
int snapshotter_take(struct snapshotter *s, int out_fd, unsigned flags, struct snapshot_result *ret,
                     struct lerr **err);
/* The same for only these paths (see snap_diff_paths: files, directories compared
 * recursively, deleted paths), for COPY and ADD. */
int snapshotter_take_paths(struct snapshotter *s, char *const *paths, int out_fd, unsigned flags,
                           struct snapshot_result *ret, struct lerr **err);

/* The two halves, for callers that decide between them (e.g. skip a layer, or pick the output
 * only when there is something to write). paths NULL means the whole root. */
int snapshotter_diff(struct snapshotter *s, char *const *paths, struct snap_changes **ret,
                     struct lerr **err);
/* Writes the layer of c to out_fd, then commits c to the index. An empty c gives an empty
 * tar. On failure the index is unchanged (unless the commit itself failed, which makes the
 * next snapshot rebuild it). */
int snapshotter_write(struct snapshotter *s, struct snap_changes *c, int out_fd,
                      struct snapshot_result *ret, struct lerr **err);

/* The index (for tests, cache keys and the benchmark). */
struct snap_index *snapshotter_index(struct snapshotter *s);
