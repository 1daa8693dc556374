/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by instructions.c and runflags.c (not part of the frontend's interface). */
#pragma once

#include <stdbool.h>
#include "executor/instructions.h"

struct lerr;

/* Frees the typed union of inst (not the common fields). */
void df_inst_clear_union(struct df_inst *inst);
/* Copies src's union into dst (same kind). */
void df_inst_copy_union(struct df_inst *dst, const struct df_inst *src);

/* Parses a RUN --device value. */
int df_device_parse(const char *spec, struct df_device *ret, struct lerr **err);

/* Checks ADD --checksum against its sources (literal values only). */
int df_checksum_check(const char *checksum, char *const *sources, struct lerr **err);

/* Whether text is a heredoc word ("<<EOF", "3<<-'EOF'"); when it is and ret is not NULL, the
 * heredoc (name, fd, expand, chomp; no content). -EINVAL when the word cannot be lexed. */
int df_heredoc_word(const char *text, bool *ret_is, struct df_heredoc *ret, struct lerr **err);
