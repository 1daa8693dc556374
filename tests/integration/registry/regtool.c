/* SPDX-License-Identifier: Apache-2.0 */
/* regtool: a thin command line over registry/registry.h for the integration tests. Each
 * command prints one JSON object on stdout; errors print "error: <message>" on stderr and exit
 * 1. Not shipped; it exists so that Python tests can drive the C client against the harness's
 * real registry and compare with skopeo.
 *
 *   regtool [options] resolve REF [--platform P] [--manifest-out F] [--config-out F]
 *   regtool [options] manifest REF [--out F]
 *   regtool [options] fetch REPO DIGEST SIZE [--out F] [--url U]...
 *                                             (no --out: hash and discard; --url: foreign layer)
 *   regtool [options] fetch-all REF --dir D [--platform P]  (every layer, in parallel)
 *   regtool [options] exists REPO DIGEST
 *   regtool [options] check-push REF
 *   regtool [options] push-blob REPO FILE [--mount-from REPO] [--stream] [--digest D]
 *   regtool [options] push-image REF --config F --layer F... [--docker] [--mount-from REPO]
 *   regtool [options] put-manifest REF FILE --media-type T
 *   regtool [options] tags REPO
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/digest.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strv.h"
#include "registry/registry.h"

static char **insecure_regs, **skip_regs, **certs, **client_certs, **mirrors, **maps;
static char **layers, **urls;
static const char *platform_s, *manifest_out, *config_out, *out_path, *dir_path, *mount_from,
        *config_path, *media_type, *digest_override;
static bool docker_types, stream_source;

static long peak_rss_kb(void)
{
        FILE *f = fopen("/proc/self/status", "re");
        char line[256];
        long kb = -1;
        while (f && fgets(line, sizeof(line), f))
                if (strncmp(line, "VmHWM:", 6) == 0)
                        kb = strtol(line + 6, NULL, 10);
        if (f)
                fclose(f);
        if (kb < 0) {
                struct rusage ru;
                if (getrusage(RUSAGE_SELF, &ru) == 0)
                        kb = ru.ru_maxrss;
        }
        return kb;
}

static NORETURN void die(struct lerr *err)
{
        fprintf(stderr, "error: %s\n", lerr_message(err));
        lerr_free(err);
        exit(1);
}

static NORETURN void usage(const char *msg)
{
        fprintf(stderr, "regtool: %s (see the comment at the top of regtool.c)\n", msg);
        exit(2);
}

static struct image_ref *parse_ref(const char *s, bool repo)
{
        struct image_ref *r = NULL;
        struct lerr *err = NULL;
        if ((repo ? image_ref_parse_repo(s, &r, &err) : image_ref_parse(s, &r, &err)) < 0)
                die(err);
        return r;
}

static void write_out(const char *path, const void *data, size_t len)
{
        if (path && fs_write_file_at(AT_FDCWD, path, data, len, 0644) < 0) {
                fprintf(stderr, "error: write '%s'\n", path);
                exit(1);
        }
}

static void print_json(cJSON *j)
{
        cJSON_AddNumberToObject(j, "peak_rss_kb", (double) peak_rss_kb());
        char *s = json_print(j);
        printf("%s\n", s);
        free(s);
        cJSON_Delete(j);
}

static cJSON *descriptor_json(const struct descriptor *d)
{
        cJSON *o = json_new_object();
        json_add_string(o, "digest", d->digest);
        json_add_string(o, "mediaType", d->media_type);
        cJSON_AddNumberToObject(o, "size", (double) d->size);
        if (d->urls) {
                cJSON *u = json_add_array(o, "urls");
                strv_foreach (s, d->urls)
                        json_array_add_string(u, s);
        }
        return o;
}

static int cmd_resolve(struct reg_client *c, char **args)
{
        _cleanup_(image_ref_freep) struct image_ref *ref = parse_ref(args[0], false);
        struct reg_image *img = NULL;
        struct platform p = {0};
        struct lerr *err = NULL;
        if (platform_s && platform_parse(platform_s, &p, &err) < 0)
                die(err);
        if (reg_image_resolve(c, ref, platform_s ? &p : NULL, &img, &err) < 0)
                die(err);
        write_out(manifest_out, img->manifest, img->manifest_len);
        write_out(config_out, img->config, img->config_len);
        cJSON *j = json_new_object();
        _cleanup_free_ char *src = image_ref_string(img->source);
        json_add_string(j, "source", src);
        json_add_string(j, "digest", img->digest);
        if (img->index_digest)
                json_add_string(j, "index_digest", img->index_digest);
        json_add_string(j, "media_type", img->media_type);
        cJSON_AddItemToObject(j, "config", descriptor_json(&img->parsed->config));
        cJSON_AddNumberToObject(j, "config_len", (double) img->config_len);
        cJSON *l = json_add_array(j, "layers");
        for (size_t i = 0; i < img->parsed->n_layers; i++)
                cJSON_AddItemToArray(l, descriptor_json(&img->parsed->layers[i]));
        print_json(j);
        reg_image_free(img);
        platform_done(&p);
        return 0;
}

static int cmd_manifest(struct reg_client *c, char **args)
{
        _cleanup_(image_ref_freep) struct image_ref *ref = parse_ref(args[0], false);
        struct reg_manifest_raw m = {0};
        struct lerr *err = NULL;
        if (reg_manifest_get(c, ref, &m, &err) < 0)
                die(err);
        write_out(out_path, m.data, m.len);
        cJSON *j = json_new_object();
        json_add_string(j, "digest", m.digest);
        json_add_string(j, "media_type", m.media_type);
        cJSON_AddNumberToObject(j, "size", (double) m.len);
        print_json(j);
        reg_manifest_raw_done(&m);
        return 0;
}

struct discard {
        uint64_t bytes;
        struct digest_ctx *hash;
};

static int discard_write(void *userdata, const void *data, size_t len)
{
        struct discard *d = userdata;
        d->bytes += len;
        digest_update(d->hash, data, len);
        return 0;
}

static int cmd_fetch(struct reg_client *c, char **args)
{
        _cleanup_(image_ref_freep) struct image_ref *repo = parse_ref(args[0], true);
        struct descriptor d = {.digest = args[1],
                               .media_type = (char *) "application/octet-stream"};
        struct lerr *err = NULL;
        uint64_t size;
        if (!args[2] || sscanf(args[2], "%" SCNu64, &size) != 1)
                usage("fetch: SIZE");
        d.size = size;
        d.urls = urls;
        cJSON *j = json_new_object();
        if (out_path) {
                if (reg_blob_fetch_file(c, repo, &d, AT_FDCWD, out_path, &err) < 0)
                        die(err);
        } else {
                struct discard dc = {.hash = digest_new()};
                struct reg_blob_sink sink = {.write = discard_write, .userdata = &dc};
                if (reg_blob_fetch(c, repo, &d, &sink, &err) < 0)
                        die(err);
                char got[DIGEST_STRING_SIZE];
                digest_final(dc.hash, got);
                digest_free(dc.hash);
                json_add_string(j, "sink_digest", got);
                cJSON_AddNumberToObject(j, "sink_bytes", (double) dc.bytes);
        }
        json_add_string(j, "digest", args[1]);
        print_json(j);
        return 0;
}

static int cmd_fetch_all(struct reg_client *c, char **args)
{
        _cleanup_(image_ref_freep) struct image_ref *ref = parse_ref(args[0], false);
        struct reg_image *img = NULL;
        struct platform p = {0};
        struct lerr *err = NULL;
        if (!dir_path)
                usage("fetch-all needs --dir");
        if (platform_s && platform_parse(platform_s, &p, &err) < 0)
                die(err);
        if (reg_image_resolve(c, ref, platform_s ? &p : NULL, &img, &err) < 0)
                die(err);
        size_t n = img->parsed->n_layers;
        struct reg_fetch *jobs = xcalloc(n + 1, sizeof(*jobs));
        char **names = xcalloc(n + 1, sizeof(char *));
        int dfd = open(dir_path, O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                usage("cannot open --dir");
        for (size_t i = 0; i < n; i++) {
                names[i] = xstrdup(img->parsed->layers[i].digest + 7);
                jobs[i] = (struct reg_fetch){
                        .desc = &img->parsed->layers[i], .dir_fd = dfd, .path = names[i]};
        }
        if (reg_blobs_fetch(c, img->source, jobs, n, &err) < 0)
                die(err);
        cJSON *j = json_new_object();
        cJSON_AddNumberToObject(j, "layers", (double) n);
        print_json(j);
        close(dfd);
        strv_free(names);
        free(jobs);
        reg_image_free(img);
        platform_done(&p);
        return 0;
}

static int cmd_exists(struct reg_client *c, char **args)
{
        _cleanup_(image_ref_freep) struct image_ref *repo = parse_ref(args[0], true);
        struct lerr *err = NULL;
        uint64_t size = 0;
        int r = reg_blob_exists(c, repo, args[1], &size, &err);
        if (r < 0)
                die(err);
        cJSON *j = json_new_object();
        cJSON_AddBoolToObject(j, "exists", r > 0);
        cJSON_AddNumberToObject(j, "size", (double) size);
        print_json(j);
        return 0;
}

static int cmd_check_push(struct reg_client *c, char **args)
{
        _cleanup_(image_ref_freep) struct image_ref *ref = parse_ref(args[0], false);
        struct lerr *err = NULL;
        if (reg_check_push(c, ref, &err) < 0)
                die(err);
        cJSON *j = json_new_object();
        cJSON_AddBoolToObject(j, "push_allowed", true);
        print_json(j);
        return 0;
}

/* A source that only reads forward (no fd, no rewind): what a streaming producer looks like. */
static ssize_t stream_read(void *userdata, void *buf, size_t n)
{
        int fd = *(int *) userdata;
        ssize_t k;
        do
                k = read(fd, buf, n);
        while (k < 0 && errno == EINTR);
        return k < 0 ? -errno : k;
}

struct blob_file {
        char *path;
        int fd;
        uint64_t size;
        char digest[DIGEST_STRING_SIZE];
};

static void open_blob(const char *path, struct blob_file *b)
{
        struct stat st;
        char chunk[65536];
        ssize_t k;
        b->path = xstrdup(path);
        b->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (b->fd < 0 || fstat(b->fd, &st) < 0) {
                fprintf(stderr, "error: open '%s': %s\n", path, strerror(errno));
                exit(1);
        }
        b->size = (uint64_t) st.st_size;
        struct digest_ctx *h = digest_new();
        while ((k = read(b->fd, chunk, sizeof(chunk))) > 0)
                digest_update(h, chunk, (size_t) k);
        digest_final(h, b->digest);
        digest_free(h);
        (void) lseek(b->fd, 0, SEEK_SET);
}

static const char *result_name(enum reg_push_result r)
{
        switch (r) {
        case REG_BLOB_EXISTED:
                return "existed";
        case REG_BLOB_MOUNTED:
                return "mounted";
        case REG_BLOB_UPLOADED:
                return "uploaded";
        }
        return "?";
}

static int cmd_push_blob(struct reg_client *c, char **args)
{
        _cleanup_(image_ref_freep) struct image_ref *repo = parse_ref(args[0], true);
        _cleanup_(image_ref_freep) struct image_ref *from =
                mount_from ? parse_ref(mount_from, true) : NULL;
        struct blob_file b;
        struct lerr *err = NULL;
        if (!args[1])
                usage("push-blob: FILE");
        open_blob(args[1], &b);
        struct reg_push p = {.digest = digest_override ? digest_override : b.digest,
                             .size = b.size,
                             .mount_from = from};
        if (stream_source)
                p.src = (struct reg_blob_source){.fd = -1, .read = stream_read, .userdata = &b.fd};
        else
                p.src = (struct reg_blob_source){.fd = b.fd};
        if (reg_blob_push(c, repo, &p, &err) < 0)
                die(err);
        cJSON *j = json_new_object();
        json_add_string(j, "digest", p.digest);
        cJSON_AddNumberToObject(j, "size", (double) b.size);
        json_add_string(j, "result", result_name(p.result));
        print_json(j);
        close(b.fd);
        free(b.path);
        return 0;
}

static int cmd_push_image(struct reg_client *c, char **args)
{
        _cleanup_(image_ref_freep) struct image_ref *dst = parse_ref(args[0], false);
        _cleanup_(image_ref_freep) struct image_ref *from =
                mount_from ? parse_ref(mount_from, true) : NULL;
        size_t n = strv_length(layers);
        struct blob_file *blobs = xcalloc(n + 2, sizeof(*blobs));
        struct reg_push *jobs = xcalloc(n + 2, sizeof(*jobs));
        struct lerr *err = NULL;
        if (!config_path)
                usage("push-image needs --config");
        open_blob(config_path, &blobs[0]);
        for (size_t i = 0; i < n; i++)
                open_blob(layers[i], &blobs[i + 1]);
        for (size_t i = 0; i <= n; i++)
                jobs[i] = (struct reg_push){.digest = blobs[i].digest,
                                            .size = blobs[i].size,
                                            .src = {.fd = blobs[i].fd},
                                            .mount_from = from};
        if (reg_blobs_push(c, dst, jobs, n + 1, &err) < 0)
                die(err);

        const char *mt = docker_types ? MEDIA_DOCKER_MANIFEST : MEDIA_OCI_MANIFEST;
        cJSON *m = json_new_object();
        cJSON_AddNumberToObject(m, "schemaVersion", 2);
        json_add_string(m, "mediaType", mt);
        cJSON *cfg = json_add_object(m, "config");
        json_add_string(cfg, "mediaType", docker_types ? MEDIA_DOCKER_CONFIG : MEDIA_OCI_CONFIG);
        json_add_string(cfg, "digest", blobs[0].digest);
        cJSON_AddNumberToObject(cfg, "size", (double) blobs[0].size);
        cJSON *ls = json_add_array(m, "layers");
        for (size_t i = 1; i <= n; i++) {
                cJSON *l = json_new_object();
                json_add_string(l, "mediaType",
                                docker_types ? MEDIA_DOCKER_LAYER_GZIP : MEDIA_OCI_LAYER_GZIP);
                json_add_string(l, "digest", blobs[i].digest);
                cJSON_AddNumberToObject(l, "size", (double) blobs[i].size);
                cJSON_AddItemToArray(ls, l);
        }
        char *body = json_print(m);
        cJSON_Delete(m);
        char digest[DIGEST_STRING_SIZE];
        if (reg_manifest_put(c, dst, mt, body, strlen(body), digest, &err) < 0)
                die(err);
        cJSON *j = json_new_object();
        json_add_string(j, "digest", digest);
        cJSON *res = json_add_array(j, "blobs");
        for (size_t i = 0; i <= n; i++)
                json_array_add_string(res, result_name(jobs[i].result));
        print_json(j);
        for (size_t i = 0; i <= n; i++) {
                close(blobs[i].fd);
                free(blobs[i].path);
        }
        free(body);
        free(blobs);
        free(jobs);
        return 0;
}

static int cmd_put_manifest(struct reg_client *c, char **args)
{
        _cleanup_(image_ref_freep) struct image_ref *dst = parse_ref(args[0], false);
        struct buf b = BUF_INIT(MANIFEST_MAX_BYTES + 1);
        struct lerr *err = NULL;
        char digest[DIGEST_STRING_SIZE];
        if (!args[1] || !media_type)
                usage("put-manifest: FILE and --media-type");
        if (fs_read_file_at(AT_FDCWD, args[1], &b) < 0)
                usage("put-manifest: cannot read FILE");
        if (reg_manifest_put(c, dst, media_type, b.data, b.len, digest, &err) < 0)
                die(err);
        buf_done(&b);
        cJSON *j = json_new_object();
        json_add_string(j, "digest", digest);
        print_json(j);
        return 0;
}

static int cmd_tags(struct reg_client *c, char **args)
{
        _cleanup_(image_ref_freep) struct image_ref *repo = parse_ref(args[0], true);
        char **tags = NULL;
        struct lerr *err = NULL;
        if (reg_tags_list(c, repo, &tags, &err) < 0)
                die(err);
        cJSON *j = json_new_object();
        cJSON *a = json_add_array(j, "tags");
        strv_foreach (t, tags)
                json_array_add_string(a, t);
        print_json(j);
        strv_free(tags);
        return 0;
}

static const struct {
        const char *name;
        int nargs;
        int (*fn)(struct reg_client *c, char **args);
} commands[] = {
        {"resolve", 1, cmd_resolve},
        {"manifest", 1, cmd_manifest},
        {"fetch", 3, cmd_fetch},
        {"fetch-all", 1, cmd_fetch_all},
        {"exists", 2, cmd_exists},
        {"check-push", 1, cmd_check_push},
        {"push-blob", 2, cmd_push_blob},
        {"push-image", 1, cmd_push_image},
        {"put-manifest", 2, cmd_put_manifest},
        {"tags", 1, cmd_tags},
};

enum {
        OPT_INSECURE = 256,
        OPT_INSECURE_PULL,
        OPT_INSECURE_REGISTRY,
        OPT_SKIP_TLS,
        OPT_SKIP_TLS_PULL,
        OPT_SKIP_TLS_REGISTRY,
        OPT_CERT,
        OPT_CLIENT_CERT,
        OPT_MIRROR,
        OPT_MAP,
        OPT_SKIP_FALLBACK,
        OPT_PUSH_RETRY,
        OPT_PULL_RETRY,
        OPT_RETRY_BASE,
        OPT_PARALLEL,
        OPT_STALL,
        OPT_KANIKO_DIR,
        OPT_VERBOSITY,
        OPT_PLATFORM,
        OPT_MANIFEST_OUT,
        OPT_CONFIG_OUT,
        OPT_OUT,
        OPT_DIR,
        OPT_MOUNT_FROM,
        OPT_CONFIG,
        OPT_LAYER,
        OPT_DOCKER,
        OPT_MEDIA_TYPE,
        OPT_STREAM,
        OPT_DIGEST,
        OPT_URL,
};

static const struct option longopts[] = {
        {"insecure", no_argument, NULL, OPT_INSECURE},
        {"insecure-pull", no_argument, NULL, OPT_INSECURE_PULL},
        {"insecure-registry", required_argument, NULL, OPT_INSECURE_REGISTRY},
        {"skip-tls-verify", no_argument, NULL, OPT_SKIP_TLS},
        {"skip-tls-verify-pull", no_argument, NULL, OPT_SKIP_TLS_PULL},
        {"skip-tls-verify-registry", required_argument, NULL, OPT_SKIP_TLS_REGISTRY},
        {"registry-certificate", required_argument, NULL, OPT_CERT},
        {"registry-client-cert", required_argument, NULL, OPT_CLIENT_CERT},
        {"registry-mirror", required_argument, NULL, OPT_MIRROR},
        {"registry-map", required_argument, NULL, OPT_MAP},
        {"skip-default-registry-fallback", no_argument, NULL, OPT_SKIP_FALLBACK},
        {"push-retry", required_argument, NULL, OPT_PUSH_RETRY},
        {"image-download-retry", required_argument, NULL, OPT_PULL_RETRY},
        {"retry-base-ms", required_argument, NULL, OPT_RETRY_BASE},
        {"parallel", required_argument, NULL, OPT_PARALLEL},
        {"stall-timeout", required_argument, NULL, OPT_STALL},
        {"kaniko-dir", required_argument, NULL, OPT_KANIKO_DIR},
        {"verbosity", required_argument, NULL, OPT_VERBOSITY},
        {"platform", required_argument, NULL, OPT_PLATFORM},
        {"manifest-out", required_argument, NULL, OPT_MANIFEST_OUT},
        {"config-out", required_argument, NULL, OPT_CONFIG_OUT},
        {"out", required_argument, NULL, OPT_OUT},
        {"dir", required_argument, NULL, OPT_DIR},
        {"mount-from", required_argument, NULL, OPT_MOUNT_FROM},
        {"config", required_argument, NULL, OPT_CONFIG},
        {"layer", required_argument, NULL, OPT_LAYER},
        {"docker", no_argument, NULL, OPT_DOCKER},
        {"media-type", required_argument, NULL, OPT_MEDIA_TYPE},
        {"stream", no_argument, NULL, OPT_STREAM},
        {"digest", required_argument, NULL, OPT_DIGEST},
        {"url", required_argument, NULL, OPT_URL},
        {},
};

int main(int argc, char **argv)
{
        struct reg_options o = {0};
        struct reg_client *c = NULL;
        struct lerr *err = NULL;
        enum log_level level = LOG_INFO;
        int opt;

        while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
                switch (opt) {
                case OPT_INSECURE:
                        o.insecure = true;
                        break;
                case OPT_INSECURE_PULL:
                        o.insecure_pull = true;
                        break;
                case OPT_INSECURE_REGISTRY:
                        strv_push(&insecure_regs, optarg);
                        break;
                case OPT_SKIP_TLS:
                        o.skip_tls_verify = true;
                        break;
                case OPT_SKIP_TLS_PULL:
                        o.skip_tls_verify_pull = true;
                        break;
                case OPT_SKIP_TLS_REGISTRY:
                        strv_push(&skip_regs, optarg);
                        break;
                case OPT_CERT:
                        strv_push(&certs, optarg);
                        break;
                case OPT_CLIENT_CERT:
                        strv_push(&client_certs, optarg);
                        break;
                case OPT_MIRROR:
                        strv_push(&mirrors, optarg);
                        break;
                case OPT_MAP:
                        strv_push(&maps, optarg);
                        break;
                case OPT_SKIP_FALLBACK:
                        o.skip_default_registry_fallback = true;
                        break;
                case OPT_PUSH_RETRY:
                        o.push_retry = (int) strtol(optarg, NULL, 10);
                        break;
                case OPT_PULL_RETRY:
                        o.image_download_retry = (int) strtol(optarg, NULL, 10);
                        break;
                case OPT_RETRY_BASE:
                        o.retry_base_ms = (unsigned) strtoul(optarg, NULL, 10);
                        break;
                case OPT_PARALLEL:
                        o.parallel = (unsigned) strtoul(optarg, NULL, 10);
                        break;
                case OPT_STALL:
                        o.stall_timeout_s = (unsigned) strtoul(optarg, NULL, 10);
                        break;
                case OPT_KANIKO_DIR:
                        o.kaniko_dir = optarg;
                        break;
                case OPT_VERBOSITY:
                        if (log_level_parse(optarg, &level) < 0)
                                usage("bad --verbosity");
                        break;
                case OPT_PLATFORM:
                        platform_s = optarg;
                        break;
                case OPT_MANIFEST_OUT:
                        manifest_out = optarg;
                        break;
                case OPT_CONFIG_OUT:
                        config_out = optarg;
                        break;
                case OPT_OUT:
                        out_path = optarg;
                        break;
                case OPT_DIR:
                        dir_path = optarg;
                        break;
                case OPT_MOUNT_FROM:
                        mount_from = optarg;
                        break;
                case OPT_CONFIG:
                        config_path = optarg;
                        break;
                case OPT_LAYER:
                        strv_push(&layers, optarg);
                        break;
                case OPT_DOCKER:
                        docker_types = true;
                        break;
                case OPT_MEDIA_TYPE:
                        media_type = optarg;
                        break;
                case OPT_STREAM:
                        stream_source = true;
                        break;
                case OPT_DIGEST:
                        digest_override = optarg;
                        break;
                case OPT_URL:
                        strv_push(&urls, optarg);
                        break;
                default:
                        usage("unknown option");
                }
        }
        /* GNU getopt moves the command and its arguments to the end */
        char **pos = NULL;
        for (int i = optind; i < argc; i++)
                strv_push(&pos, argv[i]);
        if (!pos)
                usage("no command");
        log_setup(level, LOG_FORMAT_TEXT, false);
        o.insecure_registries = insecure_regs;
        o.skip_tls_verify_registries = skip_regs;
        o.registry_certificates = certs;
        o.registry_client_certs = client_certs;
        o.registry_mirrors = mirrors;
        o.registry_maps = maps;

        for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
                if (!streq(pos[0], commands[i].name))
                        continue;
                if (strv_length(pos) - 1 < (size_t) commands[i].nargs)
                        usage("missing arguments");
                if (reg_client_new(&o, &c, &err) < 0)
                        die(err);
                int r = commands[i].fn(c, pos + 1);
                reg_client_free(c);
                strv_free(pos);
                return r;
        }
        usage("unknown command");
}
