/* SPDX-License-Identifier: Apache-2.0 */
/* OCI whiteouts (image-spec layer.md): ".wh.NAME" removes NAME of the lower layers,
 * ".wh..wh..opq" empties its directory of lower-layer content. Both apply to lower layers only:
 * what this layer wrote (remembered in x->written, by canonical path) stays, whatever the order
 * of the entries. Ignored paths are never removed: a whiteout of one is skipped, a removal of a
 * directory holding some keeps them and the directories that lead to them. */
#include "snapshot/extract-internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/macros.h"
#include "snapshot/ignore.h"
#include "snapshot/pathset.h"
#include "snapshot/wipe.h"

#define OPAQUE_MARKER ".wh..wh..opq"
#define AUFS_META     ".wh..wh." /* AUFS bookkeeping (.wh..wh.plnk, .wh..wh.aufs): skipped */

static enum wipe_verdict opaque_filter(const char *rel, bool is_dir, void *userdata)
{
        struct extractor *x = userdata;
        if (x->ignore && ignore_list_match(x->ignore, rel))
                return WIPE_KEEP;
        if (pathset_contains(x->written, rel, strlen(rel)))
                return is_dir ? WIPE_DESCEND : WIPE_KEEP;
        if (is_dir && x->ignore && ignore_list_has_below(x->ignore, rel))
                return WIPE_DESCEND;
        return WIPE_REMOVE;
}

static int skip_ignored(struct extractor *x, const char *clean)
{
        extract_note(&x->st.skipped_ignored, &x->note_ignored, "'%s' (a whiteout)",
                     extract_show(x, 0, clean));
        return 0;
}

static int opaque(struct extractor *x, const char *clean, const char *dir, struct lerr **err)
{
        int dfd;
        const char *canon;

        if (x->ignore && *dir && ignore_list_match(x->ignore, dir))
                return skip_ignored(x, clean);
        int r = dircache_get(&x->dc, dir, 0, x->ignore, &dfd, &canon);
        if (r == -EACCES)
                return skip_ignored(x, clean);
        if (r < 0)
                return lerr_errno(err, -r, "opaque directory '%s'", extract_show(x, 0, dir));
        x->st.whiteouts++;
        if (r == 0)
                return 0; /* nothing below to hide */
        _cleanup_free_ char *c = xstrdup(canon);
        struct wipe_stats ws = {0};
        r = wipe_dir_at(dfd, c, opaque_filter, x, &ws, err);
        dircache_flush(&x->dc);
        if (ws.mountpoints > 0)
                extract_note(&x->st.skipped_ignored, &x->note_ignored,
                             "'%s' (a mount point under an opaque directory)",
                             extract_show(x, 0, ws.first_mount));
        wipe_stats_done(&ws);
        if (r < 0)
                return lerr_wrap(err, "opaque directory '%s'", extract_show(x, 1, *c ? c : "/"));
        return 0;
}

int extract_whiteout(struct extractor *x, const char *clean, const char *dir, const char *base,
                     struct lerr **err)
{
        if (streq(base, OPAQUE_MARKER))
                return opaque(x, clean, dir, err);
        if (startswith(base, AUFS_META)) {
                extract_note(&x->st.skipped_other, &x->note_other, "'%s'",
                             extract_show(x, 0, clean));
                return 0;
        }
        const char *name = base + 4;
        if (!*name || streq(name, ".") || streq(name, ".."))
                return lerr_set(err, EINVAL, "whiteout '%s' names no entry",
                                extract_show(x, 0, clean));

        _cleanup_free_ char *target = *dir ? xasprintf("%s/%s", dir, name) : xstrdup(name);
        if (x->ignore && ignore_list_match(x->ignore, target))
                return skip_ignored(x, clean);
        int pfd;
        const char *pcanon;
        int r = dircache_get(&x->dc, dir, 0, x->ignore, &pfd, &pcanon);
        if (r == -EACCES)
                return skip_ignored(x, clean);
        if (r < 0)
                return lerr_errno(err, -r, "whiteout '%s'", extract_show(x, 0, clean));
        x->st.whiteouts++;
        if (r == 0)
                return 0; /* its directory is not there: nothing to remove */
        _cleanup_free_ char *canon = *pcanon ? xasprintf("%s/%s", pcanon, name) : xstrdup(name);
        if (x->ignore && ignore_list_match(x->ignore, canon))
                return skip_ignored(x, clean);
        /* an entry of this same layer is not hidden by its whiteout (layer.md) */
        if (pathset_contains(x->written, canon, strlen(canon)))
                return 0;
        r = extract_remove(x, pfd, name, canon, err);
        if (r < 0)
                return lerr_wrap(err, "whiteout '%s'", extract_show(x, 1, clean));
        return 0;
}
