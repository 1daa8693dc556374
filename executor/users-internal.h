/* SPDX-License-Identifier: Apache-2.0 */
/* Line parsers of users.c, visible to its unit tests. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct users_pw_line {
        const char *name, *home; /* point into the parsed line */
        uid_t uid;
        gid_t gid;
};

struct users_gr_line {
        const char *name;
        char *members; /* comma-separated, points into the parsed line ("" when none) */
        gid_t gid;
};

/* Split one line (no newline, modified in place). 0 on success; -EINVAL for a comment,
 * blank, NIS (+/-) or malformed line (too few/many fields, empty name, bad or out-of-range
 * id), which the callers skip. */
int users_parse_passwd_line(char *line, struct users_pw_line *ret);
int users_parse_group_line(char *line, struct users_gr_line *ret);
/* true if name is in the comma-separated member list (exact match, blanks around names
 * ignored). */
bool users_member_of(const char *members, const char *name);
