/* SPDX-License-Identifier: Apache-2.0 */
/* Cached steps as small OCI images in a registry repository or an OCI layout: lookups by tag,
 * entries written layer first and manifest last (so a tag never names missing blobs). Does
 * not decide what to cache or when (cache.c does). */
#include "executor/cache_store.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strv.h"
#include "executor/blobstore.h"
#include "executor/image_config.h"
#include "executor/image_manifest.h"
#include "executor/oci_layout.h"
#include "registry/registry.h"

#define PROBE_TAG "lading-cache-probe"

struct cache_store {
        char *name;
        struct reg_client *reg; /* registry store */
        struct image_ref *repo; /* registry store */
        struct oci_layout *oci; /* layout store */
};

void cache_entry_done(struct cache_entry *e)
{
        descriptor_done(&e->layer);
        free(e->created_by);
        e->created_by = NULL;
}

int cache_store_open(const char *spec, struct reg_client *reg, struct cache_store **ret,
                     struct lerr **err)
{
        _cleanup_(cache_store_freep) struct cache_store *cs = xcalloc(1, sizeof(*cs));
        const char *path = startswith(spec, "oci:");
        int r;
        if (path) {
                if (!*path)
                        return lerr_set(err, EINVAL, "--cache-repo 'oci:' names no directory");
                r = oci_layout_open(path, true, &cs->oci, err);
                if (r < 0)
                        return r;
                cs->name = xstrdup(spec);
        } else {
                r = image_ref_parse_repo(spec, &cs->repo, err);
                if (r < 0)
                        return lerr_wrap(err, "--cache-repo");
                if (cs->repo->tag || cs->repo->digest)
                        return lerr_set(err, EINVAL,
                                        "--cache-repo '%s' must name a repository, without a tag "
                                        "or digest",
                                        spec);
                cs->reg = reg;
                cs->name = xstrdup(cs->repo->name);
        }
        *ret = TAKE_PTR(cs);
        return 0;
}

void cache_store_free(struct cache_store *cs)
{
        if (!cs)
                return;
        free(cs->name);
        image_ref_free(cs->repo);
        oci_layout_free(cs->oci);
        free(cs);
}

const char *cache_store_name(const struct cache_store *cs)
{
        return cs->name;
}

const struct image_ref *cache_store_repo(const struct cache_store *cs)
{
        return cs->repo;
}

int cache_store_blobs_fd(const struct cache_store *cs)
{
        return cs->oci ? oci_layout_blobs_fd(cs->oci) : -1;
}

/* ---- entries ---- */

static char *format_time(int64_t t)
{
        struct tm tm;
        time_t tt = (time_t) t;
        char s[64];
        gmtime_r(&tt, &tm);
        strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
        return xstrdup(s);
}

int cache_parse_time(const char *s, int64_t *ret)
{
        struct tm tm = {0};
        const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!rest)
                return -EINVAL;
        if (*rest == '.') {
                rest++;
                if (!isdigit((unsigned char) *rest))
                        return -EINVAL;
                while (isdigit((unsigned char) *rest))
                        rest++;
        }
        if (!streq(rest, "Z"))
                return -EINVAL;
        *ret = (int64_t) timegm(&tm);
        return 0;
}

static const char *oci_layer_type(const char *mt)
{
        if (streq(mt, MEDIA_DOCKER_LAYER_GZIP))
                return MEDIA_OCI_LAYER_GZIP;
        return mt;
}

void cache_entry_encode(const char *key, const struct cache_entry *e, const char *os,
                        const char *arch, const char *variant, char **ret_config,
                        char **ret_manifest)
{
        _cleanup_free_ char *created = format_time(e->created);
        _cleanup_(image_config_freep) struct image_config *c = image_config_new(os, arch, variant);
        image_config_set_string(&c->created, created);
        if (e->has_layer)
                image_config_add_layer(c, e->diff_id);
        image_config_add_history(c, created, e->created_by ? e->created_by : "",
                                 "lading layer cache", !e->has_layer);
        image_config_set_label(c, CACHE_ANN_KEY, key);
        char *config = image_config_to_json(c);
        char cd[DIGEST_STRING_SIZE];
        digest_buffer(config, strlen(config), cd);
        struct descriptor cfg = {
                .media_type = (char *) MEDIA_OCI_CONFIG, .digest = cd, .size = strlen(config)};
        struct descriptor layer = e->layer;
        if (e->has_layer)
                layer.media_type = (char *) oci_layer_type(e->layer.media_type);
        _cleanup_(strv_freep) char **ann = NULL;
        strv_consume(&ann, xasprintf("%s=%s", CACHE_ANN_KEY, key));
        strv_consume(&ann, xasprintf("%s=%s", CACHE_ANN_CREATED, created));
        if (e->has_layer)
                strv_consume(&ann, xasprintf("%s=%s", CACHE_ANN_DIFF_ID, e->diff_id));
        if (e->created_by)
                strv_consume(&ann, xasprintf("%s=%s", CACHE_ANN_CREATED_BY, e->created_by));
        *ret_manifest =
                image_manifest_build(IMAGE_FORMAT_OCI, &cfg, &layer, e->has_layer ? 1 : 0, ann);
        *ret_config = config;
}

static int decode_layer(const cJSON *layers, const cJSON *ann, struct cache_entry *e,
                        struct lerr **err)
{
        const cJSON *l = cJSON_GetArrayItem(layers, 0);
        const char *mt = NULL, *dg = NULL, *diff = NULL;
        uint64_t size = 0;
        bool has_size = false;
        int r = json_require_string(l, "mediaType", &mt, err);
        if (r >= 0)
                r = json_require_string(l, "digest", &dg, err);
        if (r >= 0)
                r = json_get_u64(l, "size", &size, &has_size, err);
        if (r >= 0)
                r = json_get_string(ann, CACHE_ANN_DIFF_ID, &diff, err);
        if (r < 0)
                return r;
        if (!has_size || !digest_is_valid(dg) || !diff || !digest_is_valid(diff) ||
            !media_type_is_layer(mt))
                return 0;
        e->has_layer = true;
        e->layer.media_type = xstrdup(mt);
        e->layer.digest = xstrdup(dg);
        e->layer.size = size;
        memcpy(e->diff_id, diff, DIGEST_STRING_SIZE);
        return 1;
}

int cache_entry_decode(const char *manifest, size_t len, const char *key, struct cache_entry *ret,
                       struct lerr **err)
{
        _cleanup_(cJSON_Deletep) cJSON *m = NULL;
        const cJSON *ann = NULL, *layers = NULL;
        const char *k = NULL, *created = NULL, *by = NULL;
        int r = json_parse(manifest, len, MANIFEST_MAX_BYTES, "cache manifest", &m, err);
        if (r >= 0)
                r = json_get_object(m, "annotations", &ann, err);
        if (r >= 0)
                r = json_get_array(m, "layers", &layers, err);
        if (r >= 0 && ann)
                r = json_get_string(ann, CACHE_ANN_KEY, &k, err);
        if (r >= 0 && ann)
                r = json_get_string(ann, CACHE_ANN_CREATED, &created, err);
        if (r >= 0 && ann)
                r = json_get_string(ann, CACHE_ANN_CREATED_BY, &by, err);
        if (r < 0)
                return r;
        struct cache_entry e = {0};
        if (!k || !streq(k, key) || !created || cache_parse_time(created, &e.created) < 0 ||
            !layers || cJSON_GetArraySize(layers) > 1)
                return 0;
        if (cJSON_GetArraySize(layers) == 1) {
                r = decode_layer(layers, ann, &e, err);
                if (r <= 0) {
                        cache_entry_done(&e);
                        return r;
                }
        }
        e.created_by = by ? xstrdup(by) : NULL;
        *ret = e;
        return 1;
}

/* ---- registry ---- */

/* "not found" is an answer, not an error */
static void clear_err(struct lerr **err)
{
        if (err) {
                lerr_free(*err);
                *err = NULL;
        }
}

static int repo_tag(const struct cache_store *cs, const char *tag, struct image_ref **ret,
                    struct lerr **err)
{
        return image_ref_from_parts(cs->repo->domain, cs->repo->path, tag, NULL, ret, err);
}

int cache_store_probe(struct cache_store *cs, bool push, struct lerr **err)
{
        if (cs->oci)
                return 0;
        if (push)
                return reg_check_push(cs->reg, cs->repo, err);
        _cleanup_(image_ref_freep) struct image_ref *ref = NULL;
        struct reg_manifest_raw raw = {0};
        int r = repo_tag(cs, PROBE_TAG, &ref, err);
        if (r < 0)
                return r;
        r = reg_manifest_get(cs->reg, ref, &raw, err);
        reg_manifest_raw_done(&raw);
        if (r == -ENOENT) {
                clear_err(err);
                r = 0;
        }
        return r;
}

static int registry_get(struct cache_store *cs, const char *key, struct cache_entry *ret,
                        struct lerr **err)
{
        _cleanup_(image_ref_freep) struct image_ref *ref = NULL;
        struct reg_manifest_raw raw = {0};
        int r = repo_tag(cs, digest_hex(key), &ref, err);
        if (r < 0)
                return r;
        r = reg_manifest_get(cs->reg, ref, &raw, err);
        if (r == -ENOENT) {
                clear_err(err);
                return 0;
        }
        if (r >= 0)
                r = cache_entry_decode(raw.data, raw.len, key, ret, err);
        reg_manifest_raw_done(&raw);
        return r;
}

struct mem_source {
        const char *data;
        size_t len, off;
};

static ssize_t mem_read(void *userdata, void *buf, size_t n)
{
        struct mem_source *m = userdata;
        size_t k = MIN(n, m->len - m->off);
        memcpy(buf, m->data + m->off, k);
        m->off += k;
        return (ssize_t) k;
}

static int mem_rewind(void *userdata)
{
        ((struct mem_source *) userdata)->off = 0;
        return 0;
}

static int push_mem(struct cache_store *cs, const char *data, struct lerr **err)
{
        char digest[DIGEST_STRING_SIZE];
        struct mem_source m = {.data = data, .len = strlen(data)};
        digest_buffer(data, m.len, digest);
        struct reg_push p = {
                .digest = digest,
                .size = m.len,
                .src = {.fd = -1, .read = mem_read, .rewind = mem_rewind, .userdata = &m},
        };
        return reg_blob_push(cs->reg, cs->repo, &p, err);
}

static int registry_put(struct cache_store *cs, const char *key, const struct cache_entry *e,
                        const char *config, const char *manifest, struct blobstore *bs,
                        struct lerr **err)
{
        int r = 0;
        if (e->has_layer) {
                _cleanup_close_ int fd = blobstore_open_blob(bs, e->layer.digest);
                if (fd < 0)
                        return lerr_errno(err, fd, "open layer %s", e->layer.digest);
                struct reg_push p = {
                        .digest = e->layer.digest, .size = e->layer.size, .src = {.fd = fd}};
                r = reg_blob_push(cs->reg, cs->repo, &p, err);
        }
        if (r >= 0)
                r = push_mem(cs, config, err);
        _cleanup_(image_ref_freep) struct image_ref *ref = NULL;
        if (r >= 0)
                r = repo_tag(cs, digest_hex(key), &ref, err);
        char digest[DIGEST_STRING_SIZE];
        if (r >= 0)
                r = reg_manifest_put(cs->reg, ref, MEDIA_OCI_MANIFEST, manifest, strlen(manifest),
                                     digest, err);
        return r;
}

/* ---- OCI layout ---- */

static int layout_get(struct cache_store *cs, const char *key, struct cache_entry *ret,
                      struct lerr **err)
{
        struct oci_layout_entry le = {0};
        int r = oci_layout_find(cs->oci, digest_hex(key), NULL, &le, err);
        if (r <= 0)
                return r;
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        r = oci_layout_read_blob(cs->oci, le.desc.digest, MANIFEST_MAX_BYTES, &data, &len, err);
        oci_layout_entry_done(&le);
        if (r < 0)
                return r;
        r = cache_entry_decode(data, len, key, ret, err);
        if (r > 0 && ret->has_layer && !oci_layout_has_blob(cs->oci, ret->layer.digest)) {
                cache_entry_done(ret);
                return 0;
        }
        return r;
}

static int layout_put(struct cache_store *cs, const char *key, const struct cache_entry *e,
                      const char *config, const char *manifest, struct blobstore *bs,
                      struct lerr **err)
{
        char cd[DIGEST_STRING_SIZE], md[DIGEST_STRING_SIZE];
        int r = 0;
        if (e->has_layer && !oci_layout_has_blob(cs->oci, e->layer.digest)) {
                _cleanup_close_ int fd = blobstore_open_blob(bs, e->layer.digest);
                r = fd < 0 ? lerr_errno(err, fd, "open layer %s", e->layer.digest)
                           : oci_layout_import_blob(cs->oci, fd, e->layer.digest, err);
        }
        if (r >= 0)
                r = oci_layout_put_blob(cs->oci, config, strlen(config), cd, err);
        if (r >= 0)
                r = oci_layout_put_blob(cs->oci, manifest, strlen(manifest), md, err);
        if (r < 0)
                return r;
        struct oci_layout_entry le = {
                .desc = {.media_type = (char *) MEDIA_OCI_MANIFEST,
                         .digest = md,
                         .size = strlen(manifest)},
        };
        return oci_layout_put(cs->oci, digest_hex(key), &le, err);
}

int cache_store_get(struct cache_store *cs, const char *key, struct cache_entry *ret,
                    struct lerr **err)
{
        if (!digest_is_valid(key))
                return lerr_set(err, EINVAL, "invalid cache key '%s'", key);
        int r = cs->oci ? layout_get(cs, key, ret, err) : registry_get(cs, key, ret, err);
        if (r < 0)
                return lerr_wrap(err, "look up %s in '%s'", key, cs->name);
        return r;
}

int cache_store_put(struct cache_store *cs, const char *key, const struct cache_entry *e,
                    const char *os, const char *arch, const char *variant, struct blobstore *bs,
                    struct lerr **err)
{
        _cleanup_free_ char *config = NULL, *manifest = NULL;
        if (!digest_is_valid(key))
                return lerr_set(err, EINVAL, "invalid cache key '%s'", key);
        cache_entry_encode(key, e, os, arch, variant, &config, &manifest);
        int r = cs->oci ? layout_put(cs, key, e, config, manifest, bs, err)
                        : registry_put(cs, key, e, config, manifest, bs, err);
        if (r < 0)
                return lerr_wrap(err, "store %s in '%s'", key, cs->name);
        return 0;
}
