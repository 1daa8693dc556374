/* SPDX-License-Identifier: Apache-2.0 */
#include "executor/image_manifest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

int main(void)
{
        const char *t;
        enum image_format f;
        is_int(image_format_layer_type(IMAGE_FORMAT_DOCKER, LAYER_GZIP, &t), 0, "docker gzip");
        is_str(t, MEDIA_DOCKER_LAYER_GZIP, "docker layer type");
        is_int(image_format_layer_type(IMAGE_FORMAT_DOCKER, LAYER_ZSTD, &t), -EINVAL,
               "docker has no zstd layers");
        is_int(image_format_layer_type(IMAGE_FORMAT_OCI, LAYER_ZSTD, &t), 0, "oci zstd");
        is_str(t, MEDIA_OCI_LAYER_ZSTD, "oci zstd type");
        is_int(image_format_from_media_type(MEDIA_DOCKER_LIST, &f), 0, "docker list");
        is_int(f, IMAGE_FORMAT_DOCKER, "docker list is docker");
        is_int(image_format_from_media_type(MEDIA_OCI_MANIFEST, &f), 0, "oci manifest");
        is_int(f, IMAGE_FORMAT_OCI, "oci");
        is_int(image_format_from_media_type("application/json", &f), -EINVAL, "unknown");

        struct descriptor cfg = {
                .media_type = MEDIA_OCI_CONFIG,
                .size = 2,
                .digest = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
        };
        struct descriptor layers[2] = {
                {.media_type = MEDIA_OCI_LAYER_GZIP,
                 .size = 100,
                 .digest =
                         "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
                {.media_type = MEDIA_OCI_LAYER_GZIP,
                 .size = 5000000000ULL,
                 .digest =
                         "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"},
        };
        char *ann[] = {"org.opencontainers.image.created=2025", NULL};
        _cleanup_free_ char *m = image_manifest_build(IMAGE_FORMAT_OCI, &cfg, layers, 2, ann);
        is_str(m,
               "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
               "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"size\":2,"
               "\"digest\":\"sha256:"
               "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\"},"
               "\"layers\":[{\"mediaType\":\"application/"
               "vnd.oci.image.layer.v1.tar+gzip\",\"size\":100,"
               "\"digest\":\"sha256:"
               "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"},"
               "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"size\":5000000000,"
               "\"digest\":\"sha256:"
               "5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef\"}],"
               "\"annotations\":{\"org.opencontainers.image.created\":\"2025\"}}",
               "OCI manifest, sizes over 2^32 exact, manifest annotations");
        return tap_done();
}
