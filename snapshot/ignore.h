/* SPDX-License-Identifier: Apache-2.0 */
/* The ignore list: paths of the build root that are never snapshotted, extracted over or
 * wiped: the executor's own dir, /proc, /sys, /dev, every mount point, and --ignore-path
 * entries. Paths are root-relative, cleaned ("etc/hosts", "" is the root itself).
 * Limits: IGNORE_MAX_ENTRIES entries. */
#pragma once

#include <stdbool.h>
#include "common/macros.h"

struct lerr;
struct ignore_list;

#define IGNORE_MAX_ENTRIES 4096

enum ignore_flags {
        IGNORE_PREFIX_ONLY = 1u << 0, /* "tmp/apt-key-gpghome" also matches "...gpghome.X1" */
};

struct ignore_list *ignore_list_new(void);
void ignore_list_free(struct ignore_list *l);
DEFINE_FREEP(struct ignore_list, ignore_list_free)

/* Adds a path (absolute or root-relative; shell globs allowed in each component, matched
 * per component as Go's filepath.Match does). -EINVAL for a path with "..", -E2BIG past the
 * limit. Adding the root itself is refused (-EINVAL): it would ignore everything. */
int ignore_list_add(struct ignore_list *l, const char *path, unsigned flags, struct lerr **err);
/* Kaniko's defaults: kaniko_dir (e.g. "/kaniko"), proc, sys, dev, etc/mtab,
 * tmp/apt-key-gpghome (prefix), and var/run when ignore_var_run. */
int ignore_list_add_defaults(struct ignore_list *l, const char *kaniko_dir, bool ignore_var_run,
                             struct lerr **err);
/* Adds every mount point found in mountinfo (a /proc/self/mountinfo-format file) that lies
 * strictly below root_path (an absolute host path, "/" for a container's root). */
int ignore_list_add_mounts(struct ignore_list *l, const char *mountinfo, const char *root_path,
                           struct lerr **err);
/* true if rel or any of its parents is on the list. */
bool ignore_list_match(const struct ignore_list *l, const char *rel);
/* true if rel itself is on the list (parents not checked: for walkers that skip ignored dirs). */
bool ignore_list_match_exact(const struct ignore_list *l, const char *rel);
/* true if some entry lies strictly below rel (a directory holding an ignored path: wiping it
 * must keep that path). */
bool ignore_list_has_below(const struct ignore_list *l, const char *rel);
/* Number of entries and the i-th entry's cleaned path (for logs and tests). */
unsigned ignore_list_count(const struct ignore_list *l);
const char *ignore_list_entry(const struct ignore_list *l, unsigned i);
