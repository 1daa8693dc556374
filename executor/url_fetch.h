/* SPDX-License-Identifier: Apache-2.0 */
/* Downloads a URL (http or https) into an fd with libcurl: for ADD <url>, an https:// build
 * context and an https:// Dockerfile. The body streams through sha256 into the fd; nothing
 * is held in memory. Redirects are followed (at most URL_FETCH_MAX_REDIRECTS), HTTP errors
 * are errors, transient failures are retried. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include "common/digest.h"

struct buf;
struct lerr;

#define URL_FETCH_MAX_REDIRECTS 5

struct url_fetch_opts {
        uint64_t max_bytes; /* 0: unlimited */
        int retries;        /* extra attempts on connection errors, 429 and 5xx */
        bool insecure_tls;  /* skip certificate verification */
        const char *ca_file;
        const char *const *headers; /* extra request headers "Name: value", NULL-terminated,
                                     * or NULL (libcurl drops Authorization: on a redirect
                                     * to another host) */
        struct buf *error_body;     /* when set, the body of a final HTTP error (>= 400) goes
                                     * here, cut at its max, instead of into out_fd */
        long *error_status;         /* when set, receives the status of that HTTP error */
};

struct url_fetch_result {
        int64_t last_modified; /* seconds since the epoch, -1 when the server did not say */
        uint64_t size;
        char digest[DIGEST_STRING_SIZE];
        long status;
};

/* out_fd must be empty and seekable (it is truncated before a retry). */
int url_fetch(const char *url, int out_fd, const struct url_fetch_opts *o,
              struct url_fetch_result *ret, struct lerr **err);
/* The file name Docker gives a downloaded file: the last path segment of the URL (query and
 * fragment removed), or NULL when there is none. Caller frees. */
char *url_file_name(const char *url);
