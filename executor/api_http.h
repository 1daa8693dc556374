/* SPDX-License-Identifier: Apache-2.0 */
/* One small request to a cloud API (OAuth token endpoints, STS, ECS, instance metadata, ECR,
 * Azure AD): no redirects, bounded time, the response body (any status) in a bounded buffer,
 * request headers wiped after use (they may carry a signature or a token), optional retries.
 * The metadata servers (169.254.169.254, ECS's 169.254.170.2, metadata.google.internal) are
 * never reached through a proxy. Registry traffic goes through registry/http.c instead. */
#pragma once

#include "common/macros.h"

struct buf;
struct lerr;

struct api_request {
        const char *method; /* NULL: POST when there is a body, else GET */
        const char *url;
        const char *const *headers; /* "Name: value", NULL-terminated, or NULL */
        const char *body;           /* or NULL */
        const char *protocols;      /* curl's list; NULL: "http,https" */
        long connect_ms, total_ms;  /* 0: 10 s and 60 s */
        int retries;                /* extra attempts on connection errors and 5xx */
};

/* Returns 0 with *ret_status and the body in out (up to out->max), or -EIO (no complete
 * response; curl's reason in err) / -E2BIG (the body is over out->max). err names no URL:
 * the caller knows which endpoint it asked. */
int api_request(const struct api_request *q, struct buf *out, long *ret_status,
                struct lerr **err) WUR;
