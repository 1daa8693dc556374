/* SPDX-License-Identifier: Apache-2.0 */
/* URL downloads for ADD and remote contexts. Registry traffic does not come here: it goes
 * through registry/ (auth, mirrors, digests). */
#include "executor/url_fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/log.h"

struct sink {
        int fd;
        uint64_t size, max;
        struct digest_ctx *digest;
        int error; /* errno of a failed write, or E2BIG */
        CURL *h;
        struct buf *error_body; /* for the body of an HTTP error, or NULL */
};

/* An error body is only kept for the message: what does not fit is dropped. */
static bool took_error_body(struct sink *s, const char *p, size_t n)
{
        long status = 0;
        if (!s->error_body ||
            curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status < 400)
                return false;
        size_t room = s->error_body->max > s->error_body->len
                              ? s->error_body->max - s->error_body->len
                              : 0;
        /* the append fits by the check above; a failure would only shorten the message */
        int r = buf_append(s->error_body, p, n < room ? n : room);
        return r >= 0 || r == -E2BIG;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *userdata)
{
        struct sink *s = userdata;
        size_t n = size * nmemb;
        if (took_error_body(s, p, n))
                return n;
        if (s->max && s->size + n > s->max) {
                s->error = E2BIG;
                return 0;
        }
        int r = fs_write_all(s->fd, p, n);
        if (r < 0) {
                s->error = -r;
                return 0;
        }
        digest_update(s->digest, p, n);
        s->size += n;
        return n;
}

static bool transient(CURLcode cc, long status)
{
        if (cc == CURLE_OK)
                return status == 429 || status >= 500;
        return cc == CURLE_COULDNT_CONNECT || cc == CURLE_OPERATION_TIMEDOUT ||
               cc == CURLE_RECV_ERROR || cc == CURLE_SEND_ERROR || cc == CURLE_GOT_NOTHING ||
               cc == CURLE_PARTIAL_FILE || cc == CURLE_COULDNT_RESOLVE_HOST;
}

static CURLcode attempt(CURL *h, const char *url, struct sink *s, const struct url_fetch_opts *o,
                        struct curl_slist *headers, char *errbuf, long *status,
                        int64_t *last_modified)
{
        curl_easy_reset(h);
        (void) curl_easy_setopt(h, CURLOPT_URL, url);
        (void) curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        (void) curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        (void) curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
        (void) curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long) URL_FETCH_MAX_REDIRECTS);
        (void) curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
        (void) curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        (void) curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
        (void) curl_easy_setopt(h, CURLOPT_FILETIME, 1L);
        (void) curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
        (void) curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        (void) curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 120L);
        (void) curl_easy_setopt(h, CURLOPT_USERAGENT, "lading");
        (void) curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        if (o->insecure_tls) {
                (void) curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
                (void) curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
        }
        if (o->ca_file)
                (void) curl_easy_setopt(h, CURLOPT_CAINFO, o->ca_file);
        if (headers)
                (void) curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
        errbuf[0] = '\0';
        CURLcode cc = curl_easy_perform(h);
        *status = 0;
        (void) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
        curl_off_t ft = -1;
        if (curl_easy_getinfo(h, CURLINFO_FILETIME_T, &ft) != CURLE_OK)
                ft = -1;
        *last_modified = ft;
        return cc;
}

static int restart(struct sink *s)
{
        if (ftruncate(s->fd, 0) < 0 || lseek(s->fd, 0, SEEK_SET) < 0)
                return -errno;
        s->size = 0;
        s->error = 0;
        if (s->error_body)
                buf_reset(s->error_body);
        digest_reset(s->digest);
        return 0;
}

int url_fetch(const char *url, int out_fd, const struct url_fetch_opts *o,
              struct url_fetch_result *ret, struct lerr **err)
{
        char errbuf[CURL_ERROR_SIZE];
        _cleanup_(digest_freep) struct digest_ctx *d = digest_new();
        CURL *h = curl_easy_init();
        struct sink s = {.fd = out_fd,
                         .max = o->max_bytes,
                         .digest = d,
                         .h = h,
                         .error_body = o->error_body};
        struct curl_slist *headers = NULL;
        long status = 0;
        int64_t lm = -1;
        CURLcode cc = CURLE_OK;
        if (!h)
                return lerr_set(err, ENOMEM, "download '%s': cannot create a curl handle", url);
        for (size_t i = 0; o->headers && o->headers[i]; i++) {
                struct curl_slist *l = curl_slist_append(headers, o->headers[i]);
                if (!l) {
                        curl_slist_free_all(headers);
                        curl_easy_cleanup(h);
                        return lerr_set(err, ENOMEM, "download '%s': out of memory", url);
                }
                headers = l;
        }
        for (int i = 0; i <= o->retries; i++) {
                if (i > 0) {
                        log_warn("download '%s' failed (%s), retrying (%d/%d)", url,
                                 cc != CURLE_OK ? curl_easy_strerror(cc) : "server error", i,
                                 o->retries);
                        (void) usleep((useconds_t) (200000u << (i < 6 ? i : 6)));
                        if (restart(&s) < 0)
                                break;
                }
                cc = attempt(h, url, &s, o, headers, errbuf, &status, &lm);
                if (!transient(cc, status) || s.error)
                        break;
        }
        curl_easy_cleanup(h);
        curl_slist_free_all(headers);
        if (s.error == E2BIG)
                return lerr_set(err, E2BIG, "download '%s': larger than %llu bytes", url,
                                (unsigned long long) o->max_bytes);
        if (s.error)
                return lerr_errno(err, s.error, "download '%s': write", url);
        if (cc != CURLE_OK)
                return lerr_set(err, EIO, "download '%s': %s", url,
                                errbuf[0] ? errbuf : curl_easy_strerror(cc));
        if (status >= 400 && o->error_status)
                *o->error_status = status;
        if (status >= 400)
                return lerr_set(err, status == 404 ? ENOENT : EIO, "download '%s': HTTP %ld", url,
                                status);
        ret->last_modified = lm;
        ret->size = s.size;
        ret->status = status;
        digest_final(d, ret->digest);
        return 0;
}

char *url_file_name(const char *url)
{
        const char *p = strstr(url, "://");
        p = p ? p + 3 : url;
        size_t end = strcspn(p, "?#");
        const char *path = memchr(p, '/', end);
        if (!path)
                return NULL;
        size_t n = end - (size_t) (path - p);
        while (n > 0 && path[n - 1] == '/')
                n--;
        const char *last = path;
        for (size_t i = 0; i < n; i++)
                if (path[i] == '/')
                        last = path + i + 1;
        size_t len = (size_t) (path + n - last);
        return len ? xstrndup(last, len) : NULL;
}
