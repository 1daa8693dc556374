/* SPDX-License-Identifier: Apache-2.0 */
/* Applying an image layer (a tar stream, gzip-, zstd-compressed or not, told apart by its magic)
 * onto a root directory, as Docker and containerd do: entries of every type with owners, modes,
 * ns mtimes and xattrs, OCI whiteouts (".wh.NAME") and opaque directories (".wh..wh..opq",
 * whatever their position in the layer), files replacing directories and the other way round.
 *
 * Everything stays inside the root: names are cleaned lexically ("..": error), parent
 * directories are resolved inside the root (symlinks in them are followed as if the root were
 * "/"), the last component is created with *at() calls that never follow it, an existing entry
 * is removed before its replacement is created (never opened for writing), hardlink targets must
 * exist inside the root. Paths on the ignore list, also when reached through a symlink, are never
 * written or removed: such entries are skipped and counted.
 *
 * The input is read once, front to back, never seeked: it may be a pipe fed while the blob is
 * still downloading. Decompression runs in a helper thread so that inflating and the file
 * system calls use two cores (when two are usable: affinity and cgroup CPU quota). Layers must be
 * applied in order; extracting one layer uses one calling thread (plus the helper) and never
 * touches process-wide state (cwd, umask, locale).
 *
 * Several layers: extraction is ordered (layer N+1 may white out or replace what N wrote, and
 * which paths a layer touches is only known once it has been read), so layers are applied one
 * after another. Their downloads can all run at once: the first layer is best fed through a
 * pipe while it downloads (network and disk overlap), the others to files verified meanwhile,
 * then extracted at disk speed. A stage built on the previous one needs no wipe and no
 * re-extraction.
 *
 * Limits, per layer (hostile input gets an error, not an OOM):
 *   EXTRACT_MAX_ENTRIES tar entries (the default of extract_options.max_entries),
 *   EXTRACT_MAX_PATH_BYTES bytes of names remembered for opaque directories,
 *   FS_PATH_MAX (4096) bytes per entry name and per link target,
 *   EXTRACT_MAX_XATTRS extended attributes per entry, each with a name of at most 255 bytes and a
 *   value of at most 64 KiB (larger ones are skipped and counted, as the kernel refuses them). */
#pragma once

#include <stdint.h>
#include <sys/types.h>

struct lerr;
struct ignore_list;

/* 4 Mi entries: ten times the largest layers seen in practice (a 100k-file tar bomb is fine). */
#define EXTRACT_MAX_ENTRIES    (UINT64_C(1) << 22)
#define EXTRACT_MAX_PATH_BYTES ((size_t) 512 << 20)
#define EXTRACT_MAX_XATTRS     128
#define EXTRACT_MAX_XATTR_NAME 255
#define EXTRACT_MAX_XATTR_SIZE 65536

enum extract_flags {
        EXTRACT_NO_CHOWN = 1u << 0,   /* never set owners: files belong to the extracting user */
        EXTRACT_NO_XATTRS = 1u << 1,  /* ignore extended attributes */
        EXTRACT_NO_THREADS = 1u << 2, /* decompress in the calling thread */
        EXTRACT_QUIET = 1u << 3,      /* no warnings in the log: the counts in the stats only */
        EXTRACT_KEEP_ROOT = 1u << 4,  /* an entry naming the root ("./") leaves its metadata
                                       * alone (ADD of an archive into an existing directory) */
};

struct extract_options {
        const struct ignore_list *ignore; /* NULL: nothing is ignored */
        unsigned flags;                   /* enum extract_flags */
        uint64_t max_entries;             /* 0: EXTRACT_MAX_ENTRIES */
        const char *name;                 /* the layer in warnings, e.g. its digest; may be NULL */
};

struct extract_stats {
        uint64_t entries;   /* tar entries read, all kinds */
        uint64_t bytes;     /* bytes of regular file content written */
        uint64_t in_bytes;  /* bytes read from the input (compressed size) */
        uint64_t files;     /* regular files created */
        uint64_t dirs;      /* directories created or updated */
        uint64_t symlinks;  /* symlinks created */
        uint64_t hardlinks; /* hardlinks created */
        uint64_t specials;  /* device nodes and FIFOs created */
        uint64_t whiteouts; /* whiteout and opaque markers applied */
        /* Skipped, each kind with one warning per layer (unless EXTRACT_QUIET): */
        uint64_t skipped_ignored; /* entries and whiteouts under an ignored path */
        uint64_t skipped_devices; /* device nodes/FIFOs the kernel refused (EPERM: no CAP_MKNOD) */
        uint64_t skipped_xattrs;  /* xattrs the filesystem refused, or over the limits */
        uint64_t skipped_owners;  /* entries whose uid/gid could not be set (not root, unmapped) */
        uint64_t skipped_other;   /* sockets, AUFS metadata (".wh..wh.*" other than opaque) */
};

/* Reads a layer from fd to its end and applies it onto root_fd. On success fills *ret_stats (may
 * be NULL) and returns 0. On failure returns -errno with *err holding one line that names the
 * entry and what failed ("create 'usr/bin/x': No space left on device"); the root then holds
 * part of the layer. The input is read to EOF on success, also past the end of the tar (so a
 * pipe's writer never sees EPIPE and the whole stream can be digested). */
int extract_layer_fd(int root_fd, int fd, const struct extract_options *opts,
                     struct extract_stats *ret_stats, struct lerr **err);

/* The input as a callback: fills buf with up to len bytes, returns the count, 0 at the end,
 * or -errno. Called from the decompression thread unless EXTRACT_NO_THREADS. */
typedef ssize_t (*extract_read_fn)(void *userdata, void *buf, size_t len);
int extract_layer_read(int root_fd, extract_read_fn read_fn, void *userdata,
                       const struct extract_options *opts, struct extract_stats *ret_stats,
                       struct lerr **err);
