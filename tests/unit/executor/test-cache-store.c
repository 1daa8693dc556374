/* SPDX-License-Identifier: Apache-2.0 */
/* Cache entries (their manifest, both ways), the OCI layout store (oci: cache repositories and
 * the warmer's --cache-dir) and the blobstore's fallback directories, in scratch dirs under
 * /tmp. The registry side is covered by tests/integration/cache. */
#include "executor/cache_store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/strv.h"
#include "executor/blobstore.h"
#include "executor/oci_layout.h"
#include "registry/platform.h"
#include "tap.h"

#define KEY  "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define KEY2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define DIFF "sha256:3333333333333333333333333333333333333333333333333333333333333333"

static char base[] = "/tmp/lading-test-cache-store-XXXXXX";

static struct cache_entry layer_entry(const char *digest, uint64_t size)
{
        struct cache_entry e = {.has_layer = true, .created = 1700000000};
        e.layer.media_type = xstrdup(MEDIA_DOCKER_LAYER_GZIP);
        e.layer.digest = xstrdup(digest);
        e.layer.size = size;
        memcpy(e.diff_id, DIFF, DIGEST_STRING_SIZE);
        e.created_by = xstrdup("RUN make \"all\"");
        return e;
}

static void test_time(void)
{
        int64_t t = 0;
        is_int(cache_parse_time("2023-11-14T22:13:20Z", &t), 0, "parse a time");
        is_int(t, 1700000000, "its seconds");
        is_int(cache_parse_time("2023-11-14T22:13:20.123456789Z", &t), 0, "fractional seconds");
        is_int(t, 1700000000, "are dropped");
        is_int(cache_parse_time("2023-11-14T22:13:20+01:00", &t), -EINVAL, "only UTC (Z)");
        is_int(cache_parse_time("2023-11-14T22:13:20.Z", &t), -EINVAL, "a dot needs digits");
        is_int(cache_parse_time("yesterday", &t), -EINVAL, "not a time");
        is_int(cache_parse_time("2023-11-14T22:13:20Zx", &t), -EINVAL, "trailing text");
}

static void test_codec(void)
{
        struct cache_entry e =
                layer_entry("sha256:"
                            "4444444444444444444444444444444444444444444444444444444444444444",
                            1234);
        _cleanup_free_ char *config = NULL, *manifest = NULL;
        cache_entry_encode(KEY, &e, "linux", "arm64", "v8", &config, &manifest);
        ok(strstr(manifest, "\"mediaType\":\"" MEDIA_OCI_MANIFEST "\"") != NULL, "an OCI manifest");
        ok(strstr(manifest, MEDIA_OCI_LAYER_GZIP) != NULL,
           "a Docker gzip layer is written with the OCI type");
        ok(strstr(manifest, "\"" CACHE_ANN_CREATED "\":\"2023-11-14T22:13:20Z\"") != NULL,
           "the creation time is annotated");
        ok(strstr(config, "\"architecture\":\"arm64\"") && strstr(config, "\"variant\":\"v8\"") &&
                   strstr(config, "\"diff_ids\":[\"" DIFF "\"]") &&
                   strstr(config, "\"" CACHE_ANN_KEY "\":\"" KEY "\""),
           "the config: platform, diff id, key label");
        char cd[DIGEST_STRING_SIZE];
        digest_buffer(config, strlen(config), cd);
        ok(strstr(manifest, cd) != NULL, "the manifest names the config by digest");

        struct cache_entry d = {0};
        struct lerr *err = NULL;
        is_int(cache_entry_decode(manifest, strlen(manifest), KEY, &d, &err), 1, "decode");
        ok(d.has_layer, "with a layer");
        is_str(d.layer.digest, e.layer.digest, "layer digest");
        is_int(d.layer.size, 1234, "layer size");
        is_str(d.layer.media_type, MEDIA_OCI_LAYER_GZIP, "layer media type");
        is_str(d.diff_id, DIFF, "diff id");
        is_int(d.created, 1700000000, "created");
        is_str(d.created_by, "RUN make \"all\"", "created by");
        cache_entry_done(&d);
        is_int(cache_entry_decode(manifest, strlen(manifest), KEY2, &d, &err), 0,
               "an entry for another key is no entry");
        cache_entry_done(&e);

        struct cache_entry none = {.created = 1700000001};
        _cleanup_free_ char *c2 = NULL, *m2 = NULL;
        cache_entry_encode(KEY, &none, "linux", "amd64", NULL, &c2, &m2);
        ok(strstr(m2, "\"layers\":[]") != NULL, "a step without a layer: no layers");
        is_int(cache_entry_decode(m2, strlen(m2), KEY, &d, &err), 1, "decode it");
        ok(!d.has_layer && d.created == 1700000001 && !d.created_by, "no layer, no created-by");
        cache_entry_done(&d);

        static const char *const bad[] = {
                /* no annotations at all (a Kaniko cache image, say) */
                "{\"schemaVersion\":2,\"layers\":[]}",
                /* two layers */
                "{\"layers\":[{\"mediaType\":\"" MEDIA_OCI_LAYER_GZIP "\",\"digest\":\"" KEY2
                "\",\"size\":1},{\"mediaType\":\"" MEDIA_OCI_LAYER_GZIP "\",\"digest\":\"" KEY2
                "\",\"size\":1}],\"annotations\":{\"" CACHE_ANN_KEY "\":\"" KEY
                "\",\"" CACHE_ANN_CREATED "\":\"2023-11-14T22:13:20Z\",\"" CACHE_ANN_DIFF_ID
                "\":\"" DIFF "\"}}",
                /* a layer without its diff id */
                "{\"layers\":[{\"mediaType\":\"" MEDIA_OCI_LAYER_GZIP "\",\"digest\":\"" KEY2
                "\",\"size\":1}],\"annotations\":{\"" CACHE_ANN_KEY "\":\"" KEY
                "\",\"" CACHE_ANN_CREATED "\":\"2023-11-14T22:13:20Z\"}}",
                /* a bad time */
                "{\"layers\":[],\"annotations\":{\"" CACHE_ANN_KEY "\":\"" KEY
                "\",\"" CACHE_ANN_CREATED "\":\"soon\"}}",
                /* not a layer media type */
                "{\"layers\":[{\"mediaType\":\"text/plain\",\"digest\":\"" KEY2
                "\",\"size\":1}],\"annotations\":{\"" CACHE_ANN_KEY "\":\"" KEY
                "\",\"" CACHE_ANN_CREATED "\":\"2023-11-14T22:13:20Z\",\"" CACHE_ANN_DIFF_ID
                "\":\"" DIFF "\"}}",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                is_int(cache_entry_decode(bad[i], strlen(bad[i]), KEY, &d, &err), 0,
                       "not an entry (%zu)", i);
        is_int(cache_entry_decode("{", 1, KEY, &d, &err), -EBADMSG, "malformed JSON");
        const char *wrong = "{\"layers\":{},\"annotations\":{}}";
        is_int(cache_entry_decode(wrong, strlen(wrong), KEY, &d, &err), -EBADMSG,
               "layers of the wrong type");
        lerr_free(err);
}

static void test_layout(void)
{
        struct lerr *err = NULL;
        _cleanup_free_ char *path = xasprintf("%s/layout", base);
        struct oci_layout *l = NULL;
        is_int(oci_layout_open(path, false, &l, &err), -ENOENT, "a missing layout");
        is_int(oci_layout_open(path, true, &l, &err), 0, "create a layout");
        char d1[DIGEST_STRING_SIZE], d2[DIGEST_STRING_SIZE];
        is_int(oci_layout_put_blob(l, "one", 3, d1, &err), 0, "put a blob");
        is_int(oci_layout_put_blob(l, "two", 3, d2, &err), 0, "put another");
        ok(oci_layout_has_blob(l, d1), "has it");
        char *data = NULL;
        size_t len = 0;
        is_int(oci_layout_read_blob(l, d1, 16, &data, &len, &err), 0, "read it");
        is_str(data, "one", "its bytes");
        free(data);
        is_int(oci_layout_read_blob(l, d1, 2, &data, &len, &err), -E2BIG, "over the limit");
        /* a blob file that does not hold its digest's bytes */
        if (fs_write_file_at(oci_layout_blobs_fd(l), digest_hex(d2), "TWO", 3, 0644) < 0)
                abort();
        is_int(oci_layout_read_blob(l, d2, 16, &data, &len, &err), -EBADMSG,
               "a corrupt blob is refused");

        struct platform amd = {.os = "linux", .arch = "amd64"};
        struct platform arm = {.os = "linux", .arch = "arm64", .variant = "v8"};
        struct oci_layout_entry a = {.desc = {.media_type = MEDIA_OCI_MANIFEST,
                                              .digest = d1,
                                              .size = 3,
                                              .platform = &amd},
                                     .annotations = (char *[]){"x=1", NULL}};
        struct oci_layout_entry b = a;
        b.desc.digest = d2;
        b.desc.platform = &arm;
        is_int(oci_layout_put(l, "img:1", &a, &err), 0, "add an entry for amd64");
        is_int(oci_layout_put(l, "img:1", &b, &err), 0, "and one for arm64 under the same name");
        struct oci_layout_entry got = {0};
        is_int(oci_layout_find(l, "img:1", &arm, &got, &err), 1, "find the arm64 one");
        is_str(got.desc.digest, d2, "its digest");
        is_str(oci_layout_entry_annotation(&got, "x"), "1", "its annotation");
        is_str(oci_layout_entry_annotation(&got, OCI_REF_NAME), "img:1", "its name");
        oci_layout_entry_done(&got);
        is_int(oci_layout_find(l, "img:1", &amd, &got, &err), 1, "find the amd64 one");
        is_str(got.desc.digest, d1, "its digest");
        oci_layout_entry_done(&got);
        struct platform s390 = {.os = "linux", .arch = "s390x"};
        is_int(oci_layout_find(l, "img:1", &s390, &got, &err), 0, "no entry for s390x");
        is_int(oci_layout_find(l, "img:2", NULL, &got, &err), 0, "no entry of another name");
        a.desc.digest = d2;
        is_int(oci_layout_put(l, "img:1", &a, &err), 0, "replace the amd64 entry");
        is_int(oci_layout_find(l, "img:1", &amd, &got, &err), 1, "find it");
        is_str(got.desc.digest, d2, "the new digest");
        oci_layout_entry_done(&got);
        struct buf idx = BUF_INIT(1 << 20);
        (void) fs_read_file_at(oci_layout_dir_fd(l), "index.json", &idx);
        size_t n = 0;
        for (const char *p = buf_str(&idx); (p = strstr(p, "\"img:1\"")); p++)
                n++;
        is_int(n, 2, "index.json holds two entries for img:1");
        buf_done(&idx);
        oci_layout_free(l);
        lerr_free(err);
}

static void test_store_and_fallback(void)
{
        struct lerr *err = NULL;
        _cleanup_free_ char *spec = xasprintf("oci:%s/cache", base);
        _cleanup_free_ char *bspath = xasprintf("%s/blobs", base);
        struct cache_store *cs = NULL;
        struct blobstore *bs = NULL;
        is_int(cache_store_open("oci:", NULL, &cs, &err), -EINVAL, "oci: without a path");
        is_str(lerr_message(err), "--cache-repo 'oci:' names no directory", "says so");
        is_int(cache_store_open("reg.example/cache:tag", NULL, &cs, &err), -EINVAL,
               "a repository with a tag");
        is_int(cache_store_open(spec, NULL, &cs, &err), 0, "open an OCI layout store");
        is_str(cache_store_name(cs), spec, "its name");
        ok(cache_store_repo(cs) == NULL && cache_store_blobs_fd(cs) >= 0, "a layout, no repo");
        is_int(cache_store_probe(cs, true, &err), 0, "a layout always answers");
        is_int(blobstore_open(AT_FDCWD, bspath, &bs, &err), 0, "a blobstore");
        char layer[DIGEST_STRING_SIZE];
        is_int(blobstore_put(bs, "layer bytes", 11, layer, &err), 0, "a layer in it");
        struct cache_entry e = layer_entry(layer, 11);
        struct cache_entry got = {0};
        is_int(cache_store_get(cs, KEY, &got, &err), 0, "nothing cached yet");
        is_int(cache_store_put(cs, KEY, &e, "linux", "amd64", NULL, bs, &err), 0, "store");
        is_int(cache_store_get(cs, KEY, &got, &err), 1, "found");
        is_str(got.layer.digest, layer, "the layer");
        is_str(got.diff_id, DIFF, "its diff id");
        cache_entry_done(&got);
        is_int(cache_store_get(cs, KEY2, &got, &err), 0, "another key is not found");
        is_int(cache_store_get(cs, "sha256:nothex", &got, &err), -EINVAL, "a bad key");

        /* the blobstore reads cached layers from the layout */
        struct blobstore *bs2 = NULL;
        _cleanup_free_ char *bs2path = xasprintf("%s/blobs2", base);
        is_int(blobstore_open(AT_FDCWD, bs2path, &bs2, &err), 0, "a second blobstore");
        ok(!blobstore_has(bs2, layer), "without the layer");
        is_int(blobstore_add_fallback(bs2, cache_store_blobs_fd(cs)), 0, "add the fallback");
        ok(blobstore_has(bs2, layer), "has it through the fallback");
        is_int(blobstore_size(bs2, layer), 11, "its size");
        int fd = blobstore_open_blob(bs2, layer);
        char buf[16] = {0};
        ok(fd >= 0 && read(fd, buf, sizeof(buf)) == 11 && streq(buf, "layer bytes"),
           "read it through the fallback");
        if (fd >= 0)
                close(fd);
        _cleanup_free_ char *outdir = xasprintf("%s/out", base);
        mkdir(outdir, 0755);
        int od = open(outdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        is_int(blobstore_export(bs2, layer, od, "exported", &err), 0, "export it");
        ok(faccessat(od, "exported", F_OK, 0) == 0, "exported");
        close(od);

        /* an entry whose layer blob is gone is no entry */
        is_int(unlinkat(cache_store_blobs_fd(cs), digest_hex(layer), 0), 0, "remove the layer");
        is_int(cache_store_get(cs, KEY, &got, &err), 0, "an entry without its layer is none");
        cache_entry_done(&e);
        blobstore_free(bs);
        blobstore_free(bs2);
        cache_store_free(cs);
        lerr_free(err);
}

int main(void)
{
        if (!mkdtemp(base))
                abort();
        test_time();
        test_codec();
        test_layout();
        test_store_and_fallback();
        int d = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        fs_rm_rf_at(d, base + 5);
        close(d);
        return tap_done();
}
