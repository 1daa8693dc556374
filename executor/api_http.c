/* SPDX-License-Identifier: Apache-2.0 */
#include "executor/api_http.h"

#include <curl/curl.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <openssl/crypto.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "common/macros.h"

#define METADATA_HOSTS "169.254.169.254,169.254.170.2,metadata.google.internal"

static size_t on_body(char *p, size_t size, size_t nmemb, void *userdata)
{
        size_t n = size * nmemb;
        return buf_append(userdata, p, n) < 0 ? 0 : n;
}

static void slist_cleanse_free(struct curl_slist **l)
{
        for (struct curl_slist *it = *l; it; it = it->next)
                OPENSSL_cleanse(it->data, strlen(it->data));
        curl_slist_free_all(*l);
}

static void curl_cleanupp(CURL **h)
{
        if (*h)
                curl_easy_cleanup(*h);
}

static const char *method_of(const struct api_request *q)
{
        return q->method ?: q->body ? "POST" : "GET";
}

static CURLcode perform(CURL *h, const struct api_request *q, struct curl_slist *headers,
                        struct buf *out, char *errbuf)
{
        curl_easy_reset(h);
        (void) curl_easy_setopt(h, CURLOPT_URL, q->url);
        (void) curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, q->protocols ?: "http,https");
        (void) curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
        (void) curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
        (void) curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        (void) curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
        (void) curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, q->connect_ms ?: 10000L);
        (void) curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, q->total_ms ?: 60000L);
        (void) curl_easy_setopt(h, CURLOPT_USERAGENT, "lading");
        (void) curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        (void) curl_easy_setopt(h, CURLOPT_NOPROXY, METADATA_HOSTS);
        if (q->body) {
                (void) curl_easy_setopt(h, CURLOPT_POSTFIELDS, q->body);
                (void) curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long) strlen(q->body));
        }
        if (!streq(method_of(q), q->body ? "POST" : "GET"))
                (void) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method_of(q));
        if (headers)
                (void) curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
        errbuf[0] = '\0';
        return curl_easy_perform(h);
}

int api_request(const struct api_request *q, struct buf *out, long *ret_status, struct lerr **err)
{
        char errbuf[CURL_ERROR_SIZE];
        _cleanup_(curl_cleanupp) CURL *h = curl_easy_init();
        _cleanup_(slist_cleanse_free) struct curl_slist *headers = NULL;
        CURLcode cc = CURLE_OK;
        long status = 0;
        if (!h)
                return lerr_set(err, ENOMEM, "cannot create a curl handle");
        for (size_t i = 0; q->headers && q->headers[i]; i++) {
                struct curl_slist *l = curl_slist_append(headers, q->headers[i]);
                if (!l)
                        return lerr_set(err, ENOMEM, "out of memory");
                headers = l;
        }
        for (int i = 0; i <= q->retries; i++) {
                if (i > 0)
                        (void) usleep(100000u << (i < 4 ? i : 4));
                buf_reset(out);
                cc = perform(h, q, headers, out, errbuf);
                status = 0;
                (void) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
                if (cc == CURLE_WRITE_ERROR)
                        return lerr_set(err, E2BIG, "response over the limit of %zu bytes",
                                        out->max);
                if (cc == CURLE_OK && status < 500)
                        break;
                if (q->retries)
                        log_debug("%s %s failed (%s), %s", method_of(q), q->url,
                                  cc != CURLE_OK ? curl_easy_strerror(cc) : "server error",
                                  i < q->retries ? "retrying" : "giving up");
        }
        if (cc != CURLE_OK)
                return lerr_set(err, EIO, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
        *ret_status = status;
        return 0;
}
