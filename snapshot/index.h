/* SPDX-License-Identifier: Apache-2.0 */
/* The snapshot index: every path of a build root (except ignored ones) → its stat key (type,
 * mode, uid, gid, size, mtime and ctime in ns, inode, device numbers, symlink target, a digest
 * of its xattrs and, when known, the sha256 of a regular file's content).
 *
 * Entries are keyed by (parent entry, name), so a path costs one hash probe per component and
 * the arena holds each name once, not each full path. Storage is a fixed 56-byte record per
 * entry, a linear-probing table of 32-bit ids (load <= 0.7) and one arena holding each name
 * followed by its rare extras (link target, device numbers, xattr digest, content hash): about
 * 75 bytes per entry in use for typical names, 100 with the slack of 1.5x growth, measured at
 * 101k entries (snap_index_memory() gives the exact figure). Updates are in place; the arena is
 * compacted when more than half of it is garbage.
 *
 * Ids are stable while an entry lives; a removed entry's id may be reused. The root itself is
 * entry SNAP_INDEX_ROOT (path ""). Not thread-safe.
 * Limits: SNAP_INDEX_MAX_ENTRIES entries, 4 GiB of names (-E2BIG beyond). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/macros.h"
#include "snapshot/walker.h"

struct lerr;
struct ignore_list;
struct snap_index;

#define SNAP_INDEX_ROOT        0u
#define SNAP_INDEX_NONE        UINT32_MAX
#define SNAP_INDEX_MAX_ENTRIES (1u << 30)

/* The key of one entry. */
struct snap_key {
        struct snap_stat st;     /* st.nlink is not kept (0 in what the index returns) */
        const char *link_target; /* symlinks only; borrowed from the index or the caller */
        bool has_xattrs;         /* xattrs_digest is known */
        bool has_content;        /* content is known */
        uint8_t xattrs_digest[SNAP_XATTR_DIGEST_SIZE];
        uint8_t content[SNAP_CONTENT_HASH_SIZE]; /* sha256 of a regular file's bytes */
};

enum snap_index_build_flags {
        SNAP_INDEX_HASH_CONTENT = 1u << 0, /* read every regular file and keep its sha256 */
        SNAP_INDEX_NO_XATTRS = 1u << 1,    /* do not read xattrs (has_xattrs stays false) */
};

struct snap_index *snap_index_new(void);
void snap_index_free(struct snap_index *idx);
DEFINE_FREEP(struct snap_index, snap_index_free)

/* Empties the index and fills it from a walk of root_fd (see walker.h), skipping ign (may be
 * NULL). On failure the index is left empty. */
int snap_index_build(struct snap_index *idx, int root_fd, const struct ignore_list *ign,
                     unsigned flags, struct lerr **err);
/* Removes every entry but the root. */
void snap_index_clear(struct snap_index *idx);

/* Entries besides the root. */
size_t snap_index_count(const struct snap_index *idx);
/* Bytes allocated by the index (records, table, arena). */
size_t snap_index_memory(const struct snap_index *idx);

/* The id of a root-relative cleaned path ("" is the root), or SNAP_INDEX_NONE. */
uint32_t snap_index_find(const struct snap_index *idx, const char *path);
/* The id of name (len bytes, no '/') in directory entry parent, or SNAP_INDEX_NONE. */
uint32_t snap_index_child(const struct snap_index *idx, uint32_t parent, const char *name,
                          size_t len);
/* Fills *ret with the entry's key. Borrowed pointers stay valid until the index changes.
 * -ENOENT for an id that is not live. */
int snap_index_get(const struct snap_index *idx, uint32_t id, struct snap_key *ret);
/* The entry's parent id (SNAP_INDEX_NONE for the root) and name (borrowed). */
uint32_t snap_index_parent(const struct snap_index *idx, uint32_t id);
const char *snap_index_name(const struct snap_index *idx, uint32_t id);
/* The entry's full root-relative path (new string). */
char *snap_index_path(const struct snap_index *idx, uint32_t id);
/* true if id is ancestor or lies below it. */
bool snap_index_is_under(const struct snap_index *idx, uint32_t id, uint32_t ancestor);

/* Inserts name under parent (a live directory entry) or replaces the key of the existing
 * entry; the key's pointers are copied. *ret_id (may be NULL) gets the id. -E2BIG past the
 * limits, -EINVAL for a bad name or parent. Replacing a directory by another type leaves its
 * children in place: the caller removes them. */
int snap_index_put(struct snap_index *idx, uint32_t parent, const char *name, size_t len,
                   const struct snap_key *key, uint32_t *ret_id);
/* snap_index_put by path: the parent directory must be in the index. */
int snap_index_put_path(struct snap_index *idx, const char *path, const struct snap_key *key,
                        uint32_t *ret_id);
/* Removes one entry (not the root). Its children, if any, must be removed by the caller too. */
void snap_index_remove(struct snap_index *idx, uint32_t id);
/* Removes the entry and everything below it (one pass over the index). */
void snap_index_remove_tree(struct snap_index *idx, uint32_t id);

/* Walk bookkeeping for the diff: a generation number stamped on entries seen in a walk. */
uint32_t snap_index_new_generation(struct snap_index *idx);
void snap_index_mark(struct snap_index *idx, uint32_t id, uint32_t gen);
uint32_t snap_index_generation_of(const struct snap_index *idx, uint32_t id);
/* Ids are below this bound; snap_index_live() says which are in use. */
uint32_t snap_index_id_bound(const struct snap_index *idx);
bool snap_index_live(const struct snap_index *idx, uint32_t id);
