/* SPDX-License-Identifier: Apache-2.0 */
/* Manifest and index parsing and platform selection. Works on bytes already received and
 * verified by the caller; knows nothing of HTTP. */
#include "registry/manifest.h"

#include <errno.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/digest.h"
#include "common/err.h"
#include "common/json.h"
#include "common/strv.h"

bool media_type_is_index(const char *mt)
{
        return mt && (streq(mt, MEDIA_OCI_INDEX) || streq(mt, MEDIA_DOCKER_LIST));
}

bool media_type_is_image_manifest(const char *mt)
{
        return mt && (streq(mt, MEDIA_OCI_MANIFEST) || streq(mt, MEDIA_DOCKER_MANIFEST));
}

bool media_type_is_schema1(const char *mt)
{
        return mt && (streq(mt, MEDIA_DOCKER_SCHEMA1) || streq(mt, MEDIA_DOCKER_SCHEMA1_JWS));
}

bool media_type_is_layer(const char *mt)
{
        static const char *const types[] = {
                MEDIA_OCI_LAYER,
                MEDIA_OCI_LAYER_GZIP,
                MEDIA_OCI_LAYER_ZSTD,
                MEDIA_DOCKER_LAYER_GZIP,
                MEDIA_DOCKER_FOREIGN,
                "application/vnd.oci.image.layer.nondistributable.v1.tar",
                "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
                "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
                "application/vnd.docker.image.rootfs.diff.tar",
                "application/vnd.docker.image.rootfs.diff.tar.zstd",
        };
        for (size_t i = 0; mt && i < ARRAY_SIZE(types); i++)
                if (streq(mt, types[i]))
                        return true;
        return false;
}

void descriptor_done(struct descriptor *d)
{
        free(d->media_type);
        free(d->digest);
        strv_free(d->urls);
        free(d->artifact_type);
        if (d->platform) {
                platform_done(d->platform);
                free(d->platform);
        }
        *d = (struct descriptor){0};
}

void descriptor_copy(struct descriptor *dst, const struct descriptor *src)
{
        *dst = (struct descriptor){.size = src->size};
        dst->media_type = src->media_type ? xstrdup(src->media_type) : NULL;
        dst->digest = src->digest ? xstrdup(src->digest) : NULL;
        dst->urls = src->urls ? strv_copy(src->urls) : NULL;
        dst->artifact_type = src->artifact_type ? xstrdup(src->artifact_type) : NULL;
        if (src->platform) {
                dst->platform = xcalloc(1, sizeof(*dst->platform));
                platform_copy(dst->platform, src->platform);
        }
}

void manifest_free(struct manifest *m)
{
        if (!m)
                return;
        free(m->media_type);
        descriptor_done(&m->config);
        for (size_t i = 0; i < m->n_layers; i++)
                descriptor_done(&m->layers[i]);
        free(m->layers);
        for (size_t i = 0; i < m->n_manifests; i++)
                descriptor_done(&m->manifests[i]);
        free(m->manifests);
        free(m);
}

static int parse_platform(const cJSON *j, struct platform **ret, struct lerr **err)
{
        const char *os, *arch, *variant, *osv;
        if (json_require_string(j, "os", &os, err) < 0 ||
            json_require_string(j, "architecture", &arch, err) < 0 ||
            json_get_string(j, "variant", &variant, err) < 0 ||
            json_get_string(j, "os.version", &osv, err) < 0)
                return lerr_wrap(err, "platform");
        if (strlen(os) > PLATFORM_PART_MAX || strlen(arch) > PLATFORM_PART_MAX ||
            (variant && strlen(variant) > PLATFORM_PART_MAX) || (osv && strlen(osv) > 256))
                return lerr_set(err, EBADMSG, "platform: field longer than allowed");
        struct platform *p = xcalloc(1, sizeof(*p));
        p->os = xstrdup(os);
        p->arch = xstrdup(arch);
        p->variant = variant && variant[0] ? xstrdup(variant) : NULL;
        p->os_version = osv && osv[0] ? xstrdup(osv) : NULL;
        *ret = p;
        return 0;
}

static int parse_descriptor(const cJSON *j, bool with_platform, struct descriptor *ret,
                            struct lerr **err)
{
        _cleanup_(descriptor_done) struct descriptor d = {0};
        const char *mt, *digest, *at;
        const cJSON *urls, *plat;
        bool present = false;

        if (!cJSON_IsObject(j))
                return lerr_set(err, EBADMSG, "descriptor is not an object");
        if (json_require_string(j, "mediaType", &mt, err) < 0 ||
            json_require_string(j, "digest", &digest, err) < 0 ||
            json_get_u64(j, "size", &d.size, &present, err) < 0 ||
            json_get_string(j, "artifactType", &at, err) < 0 ||
            json_get_array(j, "urls", &urls, err) < 0)
                return -EBADMSG;
        if (!present)
                return lerr_set(err, EBADMSG, "required field 'size' is missing");
        if (!digest_is_wellformed(digest) || strlen(digest) > 256)
                return lerr_set(err, EBADMSG, "malformed digest '%.80s'", digest);
        if (strlen(mt) > 255)
                return lerr_set(err, EBADMSG, "media type longer than 255 bytes");
        d.media_type = xstrdup(mt);
        d.digest = xstrdup(digest);
        d.artifact_type = at ? xstrndup(at, 255) : NULL;
        if (urls) {
                const cJSON *u;
                if (cJSON_GetArraySize(urls) > MANIFEST_MAX_URLS)
                        return lerr_set(err, E2BIG, "more than %d urls", MANIFEST_MAX_URLS);
                cJSON_ArrayForEach(u, urls)
                {
                        if (!cJSON_IsString(u) || strlen(u->valuestring) > 2048)
                                return lerr_set(err, EBADMSG,
                                                "urls: not a string of at most 2048 bytes");
                        strv_push(&d.urls, u->valuestring);
                }
        }
        if (with_platform) {
                if (json_get_object(j, "platform", &plat, err) < 0)
                        return -EBADMSG;
                if (plat && parse_platform(plat, &d.platform, err) < 0)
                        return -EBADMSG;
        }
        *ret = d;
        d = (struct descriptor){0};
        return 0;
}

static int parse_list(const cJSON *arr, bool with_platform, const char *what,
                      struct descriptor **ret, size_t *ret_n, struct lerr **err)
{
        int n = cJSON_GetArraySize(arr), i = 0;
        const cJSON *e;

        if (n > MANIFEST_MAX_ENTRIES)
                return lerr_set(err, E2BIG, "more than %d %s", MANIFEST_MAX_ENTRIES, what);
        struct descriptor *list = xcalloc((size_t) n + 1, sizeof(*list));
        cJSON_ArrayForEach(e, arr)
        {
                int r = parse_descriptor(e, with_platform, &list[i], err);
                if (r < 0) {
                        for (int k = 0; k < i; k++)
                                descriptor_done(&list[k]);
                        free(list);
                        return lerr_wrap(err, "%s[%d]", what, i);
                }
                i++;
        }
        *ret = list;
        *ret_n = (size_t) i;
        return 0;
}

/* "application/json; charset=utf-8" → "application/json" (a new string), or NULL. */
static char *bare_type(const char *ct)
{
        if (!ct)
                return NULL;
        while (*ct == ' ' || *ct == '\t')
                ct++;
        size_t n = strcspn(ct, "; \t");
        return n ? xstrndup(ct, n) : NULL;
}

static int decide_kind(const cJSON *j, const char *field_mt, const char *header_mt,
                       enum manifest_kind *ret_kind, const char **ret_mt, struct lerr **err)
{
        bool has_manifests = cJSON_GetObjectItemCaseSensitive(j, "manifests") != NULL;
        bool has_image = cJSON_GetObjectItemCaseSensitive(j, "config") != NULL ||
                         cJSON_GetObjectItemCaseSensitive(j, "layers") != NULL;

        if (has_manifests && has_image)
                return lerr_set(err, EBADMSG,
                                "document has both 'manifests' and 'layers' or "
                                "'config': neither a manifest nor an index");
        if (field_mt && (media_type_is_index(field_mt) || media_type_is_image_manifest(field_mt))) {
                if (header_mt &&
                    (media_type_is_index(header_mt) || media_type_is_image_manifest(header_mt)) &&
                    media_type_is_index(header_mt) != media_type_is_index(field_mt))
                        return lerr_set(err, EBADMSG,
                                        "mediaType '%s' contradicts Content-Type '%s'", field_mt,
                                        header_mt);
                *ret_mt = field_mt;
        } else if (field_mt) {
                return lerr_set(err, ENOTSUP, "unsupported manifest media type '%.100s'", field_mt);
        } else if (header_mt &&
                   (media_type_is_index(header_mt) || media_type_is_image_manifest(header_mt))) {
                *ret_mt = header_mt;
        } else {
                /* neither says: go by shape, as containerd does; OCI types by default */
                *ret_mt = has_manifests ? MEDIA_OCI_INDEX : MEDIA_OCI_MANIFEST;
        }
        *ret_kind = media_type_is_index(*ret_mt) ? MANIFEST_INDEX : MANIFEST_IMAGE;
        if (*ret_kind == MANIFEST_INDEX && has_image)
                return lerr_set(err, EBADMSG, "index has 'layers' or 'config'");
        if (*ret_kind == MANIFEST_IMAGE && has_manifests)
                return lerr_set(err, EBADMSG, "image manifest has 'manifests'");
        return 0;
}

static int refuse_schema1(struct lerr **err)
{
        return lerr_set(err, ENOTSUP,
                        "image uses a Docker schema 1 manifest, which is deprecated and not "
                        "supported; push it again with a current Docker, skopeo or crane");
}

static int parse_body(const cJSON *j, struct manifest *m, struct lerr **err)
{
        const cJSON *config, *layers, *manifests;

        if (m->kind == MANIFEST_INDEX) {
                if (json_get_array(j, "manifests", &manifests, err) < 0)
                        return -EBADMSG;
                if (!manifests)
                        return lerr_set(err, EBADMSG, "required field 'manifests' is missing");
                return parse_list(manifests, true, "manifests", &m->manifests, &m->n_manifests,
                                  err);
        }
        if (json_get_object(j, "config", &config, err) < 0 ||
            json_get_array(j, "layers", &layers, err) < 0)
                return -EBADMSG;
        if (!config)
                return lerr_set(err, EBADMSG, "required field 'config' is missing");
        if (!layers)
                return lerr_set(err, EBADMSG, "required field 'layers' is missing");
        if (parse_descriptor(config, false, &m->config, err) < 0)
                return lerr_wrap(err, "config");
        return parse_list(layers, false, "layers", &m->layers, &m->n_layers, err);
}

int manifest_parse(const char *data, size_t len, const char *content_type, struct manifest **ret,
                   struct lerr **err)
{
        _cleanup_(cJSON_Deletep) cJSON *j = NULL;
        _cleanup_(manifest_freep) struct manifest *m = NULL;
        _cleanup_free_ char *header_mt = bare_type(content_type);
        const char *field_mt = NULL, *mt = NULL;
        uint64_t version = 0;
        bool has_version = false;
        int r;

        if (media_type_is_schema1(header_mt))
                return refuse_schema1(err);
        r = json_parse(data, len, MANIFEST_MAX_BYTES, "manifest", &j, err);
        if (r < 0)
                return r;
        if (!cJSON_IsObject(j))
                return lerr_set(err, EBADMSG, "manifest is not a JSON object");
        if (json_get_u64(j, "schemaVersion", &version, &has_version, err) < 0 ||
            json_get_string(j, "mediaType", &field_mt, err) < 0)
                return lerr_wrap(err, "parse manifest");
        if (media_type_is_schema1(field_mt) || (has_version && version == 1) ||
            cJSON_GetObjectItemCaseSensitive(j, "fsLayers"))
                return refuse_schema1(err);
        if (has_version && version != 2)
                return lerr_set(err, ENOTSUP, "unsupported manifest schemaVersion %llu",
                                (unsigned long long) version);

        m = xcalloc(1, sizeof(*m));
        r = decide_kind(j, field_mt, header_mt, &m->kind, &mt, err);
        if (r < 0)
                return lerr_wrap(err, "parse manifest");
        m->media_type = xstrdup(mt);
        r = parse_body(j, m, err);
        if (r < 0)
                return lerr_wrap(err, "parse %s", m->kind == MANIFEST_INDEX ? "index" : "manifest");
        *ret = TAKE_PTR(m);
        return 0;
}

int manifest_select_platform(const struct manifest *index, const struct platform *want,
                             const struct descriptor **ret, struct lerr **err)
{
        const struct descriptor *best = NULL;
        int best_rank = -1;

        for (size_t i = 0; i < index->n_manifests; i++) {
                const struct descriptor *d = &index->manifests[i];
                if (!d->platform)
                        continue;
                int rank = platform_match_rank(want, d->platform);
                if (rank >= 0 && (best_rank < 0 || rank < best_rank)) {
                        best = d;
                        best_rank = rank;
                }
        }
        if (best) {
                *ret = best;
                return 0;
        }

        struct buf avail = BUF_INIT(4096);
        for (size_t i = 0; i < index->n_manifests; i++) {
                const struct descriptor *d = &index->manifests[i];
                if (!d->platform)
                        continue;
                _cleanup_free_ char *s = platform_string(d->platform);
                /* attestation manifests carry "unknown/unknown": not a choice for the user */
                if (streq(s, "unknown/unknown"))
                        continue;
                if (buf_printf(&avail, "%s%s", avail.len ? ", " : "", s) < 0)
                        break;
        }
        _cleanup_free_ char *w = platform_string(want);
        _cleanup_free_ char *a = buf_steal(&avail);
        return lerr_set(err, ENOENT, "no manifest for platform '%s' in the index (it has: %s)", w,
                        a[0] ? a : "none");
}
