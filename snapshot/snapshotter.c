/* SPDX-License-Identifier: Apache-2.0 */
/* The snapshotter: the index of one root plus the diff → layer → commit sequence. It does not
 * decide when to snapshot (the build does) and never writes to the root. */
#include "snapshot/snapshotter.h"

#include <errno.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/log.h"
#include "snapshot/index.h"

struct snapshotter {
        int root_fd;
        const struct ignore_list *ign;
        struct snapshotter_opts o;
        struct snap_index *idx;
        bool index_stale; /* a commit failed: rebuild before the next diff */
};

void snapshotter_opts_init(struct snapshotter_opts *o)
{
        *o = (struct snapshotter_opts){
                .mode = SNAP_MODE_FULL, .compression = LAYER_GZIP, .compression_level = -1};
}

int snapshotter_new(int root_fd, const struct ignore_list *ign, const struct snapshotter_opts *o,
                    struct snapshotter **ret, struct lerr **err)
{
        int fd = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return lerr_errno(err, errno, "duplicate the root fd");
        struct snapshotter *s = xcalloc(1, sizeof(*s));
        s->root_fd = fd;
        s->ign = ign;
        s->o = *o;
        s->idx = snap_index_new();
        *ret = s;
        return 0;
}

void snapshotter_free(struct snapshotter *s)
{
        if (!s)
                return;
        if (s->root_fd >= 0)
                (void) close(s->root_fd);
        snap_index_free(s->idx);
        free(s);
}

struct snap_index *snapshotter_index(struct snapshotter *s)
{
        return s->idx;
}

int snapshotter_init(struct snapshotter *s, struct lerr **err)
{
        int r = snap_index_build(s->idx, s->root_fd, s->ign, s->o.index_flags, err);
        if (r < 0)
                return r;
        s->index_stale = false;
        log_debug("snapshot: indexed %zu entries in %zu bytes", snap_index_count(s->idx),
                  snap_index_memory(s->idx));
        return 0;
}

int snapshotter_diff(struct snapshotter *s, char *const *paths, struct snap_changes **ret,
                     struct lerr **err)
{
        if (s->index_stale) {
                int r = snapshotter_init(s, err);
                if (r < 0)
                        return r;
        }
        if (paths)
                return snap_diff_paths(s->idx, s->root_fd, s->ign, s->o.mode, s->o.diff_flags,
                                       paths, ret, err);
        return snap_diff(s->idx, s->root_fd, s->ign, s->o.mode, s->o.diff_flags, ret, err);
}

/* Writes one change; fills what the writer learned into the change for the commit. */
static int write_change(struct snapshotter *s, struct layer_writer *w, struct snap_change *c,
                        struct snapshot_result *res, struct lerr **err)
{
        struct layer_entry_info info;
        int r;

        switch (c->kind) {
        case SNAP_DELETED:
                res->deleted++;
                return layer_writer_add_whiteout(w, c->path, err);
        case SNAP_REFRESH:
                res->refreshed++;
                return 0;
        case SNAP_ADDED:
        case SNAP_MODIFIED:
        case SNAP_PARENT:
                break;
        }
        r = layer_writer_add_path(w, s->root_fd, c->path, &info, err);
        if (r == -ENOENT) {
                log_debug("snapshot: '%s' vanished before it was written", c->path);
                c->vanished = true;
                res->vanished++;
                return 0;
        }
        if (r < 0)
                return r;
        res->added += c->kind == SNAP_ADDED;
        res->modified += c->kind == SNAP_MODIFIED;
        res->parents += c->kind == SNAP_PARENT;
        if ((info.st.mode & S_IFMT) != (c->key.st.mode & S_IFMT)) {
                /* replaced by another type since the diff: let the next snapshot sort it out */
                c->vanished = true;
                return 0;
        }
        c->key.st = info.st;
        c->key.has_xattrs = info.has_xattrs;
        memcpy(c->key.xattrs_digest, info.xattrs_digest, sizeof(info.xattrs_digest));
        c->key.has_content = info.has_content;
        memcpy(c->key.content, info.content, sizeof(info.content));
        return 0;
}

int snapshotter_write(struct snapshotter *s, struct snap_changes *c, int out_fd,
                      struct snapshot_result *ret, struct lerr **err)
{
        struct layer_writer_opts wo = {.compression = s->o.compression,
                                       .level = s->o.compression_level,
                                       .threads = s->o.threads,
                                       .reproducible = s->o.reproducible,
                                       .hash_content = s->o.mode == SNAP_MODE_FULL};
        struct snapshot_result res = {0};
        _cleanup_(layer_writer_freep) struct layer_writer *w = NULL;
        int r = layer_writer_new(out_fd, &wo, &w, err);
        for (size_t i = 0; r >= 0 && i < snap_changes_count(c); i++)
                r = write_change(s, w, snap_changes_at(c, i), &res, err);
        if (r >= 0)
                r = layer_writer_finish(w, &res.layer, err);
        if (r < 0)
                return lerr_wrap(err, "write layer");
        res.written = true;
        r = snap_changes_commit(s->idx, c, err);
        if (r < 0) {
                s->index_stale = true;
                return r;
        }
        if (ret)
                *ret = res;
        return 0;
}

static int take(struct snapshotter *s, char *const *paths, int out_fd, unsigned flags,
                struct snapshot_result *ret, struct lerr **err)
{
        _cleanup_(snap_changes_freep) struct snap_changes *c = NULL;
        int r = snapshotter_diff(s, paths, &c, err);
        if (r < 0)
                return r;
        if (snap_changes_layer_entries(c) == 0 && !(flags & SNAPSHOT_FORCE)) {
                /* only ctime refreshes, if anything: record them, write nothing */
                r = snap_changes_commit(s->idx, c, err);
                if (r < 0) {
                        s->index_stale = true;
                        return r;
                }
                if (ret)
                        *ret = (struct snapshot_result){.refreshed = snap_changes_count(c)};
                return 0;
        }
        r = snapshotter_write(s, c, out_fd, ret, err);
        return r < 0 ? r : 1;
}

int snapshotter_take(struct snapshotter *s, int out_fd, unsigned flags, struct snapshot_result *ret,
                     struct lerr **err)
{
        return take(s, NULL, out_fd, flags, ret, err);
}

int snapshotter_take_paths(struct snapshotter *s, char *const *paths, int out_fd, unsigned flags,
                           struct snapshot_result *ret, struct lerr **err)
{
        static char *const none[] = {NULL};
        return take(s, paths ? paths : none, out_fd, flags, ret, err);
}
