/* SPDX-License-Identifier: Apache-2.0 */
/* Writes a commit's tree from a packfile into a directory, as `git checkout` would without a
 * .git: regular files (0644 or 0755), symlinks (targets stored as given, never followed),
 * directories (0755). Everything is created with *at() calls below dir_fd and O_NOFOLLOW; a
 * tree entry named "", ".", "..", ".git" (any case) or holding '/' is refused, so nothing is
 * written outside dir_fd. Submodules (gitlinks, mode 160000) are left as empty directories,
 * as git leaves a submodule it does not update; they are reported to the caller, or skipped
 * with a warning. */
#pragma once

#include "executor/git_pack.h"

struct lerr;

#define GIT_CHECKOUT_MAX_DEPTH       256      /* nested directories */
#define GIT_CHECKOUT_MAX_ENTRIES     4000000u /* files, links and directories in all */
#define GIT_CHECKOUT_MAX_LINK_TARGET 4096u    /* bytes of a symlink's target */

/* A submodule of the tree: where it is and the commit the superproject records. */
struct git_gitlink {
        char *path; /* relative to the checkout's root, '/'-separated, safe names only */
        char id[GIT_OID_HEXSZ + 1];
};
struct git_gitlinks {
        struct git_gitlink *v;
        size_t n;
};
void git_gitlinks_done(struct git_gitlinks *l);

/* Checks out commit (its tree) into dir_fd, which should be empty. Submodules are empty
 * directories, appended to *ret_links (the caller's, even on failure: free with
 * git_gitlinks_done) or, when ret_links is NULL, each logged as a warning. Returns the number
 * of entries written. Errors: EBADMSG (a malformed or unsafe tree, an object of the wrong
 * type), ENOENT (an object missing from the pack), E2BIG, or the errno of a failed write. */
int git_checkout(struct git_pack *p, const unsigned char commit[GIT_OID_RAWSZ], int dir_fd,
                 struct git_gitlinks *ret_links, struct lerr **err);

/* The tree id of a commit object's text (its first line, "tree <hex>"). -EBADMSG otherwise. */
int git_commit_tree(const char *data, size_t len, unsigned char ret[GIT_OID_RAWSZ]);
