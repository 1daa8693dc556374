/* SPDX-License-Identifier: Apache-2.0 */
/* Internals shared by client.c (options, endpoints), http.c (libcurl), auth.c (challenges,
 * tokens), pull.c and push.c. Not for use outside registry/ and its tests. */
#pragma once

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "common/buf.h"
#include "registry/registry.h"

struct creds;
struct creds_store;

enum reg_op {
        REG_OP_PULL,
        REG_OP_PUSH,
};

enum auth_kind {
        AUTH_UNKNOWN, /* not pinged yet */
        AUTH_NONE,
        AUTH_BASIC,
        AUTH_BEARER,
};

struct token {
        char *scope; /* space-separated scopes, as sent */
        char *value;
        int64_t expires_ms; /* CLOCK_MONOTONIC */
};

/* One registry as the client talks to it. Created on first use, lives as long as the client.
 * lock guards everything below it; it is held across a ping or a token request, so that
 * parallel transfers wait for one answer instead of all asking. */
struct endpoint {
        char *domain; /* normalised ("docker.io", "localhost:5000"): creds, flags, messages */
        char *host;   /* what URLs use ("registry-1.docker.io") */
        bool insecure_registry;    /* --insecure-registry or an http:// mirror */
        bool skip_verify_registry; /* --skip-tls-verify-registry */
        char *ca_file;             /* --registry-certificate */
        char *client_cert, *client_key;
        char *ca_blob; /* the client's CA bundle plus ca_file, or NULL for libcurl's default */
        size_t ca_blob_len;

        pthread_mutex_t lock;
        bool pinged[2];   /* per reg_op: the scheme may differ (--insecure vs --insecure-pull) */
        bool use_http[2]; /* per reg_op */
        enum auth_kind kind;
        char *realm, *service;
        struct ep_creds {
                char *repo; /* "" when looked up for the whole registry */
                struct creds *creds;
        } * creds; /* looked up on first need, per repository (config keys may name one) */
        size_t n_creds;
        struct token *tokens;
        size_t n_tokens;
};

/* A pooled libcurl easy handle; its connection cache is what makes requests reuse
 * connections. */
struct handle {
        CURL *curl;
        char errbuf[CURL_ERROR_SIZE];
};

struct map_entry {
        char *from;   /* normalised domain */
        char *to;     /* "host[:port][/path/prefix]" */
        bool to_http; /* given as http:// */
};

struct reg_client {
        char *kaniko_dir;
        char *user_agent;
        bool insecure[2], skip_verify[2];
        char **insecure_registries, **skip_verify_registries; /* normalised domains */
        char **certs;                                         /* "domain=path", domain normalised */
        char **client_certs;                                  /* "domain=cert,key" */
        struct map_entry *maps;
        size_t n_maps;
        bool skip_default_fallback;
        int retries[2];
        unsigned parallel, retry_base_ms, connect_timeout_s, stall_timeout_s;

        struct creds_store *creds;
        char *ca_bundle; /* system bundle + $KANIKO_DIR/ssl/certs, or NULL */
        size_t ca_bundle_len;

        CURLSH *share;
        pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
        pthread_mutex_t lock; /* guards endpoints and idle */
        struct endpoint **endpoints;
        size_t n_endpoints;
        struct handle **idle;
        size_t n_idle;
};

/* ---- client.c ---- */

/* The endpoint for a reference's registry, created on first use. Never NULL. */
struct endpoint *client_endpoint(struct reg_client *c, const char *domain);
struct handle *client_handle_get(struct reg_client *c);
void client_handle_put(struct reg_client *c, struct handle *h);

/* ---- http.c ---- */

/* Where an upload's bytes come from. */
struct upload {
        const void *data; /* a memory body, or */
        size_t len;
        const struct reg_blob_source *src; /* a streamed one of size bytes */
        uint64_t size;
        uint64_t offset;         /* next byte to read from src->fd */
        struct digest_ctx *hash; /* if set, every byte sent is hashed */
        uint64_t sent;
        int error;      /* negative errno from the source */
        bool no_rewind; /* never resend into an upload session: the caller starts over */
};

struct http_req {
        enum reg_op op;
        struct endpoint *ep; /* TLS and scheme policy */
        const char *method;  /* GET HEAD POST PUT PATCH DELETE */
        const char *url;
        const char *authorization; /* header value; curl drops it on redirects to other hosts */
        const char *accept;
        const char *content_type;
        uint64_t range_from; /* > 0: "Range: bytes=N-" */
        struct upload *upload;
        size_t max_body;                  /* for buffered bodies; 0: REG_SMALL_BODY_MAX */
        const struct reg_blob_sink *sink; /* 2xx bodies go here instead of the buffer */
        bool follow;                      /* follow redirects (GET, HEAD) */
        bool no_retry; /* the caller retries the whole operation (upload sessions) */
};

struct http_resp {
        long status;
        int curl_code;
        struct buf body;
        bool body_too_big;
        int sink_error;      /* the sink's negative errno, if it aborted */
        uint64_t sink_bytes; /* bytes given to the sink */
        int64_t content_length;
        char *location, *content_type, *digest, *retry_after, *content_range, *link;
        char **www_auth;
        char *url;         /* after redirects, without query */
        char *auth_source; /* the credential used (creds->source), for 401/403 messages */
};

void http_resp_done(struct http_resp *r);
/* Runs fn(i) for i in [0, n) on up to c->parallel threads (the calling thread is one of them).
 * After the first failure no new index is started; that failure is returned in err. */
int client_pool_run(struct reg_client *c, size_t n,
                    int (*fn)(void *userdata, size_t i, struct lerr **err), void *userdata,
                    struct lerr **err);
/* One request and its response (any status): 0, or a negative errno when no response came
 * (err: "GET https://host/v2/…: Connection refused"). */
int http_exchange(struct reg_client *c, const struct http_req *rq, struct http_resp *resp,
                  struct lerr **err);
/* http_exchange with retries (c->retries[rq->op] on top of REG_DEFAULT_RETRIES) on transport
 * failures and retryable statuses. No retry once a sink got data or when an upload cannot
 * start over. On a retryable status after the last try, returns 0 with that response. */
int http_exchange_retry(struct reg_client *c, const struct http_req *rq, struct http_resp *resp,
                        struct lerr **err);
/* The URL as it may be logged or put in an error: no userinfo, no query. Caller frees. */
char *http_url_for_log(const char *url);
/* Resolves a Location header against the request URL. Caller frees; NULL if invalid. */
char *http_resolve_url(const char *base, const char *location);
/* Sleeps ms milliseconds (interrupted sleeps are resumed). */
void http_sleep_ms(long ms);
int64_t http_now_ms(void);

/* ---- auth.c ---- */

/* Sends rq to ep's registry: learns the scheme and challenge first (GET /v2/), adds Basic or
 * Bearer authorization for scope (space-separated scopes; NULL for none), retries, and on a
 * 401 refreshes the token once. rq->url is a path ("/v2/...") or an absolute URL (upload
 * locations). The response may have any status: callers judge it with reg_status_error(). */
int reg_send(struct reg_client *c, struct endpoint *ep, const char *scope, struct http_req *rq,
             struct http_resp *resp, struct lerr **err);
/* The scheme chosen for ep ("https" or "http"); ep must have been pinged for op. */
const char *reg_scheme(const struct endpoint *ep, enum reg_op op);
/* Fills err for an unexpected status: "HTTP 404 Not Found: MANIFEST_UNKNOWN: …"; for 401 and
 * 403 the credential source is appended. Returns the negative errno. */
int reg_status_error(struct endpoint *ep, const struct http_resp *resp, struct lerr **err);
void endpoint_free(struct endpoint *ep);
