/* SPDX-License-Identifier: Apache-2.0 */
/* Layer writing: libarchive's pax writer with a write callback that hashes the tar, compresses
 * it (pgzip, zstd or nothing), hashes the result and writes it to an fd. It reads the root
 * through fd-relative calls only; it never changes it. */
#include "snapshot/layer_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#ifdef HAVE_ZSTD
#include <zstd.h>
#endif

#include "common/alloc.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/log.h"
#include "snapshot/pgzip.h"

#define COPY_CHUNK    (256 * 1024)
#define ZSTD_JOB_SIZE (1024 * 1024)

/* (dev, ino) → the path that first wrote the inode in this layer */
struct link_slot {
        uint64_t dev, ino;
        char *path;
};

struct layer_writer {
        struct layer_writer_opts o;
        int out_fd;
        struct archive *a;
        locale_t utf8;
        struct digest_ctx *diff_id, *digest;
        uint64_t size, usize, entries;
        struct pgzip *gz;
#ifdef HAVE_ZSTD
        ZSTD_CCtx *zc;
        unsigned char *zbuf;
        size_t zbuf_size;
#endif
        struct lerr *cb_err; /* an error of the write callback, handed back by the caller */
        bool failed, finished;

        struct link_slot *links;
        size_t links_cap, links_n;

        int dir_root_fd; /* the root the cached directory belongs to */
        char *dir_path;
        int dir_fd;

        char *buf;
};

int layer_compression_parse(const char *s, enum layer_compression *ret)
{
        if (streq(s, "gzip"))
                *ret = LAYER_GZIP;
        else if (streq(s, "zstd"))
                *ret = LAYER_ZSTD;
        else if (streq(s, "none") || streq(s, "uncompressed"))
                *ret = LAYER_UNCOMPRESSED;
        else
                return -EINVAL;
        return 0;
}

const char *layer_media_type(enum layer_compression c, bool oci)
{
        switch (c) {
        case LAYER_GZIP:
                return oci ? "application/vnd.oci.image.layer.v1.tar+gzip"
                           : "application/vnd.docker.image.rootfs.diff.tar.gzip";
        case LAYER_ZSTD:
                return "application/vnd.oci.image.layer.v1.tar+zstd";
        case LAYER_UNCOMPRESSED:
                return oci ? "application/vnd.oci.image.layer.v1.tar"
                           : "application/vnd.docker.image.rootfs.diff.tar";
        }
        return NULL;
}

/* libarchive converts names to UTF-8 for pax headers from the calling thread's locale; a
 * process left in the "C" locale would mark every non-ASCII name hdrcharset=BINARY, which GNU
 * tar warns about. The writer's calls run under C.UTF-8 in this thread only. */
static locale_t enter_utf8(const struct layer_writer *w)
{
        return w->utf8 ? uselocale(w->utf8) : (locale_t) 0;
}

static void leave_utf8(locale_t *prev)
{
        if (*prev)
                (void) uselocale(*prev);
}

static int sink(void *userdata, const void *p, size_t n, struct lerr **err)
{
        struct layer_writer *w = userdata;
        digest_update(w->digest, p, n);
        w->size += n;
        int r = fs_write_all(w->out_fd, p, n);
        if (r < 0)
                return lerr_errno(err, -r, "write layer");
        return 0;
}

static int compress_write(struct layer_writer *w, const void *p, size_t n, struct lerr **err)
{
        switch (w->o.compression) {
        case LAYER_GZIP:
                return pgzip_write(w->gz, p, n, err);
        case LAYER_UNCOMPRESSED:
                return sink(w, p, n, err);
        case LAYER_ZSTD:
#ifdef HAVE_ZSTD
        {
                ZSTD_inBuffer in = {p, n, 0};
                while (in.pos < in.size) {
                        ZSTD_outBuffer out = {w->zbuf, w->zbuf_size, 0};
                        size_t r = ZSTD_compressStream2(w->zc, &out, &in, ZSTD_e_continue);
                        if (ZSTD_isError(r))
                                return lerr_set(err, EIO, "zstd: %s", ZSTD_getErrorName(r));
                        if (out.pos > 0) {
                                int q = sink(w, w->zbuf, out.pos, err);
                                if (q < 0)
                                        return q;
                        }
                }
                return 0;
        }
#else
                break;
#endif
        }
        return lerr_set(err, ENOTSUP, "compression not available");
}

static int compress_finish(struct layer_writer *w, struct lerr **err)
{
        switch (w->o.compression) {
        case LAYER_GZIP:
                return pgzip_finish(w->gz, err);
        case LAYER_UNCOMPRESSED:
                return 0;
        case LAYER_ZSTD:
#ifdef HAVE_ZSTD
        {
                ZSTD_inBuffer in = {NULL, 0, 0};
                size_t left;
                do {
                        ZSTD_outBuffer out = {w->zbuf, w->zbuf_size, 0};
                        left = ZSTD_compressStream2(w->zc, &out, &in, ZSTD_e_end);
                        if (ZSTD_isError(left))
                                return lerr_set(err, EIO, "zstd: %s", ZSTD_getErrorName(left));
                        if (out.pos > 0) {
                                int q = sink(w, w->zbuf, out.pos, err);
                                if (q < 0)
                                        return q;
                        }
                } while (left != 0);
                return 0;
        }
#else
                break;
#endif
        }
        return lerr_set(err, ENOTSUP, "compression not available");
}

/* A failure is recorded, not returned: libarchive 3.6 leaks its client buffer once a write
 * callback fails, so the stream is swallowed from then on and every caller checks w->failed. */
static la_ssize_t on_tar(struct archive *a, void *userdata, const void *p, size_t n)
{
        (void) a;
        struct layer_writer *w = userdata;
        if (w->failed)
                return (la_ssize_t) n;
        digest_update(w->diff_id, p, n);
        w->usize += n;
        if (compress_write(w, p, n, &w->cb_err) < 0)
                w->failed = true;
        return (la_ssize_t) n;
}

/* The error of a failed libarchive call: the callback's own when it caused it. */
static int archive_fail(struct layer_writer *w, struct lerr **err, const char *what,
                        const char *path)
{
        w->failed = true;
        if (w->cb_err) {
                if (err) {
                        lerr_free(*err);
                        *err = TAKE_PTR(w->cb_err);
                }
                return lerr_wrap(err, "%s '%s'", what, path);
        }
        int e = archive_errno(w->a);
        return lerr_set(err, e > 0 ? e : EIO, "%s '%s': %s", what, path,
                        strempty(archive_error_string(w->a)));
}

static int setup_compression(struct layer_writer *w, struct lerr **err)
{
        switch (w->o.compression) {
        case LAYER_GZIP: {
                struct pgzip_opts po = {.level = w->o.level,
                                        .threads = w->o.threads,
                                        .block_size = w->o.gzip_block};
                return pgzip_new(&po, sink, w, &w->gz, err);
        }
        case LAYER_UNCOMPRESSED:
                return 0;
        case LAYER_ZSTD:
#ifdef HAVE_ZSTD
        {
                int level = w->o.level < 0 ? 3 : w->o.level;
                if (level < 1 || level > ZSTD_maxCLevel())
                        return lerr_set(err, EINVAL, "zstd compression level %d is not in 1..%d",
                                        w->o.level, ZSTD_maxCLevel());
                w->zc = ZSTD_createCCtx();
                if (!w->zc)
                        oom();
                unsigned threads = w->o.threads ? w->o.threads : pgzip_cpu_count();
                (void) ZSTD_CCtx_setParameter(w->zc, ZSTD_c_compressionLevel, level);
                (void) ZSTD_CCtx_setParameter(w->zc, ZSTD_c_checksumFlag, 1);
                /* always at least one worker: zstd's output then depends on the level and the
                 * input only, not on the thread count (single-threaded mode differs) */
                if (ZSTD_isError(ZSTD_CCtx_setParameter(w->zc, ZSTD_c_nbWorkers,
                                                        (int) MIN(threads, 64u))))
                        log_debug("layer: libzstd without threads, compressing on one core");
                /* small jobs bound memory: zstd keeps about 2 * workers + 3 of them in flight
                 * (the default, 4 windows, is 8 MiB at level 3 and 32 MiB at level 19) */
                (void) ZSTD_CCtx_setParameter(w->zc, ZSTD_c_jobSize, ZSTD_JOB_SIZE);
                w->zbuf_size = ZSTD_CStreamOutSize();
                w->zbuf = xmalloc(w->zbuf_size);
                return 0;
        }
#else
                return lerr_set(err, ENOTSUP, "zstd compression is not built in (no libzstd)");
#endif
        }
        return lerr_set(err, EINVAL, "unknown compression %d", (int) w->o.compression);
}

int layer_writer_new(int out_fd, const struct layer_writer_opts *o, struct layer_writer **ret,
                     struct lerr **err)
{
        _cleanup_(layer_writer_freep) struct layer_writer *w = xcalloc(1, sizeof(*w));
        w->o = *o;
        w->out_fd = out_fd;
        w->dir_fd = -EBADF;
        w->dir_root_fd = -EBADF;
        w->diff_id = digest_new();
        w->digest = digest_new();
        w->buf = xmalloc(COPY_CHUNK);
        w->utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t) 0);
        int r = setup_compression(w, err);
        if (r < 0)
                return r;

        _cleanup_(leave_utf8) locale_t prev = enter_utf8(w);
        w->a = archive_write_new();
        if (!w->a)
                oom();
        /* pax interchange writes an extended header only for entries that need one once
         * atime and ctime are left unset; SCHILY.xattr only (not LIBARCHIVE.xattr too) */
        if (archive_write_set_format_pax(w->a) != ARCHIVE_OK ||
            archive_write_set_format_option(w->a, "pax", "xattrheader", "SCHILY") != ARCHIVE_OK ||
            archive_write_add_filter_none(w->a) != ARCHIVE_OK ||
            archive_write_set_bytes_per_block(w->a, 0) != ARCHIVE_OK ||
            archive_write_open(w->a, w, NULL, on_tar, NULL) != ARCHIVE_OK)
                return lerr_set(err, EIO, "start the layer tar: %s",
                                strempty(archive_error_string(w->a)));
        *ret = TAKE_PTR(w);
        return 0;
}

static size_t link_hash(uint64_t dev, uint64_t ino, size_t cap)
{
        uint64_t h = (ino ^ (dev * 0x9e3779b97f4a7c15ull)) * 0xbf58476d1ce4e5b9ull;
        return (size_t) (h ^ (h >> 31)) & (cap - 1);
}

static const char *link_find(const struct layer_writer *w, uint64_t dev, uint64_t ino)
{
        if (!w->links_cap)
                return NULL;
        for (size_t i = link_hash(dev, ino, w->links_cap);; i = (i + 1) & (w->links_cap - 1)) {
                const struct link_slot *s = &w->links[i];
                if (!s->path)
                        return NULL;
                if (s->dev == dev && s->ino == ino)
                        return s->path;
        }
}

static void link_put(struct layer_writer *w, uint64_t dev, uint64_t ino, const char *path);

static void link_grow(struct layer_writer *w)
{
        struct link_slot *old = w->links;
        size_t cap = w->links_cap;
        w->links_cap = cap ? cap * 2 : 256;
        w->links = xcalloc(w->links_cap, sizeof(*w->links));
        w->links_n = 0;
        for (size_t i = 0; i < cap; i++)
                if (old[i].path) {
                        link_put(w, old[i].dev, old[i].ino, old[i].path);
                        free(old[i].path);
                }
        free(old);
}

static void link_put(struct layer_writer *w, uint64_t dev, uint64_t ino, const char *path)
{
        if ((w->links_n + 1) * 2 > w->links_cap)
                link_grow(w);
        size_t i = link_hash(dev, ino, w->links_cap);
        while (w->links[i].path)
                i = (i + 1) & (w->links_cap - 1);
        w->links[i] = (struct link_slot){.dev = dev, .ino = ino, .path = xstrdup(path)};
        w->links_n++;
}

static unsigned ae_type(uint32_t mode)
{
        switch (mode & S_IFMT) {
        case S_IFDIR:
                return AE_IFDIR;
        case S_IFLNK:
                return AE_IFLNK;
        case S_IFCHR:
                return AE_IFCHR;
        case S_IFBLK:
                return AE_IFBLK;
        case S_IFIFO:
                return AE_IFIFO;
        default:
                return AE_IFREG;
        }
}

/* Streams st->size bytes of fd into the current entry. Short files are zero-padded by
 * libarchive when the entry ends; longer ones are cut at the size in the header. */
static int copy_content(struct layer_writer *w, int fd, const char *path, uint64_t size,
                        struct digest_ctx *content, struct lerr **err)
{
        uint64_t left = size;
        while (left > 0) {
                ssize_t n = read(fd, w->buf, (size_t) MIN(left, (uint64_t) COPY_CHUNK));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return lerr_errno(err, errno, "read '%s'", path);
                if (n == 0) {
                        log_warn("layer: '%s' shrank while it was read; padded with zeros", path);
                        return 0;
                }
                if (content)
                        digest_update(content, w->buf, (size_t) n);
                if (archive_write_data(w->a, w->buf, (size_t) n) != n || w->cb_err)
                        return archive_fail(w, err, "write", path);
                left -= (uint64_t) n;
        }
        char probe;
        if (read(fd, &probe, 1) == 1)
                log_warn("layer: '%s' grew while it was read; cut at %ju bytes", path,
                         (uintmax_t) size);
        return 0;
}

static int write_entry(struct layer_writer *w, const char *path, const struct snap_stat *st,
                       const char *link_target, const char *hardlink,
                       const struct snap_xattrs *xattrs, int content_fd, struct digest_ctx *content,
                       struct lerr **err)
{
        if (w->failed || w->finished)
                return lerr_set(err, EIO, "write '%s': the layer already failed or ended", path);
        if (!*path || strlen(path) > FS_PATH_MAX)
                return lerr_set(err, EINVAL, "write '%s': not a valid entry name", path);
        _cleanup_(leave_utf8) locale_t prev = enter_utf8(w);
        struct archive_entry *e = archive_entry_new();
        if (!e)
                oom();
        _cleanup_free_ char *dirname_slash = NULL;
        if (S_ISDIR(st->mode)) {
                dirname_slash = xasprintf("%s/", path);
                archive_entry_copy_pathname(e, dirname_slash);
        } else
                archive_entry_copy_pathname(e, path);
        archive_entry_set_filetype(e, ae_type(st->mode));
        archive_entry_set_perm(e, st->mode & 07777);
        archive_entry_set_uid(e, st->uid);
        archive_entry_set_gid(e, st->gid);
        if (w->o.reproducible)
                archive_entry_set_mtime(e, 0, 0);
        else {
                int64_t sec = st->mtime_ns / 1000000000, ns = st->mtime_ns % 1000000000;
                if (ns < 0) {
                        sec--;
                        ns += 1000000000;
                }
                archive_entry_set_mtime(e, (time_t) sec, (long) ns);
        }
        bool data = S_ISREG(st->mode) && !hardlink;
        archive_entry_set_size(e, data ? (la_int64_t) st->size : 0);
        if (S_ISLNK(st->mode))
                archive_entry_copy_symlink(e, strempty(link_target));
        if (hardlink)
                archive_entry_copy_hardlink(e, hardlink);
        if (S_ISCHR(st->mode) || S_ISBLK(st->mode)) {
                archive_entry_set_rdevmajor(e, major(st->rdev));
                archive_entry_set_rdevminor(e, minor(st->rdev));
        }
        for (size_t i = 0; xattrs && !hardlink && i < xattrs->n; i++)
                archive_entry_xattr_add_entry(e, xattrs->v[i].name, xattrs->v[i].value,
                                              xattrs->v[i].len);
        int r = archive_write_header(w->a, e);
        archive_entry_free(e);
        /* ARCHIVE_WARN: a name that is not valid UTF-8, written raw with hdrcharset=BINARY */
        if (r < ARCHIVE_WARN || w->cb_err)
                return archive_fail(w, err, "write the header of", path);
        w->entries++;
        if (data && content_fd >= 0 && st->size > 0)
                return copy_content(w, content_fd, path, st->size, content, err);
        return 0;
}

int layer_writer_add_entry(struct layer_writer *w, const char *path, const struct snap_stat *st,
                           const char *link_target, const struct snap_xattrs *xattrs,
                           int content_fd, struct lerr **err)
{
        return write_entry(w, path, st, link_target, NULL, xattrs, content_fd, NULL, err);
}

int layer_writer_add_whiteout(struct layer_writer *w, const char *path, struct lerr **err)
{
        const char *slash = strrchr(path, '/');
        _cleanup_free_ char *wh =
                slash ? xasprintf("%.*s/.wh.%s", (int) (slash - path), path, slash + 1)
                      : xasprintf(".wh.%s", path);
        struct snap_stat st = {.mode = S_IFREG};
        return write_entry(w, wh, &st, NULL, NULL, NULL, -1, NULL, err);
}

/* The directory holding path, opened inside the root; reused while entries share it. */
static int parent_fd(struct layer_writer *w, int root_fd, const char *path, const char **ret_name)
{
        const char *slash = strrchr(path, '/');
        size_t dlen = slash ? (size_t) (slash - path) : 0;
        *ret_name = slash ? slash + 1 : path;
        if (w->dir_fd >= 0 && w->dir_root_fd == root_fd && strlen(w->dir_path) == dlen &&
            strncmp(w->dir_path, path, dlen) == 0)
                return w->dir_fd;
        if (w->dir_fd >= 0)
                (void) close(w->dir_fd);
        free(w->dir_path);
        w->dir_path = xstrndup(path, dlen);
        w->dir_fd = fs_open_in_root(root_fd, w->dir_path, O_PATH | O_DIRECTORY, 0);
        w->dir_root_fd = root_fd;
        return w->dir_fd;
}

/* What an entry of the root needs to be written: its stat (a regular file's from the open
 * fd), link target, open file and xattrs. */
struct source {
        struct snap_stat st;
        char *target;
        int fd;
        struct snap_xattrs x;
};

static void source_done(struct source *src)
{
        free(src->target);
        if (src->fd >= 0)
                (void) close(src->fd);
        snap_xattrs_done(&src->x);
}

/* Returns 0, 1 for a socket (skipped), -ENOENT if the entry is gone or changed type, or another
 * error with *err filled. */
static int read_source(struct layer_writer *w, int root_fd, const char *path, struct source *src,
                       struct lerr **err)
{
        const char *name;
        int dir_fd = parent_fd(w, root_fd, path, &name);
        int r = dir_fd < 0 ? dir_fd : walker_stat_at(dir_fd, name, &src->st, NULL);
        if (r == -ENOENT || r == -ENOTDIR)
                return -ENOENT;
        if (r < 0)
                return lerr_errno(err, -r, "stat '%s'", path);
        if (S_ISSOCK(src->st.mode)) {
                log_warn("layer: skip socket '%s': tar cannot hold sockets", path);
                return 1;
        }
        if (S_ISLNK(src->st.mode)) {
                r = walker_readlink_at(dir_fd, name, &src->target);
                if (r < 0)
                        return r == -ENOENT ? r : lerr_errno(err, -r, "read link '%s'", path);
        }
        if (S_ISREG(src->st.mode)) {
                src->fd = walker_open_file_at(dir_fd, name);
                if (src->fd == -ENOENT || src->fd == -EINVAL) /* gone, or another type now */
                        return -ENOENT;
                if (src->fd < 0)
                        return lerr_errno(err, -src->fd, "open '%s'", path);
                r = walker_stat_fd(src->fd, &src->st);
                if (r < 0)
                        return lerr_errno(err, -r, "stat '%s'", path);
        }
        r = walker_read_xattrs_at(dir_fd, name, &src->x);
        if (r < 0 && r != -ENOENT)
                return lerr_errno(err, -r, "read xattrs of '%s'", path);
        return r;
}

int layer_writer_add_path(struct layer_writer *w, int root_fd, const char *path,
                          struct layer_entry_info *ret, struct lerr **err)
{
        struct layer_entry_info info = {0};
        _cleanup_(source_done) struct source src = {.fd = -EBADF};
        int r = read_source(w, root_fd, path, &src, err);
        if (r < 0)
                return r;
        info.st = src.st;
        info.skipped = r > 0;
        if (info.skipped) {
                if (ret)
                        *ret = info;
                return 0;
        }
        walker_xattrs_digest(&src.x, info.xattrs_digest);
        info.has_xattrs = true;

        const char *first = NULL;
        if (S_ISREG(src.st.mode) && src.st.nlink > 1) {
                first = link_find(w, src.st.dev, src.st.ino);
                if (!first)
                        link_put(w, src.st.dev, src.st.ino, path);
        }
        _cleanup_(digest_freep) struct digest_ctx *content =
                (w->o.hash_content && S_ISREG(src.st.mode) && !first) ? digest_new() : NULL;
        r = write_entry(w, path, &src.st, src.target, first, &src.x, src.fd, content, err);
        if (r < 0)
                return r;
        info.hardlink = first != NULL;
        if (content) {
                char hex[DIGEST_STRING_SIZE];
                digest_final(content, hex);
                walker_digest_to_raw(hex, info.content, SNAP_CONTENT_HASH_SIZE);
                info.has_content = true;
        }
        if (ret)
                *ret = info;
        return 0;
}

int layer_writer_finish(struct layer_writer *w, struct layer_result *ret, struct lerr **err)
{
        if (w->failed || w->finished)
                return lerr_set(err, EIO, "finish layer: it already failed or ended");
        _cleanup_(leave_utf8) locale_t prev = enter_utf8(w);
        if (archive_write_close(w->a) != ARCHIVE_OK || w->cb_err)
                return archive_fail(w, err, "end", "tar");
        int r = compress_finish(w, err);
        if (r < 0) {
                w->failed = true;
                return lerr_wrap(err, "finish layer");
        }
        w->finished = true;
        struct layer_result res = {
                .size = w->size, .uncompressed_size = w->usize, .entries = w->entries};
        digest_final(w->diff_id, res.diff_id);
        digest_final(w->digest, res.digest);
        *ret = res;
        return 0;
}

void layer_writer_free(struct layer_writer *w)
{
        if (!w)
                return;
        if (w->a) {
                /* an unfinished tar is ended into the callback, which discards it */
                w->failed = true;
                locale_t prev = enter_utf8(w);
                archive_write_free(w->a);
                leave_utf8(&prev);
        }
        pgzip_free(w->gz);
#ifdef HAVE_ZSTD
        ZSTD_freeCCtx(w->zc);
        free(w->zbuf);
#endif
        for (size_t i = 0; i < w->links_cap; i++)
                free(w->links[i].path);
        free(w->links);
        if (w->dir_fd >= 0)
                (void) close(w->dir_fd);
        free(w->dir_path);
        digest_free(w->diff_id);
        digest_free(w->digest);
        lerr_free(w->cb_err);
        if (w->utf8)
                freelocale(w->utf8);
        free(w->buf);
        free(w);
}
