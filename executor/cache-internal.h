/* SPDX-License-Identifier: Apache-2.0 */
/* State shared by the layer cache's two files: cache.c (opening, probing, pushing, the
 * base-image cache) and cache_steps.c (the key chain of each stage, serving steps). Not a
 * public interface. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include "common/digest.h"
#include "executor/cache_key.h"
#include "executor/cache_store.h"

struct lerr;
struct options;
struct oci_layout;
struct blobstore;

struct push_job {
        struct push_job *next;
        char key[DIGEST_STRING_SIZE];
        struct cache_entry e;
        char *os, *arch, *variant;
};

struct build_cache {
        const struct options *o;
        struct cache_store *store; /* NULL: no layer cache */
        struct oci_layout *warm;   /* --cache-dir, NULL when there is none */
        struct cache_layer_format fmt;
        bool want_push;

        /* the probe of the cache repository, on a thread */
        pthread_t probe_thread;
        bool probe_started, probe_done;
        struct lerr *probe_pull_err, *probe_push_err;
        bool lookups, pushes; /* once the probe is done */

        /* the pusher */
        pthread_mutex_t lock;
        pthread_cond_t cond;
        struct push_job *head, **tail;
        bool stop, pusher_started, give_up;
        pthread_t pusher;
        unsigned pushed, failed, failed_in_a_row;
        struct lerr *push_err;
        struct blobstore *blobs;

        char **stage_keys; /* final key of each plan stage, NULL when it has none */
        bool *stage_ran;   /* a RUN of the stage (or of the stages it is based on) ran */
        size_t n_stages;
        unsigned served, ran, stages_from_cache;
        bool lookup_warned;
};

/* Waits for the probe of the cache repository (once) and says what it found. */
void cache_wait_probe(struct build_cache *c);
/* Hands a job to the pusher thread (or pushes it now when there is no thread); takes it. */
void cache_queue_push(struct build_cache *c, struct push_job *j);
