/* SPDX-License-Identifier: Apache-2.0 */
/* GitLab CI's registry variables as credentials (see creds_ci.h). */
#include "registry/creds_ci.h"

#include <stdlib.h>

#include "common/alloc.h"
#include "common/macros.h"
#include "registry/creds.h"
#include "registry/ref.h"

struct ci_pair {
        const char *server, *user, *password;
};

static const struct ci_pair ci_pairs[] = {
        {"CI_REGISTRY", "CI_REGISTRY_USER", "CI_REGISTRY_PASSWORD"},
        {"CI_DEPENDENCY_PROXY_SERVER", "CI_DEPENDENCY_PROXY_USER", "CI_DEPENDENCY_PROXY_PASSWORD"},
};

/* CI_REGISTRY is a bare host[:port]; accept a scheme and a trailing slash too */
static char *server_domain(const char *server)
{
        const char *s = startswith(server, "https://");
        if (!s)
                s = startswith(server, "http://");
        _cleanup_free_ char *host = xstrdup(s ? s : server);
        size_t n = strlen(host);
        while (n && host[n - 1] == '/')
                host[--n] = '\0';
        return *host ? image_ref_normalize_domain(host) : NULL;
}

struct creds *creds_from_ci_env(const char *domain)
{
        for (size_t i = 0; i < ARRAY_SIZE(ci_pairs); i++) {
                const struct ci_pair *p = &ci_pairs[i];
                const char *server = getenv(p->server), *user = getenv(p->user),
                           *password = getenv(p->password);
                if (!server || !user || !*user || !password || !*password)
                        continue;
                _cleanup_free_ char *d = server_domain(server);
                if (!d || !streq(d, domain))
                        continue;
                struct creds *c = xcalloc(1, sizeof(*c));
                c->username = xstrdup(user);
                c->password = xstrdup(password);
                c->source = xasprintf("credentials for '%s' from %s and %s (%s names it)", domain,
                                      p->user, p->password, p->server);
                return c;
        }
        return NULL;
}
