/* SPDX-License-Identifier: Apache-2.0 */
/* The input of an extraction: reads the layer once, front to back (never seeks: pipes are fine),
 * tells gzip, zstd and plain tar apart by their magic numbers and decompresses with zlib or
 * libzstd, in a helper thread when asked, so that inflating overlaps the file system calls.
 * libarchive sees only plain tar: none of its own decompression filters is enabled. */
#include "snapshot/extract-internal.h"

#include <archive.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <zlib.h>
#ifdef HAVE_ZSTD
#include <zstd.h>
#endif

#include "common/alloc.h"
#include "common/err.h"
#include "common/macros.h"

struct xchunk {
        char *data;
        size_t len;
};

struct xin {
        /* the compressed side, touched only by the producer (thread or caller) */
        int fd;
        int cancel_fd; /* eventfd: wakes a producer blocked on fd when the consumer gives up */
        extract_read_fn read_fn;
        void *userdata;
        char *raw;
        size_t raw_len, raw_pos;
        bool raw_eof;
        uint64_t in_bytes;
        enum xin_codec codec;
        z_stream z;
        bool z_ready, member_done;
#ifdef HAVE_ZSTD
        ZSTD_DCtx *zs;
        bool frame_done;
#endif
        int errnum; /* producer failure, with errmsg */
        char *errmsg;

        /* the hand-over, under lock when threaded */
        bool threaded, started, cancel, done;
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        struct xchunk chunks[XIN_CHUNKS];
        unsigned head, filled;
        bool holding; /* libarchive holds chunks[head] */
};

const char *xin_codec_name(enum xin_codec c)
{
        switch (c) {
        case XIN_GZIP:
                return "gzip";
        case XIN_ZSTD:
                return "zstd";
        case XIN_NONE:
                break;
        }
        return "tar";
}

enum xin_codec xin_codec(const struct xin *in)
{
        return in->codec;
}

uint64_t xin_in_bytes(const struct xin *in)
{
        return in->in_bytes;
}

static int fail(struct xin *in, int errnum, const char *fmt, ...) PRINTF(3, 4);
static int fail(struct xin *in, int errnum, const char *fmt, ...)
{
        va_list ap;
        if (in->errnum)
                return -in->errnum;
        va_start(ap, fmt);
        in->errmsg = xvasprintf(fmt, ap);
        va_end(ap);
        in->errnum = errnum;
        return -errnum;
}

/* Refills raw (which must be consumed). Returns bytes read, 0 at EOF, or -errno. */
static ssize_t raw_fill(struct xin *in)
{
        ssize_t n;
        in->raw_pos = in->raw_len = 0;
        if (in->raw_eof)
                return 0;
        if (in->fd >= 0) {
                for (;;) {
                        if (in->cancel_fd >= 0) {
                                struct pollfd p[2] = {{.fd = in->fd, .events = POLLIN},
                                                      {.fd = in->cancel_fd, .events = POLLIN}};
                                if (poll(p, 2, -1) < 0 && errno != EINTR)
                                        return fail(in, errno, "wait for the layer");
                                if (p[1].revents)
                                        return fail(in, ECANCELED, "extraction stopped");
                        }
                        n = read(in->fd, in->raw, XIN_RAW_BYTES);
                        if (n >= 0 || (errno != EINTR && errno != EAGAIN))
                                break;
                }
                if (n < 0)
                        return fail(in, errno, "read the layer: %s", strerror(errno));
        } else {
                n = in->read_fn(in->userdata, in->raw, XIN_RAW_BYTES);
                if (n < 0 || n > (ssize_t) XIN_RAW_BYTES)
                        return fail(in, n < 0 ? (int) -n : EIO, "read the layer: %s",
                                    strerror(n < 0 ? (int) -n : EIO));
        }
        if (n == 0)
                in->raw_eof = true;
        in->raw_len = (size_t) n;
        in->in_bytes += (uint64_t) n;
        return n;
}

/* Between gzip members: a new member, zero padding (ignored), or garbage. */
static int gzip_next_member(struct xin *in)
{
        while (in->z.avail_in > 0 && in->z.next_in[0] == 0) {
                in->z.next_in++;
                in->z.avail_in--;
        }
        if (in->z.avail_in == 0)
                return 0;
        if (in->z.next_in[0] != 0x1f)
                return fail(in, EBADMSG, "decompress gzip: garbage after the gzip stream");
        if (inflateReset(&in->z) != Z_OK)
                return fail(in, EBADMSG, "decompress gzip: reset failed");
        in->member_done = false;
        return 0;
}

/* The producers below return what they have as soon as the input they hold is used up (so a
 * slowly fed pipe streams), and a failure only once the good output before it was handed over:
 * in->errnum then makes the next call fail. */
static ssize_t produce_gzip(struct xin *in, char *out, size_t cap)
{
        in->z.next_out = (Bytef *) out;
        in->z.avail_out = (uInt) cap;
        while (in->z.avail_out > 0 && !in->errnum) {
                if (in->z.avail_in == 0) {
                        if (in->z.avail_out < cap)
                                break;
                        ssize_t n = raw_fill(in);
                        if (n < 0)
                                break;
                        if (n == 0) {
                                if (!in->member_done)
                                        (void) fail(in, EBADMSG,
                                                    "decompress gzip: unexpected end of data");
                                break;
                        }
                        in->z.next_in = (Bytef *) in->raw;
                        in->z.avail_in = (uInt) n;
                }
                if (in->member_done) {
                        if (gzip_next_member(in) < 0)
                                break;
                        if (in->member_done)
                                continue; /* only zeros so far */
                }
                int zr = inflate(&in->z, Z_NO_FLUSH);
                if (zr == Z_STREAM_END)
                        in->member_done = true;
                else if (zr == Z_MEM_ERROR)
                        (void) fail(in, ENOMEM, "decompress gzip: out of memory");
                else if (zr != Z_OK && zr != Z_BUF_ERROR)
                        (void) fail(in, EBADMSG, "decompress gzip: %s",
                                    in->z.msg ? in->z.msg : "corrupt data");
        }
        size_t got = cap - in->z.avail_out;
        return got > 0 || !in->errnum ? (ssize_t) got : -in->errnum;
}

#ifdef HAVE_ZSTD
static ssize_t produce_zstd(struct xin *in, char *out, size_t cap)
{
        ZSTD_outBuffer ob = {.dst = out, .size = cap, .pos = 0};
        while (ob.pos < ob.size && !in->errnum) {
                if (in->raw_pos == in->raw_len) {
                        if (ob.pos > 0)
                                break;
                        ssize_t n = raw_fill(in);
                        if (n < 0)
                                break;
                        if (n == 0) {
                                if (!in->frame_done)
                                        (void) fail(in, EBADMSG,
                                                    "decompress zstd: unexpected end of data");
                                break;
                        }
                }
                ZSTD_inBuffer ib = {.src = in->raw, .size = in->raw_len, .pos = in->raw_pos};
                size_t zr = ZSTD_decompressStream(in->zs, &ob, &ib);
                in->raw_pos = ib.pos;
                if (ZSTD_isError(zr))
                        (void) fail(in, EBADMSG, "decompress zstd: %s", ZSTD_getErrorName(zr));
                else
                        in->frame_done = zr == 0;
        }
        return ob.pos > 0 || !in->errnum ? (ssize_t) ob.pos : -in->errnum;
}
#endif

/* Fills out with decompressed bytes: count, 0 at the end, -errno (in->errmsg set). */
static ssize_t produce(struct xin *in, char *out, size_t cap)
{
        switch (in->codec) {
        case XIN_GZIP:
                return produce_gzip(in, out, cap);
        case XIN_ZSTD:
#ifdef HAVE_ZSTD
                return produce_zstd(in, out, cap);
#else
                break;
#endif
        case XIN_NONE:
                break;
        }
        return fail(in, EINVAL, "internal: no decompressor");
}

static void *producer(void *userdata)
{
        struct xin *in = userdata;
        unsigned tail = 0;

        for (;;) {
                pthread_mutex_lock(&in->lock);
                while (in->filled == XIN_CHUNKS && !in->cancel)
                        pthread_cond_wait(&in->cond, &in->lock);
                bool stop = in->cancel;
                pthread_mutex_unlock(&in->lock);
                if (stop)
                        break;
                ssize_t n = produce(in, in->chunks[tail].data, XIN_CHUNK_BYTES);
                pthread_mutex_lock(&in->lock);
                if (n <= 0)
                        in->done = true;
                else {
                        in->chunks[tail].len = (size_t) n;
                        tail = (tail + 1) % XIN_CHUNKS;
                        in->filled++;
                }
                pthread_cond_broadcast(&in->cond);
                pthread_mutex_unlock(&in->lock);
                if (n <= 0)
                        break;
        }
        return NULL;
}

/* Next decompressed chunk: length (its data in *ret_buf), 0 at the end, -1 on failure. */
static ssize_t next_chunk(struct xin *in, const void **ret_buf)
{
        if (in->codec == XIN_NONE) {
                if (in->raw_pos == in->raw_len && in->raw_len > 0) {
                        in->raw_pos = in->raw_len = 0;
                }
                if (in->raw_len == 0) {
                        ssize_t n = raw_fill(in);
                        if (n <= 0)
                                return n < 0 ? -1 : 0;
                }
                *ret_buf = in->raw + in->raw_pos;
                ssize_t n = (ssize_t) (in->raw_len - in->raw_pos);
                in->raw_pos = in->raw_len;
                return n;
        }
        if (!in->threaded) {
                ssize_t n = produce(in, in->chunks[0].data, XIN_CHUNK_BYTES);
                *ret_buf = in->chunks[0].data;
                return n < 0 ? -1 : n;
        }
        pthread_mutex_lock(&in->lock);
        if (in->holding) {
                in->head = (in->head + 1) % XIN_CHUNKS;
                in->filled--;
                in->holding = false;
                pthread_cond_broadcast(&in->cond);
        }
        while (in->filled == 0 && !in->done)
                pthread_cond_wait(&in->cond, &in->lock);
        ssize_t n = 0;
        if (in->filled > 0) {
                *ret_buf = in->chunks[in->head].data;
                n = (ssize_t) in->chunks[in->head].len;
                in->holding = true;
        } else if (in->errnum) {
                n = -1;
        }
        pthread_mutex_unlock(&in->lock);
        return n;
}

ssize_t xin_archive_read(struct archive *a, void *userdata, const void **ret_buf)
{
        struct xin *in = userdata;
        ssize_t n = next_chunk(in, ret_buf);
        if (n < 0) {
                archive_set_error(a, in->errnum, "%s", in->errmsg);
                return -1;
        }
        return n;
}

int xin_failed(struct xin *in, struct lerr **err)
{
        if (in->threaded && in->started) {
                pthread_mutex_lock(&in->lock);
                bool failed = in->done && in->errnum;
                pthread_mutex_unlock(&in->lock);
                if (!failed)
                        return 0;
        } else if (!in->errnum) {
                return 0;
        }
        return lerr_set(err, in->errnum, "%s", in->errmsg);
}

int xin_drain(struct xin *in, struct lerr **err)
{
        const void *buf;
        ssize_t n;
        while ((n = next_chunk(in, &buf)) > 0)
                ;
        if (n < 0)
                return xin_failed(in, err);
        return 0;
}

static int sniff(struct xin *in)
{
        /* at least 4 bytes, or the whole stream if shorter: a pipe may deliver them one by one */
        char *p = in->raw;
        size_t have = 0;
        while (have < 4) {
                ssize_t n;
                if (in->fd >= 0) {
                        do
                                n = read(in->fd, p + have, XIN_RAW_BYTES - have);
                        while (n < 0 && errno == EINTR);
                        if (n < 0)
                                return fail(in, errno, "read the layer: %s", strerror(errno));
                } else {
                        n = in->read_fn(in->userdata, p + have, XIN_RAW_BYTES - have);
                        if (n < 0 || n > (ssize_t) (XIN_RAW_BYTES - have))
                                return fail(in, n < 0 ? (int) -n : EIO, "read the layer: %s",
                                            strerror(n < 0 ? (int) -n : EIO));
                }
                if (n == 0) {
                        in->raw_eof = true;
                        break;
                }
                have += (size_t) n;
        }
        in->raw_len = have;
        in->in_bytes = have;
        const unsigned char *u = (const unsigned char *) p;
        if (have >= 2 && u[0] == 0x1f && u[1] == 0x8b)
                in->codec = XIN_GZIP;
        else if (have >= 4 && u[0] == 0x28 && u[1] == 0xb5 && u[2] == 0x2f && u[3] == 0xfd)
                in->codec = XIN_ZSTD;
        else
                in->codec = XIN_NONE;
        return 0;
}

static int init_codec(struct xin *in)
{
        switch (in->codec) {
        case XIN_GZIP:
                /* 16 + window bits: gzip wrapper only, with its CRC and length checked */
                if (inflateInit2(&in->z, 16 + MAX_WBITS) != Z_OK)
                        return fail(in, ENOMEM, "decompress gzip: init failed");
                in->z_ready = true;
                in->z.next_in = (Bytef *) in->raw;
                in->z.avail_in = (uInt) in->raw_len;
                return 0;
        case XIN_ZSTD:
#ifdef HAVE_ZSTD
                in->zs = ZSTD_createDCtx();
                if (!in->zs)
                        return fail(in, ENOMEM, "decompress zstd: init failed");
                /* the default window limit (128 MiB) bounds the memory a hostile frame costs */
                return 0;
#else
                return fail(in, ENOTSUP, "decompress zstd: this build has no zstd support");
#endif
        case XIN_NONE:
                break;
        }
        return 0;
}

int xin_new(int fd, extract_read_fn read_fn, void *userdata, bool threaded, struct xin **ret,
            struct lerr **err)
{
        struct xin *in = xcalloc(1, sizeof(*in));
        in->fd = fd;
        in->cancel_fd = -1;
        in->read_fn = read_fn;
        in->userdata = userdata;
        in->raw = xmalloc(XIN_RAW_BYTES);
        int r = sniff(in);
        if (r >= 0)
                r = init_codec(in);
        if (r < 0) {
                r = lerr_set(err, in->errnum, "%s", in->errmsg);
                xin_free(in);
                return r;
        }
        if (in->codec != XIN_NONE)
                for (unsigned i = 0; i < (threaded ? XIN_CHUNKS : 1); i++)
                        in->chunks[i].data = xmalloc(XIN_CHUNK_BYTES);
        if (in->codec != XIN_NONE && threaded) {
                in->threaded = true;
                if (fd >= 0)
                        in->cancel_fd = eventfd(0, EFD_CLOEXEC);
                pthread_mutex_init(&in->lock, NULL);
                pthread_cond_init(&in->cond, NULL);
                r = pthread_create(&in->thread, NULL, producer, in);
                if (r != 0) {
                        in->threaded = false; /* fall back to the calling thread */
                } else {
                        in->started = true;
                }
        }
        *ret = in;
        return 0;
}

void xin_free(struct xin *in)
{
        if (!in)
                return;
        if (in->started) {
                pthread_mutex_lock(&in->lock);
                in->cancel = true;
                pthread_cond_broadcast(&in->cond);
                pthread_mutex_unlock(&in->lock);
                if (in->cancel_fd >= 0)
                        (void) !eventfd_write(in->cancel_fd, 1);
                pthread_join(in->thread, NULL);
        }
        if (in->threaded) {
                pthread_mutex_destroy(&in->lock);
                pthread_cond_destroy(&in->cond);
        }
        if (in->cancel_fd >= 0)
                (void) close(in->cancel_fd);
        if (in->z_ready)
                inflateEnd(&in->z);
#ifdef HAVE_ZSTD
        ZSTD_freeDCtx(in->zs);
#endif
        for (unsigned i = 0; i < XIN_CHUNKS; i++)
                free(in->chunks[i].data);
        free(in->raw);
        free(in->errmsg);
        free(in);
}
