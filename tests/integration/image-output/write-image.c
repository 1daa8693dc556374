/* SPDX-License-Identifier: Apache-2.0 */
/* Test driver: makes an image from layer tarballs (made by GNU tar) with lading's image config,
 * manifest, blobstore and output writers, so that the test script can check the outputs with
 * skopeo and umoci.
 * Usage: write-image FORMAT(docker|oci) STORE OCI_DIR TARBALL TAG LAYER.tar.gz... */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "common/alloc.h"
#include "common/digest.h"
#include "common/err.h"
#include "executor/blobstore.h"
#include "executor/image_config.h"
#include "executor/image_manifest.h"
#include "executor/image_output.h"

static int add_layer(struct blobstore *bs, struct image_config *cfg, enum image_format f,
                     const char *path, struct descriptor *ret, struct lerr **err)
{
        char buf[65536];
        _cleanup_(digest_freep) struct digest_ctx *diff = digest_new();
        gzFile gz = gzopen(path, "rb");
        int n;
        if (!gz)
                return lerr_errno(err, errno, "open '%s'", path);
        while ((n = gzread(gz, buf, sizeof(buf))) > 0)
                digest_update(diff, buf, (size_t) n);
        gzclose(gz);
        char diff_id[DIGEST_STRING_SIZE];
        digest_final(diff, diff_id);

        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int out = blobstore_create_temp(bs, &tmp);
        _cleanup_close_ int in = open(path, O_RDONLY | O_CLOEXEC);
        _cleanup_(digest_freep) struct digest_ctx *d = digest_new();
        ssize_t k;
        uint64_t size = 0;
        while ((k = read(in, buf, sizeof(buf))) > 0) {
                digest_update(d, buf, (size_t) k);
                if (write(out, buf, (size_t) k) != k)
                        return lerr_errno(err, errno, "write");
                size += (uint64_t) k;
        }
        char digest[DIGEST_STRING_SIZE];
        digest_final(d, digest);
        ret->digest = xstrdup(digest);
        int r = blobstore_commit(bs, tmp, ret->digest, err);
        if (r < 0)
                return r;
        const char *mt;
        (void) image_format_layer_type(f, LAYER_GZIP, &mt);
        ret->media_type = xstrdup(mt);
        ret->size = size;
        image_config_add_layer(cfg, diff_id);
        image_config_add_history(cfg, "2025-01-01T00:00:00Z", "COPY . / # buildkit",
                                 "buildkit.dockerfile.v0", false);
        return 0;
}

int main(int argc, char **argv)
{
        struct lerr *err = NULL;
        if (argc < 7) {
                fprintf(stderr, "usage: write-image FORMAT STORE OCI_DIR TARBALL TAG LAYER...\n");
                return 2;
        }
        enum image_format f = strcmp(argv[1], "oci") == 0 ? IMAGE_FORMAT_OCI : IMAGE_FORMAT_DOCKER;
        _cleanup_(blobstore_freep) struct blobstore *bs = NULL;
        _cleanup_(image_config_freep) struct image_config *cfg =
                image_config_new("linux", "amd64", NULL);
        size_t n = (size_t) argc - 6;
        struct descriptor *layers = xcalloc(n, sizeof(*layers));
        struct built_image img = {.format = f, .layers = layers, .n_layers = n};
        int r = blobstore_open(AT_FDCWD, argv[2], &bs, &err);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = add_layer(bs, cfg, f, argv[6 + i], &layers[i], &err);
        if (r >= 0) {
                image_config_setenv(cfg, "PATH", "/bin");
                char *cmd[] = {"/bin/hello", NULL};
                image_config_set_cmd(cfg, cmd);
                image_config_set_string(&cfg->created, "2025-01-01T00:00:00Z");
                _cleanup_free_ char *cj = image_config_to_json(cfg);
                char cfg_digest[DIGEST_STRING_SIZE];
                r = blobstore_put(bs, cj, strlen(cj), cfg_digest, &err);
                img.config.digest = xstrdup(cfg_digest);
                img.config.size = strlen(cj);
                img.config.media_type = xstrdup(image_format_config_type(f));
        }
        if (r >= 0) {
                _cleanup_free_ char *m = image_manifest_build(f, &img.config, layers, n, NULL);
                r = blobstore_put(bs, m, strlen(m), img.manifest_digest, &err);
                img.manifest_size = strlen(m);
        }
        const char *tag = argv[5];
        char *names[] = {(char *) strchr(tag, ':') + 1, NULL};
        char *tags[] = {(char *) tag, NULL};
        if (r >= 0)
                r = image_output_oci_layout(bs, &img, argv[3], names, &err);
        if (r >= 0)
                r = image_output_docker_archive(bs, &img, argv[4], tags, &err);
        if (r < 0) {
                fprintf(stderr, "error: %s\n", lerr_message(err));
                return 1;
        }
        printf("%s\n", img.manifest_digest);
        descriptor_done(&img.config);
        for (size_t i = 0; i < n; i++)
                descriptor_done(&layers[i]);
        free(layers);
        return 0;
}
