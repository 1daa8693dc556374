/* SPDX-License-Identifier: Apache-2.0 */
/* Extraction throughput: generates a layer of many small files and a layer of one large file
 * (gzip and plain tar), then extracts each into DIR, threaded and not, and prints MB/s (of
 * uncompressed content), files/s, CPU time and peak RSS. Also times wipe_root of the small tree.
 * Not a test: timings depend on the machine and its load.
 * Usage: bench-extract [--files N] [--file-bytes B] [--big-mib M] [--level L] DIR */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fs.h"
#include "snapshot/extract.h"
#include "snapshot/wipe.h"

static uint64_t rng = 88172645463325252ULL;

static uint64_t next(void)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return rng;
}

/* Words from a small vocabulary with a few random bytes: about 4:1 under gzip -6, like a
 * typical layer of binaries, libraries and text. */
static void fill(char *p, size_t n)
{
        size_t i = 0;
        while (i < n) {
                uint64_t r = next();
                if ((r & 31) == 0) {
                        p[i++] = (char) (r >> 8);
                        continue;
                }
                unsigned w = (unsigned) (r >> 16) % 256, len = 3 + w % 6;
                for (unsigned k = 0; k < len && i < n; k++)
                        p[i++] = (char) ('a' + (w * 7 + k * 13) % 26);
                if (i < n)
                        p[i++] = (r >> 40) & 1 ? ' ' : '\n';
        }
}

static double now(void)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double) t.tv_sec + (double) t.tv_nsec / 1e9;
}

static double cpu(void)
{
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        return (double) ru.ru_utime.tv_sec + (double) ru.ru_utime.tv_usec / 1e6 +
               (double) ru.ru_stime.tv_sec + (double) ru.ru_stime.tv_usec / 1e6;
}

static struct archive *open_writer(const char *path, bool gz, int level)
{
        struct archive *a = archive_write_new();
        archive_write_set_format_pax_restricted(a);
        if (gz) {
                char lv[8];
                snprintf(lv, sizeof(lv), "%d", level);
                archive_write_add_filter_gzip(a);
                archive_write_set_filter_option(a, "gzip", "compression-level", lv);
        }
        if (archive_write_open_filename(a, path) != ARCHIVE_OK) {
                fprintf(stderr, "%s: %s\n", path, archive_error_string(a));
                exit(1);
        }
        return a;
}

static void add(struct archive *a, const char *name, mode_t type, const char *data, size_t n)
{
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, type);
        archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
        archive_entry_set_size(e, (la_int64_t) n);
        archive_entry_set_mtime(e, 1700000000, 0);
        archive_write_header(a, e);
        if (n)
                archive_write_data(a, data, n);
        archive_entry_free(e);
}

static void make_small(const char *path, bool gz, int level, unsigned files, size_t bytes)
{
        struct archive *a = open_writer(path, gz, level);
        char *buf = malloc(bytes + 1);
        char name[64];
        for (unsigned i = 0; i < files; i++) {
                if (i % 100 == 0) {
                        snprintf(name, sizeof(name), "usr/share/d%04u/", i / 100);
                        add(a, name, AE_IFDIR, NULL, 0);
                }
                snprintf(name, sizeof(name), "usr/share/d%04u/file-%06u.txt", i / 100, i);
                fill(buf, bytes);
                add(a, name, AE_IFREG, buf, bytes);
        }
        free(buf);
        archive_write_close(a);
        archive_write_free(a);
}

static void make_big(const char *path, bool gz, int level, size_t mib)
{
        struct archive *a = open_writer(path, gz, level);
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, "big.bin");
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t) (mib << 20));
        archive_write_header(a, e);
        char *buf = malloc(1 << 20);
        fill(buf, 1 << 20);
        for (size_t i = 0; i < mib; i++) {
                buf[next() % (1 << 20)] ^= 1; /* not the same MiB each time */
                archive_write_data(a, buf, 1 << 20);
        }
        free(buf);
        archive_entry_free(e);
        archive_write_close(a);
        archive_write_free(a);
}

static int run(int dir_fd, const char *layer, unsigned flags, const char *label)
{
        struct lerr *err = NULL;
        struct extract_stats st;
        struct wipe_stats ws = {0};

        (void) fs_rm_rf_at(dir_fd, "root");
        if (mkdirat(dir_fd, "root", 0755) < 0)
                return -errno;
        int root = openat(dir_fd, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int fd = open(layer, O_RDONLY | O_CLOEXEC);
        struct extract_options o = {.flags = flags | EXTRACT_QUIET};
        sync(); /* start from clean page cache writeback, not from the generator's dirt */
        double t0 = now(), c0 = cpu();
        int r = extract_layer_fd(root, fd, &o, &st, &err);
        double t1 = now(), c1 = cpu();
        if (r < 0) {
                fprintf(stderr, "%s: %s\n", label, lerr_message(err));
                lerr_free(err);
                return r;
        }
        double wall = t1 - t0;
        printf("%-34s %7.2f s  %8.1f MB/s  %9.0f files/s  cpu %6.2f s (%3.0f%% of one core)  "
               "in %7.1f MB\n",
               label, wall, (double) st.bytes / 1e6 / wall, (double) st.files / wall, c1 - c0,
               100 * (c1 - c0) / wall, (double) st.in_bytes / 1e6);
        close(fd);
        if (st.files > 1000) {
                t0 = now();
                r = wipe_root(root, NULL, &ws, &err);
                t1 = now();
                if (r >= 0)
                        printf("%-34s %7.2f s  %9.0f files/s\n", "  wipe_root of that tree",
                               t1 - t0, (double) st.files / (t1 - t0));
                else
                        lerr_free(err);
        }
        close(root);
        return 0;
}

int main(int argc, char **argv)
{
        unsigned files = 100000;
        size_t file_bytes = 1024, big_mib = 1024;
        int level = 6, i = 1;
        for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
                if (!strcmp(argv[i], "--files"))
                        files = (unsigned) strtoul(argv[i + 1], NULL, 10);
                else if (!strcmp(argv[i], "--file-bytes"))
                        file_bytes = strtoul(argv[i + 1], NULL, 10);
                else if (!strcmp(argv[i], "--big-mib"))
                        big_mib = strtoul(argv[i + 1], NULL, 10);
                else if (!strcmp(argv[i], "--level"))
                        level = (int) strtol(argv[i + 1], NULL, 10);
        }
        if (i >= argc) {
                fprintf(stderr,
                        "usage: %s [--files N] [--file-bytes B] [--big-mib M] "
                        "[--level L] DIR\n",
                        argv[0]);
                return 2;
        }
        const char *dir = argv[i];
        int dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0) {
                perror(dir);
                return 1;
        }
        char small_gz[4096], small_tar[4096], big_gz[4096], big_tar[4096];
        snprintf(small_gz, sizeof(small_gz), "%s/small.tar.gz", dir);
        snprintf(small_tar, sizeof(small_tar), "%s/small.tar", dir);
        snprintf(big_gz, sizeof(big_gz), "%s/big.tar.gz", dir);
        snprintf(big_tar, sizeof(big_tar), "%s/big.tar", dir);
        fprintf(stderr, "generating layers in %s ...\n", dir);
        make_small(small_gz, true, level, files, file_bytes);
        make_small(small_tar, false, level, files, file_bytes);
        make_big(big_gz, true, level, big_mib);
        make_big(big_tar, false, level, big_mib);

        char label[128];
        snprintf(label, sizeof(label), "%u x %zu B, gzip", files, file_bytes);
        run(dir_fd, small_gz, 0, label);
        snprintf(label, sizeof(label), "%u x %zu B, gzip, no thread", files, file_bytes);
        run(dir_fd, small_gz, EXTRACT_NO_THREADS, label);
        snprintf(label, sizeof(label), "%u x %zu B, tar", files, file_bytes);
        run(dir_fd, small_tar, 0, label);
        snprintf(label, sizeof(label), "1 x %zu MiB, gzip", big_mib);
        run(dir_fd, big_gz, 0, label);
        snprintf(label, sizeof(label), "1 x %zu MiB, gzip, no thread", big_mib);
        run(dir_fd, big_gz, EXTRACT_NO_THREADS, label);
        snprintf(label, sizeof(label), "1 x %zu MiB, tar", big_mib);
        run(dir_fd, big_tar, 0, label);

        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("peak RSS %ld MiB (includes the layer generator)\n", ru.ru_maxrss / 1024);
        (void) fs_rm_rf_at(dir_fd, "root");
        unlink(small_gz);
        unlink(small_tar);
        unlink(big_gz);
        unlink(big_tar);
        return 0;
}
