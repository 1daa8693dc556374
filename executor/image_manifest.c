/* SPDX-License-Identifier: Apache-2.0 */
/* Manifest JSON for new images. Field order follows the image-spec and distribution docs so
 * that the bytes (and thus the digest) are stable. */
#include "executor/image_manifest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/json.h"
#include "common/strv.h"

const char *image_format_manifest_type(enum image_format f)
{
        return f == IMAGE_FORMAT_OCI ? MEDIA_OCI_MANIFEST : MEDIA_DOCKER_MANIFEST;
}

const char *image_format_config_type(enum image_format f)
{
        return f == IMAGE_FORMAT_OCI ? MEDIA_OCI_CONFIG : MEDIA_DOCKER_CONFIG;
}

int image_format_layer_type(enum image_format f, enum layer_compression c, const char **ret)
{
        if (f == IMAGE_FORMAT_DOCKER) {
                if (c != LAYER_GZIP)
                        return -EINVAL;
                *ret = MEDIA_DOCKER_LAYER_GZIP;
                return 0;
        }
        *ret = c == LAYER_GZIP   ? MEDIA_OCI_LAYER_GZIP
               : c == LAYER_ZSTD ? MEDIA_OCI_LAYER_ZSTD
                                 : MEDIA_OCI_LAYER;
        return 0;
}

int image_format_from_media_type(const char *media_type, enum image_format *ret)
{
        if (streq(media_type, MEDIA_DOCKER_MANIFEST) || streq(media_type, MEDIA_DOCKER_LIST))
                *ret = IMAGE_FORMAT_DOCKER;
        else if (streq(media_type, MEDIA_OCI_MANIFEST) || streq(media_type, MEDIA_OCI_INDEX))
                *ret = IMAGE_FORMAT_OCI;
        else
                return -EINVAL;
        return 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static void add_annotations(cJSON *o, char *const *annotations)
{
        if (!annotations || !annotations[0])
                return;
        _cleanup_(strv_freep) char **sorted = strv_copy(annotations);
        qsort(sorted, strv_length(sorted), sizeof(char *), cmp_str);
        cJSON *a = json_add_object(o, "annotations");
        strv_foreach (kv, sorted) {
                _cleanup_free_ char *key = xstrdup(kv);
                char *eq = strchr(key, '=');
                if (eq)
                        *eq = '\0';
                json_add_string(a, key, eq ? eq + 1 : "");
        }
}

static cJSON *descriptor_json(const struct descriptor *d)
{
        cJSON *o = json_new_object();
        json_add_string(o, "mediaType", d->media_type);
        if (!cJSON_AddNumberToObject(o, "size", (double) d->size))
                oom();
        json_add_string(o, "digest", d->digest);
        if (d->urls && d->urls[0]) {
                cJSON *u = json_add_array(o, "urls");
                strv_foreach (s, d->urls)
                        json_array_add_string(u, s);
        }
        return o;
}

char *image_manifest_build(enum image_format f, const struct descriptor *config,
                           const struct descriptor *layers, size_t n_layers,
                           char *const *annotations)
{
        _cleanup_(cJSON_Deletep) cJSON *m = json_new_object();
        if (!cJSON_AddNumberToObject(m, "schemaVersion", 2))
                oom();
        json_add_string(m, "mediaType", image_format_manifest_type(f));
        if (!cJSON_AddItemToObject(m, "config", descriptor_json(config)))
                oom();
        cJSON *l = json_add_array(m, "layers");
        for (size_t i = 0; i < n_layers; i++)
                if (!cJSON_AddItemToArray(l, descriptor_json(&layers[i])))
                        oom();
        add_annotations(m, annotations);
        return json_print(m);
}
