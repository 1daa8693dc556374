/* SPDX-License-Identifier: Apache-2.0 */
/* Pulling: manifests (verified against the digest that named them), platform selection
 * through indexes, mirrors and --registry-map, configs, and blobs streamed through a
 * verifying sink (size and sha256 on the fly, resumed with Range after a cut, foreign-layer
 * URLs as a fallback). Knows nothing of what the bytes are for. */
#include "registry/registry.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/parse.h"
#include "common/strv.h"
#include "registry/client-internal.h"
#include "registry/regerr.h"
#include "registry/retry.h"

void reg_manifest_raw_done(struct reg_manifest_raw *m)
{
        free(m->data);
        free(m->media_type);
        *m = (struct reg_manifest_raw){0};
}

void reg_image_free(struct reg_image *img)
{
        if (!img)
                return;
        image_ref_free(img->source);
        free(img->digest);
        free(img->index_digest);
        free(img->media_type);
        free(img->manifest);
        free(img->config);
        manifest_free(img->parsed);
        free(img);
}

static int check_sha256(const char *digest, struct lerr **err)
{
        if (digest_is_valid(digest))
                return 0;
        if (digest_is_wellformed(digest))
                return lerr_set(err, ENOTSUP, "unsupported digest algorithm in '%.100s'", digest);
        return lerr_set(err, EINVAL, "invalid digest '%.100s'", digest);
}

/* Fetches the manifest stored under reference (a tag or a digest) in repo. */
static int fetch_manifest(struct reg_client *c, const struct image_ref *repo, const char *reference,
                          const char *want_digest, struct reg_manifest_raw *ret, struct lerr **err)
{
        struct endpoint *ep = client_endpoint(c, repo->domain);
        _cleanup_free_ char *scope = image_ref_scope(repo, "pull");
        _cleanup_free_ char *path = xasprintf("/v2/%s/manifests/%s", repo->path, reference);
        struct http_resp resp = {.content_length = -1};
        struct http_req rq = {.op = REG_OP_PULL,
                              .ep = ep,
                              .method = "GET",
                              .url = path,
                              .accept = MANIFEST_ACCEPT,
                              .max_body = MANIFEST_MAX_BYTES,
                              .follow = true};
        char got[DIGEST_STRING_SIZE];
        int r;

        if (want_digest && (r = check_sha256(want_digest, err)) < 0)
                return r;
        r = reg_send(c, ep, scope, &rq, &resp, err);
        if (r >= 0 && resp.status != 200)
                r = reg_status_error(ep, &resp, err);
        if (r < 0) {
                http_resp_done(&resp);
                return r;
        }
        digest_buffer(resp.body.data ? resp.body.data : "", resp.body.len, got);
        if (want_digest && !streq(got, want_digest))
                r = lerr_set(err, EBADMSG, "digest mismatch: received content is %s", got);
        else if (resp.digest && digest_is_valid(resp.digest) && !streq(resp.digest, got))
                r = lerr_set(err, EBADMSG,
                             "digest mismatch: content is %s but Docker-Content-Digest says %s",
                             got, resp.digest);
        if (r >= 0) {
                struct manifest *m = NULL;
                r = manifest_parse(resp.body.data ? resp.body.data : "", resp.body.len,
                                   resp.content_type, &m, err);
                if (r >= 0) {
                        ret->media_type = xstrdup(m->media_type);
                        ret->len = resp.body.len;
                        ret->data = buf_steal(&resp.body);
                        memcpy(ret->digest, got, sizeof(got));
                }
                manifest_free(m);
        }
        http_resp_done(&resp);
        return r;
}

int reg_manifest_get(struct reg_client *c, const struct image_ref *ref,
                     struct reg_manifest_raw *ret, struct lerr **err)
{
        struct reg_manifest_raw m = {0};
        const char *reference = ref->digest ? ref->digest : ref->tag ? ref->tag : "latest";
        int r = fetch_manifest(c, ref, reference, ref->digest, &m, err);
        if (r < 0) {
                _cleanup_free_ char *s = image_ref_string(ref);
                return lerr_wrap(err, "get manifest of '%s'", s);
        }
        *ret = m;
        return 0;
}

/* ---- blobs ---- */

struct verifier {
        const struct reg_blob_sink *user;
        struct digest_ctx *hash;
        uint64_t size, got;
        uint64_t skip; /* bytes to drop: a resumed request the server answered from the start */
        const struct http_resp *resp;
        bool checked_range;
        bool too_long;
        bool bad_range;
};

static int verify_write(void *userdata, const void *data, size_t len)
{
        struct verifier *v = userdata;
        const char *p = data;

        if (!v->checked_range) {
                v->checked_range = true;
                if (v->skip > 0 && v->resp->status == 206) {
                        /* "bytes <first>-<last>/<total>": must start where we stopped */
                        const char *cr = v->resp->content_range ? v->resp->content_range : "";
                        _cleanup_free_ char *want =
                                xasprintf("bytes %llu-", (unsigned long long) v->skip);
                        if (!startswith(cr, want)) {
                                v->bad_range = true;
                                return -EPROTO;
                        }
                        v->skip = 0;
                }
        }
        if (v->skip > 0) {
                size_t drop = (size_t) MIN((uint64_t) len, v->skip);
                v->skip -= drop;
                p += drop;
                len -= drop;
                if (len == 0)
                        return 0;
        }
        if (v->got + len > v->size) {
                v->too_long = true;
                return -EBADMSG;
        }
        digest_update(v->hash, p, len);
        v->got += len;
        return v->user->write(v->user->userdata, p, len);
}

/* One GET of the blob (or the rest of it) from url; 0 with the response, or a transport error. */
static int blob_get(struct reg_client *c, struct endpoint *ep, const char *scope, const char *url,
                    struct verifier *v, bool registry, struct http_resp *resp, struct lerr **err)
{
        struct reg_blob_sink sink = {.write = verify_write, .userdata = v};
        struct http_req rq = {.op = REG_OP_PULL,
                              .ep = ep,
                              .method = "GET",
                              .url = url,
                              .range_from = v->got,
                              .sink = &sink,
                              .follow = true};
        v->skip = v->got;
        v->checked_range = false;
        v->resp = resp;
        if (registry)
                return reg_send(c, ep, scope, &rq, resp, err);
        return http_exchange_retry(c, &rq, resp, err);
}

#define RESUMES_MAX 50

/* Fetches from one source (the registry, or a foreign URL), resuming after cuts. Retryable
 * statuses were already retried below (before any byte reached the sink). */
static int fetch_from(struct reg_client *c, struct endpoint *ep, const char *scope, const char *url,
                      bool registry, struct verifier *v, long *ret_status, struct lerr **err)
{
        unsigned max = REG_DEFAULT_RETRIES + (unsigned) c->retries[REG_OP_PULL];
        unsigned failures = 0, resumes = 0;

        for (;;) {
                struct http_resp resp = {.content_length = -1};
                struct lerr *e = NULL;
                uint64_t before = v->got;
                bool retry = false;
                int r = blob_get(c, ep, scope, url, v, registry, &resp, &e);

                *ret_status = resp.status;
                bool body = resp.status == 200 || resp.status == 206;
                if (r >= 0 && body && v->got == v->size) {
                        http_resp_done(&resp);
                        return 0;
                }
                if (v->too_long) {
                        r = lerr_set(&e, EBADMSG, "received more than the %llu bytes expected",
                                     (unsigned long long) v->size);
                } else if (v->bad_range) {
                        r = lerr_set(&e, EPROTO,
                                     "resumed transfer: unexpected Content-Range '%.100s'",
                                     strempty(resp.content_range));
                } else if (r < 0) {
                        /* the user's sink failing is not ours to retry */
                        retry = resp.sink_error == 0 && retry_curl_is_retryable(resp.curl_code);
                } else if (body) {
                        r = lerr_set(&e, EBADMSG, "the body ended early");
                        retry = true;
                } else {
                        r = reg_status_error(ep, &resp, &e);
                }
                http_resp_done(&resp);
                /* a cut after progress is resumed without counting as a failure, within bounds */
                if (v->got > before && resumes < RESUMES_MAX)
                        resumes++;
                else
                        failures++;
                if (!retry || failures > max) {
                        if (v->got > 0 && v->got < v->size)
                                (void) lerr_wrap(&e, "received %llu of %llu bytes",
                                                 (unsigned long long) v->got,
                                                 (unsigned long long) v->size);
                        if (err) {
                                lerr_free(*err);
                                *err = e;
                        } else {
                                lerr_free(e);
                        }
                        return r;
                }
                long delay = retry_delay_ms(failures > 0 ? failures - 1 : 0, c->retry_base_ms, -1,
                                            retry_random());
                log_debug("%s at byte %llu of %llu; resuming in %ld ms", lerr_message(e),
                          (unsigned long long) v->got, (unsigned long long) v->size, delay);
                lerr_free(e);
                http_sleep_ms(delay);
        }
}

static int try_urls(struct reg_client *c, struct endpoint *ep, const struct descriptor *desc,
                    struct verifier *v, struct lerr **err)
{
        int r = -ENOENT;
        strv_foreach (u, desc->urls) {
                long status = 0;
                if (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0)
                        continue;
                if (v->got > 0)
                        break; /* a partial failure elsewhere: nothing sound to continue */
                r = fetch_from(c, ep, NULL, u, false, v, &status, err);
                if (r >= 0) {
                        /* the registry's 404 (or an earlier URL's failure) is moot now */
                        if (err)
                                lerr_free(TAKE_PTR(*err));
                        return 0;
                }
                _cleanup_free_ char *lu = http_url_for_log(u);
                (void) lerr_wrap(err, "foreign layer URL '%s'", lu);
        }
        return r;
}

int reg_blob_fetch(struct reg_client *c, const struct image_ref *repo,
                   const struct descriptor *desc, const struct reg_blob_sink *sink,
                   struct lerr **err)
{
        struct endpoint *ep = client_endpoint(c, repo->domain);
        _cleanup_free_ char *scope = image_ref_scope(repo, "pull");
        _cleanup_free_ char *path = xasprintf("/v2/%s/blobs/%s", repo->path, desc->digest);
        _cleanup_(digest_freep) struct digest_ctx *hash = digest_new();
        struct verifier v = {.user = sink, .hash = hash, .size = desc->size};
        char got[DIGEST_STRING_SIZE];
        long status = 0;
        int r;

        r = check_sha256(desc->digest, err);
        if (r >= 0)
                r = fetch_from(c, ep, scope, path, true, &v, &status, err);
        if (r < 0 && status == 404 && desc->urls && v.got == 0)
                r = try_urls(c, ep, desc, &v, err);
        if (r >= 0) {
                digest_final(hash, got);
                if (!streq(got, desc->digest))
                        r = lerr_set(err, EBADMSG, "digest mismatch: received content is %s", got);
        }
        if (r < 0)
                return lerr_wrap(err, "fetch blob %s from '%s'", desc->digest, repo->name);
        return 0;
}

struct file_sink {
        int fd;
};

static int file_write(void *userdata, const void *data, size_t len)
{
        struct file_sink *f = userdata;
        return fs_write_all(f->fd, data, len);
}

int reg_blob_fetch_file(struct reg_client *c, const struct image_ref *repo,
                        const struct descriptor *desc, int dir_fd, const char *path,
                        struct lerr **err)
{
        _cleanup_free_ char *tmp = xasprintf("%s.part-%08x", path, retry_random());
        struct file_sink f = {.fd = -1};
        struct reg_blob_sink sink = {.write = file_write, .userdata = &f};
        int r;

        f.fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (f.fd < 0)
                return lerr_errno(err, errno, "create '%s'", tmp);
        r = reg_blob_fetch(c, repo, desc, &sink, err);
        if (r >= 0 && close(f.fd) < 0)
                r = lerr_errno(err, errno, "write '%s'", tmp);
        else if (r < 0)
                (void) close(f.fd);
        if (r >= 0 && renameat(dir_fd, tmp, dir_fd, path) < 0)
                r = lerr_errno(err, errno, "rename '%s' to '%s'", tmp, path);
        if (r < 0)
                (void) unlinkat(dir_fd, tmp, 0);
        return r;
}

struct fetch_jobs {
        struct reg_client *c;
        const struct image_ref *repo;
        struct reg_fetch *jobs;
};

static int fetch_job(void *userdata, size_t i, struct lerr **err)
{
        struct fetch_jobs *fj = userdata;
        struct reg_fetch *j = &fj->jobs[i];
        if (j->sink.write)
                return reg_blob_fetch(fj->c, fj->repo, j->desc, &j->sink, err);
        return reg_blob_fetch_file(fj->c, fj->repo, j->desc, j->dir_fd, j->path, err);
}

int reg_blobs_fetch(struct reg_client *c, const struct image_ref *repo, struct reg_fetch *jobs,
                    size_t n, struct lerr **err)
{
        struct fetch_jobs fj = {.c = c, .repo = repo, .jobs = jobs};
        return client_pool_run(c, n, fetch_job, &fj, err);
}

/* ---- resolving ---- */

struct mem_sink {
        struct buf b;
};

static int mem_write(void *userdata, const void *data, size_t len)
{
        struct mem_sink *m = userdata;
        return buf_append(&m->b, data, len);
}

static int fetch_config(struct reg_client *c, const struct image_ref *repo,
                        const struct descriptor *d, struct reg_image *img, struct lerr **err)
{
        struct mem_sink m = {.b = BUF_INIT(CONFIG_MAX_BYTES)};
        struct reg_blob_sink sink = {.write = mem_write, .userdata = &m};

        if (d->size > CONFIG_MAX_BYTES)
                return lerr_set(err, E2BIG, "config %s is %llu bytes, over the limit of %u",
                                d->digest, (unsigned long long) d->size, CONFIG_MAX_BYTES);
        int r = reg_blob_fetch(c, repo, d, &sink, err);
        if (r < 0) {
                buf_done(&m.b);
                return r;
        }
        img->config_len = m.b.len;
        img->config = buf_steal(&m.b);
        return 0;
}

static int resolve_from(struct reg_client *c, const struct image_ref *src,
                        const struct platform *want, struct reg_image **ret, struct lerr **err)
{
        _cleanup_(reg_image_freep) struct reg_image *img = xcalloc(1, sizeof(*img));
        _cleanup_free_ char *reference = xstrdup(src->digest ? src->digest
                                                 : src->tag  ? src->tag
                                                             : "latest");
        _cleanup_free_ char *want_digest = src->digest ? xstrdup(src->digest) : NULL;
        uint64_t want_size = 0;
        int r;

        img->source = image_ref_dup(src);
        for (int depth = 0;; depth++) {
                struct reg_manifest_raw raw = {0};
                _cleanup_(manifest_freep) struct manifest *m = NULL;
                r = fetch_manifest(c, src, reference, want_digest, &raw, err);
                if (r >= 0 && want_size && raw.len != want_size)
                        r = lerr_set(err, EBADMSG, "manifest %s is %zu bytes, the index says %llu",
                                     raw.digest, raw.len, (unsigned long long) want_size);
                if (r >= 0)
                        r = manifest_parse(raw.data, raw.len, raw.media_type, &m, err);
                if (r < 0) {
                        reg_manifest_raw_done(&raw);
                        return lerr_wrap(err, "get manifest '%s' of '%s'", reference, src->name);
                }
                if (m->kind == MANIFEST_IMAGE) {
                        img->digest = xstrdup(raw.digest);
                        img->media_type = TAKE_PTR(raw.media_type);
                        img->manifest_len = raw.len;
                        img->manifest = TAKE_PTR(raw.data);
                        img->parsed = TAKE_PTR(m);
                        break;
                }
                const struct descriptor *d = NULL;
                if (depth >= REG_MAX_INDEX_DEPTH)
                        r = lerr_set(err, ELOOP, "indexes nested more than %d deep",
                                     REG_MAX_INDEX_DEPTH);
                else
                        r = manifest_select_platform(m, want, &d, err);
                if (r < 0) {
                        (void) lerr_wrap(err, "index %s", raw.digest);
                        reg_manifest_raw_done(&raw);
                        return r;
                }
                if (!img->index_digest)
                        img->index_digest = xstrdup(raw.digest);
                reg_manifest_raw_done(&raw);
                free(reference);
                free(want_digest);
                reference = xstrdup(d->digest);
                want_digest = xstrdup(d->digest);
                want_size = d->size;
        }
        r = fetch_config(c, src, &img->parsed->config, img, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(img);
        return 0;
}

/* The places to try for ref, in order: --registry-map / --registry-mirror targets for its
 * registry, then the registry itself unless skip_default_fallback. */
static int candidates(struct reg_client *c, const struct image_ref *ref, struct image_ref ***ret,
                      size_t *ret_n, bool *ret_mapped, struct lerr **err)
{
        _cleanup_free_ char *domain = image_ref_normalize_domain(ref->domain);
        struct image_ref **list = xcalloc(c->n_maps + 2, sizeof(*list));
        size_t n = 0;

        *ret_mapped = false;
        for (size_t i = 0; domain && i < c->n_maps; i++) {
                const struct map_entry *m = &c->maps[i];
                if (!streq(m->from, domain))
                        continue;
                size_t hostlen = strcspn(m->to, "/");
                _cleanup_free_ char *host = xstrndup(m->to, hostlen);
                _cleanup_free_ char *path =
                        m->to[hostlen] ? xasprintf("%s/%s", m->to + hostlen + 1, ref->path)
                                       : xstrdup(ref->path);
                struct image_ref *r = NULL;
                *ret_mapped = true;
                if (image_ref_from_parts(host, path, ref->tag, ref->digest, &r, err) < 0) {
                        for (size_t k = 0; k < n; k++)
                                image_ref_free(list[k]);
                        free(list);
                        return lerr_wrap(err, "--registry-map '%s=%s'", m->from, m->to);
                }
                list[n++] = r;
        }
        if (!*ret_mapped || !c->skip_default_fallback)
                list[n++] = image_ref_dup(ref);
        *ret = list;
        *ret_n = n;
        return 0;
}

int reg_image_resolve(struct reg_client *c, const struct image_ref *ref,
                      const struct platform *platform, struct reg_image **ret, struct lerr **err)
{
        _cleanup_free_ char *name = image_ref_string(ref);
        struct platform def = {0};
        struct image_ref **list = NULL;
        struct buf tried = BUF_INIT(8192);
        size_t n = 0;
        bool mapped = false;
        int r;

        r = candidates(c, ref, &list, &n, &mapped, err);
        if (r < 0)
                return lerr_wrap(err, "resolve '%s'", name);
        if (!platform) {
                platform_default(&def);
                platform = &def;
        }
        for (size_t i = 0; i < n; i++) {
                struct lerr *e = NULL;
                r = resolve_from(c, list[i], platform, ret, &e);
                if (r >= 0) {
                        if (mapped)
                                log_debug("resolved '%s' from '%s'", name, list[i]->name);
                        break;
                }
                if (i + 1 < n) {
                        /* Kaniko warns and goes on to the next mirror, then the registry */
                        log_debug("'%s' not available from '%s': %s", name, list[i]->name,
                                  lerr_message(e));
                        (void) !buf_printf(&tried, "%s'%s' (%s)", tried.len ? ", " : "",
                                           list[i]->name, lerr_message(e));
                        lerr_free(e);
                        continue;
                }
                if (err) {
                        lerr_free(*err);
                        *err = e;
                } else {
                        lerr_free(e);
                }
                if (tried.len)
                        (void) lerr_wrap(err, "tried %s, then '%s'", tried.data, list[i]->name);
                if (mapped && c->skip_default_fallback)
                        (void) lerr_wrap(err, "not found on any configured mirror "
                                              "(--skip-default-registry-fallback)");
        }
        for (size_t i = 0; i < n; i++)
                image_ref_free(list[i]);
        free(list);
        buf_done(&tried);
        platform_done(&def);
        if (r < 0)
                return lerr_wrap(err, "resolve '%s'", name);
        return 0;
}
