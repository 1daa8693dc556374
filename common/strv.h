/* SPDX-License-Identifier: Apache-2.0 */
/* NULL-terminated string vectors (char **), owned element by element. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include "common/macros.h"

size_t strv_length(char *const *l);
/* Appends a copy of s. *l may be NULL (an empty vector). */
void strv_push(char ***l, const char *s);
/* Appends s, taking ownership of it. */
void strv_consume(char ***l, char *s);
char **strv_copy(char *const *l);
bool strv_contains(char *const *l, const char *s);
/* Joins with sep; returns a new string ("" for an empty vector). */
char *strv_join(char *const *l, const char *sep);
void strv_free(char **l);
DEFINE_FREEP(char *, strv_free)

#define strv_foreach(s, l) for (char *const *_i = (l), *s; _i && (s = *_i); _i++)
