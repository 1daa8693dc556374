/* SPDX-License-Identifier: Apache-2.0 */
/* Writes a commit's tree from a packfile into a directory, as `git checkout` would without a
 * .git: regular files (0644 or 0755), symlinks (targets stored as given, never followed),
 * directories (0755). Everything is created with *at() calls below dir_fd and O_NOFOLLOW; a
 * tree entry named "", ".", "..", ".git" (any case) or holding '/' is refused, so nothing is
 * written outside dir_fd. Submodules (mode 160000) are left as empty directories with a
 * warning, or refused with GIT_CHECKOUT_SUBMODULES_FAIL. */
#pragma once

#include "executor/git_pack.h"

struct lerr;

#define GIT_CHECKOUT_MAX_DEPTH       256      /* nested directories */
#define GIT_CHECKOUT_MAX_ENTRIES     4000000u /* files, links and directories in all */
#define GIT_CHECKOUT_MAX_LINK_TARGET 4096u    /* bytes of a symlink's target */

enum git_checkout_flags {
        GIT_CHECKOUT_SUBMODULES_FAIL = 1u << 0, /* a submodule is an error, not a warning */
};

/* Checks out commit (its tree) into dir_fd, which should be empty. Returns the number of
 * entries written. Errors: EBADMSG (a malformed or unsafe tree, an object of the wrong type),
 * ENOENT (an object missing from the pack), ENOTSUP (a submodule with the flag), E2BIG, or the
 * errno of a failed write. */
int git_checkout(struct git_pack *p, const unsigned char commit[GIT_OID_RAWSZ], int dir_fd,
                 unsigned flags, struct lerr **err);

/* The tree id of a commit object's text (its first line, "tree <hex>"). -EBADMSG otherwise. */
int git_commit_tree(const char *data, size_t len, unsigned char ret[GIT_OID_RAWSZ]);
