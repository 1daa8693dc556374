/* SPDX-License-Identifier: Apache-2.0 */
/* Parallel gzip on zlib and pthreads: a ring of block slots filled by the caller, compressed by
 * workers in any order, written to the sink in order by the caller. It knows nothing of tar. */
#include "snapshot/pgzip.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <string.h>
#include <zlib.h>

#include "common/alloc.h"
#include "common/err.h"

#define DICT_SIZE 32768u

enum slot_state {
        SLOT_FREE,    /* owned by the producer, not in use */
        SLOT_FILLING, /* the producer is copying input into it */
        SLOT_QUEUED,  /* waiting for a worker */
        SLOT_BUSY,    /* a worker compresses it */
        SLOT_DONE,    /* compressed, waiting to be written in order */
};

struct slot {
        unsigned char *in, *dict, *out;
        size_t in_len, dict_len, out_len, out_cap;
        uint32_t crc;
        bool last;
        enum slot_state state;
};

struct pgzip {
        int level;
        size_t block;
        unsigned threads;
        pgzip_sink_fn sink;
        void *userdata;

        struct slot *slots;
        unsigned nslots;
        unsigned fill;     /* the slot the producer fills next */
        unsigned next_job; /* the next queued slot a worker takes */
        unsigned next_out; /* the next slot to hand to the sink */

        unsigned char tail[DICT_SIZE]; /* the last input bytes: the next block's dictionary */
        size_t tail_len;
        uint32_t crc;
        uint64_t total_in;
        bool header_done, finished;
        bool filling; /* slots[fill] holds a partial block */
        int failed;   /* negative errno once the sink failed */

        z_stream inline_zs; /* threads == 1 */
        bool inline_init;

        pthread_t *tids;
        unsigned ntids;
        pthread_mutex_t mu;
        pthread_cond_t work_cv, done_cv;
        bool stop;
};

unsigned pgzip_cpu_count(void)
{
        cpu_set_t set;
        if (sched_getaffinity(0, sizeof(set), &set) == 0) {
                int n = CPU_COUNT(&set);
                if (n > 0)
                        return (unsigned) n;
        }
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        return n > 0 ? (unsigned) n : 1;
}

static void deflate_setup(z_stream *zs, int level)
{
        memset(zs, 0, sizeof(*zs));
        /* raw deflate: the gzip framing is ours, so that blocks can be concatenated */
        int r = deflateInit2(zs, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
        if (r != Z_OK)
                oom(); /* the only failure left after the level was checked */
}

/* Runs in a worker (or in the caller when threads == 1). Cannot fail but for OOM. */
static void compress_slot(z_stream *zs, struct slot *s)
{
        if (deflateReset(zs) != Z_OK)
                oom();
        if (s->dict_len > 0 && deflateSetDictionary(zs, s->dict, (uInt) s->dict_len) != Z_OK)
                oom();
        zs->next_in = s->in;
        zs->avail_in = (uInt) s->in_len;
        s->out_len = 0;
        for (;;) {
                zs->next_out = s->out + s->out_len;
                zs->avail_out = (uInt) (s->out_cap - s->out_len);
                int r = deflate(zs, s->last ? Z_FINISH : Z_SYNC_FLUSH);
                s->out_len = s->out_cap - zs->avail_out;
                if (r == Z_STREAM_END || (r == Z_OK && !s->last && zs->avail_out > 0))
                        break;
                if (r != Z_OK && r != Z_BUF_ERROR)
                        oom();
                /* deflateBound was too small (it is computed for Z_FINISH): grow */
                s->out_cap *= 2;
                s->out = xrealloc(s->out, s->out_cap);
        }
        s->crc = (uint32_t) crc32(0, s->in, (uInt) s->in_len);
}

static void *worker_main(void *arg)
{
        struct pgzip *z = arg;
        z_stream zs;
        deflate_setup(&zs, z->level);
        pthread_mutex_lock(&z->mu);
        for (;;) {
                while (!z->stop && z->slots[z->next_job].state != SLOT_QUEUED)
                        pthread_cond_wait(&z->work_cv, &z->mu);
                if (z->stop)
                        break;
                struct slot *s = &z->slots[z->next_job];
                z->next_job = (z->next_job + 1) % z->nslots;
                s->state = SLOT_BUSY;
                pthread_mutex_unlock(&z->mu);
                compress_slot(&zs, s);
                pthread_mutex_lock(&z->mu);
                s->state = SLOT_DONE;
                pthread_cond_broadcast(&z->done_cv);
        }
        pthread_mutex_unlock(&z->mu);
        (void) deflateEnd(&zs);
        return NULL;
}

/* Slot states are shared with the workers: read and written under the lock when they run. */
static enum slot_state get_state(struct pgzip *z, const struct slot *s)
{
        if (z->ntids == 0)
                return s->state;
        pthread_mutex_lock(&z->mu);
        enum slot_state st = s->state;
        pthread_mutex_unlock(&z->mu);
        return st;
}

static void set_state(struct pgzip *z, struct slot *s, enum slot_state st)
{
        if (z->ntids == 0) {
                s->state = st;
                return;
        }
        pthread_mutex_lock(&z->mu);
        s->state = st;
        if (st == SLOT_QUEUED)
                pthread_cond_signal(&z->work_cv);
        pthread_mutex_unlock(&z->mu);
}

static int emit(struct pgzip *z, const void *p, size_t n, struct lerr **err)
{
        if (z->failed)
                return lerr_set(err, -z->failed, "compressed stream already failed");
        int r = z->sink(z->userdata, p, n, err);
        if (r < 0) {
                z->failed = r;
                return r;
        }
        return 0;
}

static int emit_header(struct pgzip *z, struct lerr **err)
{
        /* magic, CM=deflate, FLG=0, MTIME=0, XFL=0, OS=255: what Go's gzip.Writer writes */
        static const unsigned char hdr[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
        if (z->header_done)
                return 0;
        z->header_done = true;
        return emit(z, hdr, sizeof(hdr), err);
}

/* Hands a compressed slot to the sink and frees it. Called without the lock: the slot is DONE,
 * no worker touches it until the producer makes it QUEUED again. */
static int write_slot(struct pgzip *z, struct slot *s, struct lerr **err)
{
        int r = emit_header(z, err);
        if (r >= 0)
                r = emit(z, s->out, s->out_len, err);
        z->crc = (uint32_t) crc32_combine(z->crc, s->crc, (z_off_t) s->in_len);
        set_state(z, s, SLOT_FREE);
        return r;
}

/* Writes every slot that is done, in order; with wait, first waits for the oldest one. */
static int drain(struct pgzip *z, bool wait, struct lerr **err)
{
        for (;;) {
                struct slot *s = &z->slots[z->next_out];
                enum slot_state st;
                if (z->ntids > 0) {
                        pthread_mutex_lock(&z->mu);
                        while (wait && (s->state == SLOT_QUEUED || s->state == SLOT_BUSY))
                                pthread_cond_wait(&z->done_cv, &z->mu);
                        st = s->state;
                        pthread_mutex_unlock(&z->mu);
                } else
                        st = s->state;
                if (st != SLOT_DONE)
                        return 0;
                z->next_out = (z->next_out + 1) % z->nslots;
                int r = write_slot(z, s, err);
                if (r < 0)
                        return r;
                wait = false;
        }
}

static void start_slot(struct pgzip *z, struct slot *s)
{
        s->in_len = 0;
        s->last = false;
        memcpy(s->dict, z->tail, z->tail_len);
        s->dict_len = z->tail_len;
        set_state(z, s, SLOT_FILLING);
        z->filling = true;
}

static int submit(struct pgzip *z, bool last, struct lerr **err)
{
        struct slot *s = &z->slots[z->fill];
        s->last = last;
        z->filling = false;
        /* the block size is at least DICT_SIZE, so the tail comes from this block alone */
        if (s->in_len >= DICT_SIZE) {
                memcpy(z->tail, s->in + s->in_len - DICT_SIZE, DICT_SIZE);
                z->tail_len = DICT_SIZE;
        } else if (s->in_len > 0) {
                size_t keep = MIN(z->tail_len, DICT_SIZE - s->in_len);
                memmove(z->tail, z->tail + z->tail_len - keep, keep);
                memcpy(z->tail + keep, s->in, s->in_len);
                z->tail_len = keep + s->in_len;
        }
        z->fill = (z->fill + 1) % z->nslots;
        if (z->ntids == 0) {
                compress_slot(&z->inline_zs, s);
                s->state = SLOT_DONE;
                return drain(z, false, err);
        }
        set_state(z, s, SLOT_QUEUED);
        return drain(z, false, err);
}

/* Makes slots[fill] a slot being filled, waiting for the oldest block when the ring is full. */
static int acquire(struct pgzip *z, struct lerr **err)
{
        struct slot *s = &z->slots[z->fill];
        if (z->filling)
                return 0;
        for (enum slot_state st = get_state(z, s); st != SLOT_FREE; st = get_state(z, s)) {
                int r = drain(z, true, err);
                if (r < 0)
                        return r;
        }
        start_slot(z, s);
        return 0;
}

int pgzip_new(const struct pgzip_opts *o, pgzip_sink_fn sink, void *userdata, struct pgzip **ret,
              struct lerr **err)
{
        size_t block = o->block_size ? o->block_size : PGZIP_DEFAULT_BLOCK;
        if (o->level < -1 || o->level > 9)
                return lerr_set(err, EINVAL, "gzip compression level %d is not in -1..9", o->level);
        if (block < PGZIP_MIN_BLOCK || block > PGZIP_MAX_BLOCK)
                return lerr_set(err, EINVAL, "gzip block size %zu is not in %u..%u", block,
                                PGZIP_MIN_BLOCK, PGZIP_MAX_BLOCK);

        struct pgzip *z = xcalloc(1, sizeof(*z));
        z->level = o->level;
        z->block = block;
        z->threads = o->threads ? o->threads : pgzip_cpu_count();
        z->threads = MIN(z->threads, PGZIP_MAX_THREADS);
        z->sink = sink;
        z->userdata = userdata;
        z->nslots = z->threads == 1 ? 1 : 2 * z->threads + 2;
        z->slots = xcalloc(z->nslots, sizeof(*z->slots));

        z_stream probe;
        deflate_setup(&probe, z->level);
        size_t out_cap = deflateBound(&probe, (uLong) block) + 64;
        (void) deflateEnd(&probe);
        for (unsigned i = 0; i < z->nslots; i++) {
                z->slots[i].in = xmalloc(block);
                z->slots[i].dict = xmalloc(DICT_SIZE);
                z->slots[i].out_cap = out_cap;
                z->slots[i].out = xmalloc(out_cap);
        }
        pthread_mutex_init(&z->mu, NULL);
        pthread_cond_init(&z->work_cv, NULL);
        pthread_cond_init(&z->done_cv, NULL);

        if (z->threads == 1) {
                deflate_setup(&z->inline_zs, z->level);
                z->inline_init = true;
        } else {
                z->tids = xcalloc(z->threads, sizeof(pthread_t));
                for (unsigned i = 0; i < z->threads; i++) {
                        int r = pthread_create(&z->tids[i], NULL, worker_main, z);
                        if (r != 0) {
                                pgzip_free(z);
                                return lerr_errno(err, r, "start a gzip thread");
                        }
                        z->ntids++;
                }
        }
        *ret = z;
        return 0;
}

int pgzip_write(struct pgzip *z, const void *p, size_t n, struct lerr **err)
{
        const unsigned char *c = p;
        if (z->failed)
                return lerr_set(err, -z->failed, "compressed stream already failed");
        if (z->finished)
                return lerr_set(err, EINVAL, "write after the end of the gzip stream");
        while (n > 0) {
                int r = acquire(z, err);
                if (r < 0)
                        return r;
                struct slot *s = &z->slots[z->fill];
                size_t k = MIN(n, z->block - s->in_len);
                memcpy(s->in + s->in_len, c, k);
                s->in_len += k;
                c += k;
                n -= k;
                z->total_in += k;
                if (s->in_len == z->block) {
                        r = submit(z, false, err);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int pgzip_finish(struct pgzip *z, struct lerr **err)
{
        if (z->failed)
                return lerr_set(err, -z->failed, "compressed stream already failed");
        if (z->finished)
                return 0;
        int r = acquire(z, err);
        if (r >= 0)
                r = submit(z, true, err);
        while (r >= 0 && get_state(z, &z->slots[z->next_out]) != SLOT_FREE)
                r = drain(z, true, err);
        if (r < 0)
                return r;
        z->finished = true;
        unsigned char trailer[8];
        uint32_t isize = (uint32_t) z->total_in; /* RFC 1952: the size modulo 2^32 */
        for (int i = 0; i < 4; i++) {
                trailer[i] = (unsigned char) (z->crc >> (8 * i));
                trailer[4 + i] = (unsigned char) (isize >> (8 * i));
        }
        return emit(z, trailer, sizeof(trailer), err);
}

void pgzip_free(struct pgzip *z)
{
        if (!z)
                return;
        if (z->ntids > 0) {
                pthread_mutex_lock(&z->mu);
                z->stop = true;
                pthread_cond_broadcast(&z->work_cv);
                pthread_mutex_unlock(&z->mu);
                for (unsigned i = 0; i < z->ntids; i++)
                        (void) pthread_join(z->tids[i], NULL);
        }
        free(z->tids);
        if (z->inline_init)
                (void) deflateEnd(&z->inline_zs);
        for (unsigned i = 0; i < z->nslots; i++) {
                free(z->slots[i].in);
                free(z->slots[i].dict);
                free(z->slots[i].out);
        }
        free(z->slots);
        pthread_mutex_destroy(&z->mu);
        pthread_cond_destroy(&z->work_cv);
        pthread_cond_destroy(&z->done_cv);
        free(z);
}

unsigned pgzip_threads(const struct pgzip *z)
{
        return z->threads;
}

uint64_t pgzip_bytes_in(const struct pgzip *z)
{
        return z->total_in;
}
