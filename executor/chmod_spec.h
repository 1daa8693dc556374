/* SPDX-License-Identifier: Apache-2.0 */
/* --chmod values of COPY/ADD: octal ("0755", "644") or chmod(1)-style symbolic clauses
 * ("u+x", "a=rX,go-w", "u=rwx,g=rx,o="). Symbolic modes are applied to each entry's own mode
 * ("X" adds execute only to directories and to files that have some execute bit). */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

struct chmod_spec; /* opaque */

/* -EINVAL for anything else; the caller words the error. */
int chmod_spec_parse(const char *s, struct chmod_spec **ret);
mode_t chmod_spec_apply(const struct chmod_spec *c, mode_t current, bool is_dir);
bool chmod_spec_is_octal(const struct chmod_spec *c);
void chmod_spec_free(struct chmod_spec *c);
