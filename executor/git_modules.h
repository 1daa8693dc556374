/* SPDX-License-Identifier: Apache-2.0 */
/* .gitmodules (gitmodules(5)): the git-config syntax as git reads it (sections, quoted
 * subsections and values, escapes, line continuations, '#' and ';' comments, case-insensitive
 * section and key names), keeping the path and url of each [submodule "NAME"] section; and
 * the resolution of a submodule URL relative to its superproject's, as `git submodule` does.
 * The file comes from a repository: it is bounded (GIT_MODULES_MAX_BYTES, GIT_MODULES_MAX)
 * and every malformed line is an error naming it. */
#pragma once

#include <stddef.h>

struct lerr;

#define GIT_MODULES_MAX_BYTES (1u << 20) /* of .gitmodules */
#define GIT_MODULES_MAX       4096u      /* [submodule] sections */

struct git_module {
        char *name; /* the subsection: [submodule "NAME"] */
        char *path; /* NULL when not set; trailing '/'s removed */
        char *url;  /* NULL when not set */
};

struct git_modules {
        struct git_module *v;
        size_t n;
};
void git_modules_done(struct git_modules *m);

/* Parses .gitmodules' text (len bytes, need not be NUL-terminated). A section named twice
 * merges, the last value of a key wins, as in git. Errors: EBADMSG "'.gitmodules' line N:
 * WHAT" for a malformed line or a NUL byte, E2BIG over the limits. */
int git_modules_parse(const char *data, size_t len, struct git_modules *ret, struct lerr **err);

/* The section whose path is path, or NULL. */
const struct git_module *git_modules_find(const struct git_modules *m, const char *path);

/* A submodule's URL as given in .gitmodules made absolute: one starting with "./" or "../" is
 * resolved against super_url (the superproject's remote URL: "./" stays in its path, each
 * "../" removes one path component, trailing '/'s removed first, a ".git" suffix kept as
 * given, userinfo kept); an absolute http(s) URL is taken as is. Errors (never showing
 * super_url, which may hold credentials): EINVAL for "../" past the host,
 * ENOTSUP ("only http(s) submodules are supported") for ssh, git@, git://, file and local
 * paths. *ret is the caller's. */
int git_modules_resolve_url(const char *super_url, const char *url, char **ret, struct lerr **err);
