/* SPDX-License-Identifier: Apache-2.0 */
/* Internals of layer extraction shared by snapshot/extract*.c; exposed for tests too. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "common/macros.h"

#include "common/fs.h"
#include "snapshot/extract.h"

#define FS_PATH_MAX_PLUS_ONE (FS_PATH_MAX + 1)

struct archive;
struct ignore_list;
struct lerr;

/* ---- extract_input.c: the byte stream fed to libarchive ---- */

#define XIN_RAW_BYTES   (1u << 20) /* one read(2) of the compressed input */
#define XIN_CHUNK_BYTES (1u << 20) /* one decompressed chunk handed to libarchive */
#define XIN_CHUNKS      4          /* chunks in flight between the helper thread and libarchive */

enum xin_codec {
        XIN_NONE,
        XIN_GZIP,
        XIN_ZSTD,
};

struct xin;

/* Reads from fd (fd >= 0) or read_fn, sniffs the codec from the first bytes and, for a compressed
 * stream and threaded, starts the decompression thread. */
int xin_new(int fd, extract_read_fn read_fn, void *userdata, bool threaded, struct xin **ret,
            struct lerr **err);
/* Stops the thread (it may be blocked on a read callback until that returns) and frees. */
void xin_free(struct xin *in);
enum xin_codec xin_codec(const struct xin *in);
const char *xin_codec_name(enum xin_codec c);
/* libarchive's read callback (client data: the xin). */
ssize_t xin_archive_read(struct archive *a, void *userdata, const void **ret_buf);
/* Reads the rest of the input (decompressing it, so a gzip trailer is still checked). */
int xin_drain(struct xin *in, struct lerr **err);
/* If the input failed (read error, corrupt compressed data): sets *err and returns -errno. */
int xin_failed(struct xin *in, struct lerr **err);
uint64_t xin_in_bytes(const struct xin *in);

/* ---- extract_path.c: parent directories, resolved inside the root, cached ---- */

/* Directories kept open along the last resolved path (deeper ones are resolved each time). */
#define DIRCACHE_DEPTH 64

enum dircache_flags {
        DC_CREATE = 1u << 0,   /* create missing directories (0755) */
        DC_NO_LINKS = 1u << 1, /* fail with -ELOOP rather than follow a symlink on the way */
};

/* The stack caches directories reached without any symlink: each was opened with O_NOFOLLOW
 * from the one before, so its path is its canonical path. A path that crosses a symlink takes
 * the slow way (fs_chase_in_root), whose last answer is kept too; so does a path deeper than
 * DIRCACHE_DEPTH. Any removal or replacement of
 * a directory or a symlink must call dircache_flush(): a cached fd would still name the old
 * directory. */
struct dircache {
        int root_fd; /* borrowed */
        unsigned n;  /* fds[0] is root_fd */
        int fds[DIRCACHE_DEPTH];
        size_t ends[DIRCACHE_DEPTH]; /* ends[i]: length of path for fds[i] */
        char path[FS_PATH_MAX_PLUS_ONE];
        /* the last resolution through a symlink */
        char *slow_lex, *slow_canon;
        int slow_fd;
        /* fds dropped by a flush are closed only at the next dircache_get(), so that the fd a
         * caller is using for the current entry stays valid while it removes things */
        int grave[DIRCACHE_DEPTH + 1];
        unsigned ngrave;
        bool last_fast;   /* the last dircache_get() answered from the stack, unflushed since */
        uint64_t created; /* directories created */
};

void dircache_init(struct dircache *dc, int root_fd);
void dircache_done(struct dircache *dc);
void dircache_flush(struct dircache *dc);
/* Resolves the directory dir (a cleaned root-relative path, "" for the root). Returns 1 with
 * *ret_fd (borrowed from the cache, valid until the next call) and *ret_canon (its canonical
 * path, borrowed, valid until the next call), 0 if it does not exist and DC_CREATE is not given,
 * or -errno (-ENOTDIR: a component is not a directory). ignore (may be NULL): a directory that
 * would be created or entered at an ignored canonical path gives -EACCES, nothing is created.
 * The returned fd stays open until the next dircache_get(), even across dircache_flush(). */
int dircache_get(struct dircache *dc, const char *dir, unsigned flags,
                 const struct ignore_list *ignore, int *ret_fd, const char **ret_canon);
/* After creating or updating directory name (fd dir_fd, opened O_DIRECTORY|O_NOFOLLOW) in the
 * directory canon_parent that dircache_get() just returned: keeps it as the deepest level if that
 * answer came from the stack and nothing was flushed since. Takes ownership of dir_fd. */
void dircache_push(struct dircache *dc, const char *canon_parent, const char *name, int dir_fd);

/* ---- extract.c / extract_entry.c / extract_whiteout.c: applying entries ---- */

struct archive_entry;
struct pathset;

struct deferred_dir {
        char *path; /* canonical, "" for the root */
        struct timespec ts[2];
        mode_t mode;
        bool set_mode; /* a mode without u+wx, set after the contents (when not root) */
};

/* One kind of skipped trouble: counted, and the first case kept for the layer's one warning. */
struct skip_note {
        char *first; /* "'path': reason", or NULL */
};

struct extractor {
        int root_fd;
        const struct extract_options *o;
        const struct ignore_list *ignore;
        struct archive *a;
        struct archive_entry *e;
        struct xin *in;
        struct extract_stats st;
        struct dircache dc;
        struct pathset *written; /* canonical paths this layer wrote, and their parents */
        struct deferred_dir *dirs;
        size_t ndirs, adirs;
        struct skip_note note_ignored, note_devices, note_xattrs, note_owners, note_other;
        char shown[2][512]; /* names made printable for messages */
        bool is_root;
};

/* Printable form of a name for messages (control bytes as '?', long names shortened). */
const char *extract_show(struct extractor *x, int slot, const char *s);
/* Counts one skipped item of a kind and keeps the first case. */
void extract_note(uint64_t *counter, struct skip_note *n, const char *fmt, ...) PRINTF(3, 4);
/* Remembers canon (and its parents) as written by this layer. */
int extract_remember(struct extractor *x, const char *canon, struct lerr **err);

/* extract_entry.c: a non-whiteout entry whose cleaned name is clean ("" for the root). */
int extract_entry(struct extractor *x, const char *clean, struct lerr **err);
/* Removes what is at name in dir_fd (canonical path canon) for a replacement or a whiteout,
 * keeping ignored paths below it. Returns 0 when gone, 1 when a directory had to stay because it
 * holds ignored paths, -errno on failure (err set). Flushes the dircache when needed. */
int extract_remove(struct extractor *x, int dir_fd, const char *name, const char *canon,
                   struct lerr **err);
/* Applies the deferred directory times and modes. */
int extract_finish_dirs(struct extractor *x, struct lerr **err);

/* extract_whiteout.c: a whiteout entry (base starts with ".wh.") in directory dir. */
int extract_whiteout(struct extractor *x, const char *clean, const char *dir, const char *base,
                     struct lerr **err);
