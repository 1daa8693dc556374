/* SPDX-License-Identifier: Apache-2.0 */
#include "registry/manifest.h"

#include <stdlib.h>

#include "common/alloc.h"
#include "common/err.h"
#include "tap.h"

#define DA "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DB "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define DC "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define DD "sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"

static const char oci_manifest[] =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
        "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" DA
        "\",\"size\":1234},"
        "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":"
        "\"" DB "\",\"size\":5000000000},"
        "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+zstd\",\"digest\":\"" DC
        "\",\"size\":0,\"urls\":[\"https://example.com/blob\"]}]}";

static const char docker_manifest[] =
        "{\"schemaVersion\":2,\"mediaType\":"
        "\"application/vnd.docker.distribution.manifest.v2+json\","
        "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\","
        "\"digest\":\"" DA "\",\"size\":7},"
        "\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\","
        "\"digest\":\"" DB "\",\"size\":42}]}";

static const char oci_index[] =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
        "\"manifests\":["
        "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" DA
        "\",\"size\":100,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
        "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" DB
        "\",\"size\":101,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\","
        "\"variant\":\"v8\"}},"
        "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" DC
        "\",\"size\":102,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\","
        "\"variant\":\"v7\"}},"
        "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" DD
        "\",\"size\":103,\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"},"
        "\"annotations\":{\"vnd.docker.reference.type\":\"attestation-manifest\"}}]}";

static const char docker_list[] =
        "{\"schemaVersion\":2,\"mediaType\":"
        "\"application/vnd.docker.distribution.manifest.list.v2+json\","
        "\"manifests\":["
        "{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":\"" DA
        "\",\"size\":10,\"platform\":{\"os\":\"linux\",\"architecture\":\"386\"}},"
        "{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":\"" DB
        "\",\"size\":11,\"platform\":{\"os\":\"windows\",\"architecture\":\"amd64\","
        "\"os.version\":\"10.0.17763.1\"}},"
        "{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":\"" DC
        "\",\"size\":12,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\","
        "\"variant\":\"v6\"}}]}";

static void test_oci_manifest(void)
{
        struct manifest *m = NULL;
        struct lerr *err = NULL;
        int r = manifest_parse(oci_manifest, strlen(oci_manifest), NULL, &m, &err);
        if (!is_int(r, 0, "parse OCI manifest"))
                diag("%s", lerr_message(err));
        is_int(m->kind, MANIFEST_IMAGE, "OCI manifest is an image");
        is_str(m->media_type, MEDIA_OCI_MANIFEST, "OCI manifest media type");
        is_str(m->config.digest, DA, "config digest");
        is_int(m->config.size, 1234, "config size");
        is_str(m->config.media_type, MEDIA_OCI_CONFIG, "config media type");
        is_int(m->n_layers, 2, "two layers");
        is_str(m->layers[0].digest, DB, "layer 0 digest");
        ok(m->layers[0].size == 5000000000ull, "layer 0 size over 4 GiB");
        is_str(m->layers[1].media_type, MEDIA_OCI_LAYER_ZSTD, "layer 1 media type");
        ok(m->layers[1].urls && streq(m->layers[1].urls[0], "https://example.com/blob") &&
                   !m->layers[1].urls[1],
           "layer 1 urls");
        ok(m->layers[0].urls == NULL, "layer 0 has no urls");
        ok(media_type_is_layer(m->layers[0].media_type), "gzip layer is a layer");
        manifest_free(m);
}

static void test_docker_manifest(void)
{
        struct manifest *m = NULL;
        int r = manifest_parse(docker_manifest, strlen(docker_manifest),
                               "application/vnd.docker.distribution.manifest.v2+json", &m, NULL);
        is_int(r, 0, "parse Docker manifest");
        is_int(m->kind, MANIFEST_IMAGE, "Docker manifest is an image");
        is_str(m->media_type, MEDIA_DOCKER_MANIFEST, "Docker manifest media type");
        is_str(m->config.media_type, MEDIA_DOCKER_CONFIG, "Docker config media type");
        is_int(m->n_layers, 1, "one layer");
        is_int(m->layers[0].size, 42, "layer size");
        manifest_free(m);
}

static void test_indexes(void)
{
        struct manifest *m = NULL;
        const struct descriptor *d = NULL;
        struct platform p;
        struct lerr *err = NULL;

        is_int(manifest_parse(oci_index, strlen(oci_index), MEDIA_OCI_INDEX, &m, NULL), 0,
               "parse OCI index");
        is_int(m->kind, MANIFEST_INDEX, "OCI index kind");
        is_str(m->media_type, MEDIA_OCI_INDEX, "OCI index media type");
        is_int(m->n_manifests, 4, "four entries");
        is_str(m->manifests[1].platform->variant, "v8", "variant kept as sent");

        static const struct {
                const char *want, *digest;
        } picks[] = {
                {"linux/amd64", DA},   {"linux/arm64", DB},  {"linux/arm64/v8", DB},
                {"linux/aarch64", DB}, {"linux/arm/v7", DC}, {"linux/arm", DC},
                {"linux/arm/v8", DC},  {"linux/386", NULL},  {"linux/ppc64le", NULL},
        };
        for (size_t i = 0; i < ARRAY_SIZE(picks); i++) {
                (void) platform_parse(picks[i].want, &p, NULL);
                d = NULL;
                err = NULL;
                int r = manifest_select_platform(m, &p, &d, &err);
                if (picks[i].digest) {
                        is_int(r, 0, "select %s", picks[i].want);
                        is_str(d ? d->digest : NULL, picks[i].digest, "digest for %s",
                               picks[i].want);
                } else {
                        is_int(r, -ENOENT, "nothing for %s", picks[i].want);
                }
                platform_done(&p);
                lerr_free(err);
        }
        (void) platform_parse("linux/s390x", &p, NULL);
        err = NULL;
        is_int(manifest_select_platform(m, &p, &d, &err), -ENOENT, "no s390x");
        is_str(lerr_message(err),
               "no manifest for platform 'linux/s390x' in the index (it has: linux/amd64, "
               "linux/arm64/v8, linux/arm/v7)",
               "missing platform message lists what there is");
        lerr_free(err);
        platform_done(&p);
        manifest_free(m);

        m = NULL;
        is_int(manifest_parse(docker_list, strlen(docker_list), NULL, &m, NULL), 0,
               "parse Docker manifest list");
        is_int(m->kind, MANIFEST_INDEX, "Docker list kind");
        is_str(m->media_type, MEDIA_DOCKER_LIST, "Docker list media type");
        is_str(m->manifests[1].platform->os_version, "10.0.17763.1", "os.version kept");
        (void) platform_parse("linux/amd64", &p, NULL);
        is_int(manifest_select_platform(m, &p, &d, NULL), 0, "amd64 falls back to 386");
        is_str(d->digest, DA, "386 entry chosen for amd64");
        platform_done(&p);
        (void) platform_parse("linux/arm64", &p, NULL);
        is_int(manifest_select_platform(m, &p, &d, NULL), 0, "arm64 falls back to arm v6");
        is_str(d->digest, DC, "arm v6 entry chosen for arm64");
        platform_done(&p);
        manifest_free(m);
}

struct bad {
        const char *json, *content_type;
        int code;
        const char *msg;
};

static const struct bad bads[] = {
        {"{\"schemaVersion\":1,\"name\":\"x\",\"fsLayers\":[]}", NULL, -ENOTSUP,
         "image uses a Docker schema 1 manifest, which is deprecated and not supported; push "
         "it again with a current Docker, skopeo or crane"},
        {"{}", MEDIA_DOCKER_SCHEMA1_JWS, -ENOTSUP,
         "image uses a Docker schema 1 manifest, which is deprecated and not supported; push "
         "it again with a current Docker, skopeo or crane"},
        {"{\"mediaType\":\"application/vnd.docker.distribution.manifest.v1+json\"}", NULL, -ENOTSUP,
         "image uses a Docker schema 1 manifest, which is deprecated and not supported; push "
         "it again with a current Docker, skopeo or crane"},
        {"{\"schemaVersion\":3,\"manifests\":[]}", NULL, -ENOTSUP,
         "unsupported manifest schemaVersion 3"},
        {"{\"schemaVersion\":2,\"mediaType\":\"text/plain\"}", NULL, -ENOTSUP,
         "parse manifest: unsupported manifest media type 'text/plain'"},
        {"not json", NULL, -EBADMSG, "parse manifest: invalid JSON near byte 0"},
        {"[1]", NULL, -EBADMSG, "manifest is not a JSON object"},
        {"{\"schemaVersion\":\"2\"}", NULL, -EBADMSG,
         "parse manifest: field 'schemaVersion' is not a number"},
        {"{\"manifests\":[],\"layers\":[]}", NULL, -EBADMSG,
         "parse manifest: document has both 'manifests' and 'layers' or 'config': neither a "
         "manifest nor an index"},
        {"{\"mediaType\":\"" MEDIA_OCI_INDEX "\"}", MEDIA_OCI_MANIFEST, -EBADMSG,
         "parse manifest: mediaType 'application/vnd.oci.image.index.v1+json' contradicts "
         "Content-Type 'application/vnd.oci.image.manifest.v1+json'"},
        {"{\"layers\":[]}", MEDIA_OCI_INDEX, -EBADMSG,
         "parse manifest: index has 'layers' or 'config'"},
        {"{\"mediaType\":\"" MEDIA_OCI_MANIFEST "\",\"layers\":[]}", NULL, -EBADMSG,
         "parse manifest: required field 'config' is missing"},
        {"{\"mediaType\":\"" MEDIA_OCI_INDEX "\"}", NULL, -EBADMSG,
         "parse index: required field 'manifests' is missing"},
        {"{\"config\":{\"mediaType\":\"x\",\"digest\":\"" DA "\",\"size\":1}}", NULL, -EBADMSG,
         "parse manifest: required field 'layers' is missing"},
        {"{\"config\":{\"mediaType\":\"x\",\"digest\":\"" DA "\"},\"layers\":[]}", NULL, -EBADMSG,
         "parse manifest: config: required field 'size' is missing"},
        {"{\"config\":{\"mediaType\":\"x\",\"digest\":\"sha256:12\",\"size\":1},\"layers\":[]}",
         NULL, -EBADMSG, "parse manifest: config: malformed digest 'sha256:12'"},
        {"{\"config\":{\"digest\":\"" DA "\",\"size\":1},\"layers\":[]}", NULL, -EBADMSG,
         "parse manifest: config: required field 'mediaType' is missing"},
        {"{\"config\":{\"mediaType\":\"x\",\"digest\":\"" DA "\",\"size\":-1},\"layers\":[]}", NULL,
         -EBADMSG, "parse manifest: config: field 'size' is not a non-negative integer"},
        {"{\"config\":{\"mediaType\":\"x\",\"digest\":\"" DA "\",\"size\":1},\"layers\":[1]}", NULL,
         -EBADMSG, "parse manifest: layers[0]: descriptor is not an object"},
        {"{\"config\":{\"mediaType\":\"x\",\"digest\":\"" DA "\",\"size\":1},\"layers\":"
         "[{\"mediaType\":\"x\",\"digest\":\"" DA "\",\"size\":1,\"urls\":[3]}]}",
         NULL, -EBADMSG, "parse manifest: layers[0]: urls: not a string of at most 2048 bytes"},
        {"{\"manifests\":[{\"mediaType\":\"x\",\"digest\":\"" DA "\",\"size\":1,\"platform\":"
         "{\"os\":\"linux\"}}]}",
         NULL, -EBADMSG,
         "parse index: manifests[0]: platform: required field 'architecture' is missing"},
};

static void test_bad(void)
{
        for (size_t i = 0; i < ARRAY_SIZE(bads); i++) {
                struct manifest *m = NULL;
                struct lerr *err = NULL;
                int r = manifest_parse(bads[i].json, strlen(bads[i].json), bads[i].content_type, &m,
                                       &err);
                is_int(r, bads[i].code, "refuse bad manifest %zu", i);
                is_str(lerr_message(err), bads[i].msg, "message for bad manifest %zu", i);
                ok(m == NULL, "no output for bad manifest %zu", i);
                lerr_free(err);
        }
}

static void test_inference(void)
{
        struct manifest *m = NULL;
        /* no mediaType field: the Content-Type decides, parameters ignored */
        const char *idx = "{\"schemaVersion\":2,\"manifests\":[]}";
        is_int(manifest_parse(idx, strlen(idx), MEDIA_DOCKER_LIST "; charset=utf-8", &m, NULL), 0,
               "index by Content-Type");
        is_str(m->media_type, MEDIA_DOCKER_LIST, "media type from Content-Type");
        manifest_free(m);
        /* neither: the shape decides, OCI by default */
        is_int(manifest_parse(idx, strlen(idx), "application/json", &m, NULL), 0, "index by shape");
        is_str(m->media_type, MEDIA_OCI_INDEX, "OCI index by shape");
        manifest_free(m);
        const char *img =
                "{\"config\":{\"mediaType\":\"x\",\"digest\":\"" DA "\",\"size\":1},\"layers\":[]}";
        is_int(manifest_parse(img, strlen(img), NULL, &m, NULL), 0, "image by shape");
        is_str(m->media_type, MEDIA_OCI_MANIFEST, "OCI manifest by shape");
        is_int(m->n_layers, 0, "no layers");
        manifest_free(m);
        /* the field wins over a Content-Type of the same kind */
        is_int(manifest_parse(docker_manifest, strlen(docker_manifest), MEDIA_OCI_MANIFEST, &m,
                              NULL),
               0, "field and header of the same kind");
        is_str(m->media_type, MEDIA_DOCKER_MANIFEST, "field wins");
        manifest_free(m);

        /* size limit */
        size_t n = MANIFEST_MAX_BYTES + 1;
        char *big = xmalloc(n);
        memset(big, ' ', n);
        struct lerr *err = NULL;
        is_int(manifest_parse(big, n, NULL, &m, &err), -E2BIG, "manifest over 4 MiB");
        is_str(lerr_message(err), "manifest is 4194305 bytes, over the limit of 4194304",
               "size limit message");
        lerr_free(err);
        free(big);

        struct descriptor copy;
        ok(manifest_parse(oci_manifest, strlen(oci_manifest), NULL, &m, NULL) == 0, "reparse");
        descriptor_copy(&copy, &m->layers[1]);
        manifest_free(m);
        ok(streq(copy.digest, DC) && streq(copy.urls[0], "https://example.com/blob"),
           "descriptor copy outlives its manifest");
        descriptor_done(&copy);
        ok(media_type_is_index(MEDIA_DOCKER_LIST) && !media_type_is_index(MEDIA_OCI_MANIFEST),
           "media_type_is_index");
        ok(media_type_is_image_manifest(MEDIA_DOCKER_MANIFEST) &&
                   !media_type_is_image_manifest(MEDIA_OCI_INDEX),
           "media_type_is_image_manifest");
        ok(!media_type_is_layer("application/json") && media_type_is_layer(MEDIA_DOCKER_FOREIGN),
           "media_type_is_layer");
}

int main(void)
{
        test_oci_manifest();
        test_docker_manifest();
        test_indexes();
        test_bad();
        test_inference();
        return tap_done();
}
