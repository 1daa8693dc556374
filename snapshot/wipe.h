/* SPDX-License-Identifier: Apache-2.0 */
/* Removing trees under a build root while keeping some paths: the stage wipe (everything but the
 * ignore list) and, during extraction, whiteouts and opaque directories (everything but ignored
 * paths and what the current layer wrote). Symlinks are never followed and other filesystems
 * (mount points not on the ignore list) are never emptied: they are kept and reported. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct lerr;
struct ignore_list;

enum wipe_verdict {
        WIPE_REMOVE,  /* remove it (recursively) */
        WIPE_KEEP,    /* leave it and everything below it */
        WIPE_DESCEND, /* a directory: keep it, ask again for each of its entries */
};

/* Decides for rel (root-relative path of an entry, is_dir: a real directory, not a link). */
typedef enum wipe_verdict (*wipe_filter_fn)(const char *rel, bool is_dir, void *userdata);

struct wipe_stats {
        size_t kept;        /* entries kept by the filter (not counting DESCEND directories) */
        size_t mountpoints; /* directories kept because another filesystem is mounted there */
        char *first_mount;  /* root-relative path of the first such directory, or NULL */
};
void wipe_stats_done(struct wipe_stats *s);

/* Applies filter to every entry of the directory dir_fd, whose root-relative path is rel ("" for
 * the root). Directories are descended with one fd per DESCEND level. Returns 0 or -errno with
 * *err naming the path that could not be removed. stats (may be NULL) is added to. */
int wipe_dir_at(int dir_fd, const char *rel, wipe_filter_fn filter, void *userdata,
                struct wipe_stats *stats, struct lerr **err);

/* Removes everything under root_fd except the paths on ignore (may be NULL) and the directories
 * leading to them, for a new build stage. */
int wipe_root(int root_fd, const struct ignore_list *ignore, struct wipe_stats *stats,
              struct lerr **err);

/* The filter of wipe_root (userdata: the ignore list), for callers that combine it. */
enum wipe_verdict wipe_filter_ignored(const char *rel, bool is_dir, void *ignore_list);
