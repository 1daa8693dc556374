/* SPDX-License-Identifier: Apache-2.0 */
/* Users and groups of the IMAGE: "user[:group]" specs (Dockerfile USER, RUN, COPY --chown)
 * resolved through the build root's own etc/passwd and etc/group, read fd-relative inside the
 * root. Never NSS or getpwnam(3): those would read the machine's files, not the image's.
 *
 * Semantics follow Docker/runc for USER and BuildKit for COPY --chown (see each function).
 * Limits: USERS_FILE_MAX_BYTES per file, USERS_MAX_GROUPS supplementary groups, ids in
 * 0..USERS_ID_MAX (as runc). Malformed lines (wrong field count, bad numbers, over-long
 * lines) are skipped, as Docker skips what it cannot parse. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/macros.h"

struct lerr;

#define USERS_FILE_MAX_BYTES (4u << 20)
#define USERS_LINE_MAX       65536
#define USERS_MAX_GROUPS     65536 /* the kernel's NGROUPS_MAX */
#define USERS_ID_MAX         2147483647u

#define USERS_PASSWD_PATH "/etc/passwd"
#define USERS_GROUP_PATH  "/etc/group"

struct users_ids {
        uid_t uid;
        gid_t gid;
        gid_t *groups;   /* supplementary groups, owned; NULL when n_groups == 0 */
        size_t n_groups; /* <= USERS_MAX_GROUPS */
        char *name;      /* passwd name, NULL for a numeric uid without an entry */
        char *home;      /* passwd home, "/" when the user has no entry (as runc) */
};

void users_ids_done(struct users_ids *ids);

/* Resolves a USER spec, "user[:group]" with names or numbers, as Docker does for RUN:
 * - user: a number is matched by uid, anything else by name; the first matching passwd line
 *   wins. An empty user means uid 0. A number without an entry gives that uid with gid 0 and
 *   home "/". A name without an entry is an error naming etc/passwd (-ENOENT).
 * - group given: a number is matched by gid, else by name; a number without an entry is used
 *   as is; a name without an entry is an error naming etc/group. No supplementary groups.
 * - no group: the user's passwd gid; supplementary groups are the gids of every etc/group
 *   line that lists the user's name as a member (in file order, duplicates removed).
 * A missing etc/passwd or etc/group counts as empty. Ids outside 0..USERS_ID_MAX: -ERANGE.
 * On success *ret is filled (caller calls users_ids_done). */
int users_resolve(int root_fd, const char *spec, struct users_ids *ret, struct lerr **err);

/* Resolves a COPY/ADD --chown spec as BuildKit does: a user name takes its passwd uid and
 * gid, a numeric user means uid = gid = that number (no passwd lookup needed); an explicit
 * group (name or number) then replaces the gid. Names without entries are errors naming the
 * file. An empty spec is 0:0. */
int users_resolve_chown(int root_fd, const char *spec, uid_t *ret_uid, gid_t *ret_gid,
                        struct lerr **err);
