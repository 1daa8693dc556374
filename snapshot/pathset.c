/* SPDX-License-Identifier: Apache-2.0 */
/* Path set: open addressing over names stored in an arena of large chunks. It only grows (one
 * layer at a time) and is cleared between layers; it does not delete single names. */
#include "snapshot/pathset.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

#include "common/alloc.h"
#include "snapshot/pathset-internal.h"

#define CHUNK_BYTES (1u << 20)

static inline uint64_t siphash13(uint64_t k0, uint64_t k1, const char *p, size_t len)
{
        return pathset_siphash(k0, k1, p, len, 1, 3);
}

struct slot {
        const char *p; /* NULL: empty */
        uint32_t len;
        uint32_t hash; /* low bits of the hash, to skip most string compares */
};

struct chunk {
        struct chunk *next;
        size_t used, size;
        char data[];
};

struct pathset {
        struct slot *slots;
        size_t mask, count, bytes, max_bytes;
        struct chunk *chunks;
        uint64_t k0, k1;
};

static inline uint64_t rotl(uint64_t x, int b)
{
        return (x << b) | (x >> (64 - b));
}

#define SIPROUND                                                                                   \
        do {                                                                                       \
                v0 += v1;                                                                          \
                v1 = rotl(v1, 13);                                                                 \
                v1 ^= v0;                                                                          \
                v0 = rotl(v0, 32);                                                                 \
                v2 += v3;                                                                          \
                v3 = rotl(v3, 16);                                                                 \
                v3 ^= v2;                                                                          \
                v0 += v3;                                                                          \
                v3 = rotl(v3, 21);                                                                 \
                v3 ^= v0;                                                                          \
                v2 += v1;                                                                          \
                v1 = rotl(v1, 17);                                                                 \
                v1 ^= v2;                                                                          \
                v2 = rotl(v2, 32);                                                                 \
        } while (0)

/* SipHash-c-d as specified by Aumasson and Bernstein (c compression rounds per word, d
 * finalization rounds), little-endian word loads. The set uses SipHash-1-3. */
uint64_t pathset_siphash(uint64_t k0, uint64_t k1, const void *p, size_t len, int c, int d)
{
        uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
        uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
        const unsigned char *in = (const unsigned char *) p;
        size_t words = len / 8;

        for (size_t i = 0; i < words; i++, in += 8) {
                uint64_t m = 0;
                for (int b = 7; b >= 0; b--)
                        m = (m << 8) | in[b];
                v3 ^= m;
                for (int r = 0; r < c; r++)
                        SIPROUND;
                v0 ^= m;
        }
        uint64_t last = (uint64_t) len << 56;
        for (size_t b = 0; b < (len & 7); b++)
                last |= (uint64_t) in[b] << (8 * b);
        v3 ^= last;
        for (int r = 0; r < c; r++)
                SIPROUND;
        v0 ^= last;
        v2 ^= 0xff;
        for (int r = 0; r < d; r++)
                SIPROUND;
        return v0 ^ v1 ^ v2 ^ v3;
}

struct pathset *pathset_new(size_t max_bytes)
{
        struct pathset *s = xcalloc(1, sizeof(*s));
        uint64_t key[2] = {0x0123456789abcdefULL, 0xfedcba9876543210ULL};
        /* without entropy the set still works, only without collision resistance */
        (void) !getrandom(key, sizeof(key), GRND_NONBLOCK);
        s->k0 = key[0];
        s->k1 = key[1];
        s->max_bytes = max_bytes;
        s->mask = 1023;
        s->slots = xcalloc(s->mask + 1, sizeof(struct slot));
        return s;
}

void pathset_clear(struct pathset *s)
{
        memset(s->slots, 0, (s->mask + 1) * sizeof(struct slot));
        for (struct chunk *c = s->chunks; c; c = c->next)
                c->used = 0;
        s->count = 0;
        s->bytes = 0;
}

void pathset_free(struct pathset *s)
{
        if (!s)
                return;
        while (s->chunks) {
                struct chunk *c = s->chunks;
                s->chunks = c->next;
                free(c);
        }
        free(s->slots);
        free(s);
}

size_t pathset_count(const struct pathset *s)
{
        return s->count;
}

static struct slot *find(const struct pathset *s, const char *path, size_t len, uint64_t h)
{
        for (size_t i = h & s->mask;; i = (i + 1) & s->mask) {
                struct slot *sl = &s->slots[i];
                if (!sl->p ||
                    (sl->hash == (uint32_t) h && sl->len == len && memcmp(sl->p, path, len) == 0))
                        return sl;
        }
}

static void grow(struct pathset *s)
{
        size_t old_n = s->mask + 1;
        struct slot *old = s->slots;
        s->mask = old_n * 2 - 1;
        s->slots = xcalloc(old_n * 2, sizeof(struct slot));
        for (size_t i = 0; i < old_n; i++) {
                if (!old[i].p)
                        continue;
                uint64_t h = siphash13(s->k0, s->k1, old[i].p, old[i].len);
                *find(s, old[i].p, old[i].len, h) = old[i];
        }
        free(old);
}

static const char *store(struct pathset *s, const char *path, size_t len)
{
        struct chunk *c = s->chunks;
        /* chunks after the first may have been emptied by pathset_clear: find one with room */
        while (c && c->size - c->used < len + 1)
                c = c->next;
        if (!c) {
                size_t size = MAX(CHUNK_BYTES, len + 1);
                c = xmalloc(sizeof(*c) + size);
                c->size = size;
                c->used = 0;
                c->next = s->chunks;
                s->chunks = c;
        }
        char *p = c->data + c->used;
        memcpy(p, path, len);
        p[len] = '\0';
        c->used += len + 1;
        return p;
}

int pathset_add(struct pathset *s, const char *path, size_t len)
{
        if (len > UINT32_MAX)
                return -E2BIG;
        uint64_t h = siphash13(s->k0, s->k1, path, len);
        struct slot *sl = find(s, path, len, h);
        if (sl->p)
                return 0;
        if (s->bytes + len + 1 > s->max_bytes)
                return -E2BIG;
        sl->p = store(s, path, len);
        sl->len = (uint32_t) len;
        sl->hash = (uint32_t) h;
        s->bytes += len + 1;
        if (++s->count * 4 > (s->mask + 1) * 3)
                grow(s);
        return 1;
}

bool pathset_contains(const struct pathset *s, const char *path, size_t len)
{
        uint64_t h = siphash13(s->k0, s->k1, path, len);
        return find(s, path, len, h)->p != NULL;
}
