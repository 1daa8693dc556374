/* SPDX-License-Identifier: Apache-2.0 */
/* The file-copying engine of COPY and ADD (local sources): expands the sources (wildcards as
 * Go's filepath.Match, per path component) inside a source root (the build context, a stage's
 * files or an image's), and copies them into the build root with Docker's rules: a directory's
 * contents are copied, not the directory itself; a destination ending in "/" (or several
 * sources, or --parents) is a directory; a single file onto an existing directory goes inside
 * it. Both roots are fds: no path ever leaves its root (symlinks are resolved inside it).
 * Ownership: --chown if given; otherwise the source's owners for stage/image sources and 0:0
 * for the context. Modes, mtimes, xattrs (incl. security.capability) and hardlinks among the
 * copied files are kept; --chmod applies to every copied entry; implicitly created parent
 * directories are 0755 (owned by the --chown user). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct lerr;
struct chmod_spec;

enum copy_filter_result {
        COPY_INCLUDE,
        COPY_EXCLUDE, /* skip this entry; for a directory, still look inside */
        COPY_PRUNE,   /* skip this entry and everything below it */
        COPY_SKIP,    /* like COPY_PRUNE, and a source left out this way is no error
                       * (--exclude; a source excluded by .dockerignore is "not found") */
};

/* Decides for an entry: src_rel is its path relative to the source root (what .dockerignore
 * matches), below its path relative to the matched source itself ("" for the source, the base
 * name for a file source: what --exclude matches, as BuildKit does). */
typedef enum copy_filter_result (*copy_filter_fn)(void *userdata, const char *src_rel,
                                                  const char *below, bool is_dir);

struct copy_opts {
        const char *instruction; /* "COPY" or "ADD", for messages */
        bool chown;              /* --chown given: uid/gid apply */
        uid_t uid;
        gid_t gid;
        bool preserve_owner;            /* without --chown: keep the source's owners */
        const struct chmod_spec *chmod; /* NULL: keep source modes */
        bool parents;                   /* --parents */
        copy_filter_fn filter;          /* NULL: everything */
        void *filter_userdata;
        const char *source_name; /* "build context", "stage 'x'", for messages */
};

struct copy_result {
        char **paths;   /* destination-root-relative paths written at the top, plus created dirs */
        uint64_t files; /* entries written */
        uint64_t bytes; /* regular file bytes copied */
};

/* Copies sources (as written in the Dockerfile, relative to the source root) to dest (an
 * absolute path in the build root, WORKDIR already applied; a trailing "/" is significant).
 * On failure the build root may hold part of the copy (the step fails). */
int copy_sources(int src_root_fd, char *const *sources, int dst_root_fd, const char *dest,
                 const struct copy_opts *o, struct copy_result *ret, struct lerr **err);
void copy_result_done(struct copy_result *r);

/* Expands one source pattern to the sorted list of matching paths relative to the source
 * root (each cleaned, "" for the root itself). -ENOENT (with a message) when nothing matches. */
int copy_expand_source(int src_root_fd, const char *pattern, const struct copy_opts *o, char ***ret,
                       struct lerr **err);
