/* SPDX-License-Identifier: Apache-2.0 */
/* .dockerignore with Docker's semantics (moby/patternmatcher and its ignorefile reader):
 *
 * - One pattern per line; a line starting with '#' is a comment; blank lines are skipped;
 *   white space around a pattern is dropped; a UTF-8 BOM is skipped.
 * - Patterns are cleaned as Go's filepath.Clean does ("./a//b/" is "a/b", "a/../b" is "b") and a
 *   leading '/' is dropped: patterns are relative to the context root.
 * - '*' matches any run of characters but '/', '?' one character but '/', "[a-z]" and "[^x]"
 *   classes, '\' escapes the next character; "**" matches any number of directories (also
 *   none): "**" / "**"-suffix / "**"-prefix patterns behave as Docker's shortcuts do.
 * - A pattern matches a path or any of its parent directories ("build" excludes
 *   "build/x/y"). Patterns apply in order, the last one that matches wins; "!pattern" is an
 *   exception that includes again what earlier patterns excluded.
 * - The context root itself is never excluded.
 *
 * The same matcher serves COPY/ADD --exclude (dockerignore_from_patterns).
 *
 * Limits: DOCKERIGNORE_MAX_BYTES of file, DOCKERIGNORE_MAX_PATTERNS patterns, patterns of at
 * most DOCKERIGNORE_MAX_PATTERN_BYTES; paths to match are taken as given up to 4096 bytes
 * (FS_PATH_MAX) and longer ones are never excluded. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include "common/macros.h"

struct lerr;
struct dockerignore;

#define DOCKERIGNORE_MAX_BYTES         (1u << 20)
#define DOCKERIGNORE_MAX_PATTERNS      65536
#define DOCKERIGNORE_MAX_PATTERN_BYTES 4096

/* Parses the text of a .dockerignore file (len bytes, not NUL-terminated). what names the
 * file in errors. Errors: -E2BIG (limits), -EINVAL ("!" alone, a bad pattern such as an
 * unclosed '[' or a trailing '\', a NUL byte): "<what>:<line>: <what is wrong>". */
int dockerignore_parse(const char *data, size_t len, const char *what, struct dockerignore **ret,
                       struct lerr **err);
/* A matcher over patterns already read (COPY --exclude): each is trimmed and cleaned as
 * above, empty ones skipped. */
int dockerignore_from_patterns(char *const *patterns, struct dockerignore **ret, struct lerr **err);
/* Loads the ignore file of a build: "<dockerfile>.dockerignore" beside the Dockerfile when it
 * exists (dockerfile: the path it was read from, relative to the working directory; may be
 * NULL), else ".dockerignore" in the context directory context_fd; neither is an empty
 * matcher. *ret_path (if not NULL) is the file used, or NULL; a new string. */
int dockerignore_load(int context_fd, const char *dockerfile, struct dockerignore **ret,
                      char **ret_path, struct lerr **err);
void dockerignore_free(struct dockerignore *di);
DEFINE_FREEP(struct dockerignore, dockerignore_free)

/* Whether the context-relative path rel ("src/main.c"; cleaned here, a leading '/' or "./" is
 * fine) is excluded. */
bool dockerignore_match(const struct dockerignore *di, const char *rel);
/* For a directory: whether something below it could still be included by an exception
 * ("!pattern") that comes after the last pattern excluding it. When false, a walker can skip
 * an excluded directory whole; when the directory is not excluded at all, true. */
bool dockerignore_may_include_below(const struct dockerignore *di, const char *dir);
/* Whether any pattern is an exception. */
bool dockerignore_has_exceptions(const struct dockerignore *di);
/* The patterns after cleaning, exceptions with their '!' (for logs and tests). */
size_t dockerignore_count(const struct dockerignore *di);
const char *dockerignore_pattern(const struct dockerignore *di, size_t i);
