/* SPDX-License-Identifier: Apache-2.0 */
/* Errors of operations that need a privilege the build may not have (an unprivileged pod, a
 * rootless sandbox, a seccomp profile): turns "(operation, errno)" into a message that says
 * which privilege is missing and why, instead of a bare "Operation not permitted":
 *   create device 'dev/x': Operation not permitted: the build runs without CAP_MKNOD (it is
 *   not in the capability bounding set: an unprivileged pod?)
 * Used by extraction, RUN and RUN --mount code. Reads only the process's own state. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macros.h"

struct lerr;

enum priv_op {
        PRIV_OP_MKNOD,         /* create a device node: CAP_MKNOD */
        PRIV_OP_MOUNT,         /* mount, umount, pivot_root, unshare: CAP_SYS_ADMIN */
        PRIV_OP_CHOWN,         /* give a file another owner: CAP_CHOWN */
        PRIV_OP_SETUID,        /* switch to a RUN step's user: CAP_SETUID */
        PRIV_OP_SETGID,        /* switch group or supplementary groups: CAP_SETGID */
        PRIV_OP_CHROOT,        /* CAP_SYS_CHROOT */
        PRIV_OP_FOWNER,        /* set mode, times or flags of a file we do not own: CAP_FOWNER */
        PRIV_OP_XATTR_TRUSTED, /* set trusted.* or security.* xattrs: CAP_SYS_ADMIN */
        PRIV_OP_SETFCAP,       /* set file capabilities (security.capability): CAP_SETFCAP */
        _PRIV_OP_MAX,
};

/* What limits this process: a snapshot of its capabilities and confinement. */
struct priv_state {
        uint64_t effective; /* bit n = capability n */
        uint64_t bounding;
        bool userns;           /* in a user namespace that does not map every id */
        bool setgroups_denied; /* /proc/self/setgroups says "deny" */
        int seccomp;           /* 0 none, 1 strict, 2 filter (as /proc/self/status) */
};

/* Reads the state of the calling thread: capget(2), PR_CAPBSET_READ, /proc/self/uid_map,
 * /proc/self/setgroups and /proc/self/status. Missing /proc files read as "not confined".
 * Returns 0 or -errno (capget failing). */
int priv_state_read(struct priv_state *ret);

/* The capability an operation needs, and its name ("CAP_MKNOD"); -1 / NULL for a bad op. */
int priv_op_cap(enum priv_op op);
const char *priv_cap_name(int cap);

/* The explanation for errnum from op under st, written to buf (always NUL-terminated);
 * returns buf, or NULL when errnum is not a privilege error or nothing explains it (then the
 * plain strerror is the whole story). Pure: for tests and for callers that build their own
 * message. */
const char *priv_explain(enum priv_op op, int errnum, const struct priv_state *st, char *buf,
                         size_t size);

/* Like lerr_errno(err, errnum, fmt, ...), with ": <explanation>" appended when the current
 * process state explains the failure. errnum may be given negative. Returns -errnum. */
int priv_error(struct lerr **err, int errnum, enum priv_op op, const char *fmt, ...) PRINTF(4, 5);
