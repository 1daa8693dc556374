/* SPDX-License-Identifier: Apache-2.0 */
/* Submodules of a checkout, as `git submodule update --init --recursive` would fetch them for
 * --git recurse-submodules=true: for each gitlink git_checkout() reported, the .gitmodules
 * entry with its path gives the URL (relative ones resolved against the superproject's), the
 * commit the superproject records is fetched (shallow) and checked out into the empty
 * directory the checkout left, confined to it, without a .git; nested submodules likewise.
 * Credentials (o->username/password) go only to the superproject's scheme, host and port;
 * plain http only when o->allow_http. */
#pragma once

struct git_gitlinks;
struct git_remote_opts;
struct lerr;

#define GIT_SUBMODULE_MAX_DEPTH 8u   /* levels of nested submodules */
#define GIT_SUBMODULE_MAX       256u /* submodules fetched in all */

/* Fetches links (the submodules of super_url's commit checked out in root_fd) into their
 * directories, recursively. Nothing to do (0) when links is empty; .gitmodules is read only
 * then. Returns the number of entries checked out in all. Errors: ENOENT (a gitlink without a
 * .gitmodules entry, or no .gitmodules), EINVAL (no url), ENOTSUP (not an http(s) URL), E2BIG
 * (over the limits), EBADMSG (a malformed .gitmodules), or the fetch's and checkout's. */
int git_submodules_clone(const char *super_url, const struct git_remote_opts *o,
                         const char *work_dir, int root_fd, const struct git_gitlinks *links,
                         struct lerr **err);
