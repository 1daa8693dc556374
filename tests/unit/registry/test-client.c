/* SPDX-License-Identifier: Apache-2.0 */
/* Client options (maps, mirrors, certificates, per-registry flags), endpoints, URL helpers and
 * base64: everything of the client that needs no network. */
#include "registry/client-internal.h"

#include <fcntl.h>
#include <stdlib.h>
#include <time.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/strv.h"
#include "registry/base64.h"
#include "version.h"
#include "tap.h"

static char tmp[] = "/tmp/lading-test-client-XXXXXX";

static char *client_error(struct reg_options *o)
{
        struct reg_client *c = NULL;
        struct lerr *err = NULL;
        if (reg_client_new(o, &c, &err) == 0) {
                reg_client_free(c);
                return xstrdup("(no error)");
        }
        char *m = xstrdup(lerr_message(err));
        lerr_free(err);
        return m;
}

static void test_option_errors(void)
{
        char *bad_map[] = {(char *) "docker.io", NULL};
        char *bad_map2[] = {(char *) "docker.io=bad host", NULL};
        char *bad_mirror[] = {(char *) "", NULL};
        char *bad_insecure[] = {(char *) "not a host", NULL};
        char *bad_cert[] = {(char *) "myreg:5000", NULL};
        char *missing_cert[] = {(char *) "myreg:5000=/nonexistent/ca.crt", NULL};
        char *bad_client[] = {(char *) "myreg=/a", NULL};
        char *missing_client[] = {(char *) "myreg=/nonexistent/c.pem,/nonexistent/k.pem", NULL};
        struct {
                struct reg_options o;
                const char *want;
        } cases[] = {
                {{.registry_maps = bad_map},
                 "invalid --registry-map 'docker.io': expected orig=new[;orig2=new2]"},
                {{.registry_maps = bad_map2},
                 "invalid --registry-map 'docker.io=bad host': bad registry in "
                 "'docker.io=bad host'"},
                {{.registry_mirrors = bad_mirror}, "invalid --registry-mirror ''"},
                {{.insecure_registries = bad_insecure},
                 "invalid --insecure-registry 'not a host': not a registry host"},
                {{.skip_tls_verify_registries = bad_insecure},
                 "invalid --skip-tls-verify-registry 'not a host': not a registry host"},
                {{.registry_certificates = bad_cert},
                 "invalid --registry-certificate 'myreg:5000': expected host=/path/to/ca.crt"},
                {{.registry_certificates = missing_cert},
                 "read --registry-certificate '/nonexistent/ca.crt': No such file or directory"},
                {{.registry_client_certs = bad_client},
                 "invalid --registry-client-cert 'myreg=/a': expected host=/path/cert,/path/key"},
                {{.registry_client_certs = missing_client},
                 "read --registry-client-cert '/nonexistent/c.pem': No such file or directory"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                cases[i].o.kaniko_dir = tmp;
                char *got = client_error(&cases[i].o);
                is_str(got, cases[i].want, "option error %zu", i);
                free(got);
        }
}

static void test_maps_and_endpoints(void)
{
        _cleanup_free_ char *ca = xasprintf("%s/ca.crt", tmp);
        _cleanup_free_ char *cert_opt = xasprintf("Reg.Example:5000=%s", ca);
        _cleanup_free_ char *client_opt = xasprintf("reg.example:5000=%s,%s", ca, ca);
        char *maps[] = {(char *) "index.docker.io=harbor.example/proxy;quay.io=q.example",
                        (char *) "docker.io=https://second.example/", NULL};
        char *mirrors[] = {(char *) "mirror.gcr.io", (char *) "http://insecure-mirror:5000", NULL};
        char *insecure[] = {(char *) "http://my.reg:1234", NULL};
        char *skip[] = {(char *) "other.example", NULL};
        char *certs[] = {cert_opt, NULL};
        char *clients[] = {client_opt, NULL};
        struct reg_options o = {.kaniko_dir = tmp,
                                .registry_maps = maps,
                                .registry_mirrors = mirrors,
                                .insecure_registries = insecure,
                                .skip_tls_verify_registries = skip,
                                .registry_certificates = certs,
                                .registry_client_certs = clients,
                                .push_retry = 3,
                                .image_download_retry = -5,
                                .parallel = 100};
        struct reg_client *c = NULL;
        struct lerr *err = NULL;

        if (fs_write_file_at(AT_FDCWD, ca, "-----BEGIN CERTIFICATE-----\n", 28, 0644) < 0)
                abort();
        if (!ok(reg_client_new(&o, &c, &err) == 0, "client with every option")) {
                diag("%s", lerr_message(err));
                return;
        }
        is_int(c->n_maps, 5, "three map entries and two mirrors");
        static const char *const want[][2] = {{"docker.io", "harbor.example/proxy"},
                                              {"quay.io", "q.example"},
                                              {"docker.io", "second.example"},
                                              {"docker.io", "mirror.gcr.io"},
                                              {"docker.io", "insecure-mirror:5000"}};
        for (size_t i = 0; i < c->n_maps && i < ARRAY_SIZE(want); i++) {
                is_str(c->maps[i].from, want[i][0], "map %zu from", i);
                is_str(c->maps[i].to, want[i][1], "map %zu to", i);
        }
        ok(c->n_maps == 5 && c->maps[4].to_http && !c->maps[3].to_http, "http:// mirror noted");
        is_int(c->retries[REG_OP_PUSH], 3, "push retries");
        is_int(c->retries[REG_OP_PULL], 0, "negative retries are none");
        is_int(c->parallel, REG_MAX_PARALLEL, "parallelism capped");
        is_int(c->retry_base_ms, 1000, "default backoff base");
        is_int(c->stall_timeout_s, 60, "default stall timeout");

        struct endpoint *hub = client_endpoint(c, "docker.io");
        is_str(hub->host, "registry-1.docker.io", "Docker Hub API host");
        ok(client_endpoint(c, "index.docker.io") == hub, "Hub aliases share an endpoint");
        struct endpoint *my = client_endpoint(c, "My.Reg:1234");
        ok(my->insecure_registry && !my->skip_verify_registry, "--insecure-registry applies");
        ok(client_endpoint(c, "other.example")->skip_verify_registry,
           "--skip-tls-verify-registry applies");
        ok(client_endpoint(c, "insecure-mirror:5000")->insecure_registry,
           "an http:// mirror is insecure");
        struct endpoint *reg = client_endpoint(c, "reg.example:5000");
        is_str(reg->ca_file, ca, "registry certificate by host, case-insensitively");
        ok(reg->ca_blob && strstr(reg->ca_blob, "-----BEGIN CERTIFICATE-----"),
           "CA blob holds the registry certificate");
        is_str(reg->client_cert, ca, "client cert");
        is_str(reg->client_key, ca, "client key");
        ok(hub->client_cert == NULL && hub->ca_file == NULL, "nothing for other registries");
        is_str(c->user_agent, "lading/" LADING_VERSION, "user agent");

        struct handle *h1 = client_handle_get(c), *h2 = client_handle_get(c);
        ok(h1 != h2, "two handles at once");
        client_handle_put(c, h1);
        client_handle_put(c, h2);
        ok(client_handle_get(c) == h2, "handles are reused, last in first out");
        client_handle_put(c, h2);
        reg_client_free(c);
}

static int count_job(void *userdata, size_t i, struct lerr **err)
{
        int *hits = userdata;
        __atomic_add_fetch(&hits[i], 1, __ATOMIC_SEQ_CST);
        if (i == 7)
                return lerr_set(err, EIO, "job %zu failed", i);
        /* the other jobs take a while, as transfers do: without it the two other workers can
         * run every later job in the moment job 7 takes to fail */
        struct timespec pause = {.tv_nsec = 3 * 1000 * 1000};
        nanosleep(&pause, NULL);
        return 0;
}

static void test_pool(void)
{
        struct reg_options o = {.kaniko_dir = tmp, .parallel = 3};
        struct reg_client *c = NULL;
        int hits[20] = {0};
        struct lerr *err = NULL;
        if (reg_client_new(&o, &c, NULL) < 0)
                abort();
        is_int(client_pool_run(c, 5, count_job, hits, &err), 0, "pool runs five jobs");
        bool once = true;
        for (int i = 0; i < 5; i++)
                once &= hits[i] == 1;
        ok(once, "each job ran once");
        memset(hits, 0, sizeof(hits));
        is_int(client_pool_run(c, 20, count_job, hits, &err), -EIO, "a failing job fails the pool");
        is_str(lerr_message(err), "job 7 failed", "the first failure is returned");
        lerr_free(err);
        int ran = 0;
        for (int i = 0; i < 20; i++)
                ran += hits[i];
        ok(hits[7] == 1 && ran < 20, "no new jobs after the failure (%d ran)", ran);
        is_int(client_pool_run(c, 0, count_job, hits, NULL), 0, "no jobs");
        reg_client_free(c);
}

static void test_urls(void)
{
        char *s;
        s = http_url_for_log("https://user:secret@host:5000/v2/x/blobs/uploads/"
                             "abc?_state=SECRET&digest=sha256:1");
        is_str(s, "https://host:5000/v2/x/blobs/uploads/abc", "no userinfo, no query");
        free(s);
        s = http_url_for_log("https://s3.example/bucket/blob?X-Amz-Signature=abc#frag");
        is_str(s, "https://s3.example/bucket/blob", "no signature");
        free(s);
        s = http_resolve_url("https://h:1/v2/", "/v2/x/blobs/uploads/u?_state=1");
        is_str(s, "https://h:1/v2/x/blobs/uploads/u?_state=1", "absolute path");
        free(s);
        s = http_resolve_url("https://h:1/v2/", "https://other/x");
        is_str(s, "https://other/x", "absolute URL");
        free(s);
        s = http_resolve_url("https://h:1/v2/a/tags/list", "list?last=b&n=2");
        is_str(s, "https://h:1/v2/a/tags/list?last=b&n=2", "relative path");
        free(s);
        s = http_resolve_url("https://h:1/v2/", "http://[bad");
        ok(s == NULL, "invalid location refused");
        free(s);
}

static void test_base64(void)
{
        static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
        static const char *const enc[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                          "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
        for (size_t i = 0; i < ARRAY_SIZE(plain); i++) {
                char *e = base64_encode(plain[i], strlen(plain[i]));
                is_str(e, enc[i], "encode '%s'", plain[i]);
                free(e);
                char *d = NULL;
                size_t n = 0;
                is_int(base64_decode(enc[i], &d, &n), 0, "decode '%s'", enc[i]);
                is_str(d, plain[i], "decoded '%s'", enc[i]);
                free(d);
        }
        char *d = NULL;
        size_t n = 0;
        is_int(base64_decode("Zm9vYg", &d, &n), 0, "padding optional");
        is_str(d, "foob", "unpadded decode");
        free(d);
        is_int(base64_decode("Zm9v!", &d, &n), -EINVAL, "bad character");
        is_int(base64_decode("Z", &d, &n), -EINVAL, "bad length");
        is_int(base64_decode("Zm9=v", &d, &n), -EINVAL, "padding inside");
        is_int(base64_decode("Zg===", &d, &n), -EINVAL, "too much padding");
}

int main(void)
{
        if (!mkdtemp(tmp))
                return 1;
        unsetenv("DOCKER_CONFIG");
        unsetenv("KANIKO_DIR");
        setenv("HOME", tmp, 1);
        test_option_errors();
        test_maps_and_endpoints();
        test_pool();
        test_urls();
        test_base64();
        int r = tap_done();
        if (r == 0) {
                _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", tmp);
                (void) !system(cmd);
        }
        return r;
}
