/* SPDX-License-Identifier: Apache-2.0 */
/* A reader of git packfiles (gitformat-pack(5), version 2 and 3 headers, sha1 object ids) held
 * in a file: git_pack_open() checks the whole file (header, every object's zlib stream and
 * size, delta bounds, the trailer checksum) and computes every object's id, keeping only an
 * index (offsets and ids, ~60 bytes an object); objects are inflated one at a time when read.
 * The file is untrusted: every count and size is checked against struct git_pack_limits. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include "common/macros.h"

struct lerr;

#define GIT_OID_RAWSZ 20
#define GIT_OID_HEXSZ 40

/* Defaults: what a build context or ADD source may reasonably hold. */
#define GIT_PACK_MAX_OBJECTS      2000000u
#define GIT_PACK_MAX_OBJECT_BYTES (UINT64_C(1) << 30) /* one inflated object or delta */
#define GIT_PACK_MAX_DELTA_DEPTH  4095u               /* git's own pack.depth cap */

struct git_pack_limits {
        uint32_t max_objects;
        uint64_t max_object_bytes;
        uint32_t max_delta_depth;
};
#define GIT_PACK_LIMITS_DEFAULT                                                                    \
        {                                                                                          \
                GIT_PACK_MAX_OBJECTS, GIT_PACK_MAX_OBJECT_BYTES, GIT_PACK_MAX_DELTA_DEPTH          \
        }

enum git_obj_type {
        GIT_OBJ_NONE = 0,
        GIT_OBJ_COMMIT = 1,
        GIT_OBJ_TREE = 2,
        GIT_OBJ_BLOB = 3,
        GIT_OBJ_TAG = 4,
};

/* "commit", "tree", "blob", "tag", or "?" */
const char *git_obj_type_name(enum git_obj_type t);

/* Hex of a raw id into out (41 bytes); parsing takes exactly 40 lower- or upper-case hex
 * digits (-EINVAL otherwise). */
void git_oid_to_hex(const unsigned char id[GIT_OID_RAWSZ], char out[GIT_OID_HEXSZ + 1]);
int git_oid_from_hex(const char *hex, unsigned char ret[GIT_OID_RAWSZ]);

/* Applies a git delta (gitformat-pack(5) "Deltified representation") to base. The result is
 * at most max bytes; every copy is checked against base's bounds, the result against the
 * delta's declared sizes. Returns 0 with a malloc'ed *ret (caller frees), or -EBADMSG
 * (malformed, out of bounds) or -E2BIG (over max). */
int git_delta_apply(const unsigned char *base, size_t base_len, const unsigned char *delta,
                    size_t delta_len, uint64_t max, unsigned char **ret, size_t *ret_len);

struct git_pack; /* opaque */

/* Checks and indexes the pack in fd (read with pread; the caller keeps fd open and unchanged
 * while the pack is used, and closes it). lim NULL: the defaults. Errors: EBADMSG (malformed,
 * checksum mismatch, an object whose delta base is not in the pack), E2BIG (over a limit),
 * or the errno of a failed read. */
int git_pack_open(int fd, const struct git_pack_limits *lim, struct git_pack **ret,
                  struct lerr **err);
void git_pack_free(struct git_pack *p);
DEFINE_FREEP(struct git_pack, git_pack_free)

uint32_t git_pack_count(const struct git_pack *p);
/* The id of the i-th object in pack order (i < git_pack_count()); borrowed from p. */
const unsigned char *git_pack_object_id(const struct git_pack *p, uint32_t i);

/* Reads the object with this id, inflated and undeltified; its id was computed from these
 * bytes. want: the type it must have, or GIT_OBJ_NONE for any. *ret_data is malloc'ed (and
 * NUL-terminated for convenience; the caller frees). ENOENT: not in the pack; EBADMSG: not of
 * type want. */
int git_pack_read(struct git_pack *p, const unsigned char id[GIT_OID_RAWSZ], enum git_obj_type want,
                  enum git_obj_type *ret_type, unsigned char **ret_data, size_t *ret_len,
                  struct lerr **err);
