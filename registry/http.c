/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP exchanges through libcurl: one pooled easy handle per request, options set from the
 * endpoint's TLS and scheme policy, headers captured, bodies buffered (bounded) or streamed to
 * a sink, uploads streamed from memory, an fd or a callback, and the retry loop.
 * Knows nothing of auth or of the registry API; never logs a header, a body or a query string
 * (upload locations and storage redirects carry credentials in them). */
#include "registry/client-internal.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/digest.h"
#include "common/err.h"
#include "common/log.h"
#include "common/parse.h"
#include "common/strv.h"
#include "registry/regerr.h"
#include "registry/retry.h"

#define WWW_AUTH_MAX_HEADERS 8

int64_t http_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void http_sleep_ms(long ms)
{
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static void clear_headers(struct http_resp *r)
{
        free(r->location);
        free(r->content_type);
        free(r->digest);
        free(r->retry_after);
        free(r->content_range);
        free(r->link);
        strv_free(r->www_auth);
        r->location = r->content_type = r->digest = r->retry_after = r->content_range = r->link =
                NULL;
        r->www_auth = NULL;
        r->content_length = -1;
}

void http_resp_done(struct http_resp *r)
{
        clear_headers(r);
        buf_done(&r->body);
        free(r->url);
        free(r->auth_source);
        *r = (struct http_resp){.content_length = -1};
}

char *http_url_for_log(const char *url)
{
        CURLU *u = curl_url();
        char *out = NULL, *ret;
        if (u && curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
            curl_url_set(u, CURLUPART_QUERY, NULL, 0) == CURLUE_OK &&
            curl_url_set(u, CURLUPART_USER, NULL, 0) == CURLUE_OK &&
            curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK &&
            curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_URL, &out, 0) == CURLUE_OK) {
                ret = xstrdup(out);
        } else {
                /* unparsable: keep only what comes before any query or userinfo-looking part */
                ret = xstrndup(url, MIN(strcspn(url, "?#@"), (size_t) 200));
        }
        curl_free(out);
        curl_url_cleanup(u);
        return ret;
}

char *http_resolve_url(const char *base, const char *location)
{
        CURLU *u = curl_url();
        char *out = NULL, *ret = NULL;
        if (u && curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
            curl_url_set(u, CURLUPART_URL, location, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_URL, &out, 0) == CURLUE_OK)
                ret = xstrdup(out);
        curl_free(out);
        curl_url_cleanup(u);
        return ret;
}

/* ---- callbacks ---- */

struct xfer {
        CURL *curl;
        const struct http_req *rq;
        struct http_resp *resp;
};

static char *header_value(const char *p, size_t len, const char *name)
{
        size_t n = strlen(name);
        if (len <= n || strncasecmp(p, name, n) != 0 || p[n] != ':')
                return NULL;
        p += n + 1;
        len -= n + 1;
        while (len > 0 && (*p == ' ' || *p == '\t')) {
                p++;
                len--;
        }
        while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == '\n' || p[len - 1] == ' '))
                len--;
        return xstrndup(p, len);
}

static void keep_first(char **field, char *value)
{
        if (!value)
                return;
        if (*field)
                free(value);
        else
                *field = value;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *userdata)
{
        struct xfer *x = userdata;
        struct http_resp *r = x->resp;
        size_t len = size * nmemb;
        char *v;

        /* a new response (after a redirect or a 100 Continue): forget the previous headers */
        if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
                clear_headers(r);
                return len;
        }
        keep_first(&r->location, header_value(p, len, "Location"));
        keep_first(&r->content_type, header_value(p, len, "Content-Type"));
        keep_first(&r->digest, header_value(p, len, "Docker-Content-Digest"));
        keep_first(&r->retry_after, header_value(p, len, "Retry-After"));
        keep_first(&r->content_range, header_value(p, len, "Content-Range"));
        keep_first(&r->link, header_value(p, len, "Link"));
        if ((v = header_value(p, len, "Content-Length"))) {
                uint64_t n;
                if (parse_u64(v, &n) == 0 && n <= INT64_MAX)
                        r->content_length = (int64_t) n;
                free(v);
        }
        if ((v = header_value(p, len, "WWW-Authenticate"))) {
                if (strv_length(r->www_auth) < WWW_AUTH_MAX_HEADERS)
                        strv_consume(&r->www_auth, v);
                else
                        free(v);
        }
        return len;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *userdata)
{
        struct xfer *x = userdata;
        struct http_resp *r = x->resp;
        size_t n = size * nmemb;
        long code = 0;

        (void) curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &code);
        bool success = code >= 200 && code < 300;
        r->status = code; /* sinks may look at it (a resumed blob checks for 206) */
        if (success && x->rq->sink) {
                int k = x->rq->sink->write(x->rq->sink->userdata, p, n);
                if (k < 0) {
                        r->sink_error = k;
                        return 0; /* makes curl stop with CURLE_WRITE_ERROR */
                }
                r->sink_bytes += n;
                return n;
        }
        if (buf_append(&r->body, p, n) < 0) {
                if (success) {
                        r->body_too_big = true;
                        return 0;
                }
                /* an error body only feeds the message: its start is enough */
                return n;
        }
        return n;
}

static size_t on_read(char *out, size_t size, size_t nmemb, void *userdata)
{
        struct upload *u = userdata;
        size_t want = size * nmemb, got = 0;

        if (u->data) {
                got = MIN(want, u->len - (size_t) u->sent);
                memcpy(out, (const char *) u->data + u->sent, got);
        } else if (u->src->fd >= 0) {
                uint64_t left = u->size - u->offset;
                ssize_t k;
                do
                        k = pread(u->src->fd, out, (size_t) MIN((uint64_t) want, left),
                                  (off_t) u->offset);
                while (k < 0 && errno == EINTR);
                if (k < 0) {
                        u->error = -errno;
                        return CURL_READFUNC_ABORT;
                }
                got = (size_t) k;
                u->offset += got;
                if (got == 0 && left > 0) {
                        u->error = -EPIPE; /* the file is shorter than the blob's size */
                        return CURL_READFUNC_ABORT;
                }
        } else {
                ssize_t k = u->src->read(u->src->userdata, out, want);
                if (k < 0) {
                        u->error = (int) k;
                        return CURL_READFUNC_ABORT;
                }
                got = (size_t) k;
                if (got == 0 && u->sent < u->size) {
                        u->error = -EPIPE;
                        return CURL_READFUNC_ABORT;
                }
        }
        if (u->sent + got > (u->data ? u->len : u->size)) {
                u->error = -E2BIG; /* the source has more bytes than the blob's size */
                return CURL_READFUNC_ABORT;
        }
        if (u->hash)
                digest_update(u->hash, out, got);
        u->sent += got;
        return got;
}

static size_t on_read_nothing(char *out, size_t size, size_t nmemb, void *userdata)
{
        (void) out;
        (void) size;
        (void) nmemb;
        (void) userdata;
        return 0;
}

/* Starts an upload over; 0, or -ESPIPE when its source cannot rewind. */
static int upload_rewind(struct upload *u)
{
        if (u->sent == 0 && u->offset == 0)
                return 0;
        if (!u->data && u->src->fd < 0) {
                if (!u->src->rewind || u->src->rewind(u->src->userdata) < 0)
                        return -ESPIPE;
        }
        u->sent = 0;
        u->offset = 0;
        u->error = 0;
        if (u->hash)
                digest_reset(u->hash);
        return 0;
}

static int on_seek(void *userdata, curl_off_t offset, int origin)
{
        struct upload *u = userdata;
        /* curl only seeks back to the start, to resend a body (redirects, auth, a reused
         * connection that died); an upload session may already hold what was sent */
        if (offset != 0 || origin != SEEK_SET || u->no_rewind)
                return CURL_SEEKFUNC_CANTSEEK;
        return upload_rewind(u) < 0 ? CURL_SEEKFUNC_CANTSEEK : CURL_SEEKFUNC_OK;
}

/* ---- one exchange ---- */

static void set_tls(struct reg_client *c, CURL *h, const struct http_req *rq)
{
        const struct endpoint *ep = rq->ep;
        bool verify = !(c->skip_verify[rq->op] || ep->skip_verify_registry);

        (void) curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
        (void) curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
        if (ep->ca_blob) {
                struct curl_blob blob = {
                        .data = ep->ca_blob, .len = ep->ca_blob_len, .flags = CURL_BLOB_NOCOPY};
                (void) curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
        }
        if (ep->client_cert) {
                (void) curl_easy_setopt(h, CURLOPT_SSLCERT, ep->client_cert);
                (void) curl_easy_setopt(h, CURLOPT_SSLKEY, ep->client_key);
        }
}

static struct curl_slist *add_header(struct curl_slist *l, const char *name, const char *value)
{
        _cleanup_free_ char *line = xasprintf("%s: %s", name, value);
        struct curl_slist *n = curl_slist_append(l, line);
        explicit_bzero(line, strlen(line)); /* may be an Authorization header */
        if (!n)
                oom();
        return n;
}

static void set_method(CURL *h, const struct http_req *rq)
{
        struct upload *u = rq->upload;
        curl_off_t size = u ? (curl_off_t) (u->data ? u->len : u->size) : 0;

        if (streq(rq->method, "HEAD")) {
                (void) curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
                return;
        }
        if (streq(rq->method, "GET"))
                return;
        if (streq(rq->method, "POST")) {
                (void) curl_easy_setopt(h, CURLOPT_POST, 1L);
                if (!u) {
                        (void) curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
                        (void) curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) 0);
                        return;
                }
                (void) curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, size);
        } else if (streq(rq->method, "PUT") || streq(rq->method, "PATCH")) {
                (void) curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
                (void) curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, size);
                if (streq(rq->method, "PATCH"))
                        (void) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PATCH");
        } else {
                (void) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
                return;
        }
        if (u) {
                (void) curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
                (void) curl_easy_setopt(h, CURLOPT_READDATA, u);
                (void) curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
                (void) curl_easy_setopt(h, CURLOPT_SEEKDATA, u);
        } else {
                /* a PUT without a body still needs a read callback that says "nothing" */
                (void) curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read_nothing);
        }
}

static void set_options(struct reg_client *c, struct handle *hd, const struct http_req *rq,
                        struct xfer *x, struct curl_slist *headers)
{
        CURL *h = hd->curl;
        bool http_ok = strncmp(rq->url, "http://", 7) == 0 || rq->ep->insecure_registry ||
                       c->insecure[rq->op];
        const char *protocols = http_ok ? "http,https" : "https";

        curl_easy_reset(h);
        hd->errbuf[0] = '\0';
        (void) curl_easy_setopt(h, CURLOPT_URL, rq->url);
        (void) curl_easy_setopt(h, CURLOPT_ERRORBUFFER, hd->errbuf);
        (void) curl_easy_setopt(h, CURLOPT_SHARE, c->share);
        (void) curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        (void) curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
        (void) curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, protocols);
        (void) curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, protocols);
        (void) curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, rq->follow ? 1L : 0L);
        (void) curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long) REG_MAX_REDIRECTS);
        /* Authorization must never follow a redirect to another host (curl's default) */
        (void) curl_easy_setopt(h, CURLOPT_UNRESTRICTED_AUTH, 0L);
        (void) curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_2TLS);
        (void) curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long) c->connect_timeout_s);
        (void) curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        (void) curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long) c->stall_timeout_s);
        (void) curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
        (void) curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 65536L);
        (void) curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        (void) curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
        (void) curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        (void) curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
        (void) curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
        set_tls(c, h, rq);
        set_method(h, rq);
}

static struct curl_slist *build_headers(const struct http_req *rq)
{
        struct curl_slist *l = NULL;
        if (rq->accept)
                l = add_header(l, "Accept", rq->accept);
        if (rq->content_type)
                l = add_header(l, "Content-Type", rq->content_type);
        if (rq->authorization)
                l = add_header(l, "Authorization", rq->authorization);
        if (rq->range_from > 0) {
                _cleanup_free_ char *range =
                        xasprintf("bytes=%llu-", (unsigned long long) rq->range_from);
                l = add_header(l, "Range", range);
        }
        /* no "Expect: 100-continue" round trip before uploads */
        l = curl_slist_append(l, "Expect:");
        if (!l)
                oom();
        return l;
}

static void free_headers(struct curl_slist *l)
{
        for (struct curl_slist *i = l; i; i = i->next)
                explicit_bzero(i->data, strlen(i->data));
        curl_slist_free_all(l);
}

static int transport_error(struct handle *hd, const struct http_req *rq, struct http_resp *resp,
                           CURLcode cc, struct lerr **err)
{
        _cleanup_free_ char *u = http_url_for_log(rq->url);
        const char *detail = hd->errbuf[0] ? hd->errbuf : curl_easy_strerror(cc);

        if (cc == CURLE_WRITE_ERROR && resp->sink_error < 0)
                return lerr_errno(err, resp->sink_error, "%s %s: write the body", rq->method, u);
        if (cc == CURLE_WRITE_ERROR && resp->body_too_big)
                return lerr_set(err, E2BIG, "%s %s: response body over %zu bytes", rq->method, u,
                                resp->body.max);
        if (cc == CURLE_ABORTED_BY_CALLBACK ||
            (cc == CURLE_READ_ERROR && rq->upload && rq->upload->error < 0)) {
                int e = rq->upload && rq->upload->error < 0 ? -rq->upload->error : EIO;
                if (e == E2BIG || e == EPIPE)
                        return lerr_set(err, EBADMSG,
                                        "%s %s: the source does not hold exactly %llu bytes",
                                        rq->method, u, (unsigned long long) rq->upload->size);
                return lerr_errno(err, e, "%s %s: read the upload", rq->method, u);
        }
        int e = cc == CURLE_OPERATION_TIMEDOUT ? ETIMEDOUT
                : cc == CURLE_COULDNT_CONNECT  ? ECONNREFUSED
                : cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE ? EPROTO
                                                                                         : EIO;
        /* errbuf may hold the URL curl was following; it has no credentials (curl strips them) */
        if (cc == CURLE_PEER_FAILED_VERIFICATION)
                return lerr_set(err, e,
                                "%s %s: %s (trust its CA with --registry-certificate, or use "
                                "--skip-tls-verify-registry)",
                                rq->method, u, detail);
        return lerr_set(err, e, "%s %s: %s", rq->method, u, detail);
}

int http_exchange(struct reg_client *c, const struct http_req *rq, struct http_resp *resp,
                  struct lerr **err)
{
        struct handle *hd = client_handle_get(c);
        struct curl_slist *headers = build_headers(rq);
        struct xfer x = {.curl = hd->curl, .rq = rq, .resp = resp};
        size_t max = rq->max_body ? rq->max_body : REG_SMALL_BODY_MAX;
        char *eff = NULL;
        CURLcode cc;
        int r = 0;

        char *auth_source = TAKE_PTR(resp->auth_source);
        http_resp_done(resp);
        resp->auth_source = auth_source;
        resp->body.max = MAX(max, (size_t) REGERR_BODY_MAX);
        set_options(c, hd, rq, &x, headers);
        cc = curl_easy_perform(hd->curl);
        (void) curl_easy_getinfo(hd->curl, CURLINFO_RESPONSE_CODE, &resp->status);
        if (curl_easy_getinfo(hd->curl, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff)
                resp->url = http_url_for_log(eff);
        resp->curl_code = (int) cc;
        /* a 2xx body larger than the caller allowed, even if the buffer could take it */
        if (cc == CURLE_OK && resp->status >= 200 && resp->status < 300 && !rq->sink &&
            resp->body.len > max) {
                resp->body_too_big = true;
                cc = CURLE_WRITE_ERROR;
        }
        if (cc != CURLE_OK)
                r = transport_error(hd, rq, resp, cc, err);
        if (log_enabled(LOG_DEBUG)) {
                _cleanup_free_ char *u = http_url_for_log(rq->url);
                long version = 0;
                (void) curl_easy_getinfo(hd->curl, CURLINFO_HTTP_VERSION, &version);
                if (cc == CURLE_OK)
                        log_debug("%s %s: %s%ld%s%s (%zu bytes%s)", rq->method, u,
                                  version == CURL_HTTP_VERSION_2_0 ? "HTTP/2 " : "", resp->status,
                                  resp->url && !streq(resp->url, u) ? " from " : "",
                                  resp->url && !streq(resp->url, u) ? resp->url : "",
                                  (size_t) (rq->sink && resp->status < 300 ? resp->sink_bytes
                                                                           : resp->body.len),
                                  rq->sink && resp->status < 300 ? " streamed" : "");
                else
                        log_debug("%s %s: failed: %s", rq->method, u, curl_easy_strerror(cc));
        }
        free_headers(headers);
        client_handle_put(c, hd);
        return r;
}

int http_exchange_retry(struct reg_client *c, const struct http_req *rq, struct http_resp *resp,
                        struct lerr **err)
{
        unsigned max =
                rq->no_retry ? 0 : REG_DEFAULT_RETRIES + (unsigned) MAX(c->retries[rq->op], 0);

        for (unsigned attempt = 0;; attempt++) {
                struct lerr *e = NULL;
                long retry_after = -1;
                bool retry;

                if (rq->upload)
                        rq->upload->no_rewind = rq->no_retry;
                if (rq->upload && upload_rewind(rq->upload) < 0)
                        return lerr_set(err, ESPIPE, "%s: the upload source cannot start over",
                                        rq->method);
                int r = http_exchange(c, rq, resp, &e);
                if (r < 0)
                        retry = retry_curl_is_retryable(resp->curl_code) && resp->sink_bytes == 0 &&
                                resp->sink_error == 0;
                else
                        retry = retry_status_is_retryable(resp->status);
                if (retry && rq->upload && !rq->upload->data && rq->upload->src->fd < 0 &&
                    !rq->upload->src->rewind)
                        retry = false;
                if (!retry || attempt >= max) {
                        if (r < 0) {
                                if (err) {
                                        lerr_free(*err);
                                        *err = e;
                                } else {
                                        lerr_free(e);
                                }
                        }
                        return r;
                }
                if (r >= 0 && resp->retry_after &&
                    retry_after_parse(resp->retry_after, time(NULL), &retry_after) < 0)
                        retry_after = -1;
                long delay = retry_delay_ms(attempt, c->retry_base_ms, retry_after, retry_random());
                _cleanup_free_ char *u = http_url_for_log(rq->url);
                if (r < 0)
                        log_debug("%s, retrying in %ld ms (retry %u of %u)", lerr_message(e), delay,
                                  attempt + 1, max);
                else
                        log_debug("%s %s: HTTP %ld, retrying in %ld ms (retry %u of %u)",
                                  rq->method, u, resp->status, delay, attempt + 1, max);
                lerr_free(e);
                http_sleep_ms(delay);
        }
}
