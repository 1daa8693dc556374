/* SPDX-License-Identifier: Apache-2.0 */
/* The layer writer: entries of a build root → tar (libarchive's pax writer, a custom write
 * callback) → gzip (snapshot/pgzip, all cores), zstd (libzstd) or nothing → an fd, in one
 * streaming pass. The sha256 and size of the tar (the diffID) and of what reaches the fd (the
 * blob digest) are computed on the way; nothing is buffered beyond a few compression blocks.
 *
 * The tar is what Docker, BuildKit and Kaniko layers look like, so every client reads it:
 *   - names relative to the root, no "./" prefix, directories with a trailing "/";
 *   - plain ustar headers, with a pax extended header only where an entry needs one: names or
 *     link targets over 100 bytes or not ASCII (UTF-8 "path", raw bytes with hdrcharset=BINARY
 *     only when a name is not valid UTF-8), uid/gid >= 2^21, sizes >= 8 GiB, nanosecond mtimes,
 *     and xattrs as SCHILY.xattr.NAME (security.capability included, see walker.h for the
 *     ones left out);
 *   - numeric owners only, with empty user and group names, as Docker's layers (Go's
 *     FileInfoHeaderNoLookups) and BuildKit's: names from the build root's /etc/passwd would
 *     mean nothing to the host that extracts them;
 *   - mtime only: atime and ctime are not written (pax could carry them; Docker's do not);
 *   - a whiteout is an empty regular file ".wh.NAME" (mode 0, owner 0:0, mtime 0); opaque
 *     directories are never written (a deleted directory gets one whiteout instead);
 *   - a hardlink: the first path of an inode (dev, ino) in the layer is a regular file, later
 *     ones are tar hardlinks to it (only regular files with st_nlink > 1);
 *   - sockets are skipped (tar cannot hold them; Docker skips them too).
 * --reproducible: every mtime is 0 and the gzip header is fixed (it always is: see pgzip.h), so
 * the same tree gives the same bytes, whatever the thread count.
 * Limits: entry paths up to FS_PATH_MAX bytes. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include "common/digest.h"
#include "common/macros.h"
#include "snapshot/walker.h"

struct lerr;
struct layer_writer;

enum layer_compression {
        LAYER_GZIP,
        LAYER_ZSTD,
        LAYER_UNCOMPRESSED,
};

struct layer_writer_opts {
        enum layer_compression compression;
        int level;         /* -1: the default (gzip 6, zstd 3); gzip 0..9, zstd 1..22 */
        unsigned threads;  /* 0: every CPU this process may use */
        bool reproducible; /* all mtimes 0 */
        bool hash_content; /* sha256 of each regular file written, for the snapshot index */
        size_t gzip_block; /* 0: PGZIP_DEFAULT_BLOCK */
};

struct layer_result {
        char diff_id[DIGEST_STRING_SIZE]; /* sha256 of the uncompressed tar */
        char digest[DIGEST_STRING_SIZE];  /* sha256 of the bytes written to the fd */
        uint64_t size;                    /* bytes written to the fd */
        uint64_t uncompressed_size;       /* bytes of tar */
        uint64_t entries;                 /* tar entries, whiteouts included */
};

/* What the writer saw of an entry it wrote from the root. */
struct layer_entry_info {
        struct snap_stat st; /* as written (regular files: fstat of the open file) */
        bool has_xattrs;
        uint8_t xattrs_digest[SNAP_XATTR_DIGEST_SIZE];
        bool has_content; /* with hash_content, for regular files */
        uint8_t content[SNAP_CONTENT_HASH_SIZE];
        bool hardlink; /* written as a hardlink to an earlier entry */
        bool skipped;  /* a socket: not written */
};

/* "zstd" / "gzip" / "none"... for --compression: -EINVAL otherwise. */
int layer_compression_parse(const char *s, enum layer_compression *ret);
/* The OCI (oci=true) or Docker v2 media type of a layer with this compression. A zstd layer
 * has no Docker type: its OCI type is returned either way. */
const char *layer_media_type(enum layer_compression c, bool oci);

/* Starts a layer written to out_fd (which it does not close). -EINVAL for a bad level,
 * -ENOTSUP for zstd in a build without libzstd. */
int layer_writer_new(int out_fd, const struct layer_writer_opts *o, struct layer_writer **ret,
                     struct lerr **err);
/* Writes the entry at path (root-relative, cleaned, not the root) as it is now in root_fd,
 * with its xattrs and, for a regular file, its content. The file is stat'ed again when opened;
 * if it changes size while read, exactly the size in its header is written (zero-padded) and a
 * warning logged, as GNU tar does. -ENOENT if it is gone (nothing written, the writer stays
 * usable); other errors end the layer. *ret (may be NULL) gets what was written. */
int layer_writer_add_path(struct layer_writer *w, int root_fd, const char *path,
                          struct layer_entry_info *ret, struct lerr **err);
/* Writes the whiteout of a deleted path: "dir/.wh.name". */
int layer_writer_add_whiteout(struct layer_writer *w, const char *path, struct lerr **err);
/* Writes an entry from explicit metadata: content_fd is read for st->size bytes (regular
 * files; -1 otherwise), link_target for symlinks, xattrs may be NULL. */
int layer_writer_add_entry(struct layer_writer *w, const char *path, const struct snap_stat *st,
                           const char *link_target, const struct snap_xattrs *xattrs,
                           int content_fd, struct lerr **err);
/* Ends the tar and the compressed stream and fills *ret. */
int layer_writer_finish(struct layer_writer *w, struct layer_result *ret, struct lerr **err);
/* Frees the writer; an unfinished layer is abandoned (the fd holds a partial stream). */
void layer_writer_free(struct layer_writer *w);
DEFINE_FREEP(struct layer_writer, layer_writer_free)
