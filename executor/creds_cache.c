/* SPDX-License-Identifier: Apache-2.0 */
#include "executor/creds_cache.h"

#include <stdlib.h>

#include "common/alloc.h"
#include "common/macros.h"
#include "registry/creds.h"

struct creds_cache_entry {
        struct creds_cache_entry *next;
        char *domain;
        struct creds *creds;
};

struct creds *creds_cache_get(struct creds_cache *cache, const char *domain)
{
        struct creds *c = NULL;
        (void) pthread_mutex_lock(&cache->lock);
        for (struct creds_cache_entry *e = cache->head; e && !c; e = e->next)
                if (streq(e->domain, domain))
                        c = creds_dup(e->creds);
        (void) pthread_mutex_unlock(&cache->lock);
        return c;
}

void creds_cache_put(struct creds_cache *cache, const char *domain, const struct creds *c)
{
        struct creds_cache_entry *e = xcalloc(1, sizeof(*e));
        e->domain = xstrdup(domain);
        e->creds = creds_dup(c);
        (void) pthread_mutex_lock(&cache->lock);
        e->next = cache->head;
        cache->head = e;
        (void) pthread_mutex_unlock(&cache->lock);
}

void creds_cache_clear(struct creds_cache *cache)
{
        (void) pthread_mutex_lock(&cache->lock);
        struct creds_cache_entry *e = TAKE_PTR(cache->head);
        (void) pthread_mutex_unlock(&cache->lock);
        while (e) {
                struct creds_cache_entry *next = e->next;
                creds_free(e->creds);
                free(e->domain);
                free(e);
                e = next;
        }
}
