/* SPDX-License-Identifier: Apache-2.0 */
/* Manifests and indexes as a registry may send them, with platform selection. The first byte
 * picks the Content-Type the document comes with. */
#include <stdint.h>
#include <stdlib.h>

#include "common/err.h"
#include "registry/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const types[] = {NULL,
                                            MEDIA_OCI_MANIFEST,
                                            MEDIA_OCI_INDEX,
                                            MEDIA_DOCKER_MANIFEST,
                                            MEDIA_DOCKER_LIST,
                                            MEDIA_DOCKER_SCHEMA1_JWS,
                                            "application/json; charset=utf-8",
                                            "text/plain"};
        struct manifest *m = NULL;
        struct lerr *err = NULL;

        if (size < 1 || size > MANIFEST_MAX_BYTES)
                return 0;
        const char *ct = types[data[0] % 8];
        if (manifest_parse((const char *) data + 1, size - 1, ct, &m, &err) < 0) {
                lerr_free(err);
                return 0;
        }
        if (m->kind == MANIFEST_INDEX) {
                static const char *const wants[] = {"linux/amd64", "linux/arm64/v8", "linux/arm/v6",
                                                    "windows/amd64"};
                for (size_t i = 0; i < 4; i++) {
                        struct platform p;
                        const struct descriptor *d = NULL;
                        if (platform_parse(wants[i], &p, NULL) < 0)
                                abort();
                        err = NULL;
                        if (manifest_select_platform(m, &p, &d, &err) < 0)
                                lerr_free(err);
                        else if (!d || !d->platform)
                                abort();
                        platform_done(&p);
                }
        } else {
                struct descriptor copy;
                descriptor_copy(&copy, &m->config);
                descriptor_done(&copy);
                for (size_t i = 0; i < m->n_layers; i++)
                        (void) media_type_is_layer(m->layers[i].media_type);
        }
        manifest_free(m);
        return 0;
}
