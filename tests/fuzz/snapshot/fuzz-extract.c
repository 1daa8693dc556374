/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: extracts the input as a layer into scratch/root, beside scratch/outside (a
 * sentinel file, a directory, a symlink), with root/ignored on the ignore list. Rejecting a
 * layer is fine; crashing, leaking, writing outside the root or under the ignored path is not:
 * any change there aborts. Learned from libarchive's write-disk fuzzer. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/fs.h"
#include "snapshot/extract.h"
#include "snapshot/ignore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char scratch[256];
static int scratch_fd = -1, root_fd = -1;
static char *outside_before;
static struct ignore_list *ignore;

/* Names, types, modes, owners, sizes, times (mtime and ctime in ns) and contents of a tree. */
static void state_at(int dfd, const char *rel, struct buf *out)
{
        int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        struct dirent *de;
        while (d && (de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                struct stat st;
                if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        abort();
                (void) !buf_printf(out, "%s/%s %o %u:%u %jd %jd.%ld %jd.%ld %ju\n", rel, de->d_name,
                                   st.st_mode, st.st_uid, st.st_gid, (intmax_t) st.st_size,
                                   (intmax_t) st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
                                   (intmax_t) st.st_ctim.tv_sec, st.st_ctim.tv_nsec,
                                   (uintmax_t) st.st_ino);
                if (S_ISDIR(st.st_mode)) {
                        char *sub = xasprintf("%s/%s", rel, de->d_name);
                        int sfd = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
                        state_at(sfd, sub, out);
                        close(sfd);
                        free(sub);
                } else if (S_ISREG(st.st_mode)) {
                        struct buf c = BUF_INIT(1 << 16);
                        (void) fs_read_file_at(dfd, de->d_name, &c);
                        (void) !buf_printf(out, "= %s\n", buf_str(&c));
                        buf_done(&c);
                }
        }
        if (d)
                closedir(d);
}

/* The scratch dir without root/ (but with root/ignored), in readdir order: stable between runs
 * since nothing there may change. */
static char *outside_state(void)
{
        struct buf out = BUF_INIT(1 << 24);
        int o = openat(scratch_fd, "outside", O_RDONLY | O_DIRECTORY);
        state_at(o, "outside", &out);
        close(o);
        int i = openat(root_fd, "ignored", O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        if (i < 0)
                (void) !buf_printf(&out, "root/ignored missing\n");
        else {
                state_at(i, "root/ignored", &out);
                close(i);
        }
        return buf_steal(&out);
}

static void cleanup(void)
{
        if (scratch[0])
                (void) fs_rm_rf_at(AT_FDCWD, scratch);
}

static void setup(void)
{
        struct statfs sfs;
        const char *parent =
                statfs("/dev/shm", &sfs) == 0 && sfs.f_type == TMPFS_MAGIC ? "/dev/shm" : "/tmp";
        snprintf(scratch, sizeof(scratch), "%s/lading-fuzz-extract-XXXXXX", parent);
        if (!mkdtemp(scratch))
                abort();
        atexit(cleanup);
        scratch_fd = open(scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        mkdirat(scratch_fd, "root", 0755);
        mkdirat(scratch_fd, "outside", 0755);
        mkdirat(scratch_fd, "outside/dir", 0700);
        int fd = openat(scratch_fd, "outside/sentinel", O_CREAT | O_WRONLY, 0644);
        (void) !write(fd, "sentinel", 8);
        close(fd);
        (void) !symlinkat("../root", scratch_fd, "outside/dir/back");
        root_fd = openat(scratch_fd, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        mkdirat(root_fd, "ignored", 0755);
        fd = openat(root_fd, "ignored/keep", O_CREAT | O_WRONLY, 0600);
        (void) !write(fd, "keep", 4);
        close(fd);
        ignore = ignore_list_new();
        if (ignore_list_add(ignore, "ignored", 0, NULL) < 0)
                abort();
        /* a few bytes of zstd can expand to hundreds of MB of zeros: cap file sizes */
        struct rlimit fsz = {64 << 20, 64 << 20};
        (void) setrlimit(RLIMIT_FSIZE, &fsz);
        (void) signal(SIGXFSZ, SIG_IGN);
        outside_before = outside_state();
}

struct mem {
        const uint8_t *p;
        size_t n, off;
};

static ssize_t mem_read(void *ud, void *buf, size_t len)
{
        struct mem *m = ud;
        size_t k = m->n - m->off < len ? m->n - m->off : len;
        memcpy(buf, m->p + m->off, k);
        m->off += k;
        return (ssize_t) k;
}

/* Empties root except root/ignored (as a stage wipe would). */
static void wipe(void)
{
        DIR *d = fdopendir(openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        struct dirent *de;
        while (d && (de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
                    strcmp(de->d_name, "ignored"))
                        (void) fs_rm_rf_at(root_fd, de->d_name);
        if (d)
                closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (scratch_fd < 0)
                setup();
        struct extract_options o = {
                .ignore = ignore,
                .flags = EXTRACT_QUIET | EXTRACT_NO_THREADS,
                .max_entries = 20000,
        };
        struct mem m = {data, size, 0};
        struct lerr *err = NULL;
        if (extract_layer_read(root_fd, mem_read, &m, &o, NULL, &err) < 0)
                lerr_free(err);
        char *now = outside_state();
        if (strcmp(now, outside_before) != 0) {
                fprintf(stderr, "changed outside the root:\n--- before\n%s--- after\n%s",
                        outside_before, now);
                abort();
        }
        free(now);
        wipe();
        return 0;
}
