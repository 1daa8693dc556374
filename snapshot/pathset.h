/* SPDX-License-Identifier: Apache-2.0 */
/* A set of root-relative paths, for remembering what the layer being extracted has written
 * (opaque-directory markers may come after the entries they must keep). Names come from layers,
 * so the hash is keyed (SipHash-1-3 with a random key): crafted names cannot all collide.
 * Limits: the bytes of names kept are capped by the max_bytes given to pathset_new(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include "common/macros.h"

struct pathset;

/* max_bytes bounds the memory taken by names (each name counts its length + 1). */
struct pathset *pathset_new(size_t max_bytes);
void pathset_free(struct pathset *s);
DEFINE_FREEP(struct pathset, pathset_free)

/* Adds path[0..len). Returns 1 if added, 0 if already there, -E2BIG past max_bytes. */
int pathset_add(struct pathset *s, const char *path, size_t len);
bool pathset_contains(const struct pathset *s, const char *path, size_t len);
size_t pathset_count(const struct pathset *s);
/* Empties the set, keeping its memory. */
void pathset_clear(struct pathset *s);
