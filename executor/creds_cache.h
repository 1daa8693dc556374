/* SPDX-License-Identifier: Apache-2.0 */
/* A process-wide cache of registry credentials by registry domain, for the providers whose
 * credentials cost a request to a cloud API (ECR, ACR): a build looks a registry up many
 * times (pull, cache probes, push), the API is asked once. Thread-safe. */
#pragma once

#include <pthread.h>

struct creds;
struct creds_cache_entry;

struct creds_cache {
        pthread_mutex_t lock;
        struct creds_cache_entry *head;
};

#define CREDS_CACHE_INIT                                                                           \
        {                                                                                          \
                .lock = PTHREAD_MUTEX_INITIALIZER, .head = NULL                                    \
        }

/* A copy of the credentials cached for domain (the caller frees it), or NULL. */
struct creds *creds_cache_get(struct creds_cache *cache, const char *domain);
/* Keeps a copy of c for domain. */
void creds_cache_put(struct creds_cache *cache, const char *domain, const struct creds *c);
/* Forgets everything (tests; the end of the process). */
void creds_cache_clear(struct creds_cache *cache);
