/* SPDX-License-Identifier: Apache-2.0 */
/* Parallel gzip: compresses a byte stream in fixed-size blocks on a small thread pool and emits
 * ONE standard gzip member (RFC 1952), as pigz does: every block is raw deflate primed with the
 * previous 32 KiB of input as dictionary and ends with a sync flush, the last one is finished,
 * and the trailer carries the crc32 of the whole input (combined from the blocks' crcs).
 *
 * The output depends only on the input, the level and the block size, never on the thread
 * count: one thread compresses the same blocks in the caller's thread, so a --reproducible
 * layer has the same digest on a 1-core and a 64-core machine. The gzip header is pinned to
 * what Go's compress/gzip writes for Docker, Kaniko and BuildKit: mtime 0, no name, XFL 0,
 * OS 255 ("unknown").
 *
 * Memory is bounded: at most 2 * threads + 2 blocks are in flight (each the input block, its
 * dictionary and its output), whatever the stream length.
 * Limits: PGZIP_MAX_THREADS worker threads; block size PGZIP_MIN_BLOCK..PGZIP_MAX_BLOCK. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include "common/macros.h"

struct lerr;
struct pgzip;

#define PGZIP_DEFAULT_BLOCK (128u * 1024u)
#define PGZIP_MIN_BLOCK     (32u * 1024u)
#define PGZIP_MAX_BLOCK     (16u * 1024u * 1024u)
#define PGZIP_MAX_THREADS   64u

/* Receives the compressed stream in order, always in the thread that called pgzip_write() or
 * pgzip_finish(). Returns >= 0, or a negative errno (with *err filled) to stop the stream. */
typedef int (*pgzip_sink_fn)(void *userdata, const void *p, size_t n, struct lerr **err);

struct pgzip_opts {
        int level;         /* -1: zlib's default (6); 0 (stored) .. 9 */
        unsigned threads;  /* 0: the CPUs this process may run on; 1: no threads at all */
        size_t block_size; /* 0: PGZIP_DEFAULT_BLOCK */
};

/* Starts a stream. -EINVAL (with a message) for a level outside -1..9 or a bad block size. */
int pgzip_new(const struct pgzip_opts *o, pgzip_sink_fn sink, void *userdata, struct pgzip **ret,
              struct lerr **err);
/* Compresses n more bytes. Blocks while all block slots are in flight. After a sink error every
 * later call fails with the same code. */
int pgzip_write(struct pgzip *z, const void *p, size_t n, struct lerr **err);
/* Compresses what is left, writes the trailer and waits for the sink to have everything. */
int pgzip_finish(struct pgzip *z, struct lerr **err);
/* Stops the workers and frees everything; an unfinished stream is abandoned. NULL is fine. */
void pgzip_free(struct pgzip *z);
DEFINE_FREEP(struct pgzip, pgzip_free)

/* Worker threads used (1 means the caller's thread only). */
unsigned pgzip_threads(const struct pgzip *z);
/* Uncompressed bytes accepted so far. */
uint64_t pgzip_bytes_in(const struct pgzip *z);
/* The number of CPUs this process may run on (sched_getaffinity), at least 1. */
unsigned pgzip_cpu_count(void);
