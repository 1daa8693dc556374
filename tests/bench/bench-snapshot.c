/* SPDX-License-Identifier: Apache-2.0 */
/* Snapshot benchmark (run by hand, never as a timed test): on a generated tree of small files
 * plus a few large ones, measures the index build, a no-change diff, a diff with 1% of the
 * files changed, layer writing (MB/s of tar) on 1 and on all cores, raw parallel gzip, and the
 * peak RSS (VmHWM) of a fresh process writing a 1 GB layer.
 *
 * Usage: bench-snapshot [--dir DIR] [--files N] [--big-mb MB] [--layer-mb MB] [--runs R]
 *                       [--level L] [--keep]
 * DIR defaults to a new directory under /dev/shm (tmpfs); point it at a loop-mounted ext4 to
 * measure a disk filesystem. Timings are medians of R runs (default 5), with the minimum and
 * the CPU time (user + system, all threads) of the median run: on a shared machine, wall time
 * that exceeds CPU time (for one thread) is time spent waiting for a core. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/fs.h"
#include "snapshot/diff.h"
#include "snapshot/extract.h"
#include "snapshot/index.h"
#include "snapshot/pgzip.h"
#include "snapshot/snapshotter.h"

extern char **environ;

static double now(void)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double) t.tv_sec + (double) t.tv_nsec / 1e9;
}

static double cpu_now(void)
{
        struct rusage r;
        getrusage(RUSAGE_SELF, &r);
        return (double) r.ru_utime.tv_sec + (double) r.ru_utime.tv_usec / 1e6 +
               (double) r.ru_stime.tv_sec + (double) r.ru_stime.tv_usec / 1e6;
}

/* CPU time of the calling thread only: in a layer write, the thread that walks, tars and
 * hashes; the gzip workers are the rest of cpu_now(). */
static double thread_cpu_now(void)
{
        struct timespec t;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
        return (double) t.tv_sec + (double) t.tv_nsec / 1e9;
}

static void die(const char *what, struct lerr *err)
{
        fprintf(stderr, "bench-snapshot: %s: %s\n", what,
                err ? lerr_message(err) : strerror(errno));
        exit(1);
}

/* Text-like bytes that compress about 3:1, with an incompressible stretch every 1 MiB. */
static void fill(unsigned char *p, size_t n, uint64_t seed)
{
        static const char *const words[] = {"usr/lib ", "static ",     "return ", "0x7f ",
                                            "const ",   "if (r < 0) ", "layer ",  "\n\t"};
        uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
        for (size_t i = 0; i < n;) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                if ((i >> 16) % 16 == 15) {
                        p[i++] = (unsigned char) (x >> 32);
                        continue;
                }
                const char *w = words[x % 8];
                for (; *w && i < n; w++)
                        p[i++] = (unsigned char) *w;
                if (i < n && (x >> 40) % 3 == 0)
                        p[i++] = (unsigned char) ('a' + (x >> 20) % 26);
        }
}

static void write_file(int dir_fd, const char *name, const unsigned char *p, size_t n)
{
        int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || fs_write_all(fd, p, n) < 0)
                die(name, NULL);
        close(fd);
}

/* files small files in directories of 100, plus 4 large files of big_mb MiB altogether. */
static void make_tree(int root_fd, unsigned files, unsigned big_mb)
{
        unsigned char *buf = xmalloc(1u << 20);
        fill(buf, 1u << 20, 1);
        char name[64];
        for (unsigned d = 0; d * 100 < files; d++) {
                snprintf(name, sizeof(name), "d%04u", d);
                if (mkdirat(root_fd, name, 0755) < 0 && errno != EEXIST)
                        die(name, NULL);
                int dfd = openat(root_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                for (unsigned f = 0; f < 100 && d * 100 + f < files; f++) {
                        snprintf(name, sizeof(name), "file-%03u.txt", f);
                        size_t off = ((size_t) d * 7919 + f * 104729) % ((1u << 20) - 8192);
                        write_file(dfd, name, buf + off, 100 + (f * 37 + d) % 3900);
                }
                close(dfd);
        }
        if (mkdirat(root_fd, "big", 0755) < 0 && errno != EEXIST)
                die("big", NULL);
        int bfd = openat(root_fd, "big", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        for (unsigned i = 0; i < 4; i++) {
                snprintf(name, sizeof(name), "blob-%u.bin", i);
                int fd = openat(bfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                for (unsigned m = 0; m < big_mb / 4; m++) {
                        fill(buf, 1u << 20, 1000 + i * 10000 + m);
                        if (fs_write_all(fd, buf, 1u << 20) < 0)
                                die(name, NULL);
                }
                close(fd);
        }
        close(bfd);
        free(buf);
}

static int dbl_cmp(const void *a, const void *b)
{
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

struct stat_t {
        double median, min, cpu; /* cpu: of the median run */
};

/* v[i] wall, c[i] CPU seconds of run i */
static struct stat_t summarize(const double *v, const double *c, int n)
{
        double w[100];
        int order[100];
        for (int i = 0; i < n; i++) {
                w[i] = v[i];
                order[i] = i;
        }
        qsort(w, (size_t) n, sizeof(double), dbl_cmp);
        int med = 0;
        for (int i = 0; i < n; i++)
                if (v[order[i]] == w[n / 2])
                        med = order[i];
        return (struct stat_t){.median = w[n / 2], .min = w[0], .cpu = c[med]};
}

static long vm_hwm_kb(void)
{
        FILE *f = fopen("/proc/self/status", "re");
        char line[256];
        long kb = -1;
        while (f && fgets(line, sizeof(line), f))
                if (strncmp(line, "VmHWM:", 6) == 0)
                        kb = strtol(line + 6, NULL, 10);
        if (f)
                fclose(f);
        return kb;
}

/* One layer of everything below root_fd (an empty index: all added) to /dev/null. */
static double last_main_cpu;

static double layer_seconds(int root_fd, unsigned threads, int level, struct snapshot_result *res,
                            double *ret_cpu, const char *keep_as)
{
        struct lerr *err = NULL;
        struct snapshotter_opts o;
        snapshotter_opts_init(&o);
        o.threads = threads;
        o.compression_level = level;
        /* the default full mode: the tar thread also hashes each file for the index */
        struct snapshotter *s = NULL;
        int out = keep_as ? open(keep_as, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)
                          : open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (snapshotter_new(root_fd, NULL, &o, &s, &err) < 0)
                die("snapshotter", err);
        double t = now(), c = cpu_now(), mc = thread_cpu_now();
        if (snapshotter_take(s, out, 0, res, &err) < 0)
                die("layer", err);
        t = now() - t;
        last_main_cpu = thread_cpu_now() - mc;
        if (ret_cpu)
                *ret_cpu = cpu_now() - c;
        snapshotter_free(s);
        close(out);
        return t;
}

static int child_rss(const char *dir, int level)
{
        int root_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                die(dir, NULL);
        struct snapshot_result res;
        double t = layer_seconds(root_fd, 0, level, &res, NULL, NULL);
        printf("%.3f %ju %ju %ld\n", t, (uintmax_t) res.layer.uncompressed_size,
               (uintmax_t) res.layer.size, vm_hwm_kb());
        return 0;
}

static int sink_null(void *userdata, const void *p, size_t n, struct lerr **err)
{
        (void) p;
        (void) err;
        *(uint64_t *) userdata += n;
        return 0;
}

static double pgzip_seconds(const unsigned char *data, size_t n, unsigned threads, int level,
                            uint64_t *ret_out)
{
        struct lerr *err = NULL;
        struct pgzip *z = NULL;
        struct pgzip_opts o = {.level = level, .threads = threads};
        *ret_out = 0;
        if (pgzip_new(&o, sink_null, ret_out, &z, &err) < 0)
                die("pgzip", err);
        double t = now();
        for (size_t off = 0; off < n; off += 65536)
                if (pgzip_write(z, data + off, MIN((size_t) 65536, n - off), &err) < 0)
                        die("pgzip", err);
        if (pgzip_finish(z, &err) < 0)
                die("pgzip", err);
        t = now() - t;
        pgzip_free(z);
        return t;
}

int main(int argc, char **argv)
{
        const char *dir = NULL;
        unsigned files = 100000, big_mb = 256, layer_mb = 1024, runs = 5;
        int level = -1;
        bool keep = false;
        const char *rss_child = NULL;
        static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
                                             {"files", required_argument, NULL, 'f'},
                                             {"big-mb", required_argument, NULL, 'b'},
                                             {"layer-mb", required_argument, NULL, 'l'},
                                             {"runs", required_argument, NULL, 'r'},
                                             {"level", required_argument, NULL, 'L'},
                                             {"keep", no_argument, NULL, 'k'},
                                             {"rss-child", required_argument, NULL, 'R'},
                                             {NULL, 0, NULL, 0}};
        int c;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                switch (c) {
                case 'd':
                        dir = optarg;
                        break;
                case 'f':
                        files = (unsigned) strtoul(optarg, NULL, 10);
                        break;
                case 'b':
                        big_mb = (unsigned) strtoul(optarg, NULL, 10);
                        break;
                case 'l':
                        layer_mb = (unsigned) strtoul(optarg, NULL, 10);
                        break;
                case 'r':
                        runs = (unsigned) strtoul(optarg, NULL, 10);
                        break;
                case 'L':
                        level = (int) strtol(optarg, NULL, 10);
                        break;
                case 'k':
                        keep = true;
                        break;
                case 'R':
                        rss_child = optarg;
                        break;
                default:
                        fprintf(stderr, "usage: see the comment at the top of bench-snapshot.c\n");
                        return 2;
                }
        }
        if (rss_child)
                return child_rss(rss_child, level);
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (runs < 1 || runs > 100)
                runs = 5;

        char *base = dir ? xasprintf("%s/lading-bench-XXXXXX", dir)
                         : xstrdup("/dev/shm/lading-bench-XXXXXX");
        if (!mkdtemp(base))
                die(base, NULL);
        char *tree = xasprintf("%s/tree", base);
        char *gb = xasprintf("%s/onegb", base);
        mkdir(tree, 0755);
        mkdir(gb, 0755);
        int root_fd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int gb_fd = open(gb, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        printf("# bench-snapshot: %u small files + 4 files of %u MiB in %s, %u CPUs, %u runs\n",
               files, big_mb / 4, base, pgzip_cpu_count(), runs);
        double t = now();
        make_tree(root_fd, files, big_mb);
        make_tree(gb_fd, 0, layer_mb);
        printf("generate trees                 %8.2f s\n", now() - t);

        struct lerr *err = NULL;
        double v[100], cv[100], c0;
        struct snap_index *idx = snap_index_new();
        for (unsigned i = 0; i < runs; i++) {
                t = now();
                c0 = cpu_now();
                if (snap_index_build(idx, root_fd, NULL, 0, &err) < 0)
                        die("index", err);
                v[i] = now() - t;
                cv[i] = cpu_now() - c0;
        }
        struct stat_t s = summarize(v, cv, (int) runs);
        printf("index build                    %8.3f s  (min %.3f, cpu %.3f)  %zu entries, %zu "
               "B/entry\n",
               s.median, s.min, s.cpu, snap_index_count(idx),
               snap_index_memory(idx) / snap_index_count(idx));

        for (int m = 0; m < 3; m++) {
                for (unsigned i = 0; i < runs; i++) {
                        struct snap_changes *ch = NULL;
                        t = now();
                        c0 = cpu_now();
                        if (snap_diff(idx, root_fd, NULL, (enum snap_mode) m, 0, &ch, &err) < 0)
                                die("diff", err);
                        v[i] = now() - t;
                        cv[i] = cpu_now() - c0;
                        if (snap_changes_count(ch) != 0)
                                die("a no-change diff found changes", NULL);
                        snap_changes_free(ch);
                }
                s = summarize(v, cv, (int) runs);
                printf("no-change diff (%s)          %8.3f s  (min %.3f, cpu %.3f)\n",
                       snap_mode_name((enum snap_mode) m), s.median, s.min, s.cpu);
        }

        /* 1%: rewrite every 100th file with other bytes, then diff (not committed: each run
         * sees the same change) */
        unsigned char payload[300];
        memset(payload, 'Z', sizeof(payload));
        unsigned changed = 0;
        char name[64];
        for (unsigned d = 0; d * 100 < files; d++) {
                snprintf(name, sizeof(name), "d%04u/file-%03u.txt", d, d % 100);
                write_file(root_fd, name, payload, sizeof(payload));
                changed++;
        }
        for (unsigned i = 0; i < runs; i++) {
                struct snap_changes *ch = NULL;
                t = now();
                c0 = cpu_now();
                if (snap_diff(idx, root_fd, NULL, SNAP_MODE_FULL, 0, &ch, &err) < 0)
                        die("diff", err);
                v[i] = now() - t;
                cv[i] = cpu_now() - c0;
                if (snap_changes_layer_entries(ch) != 2 * (size_t) changed)
                        fprintf(stderr, "unexpected change count %zu\n",
                                snap_changes_layer_entries(ch));
                snap_changes_free(ch);
        }
        s = summarize(v, cv, (int) runs);
        printf("diff, 1%% changed (%5u files) %8.3f s  (min %.3f, cpu %.3f)\n", changed, s.median,
               s.min, s.cpu);
        snap_index_free(idx);

        unsigned cpus = pgzip_cpu_count();
        char *layer_file[2] = {xasprintf("%s/small.tar.gz", base),
                               xasprintf("%s/onegb.tar.gz", base)};
        struct snapshot_result res;
        for (int pass = 0; pass < 2; pass++) {
                int fd = pass == 0 ? root_fd : gb_fd;
                const char *what = pass == 0 ? "layer of the small-file tree" : "layer of 1 GB";
                double one[100], all[100], c1[100], ca[100];
                unsigned n = runs;
                for (unsigned i = 0; i < n; i++) {
                        one[i] = layer_seconds(fd, 1, level, &res, &c1[i], NULL);
                        all[i] = layer_seconds(fd, cpus, level, &res, &ca[i],
                                               i == 0 ? layer_file[pass] : NULL);
                }
                struct stat_t s1 = summarize(one, c1, (int) n), sa = summarize(all, ca, (int) n);
                double mb = (double) res.layer.uncompressed_size / 1e6;
                printf("%-30s %8.1f MB tar -> %.1f MB gz\n", what, mb,
                       (double) res.layer.size / 1e6);
                printf("  1 thread                     %8.1f MB/s (%.2f s, min %.2f, cpu %.2f)\n",
                       mb / s1.median, s1.median, s1.min, s1.cpu);
                printf("  %u threads                    %8.1f MB/s (%.2f s, min %.2f, cpu %.2f, "
                       "%.2f of it in the tar thread)  x%.2f (x%.2f by min)\n",
                       cpus, mb / sa.median, sa.median, sa.min, sa.cpu, last_main_cpu,
                       s1.median / sa.median, s1.min / sa.min);
                /* extraction of the same layer (lading's extractor) into a fresh directory */
                double ex[100], cx[100];
                for (unsigned i = 0; i < n; i++) {
                        char *into = xasprintf("%s/extract-%u", base, i);
                        mkdir(into, 0755);
                        int dfd = open(into, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        int in = open(layer_file[pass], O_RDONLY | O_CLOEXEC);
                        struct extract_options eo = {.name = what};
                        t = now();
                        c0 = cpu_now();
                        if (extract_layer_fd(dfd, in, &eo, NULL, &err) < 0)
                                die("extract", err);
                        ex[i] = now() - t;
                        cx[i] = cpu_now() - c0;
                        close(in);
                        close(dfd);
                        char *cmd[] = {"rm", "-rf", into, NULL};
                        pid_t rp;
                        int rst;
                        if (posix_spawnp(&rp, "rm", NULL, NULL, cmd, environ) == 0)
                                waitpid(rp, &rst, 0);
                        free(into);
                }
                struct stat_t se = summarize(ex, cx, (int) n);
                printf("  extraction                   %8.1f MB/s (%.2f s, cpu %.2f)\n",
                       mb / se.median, se.median, se.cpu);
        }

        size_t n = 256u << 20;
        unsigned char *data = xmalloc(n);
        fill(data, n, 77);
        double one[100], all[100], c1[100], ca[100];
        uint64_t out = 0;
        for (unsigned i = 0; i < runs; i++) {
                c0 = cpu_now();
                one[i] = pgzip_seconds(data, n, 1, level, &out);
                c1[i] = cpu_now() - c0;
                c0 = cpu_now();
                all[i] = pgzip_seconds(data, n, cpus, level, &out);
                ca[i] = cpu_now() - c0;
        }
        free(data);
        struct stat_t s1 = summarize(one, c1, (int) runs), sa = summarize(all, ca, (int) runs);
        printf("pgzip alone, 256 MiB in memory -> %.1f MB\n", (double) out / 1e6);
        printf("  1 thread                     %8.1f MB/s (%.2f s, min %.2f, cpu %.2f)\n",
               (double) n / 1e6 / s1.median, s1.median, s1.min, s1.cpu);
        printf("  %u threads                    %8.1f MB/s (%.2f s, min %.2f, cpu %.2f)  x%.2f "
               "(x%.2f by min)\n",
               cpus, (double) n / 1e6 / sa.median, sa.median, sa.min, sa.cpu, s1.median / sa.median,
               s1.min / sa.min);

        /* peak RSS: a fresh process that only writes the 1 GB layer */
        char *self = realpath("/proc/self/exe", NULL);
        char lvl[16];
        snprintf(lvl, sizeof(lvl), "%d", level);
        char *cargv[] = {self, "--rss-child", gb, "--level", lvl, NULL};
        int pfd[2];
        if (pipe(pfd) < 0)
                die("pipe", NULL);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
        pid_t pid;
        if (posix_spawn(&pid, self, &fa, NULL, cargv, environ) != 0)
                die("spawn", NULL);
        close(pfd[1]);
        char line[256] = {0};
        ssize_t got = read(pfd[0], line, sizeof(line) - 1);
        int st;
        waitpid(pid, &st, 0);
        double ct;
        uintmax_t tar_b, gz_b;
        long hwm;
        if (got > 0 && sscanf(line, "%lf %ju %ju %ld", &ct, &tar_b, &gz_b, &hwm) == 4)
                printf("peak RSS writing the 1 GB layer (fresh process, %u threads): %ld kB "
                       "(%.1f MB tar in %.2f s)\n",
                       cpus, hwm, (double) tar_b / 1e6, ct);
        free(self);
        posix_spawn_file_actions_destroy(&fa);

        close(root_fd);
        close(gb_fd);
        if (!keep) {
                char *cmd[] = {"rm", "-rf", base, NULL};
                if (posix_spawnp(&pid, "rm", NULL, NULL, cmd, environ) == 0)
                        waitpid(pid, &st, 0);
        } else
                printf("# kept %s\n", base);
        free(tree);
        free(gb);
        free(layer_file[0]);
        free(layer_file[1]);
        free(base);
        return 0;
}
