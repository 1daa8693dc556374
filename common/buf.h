/* SPDX-License-Identifier: Apache-2.0 */
/* A growable byte buffer with a hard limit, learned from curl's dynbuf: appending past max
 * fails with -E2BIG and leaves the buffer as it was. data is always NUL-terminated. */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include "common/macros.h"

struct buf {
        char *data;             /* NUL-terminated, owned; NULL until the first append */
        size_t len, alloc, max; /* max: hard limit, set by the reader that knows the input */
};

#define BUF_INIT(limit)                                                                            \
        {                                                                                          \
                .data = NULL, .len = 0, .alloc = 0, .max = (limit)                                 \
        }

int buf_append(struct buf *b, const void *p, size_t n) WUR;
int buf_append_str(struct buf *b, const char *s) WUR;
int buf_append_char(struct buf *b, char c) WUR;
int buf_printf(struct buf *b, const char *fmt, ...) PRINTF(2, 3) WUR;
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) PRINTF(2, 0) WUR;
/* Empties the buffer but keeps its memory. */
void buf_reset(struct buf *b);
/* Frees the memory; the buffer can be used again. */
void buf_done(struct buf *b);
/* Returns the data (never NULL, "" when empty) and leaves the buffer empty. Caller frees. */
char *buf_steal(struct buf *b);
/* Returns the data or "" without giving it away. */
const char *buf_str(const struct buf *b);
