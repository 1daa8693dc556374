/* SPDX-License-Identifier: Apache-2.0 */
/* The diff of a build root against its snapshot index: what a layer must contain.
 *
 * Added, modified and deleted paths are found by walking the root (or only the paths a COPY or
 * ADD wrote) and comparing each entry's stat key with the index; a file whose key is unchanged
 * is never read. A deleted directory gives ONE whiteout, not one per child. A type change (file
 * to directory, directory to symlink...) is a modification: the new entry replaces the old one,
 * as in Docker's layers, with no whiteout. Parent directories of every change are included with
 * their current metadata, as Docker does, so that extraction recreates them faithfully; the root
 * itself never is.
 *
 * Snapshot modes (Kaniko's --snapshot-mode), the comparison of an entry that exists in both:
 *
 *   full  (default) Changed if the type, permission bits, uid, gid, size, mtime, inode or device
 *         number differ. When all of these are equal but the ctime moved (a chmod back, a chown
 *         to the same owner, setfattr, a new hardlink, or a rewrite that restored the mtime),
 *         the entry's xattrs and symlink target are read again and a regular file's content is
 *         hashed and compared with the sha256 the index holds: equal means only the ctime
 *         changed and nothing is written (the index takes the new ctime); different, or no
 *         stored hash, means modified. So a metadata-preserving rewrite is caught, and a
 *         touch-only change (mtime differs) is a metadata change that rewrites the entry.
 *         The index learns content hashes from the layer writer (files it wrote) or from
 *         snap_index_build(SNAP_INDEX_HASH_CONTENT); SNAP_DIFF_HASH_ALWAYS also compares
 *         content where the whole key, ctime included, is equal.
 *   redo  Changed if the type, permission bits, uid, gid, size, mtime, inode or device number
 *         differ. The ctime is ignored and nothing is hashed: a rewrite that keeps size and
 *         mtime, or an xattr-only change, is missed (Kaniko's redo has the same blind spot).
 *   time  Changed if the type or the mtime differs (Kaniko's time mode; fastest, misses
 *         chmod/chown).
 * Additions and deletions are found the same way in every mode.
 *
 * The index is not changed by a diff (except for walk bookkeeping): snap_changes_commit()
 * applies a change set after its layer was written, updating only the entries that changed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/macros.h"
#include "snapshot/index.h"

struct lerr;
struct ignore_list;
struct snap_changes;

enum snap_mode {
        SNAP_MODE_FULL,
        SNAP_MODE_REDO,
        SNAP_MODE_TIME,
};

/* "full", "redo", "time" → the mode; -EINVAL otherwise. */
int snap_mode_parse(const char *s, enum snap_mode *ret);
const char *snap_mode_name(enum snap_mode m);

enum snap_change_kind {
        SNAP_ADDED,    /* a new path: written in full */
        SNAP_MODIFIED, /* content, metadata or type changed: written in full */
        SNAP_DELETED,  /* gone: written as a whiteout ".wh.NAME" beside it */
        SNAP_PARENT,   /* an unchanged directory above a change: written with its metadata */
        SNAP_REFRESH,  /* only the ctime moved: not written, the index takes the new key */
};

struct snap_change {
        char *path; /* root-relative, cleaned */
        enum snap_change_kind kind;
        struct snap_key key; /* current key (not for SNAP_DELETED); key.link_target is owned */
        uint32_t id;         /* the index entry it replaces, or SNAP_INDEX_NONE */
        bool type_changed;   /* SNAP_MODIFIED: the old entry had another type */
        bool vanished;       /* set by the writer: gone before it could be written */
};

enum snap_diff_flags {
        /* full mode: hash and compare regular files whose key is entirely unchanged too,
         * wherever the index holds their content hash */
        SNAP_DIFF_HASH_ALWAYS = 1u << 0,
};

/* Walks the whole root and compares it with idx. */
int snap_diff(struct snap_index *idx, int root_fd, const struct ignore_list *ign,
              enum snap_mode mode, unsigned flags, struct snap_changes **ret, struct lerr **err);
/* Compares only the given paths (NULL-terminated; absolute or root-relative; each a file, a
 * symlink, a directory, which is compared recursively, or a path that no longer exists, which
 * becomes a whiteout) and their parent directories. This is what COPY and ADD use: they know
 * which paths they wrote, and comparing those is much cheaper than a walk of the whole root.
 * Symlinks in the parent components are resolved inside the root; the last component never is.
 * Paths on the ignore list are skipped. */
int snap_diff_paths(struct snap_index *idx, int root_fd, const struct ignore_list *ign,
                    enum snap_mode mode, unsigned flags, char *const *paths,
                    struct snap_changes **ret, struct lerr **err);

/* Changes in layer order (walker_path_cmp), SNAP_REFRESH ones included. */
size_t snap_changes_count(const struct snap_changes *c);
struct snap_change *snap_changes_at(struct snap_changes *c, size_t i);
/* The number of entries a layer of this change set holds (all but SNAP_REFRESH): 0 means an
 * empty layer, which Kaniko skips unless --force-build-metadata. */
size_t snap_changes_layer_entries(const struct snap_changes *c);
/* Applies the change set to the index it was computed from: adds and updates the written
 * entries (with the content hashes and xattr digests the writer filled in), takes the new
 * ctime of SNAP_REFRESH ones and removes every deleted entry with what was below it. Entries
 * marked vanished are left as the index had them. The index must not have changed since the
 * diff. On failure the index may be partly updated: rebuild it. */
int snap_changes_commit(struct snap_index *idx, struct snap_changes *c, struct lerr **err);
void snap_changes_free(struct snap_changes *c);
DEFINE_FREEP(struct snap_changes, snap_changes_free)
