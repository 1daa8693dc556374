/* SPDX-License-Identifier: Apache-2.0 */
/* The OCI distribution client: what the build asks of registries.
 *
 * One struct reg_client per process holds the options, the credentials (config.json, loaded
 * once), the connection pool (libcurl easy handles reused across requests, DNS and TLS sessions
 * shared), per-registry state (scheme, auth challenge, cached Bearer tokens per scope) and the
 * mirror/map table. It is safe to use from several threads at once; the reg_*s() functions
 * use a small worker pool themselves.
 *
 * Every blob is streamed and verified on the fly (size, then sha256); nothing of a blob is held
 * in memory. Every request is retried on connection errors, 408, 429 (Retry-After honoured)
 * and 5xx with exponential backoff and jitter: REG_DEFAULT_RETRIES times, plus the extra
 * retries of --image-download-retry / --push-retry.
 *
 * HTTPS is always tried first. Plain HTTP is tried after it fails to connect when the registry
 * is insecure for the operation (--insecure for pushes, --insecure-pull for pulls,
 * --insecure-registry for both, an http:// mirror) and, as go-containerregistry does, for
 * loopback and RFC 1918 addresses. TLS trusts the system roots plus every file in
 * $KANIKO_DIR/ssl/certs plus the --registry-certificate of the registry, for all hosts
 * contacted on its behalf (token realm, storage redirects); read once at reg_client_new().
 *
 * reg_client_new() calls curl_global_init(); create the client before starting threads.
 *
 * Errors name the operation, the HTTP status, the registry's error code and message, and for
 * authentication failures the credential that was tried ("credentials for 'host' from
 * /kaniko/.docker/config.json (auths 'host')"), never a secret.
 *
 * Limits: manifests MANIFEST_MAX_BYTES, configs CONFIG_MAX_BYTES (manifest.h), token and error
 * bodies REG_SMALL_BODY_MAX, REG_MAX_REDIRECTS redirects, REG_MAX_INDEX_DEPTH nested indexes,
 * REG_TAGS_MAX tags. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "common/digest.h"
#include "common/macros.h"
#include "registry/manifest.h"
#include "registry/platform.h"
#include "registry/ref.h"

struct lerr;
struct reg_client;

#define REG_DEFAULT_RETRIES 2
#define REG_MAX_PARALLEL    16
#define REG_SMALL_BODY_MAX  (1024 * 1024)
#define REG_MAX_REDIRECTS   5
#define REG_MAX_INDEX_DEPTH 4
#define REG_TAGS_MAX        100000
#define REG_MONOLITHIC_MAX  (1024 * 1024) /* blobs up to this size go up in one PUT */

/* Plain data, as the executor's flags give it; nothing is kept by reference after
 * reg_client_new() returns. NULL / 0 / false mean the default. */
struct reg_options {
        const char *kaniko_dir; /* for .docker/config.json and ssl/certs; NULL: $KANIKO_DIR or
                                 * "/kaniko" */
        const char *user_agent; /* NULL: "lading/<version>" */

        bool insecure;                           /* --insecure: plain HTTP allowed for pushes */
        bool insecure_pull;                      /* --insecure-pull */
        bool skip_tls_verify;                    /* --skip-tls-verify: for pushes */
        bool skip_tls_verify_pull;               /* --skip-tls-verify-pull */
        char *const *insecure_registries;        /* --insecure-registry: hosts, both ways */
        char *const *skip_tls_verify_registries; /* --skip-tls-verify-registry */
        char *const *registry_certificates;      /* --registry-certificate "host=/path/ca.crt" */
        char *const *registry_client_certs;      /* --registry-client-cert "host=cert,key" */
        char *const *registry_mirrors;           /* --registry-mirror: for docker.io, in order */
        char *const *registry_maps;              /* --registry-map "orig=new[;orig2=new2]" */
        bool skip_default_registry_fallback;     /* fail when no mirror/map entry has the image */

        int push_retry;           /* --push-retry: extra retries for push requests */
        int image_download_retry; /* --image-download-retry: extra retries for pulls */

        unsigned parallel;          /* transfers at once in reg_blobs_*(); 0: 4 */
        unsigned retry_base_ms;     /* first backoff; 0: 1000 */
        unsigned connect_timeout_s; /* 0: 30 */
        unsigned stall_timeout_s;   /* abort a transfer idle this long; 0: 60 */
};

/* Parses the options (map, certificate and client-cert syntax are checked here: -EINVAL naming
 * the bad value), loads config.json and the CA certificates. */
int reg_client_new(const struct reg_options *o, struct reg_client **ret, struct lerr **err);
void reg_client_free(struct reg_client *c);
DEFINE_FREEP(struct reg_client, reg_client_free)

/* ---- pulling ---- */

/* A resolved image: everything the build needs to unpack it and to base a new image on it.
 * Read-only for users; free with reg_image_free(). */
struct reg_image {
        struct image_ref *source; /* where it was read: a mirror or --registry-map target, else
                                   * the reference; use it for blob fetches and mounts */
        char *digest;             /* of the image manifest below */
        char *index_digest;       /* of the index it was chosen from; NULL if none */
        char *media_type;         /* of the image manifest */
        char *manifest;           /* the manifest bytes as received (verified) */
        size_t manifest_len;
        char *config; /* the config bytes (verified against manifest->config) */
        size_t config_len;
        struct manifest *parsed; /* kind MANIFEST_IMAGE: config and layer descriptors */
};

/* Resolves ref to one image manifest for platform (NULL: this machine's), following an index
 * (nested up to REG_MAX_INDEX_DEPTH), verifying each document against the digest that named
 * it, and fetches the config. Tries --registry-map / --registry-mirror targets for ref's
 * registry in order, then the registry itself unless skip_default_registry_fallback. */
int reg_image_resolve(struct reg_client *c, const struct image_ref *ref,
                      const struct platform *platform, struct reg_image **ret, struct lerr **err);
void reg_image_free(struct reg_image *img);
DEFINE_FREEP(struct reg_image, reg_image_free)

/* One manifest or index as stored under ref's tag or digest, without following anything.
 * The digest is computed from the bytes and checked against ref's digest (if any) and the
 * Docker-Content-Digest header (if sha256). No mirrors: ref is used as given. */
struct reg_manifest_raw {
        char *data;
        size_t len;
        char *media_type;
        char digest[DIGEST_STRING_SIZE];
};
int reg_manifest_get(struct reg_client *c, const struct image_ref *ref,
                     struct reg_manifest_raw *ret, struct lerr **err);
void reg_manifest_raw_done(struct reg_manifest_raw *m);

/* Where a blob's bytes go. write() gets them in order; returning a negative errno aborts the
 * transfer with that error. Data reaches the sink before the final digest check: on failure
 * the caller must throw away what the sink got. Called from worker threads in
 * reg_blobs_fetch(). */
struct reg_blob_sink {
        int (*write)(void *userdata, const void *data, size_t len);
        void *userdata;
};

/* Streams the blob desc (digest and size required) from repo (its tag/digest are ignored) into
 * sink, checking size and sha256 on the fly; a transfer cut short is resumed with a Range
 * request. A layer the registry lacks is fetched from desc->urls (foreign layers). */
int reg_blob_fetch(struct reg_client *c, const struct image_ref *repo,
                   const struct descriptor *desc, const struct reg_blob_sink *sink,
                   struct lerr **err);
/* Like reg_blob_fetch into a new file path (relative to dir_fd), written under a temporary
 * name and renamed only once verified. */
int reg_blob_fetch_file(struct reg_client *c, const struct image_ref *repo,
                        const struct descriptor *desc, int dir_fd, const char *path,
                        struct lerr **err);

/* One job of reg_blobs_fetch: into sink if sink.write is set, else into dir_fd/path. */
struct reg_fetch {
        const struct descriptor *desc;
        struct reg_blob_sink sink;
        int dir_fd;
        const char *path;
};
/* Runs the jobs on up to options.parallel threads. Stops starting jobs after the first failure
 * and returns that failure. */
int reg_blobs_fetch(struct reg_client *c, const struct image_ref *repo, struct reg_fetch *jobs,
                    size_t n, struct lerr **err);

/* ---- pushing ---- */

/* Kaniko's pre-build check: obtains push access to dst's repository and starts (then cancels)
 * an upload, as go-containerregistry's CheckPushPermission does. 0 if pushing will work. */
int reg_check_push(struct reg_client *c, const struct image_ref *dst, struct lerr **err);

/* 1 if repo has the blob (its size in *ret_size if not NULL), 0 if not. Uses push access. */
int reg_blob_exists(struct reg_client *c, const struct image_ref *repo, const char *digest,
                    uint64_t *ret_size, struct lerr **err);

/* What to upload: bytes read from fd (pread from offset 0, so the fd's offset is untouched and
 * a retry can start over), or from read() when fd < 0 (rewind() lets a failed upload start
 * over; without it the upload is tried once). read() returns bytes read, 0 at the end, or a
 * negative errno. */
struct reg_blob_source {
        int fd;
        ssize_t (*read)(void *userdata, void *buf, size_t n);
        int (*rewind)(void *userdata);
        void *userdata;
};

enum reg_push_result {
        REG_BLOB_EXISTED,
        REG_BLOB_MOUNTED,
        REG_BLOB_UPLOADED,
};

struct reg_push {
        const char *digest; /* sha256:…, of exactly size bytes of src */
        uint64_t size;
        struct reg_blob_source src;
        const struct image_ref *mount_from; /* a repository on the same registry, or NULL */
        enum reg_push_result result;        /* out */
};

/* Pushes one blob to dst's repository unless it is there already: HEAD, then a cross-repository
 * mount from p->mount_from, then an upload (one PUT up to REG_MONOLITHIC_MAX, else POST, one
 * streamed PATCH, PUT ?digest=). The bytes are hashed while they are sent; a source that does
 * not match p->digest is not committed. Returns 0 and sets p->result. */
int reg_blob_push(struct reg_client *c, const struct image_ref *dst, struct reg_push *p,
                  struct lerr **err);
/* reg_blob_push for several blobs on up to options.parallel threads. */
int reg_blobs_push(struct reg_client *c, const struct image_ref *dst, struct reg_push *jobs,
                   size_t n, struct lerr **err);

/* PUTs a manifest or index under dst's tag (or digest, if dst has no tag) with media_type as
 * its Content-Type. Writes the digest of data to ret_digest after checking the registry's
 * Docker-Content-Digest against it. */
int reg_manifest_put(struct reg_client *c, const struct image_ref *dst, const char *media_type,
                     const void *data, size_t len, char ret_digest[DIGEST_STRING_SIZE],
                     struct lerr **err);

/* The tags of repo (following Link pagination), at most REG_TAGS_MAX. *ret is a strv. */
int reg_tags_list(struct reg_client *c, const struct image_ref *repo, char ***ret,
                  struct lerr **err);
