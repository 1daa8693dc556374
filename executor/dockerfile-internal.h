/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by dockerfile.c (file structure) and dfsplit.c (one instruction line); not part of
 * the frontend's interface. */
#pragma once

#include <stddef.h>
#include "common/macros.h"
#include "executor/dockerfile.h"

struct lerr;

/* A piece of the input: not NUL-terminated. */
struct dfslice {
        const char *p;
        size_t n;
};

/* Drop Unicode white space (Go's unicode.IsSpace) at the start / the end. */
struct dfslice dfslice_trim_left(struct dfslice s);
struct dfslice dfslice_trim_right(struct dfslice s);

/* What splitting a line needs from the parser. */
struct dfsplit {
        char escape;           /* the escape token in force */
        struct dockerfile *df; /* where warnings go; may be NULL */
        unsigned line;         /* first line of the instruction, for warnings */
};

/* Splits one logical line (continuations joined) into *ret: keyword, kind (DF_KIND_COUNT when
 * unknown), original text, flags, args and json, and for ONBUILD the trigger. depth is 0 but
 * for an ONBUILD trigger. Errors (-EINVAL) carry no location. */
int dfsplit_node(const struct dfsplit *sp, const char *line, unsigned depth, struct df_inst **ret,
                 struct lerr **err);

/* Adds a warning to df (nothing when df is NULL). */
void dockerfile_warn(struct dockerfile *df, unsigned line, const char *fmt, ...) PRINTF(3, 4);
