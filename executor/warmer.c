/* SPDX-License-Identifier: Apache-2.0 */
/* The base-image cache: warming an image into an OCI layout, and loading it back for a build.
 * The command line of the warmer is in warmer_cli.c. */
#include "executor/warmer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/log.h"
#include "common/strv.h"
#include "executor/cache_store.h"
#include "executor/image_config.h"
#include "executor/oci_layout.h"
#include "registry/registry.h"

static char *now_rfc3339(void)
{
        struct timespec ts;
        struct tm tm;
        char s[64];
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
        return xstrdup(s);
}

/* Whether the entry was warmed less than ttl_ns ago; its age in *ret_age. */
static bool fresh(const struct oci_layout_entry *e, int64_t ttl_ns, int64_t *ret_age)
{
        const char *warmed = oci_layout_entry_annotation(e, WARM_ANN_WARMED);
        int64_t t;
        if (!warmed || cache_parse_time(warmed, &t) < 0)
                return false;
        *ret_age = (int64_t) time(NULL) - t;
        return *ret_age <= ttl_ns / 1000000000LL;
}

static bool has_all_layers(struct oci_layout *l, const struct manifest *m)
{
        for (size_t i = 0; i < m->n_layers; i++)
                if (!oci_layout_has_blob(l, m->layers[i].digest))
                        return false;
        return oci_layout_has_blob(l, m->config.digest);
}

int warm_load(struct oci_layout *l, const struct image_ref *ref, const struct platform *platform,
              int64_t ttl_ns, struct reg_image **ret, struct lerr **err)
{
        _cleanup_free_ char *name = image_ref_string(ref);
        struct oci_layout_entry le = {0};
        int64_t age = 0;
        int r = oci_layout_find(l, name, platform, &le, err);
        if (r <= 0)
                return r;
        if (!fresh(&le, ttl_ns, &age)) {
                log_info("Cached base image %s has expired (warmed %llds ago), pulling it", name,
                         (long long) age);
                oci_layout_entry_done(&le);
                return 0;
        }
        _cleanup_(reg_image_freep) struct reg_image *img = xcalloc(1, sizeof(*img));
        r = oci_layout_read_blob(l, le.desc.digest, MANIFEST_MAX_BYTES, &img->manifest,
                                 &img->manifest_len, err);
        if (r >= 0)
                r = manifest_parse(img->manifest, img->manifest_len, le.desc.media_type,
                                   &img->parsed, err);
        if (r >= 0 && img->parsed->kind != MANIFEST_IMAGE)
                r = lerr_set(err, EBADMSG, "'%s' is not an image manifest", le.desc.digest);
        if (r >= 0 && !has_all_layers(l, img->parsed)) {
                log_info("Cached base image %s is incomplete, pulling it", name);
                oci_layout_entry_done(&le);
                return 0;
        }
        if (r >= 0)
                r = oci_layout_read_blob(l, img->parsed->config.digest, CONFIG_MAX_BYTES,
                                         &img->config, &img->config_len, err);
        if (r < 0) {
                oci_layout_entry_done(&le);
                return lerr_wrap(err, "cached base image %s", name);
        }
        const char *index = oci_layout_entry_annotation(&le, WARM_ANN_INDEX_DIGEST);
        img->source = image_ref_dup(ref);
        img->digest = xstrdup(le.desc.digest);
        img->index_digest = index ? xstrdup(index) : NULL;
        img->media_type =
                xstrdup(img->parsed->media_type ? img->parsed->media_type : le.desc.media_type);
        oci_layout_entry_done(&le);
        log_info("Found %s in the base-image cache %s (%s)", name, oci_layout_path(l), img->digest);
        *ret = TAKE_PTR(img);
        return 1;
}

/* The platform an image is for, from its config (what the index said may be less precise). */
static int config_platform(const struct reg_image *img, struct platform *ret, struct lerr **err)
{
        _cleanup_(image_config_freep) struct image_config *c = NULL;
        int r = image_config_parse(img->config, img->config_len, &c, err);
        if (r < 0)
                return r;
        *ret = (struct platform){
                .os = xstrdup(c->os ? c->os : "linux"),
                .arch = xstrdup(c->architecture ? c->architecture : "amd64"),
                .variant = c->variant && *c->variant ? xstrdup(c->variant) : NULL,
        };
        return 0;
}

static int fetch_layers(struct reg_client *reg, struct oci_layout *l, const struct reg_image *img,
                        struct lerr **err)
{
        const struct manifest *m = img->parsed;
        struct reg_fetch *jobs = xcalloc(m->n_layers + 1, sizeof(*jobs));
        char **paths = xcalloc(m->n_layers + 1, sizeof(char *));
        size_t n = 0;
        for (size_t i = 0; i < m->n_layers; i++) {
                const struct descriptor *d = &m->layers[i];
                if (oci_layout_has_blob(l, d->digest))
                        continue;
                bool dup = false; /* the same layer twice: one download */
                for (size_t k = 0; k < n; k++)
                        dup |= streq(jobs[k].desc->digest, d->digest);
                if (dup)
                        continue;
                paths[n] = xasprintf("blobs/sha256/%s", digest_hex(d->digest));
                jobs[n] = (struct reg_fetch){
                        .desc = d, .dir_fd = oci_layout_dir_fd(l), .path = paths[n]};
                n++;
        }
        int r = n ? reg_blobs_fetch(reg, img->source, jobs, n, err) : 0;
        strv_free(paths);
        free(jobs);
        return r;
}

int warm_image(struct reg_client *reg, struct oci_layout *l, const struct image_ref *ref,
               const struct platform *platform, int64_t ttl_ns, bool force, struct lerr **err)
{
        _cleanup_free_ char *name = image_ref_string(ref);
        _cleanup_(reg_image_freep) struct reg_image *img = NULL;
        struct oci_layout_entry old = {0};
        int64_t age = 0;
        int r = reg_image_resolve(reg, ref, platform, &img, err);
        if (r < 0)
                return r;
        r = oci_layout_find(l, name, platform, &old, err);
        if (r < 0)
                return r;
        bool same = r > 0 && streq(old.desc.digest, img->digest) && fresh(&old, ttl_ns, &age) &&
                    has_all_layers(l, img->parsed);
        oci_layout_entry_done(&old);
        if (same && !force) {
                log_info("Image %s (%s) is in the cache already, warmed %llds ago", name,
                         img->digest, (long long) age);
                return 0;
        }
        char cd[DIGEST_STRING_SIZE], md[DIGEST_STRING_SIZE];
        struct platform p = {0};
        r = fetch_layers(reg, l, img, err);
        if (r >= 0)
                r = oci_layout_put_blob(l, img->config, img->config_len, cd, err);
        if (r >= 0)
                r = oci_layout_put_blob(l, img->manifest, img->manifest_len, md, err);
        if (r >= 0 && (!streq(cd, img->parsed->config.digest) || !streq(md, img->digest)))
                r = lerr_set(err, EBADMSG, "the manifest or config of '%s' changed while stored",
                             name);
        if (r >= 0)
                r = config_platform(img, &p, err);
        if (r < 0) {
                platform_done(&p);
                return lerr_wrap(err, "warm '%s'", name);
        }
        _cleanup_(strv_freep) char **ann = NULL;
        _cleanup_free_ char *now = now_rfc3339();
        strv_consume(&ann, xasprintf("%s=%s", WARM_ANN_WARMED, now));
        if (img->index_digest)
                strv_consume(&ann, xasprintf("%s=%s", WARM_ANN_INDEX_DIGEST, img->index_digest));
        struct oci_layout_entry e = {
                .desc = {.media_type = img->media_type,
                         .digest = img->digest,
                         .size = img->manifest_len,
                         .platform = &p},
                .annotations = ann,
        };
        r = oci_layout_put(l, name, &e, err);
        platform_done(&p);
        if (r < 0)
                return lerr_wrap(err, "warm '%s'", name);
        log_info("Warmed %s (%s): %zu layers", name, img->digest, img->parsed->n_layers);
        return 1;
}
