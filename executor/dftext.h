/* SPDX-License-Identifier: Apache-2.0 */
/* Text helpers shared by the Dockerfile frontend: UTF-8 runes, Unicode white space as Go's
 * unicode.IsSpace sees it, quoting user text for error messages, and "did you mean"
 * suggestions. No allocation limits here: callers pass bounded input. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length in bytes of the UTF-8 sequence at s (n bytes available, n > 0) and its code point in
 * *ret_rune. An invalid or truncated sequence is one byte long and decodes to U+FFFD, as Go's
 * utf8.DecodeRune does. */
size_t dftext_rune(const char *s, size_t n, uint32_t *ret_rune);
/* Whether rune is white space for Go's unicode.IsSpace. */
bool dftext_is_space_rune(uint32_t rune);
/* If a white-space rune starts at s, its length in bytes, else 0. */
size_t dftext_space_len(const char *s, size_t n);
/* ASCII white space of the parser's splitting regexp: \t \v \f \r and space. */
static inline bool dftext_is_blank(char c)
{
        return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

/* A printable copy of n bytes of s for messages: control bytes and invalid UTF-8 become \xNN,
 * and text past max bytes is cut and followed by "...". Caller frees. */
char *dftext_quote(const char *s, size_t n, size_t max);

/* The option nearest to val by Levenshtein distance, if closer than 3 edits and not equal
 * (BuildKit's suggestion rule); case-insensitive when icase. With icase the answer is upper
 * case when val is all upper case, lower case otherwise. Returns a new string or NULL. */
char *dftext_suggest(const char *val, const char *const *options, size_t n_options, bool icase);

/* ASCII case-insensitive equality. */
bool dftext_eq_icase(const char *a, const char *b);
/* Lower-cases ASCII letters of s in place and returns s. */
char *dftext_lower(char *s);

/* A NULL-terminated string vector that grows geometrically, for vectors built from input
 * (strv_push() counts the vector on every call, which is quadratic). */
struct strvb {
        char **v;
        size_t n, cap;
};
/* Appends s, taking ownership. */
void strvb_consume(struct strvb *b, char *s);
/* Appends a copy of s. */
void strvb_push(struct strvb *b, const char *s);
/* The vector (never NULL: an empty one when nothing was added); b is left empty. */
char **strvb_steal(struct strvb *b);
void strvb_done(struct strvb *b);

/* Makes room for element n of an array p that holds n elements of size bytes: the array grows
 * to twice its size when n is a power of two (or 0), so appending one element at a time costs
 * amortized O(1) without storing a capacity. Returns the (maybe moved) array. */
void *dftext_grow(void *p, size_t n, size_t size);
