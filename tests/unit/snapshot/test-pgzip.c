/* SPDX-License-Identifier: Apache-2.0 */
/* Parallel gzip: one valid gzip member for every size around the block boundaries, the same
 * bytes for every thread count, checked with zlib and with gzip -t. */
#include "snapshot/pgzip.h"

#include <zlib.h>

#include "common/err.h"
#include "snaptest.h"

#define BLOCK PGZIP_DEFAULT_BLOCK

struct sink {
        struct buf out;
        size_t fail_after; /* 0: never fail */
        int calls;
};

static int to_buf(void *userdata, const void *p, size_t n, struct lerr **err)
{
        struct sink *s = userdata;
        s->calls++;
        if (s->fail_after && s->out.len + n > s->fail_after)
                return lerr_set(err, ENOSPC, "write layer: No space left on device");
        if (buf_append(&s->out, p, n) < 0)
                return lerr_set(err, E2BIG, "too big");
        return 0;
}

/* Compresses data with the given thread count, feeding it in chunks of `chunk` bytes. */
static char *pgz(const unsigned char *data, size_t n, unsigned threads, int level, size_t chunk,
                 size_t *ret_len)
{
        struct sink s = {.out = BUF_INIT(1u << 30)};
        struct lerr *err = NULL;
        struct pgzip *z = NULL;
        struct pgzip_opts o = {.level = level, .threads = threads};
        if (pgzip_new(&o, to_buf, &s, &z, &err) < 0)
                abort();
        for (size_t off = 0; off < n; off += chunk)
                if (pgzip_write(z, data + off, MIN(chunk, n - off), &err) < 0)
                        abort();
        if (pgzip_finish(z, &err) < 0)
                abort();
        pgzip_free(z);
        *ret_len = s.out.len;
        return s.out.data ? buf_steal(&s.out) : xstrdup("");
}

/* Inflates a whole gzip member with zlib (which checks the crc32 and the size). */
static bool gunzip_equals(const char *gz, size_t gz_len, const unsigned char *want, size_t n)
{
        z_stream zs = {0};
        if (inflateInit2(&zs, 16 + 15) != Z_OK)
                return false;
        unsigned char *out = xmalloc(n + 1);
        zs.next_in = (unsigned char *) gz;
        zs.avail_in = (uInt) gz_len;
        zs.next_out = out;
        zs.avail_out = (uInt) (n + 1);
        int r = inflate(&zs, Z_FINISH);
        bool good = r == Z_STREAM_END && zs.total_out == n && zs.avail_in == 0 &&
                    memcmp(out, want, n) == 0;
        if (!good)
                diag("inflate: r=%d total_out=%lu want=%zu left=%u", r, zs.total_out, n,
                     zs.avail_in);
        inflateEnd(&zs);
        free(out);
        return good;
}

static void check_size(size_t n, bool text)
{
        unsigned char *data = xmalloc(n ? n : 1);
        fill_bytes(data, n, n + 7, text);
        size_t len1, len2, len4, lenc;
        _cleanup_free_ char *one = pgz(data, n, 1, -1, 1u << 20, &len1);
        _cleanup_free_ char *two = pgz(data, n, 2, -1, 1u << 20, &len2);
        _cleanup_free_ char *four = pgz(data, n, 4, -1, 1u << 20, &len4);
        _cleanup_free_ char *small = pgz(data, n, 2, -1, 1000, &lenc);

        ok(gunzip_equals(one, len1, data, n), "size %zu: 1 thread inflates to the input", n);
        ok(gunzip_equals(two, len2, data, n), "size %zu: 2 threads inflate to the input", n);
        ok(len1 == len2 && len2 == len4 && memcmp(one, two, len1) == 0 &&
                   memcmp(two, four, len2) == 0,
           "size %zu: 1, 2 and 4 threads give the same bytes", n);
        ok(lenc == len2 && memcmp(small, two, len2) == 0,
           "size %zu: 1000-byte writes give the same bytes", n);

        _cleanup_free_ char *path = scratch_path("data-%zu.gz", n);
        write_file_at(AT_FDCWD, path, two, len2, 0644);
        is_int(run_sh("gzip -t '%s'", path), 0, "size %zu: gzip -t accepts it", n);
        _cleanup_free_ char *raw = scratch_path("data-%zu", n);
        write_file_at(AT_FDCWD, raw, data, n, 0644);
        is_int(run_sh("gzip -dc '%s' | cmp -s - '%s'", path, raw), 0,
               "size %zu: gzip -d gives the input back", n);
        free(data);
}

static void test_header(void)
{
        size_t len;
        _cleanup_free_ char *gz = pgz((const unsigned char *) "", 0, 2, -1, 1, &len);
        static const unsigned char hdr[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
        ok(len >= 18 && memcmp(gz, hdr, 10) == 0, "header: mtime 0, XFL 0, OS 255");
        /* empty input: a final empty fixed block (03 00), crc 0, size 0 */
        static const unsigned char empty[8] = {3, 0, 0, 0, 0, 0, 0, 0};
        is_int(len, 20, "empty stream is 20 bytes");
        ok(len == 20 && memcmp(gz + 10, empty, 2) == 0 && memcmp(gz + 12, empty + 2, 6) == 0 &&
                   gz[18] == 0 && gz[19] == 0,
           "empty stream: final empty block and a zero trailer");
}

static void test_levels(void)
{
        size_t n = 3 * BLOCK + 5, l1, l9, l0;
        unsigned char *data = xmalloc(n);
        fill_bytes(data, n, 3, true);
        _cleanup_free_ char *fast = pgz(data, n, 2, 1, 65536, &l1);
        _cleanup_free_ char *best = pgz(data, n, 2, 9, 65536, &l9);
        _cleanup_free_ char *stored = pgz(data, n, 2, 0, 65536, &l0);
        ok(gunzip_equals(fast, l1, data, n) && gunzip_equals(best, l9, data, n) &&
                   gunzip_equals(stored, l0, data, n),
           "levels 0, 1 and 9 inflate to the input");
        ok(l0 > n && l9 < l1 && l1 < n / 2, "level 0 stores, 9 beats 1 (%zu %zu %zu)", l0, l1, l9);
        free(data);

        struct lerr *err = NULL;
        struct pgzip *z = NULL;
        struct pgzip_opts bad = {.level = 10};
        is_int(pgzip_new(&bad, to_buf, NULL, &z, &err), -EINVAL, "level 10 refused");
        is_str(lerr_message(err), "gzip compression level 10 is not in -1..9", "level error text");
        struct pgzip_opts tiny = {.level = -1, .block_size = 1000};
        is_int(pgzip_new(&tiny, to_buf, NULL, &z, &err), -EINVAL, "block of 1000 refused");
        is_str(lerr_message(err), "gzip block size 1000 is not in 32768..16777216",
               "block size error text");
        lerr_free(err);
}

static void test_sink_error(void)
{
        for (unsigned threads = 1; threads <= 2; threads++) {
                size_t n = 20 * BLOCK;
                unsigned char *data = xmalloc(n);
                fill_bytes(data, n, 9, false);
                struct sink s = {.out = BUF_INIT(1u << 30), .fail_after = 300000};
                struct lerr *err = NULL;
                struct pgzip *z = NULL;
                struct pgzip_opts o = {.level = 1, .threads = threads};
                if (pgzip_new(&o, to_buf, &s, &z, &err) < 0)
                        abort();
                int r = 0;
                for (size_t off = 0; r >= 0 && off < n; off += 65536)
                        r = pgzip_write(z, data + off, 65536, &err);
                if (r >= 0)
                        r = pgzip_finish(z, &err);
                is_int(r, -ENOSPC, "%u thread(s): the sink's error comes back", threads);
                is_str(lerr_message(err), "write layer: No space left on device",
                       "%u thread(s): with its message", threads);
                is_int(pgzip_write(z, data, 10, &err), -ENOSPC,
                       "%u thread(s): later writes fail the same way", threads);
                is_int(pgzip_finish(z, &err), -ENOSPC, "%u thread(s): finish fails too", threads);
                pgzip_free(z);
                buf_done(&s.out);
                lerr_free(err);
                free(data);
        }
}

static void test_many_threads(void)
{
        size_t n = 40 * BLOCK + 99, l1, l8;
        unsigned char *data = xmalloc(n);
        fill_bytes(data, n, 11, true);
        _cleanup_free_ char *a = pgz(data, n, 1, 6, 1u << 16, &l1);
        _cleanup_free_ char *b = pgz(data, n, 8, 6, 4096, &l8);
        ok(l1 == l8 && memcmp(a, b, l1) == 0, "8 threads and small writes: same bytes as 1");
        ok(gunzip_equals(b, l8, data, n), "8 threads inflate to the input");
        free(data);
}

int main(void)
{
        snaptest_setup("pgzip");
        test_header();
        const size_t sizes[] = {0,
                                1,
                                BLOCK - 1,
                                BLOCK,
                                BLOCK + 1,
                                32768 - 1,
                                2 * BLOCK + 32768,
                                7 * BLOCK - 1,
                                7 * BLOCK,
                                9 * BLOCK + 1,
                                3000000};
        for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
                check_size(sizes[i], i % 2 == 0);
        check_size(5 * BLOCK + 3, false);
        test_levels();
        test_sink_error();
        test_many_threads();
        ok(pgzip_cpu_count() >= 1, "cpu count");
        return snaptest_done();
}
