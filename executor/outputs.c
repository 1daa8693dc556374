/* SPDX-License-Identifier: Apache-2.0 */
/* The final image: config and manifest into the blobstore, then every output Kaniko has:
 * pushes to each --destination (blobs first, mounted from their source repository when it is
 * on the same registry, manifests last so that a failure leaves no tag half-pushed),
 * --tar-path, --oci-layout-path and the digest files. */
#include "executor/build-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/strv.h"
#include "executor/blobstore.h"
#include "executor/image_config.h"
#include "executor/image_output.h"
#include "executor/options.h"
#include "registry/registry.h"

#define UNSET_TAG "docker.io/unset-repo/unset-image-name:latest"

/* The layer media type in the image's format (base layers may come in the other one). */
static const char *layer_type_for(enum image_format f, const char *mt)
{
        if (f == IMAGE_FORMAT_OCI && streq(mt, MEDIA_DOCKER_LAYER_GZIP))
                return MEDIA_OCI_LAYER_GZIP;
        if (f == IMAGE_FORMAT_DOCKER && streq(mt, MEDIA_OCI_LAYER_GZIP))
                return MEDIA_DOCKER_LAYER_GZIP;
        return mt;
}

static int assemble(struct build *b, const struct stage_result *fin, struct built_image *img,
                    struct lerr **err)
{
        _cleanup_free_ char *config = image_config_to_json(fin->config);
        char digest[DIGEST_STRING_SIZE];
        int r = blobstore_put(b->blobs, config, strlen(config), digest, err);
        if (r < 0)
                return r;
        img->format = fin->format;
        img->config.media_type = xstrdup(image_format_config_type(fin->format));
        img->config.digest = xstrdup(digest);
        img->config.size = strlen(config);
        img->n_layers = fin->n_layers;
        img->layers = xcalloc(fin->n_layers + 1, sizeof(struct descriptor));
        for (size_t i = 0; i < fin->n_layers; i++) {
                descriptor_copy(&img->layers[i], &fin->layers[i].desc);
                free(img->layers[i].media_type);
                img->layers[i].media_type =
                        xstrdup(layer_type_for(fin->format, fin->layers[i].desc.media_type));
        }
        _cleanup_free_ char *manifest = image_manifest_build(fin->format, &img->config, img->layers,
                                                             img->n_layers, b->o->annotations);
        img->manifest_size = strlen(manifest);
        return blobstore_put(b->blobs, manifest, strlen(manifest), img->manifest_digest, err);
}

static void built_image_done(struct built_image *img)
{
        descriptor_done(&img->config);
        for (size_t i = 0; i < img->n_layers; i++)
                descriptor_done(&img->layers[i]);
        free(img->layers);
}

/* Every layer's bytes in the blobstore (base layers are there after extraction; a stage that
 * was never unpacked, e.g. one only named by FROM, may still lack some). */
static int ensure_local(struct build *b, const struct stage_result *fin, struct lerr **err)
{
        for (size_t i = 0; i < fin->n_layers; i++) {
                const struct build_layer *l = &fin->layers[i];
                if (blobstore_has(b->blobs, l->desc.digest))
                        continue;
                if (!l->source)
                        return lerr_set(err, ENOENT, "layer %s is missing", l->desc.digest);
                _cleanup_free_ char *path =
                        xasprintf("blobs/sha256/%s", digest_hex(l->desc.digest));
                int r = reg_blob_fetch_file(b->reg, l->source, &l->desc, blobstore_dir_fd(b->blobs),
                                            path, err);
                if (r < 0)
                        return lerr_wrap(err, "download layer %s", l->desc.digest);
        }
        return 0;
}

static bool same_registry(const struct image_ref *a, const struct image_ref *b)
{
        return a && b && streq(a->domain, b->domain);
}

/* A layer that is not in the blobstore (a base or cached layer of a stage that was never
 * extracted): pushed by a cross-repository mount when the registry allows it, so its bytes
 * are downloaded only if the push really has to upload them. */
struct lazy_blob {
        struct build *b;
        const struct build_layer *l;
        int fd;
        uint64_t off;
        struct lerr *err; /* why the download failed */
};

static int lazy_open(struct lazy_blob *z)
{
        if (z->fd >= 0)
                return 0;
        if (!blobstore_has(z->b->blobs, z->l->desc.digest)) {
                if (!z->l->source || z->err)
                        return -ENOENT;
                _cleanup_free_ char *path =
                        xasprintf("blobs/sha256/%s", digest_hex(z->l->desc.digest));
                int r = reg_blob_fetch_file(z->b->reg, z->l->source, &z->l->desc,
                                            blobstore_dir_fd(z->b->blobs), path, &z->err);
                if (r < 0)
                        return r;
        }
        z->fd = blobstore_open_blob(z->b->blobs, z->l->desc.digest);
        return z->fd < 0 ? z->fd : 0;
}

static ssize_t lazy_read(void *userdata, void *buf, size_t n)
{
        struct lazy_blob *z = userdata;
        int r = lazy_open(z);
        if (r < 0)
                return r;
        ssize_t k = pread(z->fd, buf, n, (off_t) z->off);
        if (k < 0)
                return -errno;
        z->off += (uint64_t) k;
        return k;
}

static int lazy_rewind(void *userdata)
{
        ((struct lazy_blob *) userdata)->off = 0;
        return 0;
}

static int push_blobs(struct build *b, const struct stage_result *fin,
                      const struct built_image *img, const struct image_ref *dst, struct lerr **err)
{
        size_t n = img->n_layers + 1;
        struct reg_push *jobs = xcalloc(n, sizeof(*jobs));
        struct lazy_blob *lazy = xcalloc(n, sizeof(*lazy));
        int *fds = xcalloc(n, sizeof(int));
        int r = 0;
        for (size_t i = 0; i < n && r >= 0; i++) {
                const struct descriptor *d = i < img->n_layers ? &img->layers[i] : &img->config;
                lazy[i].fd = -1;
                fds[i] = blobstore_open_blob(b->blobs, d->digest);
                if (fds[i] == -ENOENT && i < img->n_layers && fin->layers[i].source) {
                        lazy[i].b = b;
                        lazy[i].l = &fin->layers[i];
                        jobs[i].src = (struct reg_blob_source){.fd = -1,
                                                               .read = lazy_read,
                                                               .rewind = lazy_rewind,
                                                               .userdata = &lazy[i]};
                } else if (fds[i] < 0)
                        r = lerr_errno(err, fds[i], "open blob %s", d->digest);
                else
                        jobs[i].src.fd = fds[i];
                jobs[i].digest = d->digest;
                jobs[i].size = d->size;
                if (i < img->n_layers && same_registry(fin->layers[i].source, dst))
                        jobs[i].mount_from = fin->layers[i].source;
        }
        if (r >= 0)
                r = reg_blobs_push(b->reg, dst, jobs, n, err);
        size_t mounted = 0, existed = 0, uploaded = 0;
        for (size_t i = 0; i < n; i++) {
                if (r < 0 && lazy[i].err && err) {
                        /* the download is what failed: say that */
                        lerr_free(*err);
                        *err = TAKE_PTR(lazy[i].err);
                }
                lerr_free(lazy[i].err);
                if (lazy[i].fd >= 0)
                        (void) close(lazy[i].fd);
                if (fds[i] >= 0)
                        (void) close(fds[i]);
                mounted += r >= 0 && jobs[i].result == REG_BLOB_MOUNTED;
                existed += r >= 0 && jobs[i].result == REG_BLOB_EXISTED;
                uploaded += r >= 0 && jobs[i].result == REG_BLOB_UPLOADED;
        }
        free(fds);
        free(jobs);
        free(lazy);
        if (r < 0)
                return lerr_wrap(err, "push to '%s'", dst->name);
        log_info("Pushed blobs to %s: %zu uploaded, %zu mounted, %zu already there", dst->name,
                 uploaded, mounted, existed);
        return 0;
}

/* The refusals of registries with immutable tags (Google Artifact Registry, Amazon ECR), by
 * their words, as Kaniko recognises them. */
static bool is_immutable_tag(const struct lerr *e)
{
        static const char *const words[] = {
                "cannot be overwritten because the repository is immutable",
                "cannot be overwritten because the tag is immutable",
                "ImageTagAlreadyExistsException",
        };
        const char *m = lerr_message(e);
        for (size_t i = 0; i < ARRAY_SIZE(words); i++)
                if (strstr(m, words[i]))
                        return true;
        return false;
}

static int push_all(struct build *b, const struct stage_result *fin, const struct built_image *img,
                    struct image_ref **dsts, size_t n, struct lerr **err)
{
        _cleanup_close_ int mfd = blobstore_open_blob(b->blobs, img->manifest_digest);
        _cleanup_free_ char *manifest = xmalloc(img->manifest_size + 1);
        if (mfd < 0 || read(mfd, manifest, img->manifest_size) != (ssize_t) img->manifest_size)
                return lerr_errno(err, mfd < 0 ? mfd : -EIO, "read the manifest");
        for (size_t i = 0; i < n; i++) {
                bool done = false; /* one repository gets its blobs once */
                for (size_t j = 0; j < i; j++)
                        done |= streq(dsts[j]->name, dsts[i]->name);
                int r = done ? 0 : push_blobs(b, fin, img, dsts[i], err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < n; i++) {
                char digest[DIGEST_STRING_SIZE];
                _cleanup_free_ char *name = image_ref_string(dsts[i]);
                int r = reg_manifest_put(b->reg, dsts[i], image_format_manifest_type(img->format),
                                         manifest, img->manifest_size, digest, err);
                if (r < 0 && b->o->push_ignore_immutable_tag_errors && is_immutable_tag(*err)) {
                        log_warn("%s already exists and the repository's tags are immutable: "
                                 "left as it is (--push-ignore-immutable-tag-errors)",
                                 name);
                        continue;
                }
                if (r < 0)
                        return lerr_wrap(err, "push manifest to '%s'", name);
                log_info("Pushed %s@%s", name, digest);
        }
        return 0;
}

static int write_text(const char *path, const char *text, struct lerr **err)
{
        int r = fs_write_file_at(AT_FDCWD, path, text, strlen(text), 0644);
        return r < 0 ? lerr_errno(err, r, "write '%s'", path) : 0;
}

static int digest_files(const struct options *o, const struct built_image *img,
                        struct image_ref **dsts, size_t n, struct lerr **err)
{
        int r = 0;
        if (o->digest_file)
                r = write_text(o->digest_file, img->manifest_digest, err);
        if (r >= 0 && o->image_name_with_digest_file) {
                _cleanup_(strv_freep) char **lines = xcalloc(1, sizeof(char *));
                for (size_t i = 0; i < n; i++)
                        strv_consume(&lines,
                                     xasprintf("%s@%s\n", dsts[i]->name, img->manifest_digest));
                _cleanup_free_ char *text = strv_join(lines, "");
                r = write_text(o->image_name_with_digest_file, text, err);
        }
        if (r >= 0 && o->image_name_tag_with_digest_file) {
                _cleanup_(strv_freep) char **lines = xcalloc(1, sizeof(char *));
                for (size_t i = 0; i < n; i++)
                        strv_consume(&lines, xasprintf("%s:%s@%s\n", dsts[i]->name,
                                                       dsts[i]->tag ? dsts[i]->tag : "latest",
                                                       img->manifest_digest));
                _cleanup_free_ char *text = strv_join(lines, "");
                r = write_text(o->image_name_tag_with_digest_file, text, err);
        }
        return r;
}

static int local_outputs(struct build *b, const struct built_image *img, struct image_ref **dsts,
                         size_t n, struct lerr **err)
{
        const struct options *o = b->o;
        _cleanup_(strv_freep) char **tags = xcalloc(1, sizeof(char *));
        _cleanup_(strv_freep) char **refnames = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i < n; i++) {
                strv_consume(&tags, image_ref_string(dsts[i]));
                if (dsts[i]->tag && !strv_contains(refnames, dsts[i]->tag))
                        strv_push(&refnames, dsts[i]->tag);
        }
        if (!tags[0])
                strv_push(&tags, UNSET_TAG);
        if (!refnames[0])
                strv_push(&refnames, "latest");
        int r = 0;
        if (o->tar_path)
                r = image_output_docker_archive(b->blobs, img, o->tar_path, tags, err);
        if (r >= 0 && o->oci_layout_path)
                r = image_output_oci_layout(b->blobs, img, o->oci_layout_path, refnames, err);
        return r;
}

int outputs_write(struct build *b, const struct stage_result *fin, struct lerr **err)
{
        const struct options *o = b->o;
        struct built_image img = {0};
        size_t n = strv_length(o->destinations);
        struct image_ref **dsts = xcalloc(n + 1, sizeof(*dsts));
        int64_t t0 = build_now_ns();
        int r = 0;
        for (size_t i = 0; i < n && r >= 0; i++)
                r = image_ref_parse(o->destinations[i], &dsts[i], err);
        if (r >= 0)
                r = assemble(b, fin, &img, err);
        if (r >= 0 && (o->tar_path || o->oci_layout_path))
                r = ensure_local(b, fin, err);
        if (r >= 0 && !o->no_push)
                r = push_all(b, fin, &img, dsts, n, err);
        else if (r >= 0)
                log_info("Skipping push to container registry due to --no-push flag");
        if (r >= 0)
                r = local_outputs(b, &img, dsts, n, err);
        if (r >= 0)
                r = digest_files(o, &img, dsts, n, err);
        if (r >= 0) {
                log_info("Image digest: %s", img.manifest_digest);
                for (size_t i = 0; i < img.n_layers; i++)
                        log_info("  layer %zu: %s %llu bytes", i + 1, img.layers[i].digest,
                                 (unsigned long long) img.layers[i].size);
        }
        for (size_t i = 0; i < n; i++)
                image_ref_free(dsts[i]);
        free(dsts);
        built_image_done(&img);
        build_phase_add(b, PHASE_PUSH, t0);
        return r;
}
