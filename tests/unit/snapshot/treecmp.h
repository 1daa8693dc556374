/* SPDX-License-Identifier: Apache-2.0 */
/* Compares two directory trees entry by entry (tests only): type, permission bits, owner, size,
 * content sha256, symlink target, xattrs, mtime (ns), device numbers and hardlink grouping.
 * Returns "" when they are equal, else one line per difference (at most 20). */
#pragma once

#include <sys/stat.h>

#include "snapshot/walker.h"
#include "snaptest.h"

enum tree_flags {
        TREE_NO_MTIME = 1u << 0,     /* do not compare mtimes */
        TREE_NO_DIR_MTIME = 1u << 1, /* do not compare directories' mtimes */
        TREE_NO_XATTRS = 1u << 2,
};

struct tree_rec {
        char *path;
        struct snap_stat st;
        char *target;
        char content[DIGEST_STRING_SIZE];
        uint8_t xattrs[SNAP_XATTR_DIGEST_SIZE];
        char *link_group; /* the first path (walk order) sharing this inode, for files */
};

struct tree {
        struct tree_rec *v;
        size_t n;
};

/* A top-level name left out of comparisons (NULL: none). */
static const char *tree_skip;

static int tree_collect(struct walker_entry *e, void *userdata, struct lerr **err)
{
        (void) err;
        struct tree *t = userdata;
        if (tree_skip && streq(e->path, tree_skip))
                return WALKER_SKIP;
        t->v = xreallocarray(t->v, t->n + 1, sizeof(*t->v));
        struct tree_rec *r = &t->v[t->n++];
        *r = (struct tree_rec){.path = xstrdup(e->path), .st = e->st};
        snprintf(r->content, sizeof(r->content), "-");
        if (S_ISLNK(e->st.mode))
                (void) walker_readlink_at(e->dir_fd, e->name, &r->target);
        if (S_ISREG(e->st.mode)) {
                uint8_t raw[SNAP_CONTENT_HASH_SIZE];
                if (walker_hash_file_at(e->dir_fd, e->name, raw) == 0)
                        for (int i = 0; i < 8; i++)
                                snprintf(r->content + 2 * i, 3, "%02x", raw[i]);
        }
        struct snap_xattrs x = {0};
        if (walker_read_xattrs_at(e->dir_fd, e->name, &x) == 0)
                walker_xattrs_digest(&x, r->xattrs);
        snap_xattrs_done(&x);
        if (S_ISREG(e->st.mode) && e->st.nlink > 1) {
                for (size_t i = 0; i + 1 < t->n; i++)
                        if (t->v[i].st.ino == e->st.ino && t->v[i].st.dev == e->st.dev) {
                                r->link_group = xstrdup(t->v[i].path);
                                break;
                        }
                if (!r->link_group)
                        r->link_group = xstrdup(e->path);
        }
        return WALKER_DESCEND;
}

static void tree_free(struct tree *t)
{
        for (size_t i = 0; i < t->n; i++) {
                free(t->v[i].path);
                free(t->v[i].target);
                free(t->v[i].link_group);
        }
        free(t->v);
}

static char *tree_compare(int a_fd, int b_fd, unsigned flags)
{
        struct tree a = {0}, b = {0};
        struct lerr *err = NULL;
        struct buf out = BUF_INIT(1 << 20);
        int lines = 0;
        if (walker_walk(a_fd, "", 0, NULL, tree_collect, &a, &err) < 0 ||
            walker_walk(b_fd, "", 0, NULL, tree_collect, &b, &err) < 0) {
                (void) !buf_printf(&out, "walk failed\n");
                lerr_free(err);
        }
#define DIFF(...)                                                                                  \
        do {                                                                                       \
                if (lines++ < 20)                                                                  \
                        (void) !buf_printf(&out, __VA_ARGS__);                                     \
        } while (0)
        size_t i = 0, j = 0;
        while (i < a.n || j < b.n) {
                int c = i == a.n ? 1 : j == b.n ? -1 : walker_path_cmp(a.v[i].path, b.v[j].path);
                if (c < 0) {
                        DIFF("only in a: %s\n", a.v[i++].path);
                        continue;
                }
                if (c > 0) {
                        DIFF("only in b: %s\n", b.v[j++].path);
                        continue;
                }
                const struct tree_rec *x = &a.v[i++], *y = &b.v[j++];
                const char *p = x->path;
                if (x->st.mode != y->st.mode)
                        DIFF("%s: mode %o vs %o\n", p, x->st.mode, y->st.mode);
                if (x->st.uid != y->st.uid || x->st.gid != y->st.gid)
                        DIFF("%s: owner %u:%u vs %u:%u\n", p, x->st.uid, x->st.gid, y->st.uid,
                             y->st.gid);
                if (!S_ISDIR(x->st.mode) && x->st.size != y->st.size)
                        DIFF("%s: size %ju vs %ju\n", p, (uintmax_t) x->st.size,
                             (uintmax_t) y->st.size);
                if (strcmp(x->content, y->content) != 0)
                        DIFF("%s: content %s vs %s\n", p, x->content, y->content);
                if (!streq_ptr(x->target, y->target))
                        DIFF("%s: target '%s' vs '%s'\n", p, strempty(x->target),
                             strempty(y->target));
                if (x->st.rdev != y->st.rdev)
                        DIFF("%s: rdev %ju vs %ju\n", p, (uintmax_t) x->st.rdev,
                             (uintmax_t) y->st.rdev);
                if (!(flags & TREE_NO_XATTRS) && memcmp(x->xattrs, y->xattrs, sizeof(x->xattrs)))
                        DIFF("%s: xattrs differ\n", p);
                bool mt = !(flags & TREE_NO_MTIME) &&
                          !((flags & TREE_NO_DIR_MTIME) && S_ISDIR(x->st.mode));
                if (mt && x->st.mtime_ns != y->st.mtime_ns)
                        DIFF("%s: mtime %jd vs %jd\n", p, (intmax_t) x->st.mtime_ns,
                             (intmax_t) y->st.mtime_ns);
                if (!streq_ptr(x->link_group, y->link_group))
                        DIFF("%s: hardlink group '%s' vs '%s'\n", p, strempty(x->link_group),
                             strempty(y->link_group));
        }
#undef DIFF
        tree_free(&a);
        tree_free(&b);
        return out.data ? buf_steal(&out) : xstrdup("");
}
