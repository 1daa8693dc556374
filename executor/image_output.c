/* SPDX-License-Identifier: Apache-2.0 */
/* OCI layout and docker-archive outputs. Layers are streamed from the blobstore; nothing of
 * a layer is held in memory. */
#include "executor/image_output.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/strv.h"
#include "executor/blobstore.h"
#include "executor/image_manifest.h"

#define INDEX_MAX_BYTES (4u << 20)
#define REF_NAME_KEY    "org.opencontainers.image.ref.name"

static const char oci_layout_file[] = "{\"imageLayoutVersion\":\"1.0.0\"}";

static int copy_blob_into(const struct blobstore *bs, int blobs_fd, const char *digest,
                          struct lerr **err)
{
        return blobstore_export(bs, digest, blobs_fd, digest_hex(digest), err);
}

static cJSON *manifest_entry(const struct built_image *img, const char *ref_name)
{
        cJSON *e = json_new_object();
        json_add_string(e, "mediaType", image_format_manifest_type(img->format));
        if (!cJSON_AddNumberToObject(e, "size", (double) img->manifest_size))
                oom();
        json_add_string(e, "digest", img->manifest_digest);
        if (ref_name)
                json_add_string(json_add_object(e, "annotations"), REF_NAME_KEY, ref_name);
        return e;
}

static int load_index(int dir_fd, cJSON **ret, struct lerr **err)
{
        struct buf b = BUF_INIT(INDEX_MAX_BYTES);
        int r = fs_read_file_at(dir_fd, "index.json", &b);
        if (r == -ENOENT) {
                cJSON *idx = json_new_object();
                if (!cJSON_AddNumberToObject(idx, "schemaVersion", 2))
                        oom();
                json_add_string(idx, "mediaType", MEDIA_OCI_INDEX);
                json_add_array(idx, "manifests");
                *ret = idx;
                return 0;
        }
        if (r < 0) {
                buf_done(&b);
                return lerr_errno(err, r, "read index.json");
        }
        r = json_parse(buf_str(&b), b.len, INDEX_MAX_BYTES, "index.json", ret, err);
        buf_done(&b);
        if (r < 0)
                return r;
        if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(*ret, "manifests"))) {
                cJSON_Delete(*ret);
                *ret = NULL;
                return lerr_set(err, EBADMSG, "index.json has no 'manifests' array");
        }
        return 0;
}

static void index_put(cJSON *manifests, const struct built_image *img, const char *ref_name)
{
        cJSON *e;
        int i = 0;
        cJSON_ArrayForEach(e, manifests)
        {
                const cJSON *ann = cJSON_GetObjectItemCaseSensitive(e, "annotations");
                const cJSON *name = cJSON_GetObjectItemCaseSensitive(ann, REF_NAME_KEY);
                const cJSON *dg = cJSON_GetObjectItemCaseSensitive(e, "digest");
                bool same = ref_name ? cJSON_IsString(name) && streq(name->valuestring, ref_name)
                                     : !name && cJSON_IsString(dg) &&
                                               streq(dg->valuestring, img->manifest_digest);
                if (same) {
                        cJSON_DeleteItemFromArray(manifests, i);
                        break;
                }
                i++;
        }
        if (!cJSON_AddItemToArray(manifests, manifest_entry(img, ref_name)))
                oom();
}

/* OCI tools (umoci, skopeo's oci: transport) only accept OCI media types in a layout, so a
 * Docker-format image is laid out with an equivalent OCI manifest: same config and layer
 * blobs, OCI media types, hence another manifest digest. */
static int oci_equivalent(struct blobstore *bs, const struct built_image *img,
                          struct built_image *ret, struct lerr **err)
{
        struct descriptor cfg = img->config;
        _cleanup_free_ struct descriptor *layers = xcalloc(img->n_layers + 1, sizeof(*layers));
        cfg.media_type = (char *) MEDIA_OCI_CONFIG;
        for (size_t i = 0; i < img->n_layers; i++) {
                layers[i] = img->layers[i];
                if (streq(layers[i].media_type, MEDIA_DOCKER_LAYER_GZIP))
                        layers[i].media_type = (char *) MEDIA_OCI_LAYER_GZIP;
                else if (streq(layers[i].media_type, MEDIA_DOCKER_FOREIGN))
                        layers[i].media_type =
                                (char *) "application/"
                                         "vnd.oci.image.layer.nondistributable.v1.tar+gzip";
        }
        _cleanup_free_ char *m =
                image_manifest_build(IMAGE_FORMAT_OCI, &cfg, layers, img->n_layers, NULL);
        *ret = *img;
        ret->format = IMAGE_FORMAT_OCI;
        ret->manifest_size = strlen(m);
        return blobstore_put(bs, m, strlen(m), ret->manifest_digest, err);
}

int image_output_oci_layout(struct blobstore *bs, const struct built_image *img_in,
                            const char *path, char *const *ref_names, struct lerr **err)
{
        _cleanup_(cJSON_Deletep) cJSON *index = NULL;
        struct built_image converted;
        const struct built_image *img = img_in;
        if (img_in->format == IMAGE_FORMAT_DOCKER) {
                int r = oci_equivalent(bs, img_in, &converted, err);
                if (r < 0)
                        return lerr_wrap(err, "write OCI layout '%s'", path);
                img = &converted;
        }
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return lerr_errno(err, errno, "create OCI layout '%s'", path);
        _cleanup_close_ int dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return lerr_errno(err, errno, "open OCI layout '%s'", path);
        if ((mkdirat(dir, "blobs", 0755) < 0 && errno != EEXIST) ||
            (mkdirat(dir, "blobs/sha256", 0755) < 0 && errno != EEXIST))
                return lerr_errno(err, errno, "create '%s/blobs/sha256'", path);
        _cleanup_close_ int blobs = openat(dir, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (blobs < 0)
                return lerr_errno(err, errno, "open '%s/blobs/sha256'", path);

        int r = copy_blob_into(bs, blobs, img->config.digest, err);
        for (size_t i = 0; r >= 0 && i < img->n_layers; i++)
                r = copy_blob_into(bs, blobs, img->layers[i].digest, err);
        if (r >= 0)
                r = copy_blob_into(bs, blobs, img->manifest_digest, err);
        if (r >= 0)
                r = load_index(dir, &index, err);
        if (r < 0)
                return lerr_wrap(err, "write OCI layout '%s'", path);

        cJSON *manifests = cJSON_GetObjectItemCaseSensitive(index, "manifests");
        if (!ref_names || !ref_names[0])
                index_put(manifests, img, NULL);
        strv_foreach (name, ref_names)
                index_put(manifests, img, name);

        _cleanup_free_ char *text = json_print(index);
        r = fs_write_file_at(dir, "oci-layout", oci_layout_file, strlen(oci_layout_file), 0644);
        if (r >= 0)
                r = fs_write_file_at(dir, "index.json", text, strlen(text), 0644);
        if (r < 0)
                return lerr_errno(err, r, "write OCI layout '%s'", path);
        return 0;
}

/* ---- docker-archive ---- */

static int tar_add_bytes(struct archive *a, const char *name, const void *data, size_t len,
                         struct lerr **err)
{
        struct archive_entry *e = archive_entry_new();
        if (!e)
                oom();
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t) len);
        int r = archive_write_header(a, e);
        archive_entry_free(e);
        if (r != ARCHIVE_OK || (len && archive_write_data(a, data, len) != (la_ssize_t) len))
                return lerr_set(err, EIO, "write '%s': %s", name, archive_error_string(a));
        return 0;
}

static int tar_add_dir(struct archive *a, const char *name, struct lerr **err)
{
        struct archive_entry *e = archive_entry_new();
        if (!e)
                oom();
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, AE_IFDIR);
        archive_entry_set_perm(e, 0755);
        int r = archive_write_header(a, e);
        archive_entry_free(e);
        if (r != ARCHIVE_OK)
                return lerr_set(err, EIO, "write '%s': %s", name, archive_error_string(a));
        return 0;
}

static int tar_add_blob(struct archive *a, const struct blobstore *bs, const char *digest,
                        struct lerr **err)
{
        _cleanup_free_ char *name = xasprintf("blobs/sha256/%s", digest_hex(digest));
        _cleanup_close_ int fd = blobstore_open_blob(bs, digest);
        struct stat st;
        if (fd < 0)
                return lerr_errno(err, fd, "open blob %s", digest);
        if (fstat(fd, &st) < 0)
                return lerr_errno(err, errno, "stat blob %s", digest);
        struct archive_entry *e = archive_entry_new();
        if (!e)
                oom();
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, st.st_size);
        int r = archive_write_header(a, e);
        archive_entry_free(e);
        if (r != ARCHIVE_OK)
                return lerr_set(err, EIO, "write '%s': %s", name, archive_error_string(a));
        char chunk[1 << 16];
        for (;;) {
                ssize_t n = read(fd, chunk, sizeof(chunk));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return lerr_errno(err, errno, "read blob %s", digest);
                if (n == 0)
                        return 0;
                if (archive_write_data(a, chunk, (size_t) n) != n)
                        return lerr_set(err, EIO, "write '%s': %s", name, archive_error_string(a));
        }
}

static char *docker_manifest_json(const struct built_image *img, char *const *repo_tags)
{
        _cleanup_(cJSON_Deletep) cJSON *arr = json_new_array();
        cJSON *m = json_new_object();
        if (!cJSON_AddItemToArray(arr, m))
                oom();
        _cleanup_free_ char *cfg = xasprintf("blobs/sha256/%s", digest_hex(img->config.digest));
        json_add_string(m, "Config", cfg);
        cJSON *tags = json_add_array(m, "RepoTags");
        strv_foreach (t, repo_tags)
                json_array_add_string(tags, t);
        cJSON *layers = json_add_array(m, "Layers");
        for (size_t i = 0; i < img->n_layers; i++) {
                _cleanup_free_ char *l =
                        xasprintf("blobs/sha256/%s", digest_hex(img->layers[i].digest));
                json_array_add_string(layers, l);
        }
        return json_print(arr);
}

static int write_archive(struct archive *a, const struct blobstore *bs,
                         const struct built_image *img, char *const *repo_tags, struct lerr **err)
{
        _cleanup_free_ char *manifest = docker_manifest_json(img, repo_tags);
        _cleanup_(cJSON_Deletep) cJSON *index = json_new_object();
        if (!cJSON_AddNumberToObject(index, "schemaVersion", 2))
                oom();
        json_add_string(index, "mediaType", MEDIA_OCI_INDEX);
        cJSON *manifests = json_add_array(index, "manifests");
        if (!cJSON_AddItemToArray(
                    manifests,
                    manifest_entry(img, repo_tags && repo_tags[0] ? repo_tags[0] : NULL)))
                oom();
        _cleanup_free_ char *index_text = json_print(index);

        int r = tar_add_dir(a, "blobs", err);
        if (r >= 0)
                r = tar_add_dir(a, "blobs/sha256", err);
        if (r >= 0)
                r = tar_add_blob(a, bs, img->config.digest, err);
        for (size_t i = 0; r >= 0 && i < img->n_layers; i++) {
                bool seen = false; /* the same layer twice in one image is stored once */
                for (size_t j = 0; j < i; j++)
                        seen |= streq(img->layers[j].digest, img->layers[i].digest);
                if (!seen)
                        r = tar_add_blob(a, bs, img->layers[i].digest, err);
        }
        if (r >= 0)
                r = tar_add_blob(a, bs, img->manifest_digest, err);
        if (r >= 0)
                r = tar_add_bytes(a, "index.json", index_text, strlen(index_text), err);
        if (r >= 0)
                r = tar_add_bytes(a, "manifest.json", manifest, strlen(manifest), err);
        if (r >= 0)
                r = tar_add_bytes(a, "oci-layout", oci_layout_file, strlen(oci_layout_file), err);
        return r;
}

int image_output_docker_archive(const struct blobstore *bs, const struct built_image *img,
                                const char *path, char *const *repo_tags, struct lerr **err)
{
        _cleanup_free_ char *tmp = xasprintf("%s.tmp-%d", path, (int) getpid());
        struct archive *a = archive_write_new();
        if (!a)
                oom();
        int r = 0;
        if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
            archive_write_open_filename(a, tmp) != ARCHIVE_OK)
                r = lerr_set(err, EIO, "create '%s': %s", path, archive_error_string(a));
        if (r >= 0)
                r = write_archive(a, bs, img, repo_tags, err);
        if (r >= 0 && archive_write_close(a) != ARCHIVE_OK)
                r = lerr_set(err, EIO, "write '%s': %s", path, archive_error_string(a));
        archive_write_free(a);
        if (r >= 0 && rename(tmp, path) < 0)
                r = lerr_errno(err, errno, "rename '%s' to '%s'", tmp, path);
        if (r < 0) {
                (void) unlink(tmp);
                return lerr_wrap(err, "write image tarball");
        }
        return 0;
}
