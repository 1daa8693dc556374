/* SPDX-License-Identifier: Apache-2.0 */
/* Filtered removal under a root: descends only where a filter asks to keep something below,
 * removes the rest with fs_rm_rf_at (bounded fds, no symlink following, no other filesystem).
 * It does not resolve paths: callers hand it a directory fd they resolved inside the root. */
#include "snapshot/wipe.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/macros.h"
#include "snapshot/ignore.h"

void wipe_stats_done(struct wipe_stats *s)
{
        free(s->first_mount);
        s->first_mount = NULL;
}

enum wipe_verdict wipe_filter_ignored(const char *rel, bool is_dir, void *ignore_list)
{
        const struct ignore_list *l = ignore_list;
        if (!l)
                return WIPE_REMOVE;
        if (ignore_list_match(l, rel))
                return WIPE_KEEP;
        if (is_dir && ignore_list_has_below(l, rel))
                return WIPE_DESCEND;
        return WIPE_REMOVE;
}

static void note_mount(struct wipe_stats *stats, const char *rel)
{
        if (!stats)
                return;
        stats->mountpoints++;
        if (!stats->first_mount)
                stats->first_mount = xstrdup(rel);
}

static int wipe_entry(int dir_fd, const struct stat *dst, const char *name, const char *rel,
                      wipe_filter_fn filter, void *userdata, struct wipe_stats *stats,
                      struct lerr **err)
{
        struct stat st;
        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : lerr_errno(err, errno, "stat '%s'", rel);
        bool is_dir = S_ISDIR(st.st_mode);
        enum wipe_verdict v = filter(rel, is_dir, userdata);
        if (v == WIPE_KEEP) {
                if (stats)
                        stats->kept++;
                return 0;
        }
        if (is_dir && st.st_dev != dst->st_dev) {
                note_mount(stats, rel); /* a mount point nobody put on the ignore list */
                return 0;
        }
        if (v == WIPE_DESCEND && is_dir) {
                _cleanup_close_ int fd =
                        openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return lerr_errno(err, errno, "open '%s'", rel);
                return wipe_dir_at(fd, rel, filter, userdata, stats, err);
        }
        int r = fs_rm_rf_at(dir_fd, name);
        if (r == -EBUSY) {
                note_mount(stats, rel);
                return 0;
        }
        if (r < 0)
                return lerr_errno(err, -r, "remove '%s'", rel);
        return 0;
}

int wipe_dir_at(int dir_fd, const char *rel, wipe_filter_fn filter, void *userdata,
                struct wipe_stats *stats, struct lerr **err)
{
        char **names = NULL;
        size_t n = 0;
        struct stat dst;
        int r = 0;

        if (fstat(dir_fd, &dst) < 0)
                return lerr_errno(err, errno, "stat '%s'", *rel ? rel : "/");
        r = fs_list_names(dir_fd, &names, &n);
        if (r < 0)
                return lerr_errno(err, -r, "read directory '%s'", *rel ? rel : "/");
        for (size_t i = 0; i < n; i++) {
                if (r >= 0) {
                        _cleanup_free_ char *child =
                                *rel ? xasprintf("%s/%s", rel, names[i]) : xstrdup(names[i]);
                        r = wipe_entry(dir_fd, &dst, names[i], child, filter, userdata, stats, err);
                }
                free(names[i]);
        }
        free(names);
        return r;
}

int wipe_root(int root_fd, const struct ignore_list *ignore, struct wipe_stats *stats,
              struct lerr **err)
{
        int r = wipe_dir_at(root_fd, "", wipe_filter_ignored, (void *) ignore, stats, err);
        return r < 0 ? lerr_wrap(err, "wipe the root") : r;
}
