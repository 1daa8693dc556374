/* SPDX-License-Identifier: Apache-2.0 */
/* config.json loading and credential lookup. Lookup order, as Docker: a credHelpers entry for
 * the registry, else credsStore, else the auths entries. Where Docker would fail or go anonymous
 * and a Kaniko user would rather have the auths entry (a credsStore helper that is not
 * installed, or that knows nothing of the registry), the auths entry is used. Where all of
 * that leaves a registry anonymous, GitLab CI's registry variables apply (creds_ci.h), then
 * the provider the program registered (creds_set_provider()). */
#include "registry/creds.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strv.h"
#include "registry/base64.h"
#include "registry/credhelper.h"
#include "registry/creds_ci.h"
#include "registry/ref.h"

struct auth_entry {
        char *key;    /* as written in the file */
        char *domain; /* normalised; NULL if the key names no valid host */
        char *repo;   /* NULL for registry-wide keys */
        char *username, *password, *identity_token, *registry_token;
        const char *error; /* why the entry is unusable, reported when it is picked */
};

struct helper_entry {
        char *key;
        char *domain;
        char *name;
};

struct creds_store {
        char *path;     /* NULL when no file was found */
        char *searched; /* the places looked at, for messages */
        struct auth_entry *auths;
        size_t n_auths;
        struct helper_entry *helpers;
        size_t n_helpers;
        char *store; /* credsStore */
};

static void wipe_free(char *s)
{
        if (s) {
                explicit_bzero(s, strlen(s));
                free(s);
        }
}

void creds_free(struct creds *c)
{
        if (!c)
                return;
        wipe_free(c->username);
        wipe_free(c->password);
        wipe_free(c->identity_token);
        wipe_free(c->registry_token);
        free(c->source);
        free(c);
}

bool creds_is_anonymous(const struct creds *c)
{
        return !c->username && !c->password && !c->identity_token && !c->registry_token;
}

static char *dup_or_null(const char *s)
{
        return s ? xstrdup(s) : NULL;
}

struct creds *creds_dup(const struct creds *c)
{
        struct creds *d = xcalloc(1, sizeof(*d));
        d->username = dup_or_null(c->username);
        d->password = dup_or_null(c->password);
        d->identity_token = dup_or_null(c->identity_token);
        d->registry_token = dup_or_null(c->registry_token);
        d->source = dup_or_null(c->source);
        return d;
}

void creds_store_free(struct creds_store *s)
{
        if (!s)
                return;
        for (size_t i = 0; i < s->n_auths; i++) {
                struct auth_entry *a = &s->auths[i];
                free(a->key);
                free(a->domain);
                free(a->repo);
                wipe_free(a->username);
                wipe_free(a->password);
                wipe_free(a->identity_token);
                wipe_free(a->registry_token);
        }
        free(s->auths);
        for (size_t i = 0; i < s->n_helpers; i++) {
                free(s->helpers[i].key);
                free(s->helpers[i].domain);
                free(s->helpers[i].name);
        }
        free(s->helpers);
        free(s->store);
        free(s->path);
        free(s->searched);
        free(s);
}

const char *creds_store_path(const struct creds_store *s)
{
        return s->path;
}

/* "https://host:5000/v1/" → domain "host:5000", repo NULL; "host/a/b" → repo "a/b". */
static void split_key(const char *key, char **ret_domain, char **ret_repo)
{
        const char *p = key;
        if (strncasecmp(p, "https://", 8) == 0)
                p += 8;
        else if (strncasecmp(p, "http://", 7) == 0)
                p += 7;
        size_t hostlen = strcspn(p, "/");
        _cleanup_free_ char *host = xstrndup(p, hostlen);
        *ret_domain = image_ref_normalize_domain(host);
        *ret_repo = NULL;
        const char *rest = p + hostlen;
        while (*rest == '/')
                rest++;
        size_t n = strlen(rest);
        while (n > 0 && rest[n - 1] == '/')
                n--;
        /* the "/v1/" of Docker Hub's key and "/v2/" are API paths, not repositories */
        if (n == 0 || (n == 2 && (strncmp(rest, "v1", 2) == 0 || strncmp(rest, "v2", 2) == 0)))
                return;
        *ret_repo = xstrndup(rest, n);
}

static int parse_auth_entry(const char *key, const cJSON *v, struct auth_entry *a,
                            struct lerr **err)
{
        const char *auth, *user, *pass, *idt, *regt;

        a->key = xstrdup(key);
        split_key(key, &a->domain, &a->repo);
        if (!cJSON_IsObject(v))
                return lerr_set(err, EBADMSG, "auths entry '%.100s' is not an object", key);
        if (json_get_string(v, "auth", &auth, err) < 0 ||
            json_get_string(v, "username", &user, err) < 0 ||
            json_get_string(v, "password", &pass, err) < 0 ||
            json_get_string(v, "identitytoken", &idt, err) < 0 ||
            json_get_string(v, "registrytoken", &regt, err) < 0)
                return lerr_wrap(err, "auths entry '%.100s'", key);
        a->username = user && user[0] ? xstrdup(user) : NULL;
        a->password = pass && pass[0] ? xstrdup(pass) : NULL;
        a->identity_token = idt && idt[0] ? xstrdup(idt) : NULL;
        a->registry_token = regt && regt[0] ? xstrdup(regt) : NULL;
        if (auth && auth[0]) {
                char *dec = NULL;
                size_t len = 0;
                /* as Docker: "auth" wins over username/password */
                if (base64_decode(auth, &dec, &len) < 0 || memchr(dec, '\0', len) ||
                    !strchr(dec, ':')) {
                        a->error = "its 'auth' field is not base64 of 'username:password'";
                        if (dec)
                                wipe_free(dec);
                        return 0;
                }
                char *colon = strchr(dec, ':');
                wipe_free(a->username);
                wipe_free(a->password);
                a->username = xstrndup(dec, (size_t) (colon - dec));
                a->password = xstrdup(colon + 1);
                wipe_free(dec);
        }
        return 0;
}

static int parse_auths(const cJSON *auths, struct creds_store *s, struct lerr **err)
{
        const cJSON *v;
        int n = cJSON_GetArraySize(auths);
        s->auths = xcalloc((size_t) n + 1, sizeof(*s->auths));
        cJSON_ArrayForEach(v, auths)
        {
                int r = parse_auth_entry(v->string, v, &s->auths[s->n_auths], err);
                s->n_auths++;
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_helpers(const cJSON *helpers, struct creds_store *s, struct lerr **err)
{
        const cJSON *v;
        int n = cJSON_GetArraySize(helpers);
        s->helpers = xcalloc((size_t) n + 1, sizeof(*s->helpers));
        cJSON_ArrayForEach(v, helpers)
        {
                if (!cJSON_IsString(v))
                        return lerr_set(err, EBADMSG, "credHelpers entry '%.100s' is not a string",
                                        v->string);
                struct helper_entry *h = &s->helpers[s->n_helpers++];
                _cleanup_free_ char *repo = NULL;
                h->key = xstrdup(v->string);
                h->name = xstrdup(v->valuestring);
                split_key(v->string, &h->domain, &repo);
        }
        return 0;
}

int creds_store_parse(const char *data, size_t len, const char *path, struct creds_store **ret,
                      struct lerr **err)
{
        _cleanup_(creds_store_freep) struct creds_store *s = xcalloc(1, sizeof(*s));
        _cleanup_(cJSON_Deletep) cJSON *j = NULL;
        const cJSON *auths, *helpers;
        const char *store;
        int r;

        s->path = xstrdup(path);
        s->searched = xstrdup(path);
        r = json_parse(data, len, CREDS_CONFIG_MAX, "config", &j, err);
        if (r >= 0 && !cJSON_IsObject(j))
                r = lerr_set(err, EBADMSG, "not a JSON object");
        if (r >= 0 && (json_get_object(j, "auths", &auths, err) < 0 ||
                       json_get_object(j, "credHelpers", &helpers, err) < 0 ||
                       json_get_string(j, "credsStore", &store, err) < 0))
                r = -EBADMSG;
        if (r >= 0 && auths)
                r = parse_auths(auths, s, err);
        if (r >= 0 && helpers)
                r = parse_helpers(helpers, s, err);
        if (r < 0)
                return lerr_wrap(err, "read Docker config '%s'", path);
        s->store = store && store[0] ? xstrdup(store) : NULL;
        /* the content held secrets: wipe cJSON's copies before they are freed */
        for (cJSON *e = auths ? auths->child : NULL; e; e = e->next)
                for (cJSON *f = e->child; f; f = f->next)
                        if (cJSON_IsString(f))
                                explicit_bzero(f->valuestring, strlen(f->valuestring));
        *ret = TAKE_PTR(s);
        return 0;
}

static char *path_join(const char *dir, const char *name)
{
        size_t n = strlen(dir);
        while (n > 1 && dir[n - 1] == '/')
                n--;
        return xasprintf("%.*s/%s", (int) n, dir, name);
}

static void candidates(const char *kaniko_dir, char ***ret)
{
        const char *e;
        if ((e = getenv("DOCKER_CONFIG")) && e[0])
                strv_consume(ret, path_join(e, "config.json"));
        if (!kaniko_dir)
                kaniko_dir = (e = getenv("KANIKO_DIR")) && e[0] ? e : "/kaniko";
        strv_consume(ret, path_join(kaniko_dir, ".docker/config.json"));
        if ((e = getenv("HOME")) && e[0])
                strv_consume(ret, path_join(e, ".docker/config.json"));
        if ((e = getenv("REGISTRY_AUTH_FILE")) && e[0])
                strv_push(ret, e);
        if ((e = getenv("XDG_RUNTIME_DIR")) && e[0])
                strv_consume(ret, path_join(e, "containers/auth.json"));
}

int creds_store_load(const char *kaniko_dir, struct creds_store **ret, struct lerr **err)
{
        _cleanup_(strv_freep) char **paths = NULL;
        struct stat st;

        candidates(kaniko_dir, &paths);
        strv_foreach (p, paths) {
                if (stat(p, &st) < 0)
                        continue;
                struct buf b = BUF_INIT(CREDS_CONFIG_MAX);
                int r = fs_read_file_at(AT_FDCWD, p, &b);
                if (r < 0) {
                        buf_done(&b);
                        if (r == -E2BIG)
                                return lerr_set(err, E2BIG,
                                                "read Docker config '%s': over %d bytes", p,
                                                CREDS_CONFIG_MAX);
                        return lerr_errno(err, -r, "read Docker config '%s'", p);
                }
                r = creds_store_parse(b.data ? b.data : "", b.len, p, ret, err);
                if (b.data)
                        explicit_bzero(b.data, b.len);
                buf_done(&b);
                if (r >= 0)
                        log_debug("using Docker config '%s'", p);
                return r;
        }
        struct creds_store *s = xcalloc(1, sizeof(*s));
        s->searched = strv_join(paths, ", ");
        *ret = s;
        return 0;
}

static const struct helper_entry *find_helper(const struct creds_store *s, const char *domain)
{
        for (size_t i = 0; i < s->n_helpers; i++)
                if (streq_ptr(s->helpers[i].domain, domain))
                        return &s->helpers[i];
        return NULL;
}

/* A repository key beats a registry-wide one; among those, the key Docker itself writes. */
static const struct auth_entry *find_auth(const struct creds_store *s, const char *domain,
                                          const char *repo)
{
        const struct auth_entry *best = NULL;
        int best_score = 0;
        for (size_t i = 0; i < s->n_auths; i++) {
                const struct auth_entry *a = &s->auths[i];
                int score = 0;
                if (!streq_ptr(a->domain, domain))
                        continue;
                if (a->repo)
                        score = repo && streq(a->repo, repo) ? 3 : 0;
                else if (streq(domain, DOCKER_HUB_DOMAIN) ? streq(a->key, DOCKER_HUB_AUTH_KEY)
                                                          : streq(a->key, domain))
                        score = 2;
                else
                        score = 1;
                if (score > best_score) {
                        best = a;
                        best_score = score;
                }
        }
        return best;
}

static struct creds *new_creds(char *source)
{
        struct creds *c = xcalloc(1, sizeof(*c));
        c->source = source;
        return c;
}

static int from_auth(const struct creds_store *s, const struct auth_entry *a, const char *domain,
                     const char *note, struct creds **ret, struct lerr **err)
{
        if (a->error)
                return lerr_set(err, EBADMSG, "Docker config '%s': entry '%.100s': %s", s->path,
                                a->key, a->error);
        struct creds *c = new_creds(xasprintf("credentials for '%s' from %s (auths '%.100s'%s)",
                                              domain, s->path, a->key, note));
        c->username = dup_or_null(a->username);
        c->password = dup_or_null(a->password);
        c->identity_token = dup_or_null(a->identity_token);
        c->registry_token = dup_or_null(a->registry_token);
        if (creds_is_anonymous(c)) {
                free(c->source);
                c->source = xasprintf("no credentials for '%s': the auths entry '%.100s' in %s "
                                      "is empty (anonymous)",
                                      domain, a->key, s->path);
        }
        *ret = c;
        return 0;
}

static int from_helper(const struct creds_store *s, const char *helper, const char *kind,
                       const char *domain, const char *repo, struct creds **ret, struct lerr **err)
{
        const char *server = streq(domain, DOCKER_HUB_DOMAIN) ? DOCKER_HUB_AUTH_KEY : domain;
        _cleanup_(creds_freep) struct creds *c =
                new_creds(xasprintf("credentials for '%s' from docker-credential-%s (%s in %s)",
                                    domain, helper, kind, s->path));
        const struct auth_entry *a = find_auth(s, domain, repo);
        struct lerr *herr = NULL;
        int r;

        r = credhelper_get(helper, server, c, &herr);
        if (r > 0) {
                *ret = TAKE_PTR(c);
                return 0;
        }
        /* an explicit per-registry helper must work; a default store may be absent or empty */
        if (r < 0 && (streq(kind, "credHelpers") || r != -ENOENT)) {
                if (err) {
                        lerr_free(*err);
                        *err = herr;
                } else {
                        lerr_free(herr);
                }
                return lerr_wrap(err, "get credentials for '%s' (%s in %s)", domain, kind, s->path);
        }
        lerr_free(herr);
        const char *why = r < 0 ? "is not on PATH" : "has none";
        log_debug("docker-credential-%s %s for '%s'", helper, why, domain);
        if (a && !a->error &&
            (a->username || a->password || a->identity_token || a->registry_token)) {
                _cleanup_free_ char *note =
                        xasprintf("; %s docker-credential-%s %s", kind, helper, why);
                return from_auth(s, a, domain, note, ret, err);
        }
        *ret = new_creds(xasprintf("no credentials for '%s': docker-credential-%s %s (%s in %s; "
                                   "anonymous)",
                                   domain, helper, why, kind, s->path));
        return 0;
}

static int lookup_config(const struct creds_store *s, const char *domain, const char *repo_path,
                         struct creds **ret, struct lerr **err)
{
        const struct helper_entry *h;
        const struct auth_entry *a;

        if (!s->path) {
                *ret = new_creds(xasprintf("no credentials for '%s': no Docker config found "
                                           "(looked for %s; anonymous)",
                                           domain, s->searched));
                return 0;
        }
        if ((h = find_helper(s, domain)))
                return from_helper(s, h->name, "credHelpers", domain, repo_path, ret, err);
        if (s->store)
                return from_helper(s, s->store, "credsStore", domain, repo_path, ret, err);
        if ((a = find_auth(s, domain, repo_path)))
                return from_auth(s, a, domain, "", ret, err);
        *ret = new_creds(xasprintf("no credentials for '%s' in %s (anonymous)", domain, s->path));
        return 0;
}

static creds_provider_fn provider;

void creds_set_provider(creds_provider_fn fn)
{
        provider = fn;
}

int creds_lookup(const struct creds_store *s, const char *domain_in, const char *repo_path,
                 struct creds **ret, struct lerr **err)
{
        _cleanup_free_ char *domain = image_ref_normalize_domain(domain_in);
        if (!domain)
                return lerr_set(err, EINVAL, "invalid registry '%.100s'", domain_in);
        int r = lookup_config(s, domain, repo_path, ret, err);
        if (r < 0 || !creds_is_anonymous(*ret))
                return r;
        /* then Kaniko's built-in GitLab CI helper: the job's registry variables */
        struct creds *ci = creds_from_ci_env(domain);
        if (ci) {
                log_debug("%s; using the CI variables", (*ret)->source);
                creds_free(*ret);
                *ret = ci;
                return 0;
        }
        if (!provider)
                return 0;
        struct creds *p = NULL;
        r = provider(domain, &p, err);
        if (r < 0) {
                creds_free(TAKE_PTR(*ret));
                return lerr_wrap(err, "get credentials for '%s'", domain);
        }
        if (r > 0) {
                log_debug("%s; using %s", (*ret)->source, p->source);
                creds_free(*ret);
                *ret = p;
        }
        return 0;
}
