/* SPDX-License-Identifier: Apache-2.0 */
/* Blob store: files named by digest, written through temporary files and renamed, so a
 * crashed write never leaves a blob with the wrong content under a digest name. */
#include "executor/blobstore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/fs.h"

struct blobstore {
        int dir_fd;  /* layout root */
        int blob_fd; /* blobs/sha256 */
        unsigned tmp_counter;
        int fallback[BLOBSTORE_MAX_FALLBACKS];
        size_t n_fallbacks;
};

static int mkdirat_p(int dir_fd, const char *path)
{
        _cleanup_free_ char *p = xstrdup(path);
        for (char *s = p;; s++) {
                if (*s != '/' && *s != '\0')
                        continue;
                char c = *s;
                *s = '\0';
                if (*p && mkdirat(dir_fd, p, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *s = c;
                if (!c)
                        return 0;
        }
}

int blobstore_open(int dir_fd, const char *path, struct blobstore **ret, struct lerr **err)
{
        int r = mkdirat_p(dir_fd, path);
        if (r < 0)
                return lerr_errno(err, r, "create blob store '%s'", path);
        _cleanup_close_ int d = openat(dir_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (d < 0)
                return lerr_errno(err, errno, "open blob store '%s'", path);
        r = mkdirat_p(d, "blobs/sha256");
        if (r < 0)
                return lerr_errno(err, r, "create '%s/blobs/sha256'", path);
        int b = openat(d, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (b < 0)
                return lerr_errno(err, errno, "open '%s/blobs/sha256'", path);
        struct blobstore *bs = xcalloc(1, sizeof(*bs));
        bs->dir_fd = TAKE_FD(d);
        bs->blob_fd = b;
        *ret = bs;
        return 0;
}

void blobstore_free(struct blobstore *bs)
{
        if (!bs)
                return;
        for (size_t i = 0; i < bs->n_fallbacks; i++)
                (void) close(bs->fallback[i]);
        (void) close(bs->blob_fd);
        (void) close(bs->dir_fd);
        free(bs);
}

int blobstore_dir_fd(const struct blobstore *bs)
{
        return bs->dir_fd;
}

int blobstore_add_fallback(struct blobstore *bs, int blobs_fd)
{
        if (bs->n_fallbacks >= BLOBSTORE_MAX_FALLBACKS)
                return -E2BIG;
        int fd = fcntl(blobs_fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        bs->fallback[bs->n_fallbacks++] = fd;
        return 0;
}

/* The directory holding the blob: the store's own, else a fallback; -ENOENT if none. */
static int dir_of(const struct blobstore *bs, const char *hex)
{
        if (faccessat(bs->blob_fd, hex, F_OK, 0) == 0)
                return bs->blob_fd;
        for (size_t i = 0; i < bs->n_fallbacks; i++)
                if (faccessat(bs->fallback[i], hex, F_OK, 0) == 0)
                        return bs->fallback[i];
        return -ENOENT;
}

bool blobstore_has(const struct blobstore *bs, const char *digest)
{
        const char *hex = digest_hex(digest);
        return hex && dir_of(bs, hex) >= 0;
}

int blobstore_open_blob(const struct blobstore *bs, const char *digest)
{
        const char *hex = digest_hex(digest);
        if (!hex)
                return -EINVAL;
        int dir = dir_of(bs, hex);
        if (dir < 0)
                return dir;
        int fd = openat(dir, hex, O_RDONLY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int64_t blobstore_size(const struct blobstore *bs, const char *digest)
{
        const char *hex = digest_hex(digest);
        struct stat st;
        if (!hex)
                return -EINVAL;
        int dir = dir_of(bs, hex);
        if (dir < 0)
                return dir;
        if (fstatat(dir, hex, &st, 0) < 0)
                return -errno;
        return st.st_size;
}

int blobstore_create_temp(struct blobstore *bs, char **ret_name)
{
        for (int tries = 0; tries < 100; tries++) {
                char *name = xasprintf(".tmp-%d-%u", (int) getpid(), bs->tmp_counter++);
                int fd = openat(bs->blob_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                if (fd >= 0) {
                        *ret_name = name;
                        return fd;
                }
                free(name);
                if (errno != EEXIST)
                        return -errno;
        }
        return -EEXIST;
}

int blobstore_commit(struct blobstore *bs, const char *tmp_name, const char *digest,
                     struct lerr **err)
{
        const char *hex = digest_hex(digest);
        if (!hex) {
                blobstore_abort(bs, tmp_name);
                return lerr_set(err, EINVAL, "store blob: bad digest '%s'", digest);
        }
        if (blobstore_has(bs, digest)) {
                blobstore_abort(bs, tmp_name);
                return 0;
        }
        if (renameat(bs->blob_fd, tmp_name, bs->blob_fd, hex) < 0) {
                int e = errno;
                blobstore_abort(bs, tmp_name);
                return lerr_errno(err, e, "store blob %s", digest);
        }
        return 0;
}

void blobstore_abort(struct blobstore *bs, const char *tmp_name)
{
        (void) unlinkat(bs->blob_fd, tmp_name, 0);
}

int blobstore_put(struct blobstore *bs, const void *data, size_t len,
                  char ret_digest[DIGEST_STRING_SIZE], struct lerr **err)
{
        char digest[DIGEST_STRING_SIZE];
        _cleanup_free_ char *tmp = NULL;
        digest_buffer(data, len, digest);
        if (!blobstore_has(bs, digest)) {
                _cleanup_close_ int fd = blobstore_create_temp(bs, &tmp);
                if (fd < 0)
                        return lerr_errno(err, fd, "store blob %s", digest);
                int r = fs_write_all(fd, data, len);
                if (r < 0) {
                        blobstore_abort(bs, tmp);
                        return lerr_errno(err, r, "write blob %s", digest);
                }
                r = blobstore_commit(bs, tmp, digest, err);
                if (r < 0)
                        return r;
        }
        memcpy(ret_digest, digest, DIGEST_STRING_SIZE);
        return 0;
}

int blobstore_export(const struct blobstore *bs, const char *digest, int dst_dir_fd,
                     const char *name, struct lerr **err)
{
        const char *hex = digest_hex(digest);
        if (!hex)
                return lerr_set(err, EINVAL, "export blob: bad digest '%s'", digest);
        int dir = dir_of(bs, hex);
        if (dir < 0)
                return lerr_errno(err, dir, "open blob %s", digest);
        if (linkat(dir, hex, dst_dir_fd, name, 0) == 0 || errno == EEXIST)
                return 0;
        _cleanup_close_ int in = openat(dir, hex, O_RDONLY | O_CLOEXEC);
        if (in < 0)
                return lerr_errno(err, errno, "open blob %s", digest);
        _cleanup_close_ int out =
                openat(dst_dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out < 0)
                return lerr_errno(err, errno, "create '%s'", name);
        int r = fs_copy_fd(in, out);
        if (r < 0)
                return lerr_errno(err, r, "copy blob %s to '%s'", digest, name);
        return 0;
}
