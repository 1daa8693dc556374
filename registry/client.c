/* SPDX-License-Identifier: Apache-2.0 */
/* The client object: options parsed once (maps, mirrors, certificates, per-registry flags),
 * config.json loaded once, the CA bundle built once (before a base image can replace /etc),
 * the endpoint table and the pool of libcurl handles. No requests are made here. */
#include "registry/client-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/strv.h"
#include "registry/creds.h"
#include "version.h"

#define CA_FILE_MAX      (4 * 1024 * 1024)
#define CA_BUNDLE_MAX    (32 * 1024 * 1024)
#define IDLE_HANDLES_MAX REG_MAX_PARALLEL

static const char *strip_scheme(const char *s, bool *ret_http)
{
        if (ret_http)
                *ret_http = false;
        if (strncasecmp(s, "https://", 8) == 0)
                return s + 8;
        if (strncasecmp(s, "http://", 7) == 0) {
                if (ret_http)
                        *ret_http = true;
                return s + 7;
        }
        return s;
}

/* A host as a flag gives it ("myreg:5000", "https://myreg/"), normalised; NULL if invalid. */
static char *flag_domain(const char *s)
{
        const char *p = strip_scheme(s, NULL);
        size_t n = strcspn(p, "/");
        _cleanup_free_ char *h = xstrndup(p, n);
        return image_ref_normalize_domain(h);
}

static int parse_hosts(char *const *in, const char *flag, char ***ret, struct lerr **err)
{
        strv_foreach (s, in) {
                char *d = flag_domain(s);
                if (!d)
                        return lerr_set(err, EINVAL, "invalid %s '%.100s': not a registry host",
                                        flag, s);
                strv_consume(ret, d);
        }
        return 0;
}

static int read_small_file(const char *path, size_t max, struct buf *b, const char *what,
                           struct lerr **err)
{
        int r = fs_read_file_at(AT_FDCWD, path, b);
        if (r == -E2BIG)
                return lerr_set(err, E2BIG, "read %s '%s': over %zu bytes", what, path, max);
        if (r < 0)
                return lerr_errno(err, -r, "read %s '%s'", what, path);
        return 0;
}

/* "host=/path" entries: checked now so that a typo fails before the build, not after it. */
static int parse_certs(char *const *in, char ***ret, struct lerr **err)
{
        strv_foreach (s, in) {
                const char *eq = strchr(s, '=');
                _cleanup_free_ char *host = eq ? xstrndup(s, (size_t) (eq - s)) : NULL;
                _cleanup_free_ char *d = host ? flag_domain(host) : NULL;
                struct buf b = BUF_INIT(CA_FILE_MAX);
                if (!d || !eq[1])
                        return lerr_set(err, EINVAL,
                                        "invalid --registry-certificate '%.200s': expected "
                                        "host=/path/to/ca.crt",
                                        s);
                int r = read_small_file(eq + 1, CA_FILE_MAX, &b, "--registry-certificate", err);
                buf_done(&b);
                if (r < 0)
                        return r;
                strv_consume(ret, xasprintf("%s=%s", d, eq + 1));
        }
        return 0;
}

static int parse_client_certs(char *const *in, char ***ret, struct lerr **err)
{
        strv_foreach (s, in) {
                const char *eq = strchr(s, '=');
                const char *comma = eq ? strchr(eq + 1, ',') : NULL;
                _cleanup_free_ char *host = eq ? xstrndup(s, (size_t) (eq - s)) : NULL;
                _cleanup_free_ char *d = host ? flag_domain(host) : NULL;
                if (!d || !comma || comma == eq + 1 || !comma[1] || strchr(comma + 1, ','))
                        return lerr_set(err, EINVAL,
                                        "invalid --registry-client-cert '%.200s': expected "
                                        "host=/path/cert,/path/key",
                                        s);
                _cleanup_free_ char *cert = xstrndup(eq + 1, (size_t) (comma - eq - 1));
                if (access(cert, R_OK) < 0)
                        return lerr_errno(err, errno, "read --registry-client-cert '%s'", cert);
                if (access(comma + 1, R_OK) < 0)
                        return lerr_errno(err, errno, "read --registry-client-cert key '%s'",
                                          comma + 1);
                strv_consume(ret, xasprintf("%s=%s", d, eq + 1));
        }
        return 0;
}

static void add_map(struct reg_client *c, const char *from, const char *to, bool to_http)
{
        c->maps = xreallocarray(c->maps, c->n_maps + 1, sizeof(*c->maps));
        c->maps[c->n_maps++] =
                (struct map_entry){.from = xstrdup(from), .to = xstrdup(to), .to_http = to_http};
}

/* "host[:port][/prefix]" with no scheme and no trailing '/'; NULL if the host is invalid. */
static char *map_target(const char *v, bool *ret_http)
{
        const char *p = strip_scheme(v, ret_http);
        size_t n = strlen(p);
        while (n > 0 && p[n - 1] == '/')
                n--;
        _cleanup_free_ char *t = xstrndup(p, n);
        size_t hostlen = strcspn(t, "/");
        _cleanup_free_ char *host = xstrndup(t, hostlen);
        _cleanup_free_ char *d = image_ref_normalize_domain(host);
        if (!d || n == 0)
                return NULL;
        return TAKE_PTR(t);
}

/* The next ';'- (or ':'-) separated field of *cursor, NUL-terminated in place; NULL at the end.
 * Empty fields are skipped. */
static char *next_field(char **cursor, char sep)
{
        char *p = *cursor;
        while (p && *p == sep)
                p++;
        if (!p || !*p)
                return NULL;
        char *end = strchr(p, sep);
        if (end) {
                *end = '\0';
                *cursor = end + 1;
        } else {
                *cursor = NULL;
        }
        return p;
}

static int parse_maps(struct reg_client *c, const struct reg_options *o, struct lerr **err)
{
        strv_foreach (entry, o->registry_maps) {
                _cleanup_free_ char *copy = xstrdup(entry);
                char *cursor = copy, *kv;
                while ((kv = next_field(&cursor, ';'))) {
                        char *eq = strchr(kv, '=');
                        bool http = false;
                        if (!eq)
                                return lerr_set(err, EINVAL,
                                                "invalid --registry-map '%.200s': expected "
                                                "orig=new[;orig2=new2]",
                                                entry);
                        *eq = '\0';
                        _cleanup_free_ char *from = flag_domain(kv);
                        _cleanup_free_ char *to = map_target(eq + 1, &http);
                        if (!from || !to)
                                return lerr_set(err, EINVAL,
                                                "invalid --registry-map '%.200s': bad registry in "
                                                "'%.100s=%.100s'",
                                                entry, kv, eq + 1);
                        add_map(c, from, to, http);
                }
        }
        /* Kaniko turns each mirror into "index.docker.io=<mirror>" after the maps */
        strv_foreach (m, o->registry_mirrors) {
                bool http = false;
                _cleanup_free_ char *to = map_target(m, &http);
                if (!to)
                        return lerr_set(err, EINVAL, "invalid --registry-mirror '%.200s'", m);
                add_map(c, DOCKER_HUB_DOMAIN, to, http);
        }
        return 0;
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
        return strcmp((*a)->d_name, (*b)->d_name);
}

struct seen_files {
        struct stat *st;
        size_t n;
};

/* Whether st's file was added already: hash links and *.pem links of one certificate, or a
 * bundle that is also the system default, are read once. */
static bool seen_before(struct seen_files *seen, const struct stat *st)
{
        for (size_t i = 0; i < seen->n; i++)
                if (seen->st[i].st_dev == st->st_dev && seen->st[i].st_ino == st->st_ino)
                        return true;
        seen->st = xreallocarray(seen->st, seen->n + 1, sizeof(*seen->st));
        seen->st[seen->n++] = *st;
        return false;
}

static void append_cert_file(const char *path, struct buf *b, struct seen_files *seen, int *count)
{
        struct stat st;
        struct buf f = BUF_INIT(CA_FILE_MAX);
        /* stat follows links: Kubernetes mounts config maps as links into "..data" */
        if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || seen_before(seen, &st))
                return;
        if (fs_read_file_at(AT_FDCWD, path, &f) == 0 && f.len > 0 &&
            buf_append(b, f.data, f.len) == 0 && buf_append_char(b, '\n') == 0)
                (*count)++;
        else
                log_debug("CA certificates: skipping '%s'", path);
        buf_done(&f);
}

/* Appends every regular file of dir (sorted) to b: Go's loadSystemRoots reads a whole
 * SSL_CERT_DIR the same way; non-PEM content is skipped by OpenSSL. */
static void append_cert_dir(const char *dir, struct buf *b, struct seen_files *seen, int *count)
{
        struct dirent **names = NULL;
        int n = scandir(dir, &names, NULL, name_cmp);
        for (int i = 0; i < n; i++) {
                if (names[i]->d_name[0] != '.') {
                        _cleanup_free_ char *p = xasprintf("%s/%s", dir, names[i]->d_name);
                        append_cert_file(p, b, seen, count);
                }
                free(names[i]);
        }
        free(names);
}

static void load_ca_bundle(struct reg_client *c)
{
        struct buf b = BUF_INIT(CA_BUNDLE_MAX);
        struct seen_files seen = {0};
        _cleanup_free_ char *kdir = xasprintf("%s/ssl/certs", c->kaniko_dir);
        const char *env_dir = getenv("SSL_CERT_DIR"), *env_file = getenv("SSL_CERT_FILE");
        char *deflt = NULL;
        int extra = 0, sys = 0;

        append_cert_dir(kdir, &b, &seen, &extra);
        if (extra == 0) {
                /* nothing of our own to add: libcurl's default works as it is */
                buf_done(&b);
                free(seen.st);
                return;
        }
        /* the system's roots stay trusted, as with Kaniko's SSL_CERT_DIR */
        CURL *h = curl_easy_init();
        if (h && curl_easy_getinfo(h, CURLINFO_CAINFO, &deflt) == CURLE_OK && deflt)
                append_cert_file(deflt, &b, &seen, &sys);
        if (env_file && env_file[0])
                append_cert_file(env_file, &b, &seen, &sys);
        if (env_dir && env_dir[0]) {
                _cleanup_free_ char *dirs = xstrdup(env_dir);
                char *cursor = dirs, *d;
                while ((d = next_field(&cursor, ':')))
                        append_cert_dir(d, &b, &seen, &sys);
        }
        if (h)
                curl_easy_cleanup(h);
        free(seen.st);
        log_debug("CA certificates: %d file(s) from '%s', %d from the system", extra, kdir, sys);
        c->ca_bundle_len = b.len;
        c->ca_bundle = buf_steal(&b);
}

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *userdata)
{
        struct reg_client *c = userdata;
        (void) h;
        (void) access;
        if ((int) data >= 0 && data < CURL_LOCK_DATA_LAST)
                pthread_mutex_lock(&c->share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *userdata)
{
        struct reg_client *c = userdata;
        (void) h;
        if ((int) data >= 0 && data < CURL_LOCK_DATA_LAST)
                pthread_mutex_unlock(&c->share_locks[data]);
}

static void setup_share(struct reg_client *c)
{
        for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
                pthread_mutex_init(&c->share_locks[i], NULL);
        c->share = curl_share_init();
        if (!c->share)
                oom();
        (void) curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock);
        (void) curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
        (void) curl_share_setopt(c->share, CURLSHOPT_USERDATA, c);
        /* connections are not shared between threads (libcurl does not support it); each
         * pooled handle keeps its own, DNS answers and TLS sessions are common */
        (void) curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
        (void) curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
}

int reg_client_new(const struct reg_options *o, struct reg_client **ret, struct lerr **err)
{
        _cleanup_(reg_client_freep) struct reg_client *c = xcalloc(1, sizeof(*c));
        const char *kd = o->kaniko_dir;
        int r;

        (void) curl_global_init(CURL_GLOBAL_DEFAULT);
        pthread_mutex_init(&c->lock, NULL);
        setup_share(c);
        if (!kd || !kd[0])
                kd = getenv("KANIKO_DIR") && getenv("KANIKO_DIR")[0] ? getenv("KANIKO_DIR")
                                                                     : "/kaniko";
        c->kaniko_dir = xstrdup(kd);
        c->user_agent = o->user_agent ? xstrdup(o->user_agent) : xstrdup("lading/" LADING_VERSION);
        c->insecure[REG_OP_PUSH] = o->insecure;
        c->insecure[REG_OP_PULL] = o->insecure_pull;
        c->skip_verify[REG_OP_PUSH] = o->skip_tls_verify;
        c->skip_verify[REG_OP_PULL] = o->skip_tls_verify_pull;
        c->skip_default_fallback = o->skip_default_registry_fallback;
        c->retries[REG_OP_PUSH] = MAX(o->push_retry, 0);
        c->retries[REG_OP_PULL] = MAX(o->image_download_retry, 0);
        c->parallel = o->parallel ? MIN(o->parallel, (unsigned) REG_MAX_PARALLEL) : 4;
        c->retry_base_ms = o->retry_base_ms ? o->retry_base_ms : 1000;
        c->connect_timeout_s = o->connect_timeout_s ? o->connect_timeout_s : 30;
        c->stall_timeout_s = o->stall_timeout_s ? o->stall_timeout_s : 60;

        if ((r = parse_hosts(o->insecure_registries, "--insecure-registry", &c->insecure_registries,
                             err)) < 0 ||
            (r = parse_hosts(o->skip_tls_verify_registries, "--skip-tls-verify-registry",
                             &c->skip_verify_registries, err)) < 0 ||
            (r = parse_certs(o->registry_certificates, &c->certs, err)) < 0 ||
            (r = parse_client_certs(o->registry_client_certs, &c->client_certs, err)) < 0 ||
            (r = parse_maps(c, o, err)) < 0)
                return r;
        r = creds_store_load(c->kaniko_dir, &c->creds, err);
        if (r < 0)
                return r;
        load_ca_bundle(c);
        *ret = TAKE_PTR(c);
        return 0;
}

void endpoint_free(struct endpoint *ep)
{
        if (!ep)
                return;
        free(ep->domain);
        free(ep->host);
        free(ep->ca_file);
        free(ep->client_cert);
        free(ep->client_key);
        free(ep->ca_blob);
        free(ep->realm);
        free(ep->service);
        for (size_t i = 0; i < ep->n_creds; i++) {
                free(ep->creds[i].repo);
                creds_free(ep->creds[i].creds);
        }
        free(ep->creds);
        for (size_t i = 0; i < ep->n_tokens; i++) {
                free(ep->tokens[i].scope);
                explicit_bzero(ep->tokens[i].value, strlen(ep->tokens[i].value));
                free(ep->tokens[i].value);
        }
        free(ep->tokens);
        pthread_mutex_destroy(&ep->lock);
        free(ep);
}

void reg_client_free(struct reg_client *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < c->n_endpoints; i++)
                endpoint_free(c->endpoints[i]);
        free(c->endpoints);
        for (size_t i = 0; i < c->n_idle; i++) {
                curl_easy_cleanup(c->idle[i]->curl);
                free(c->idle[i]);
        }
        free(c->idle);
        if (c->share)
                curl_share_cleanup(c->share);
        for (int i = 0; c->share && i < CURL_LOCK_DATA_LAST; i++)
                pthread_mutex_destroy(&c->share_locks[i]);
        for (size_t i = 0; i < c->n_maps; i++) {
                free(c->maps[i].from);
                free(c->maps[i].to);
        }
        free(c->maps);
        strv_free(c->insecure_registries);
        strv_free(c->skip_verify_registries);
        strv_free(c->certs);
        strv_free(c->client_certs);
        creds_store_free(c->creds);
        free(c->ca_bundle);
        free(c->kaniko_dir);
        free(c->user_agent);
        pthread_mutex_destroy(&c->lock);
        free(c);
        curl_global_cleanup();
}

/* The value of "domain=value" entries for domain, or NULL. */
static const char *lookup_kv(char **l, const char *domain)
{
        size_t n = strlen(domain);
        strv_foreach (s, l)
                if (strncmp(s, domain, n) == 0 && s[n] == '=')
                        return s + n + 1;
        return NULL;
}

static void endpoint_tls(struct reg_client *c, struct endpoint *ep)
{
        const char *ca = lookup_kv(c->certs, ep->domain);
        const char *cc = lookup_kv(c->client_certs, ep->domain);

        if (cc) {
                const char *comma = strchr(cc, ',');
                ep->client_cert = xstrndup(cc, (size_t) (comma - cc));
                ep->client_key = xstrdup(comma + 1);
        }
        if (!ca) {
                if (c->ca_bundle) {
                        ep->ca_blob = xmemdup(c->ca_bundle, c->ca_bundle_len);
                        ep->ca_blob_len = c->ca_bundle_len;
                }
                return;
        }
        /* as Kaniko: the registry's certificate is added to the system roots, not instead */
        struct buf b = BUF_INIT(CA_BUNDLE_MAX + CA_FILE_MAX);
        struct buf f = BUF_INIT(CA_FILE_MAX);
        if (c->ca_bundle) {
                (void) !buf_append(&b, c->ca_bundle, c->ca_bundle_len);
        } else {
                char *deflt = NULL;
                CURL *h = curl_easy_init();
                if (h && curl_easy_getinfo(h, CURLINFO_CAINFO, &deflt) == CURLE_OK && deflt &&
                    fs_read_file_at(AT_FDCWD, deflt, &f) == 0)
                        (void) !buf_append(&b, f.data, f.len);
                if (h)
                        curl_easy_cleanup(h);
                buf_reset(&f);
        }
        if (fs_read_file_at(AT_FDCWD, ca, &f) == 0) {
                (void) !buf_append_char(&b, '\n');
                (void) !buf_append(&b, f.data, f.len);
        } else {
                log_debug("read --registry-certificate '%s' failed", ca);
        }
        buf_done(&f);
        ep->ca_file = xstrdup(ca);
        ep->ca_blob_len = b.len;
        ep->ca_blob = buf_steal(&b);
}

struct endpoint *client_endpoint(struct reg_client *c, const char *domain)
{
        _cleanup_free_ char *d = image_ref_normalize_domain(domain);
        struct endpoint *ep = NULL;

        if (!d)
                d = xstrdup(domain); /* callers pass validated references */
        pthread_mutex_lock(&c->lock);
        for (size_t i = 0; i < c->n_endpoints; i++)
                if (streq(c->endpoints[i]->domain, d)) {
                        ep = c->endpoints[i];
                        break;
                }
        if (!ep) {
                ep = xcalloc(1, sizeof(*ep));
                pthread_mutex_init(&ep->lock, NULL);
                ep->domain = xstrdup(d);
                ep->host = xstrdup(streq(d, DOCKER_HUB_DOMAIN) ? DOCKER_HUB_API_HOST : d);
                ep->insecure_registry = strv_contains(c->insecure_registries, d);
                for (size_t i = 0; i < c->n_maps; i++) {
                        size_t n = strcspn(c->maps[i].to, "/");
                        _cleanup_free_ char *h = xstrndup(c->maps[i].to, n);
                        _cleanup_free_ char *hd = image_ref_normalize_domain(h);
                        if (c->maps[i].to_http && hd && streq(hd, d))
                                ep->insecure_registry = true;
                }
                ep->skip_verify_registry = strv_contains(c->skip_verify_registries, d);
                endpoint_tls(c, ep);
                c->endpoints =
                        xreallocarray(c->endpoints, c->n_endpoints + 1, sizeof(*c->endpoints));
                c->endpoints[c->n_endpoints++] = ep;
        }
        pthread_mutex_unlock(&c->lock);
        return ep;
}

struct handle *client_handle_get(struct reg_client *c)
{
        struct handle *h = NULL;
        pthread_mutex_lock(&c->lock);
        if (c->n_idle > 0)
                h = c->idle[--c->n_idle];
        pthread_mutex_unlock(&c->lock);
        if (h)
                return h;
        h = xcalloc(1, sizeof(*h));
        h->curl = curl_easy_init();
        if (!h->curl)
                oom();
        return h;
}

void client_handle_put(struct reg_client *c, struct handle *h)
{
        pthread_mutex_lock(&c->lock);
        if (c->n_idle < IDLE_HANDLES_MAX) {
                c->idle = xreallocarray(c->idle, c->n_idle + 1, sizeof(*c->idle));
                c->idle[c->n_idle++] = h;
                h = NULL;
        }
        pthread_mutex_unlock(&c->lock);
        if (h) {
                curl_easy_cleanup(h->curl);
                free(h);
        }
}

struct pool {
        struct reg_client *c;
        size_t n, next;
        bool failed;
        struct lerr *first_err;
        int first_r;
        int (*fn)(void *userdata, size_t i, struct lerr **err);
        void *userdata;
        pthread_mutex_t lock;
};

static void *pool_worker(void *arg)
{
        struct pool *p = arg;
        for (;;) {
                size_t i;
                pthread_mutex_lock(&p->lock);
                if (p->failed || p->next >= p->n) {
                        pthread_mutex_unlock(&p->lock);
                        return NULL;
                }
                i = p->next++;
                pthread_mutex_unlock(&p->lock);

                struct lerr *e = NULL;
                int r = p->fn(p->userdata, i, &e);
                pthread_mutex_lock(&p->lock);
                if (r < 0 && !p->failed) {
                        p->failed = true;
                        p->first_r = r;
                        p->first_err = TAKE_PTR(e);
                }
                pthread_mutex_unlock(&p->lock);
                lerr_free(e);
        }
}

int client_pool_run(struct reg_client *c, size_t n,
                    int (*fn)(void *userdata, size_t i, struct lerr **err), void *userdata,
                    struct lerr **err)
{
        struct pool p = {.c = c, .n = n, .fn = fn, .userdata = userdata};
        size_t nthreads = MIN((size_t) c->parallel, n);
        pthread_t *threads = xcalloc(nthreads + 1, sizeof(*threads));
        size_t started = 0;

        pthread_mutex_init(&p.lock, NULL);
        /* the calling thread works too; the others only when there is more than one job */
        for (size_t i = 1; i < nthreads; i++) {
                if (pthread_create(&threads[started], NULL, pool_worker, &p) != 0)
                        break; /* fewer workers still finish the jobs */
                started++;
        }
        (void) pool_worker(&p);
        for (size_t i = 0; i < started; i++)
                (void) pthread_join(threads[i], NULL);
        free(threads);
        pthread_mutex_destroy(&p.lock);
        if (p.failed) {
                if (err) {
                        lerr_free(*err);
                        *err = TAKE_PTR(p.first_err);
                }
                lerr_free(p.first_err);
                return p.first_r;
        }
        return 0;
}
