/* SPDX-License-Identifier: Apache-2.0 */
/* Bounded dynamic buffer. Every reader of untrusted input sets max before appending. */
#include "common/buf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"

static int buf_reserve(struct buf *b, size_t extra)
{
        size_t need;
        if (__builtin_add_overflow(b->len, extra, &need) || need > b->max)
                return -E2BIG;
        if (need + 1 <= b->alloc)
                return 0;
        size_t n = b->alloc ? b->alloc : 64;
        while (n < need + 1)
                n = n > SIZE_MAX / 2 ? need + 1 : n * 2;
        b->data = xrealloc(b->data, n);
        b->alloc = n;
        return 0;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
        int r = buf_reserve(b, n);
        if (r < 0)
                return r;
        if (n)
                memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
        return 0;
}

int buf_append_str(struct buf *b, const char *s)
{
        return buf_append(b, s, strlen(s));
}

int buf_append_char(struct buf *b, char c)
{
        return buf_append(b, &c, 1);
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
        va_list aq;
        va_copy(aq, ap);
        int n = vsnprintf(NULL, 0, fmt, aq);
        va_end(aq);
        if (n < 0)
                return -EINVAL;
        int r = buf_reserve(b, (size_t) n);
        if (r < 0)
                return r;
        (void) vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
        b->len += (size_t) n;
        return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = buf_vprintf(b, fmt, ap);
        va_end(ap);
        return r;
}

void buf_reset(struct buf *b)
{
        b->len = 0;
        if (b->data)
                b->data[0] = '\0';
}

void buf_done(struct buf *b)
{
        free(b->data);
        b->data = NULL;
        b->len = b->alloc = 0;
}

char *buf_steal(struct buf *b)
{
        char *p = b->data ? b->data : xstrdup("");
        b->data = NULL;
        b->len = b->alloc = 0;
        return p;
}

const char *buf_str(const struct buf *b)
{
        return b->data ? b->data : "";
}
