/* SPDX-License-Identifier: Apache-2.0 */
/* Ignore list: a short list of cleaned root-relative paths, matched exactly, as a parent, or
 * component-wise with globs. Reading mountinfo adds mounts; nothing here touches the root. */
#include "snapshot/ignore.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/fs.h"

struct ignore_entry {
        char *path;
        size_t len;
        unsigned flags;
        bool glob;
};

struct ignore_list {
        struct ignore_entry *v;
        unsigned n, alloc;
};

struct ignore_list *ignore_list_new(void)
{
        return xcalloc(1, sizeof(struct ignore_list));
}

void ignore_list_free(struct ignore_list *l)
{
        if (!l)
                return;
        for (unsigned i = 0; i < l->n; i++)
                free(l->v[i].path);
        free(l->v);
        free(l);
}

int ignore_list_add(struct ignore_list *l, const char *path, unsigned flags, struct lerr **err)
{
        _cleanup_free_ char *clean = NULL;
        int r = fs_clean_path(path, &clean);
        if (r < 0)
                return lerr_set(err, -r, "ignore path '%s' is not a clean path", path);
        if (!*clean)
                return lerr_set(err, EINVAL, "ignore path '%s' names the whole root", path);
        for (unsigned i = 0; i < l->n; i++)
                if (streq(l->v[i].path, clean) && l->v[i].flags == flags)
                        return 0;
        if (l->n >= IGNORE_MAX_ENTRIES)
                return lerr_set(err, E2BIG, "more than %d ignore paths", IGNORE_MAX_ENTRIES);
        if (l->n == l->alloc) {
                l->alloc = l->alloc ? l->alloc * 2 : 32;
                l->v = xreallocarray(l->v, l->alloc, sizeof(*l->v));
        }
        struct ignore_entry *e = &l->v[l->n++];
        e->len = strlen(clean);
        e->glob = strpbrk(clean, "*?[\\") != NULL;
        e->flags = flags;
        e->path = TAKE_PTR(clean);
        return 0;
}

int ignore_list_add_defaults(struct ignore_list *l, const char *kaniko_dir, bool ignore_var_run,
                             struct lerr **err)
{
        static const char *const fixed[] = {"proc", "sys", "dev", "etc/mtab"};
        int r = ignore_list_add(l, kaniko_dir && *kaniko_dir ? kaniko_dir : "/kaniko", 0, err);
        for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(fixed); i++)
                r = ignore_list_add(l, fixed[i], 0, err);
        if (r >= 0)
                r = ignore_list_add(l, "tmp/apt-key-gpghome", IGNORE_PREFIX_ONLY, err);
        if (r >= 0 && ignore_var_run)
                r = ignore_list_add(l, "var/run", 0, err);
        return r;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo octal */
static void unescape_octal(char *s)
{
        char *o = s;
        for (char *p = s; *p; p++) {
                if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
                    p[3] >= '0' && p[3] <= '7') {
                        *o++ = (char) ((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
                        p += 3;
                } else
                        *o++ = *p;
        }
        *o = '\0';
}

int ignore_list_add_mounts(struct ignore_list *l, const char *mountinfo, const char *root_path,
                           struct lerr **err)
{
        _cleanup_fclose_ FILE *f = fopen(mountinfo, "re");
        _cleanup_free_ char *line = NULL;
        _cleanup_free_ char *root = NULL;
        size_t cap = 0;

        if (!f)
                return lerr_errno(err, errno, "open '%s'", mountinfo);
        int r = fs_normalize_path(root_path, &root);
        if (r < 0)
                return lerr_errno(err, -r, "normalize '%s'", root_path);
        size_t rootlen = strlen(root);
        while (getline(&line, &cap, f) > 0) {
                /* id parent major:minor root mountpoint ... */
                char *field = line;
                for (int i = 0; field && i < 4; i++) {
                        field = strchr(field, ' ');
                        if (field)
                                field++;
                }
                if (!field)
                        continue;
                field[strcspn(field, " \n")] = '\0';
                unescape_octal(field);
                _cleanup_free_ char *mp = NULL;
                if (fs_normalize_path(field, &mp) < 0)
                        continue;
                const char *rel = mp;
                if (rootlen) {
                        if (strncmp(mp, root, rootlen) != 0 || mp[rootlen] != '/')
                                continue;
                        rel = mp + rootlen + 1;
                }
                if (!*rel)
                        continue;
                r = ignore_list_add(l, rel, 0, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Component-wise glob: the pattern and the path have the same number of components. */
static bool glob_match(const char *pat, const char *path, size_t pathlen)
{
        _cleanup_free_ char *p = xstrndup(path, pathlen);
        return fnmatch(pat, p, FNM_PATHNAME) == 0;
}

static bool entry_matches(const struct ignore_entry *e, const char *rel, size_t len)
{
        if (e->glob)
                return glob_match(e->path, rel, len);
        if (e->flags & IGNORE_PREFIX_ONLY)
                return len >= e->len && strncmp(rel, e->path, e->len) == 0;
        return len == e->len && memcmp(rel, e->path, len) == 0;
}

bool ignore_list_match_exact(const struct ignore_list *l, const char *rel)
{
        size_t len = strlen(rel);
        for (unsigned i = 0; i < l->n; i++)
                if (entry_matches(&l->v[i], rel, len))
                        return true;
        return false;
}

bool ignore_list_match(const struct ignore_list *l, const char *rel)
{
        size_t len = strlen(rel);
        for (size_t end = 1; end <= len; end++) {
                if (end != len && rel[end] != '/')
                        continue;
                for (unsigned i = 0; i < l->n; i++)
                        if (entry_matches(&l->v[i], rel, end))
                                return true;
        }
        return false;
}

bool ignore_list_has_below(const struct ignore_list *l, const char *rel)
{
        size_t len = strlen(rel);
        for (unsigned i = 0; i < l->n; i++) {
                const struct ignore_entry *e = &l->v[i];
                if (len == 0)
                        return true;
                if (e->len > len && e->path[len] == '/' && strncmp(e->path, rel, len) == 0)
                        return true;
                if (e->glob) {
                        /* a glob entry: compare the first components by glob */
                        _cleanup_free_ char *pfx = xstrdup(e->path);
                        char *cut = pfx;
                        size_t comps = 1;
                        for (const char *p = rel; *p; p++)
                                comps += *p == '/';
                        for (size_t c = 0; cut && c < comps; c++) {
                                cut = strchr(cut, '/');
                                if (cut && c + 1 < comps)
                                        cut++;
                        }
                        if (cut) {
                                *cut = '\0';
                                if (fnmatch(pfx, rel, FNM_PATHNAME) == 0)
                                        return true;
                        }
                }
        }
        return false;
}

unsigned ignore_list_count(const struct ignore_list *l)
{
        return l->n;
}

const char *ignore_list_entry(const struct ignore_list *l, unsigned i)
{
        return i < l->n ? l->v[i].path : NULL;
}
