/* SPDX-License-Identifier: Apache-2.0 */
/* The exec (JSON) form of Dockerfile arguments: ["a", "b"]. Docker decodes it with Go's
 * encoding/json, and whether text is JSON at all decides the form: text that is not valid JSON
 * is shell form, valid JSON that is not an array of strings is an error. This reader follows
 * those rules (RFC 8259 syntax, invalid UTF-8 and lone surrogates become U+FFFD, nesting up to
 * JSONARGS_MAX_DEPTH, numbers beyond float64 range make the text invalid). */
#pragma once

#include <stddef.h>

#define JSONARGS_MAX_DEPTH 10000

/* Parses n bytes of s, which must start with '[' (leading white space already skipped).
 * Returns 0 and a new NULL-terminated vector in *ret for an array of strings; -EBADMSG when
 * the text is not valid JSON (the caller treats it as shell form); -EINVAL for valid JSON with
 * an element that is not a string; -EILSEQ for a string holding a NUL character, which no
 * argument can carry. */
int jsonargs_parse(const char *s, size_t n, char ***ret);
