/* SPDX-License-Identifier: Apache-2.0 */
/* Source expansion for COPY/ADD: one pattern → the matching paths in a source root. Matching
 * is per path component, as Go's filepath.Match (what Docker uses): "*" never matches "/", a
 * leading "." is not special. Directories on the way are resolved inside the root. */
#include "executor/copy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/strv.h"

#define COPY_MAX_MATCHES 1000000

static bool has_wildcard(const char *s)
{
        return strpbrk(s, "*?[") != NULL;
}

static char *join(const char *dir, const char *name)
{
        return *dir ? xasprintf("%s/%s", dir, name) : xstrdup(name);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static bool path_exists(int root_fd, const char *rel, bool *is_dir)
{
        _cleanup_close_ int fd = fs_open_in_root(root_fd, rel, O_PATH, 0);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
                return false;
        if (is_dir)
                *is_dir = S_ISDIR(st.st_mode);
        return true;
}

/* Adds to *out every entry of dir (relative to the root) whose name matches pattern. */
static int match_in_dir(int root_fd, const char *dir, const char *pattern, char ***out,
                        size_t *count)
{
        _cleanup_close_ int fd = fs_open_in_root(root_fd, dir, O_RDONLY | O_DIRECTORY, 0);
        if (fd < 0)
                return fd == -ENOENT || fd == -ENOTDIR ? 0 : fd;
        DIR *d = fdopendir(fd);
        if (!d)
                return -errno;
        fd = -EBADF; /* owned by d now */
        struct dirent *de;
        int r = 0;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fnmatch(pattern, de->d_name, 0) != 0)
                        continue;
                if (++*count > COPY_MAX_MATCHES) {
                        r = -E2BIG;
                        break;
                }
                strv_consume(out, join(dir, de->d_name));
        }
        closedir(d);
        return r;
}

int copy_expand_source(int src_root_fd, const char *pattern, const struct copy_opts *o, char ***ret,
                       struct lerr **err)
{
        _cleanup_free_ char *clean = NULL;
        _cleanup_(strv_freep) char **cur = NULL;
        const char *what = o->source_name ? o->source_name : "build context";
        size_t count = 0;
        int r = fs_normalize_path(pattern, &clean);
        if (r < 0)
                return lerr_errno(err, r, "%s source '%s'", o->instruction, pattern);

        strv_push(&cur, "");
        const char *p = clean;
        while (*p) {
                const char *slash = strchr(p, '/');
                size_t n = slash ? (size_t) (slash - p) : strlen(p);
                _cleanup_free_ char *comp = xstrndup(p, n);
                _cleanup_(strv_freep) char **next = NULL;
                strv_foreach (dir, cur) {
                        if (has_wildcard(comp)) {
                                r = match_in_dir(src_root_fd, dir, comp, &next, &count);
                                if (r == -E2BIG)
                                        return lerr_set(err, E2BIG,
                                                        "%s source '%s' matches more than %d paths",
                                                        o->instruction, pattern, COPY_MAX_MATCHES);
                                if (r < 0)
                                        return lerr_errno(err, r, "%s: read '%s' in the %s",
                                                          o->instruction, dir, what);
                        } else {
                                strv_consume(&next, join(dir, comp));
                        }
                }
                strv_free(cur);
                cur = TAKE_PTR(next);
                p += n;
                if (*p == '/')
                        p++;
        }

        /* keep what exists and is not excluded, sorted */
        _cleanup_(strv_freep) char **found = xcalloc(1, sizeof(char *));
        bool skipped = false;
        strv_foreach (path, cur) {
                bool is_dir = false;
                if (!path_exists(src_root_fd, path, &is_dir))
                        continue;
                const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
                enum copy_filter_result f =
                        *path && o->filter
                                ? o->filter(o->filter_userdata, path, is_dir ? "" : base, is_dir)
                                : COPY_INCLUDE;
                skipped |= f == COPY_SKIP;
                if (f == COPY_PRUNE || f == COPY_SKIP || (f == COPY_EXCLUDE && !is_dir))
                        continue;
                strv_push(&found, path);
        }
        if (!found[0] && skipped) {
                *ret = TAKE_PTR(found); /* everything left out by --exclude */
                return 0;
        }
        if (!found[0]) {
                if (has_wildcard(clean))
                        return lerr_set(err, ENOENT, "%s: no files in the %s match '%s'",
                                        o->instruction, what, pattern);
                return lerr_set(err, ENOENT,
                                "%s: '%s' not found in the %s (or excluded by .dockerignore)",
                                o->instruction, pattern, what);
        }
        qsort(found, strv_length(found), sizeof(char *), cmp_str);
        *ret = TAKE_PTR(found);
        return 0;
}
