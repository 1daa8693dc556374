/* SPDX-License-Identifier: Apache-2.0 */
/* The smart HTTP v2 client: capability discovery (GET info/refs), ls-refs and fetch (POST
 * git-upload-pack), and the glue that fetches and checks out one commit. pkt-lines and the
 * response's sections are git_pkt.c's, the packfile git_pack.c's, the tree git_checkout.c's. */
#include "executor/git_fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/log.h"
#include "executor/git_checkout.h"
#include "executor/git_pkt.h"
#include "executor/git_submodule.h"

#define GIT_MAX_REDIRECTS         5
#define UPLOAD_PACK_ADVERTISEMENT "application/x-git-upload-pack-advertisement"

void git_source_done(struct git_source *s)
{
        free(s->url);
        free(s->ref);
        free(s->commit);
        *s = (struct git_source){0};
}

static bool is_hex_id(const char *s)
{
        unsigned char id[GIT_OID_RAWSZ];
        return s && git_oid_from_hex(s, id) == 0;
}

/* Splits "URL#A#B" at its '#'s. */
static void split_fragment(const char *s, char **url, char **a, char **b)
{
        const char *h1 = strchr(s, '#');
        const char *h2 = h1 ? strchr(h1 + 1, '#') : NULL;
        *url = xstrndup(s, h1 ? (size_t) (h1 - s) : strlen(s));
        *a = h1 && h1[1] && h1[1] != '#'
                     ? xstrndup(h1 + 1, h2 ? (size_t) (h2 - h1 - 1) : strlen(h1 + 1))
                     : NULL;
        *b = h2 && h2[1] ? xstrdup(h2 + 1) : NULL;
}

int git_source_from_context(const char *context, bool plain_http, struct git_source *ret,
                            struct lerr **err)
{
        const char *rest = startswith(context, "git://");
        _cleanup_free_ char *url = NULL, *ref = NULL, *commit = NULL;

        if (!rest || !*rest || *rest == '/' || *rest == '#')
                return lerr_set(err, EINVAL,
                                "invalid git context '%s': expected "
                                "git://HOST/PATH[#REF[#COMMIT]]",
                                context);
        split_fragment(rest, &url, &ref, &commit);
        if (commit && !is_hex_id(commit))
                return lerr_set(err, EINVAL,
                                "invalid git context '%s': '%s' is not a 40-hex commit id", context,
                                commit);
        *ret = (struct git_source){
                .url = xasprintf("%s://%s", plain_http ? "http" : "https", url),
                .ref = TAKE_PTR(ref),
                .commit = TAKE_PTR(commit),
        };
        return 0;
}

bool git_is_add_source(const char *src)
{
        if (startswith(src, "git@") || startswith(src, "git://") || startswith(src, "ssh://"))
                return true;
        if (!startswith(src, "http://") && !startswith(src, "https://"))
                return false;
        const char *end = strchr(src, '#');
        size_t n = end ? (size_t) (end - src) : strlen(src);
        return n > 4 && memcmp(src + n - 4, ".git", 4) == 0;
}

int git_source_from_add(const char *src, struct git_source *ret, struct lerr **err)
{
        _cleanup_free_ char *url = NULL, *ref = NULL, *extra = NULL;

        if (!startswith(src, "http://") && !startswith(src, "https://"))
                return lerr_set(err, ENOTSUP,
                                "git source '%s': only https:// repositories are supported (no "
                                "ssh or git:// protocol)",
                                src);
        split_fragment(src, &url, &ref, &extra);
        if (extra || (ref && strchr(ref, ':')))
                return lerr_set(err, ENOTSUP,
                                "git source '%s': only #REF is supported (no sub-directory)", src);
        *ret = (struct git_source){.url = TAKE_PTR(url), .ref = TAKE_PTR(ref)};
        return 0;
}

char *git_url_redacted(const char *url)
{
        const char *scheme = strstr(url, "://");
        if (!scheme)
                return xstrdup(url);
        const char *host = scheme + 3;
        const char *slash = strchr(host, '/');
        const char *at = strchr(host, '@');
        if (!at || (slash && at > slash))
                return xstrdup(url);
        return xasprintf("%.*s%s", (int) (host - url), url, at + 1);
}

/* ---- HTTP ---- */

struct mem_sink {
        struct buf *b;
};

static size_t on_mem(char *p, size_t size, size_t nmemb, void *userdata)
{
        struct mem_sink *s = userdata;
        size_t n = size * nmemb;
        return buf_append(s->b, p, n) < 0 ? 0 : n;
}

struct http_call {
        const char *url;
        const struct buf *post; /* NULL: GET */
        curl_write_callback write;
        void *userdata;
        long status;         /* out */
        char *content_type;  /* out, owned */
        char *effective_url; /* out, owned */
};

static void http_call_done(struct http_call *c)
{
        free(c->content_type);
        free(c->effective_url);
}

static CURLcode http_perform(CURL *h, struct http_call *c, const struct git_remote_opts *o,
                             char *errbuf)
{
        const char *protos = o->allow_http ? "http,https" : "https";
        struct curl_slist *hdr = curl_slist_append(NULL, "Git-Protocol: version=2");
        if (!hdr)
                oom();
        if (c->post) {
                hdr = curl_slist_append(hdr, "Content-Type: application/x-git-upload-pack-request");
                if (hdr)
                        hdr = curl_slist_append(hdr,
                                                "Accept: application/x-git-upload-pack-result");
                if (!hdr)
                        oom();
        }
        curl_easy_reset(h);
        (void) curl_easy_setopt(h, CURLOPT_URL, c->url);
        (void) curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, protos);
        (void) curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, protos);
        (void) curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
        (void) curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long) GIT_MAX_REDIRECTS);
        (void) curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
        (void) curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        (void) curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, c->write);
        (void) curl_easy_setopt(h, CURLOPT_WRITEDATA, c->userdata);
        (void) curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
        (void) curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        (void) curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 120L);
        /* git's servers route on the agent: GitHub answers "git/..." agents only */
        (void) curl_easy_setopt(h, CURLOPT_USERAGENT, "git/2.0 (lading)");
        (void) curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        (void) curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
        if (c->post) {
                (void) curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->post->data);
                (void) curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) c->post->len);
        }
        if (o->username) {
                (void) curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
                (void) curl_easy_setopt(h, CURLOPT_USERNAME, o->username);
                (void) curl_easy_setopt(h, CURLOPT_PASSWORD, o->password ? o->password : "");
        }
        if (o->insecure_tls) {
                (void) curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
                (void) curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
        }
        if (o->ca_file)
                (void) curl_easy_setopt(h, CURLOPT_CAINFO, o->ca_file);
        errbuf[0] = '\0';
        CURLcode cc = curl_easy_perform(h);
        (void) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->status);
        char *ct = NULL, *eff = NULL;
        (void) curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
        (void) curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &eff);
        c->content_type = ct ? xstrdup(ct) : NULL;
        c->effective_url = eff ? xstrdup(eff) : NULL;
        curl_slist_free_all(hdr);
        return cc;
}

/* One request; a transport failure or an HTTP error becomes err (shown is the redacted URL). */
static int http_call(struct http_call *c, const struct git_remote_opts *o, const char *shown,
                     struct lerr **err)
{
        char errbuf[CURL_ERROR_SIZE];
        CURL *h = curl_easy_init();
        if (!h)
                oom();
        CURLcode cc = http_perform(h, c, o, errbuf);
        curl_easy_cleanup(h);
        if (cc == CURLE_WRITE_ERROR)
                return -ECANCELED; /* the write callback holds the reason */
        if (cc != CURLE_OK)
                return lerr_set(err, EIO, "'%s': %s", shown,
                                *errbuf ? errbuf : curl_easy_strerror(cc));
        if (c->status == 401 || c->status == 403)
                return lerr_set(err, EACCES,
                                "'%s': HTTP %ld: authentication failed or required (set "
                                "GIT_USERNAME and GIT_PASSWORD, or GIT_TOKEN)",
                                shown, c->status);
        if (c->status != 200)
                return lerr_set(err, c->status == 404 ? ENOENT : EIO,
                                "'%s': HTTP %ld: not a git repository or not served over git's "
                                "smart HTTP",
                                shown, c->status);
        return 0;
}

/* ---- discovery ---- */

/* Whether the space-separated list p[0..n) holds word. */
static bool has_word(const char *p, size_t n, const char *word)
{
        size_t w = strlen(word);
        for (size_t i = 0; i < n;) {
                const char *sp = memchr(p + i, ' ', n - i);
                size_t len = sp ? (size_t) (sp - (p + i)) : n - i;
                if (len == w && memcmp(p + i, word, w) == 0)
                        return true;
                i += len + 1;
        }
        return false;
}

struct caps {
        bool shallow;
        char *base_url; /* after redirects */
};

static int parse_caps(const char *data, size_t len, struct caps *caps)
{
        bool v2 = false, first = true;
        for (size_t pos = 0; pos < len;) {
                enum git_pkt_kind kind;
                const char *d;
                size_t n;
                int c = git_pkt_parse(data + pos, len - pos, &kind, &d, &n);
                if (c <= 0)
                        return -EPROTO;
                pos += (size_t) c;
                if (n && d[n - 1] == '\n')
                        n--;
                if (kind == GIT_PKT_FLUSH && first)
                        continue; /* after "# service=..." */
                if (kind != GIT_PKT_DATA)
                        break;
                if (first && n >= 10 && memcmp(d, "# service=", 10) == 0)
                        continue;
                if (first) {
                        first = false;
                        if (n == 9 && memcmp(d, "version 2", 9) == 0) {
                                v2 = true;
                                continue;
                        }
                        return -EPROTONOSUPPORT;
                }
                if (n >= 6 && memcmp(d, "fetch=", 6) == 0)
                        caps->shallow = has_word(d + 6, n - 6, "shallow");
                else if (n > 14 && memcmp(d, "object-format=", 14) == 0 &&
                         !(n == 18 && memcmp(d + 14, "sha1", 4) == 0))
                        return -EOPNOTSUPP;
        }
        return v2 ? 0 : -EPROTONOSUPPORT;
}

static int discover(const char *url, const struct git_remote_opts *o, struct caps *caps,
                    struct lerr **err)
{
        _cleanup_free_ char *shown = git_url_redacted(url);
        _cleanup_free_ char *get = xasprintf("%s/info/refs?service=git-upload-pack", url);
        _cleanup_(buf_done) struct buf b = BUF_INIT(GIT_FETCH_MAX_CAPS_BYTES);
        struct mem_sink ms = {.b = &b};
        _cleanup_(http_call_done) struct http_call c = {
                .url = get, .write = on_mem, .userdata = &ms};

        int r = http_call(&c, o, shown, err);
        if (r == -ECANCELED)
                return lerr_set(err, E2BIG, "'%s': capability advertisement over %u bytes", shown,
                                GIT_FETCH_MAX_CAPS_BYTES);
        if (r < 0)
                return r;
        if (!c.content_type || !startswith(c.content_type, UPLOAD_PACK_ADVERTISEMENT))
                return lerr_set(err, EPROTO,
                                "'%s' is not a git repository served over git's smart HTTP "
                                "(content type '%s')",
                                shown, strempty(c.content_type));
        r = parse_caps(b.data ? b.data : "", b.len, caps);
        if (r == -EPROTONOSUPPORT)
                return lerr_set(err, EPROTONOSUPPORT,
                                "'%s': the server does not offer git protocol version 2 (only "
                                "version 2 is supported)",
                                shown);
        if (r == -EOPNOTSUPP)
                return lerr_set(err, EOPNOTSUPP,
                                "'%s': the repository does not use sha1 object ids", shown);
        if (r < 0)
                return lerr_set(err, EPROTO, "'%s': malformed capability advertisement", shown);
        /* a redirected discovery moves the whole repository (as git does) */
        const char *suffix = "/info/refs?service=git-upload-pack";
        size_t n = c.effective_url ? strlen(c.effective_url) : 0;
        if (n > strlen(suffix) && streq(c.effective_url + n - strlen(suffix), suffix))
                caps->base_url = xstrndup(c.effective_url, n - strlen(suffix));
        else
                caps->base_url = xstrdup(url);
        return 0;
}

/* ---- ls-refs ---- */

struct ref_match {
        int rank; /* lower is better; INT32_MAX: none yet */
        char id[GIT_OID_HEXSZ + 1];
};

/* How well name answers ref: 0 exact (HEAD or a full name), 1 a branch, 2 a tag; -1 no. */
static int ref_rank(const char *ref, const char *name, size_t n)
{
        const char *want = ref && *ref ? ref : "HEAD";
        size_t w = strlen(want);
        if (n == w && memcmp(name, want, n) == 0)
                return 0;
        if (startswith(want, "refs/") || streq(want, "HEAD"))
                return -1;
        if (n == 11 + w && memcmp(name, "refs/heads/", 11) == 0 && memcmp(name + 11, want, w) == 0)
                return 1;
        if (n == 10 + w && memcmp(name, "refs/tags/", 10) == 0 && memcmp(name + 10, want, w) == 0)
                return 2;
        return -1;
}

/* One ls-refs line: "<id> <name>[ symref-target:<t>][ peeled:<id>]". */
static int on_ref_line(const char *ref, const char *d, size_t n, struct ref_match *m)
{
        if (n && d[n - 1] == '\n')
                n--;
        if (n < GIT_OID_HEXSZ + 2 || d[GIT_OID_HEXSZ] != ' ')
                return -EPROTO;
        const char *name = d + GIT_OID_HEXSZ + 1;
        const char *end = memchr(name, ' ', n - GIT_OID_HEXSZ - 1);
        size_t name_len = end ? (size_t) (end - name) : n - GIT_OID_HEXSZ - 1;
        int rank = ref_rank(ref, name, name_len);
        if (rank < 0 || rank >= m->rank)
                return 0;
        const char *id = d;
        for (const char *a = end; a && a < d + n;) {
                const char *next = memchr(a + 1, ' ', (size_t) (d + n - a - 1));
                size_t alen = (size_t) ((next ? next : d + n) - (a + 1));
                if (alen == 7 + GIT_OID_HEXSZ && memcmp(a + 1, "peeled:", 7) == 0)
                        id = a + 8;
                a = next;
        }
        char hex[GIT_OID_HEXSZ + 1];
        memcpy(hex, id, GIT_OID_HEXSZ);
        hex[GIT_OID_HEXSZ] = '\0';
        if (!is_hex_id(hex))
                return -EPROTO;
        for (size_t i = 0; i <= GIT_OID_HEXSZ; i++)
                m->id[i] = (char) (hex[i] >= 'A' && hex[i] <= 'F' ? hex[i] - 'A' + 'a' : hex[i]);
        m->rank = rank;
        return 0;
}

static int ls_refs_request(const char *ref, struct buf *req)
{
        int r = git_pkt_printf(req, "command=ls-refs\n");
        if (r >= 0)
                r = git_pkt_printf(req, "object-format=sha1\n");
        if (r >= 0)
                r = git_pkt_special(req, GIT_PKT_DELIM);
        if (r >= 0)
                r = git_pkt_printf(req, "peel\n");
        if (r >= 0)
                r = git_pkt_printf(req, "symrefs\n");
        if (r >= 0 && (!ref || !*ref || streq(ref, "HEAD")))
                r = git_pkt_printf(req, "ref-prefix HEAD\n");
        else if (r >= 0 && startswith(ref, "refs/"))
                r = git_pkt_printf(req, "ref-prefix %s\n", ref);
        else if (r >= 0) {
                r = git_pkt_printf(req, "ref-prefix refs/heads/%s\n", ref);
                if (r >= 0)
                        r = git_pkt_printf(req, "ref-prefix refs/tags/%s\n", ref);
        }
        if (r >= 0)
                r = git_pkt_special(req, GIT_PKT_FLUSH);
        return r;
}

int git_resolve(const struct git_source *s, const struct git_remote_opts *o,
                char ret_id[GIT_OID_HEXSZ + 1], struct lerr **err)
{
        const char *given = s->commit ? s->commit : is_hex_id(s->ref) ? s->ref : NULL;
        if (given) {
                for (size_t i = 0; i <= GIT_OID_HEXSZ; i++)
                        ret_id[i] =
                                (char) (given[i] >= 'A' && given[i] <= 'F' ? given[i] - 'A' + 'a'
                                                                           : given[i]);
                return 0;
        }
        _cleanup_free_ char *shown = git_url_redacted(s->url);
        struct caps caps = {0};
        int r = discover(s->url, o, &caps, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *base = caps.base_url;
        _cleanup_free_ char *post = xasprintf("%s/git-upload-pack", base);
        _cleanup_(buf_done) struct buf req = BUF_INIT(GIT_PKT_MAX * 8);
        _cleanup_(buf_done) struct buf resp = BUF_INIT(GIT_FETCH_MAX_REFS_BYTES);
        if (ls_refs_request(s->ref, &req) < 0)
                return lerr_set(err, E2BIG, "ref name '%s' is too long", s->ref);
        struct mem_sink ms = {.b = &resp};
        _cleanup_(http_call_done) struct http_call c = {
                .url = post, .post = &req, .write = on_mem, .userdata = &ms};
        r = http_call(&c, o, shown, err);
        if (r == -ECANCELED)
                return lerr_set(err, E2BIG, "'%s': ref listing over %u bytes", shown,
                                GIT_FETCH_MAX_REFS_BYTES);
        if (r < 0)
                return r;
        struct ref_match m = {.rank = INT32_MAX};
        bool flushed = false;
        for (size_t pos = 0; pos < resp.len && !flushed;) {
                enum git_pkt_kind kind;
                const char *d;
                size_t n;
                int k = git_pkt_parse(resp.data + pos, resp.len - pos, &kind, &d, &n);
                if (k > 0 && kind == GIT_PKT_DATA && n >= 4 && memcmp(d, "ERR ", 4) == 0)
                        return lerr_set(err, EPROTO, "'%s': the server reported an error: %.*s",
                                        shown, (int) (n > 200 ? 200 : n - 4), d + 4);
                if (k > 0 && kind == GIT_PKT_DATA)
                        k = on_ref_line(s->ref, d, n, &m) < 0 ? -EPROTO : k;
                if (k <= 0)
                        return lerr_set(err, EPROTO, "'%s': malformed ref listing", shown);
                flushed = kind != GIT_PKT_DATA;
                pos += (size_t) k;
        }
        if (!flushed)
                return lerr_set(err, EPROTO, "'%s': truncated ref listing", shown);
        if (m.rank == INT32_MAX)
                return lerr_set(err, ENOENT, "reference '%s' not found in repository '%s'",
                                s->ref && *s->ref ? s->ref : "HEAD", shown);
        memcpy(ret_id, m.id, sizeof(m.id));
        return 0;
}

/* ---- fetch ---- */

struct pack_sink {
        int fd;
        uint64_t size, max;
        struct git_fetch_resp *resp;
        struct lerr *err; /* why the transfer stopped */
};

static int on_pack_bytes(void *userdata, const void *p, size_t n)
{
        struct pack_sink *s = userdata;
        if (s->size + n > s->max)
                return -E2BIG;
        int r = fs_write_all(s->fd, p, n);
        if (r < 0)
                return r;
        s->size += n;
        return 0;
}

static size_t on_fetch(char *p, size_t size, size_t nmemb, void *userdata)
{
        struct pack_sink *s = userdata;
        size_t n = size * nmemb;
        return git_fetch_resp_feed(s->resp, p, n, &s->err) < 0 ? 0 : n;
}

static int fetch_request(const char *id, bool shallow, struct buf *req)
{
        int r = git_pkt_printf(req, "command=fetch\n");
        if (r >= 0)
                r = git_pkt_printf(req, "object-format=sha1\n");
        if (r >= 0)
                r = git_pkt_special(req, GIT_PKT_DELIM);
        if (r >= 0)
                r = git_pkt_printf(req, "no-progress\n");
        if (r >= 0)
                r = git_pkt_printf(req, "ofs-delta\n");
        if (r >= 0 && shallow)
                r = git_pkt_printf(req, "deepen 1\n");
        if (r >= 0)
                r = git_pkt_printf(req, "want %s\n", id);
        if (r >= 0)
                r = git_pkt_printf(req, "done\n");
        if (r >= 0)
                r = git_pkt_special(req, GIT_PKT_FLUSH);
        return r;
}

int git_fetch_pack(const char *url, const char *id, const struct git_remote_opts *o, int pack_fd,
                   struct lerr **err)
{
        _cleanup_free_ char *shown = git_url_redacted(url);
        struct caps caps = {0};
        int r = discover(url, o, &caps, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *base = caps.base_url;
        _cleanup_free_ char *post = xasprintf("%s/git-upload-pack", base);
        _cleanup_(buf_done) struct buf req = BUF_INIT(GIT_PKT_MAX);
        if (fetch_request(id, caps.shallow, &req) < 0)
                return lerr_set(err, E2BIG, "fetch request too long");
        _cleanup_(git_fetch_resp_freep) struct git_fetch_resp *resp = NULL;
        struct pack_sink ps = {
                .fd = pack_fd,
                .max = o->max_pack_bytes ? o->max_pack_bytes : GIT_FETCH_MAX_PACK_BYTES,
        };
        resp = git_fetch_resp_new(on_pack_bytes, &ps);
        ps.resp = resp;
        _cleanup_(http_call_done) struct http_call c = {
                .url = post, .post = &req, .write = on_fetch, .userdata = &ps};
        r = http_call(&c, o, shown, err);
        if (r == -ECANCELED) {
                *err = TAKE_PTR(ps.err);
                return lerr_wrap(err, "fetch %s from '%s'", id, shown);
        }
        lerr_free(ps.err);
        if (r >= 0)
                r = git_fetch_resp_finish(resp, err);
        if (r < 0)
                return lerr_wrap(err, "fetch %s from '%s'", id, shown);
        return 0;
}

int git_fetch_checkout(const char *url, const char *id, const struct git_remote_opts *o,
                       const char *work_dir, int dest_fd, struct git_gitlinks *ret_links,
                       struct lerr **err)
{
        _cleanup_free_ char *shown = git_url_redacted(url);
        unsigned char raw[GIT_OID_RAWSZ];
        if (git_oid_from_hex(id, raw) < 0)
                return lerr_set(err, EINVAL, "invalid commit id '%s'", id);
        _cleanup_free_ char *tmp = xasprintf("%s/git-fetch.pack", work_dir);
        _cleanup_close_ int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return lerr_errno(err, errno, "create '%s'", tmp);
        (void) unlink(tmp);
        int r = git_fetch_pack(url, id, o, fd, err);
        if (r < 0)
                return r;
        _cleanup_(git_pack_freep) struct git_pack *p = NULL;
        r = git_pack_open(fd, NULL, &p, err);
        if (r < 0)
                return lerr_wrap(err, "fetch %s from '%s'", id, shown);
        r = git_checkout(p, raw, dest_fd, ret_links, err);
        if (r < 0)
                return lerr_wrap(err, "check out %s of '%s'", id, shown);
        return r;
}

int git_clone(const struct git_source *s, const char *id, const struct git_remote_opts *o,
              const char *work_dir, int dest_fd, char ret_id[GIT_OID_HEXSZ + 1], struct lerr **err)
{
        _cleanup_free_ char *shown = git_url_redacted(s->url);
        _cleanup_(git_gitlinks_done) struct git_gitlinks links = {0};
        char commit[GIT_OID_HEXSZ + 1];
        int r;

        if (id && *id)
                memcpy(commit, id, sizeof(commit));
        else if ((r = git_resolve(s, o, commit, err)) < 0)
                return r;
        log_info("Fetching %s of %s", commit, shown);
        r = git_fetch_checkout(s->url, commit, o, work_dir, dest_fd,
                               o->recurse_submodules ? &links : NULL, err);
        if (r < 0)
                return r;
        int k = git_submodules_clone(s->url, o, work_dir, dest_fd, &links, err);
        if (k < 0)
                return k;
        memcpy(ret_id, commit, sizeof(commit));
        return r > INT32_MAX - k ? INT32_MAX : r + k;
}
