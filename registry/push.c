/* SPDX-License-Identifier: Apache-2.0 */
/* Pushing: the push-permission check, blob existence, cross-repository mounts, uploads
 * (monolithic when small, else POST + one streamed PATCH + PUT ?digest=), manifests, tags.
 * Upload sessions are retried as a whole (a fresh POST), never by resending into a session
 * that may hold part of the bytes. */
#include "registry/registry.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strv.h"
#include "registry/client-internal.h"
#include "registry/regerr.h"
#include "registry/retry.h"

#define TAGS_PAGE_MAX  (4 * 1024 * 1024)
#define TAGS_PAGES_MAX 1000

static char *push_scope(const struct image_ref *r)
{
        return image_ref_scope(r, "pull,push");
}

/* Fails unless resp has status want; err gets "HTTP …" with the registry's words. */
static int expect(struct endpoint *ep, const struct http_resp *resp, long want, struct lerr **err)
{
        if (resp->status == want)
                return 0;
        return reg_status_error(ep, resp, err);
}

static int simple(struct reg_client *c, struct endpoint *ep, const char *scope, const char *method,
                  const char *url, struct http_resp *resp, struct lerr **err)
{
        struct http_req rq = {
                .op = REG_OP_PUSH, .ep = ep, .method = method, .url = url, .follow = false};
        return reg_send(c, ep, scope, &rq, resp, err);
}

/* The upload URL from a Location header, resolved against the registry's base. */
static int location(struct endpoint *ep, const struct http_resp *resp, char **ret,
                    struct lerr **err)
{
        if (!resp->location || !resp->location[0])
                return lerr_set(err, EPROTO, "HTTP %ld without a Location header", resp->status);
        _cleanup_free_ char *base = xasprintf("%s://%s/v2/", reg_scheme(ep, REG_OP_PUSH), ep->host);
        *ret = http_resolve_url(base, resp->location);
        if (!*ret)
                return lerr_set(err, EPROTO, "invalid Location header in an upload response");
        return 0;
}

static void cancel_upload(struct reg_client *c, struct endpoint *ep, const char *scope,
                          const char *url)
{
        struct http_resp resp = {.content_length = -1};
        struct lerr *e = NULL;
        /* best effort: the registry expires abandoned sessions anyway */
        if (simple(c, ep, scope, "DELETE", url, &resp, &e) < 0)
                log_debug("cancel upload: %s", lerr_message(e));
        lerr_free(e);
        http_resp_done(&resp);
}

int reg_check_push(struct reg_client *c, const struct image_ref *dst, struct lerr **err)
{
        struct endpoint *ep = client_endpoint(c, dst->domain);
        _cleanup_free_ char *scope = push_scope(dst), *loc = NULL;
        _cleanup_free_ char *path = xasprintf("/v2/%s/blobs/uploads/", dst->path);
        struct http_resp resp = {.content_length = -1};
        int r;

        r = simple(c, ep, scope, "POST", path, &resp, err);
        if (r >= 0)
                r = expect(ep, &resp, 202, err);
        if (r >= 0 && location(ep, &resp, &loc, NULL) >= 0)
                cancel_upload(c, ep, scope, loc);
        http_resp_done(&resp);
        if (r < 0)
                return lerr_wrap(err, "check push permission for '%s'", dst->name);
        return 0;
}

int reg_blob_exists(struct reg_client *c, const struct image_ref *repo, const char *digest,
                    uint64_t *ret_size, struct lerr **err)
{
        struct endpoint *ep = client_endpoint(c, repo->domain);
        _cleanup_free_ char *scope = push_scope(repo);
        _cleanup_free_ char *path = xasprintf("/v2/%s/blobs/%s", repo->path, digest);
        struct http_resp resp = {.content_length = -1};
        struct http_req rq = {
                .op = REG_OP_PUSH, .ep = ep, .method = "HEAD", .url = path, .follow = true};
        int r;

        r = reg_send(c, ep, scope, &rq, &resp, err);
        if (r >= 0 && resp.status == 200) {
                if (ret_size)
                        *ret_size = resp.content_length >= 0 ? (uint64_t) resp.content_length : 0;
                r = 1;
        } else if (r >= 0 && resp.status == 404) {
                r = 0;
        } else if (r >= 0) {
                r = reg_status_error(ep, &resp, err);
        }
        http_resp_done(&resp);
        if (r < 0)
                return lerr_wrap(err, "check for blob %s in '%s'", digest, repo->name);
        return r;
}

/* Mounts the blob from p->mount_from: 1 mounted, 0 not (then *ret_session may hold the upload
 * session the registry opened instead). Failures are not errors: an upload follows. */
static int try_mount(struct reg_client *c, struct endpoint *ep, const struct image_ref *dst,
                     const struct reg_push *p, char **ret_session)
{
        const struct image_ref *src = p->mount_from;
        _cleanup_free_ char *sd = image_ref_normalize_domain(src->domain);
        _cleanup_free_ char *dd = image_ref_normalize_domain(dst->domain);
        if (!sd || !dd || !streq(sd, dd) || streq(src->path, dst->path))
                return 0;

        _cleanup_free_ char *dscope = push_scope(dst), *sscope = image_ref_scope(src, "pull");
        _cleanup_free_ char *scope = xasprintf("%s %s", dscope, sscope);
        _cleanup_free_ char *path = xasprintf("/v2/%s/blobs/uploads/?mount=%s&from=%s", dst->path,
                                              p->digest, src->path);
        struct http_resp resp = {.content_length = -1};
        struct lerr *e = NULL;
        int r = simple(c, ep, scope, "POST", path, &resp, &e);
        if (r >= 0 && resp.status == 201) {
                r = 1;
        } else if (r >= 0 && resp.status == 202) {
                /* not mountable (no access to the source, or the blob is not there): the
                 * registry opened a normal upload session instead */
                if (location(ep, &resp, ret_session, NULL) < 0)
                        *ret_session = NULL;
                r = 0;
        } else {
                if (r >= 0)
                        (void) reg_status_error(ep, &resp, &e);
                log_debug("mount %s from '%s' into '%s' failed, uploading: %s", p->digest,
                          src->name, dst->name, lerr_message(e));
                r = 0;
        }
        lerr_free(e);
        http_resp_done(&resp);
        return r;
}

static char *with_digest(const char *url, const char *digest)
{
        return xasprintf("%s%sdigest=%s", url, strchr(url, '?') ? "&" : "?", digest);
}

static int check_pushed_digest(const struct http_resp *resp, const char *digest, struct lerr **err)
{
        if (resp->digest && digest_is_valid(resp->digest) && !streq(resp->digest, digest))
                return lerr_set(err, EBADMSG, "the registry stored %s instead", resp->digest);
        return 0;
}

/* Reads a small blob into memory and checks it before anything is sent. */
static int read_small(const struct reg_push *p, char **ret, struct lerr **err)
{
        _cleanup_free_ char *data = xmalloc(p->size + 1);
        uint64_t got = 0;
        char extra;

        if (p->src.fd < 0 && p->src.rewind && p->src.rewind(p->src.userdata) < 0)
                return lerr_set(err, ESPIPE, "rewind the blob source");
        while (got < p->size) {
                ssize_t k = p->src.fd >= 0
                                    ? pread(p->src.fd, data + got, p->size - got, (off_t) got)
                                    : p->src.read(p->src.userdata, data + got, p->size - got);
                if (k < 0 && p->src.fd >= 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return lerr_errno(err, p->src.fd >= 0 ? errno : (int) -k,
                                          "read the blob source");
                if (k == 0)
                        break;
                got += (uint64_t) k;
        }
        ssize_t more = p->src.fd >= 0 ? pread(p->src.fd, &extra, 1, (off_t) got)
                                      : p->src.read(p->src.userdata, &extra, 1);
        if (got != p->size || more > 0)
                return lerr_set(err, EBADMSG, "the blob source does not hold exactly %llu bytes",
                                (unsigned long long) p->size);
        char d[DIGEST_STRING_SIZE];
        digest_buffer(data, p->size, d);
        if (!streq(d, p->digest))
                return lerr_set(err, EBADMSG, "the blob source's content is %s, not %s", d,
                                p->digest);
        *ret = TAKE_PTR(data);
        return 0;
}

/* Whether a failed upload request may be cured by a new session: transport failures,
 * retryable statuses, and a session the registry no longer accepts. */
static bool restartable(const struct http_resp *resp, const struct upload *up)
{
        if (up && up->error != 0)
                return false;
        if (resp->status == 0)
                return resp->curl_code == CURLE_SEND_FAIL_REWIND ||
                       retry_curl_is_retryable(resp->curl_code);
        if (retry_status_is_retryable(resp->status))
                return true;
        return (resp->status == 404 || resp->status == 416) &&
               (regerr_has_code(resp->body.data, resp->body.len, "BLOB_UPLOAD_UNKNOWN") ||
                regerr_has_code(resp->body.data, resp->body.len, "BLOB_UPLOAD_INVALID"));
}

static int start_session(struct reg_client *c, struct endpoint *ep, const struct image_ref *dst,
                         const char *scope, char **ret_url, bool *ret_retry, struct lerr **err)
{
        _cleanup_free_ char *path = xasprintf("/v2/%s/blobs/uploads/", dst->path);
        struct http_resp resp = {.content_length = -1};
        int r = simple(c, ep, scope, "POST", path, &resp, err);
        if (r >= 0)
                r = expect(ep, &resp, 202, err);
        if (r >= 0)
                r = location(ep, &resp, ret_url, err);
        *ret_retry = r < 0 && restartable(&resp, NULL);
        http_resp_done(&resp);
        return r < 0 ? lerr_wrap(err, "start upload") : 0;
}

/* Streams the blob into the session with one PATCH, hashing what is sent; *ret_next is where
 * the upload continues. The PUT that commits comes only if the hash matches. */
static int patch(struct reg_client *c, struct endpoint *ep, const char *scope, const char *url,
                 const struct reg_push *p, char **ret_next, bool *ret_retry, struct lerr **err)
{
        _cleanup_(digest_freep) struct digest_ctx *hash = digest_new();
        struct upload up = {.src = &p->src, .size = p->size, .hash = hash};
        struct http_resp resp = {.content_length = -1};
        struct http_req rq = {.op = REG_OP_PUSH,
                              .ep = ep,
                              .method = "PATCH",
                              .url = url,
                              .content_type = "application/octet-stream",
                              .upload = &up,
                              .no_retry = true};
        char d[DIGEST_STRING_SIZE];
        int r = reg_send(c, ep, scope, &rq, &resp, err);
        if (r >= 0)
                r = expect(ep, &resp, 202, err);
        if (r >= 0)
                r = location(ep, &resp, ret_next, err);
        *ret_retry = r < 0 && restartable(&resp, &up);
        http_resp_done(&resp);
        if (r >= 0) {
                digest_final(hash, d);
                if (up.sent != p->size || !streq(d, p->digest))
                        r = lerr_set(err, EBADMSG,
                                     "the blob source's content is %s, not %s; not committing "
                                     "the upload",
                                     d, p->digest);
        }
        return r < 0 ? lerr_wrap(err, "upload") : 0;
}

/* The PUT ?digest= that completes a session, with the rest of the bytes (or none). */
static int commit(struct reg_client *c, struct endpoint *ep, const char *scope, const char *url,
                  const struct reg_push *p, struct upload *up, bool *ret_retry, struct lerr **err)
{
        _cleanup_free_ char *put = with_digest(url, p->digest);
        struct http_resp resp = {.content_length = -1};
        struct http_req rq = {.op = REG_OP_PUSH,
                              .ep = ep,
                              .method = "PUT",
                              .url = put,
                              .content_type = "application/octet-stream",
                              .upload = up,
                              .no_retry = true};
        int r = reg_send(c, ep, scope, &rq, &resp, err);
        if (r >= 0)
                r = expect(ep, &resp, 201, err);
        if (r >= 0)
                r = check_pushed_digest(&resp, p->digest, err);
        *ret_retry = r < 0 && restartable(&resp, up);
        http_resp_done(&resp);
        return r < 0 ? lerr_wrap(err, "commit upload") : 0;
}

/* One upload attempt into session (a URL, or NULL to open one). *ret_retry says whether a new
 * attempt may cure the failure. */
static int upload_once(struct reg_client *c, struct endpoint *ep, const struct image_ref *dst,
                       const struct reg_push *p, char *session, bool *ret_retry, struct lerr **err)
{
        _cleanup_free_ char *scope = push_scope(dst), *url = session, *next = NULL;
        _cleanup_free_ char *small = NULL;
        struct upload up = {.data = "", .len = 0};
        int r;

        *ret_retry = false;
        if (!url && (r = start_session(c, ep, dst, scope, &url, ret_retry, err)) < 0)
                return r;
        if (p->size <= REG_MONOLITHIC_MAX) {
                /* small: read and checked first, then one PUT carries it */
                r = read_small(p, &small, err);
                up = (struct upload){.data = small, .len = p->size};
        } else {
                r = patch(c, ep, scope, url, p, &next, ret_retry, err);
        }
        if (r < 0) {
                cancel_upload(c, ep, scope, url);
                return r;
        }
        return commit(c, ep, scope, next ? next : url, p, &up, ret_retry, err);
}

static bool source_rewindable(const struct reg_blob_source *s)
{
        return s->fd >= 0 || s->rewind != NULL;
}

int reg_blob_push(struct reg_client *c, const struct image_ref *dst, struct reg_push *p,
                  struct lerr **err)
{
        struct endpoint *ep = client_endpoint(c, dst->domain);
        unsigned max = REG_DEFAULT_RETRIES + (unsigned) c->retries[REG_OP_PUSH];
        char *session = NULL;
        int r;

        if (!digest_is_valid(p->digest))
                return lerr_set(err, EINVAL, "push blob: invalid digest '%.100s'", p->digest);
        r = reg_blob_exists(c, dst, p->digest, NULL, err);
        if (r < 0)
                return lerr_wrap(err, "push blob %s", p->digest);
        if (r > 0) {
                log_debug("blob %s already in '%s'", p->digest, dst->name);
                p->result = REG_BLOB_EXISTED;
                return 0;
        }
        if (p->mount_from && try_mount(c, ep, dst, p, &session) > 0) {
                log_debug("mounted blob %s from '%s' into '%s'", p->digest, p->mount_from->name,
                          dst->name);
                p->result = REG_BLOB_MOUNTED;
                return 0;
        }
        for (unsigned attempt = 0;; attempt++) {
                struct lerr *e = NULL;
                bool retry = false;
                r = upload_once(c, ep, dst, p, TAKE_PTR(session), &retry, &e);
                if (r >= 0)
                        break;
                if (!retry || attempt >= max || (attempt > 0 && !source_rewindable(&p->src)) ||
                    (!source_rewindable(&p->src) && p->size > REG_MONOLITHIC_MAX)) {
                        if (err) {
                                lerr_free(*err);
                                *err = e;
                        } else {
                                lerr_free(e);
                        }
                        return lerr_wrap(err, "push blob %s to '%s'", p->digest, dst->name);
                }
                long delay = retry_delay_ms(attempt, c->retry_base_ms, -1, retry_random());
                log_debug("%s; starting the upload again in %ld ms", lerr_message(e), delay);
                lerr_free(e);
                http_sleep_ms(delay);
        }
        log_debug("uploaded blob %s (%llu bytes) to '%s'", p->digest, (unsigned long long) p->size,
                  dst->name);
        p->result = REG_BLOB_UPLOADED;
        return 0;
}

struct push_jobs {
        struct reg_client *c;
        const struct image_ref *dst;
        struct reg_push *jobs;
};

static int push_job(void *userdata, size_t i, struct lerr **err)
{
        struct push_jobs *pj = userdata;
        return reg_blob_push(pj->c, pj->dst, &pj->jobs[i], err);
}

int reg_blobs_push(struct reg_client *c, const struct image_ref *dst, struct reg_push *jobs,
                   size_t n, struct lerr **err)
{
        struct push_jobs pj = {.c = c, .dst = dst, .jobs = jobs};
        return client_pool_run(c, n, push_job, &pj, err);
}

int reg_manifest_put(struct reg_client *c, const struct image_ref *dst, const char *media_type,
                     const void *data, size_t len, char ret_digest[DIGEST_STRING_SIZE],
                     struct lerr **err)
{
        struct endpoint *ep = client_endpoint(c, dst->domain);
        _cleanup_free_ char *scope = push_scope(dst), *name = image_ref_string(dst);
        char digest[DIGEST_STRING_SIZE];
        struct upload up = {.data = data, .len = len};
        struct http_resp resp = {.content_length = -1};
        int r = 0;

        digest_buffer(data, len, digest);
        if (len > MANIFEST_MAX_BYTES)
                r = lerr_set(err, E2BIG, "manifest is %zu bytes, over the limit of %u", len,
                             MANIFEST_MAX_BYTES);
        else if (dst->digest && !streq(dst->digest, digest))
                r = lerr_set(err, EINVAL, "manifest digest is %s, not the %s asked for", digest,
                             dst->digest);
        if (r < 0)
                return lerr_wrap(err, "push manifest to '%s'", name);

        _cleanup_free_ char *path =
                xasprintf("/v2/%s/manifests/%s", dst->path, dst->tag ? dst->tag : digest);
        struct http_req rq = {.op = REG_OP_PUSH,
                              .ep = ep,
                              .method = "PUT",
                              .url = path,
                              .content_type = media_type,
                              .upload = &up};
        r = reg_send(c, ep, scope, &rq, &resp, err);
        if (r >= 0)
                r = expect(ep, &resp, 201, err);
        if (r >= 0)
                r = check_pushed_digest(&resp, digest, err);
        http_resp_done(&resp);
        if (r < 0)
                return lerr_wrap(err, "push manifest to '%s'", name);
        memcpy(ret_digest, digest, DIGEST_STRING_SIZE);
        return 0;
}

/* The target of a Link header with rel="next" (RFC 8288), or NULL. */
static char *link_next(const char *link)
{
        if (!link || link[0] != '<')
                return NULL;
        const char *end = strchr(link, '>');
        if (!end || !strstr(end, "rel=\"next\""))
                return NULL;
        return xstrndup(link + 1, (size_t) (end - link - 1));
}

static int parse_tags(const struct http_resp *resp, char ***tags, struct lerr **err)
{
        _cleanup_(cJSON_Deletep) cJSON *j = NULL;
        const cJSON *arr = NULL, *t;
        if (json_parse(resp->body.data ? resp->body.data : "", resp->body.len, TAGS_PAGE_MAX,
                       "tag list", &j, err) < 0)
                return -EBADMSG;
        if (json_get_array(j, "tags", &arr, err) < 0)
                return -EBADMSG;
        cJSON_ArrayForEach(t, arr)
        {
                if (!cJSON_IsString(t) || strlen(t->valuestring) > IMAGE_REF_TAG_MAX)
                        return lerr_set(err, EBADMSG, "tag list holds something not a tag");
                if (strv_length(*tags) >= REG_TAGS_MAX)
                        return lerr_set(err, E2BIG, "more than %d tags", REG_TAGS_MAX);
                strv_push(tags, t->valuestring);
        }
        return 0;
}

int reg_tags_list(struct reg_client *c, const struct image_ref *repo, char ***ret,
                  struct lerr **err)
{
        struct endpoint *ep = client_endpoint(c, repo->domain);
        _cleanup_free_ char *scope = image_ref_scope(repo, "pull");
        _cleanup_free_ char *url = xasprintf("/v2/%s/tags/list?n=1000", repo->path);
        _cleanup_(strv_freep) char **tags = NULL;
        int r = 0;

        for (int page = 0; url && page < TAGS_PAGES_MAX; page++) {
                struct http_resp resp = {.content_length = -1};
                struct http_req rq = {.op = REG_OP_PULL,
                                      .ep = ep,
                                      .method = "GET",
                                      .url = url,
                                      .accept = "application/json",
                                      .max_body = TAGS_PAGE_MAX,
                                      .follow = true};
                r = reg_send(c, ep, scope, &rq, &resp, err);
                if (r >= 0)
                        r = expect(ep, &resp, 200, err);
                if (r >= 0)
                        r = parse_tags(&resp, &tags, err);
                _cleanup_free_ char *next = r >= 0 ? link_next(resp.link) : NULL;
                _cleanup_free_ char *base =
                        xasprintf("%s://%s/v2/", reg_scheme(ep, REG_OP_PULL), ep->host);
                free(url);
                url = next ? http_resolve_url(base, next) : NULL;
                http_resp_done(&resp);
                if (r < 0)
                        return lerr_wrap(err, "list tags of '%s'", repo->name);
        }
        *ret = TAKE_PTR(tags);
        if (!*ret)
                *ret = xcalloc(1, sizeof(char *));
        return 0;
}
