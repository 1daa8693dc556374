/* SPDX-License-Identifier: Apache-2.0 */
/* The packfile reader: one sequential pass checks every object's header and zlib stream, a
 * second computes every object's id (undeltifying as needed), the trailer checksum is checked
 * over the whole file. It does not write packs or .idx files, and knows nothing of the
 * transport (git_fetch.c) or of trees (git_checkout.c). */
#include "executor/git_pack.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "common/alloc.h"
#include "common/err.h"

#define OBJ_OFS_DELTA 6
#define OBJ_REF_DELTA 7
#define READ_CHUNK    65536
/* REF_DELTA bases normally precede their deltas; a pack needing more passes than this to
 * find them all is refused rather than resolved in quadratic time */
#define MAX_RESOLVE_PASSES 8
/* Undeltified objects kept for the deltas that follow them: without this, a chain of depth d
 * costs d inflations for each of its objects. Direct-mapped by entry index; at most
 * CACHE_SLOTS * CACHE_MAX_OBJECT bytes. */
#define CACHE_SLOTS      128
#define CACHE_MAX_OBJECT (512u << 10)

struct entry {
        uint64_t offset;      /* of the object's header */
        uint64_t data_offset; /* of its zlib stream */
        uint64_t size;        /* inflated size (of the delta data for a delta) */
        uint32_t base;        /* OFS_DELTA: index of the base */
        uint8_t type;         /* 1-4, OBJ_OFS_DELTA, OBJ_REF_DELTA */
        bool has_id;
        unsigned char id[GIT_OID_RAWSZ];
        unsigned char base_id[GIT_OID_RAWSZ]; /* REF_DELTA */
};

struct cached {
        uint32_t index; /* entry index + 1, 0: empty */
        uint8_t type;
        size_t len;
        unsigned char *data;
};

struct git_pack {
        struct cached cache[CACHE_SLOTS];
        int fd;
        uint64_t size;
        struct git_pack_limits lim;
        struct entry *e;
        uint32_t n;
        uint32_t *table; /* open addressing over ids: entry index + 1, 0 empty */
        size_t table_mask;
        uint32_t *chain; /* scratch for resolve(): max_delta_depth entries */
};

const char *git_obj_type_name(enum git_obj_type t)
{
        switch (t) {
        case GIT_OBJ_COMMIT:
                return "commit";
        case GIT_OBJ_TREE:
                return "tree";
        case GIT_OBJ_BLOB:
                return "blob";
        case GIT_OBJ_TAG:
                return "tag";
        case GIT_OBJ_NONE:
                break;
        }
        return "?";
}

void git_oid_to_hex(const unsigned char id[GIT_OID_RAWSZ], char out[GIT_OID_HEXSZ + 1])
{
        static const char hex[] = "0123456789abcdef";
        for (size_t i = 0; i < GIT_OID_RAWSZ; i++) {
                out[2 * i] = hex[id[i] >> 4];
                out[2 * i + 1] = hex[id[i] & 15];
        }
        out[GIT_OID_HEXSZ] = '\0';
}

static int unhex(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int git_oid_from_hex(const char *hex, unsigned char ret[GIT_OID_RAWSZ])
{
        unsigned char id[GIT_OID_RAWSZ];
        for (size_t i = 0; i < GIT_OID_RAWSZ; i++) {
                int hi = unhex(hex[2 * i]), lo = hi < 0 ? -1 : unhex(hex[2 * i + 1]);
                if (hi < 0 || lo < 0)
                        return -EINVAL;
                id[i] = (unsigned char) (hi << 4 | lo);
        }
        if (hex[GIT_OID_HEXSZ] != '\0')
                return -EINVAL;
        memcpy(ret, id, sizeof(id));
        return 0;
}

/* ---- deltas ---- */

static int delta_varint(const unsigned char **p, const unsigned char *end, uint64_t *ret)
{
        uint64_t v = 0;
        unsigned shift = 0;
        unsigned char c;
        do {
                if (*p >= end || shift > 56)
                        return -EBADMSG;
                c = *(*p)++;
                v |= (uint64_t) (c & 0x7f) << shift;
                shift += 7;
        } while (c & 0x80);
        *ret = v;
        return 0;
}

/* Decodes one copy instruction's offset and size (op has bit 7 set). */
static int delta_copy_args(unsigned char op, const unsigned char **p, const unsigned char *end,
                           uint64_t *ret_off, uint64_t *ret_size)
{
        uint64_t off = 0, size = 0;
        for (unsigned i = 0; i < 4; i++)
                if (op & (1u << i)) {
                        if (*p >= end)
                                return -EBADMSG;
                        off |= (uint64_t) * (*p)++ << (8 * i);
                }
        for (unsigned i = 0; i < 3; i++)
                if (op & (0x10u << i)) {
                        if (*p >= end)
                                return -EBADMSG;
                        size |= (uint64_t) * (*p)++ << (8 * i);
                }
        *ret_off = off;
        *ret_size = size ? size : 0x10000;
        return 0;
}

/* Walks the instructions; with out == NULL only checks them and totals the result. */
static int delta_run(const unsigned char *base, size_t base_len, const unsigned char *p,
                     const unsigned char *end, unsigned char *out, uint64_t dst_len)
{
        uint64_t pos = 0;
        while (p < end) {
                unsigned char op = *p++;
                uint64_t off, size;
                if (op & 0x80) {
                        if (delta_copy_args(op, &p, end, &off, &size) < 0)
                                return -EBADMSG;
                        if (off > base_len || size > base_len - off || size > dst_len - pos)
                                return -EBADMSG;
                        if (out)
                                memcpy(out + pos, base + off, size);
                } else if (op) {
                        size = op;
                        if (size > (uint64_t) (end - p) || size > dst_len - pos)
                                return -EBADMSG;
                        if (out)
                                memcpy(out + pos, p, size);
                        p += size;
                } else
                        return -EBADMSG; /* opcode 0 is reserved */
                pos += size;
        }
        return pos == dst_len ? 0 : -EBADMSG;
}

int git_delta_apply(const unsigned char *base, size_t base_len, const unsigned char *delta,
                    size_t delta_len, uint64_t max, unsigned char **ret, size_t *ret_len)
{
        const unsigned char *p = delta, *end = delta + delta_len;
        uint64_t src_len, dst_len;

        if (delta_varint(&p, end, &src_len) < 0 || delta_varint(&p, end, &dst_len) < 0)
                return -EBADMSG;
        if (src_len != base_len)
                return -EBADMSG;
        if (dst_len > max || dst_len >= SIZE_MAX)
                return -E2BIG;
        /* validate before allocating: the declared size is only believed once the
         * instructions add up to it */
        int r = delta_run(base, base_len, p, end, NULL, dst_len);
        if (r < 0)
                return r;
        unsigned char *out = xmalloc((size_t) dst_len + 1);
        (void) delta_run(base, base_len, p, end, out, dst_len);
        out[dst_len] = '\0';
        *ret = out;
        *ret_len = (size_t) dst_len;
        return 0;
}

/* ---- reading the file ---- */

struct reader {
        int fd;
        uint64_t pos, end; /* next byte to take; objects stop before the trailer */
        uint64_t buf_pos;  /* file offset of buf[0] */
        size_t buf_len;
        unsigned char buf[READ_CHUNK];
};

/* Makes bytes at r->pos available; returns how many (0 at end), or -errno. */
static ssize_t rd_peek(struct reader *r, const unsigned char **ret)
{
        if (r->pos >= r->end)
                return 0;
        if (r->pos < r->buf_pos || r->pos >= r->buf_pos + r->buf_len) {
                uint64_t want = r->end - r->pos;
                ssize_t n = pread(r->fd, r->buf, want < READ_CHUNK ? (size_t) want : READ_CHUNK,
                                  (off_t) r->pos);
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EBADMSG;
                r->buf_pos = r->pos;
                r->buf_len = (size_t) n;
        }
        *ret = r->buf + (r->pos - r->buf_pos);
        return (ssize_t) (r->buf_len - (r->pos - r->buf_pos));
}

static int rd_byte(struct reader *r, unsigned char *c)
{
        const unsigned char *p = NULL;
        ssize_t n = rd_peek(r, &p);
        if (n <= 0)
                return n < 0 ? (int) n : -EBADMSG;
        *c = *p;
        r->pos++;
        return 0;
}

/* Inflates the zlib stream at r->pos, which must hold exactly size bytes. out: where they go
 * (NULL: counted only). Leaves r->pos just past the stream. */
static int rd_inflate(struct reader *r, uint64_t size, unsigned char *out)
{
        unsigned char scratch[READ_CHUNK];
        z_stream z = {0};
        uint64_t produced = 0;
        int zr = Z_OK, k = 0;

        if (inflateInit(&z) != Z_OK)
                oom();
        while (zr != Z_STREAM_END) {
                const unsigned char *p = NULL;
                ssize_t n = rd_peek(r, &p);
                if (n <= 0) {
                        k = n < 0 ? (int) n : -EBADMSG;
                        break;
                }
                z.next_in = (unsigned char *) p;
                z.avail_in = n > UINT32_MAX ? UINT32_MAX : (uInt) n;
                /* one byte of room past size so that extra output is seen */
                uint64_t room = size - produced + 1;
                z.next_out = out ? out + produced : scratch;
                z.avail_out = out ? (room > UINT32_MAX ? UINT32_MAX : (uInt) room)
                                  : (uInt) sizeof(scratch);
                uInt in0 = z.avail_in, out0 = z.avail_out;
                zr = inflate(&z, Z_NO_FLUSH);
                r->pos += in0 - z.avail_in;
                produced += out0 - z.avail_out;
                if (produced > size || (zr != Z_OK && zr != Z_STREAM_END) ||
                    (zr == Z_OK && in0 == z.avail_in && out0 == z.avail_out)) {
                        k = -EBADMSG;
                        break;
                }
        }
        (void) inflateEnd(&z);
        if (k >= 0 && produced != size)
                k = -EBADMSG;
        return k;
}

/* ---- the index ---- */

static uint32_t *table_slot(struct git_pack *p, const unsigned char id[GIT_OID_RAWSZ])
{
        size_t h = (size_t) id[0] << 24 | (size_t) id[1] << 16 | (size_t) id[2] << 8 | id[3];
        for (size_t i = h & p->table_mask;; i = (i + 1) & p->table_mask) {
                uint32_t v = p->table[i];
                if (!v || memcmp(p->e[v - 1].id, id, GIT_OID_RAWSZ) == 0)
                        return &p->table[i];
        }
}

static int lookup(struct git_pack *p, const unsigned char id[GIT_OID_RAWSZ])
{
        uint32_t v = *table_slot(p, id);
        return v ? (int) (v - 1) : -1;
}

static int find_offset(const struct git_pack *p, uint64_t off, uint32_t *ret)
{
        uint32_t lo = 0, hi = p->n;
        while (lo < hi) {
                uint32_t mid = lo + (hi - lo) / 2;
                if (p->e[mid].offset == off) {
                        *ret = mid;
                        return 0;
                }
                if (p->e[mid].offset < off)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return -EBADMSG;
}

static int parse_entry(struct git_pack *p, struct reader *r, struct entry *e)
{
        unsigned char c = 0;
        unsigned shift = 4;
        int k;

        e->offset = r->pos;
        if ((k = rd_byte(r, &c)) < 0)
                return k;
        e->type = (c >> 4) & 7;
        e->size = c & 15;
        while (c & 0x80) {
                if (shift > 57 || (k = rd_byte(r, &c)) < 0)
                        return shift > 57 ? -EBADMSG : k;
                e->size |= (uint64_t) (c & 0x7f) << shift;
                shift += 7;
        }
        if (e->type == 0 || e->type == 5)
                return -EBADMSG;
        if (e->size > p->lim.max_object_bytes)
                return -E2BIG;
        if (e->type == OBJ_OFS_DELTA) {
                uint64_t ofs;
                if ((k = rd_byte(r, &c)) < 0)
                        return k;
                ofs = c & 0x7f;
                while (c & 0x80) {
                        if (ofs > (UINT64_MAX >> 7) - 1 || (k = rd_byte(r, &c)) < 0)
                                return k < 0 ? k : -EBADMSG;
                        ofs = ((ofs + 1) << 7) | (c & 0x7f);
                }
                if (ofs == 0 || ofs > e->offset || find_offset(p, e->offset - ofs, &e->base) < 0)
                        return -EBADMSG;
        } else if (e->type == OBJ_REF_DELTA) {
                for (size_t i = 0; i < GIT_OID_RAWSZ; i++)
                        if ((k = rd_byte(r, &e->base_id[i])) < 0)
                                return k;
        }
        e->data_offset = r->pos;
        return rd_inflate(r, e->size, NULL);
}

static int check_trailer(int fd, uint64_t size)
{
        _cleanup_free_ unsigned char *buf = xmalloc(READ_CHUNK);
        unsigned char want[GIT_OID_RAWSZ], got[EVP_MAX_MD_SIZE];
        unsigned got_len = 0;
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        int r = 0;

        if (!md || EVP_DigestInit_ex(md, EVP_sha1(), NULL) != 1)
                oom();
        for (uint64_t pos = 0; pos < size - GIT_OID_RAWSZ && r == 0;) {
                uint64_t left = size - GIT_OID_RAWSZ - pos;
                ssize_t n =
                        pread(fd, buf, left < READ_CHUNK ? (size_t) left : READ_CHUNK, (off_t) pos);
                if (n <= 0)
                        r = n < 0 ? -errno : -EBADMSG;
                else {
                        (void) EVP_DigestUpdate(md, buf, (size_t) n);
                        pos += (uint64_t) n;
                }
        }
        if (r == 0 &&
            pread(fd, want, sizeof(want), (off_t) (size - GIT_OID_RAWSZ)) != (ssize_t) sizeof(want))
                r = -EBADMSG;
        if (r == 0 && (EVP_DigestFinal_ex(md, got, &got_len) != 1 || got_len != GIT_OID_RAWSZ ||
                       memcmp(got, want, GIT_OID_RAWSZ) != 0))
                r = -EBADMSG;
        EVP_MD_CTX_free(md);
        return r;
}

static int scan(struct git_pack *p, struct lerr **err)
{
        _cleanup_free_ struct reader *r = xcalloc(1, sizeof(*r));
        unsigned char head[12];
        size_t alloc = 0;

        if (p->size < 12 + GIT_OID_RAWSZ || pread(p->fd, head, 12, 0) != 12)
                return lerr_set(err, EBADMSG, "truncated packfile");
        uint32_t version = (uint32_t) head[4] << 24 | head[5] << 16 | head[6] << 8 | head[7];
        uint32_t count = (uint32_t) head[8] << 24 | head[9] << 16 | head[10] << 8 | head[11];
        if (memcmp(head, "PACK", 4) != 0 || (version != 2 && version != 3))
                return lerr_set(err, EBADMSG, "not a version 2 or 3 packfile");
        if (count > p->lim.max_objects)
                return lerr_set(err, E2BIG, "packfile holds %u objects, over the limit of %u",
                                count, p->lim.max_objects);
        *r = (struct reader){.fd = p->fd, .pos = 12, .end = p->size - GIT_OID_RAWSZ};
        for (uint32_t i = 0; i < count; i++) {
                /* grown as objects prove real, not sized from the header's claim */
                if (p->n == alloc) {
                        alloc = alloc ? alloc * 2 : 64;
                        p->e = xreallocarray(p->e, alloc, sizeof(*p->e));
                }
                struct entry *e = &p->e[p->n];
                *e = (struct entry){0};
                int k = parse_entry(p, r, e);
                if (k == -E2BIG)
                        return lerr_set(err, E2BIG,
                                        "packfile object %u is over the limit of %" PRIu64 " bytes",
                                        i, p->lim.max_object_bytes);
                if (k == -EBADMSG)
                        return lerr_set(err, EBADMSG,
                                        "packfile object %u at offset %" PRIu64 " is malformed", i,
                                        e->offset);
                if (k < 0)
                        return lerr_errno(err, k, "read the packfile");
                p->n++;
        }
        if (r->pos != p->size - GIT_OID_RAWSZ)
                return lerr_set(err, EBADMSG, "packfile has data after its %u objects", count);
        int k = check_trailer(p->fd, p->size);
        if (k == -EBADMSG)
                return lerr_set(err, EBADMSG, "packfile checksum does not match its contents");
        if (k < 0)
                return lerr_errno(err, k, "read the packfile");
        return 0;
}

/* ---- objects ---- */

static int inflate_entry(struct git_pack *p, const struct entry *e, unsigned char **ret)
{
        _cleanup_free_ struct reader *r = xcalloc(1, sizeof(*r));
        *r = (struct reader){.fd = p->fd, .pos = e->data_offset, .end = p->size - GIT_OID_RAWSZ};
        _cleanup_free_ unsigned char *out = xmalloc((size_t) e->size + 1);
        int k = rd_inflate(r, e->size, out);
        if (k < 0)
                return k;
        out[e->size] = '\0';
        *ret = TAKE_PTR(out);
        return 0;
}

static void cache_put(struct git_pack *p, uint32_t i, uint8_t type, const unsigned char *data,
                      size_t len)
{
        struct cached *c = &p->cache[i % CACHE_SLOTS];
        if (len > CACHE_MAX_OBJECT)
                return;
        free(c->data);
        c->data = xmalloc(len + 1);
        memcpy(c->data, data, len + 1);
        c->index = i + 1;
        c->type = type;
        c->len = len;
}

static const struct cached *cache_get(const struct git_pack *p, uint32_t i)
{
        const struct cached *c = &p->cache[i % CACHE_SLOTS];
        return c->index == i + 1 ? c : NULL;
}

/* Undeltifies entry i. -EAGAIN: a REF_DELTA base on its chain has no id yet. */
static int resolve(struct git_pack *p, uint32_t i, enum git_obj_type *ret_type,
                   unsigned char **ret_data, size_t *ret_len)
{
        uint32_t depth = 0, cur = i;
        const struct cached *hit = NULL;

        while (!(hit = cache_get(p, cur)) &&
               (p->e[cur].type == OBJ_OFS_DELTA || p->e[cur].type == OBJ_REF_DELTA)) {
                if (depth >= p->lim.max_delta_depth)
                        return -E2BIG;
                p->chain[depth++] = cur;
                if (p->e[cur].type == OBJ_OFS_DELTA)
                        cur = p->e[cur].base;
                else {
                        int b = lookup(p, p->e[cur].base_id);
                        if (b < 0)
                                return -EAGAIN;
                        cur = (uint32_t) b;
                }
        }
        _cleanup_free_ unsigned char *data = NULL;
        size_t len;
        uint8_t type;
        if (hit) {
                len = hit->len;
                type = hit->type;
                data = xmalloc(len + 1);
                memcpy(data, hit->data, len + 1);
        } else {
                int k = inflate_entry(p, &p->e[cur], &data);
                if (k < 0)
                        return k;
                len = (size_t) p->e[cur].size;
                type = p->e[cur].type;
                if (depth > 0)
                        cache_put(p, cur, type, data, len);
        }
        while (depth > 0) {
                _cleanup_free_ unsigned char *delta = NULL;
                uint32_t di = p->chain[--depth];
                const struct entry *d = &p->e[di];
                unsigned char *next;
                size_t next_len;
                int k = inflate_entry(p, d, &delta);
                if (k >= 0)
                        k = git_delta_apply(data, len, delta, (size_t) d->size,
                                            p->lim.max_object_bytes, &next, &next_len);
                if (k < 0)
                        return k;
                free(data);
                data = next;
                len = next_len;
                cache_put(p, di, type, data, len);
        }
        *ret_type = (enum git_obj_type) type;
        *ret_data = TAKE_PTR(data);
        *ret_len = len;
        return 0;
}

static void object_id(enum git_obj_type t, const unsigned char *data, size_t len,
                      unsigned char ret[GIT_OID_RAWSZ])
{
        char head[64];
        int n = snprintf(head, sizeof(head), "%s %zu", git_obj_type_name(t), len);
        unsigned got = 0;
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        if (!md || EVP_DigestInit_ex(md, EVP_sha1(), NULL) != 1)
                oom();
        (void) EVP_DigestUpdate(md, head, (size_t) n + 1); /* with its NUL */
        (void) EVP_DigestUpdate(md, data, len);
        (void) EVP_DigestFinal_ex(md, ret, &got);
        EVP_MD_CTX_free(md);
}

static int compute_ids(struct git_pack *p, struct lerr **err)
{
        size_t slots = 16;
        while (slots < (size_t) p->n * 2)
                slots *= 2;
        p->table = xcalloc(slots, sizeof(*p->table));
        p->table_mask = slots - 1;
        p->chain = xreallocarray(NULL, p->lim.max_delta_depth ? p->lim.max_delta_depth : 1,
                                 sizeof(*p->chain));
        for (unsigned pass = 0;; pass++) {
                uint32_t waiting = 0;
                bool progress = false;
                for (uint32_t i = 0; i < p->n; i++) {
                        if (p->e[i].has_id)
                                continue;
                        enum git_obj_type t;
                        _cleanup_free_ unsigned char *data = NULL;
                        size_t len;
                        int k = resolve(p, i, &t, &data, &len);
                        if (k == -EAGAIN) {
                                waiting++;
                                continue;
                        }
                        if (k == -E2BIG)
                                return lerr_set(err, E2BIG,
                                                "packfile object at offset %" PRIu64
                                                " is over the limits (delta depth %u, size "
                                                "%" PRIu64 ")",
                                                p->e[i].offset, p->lim.max_delta_depth,
                                                p->lim.max_object_bytes);
                        if (k == -EBADMSG)
                                return lerr_set(err, EBADMSG,
                                                "packfile object at offset %" PRIu64
                                                " is malformed (bad delta)",
                                                p->e[i].offset);
                        if (k < 0)
                                return lerr_errno(err, k, "read the packfile");
                        object_id(t, data, len, p->e[i].id);
                        p->e[i].has_id = true;
                        uint32_t *slot = table_slot(p, p->e[i].id);
                        if (!*slot) /* a duplicate keeps the first copy */
                                *slot = i + 1;
                        progress = true;
                }
                if (!waiting)
                        return 0;
                if (!progress || pass + 1 >= MAX_RESOLVE_PASSES)
                        return lerr_set(err, EBADMSG,
                                        "packfile has %u deltas whose base is not in the pack",
                                        waiting);
        }
}

int git_pack_open(int fd, const struct git_pack_limits *lim, struct git_pack **ret,
                  struct lerr **err)
{
        static const struct git_pack_limits defaults = GIT_PACK_LIMITS_DEFAULT;
        _cleanup_(git_pack_freep) struct git_pack *p = xcalloc(1, sizeof(*p));
        struct stat st;

        if (fstat(fd, &st) < 0)
                return lerr_errno(err, errno, "read the packfile");
        p->fd = fd;
        p->size = (uint64_t) st.st_size;
        p->lim = lim ? *lim : defaults;
        int k = scan(p, err);
        if (k >= 0)
                k = compute_ids(p, err);
        if (k < 0)
                return k;
        *ret = TAKE_PTR(p);
        return 0;
}

void git_pack_free(struct git_pack *p)
{
        if (!p)
                return;
        for (size_t i = 0; i < CACHE_SLOTS; i++)
                free(p->cache[i].data);
        free(p->e);
        free(p->table);
        free(p->chain);
        free(p);
}

uint32_t git_pack_count(const struct git_pack *p)
{
        return p->n;
}

const unsigned char *git_pack_object_id(const struct git_pack *p, uint32_t i)
{
        return p->e[i].id;
}

int git_pack_read(struct git_pack *p, const unsigned char id[GIT_OID_RAWSZ], enum git_obj_type want,
                  enum git_obj_type *ret_type, unsigned char **ret_data, size_t *ret_len,
                  struct lerr **err)
{
        char hex[GIT_OID_HEXSZ + 1];
        enum git_obj_type t;
        unsigned char *data;
        size_t len;

        git_oid_to_hex(id, hex);
        int i = lookup(p, id);
        if (i < 0)
                return lerr_set(err, ENOENT, "object %s is not in the packfile", hex);
        int k = resolve(p, (uint32_t) i, &t, &data, &len);
        if (k < 0)
                return lerr_errno(err, k, "read object %s", hex);
        if (want != GIT_OBJ_NONE && t != want) {
                free(data);
                return lerr_set(err, EBADMSG, "object %s is a %s, not a %s", hex,
                                git_obj_type_name(t), git_obj_type_name(want));
        }
        *ret_type = t;
        *ret_data = data;
        *ret_len = len;
        return 0;
}
