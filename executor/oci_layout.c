/* SPDX-License-Identifier: Apache-2.0 */
/* A shared OCI layout: blobs by digest, index.json entries by ref name and platform, updates
 * under a lock file. It stores what it is given; what the entries mean is its callers'. */
#include "executor/oci_layout.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/strv.h"
#include "registry/platform.h"

#define LOCK_FILE ".lading.lock"

static const char layout_file[] = "{\"imageLayoutVersion\":\"1.0.0\"}";

struct oci_layout {
        char *path;
        int dir_fd;
        int blobs_fd;
        unsigned tmp_counter;
};

static int write_empty_index(int dir_fd)
{
        static const char empty[] =
                "{\"schemaVersion\":2,\"mediaType\":\"" MEDIA_OCI_INDEX "\",\"manifests\":[]}";
        return fs_write_file_at(dir_fd, "index.json", empty, strlen(empty), 0644);
}

static int create_layout(const char *path, struct lerr **err)
{
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return lerr_errno(err, errno, "create OCI layout '%s'", path);
        _cleanup_close_ int dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return lerr_errno(err, errno, "open OCI layout '%s'", path);
        if ((mkdirat(dir, "blobs", 0755) < 0 && errno != EEXIST) ||
            (mkdirat(dir, "blobs/sha256", 0755) < 0 && errno != EEXIST))
                return lerr_errno(err, errno, "create '%s/blobs/sha256'", path);
        int r = 0;
        if (faccessat(dir, "oci-layout", F_OK, 0) < 0)
                r = fs_write_file_at(dir, "oci-layout", layout_file, strlen(layout_file), 0644);
        if (r >= 0 && faccessat(dir, "index.json", F_OK, 0) < 0)
                r = write_empty_index(dir);
        return r < 0 ? lerr_errno(err, r, "create OCI layout '%s'", path) : 0;
}

int oci_layout_open(const char *path, bool create, struct oci_layout **ret, struct lerr **err)
{
        if (create) {
                int r = create_layout(path, err);
                if (r < 0)
                        return r;
        }
        _cleanup_close_ int dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return lerr_errno(err, errno, "open OCI layout '%s'", path);
        if (faccessat(dir, "oci-layout", F_OK, 0) < 0)
                return lerr_set(err, ENOENT, "'%s' is not an OCI layout (no oci-layout file)",
                                path);
        int blobs = openat(dir, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (blobs < 0)
                return lerr_errno(err, errno, "open '%s/blobs/sha256'", path);
        struct oci_layout *l = xcalloc(1, sizeof(*l));
        l->path = xstrdup(path);
        l->dir_fd = TAKE_FD(dir);
        l->blobs_fd = blobs;
        *ret = l;
        return 0;
}

void oci_layout_free(struct oci_layout *l)
{
        if (!l)
                return;
        (void) close(l->blobs_fd);
        (void) close(l->dir_fd);
        free(l->path);
        free(l);
}

const char *oci_layout_path(const struct oci_layout *l)
{
        return l->path;
}

int oci_layout_dir_fd(const struct oci_layout *l)
{
        return l->dir_fd;
}

int oci_layout_blobs_fd(const struct oci_layout *l)
{
        return l->blobs_fd;
}

bool oci_layout_has_blob(const struct oci_layout *l, const char *digest)
{
        const char *hex = digest_hex(digest);
        return hex && faccessat(l->blobs_fd, hex, F_OK, 0) == 0;
}

int oci_layout_read_blob(const struct oci_layout *l, const char *digest, size_t max, char **ret,
                         size_t *ret_len, struct lerr **err)
{
        const char *hex = digest_hex(digest);
        if (!hex)
                return lerr_set(err, EINVAL, "invalid digest '%s'", digest);
        struct buf b = BUF_INIT(max);
        int r = fs_read_file_at(l->blobs_fd, hex, &b);
        if (r < 0) {
                buf_done(&b);
                return lerr_errno(err, r, "read blob %s of '%s'", digest, l->path);
        }
        char got[DIGEST_STRING_SIZE];
        digest_buffer(buf_str(&b), b.len, got);
        if (!streq(got, digest)) {
                buf_done(&b);
                return lerr_set(err, EBADMSG, "blob %s of '%s' holds %s", digest, l->path, got);
        }
        *ret_len = b.len;
        *ret = buf_steal(&b);
        return 0;
}

int oci_layout_put_blob(struct oci_layout *l, const void *data, size_t len,
                        char ret_digest[DIGEST_STRING_SIZE], struct lerr **err)
{
        char digest[DIGEST_STRING_SIZE];
        digest_buffer(data, len, digest);
        if (!oci_layout_has_blob(l, digest)) {
                /* fs_write_file_at writes a temporary file and renames it */
                int r = fs_write_file_at(l->blobs_fd, digest_hex(digest), data, len, 0644);
                if (r < 0)
                        return lerr_errno(err, r, "write blob %s to '%s'", digest, l->path);
        }
        memcpy(ret_digest, digest, DIGEST_STRING_SIZE);
        return 0;
}

int oci_layout_import_blob(struct oci_layout *l, int src_fd, const char *digest, struct lerr **err)
{
        const char *hex = digest_hex(digest);
        if (!hex)
                return lerr_set(err, EINVAL, "invalid digest '%s'", digest);
        if (oci_layout_has_blob(l, digest))
                return 0;
        _cleanup_free_ char *tmp =
                xasprintf(".import-%d-%u-%s", (int) getpid(), l->tmp_counter++, hex);
        _cleanup_close_ int fd =
                openat(l->blobs_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
                return lerr_errno(err, errno, "write blob %s to '%s'", digest, l->path);
        int r = fs_copy_fd(src_fd, fd);
        if (r >= 0 && renameat(l->blobs_fd, tmp, l->blobs_fd, hex) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlinkat(l->blobs_fd, tmp, 0);
                return lerr_errno(err, r, "write blob %s to '%s'", digest, l->path);
        }
        return 0;
}

/* ---- index.json ---- */

void oci_layout_entry_done(struct oci_layout_entry *e)
{
        descriptor_done(&e->desc);
        strv_free(e->annotations);
        e->annotations = NULL;
}

const char *oci_layout_entry_annotation(const struct oci_layout_entry *e, const char *key)
{
        size_t n = strlen(key);
        strv_foreach (kv, e->annotations)
                if (strncmp(kv, key, n) == 0 && kv[n] == '=')
                        return kv + n + 1;
        return NULL;
}

static int lock_index(const struct oci_layout *l, int how, struct lerr **err)
{
        int fd = openat(l->dir_fd, LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0 && how == LOCK_SH && (errno == EROFS || errno == EACCES))
                return -EBADF; /* a read-only layout: nobody writes it while we read */
        if (fd < 0)
                return lerr_errno(err, errno, "lock OCI layout '%s'", l->path);
        while (flock(fd, how) < 0)
                if (errno != EINTR) {
                        int e = errno;
                        (void) close(fd);
                        return lerr_errno(err, e, "lock OCI layout '%s'", l->path);
                }
        return fd;
}

static int load_index(const struct oci_layout *l, cJSON **ret, struct lerr **err)
{
        struct buf b = BUF_INIT(OCI_LAYOUT_INDEX_MAX);
        int r = fs_read_file_at(l->dir_fd, "index.json", &b);
        if (r < 0) {
                buf_done(&b);
                return lerr_errno(err, r, "read '%s/index.json'", l->path);
        }
        r = json_parse(buf_str(&b), b.len, OCI_LAYOUT_INDEX_MAX, "index.json", ret, err);
        buf_done(&b);
        if (r < 0)
                return lerr_wrap(err, "OCI layout '%s'", l->path);
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(*ret, "manifests");
        if (!cJSON_IsArray(m) || cJSON_GetArraySize(m) > OCI_LAYOUT_MAX_ENTRIES) {
                cJSON_Delete(*ret);
                *ret = NULL;
                return lerr_set(err, EBADMSG,
                                "'%s/index.json': no 'manifests' array, or more than %d entries",
                                l->path, OCI_LAYOUT_MAX_ENTRIES);
        }
        return 0;
}

static int parse_entry(const cJSON *j, struct oci_layout_entry *ret, struct lerr **err)
{
        struct oci_layout_entry e = {0};
        const char *mt = NULL, *dg = NULL;
        const cJSON *plat = NULL, *ann = NULL;
        uint64_t size = 0;
        bool has_size = false;
        int r = json_require_string(j, "mediaType", &mt, err);
        if (r >= 0)
                r = json_require_string(j, "digest", &dg, err);
        if (r >= 0)
                r = json_get_u64(j, "size", &size, &has_size, err);
        if (r >= 0)
                r = json_get_object(j, "platform", &plat, err);
        if (r >= 0)
                r = json_get_object(j, "annotations", &ann, err);
        if (r >= 0 && (!has_size || !digest_is_valid(dg)))
                r = lerr_set(err, EBADMSG, "index entry without a size or a sha256 digest");
        if (r < 0)
                return r;
        e.desc.media_type = xstrdup(mt);
        e.desc.digest = xstrdup(dg);
        e.desc.size = size;
        if (plat) {
                const char *os = NULL, *arch = NULL, *variant = NULL;
                r = json_require_string(plat, "os", &os, err);
                if (r >= 0)
                        r = json_require_string(plat, "architecture", &arch, err);
                if (r >= 0)
                        r = json_get_string(plat, "variant", &variant, err);
                if (r < 0) {
                        oci_layout_entry_done(&e);
                        return r;
                }
                e.desc.platform = xcalloc(1, sizeof(struct platform));
                e.desc.platform->os = xstrdup(os);
                e.desc.platform->arch = xstrdup(arch);
                e.desc.platform->variant = variant && *variant ? xstrdup(variant) : NULL;
        }
        e.annotations = xcalloc(1, sizeof(char *));
        const cJSON *a;
        cJSON_ArrayForEach(a, ann)
        {
                if (cJSON_IsString(a))
                        strv_consume(&e.annotations, xasprintf("%s=%s", a->string, a->valuestring));
        }
        *ret = e;
        return 0;
}

static const char *entry_ref_name(const cJSON *j)
{
        const cJSON *ann = cJSON_GetObjectItemCaseSensitive(j, "annotations");
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(ann, OCI_REF_NAME);
        return cJSON_IsString(n) ? n->valuestring : NULL;
}

int oci_layout_find(struct oci_layout *l, const char *ref_name, const struct platform *platform,
                    struct oci_layout_entry *ret, struct lerr **err)
{
        _cleanup_(cJSON_Deletep) cJSON *index = NULL;
        int lock = lock_index(l, LOCK_SH, err);
        if (lock < 0 && lock != -EBADF)
                return lock;
        int r = load_index(l, &index, err);
        if (lock >= 0)
                (void) close(lock);
        if (r < 0)
                return r;
        struct oci_layout_entry best = {0};
        int best_rank = -1;
        const cJSON *j;
        cJSON_ArrayForEach(j, cJSON_GetObjectItemCaseSensitive(index, "manifests"))
        {
                const char *name = entry_ref_name(j);
                if (!name || !streq(name, ref_name))
                        continue;
                struct oci_layout_entry e;
                r = parse_entry(j, &e, err);
                if (r < 0) {
                        oci_layout_entry_done(&best);
                        return lerr_wrap(err, "'%s/index.json' entry '%s'", l->path, ref_name);
                }
                int rank = 0;
                if (platform)
                        rank = e.desc.platform ? platform_match_rank(platform, e.desc.platform)
                                               : -1;
                if (rank < 0 || (best_rank >= 0 && rank >= best_rank)) {
                        oci_layout_entry_done(&e);
                        continue;
                }
                oci_layout_entry_done(&best);
                best = e;
                best_rank = rank;
        }
        if (best_rank < 0)
                return 0;
        *ret = best;
        return 1;
}

static bool same_platform(const cJSON *j, const struct platform *p)
{
        const cJSON *jp = cJSON_GetObjectItemCaseSensitive(j, "platform");
        if (!jp || !p)
                return !jp && !p;
        const cJSON *os = cJSON_GetObjectItemCaseSensitive(jp, "os");
        const cJSON *arch = cJSON_GetObjectItemCaseSensitive(jp, "architecture");
        const cJSON *var = cJSON_GetObjectItemCaseSensitive(jp, "variant");
        const char *v = cJSON_IsString(var) ? var->valuestring : "";
        return cJSON_IsString(os) && cJSON_IsString(arch) && streq(os->valuestring, p->os) &&
               streq(arch->valuestring, p->arch) && streq(v, strempty(p->variant));
}

static cJSON *entry_json(const char *ref_name, const struct oci_layout_entry *e)
{
        cJSON *j = json_new_object();
        json_add_string(j, "mediaType", e->desc.media_type);
        json_add_string(j, "digest", e->desc.digest);
        if (!cJSON_AddNumberToObject(j, "size", (double) e->desc.size))
                oom();
        if (e->desc.platform) {
                cJSON *p = json_add_object(j, "platform");
                json_add_string(p, "architecture", e->desc.platform->arch);
                json_add_string(p, "os", e->desc.platform->os);
                if (e->desc.platform->variant && *e->desc.platform->variant)
                        json_add_string(p, "variant", e->desc.platform->variant);
        }
        cJSON *ann = json_add_object(j, "annotations");
        strv_foreach (kv, e->annotations) {
                const char *eq = strchr(kv, '=');
                if (!eq)
                        continue;
                _cleanup_free_ char *k = xstrndup(kv, (size_t) (eq - kv));
                if (!streq(k, OCI_REF_NAME))
                        json_add_string(ann, k, eq + 1);
        }
        json_add_string(ann, OCI_REF_NAME, ref_name);
        return j;
}

int oci_layout_put(struct oci_layout *l, const char *ref_name, const struct oci_layout_entry *e,
                   struct lerr **err)
{
        _cleanup_(cJSON_Deletep) cJSON *index = NULL;
        _cleanup_close_ int lock = lock_index(l, LOCK_EX, err);
        if (lock < 0)
                return lock;
        int r = load_index(l, &index, err);
        if (r < 0)
                return r;
        cJSON *manifests = cJSON_GetObjectItemCaseSensitive(index, "manifests");
        for (int i = cJSON_GetArraySize(manifests) - 1; i >= 0; i--) {
                const cJSON *j = cJSON_GetArrayItem(manifests, i);
                const char *name = entry_ref_name(j);
                if (name && streq(name, ref_name) && same_platform(j, e->desc.platform))
                        cJSON_DeleteItemFromArray(manifests, i);
        }
        if (cJSON_GetArraySize(manifests) >= OCI_LAYOUT_MAX_ENTRIES)
                return lerr_set(err, E2BIG, "'%s/index.json' has %d entries already", l->path,
                                OCI_LAYOUT_MAX_ENTRIES);
        if (!cJSON_AddItemToArray(manifests, entry_json(ref_name, e)))
                oom();
        _cleanup_free_ char *text = json_print(index);
        r = fs_write_file_at(l->dir_fd, "index.json", text, strlen(text), 0644);
        if (r < 0)
                return lerr_errno(err, r, "write '%s/index.json'", l->path);
        return 0;
}
