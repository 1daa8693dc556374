/* SPDX-License-Identifier: Apache-2.0 */
/* The diff and the snapshotter: every kind of change, one whiteout per deleted directory, type
 * changes, metadata-only changes, the three snapshot modes, hardlink sets, the paths-only
 * entry point, the ignore list, and an index that after each layer equals a fresh rebuild. */
#include "snapshot/snapshotter.h"

#include <sys/stat.h>
#include <sys/xattr.h>

#include "common/err.h"
#include "snapshot/extract.h"
#include "snapshot/ignore.h"
#include "snapshot/index.h"
#include "snaptest.h"
#include "treecmp.h"

#define T0 1600000000ll

static int root_fd = -1;
static int layer_no;
static struct ignore_list *ign;
static int replay_fd = -1; /* a copy of the base onto which every layer is extracted */

static void set_time(const char *path, long long sec)
{
        struct timespec ts[2] = {{.tv_sec = sec}, {.tv_sec = sec}};
        if (utimensat(root_fd, path, ts, AT_SYMLINK_NOFOLLOW) < 0)
                snaptest_die(path);
}

/* Timestamps come from a coarse clock: let it move so that a change is visible in them. */
static void tick(void)
{
        usleep(20000);
}

static void make_base(void)
{
        static const char *const dirs[] = {"etc",         "usr",     "usr/bin", "usr/lib",
                                           "var",         "var/log", "opt",     "opt/app",
                                           "opt/app/sub", "keep",    "ignored"};
        static const char *const files[] = {
                "etc/passwd", "etc/group", "usr/bin/tool",  "usr/lib/libx.so", "var/log/a.log",
                "opt/app/a",  "opt/app/b", "opt/app/sub/c", "keep/k",          "ignored/i"};
        _cleanup_free_ char *root = scratch_path("root");
        if (mkdir(root, 0755) < 0)
                snaptest_die("mkdir root");
        root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
                mkdirat(root_fd, dirs[i], 0755);
        for (size_t i = 0; i < ARRAY_SIZE(files); i++)
                write_str_at(root_fd, files[i], files[i]);
        if (symlinkat("etc/passwd", root_fd, "link") < 0 || symlinkat("usr", root_fd, "u") < 0)
                snaptest_die("symlink");
        for (size_t i = 0; i < ARRAY_SIZE(files); i++)
                set_time(files[i], T0);
        for (size_t i = ARRAY_SIZE(dirs); i-- > 0;)
                set_time(dirs[i], T0);
        tick();
}

static const char kind_letter[] = {[SNAP_ADDED] = 'A',
                                   [SNAP_MODIFIED] = 'M',
                                   [SNAP_DELETED] = 'D',
                                   [SNAP_PARENT] = 'P',
                                   [SNAP_REFRESH] = 'R'};

/* Diffs (paths NULL: the whole root), lists the changes as "K path" lines, and writes the
 * layer when there is something to write. *ret_layer gets the layer file (or NULL). */
static char *step(struct snapshotter *s, char *const *paths, char **ret_layer)
{
        struct lerr *err = NULL;
        _cleanup_(snap_changes_freep) struct snap_changes *c = NULL;
        if (snapshotter_diff(s, paths, &c, &err) < 0) {
                diag("diff: %s", lerr_message(err));
                lerr_free(err);
                return xstrdup("error");
        }
        struct buf b = BUF_INIT(1 << 20);
        for (size_t i = 0; i < snap_changes_count(c); i++) {
                struct snap_change *ch = snap_changes_at(c, i);
                if (buf_printf(&b, "%c %s\n", kind_letter[ch->kind], ch->path) < 0)
                        abort();
        }
        *ret_layer = NULL;
        if (snap_changes_layer_entries(c) > 0) {
                char *layer = scratch_path("layer-%d.tar", ++layer_no);
                int fd = open(layer, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                struct snapshot_result res;
                if (snapshotter_write(s, c, fd, &res, &err) < 0) {
                        diag("write: %s", lerr_message(err));
                        lerr_free(err);
                }
                close(fd);
                *ret_layer = layer;
                if (replay_fd >= 0) {
                        _cleanup_close_ int in = open(layer, O_RDONLY | O_CLOEXEC);
                        struct extract_options eo = {.name = layer};
                        if (extract_layer_fd(replay_fd, in, &eo, NULL, &err) < 0) {
                                diag("extract: %s", lerr_message(err));
                                lerr_free(err);
                        }
                }
        } else {
                /* commit the refreshes only, as snapshotter_take does */
                if (snap_changes_commit(snapshotter_index(s), c, &err) < 0)
                        abort();
        }
        return buf_steal(&b);
}

static char *tar_names(const char *layer)
{
        if (!layer)
                return xstrdup("(no layer)");
        return run_out("tar -tf '%s'", layer);
}

/* Compares the incremental index with a fresh build of the same root: every path, type,
 * mode, owner, size, mtime and inode must agree. */
static bool index_matches_rebuild(struct snapshotter *s)
{
        struct lerr *err = NULL;
        struct snap_index *inc = snapshotter_index(s);
        _cleanup_(snap_index_freep) struct snap_index *fresh = snap_index_new();
        if (snap_index_build(fresh, root_fd, ign, 0, &err) < 0)
                return false;
        bool same = snap_index_count(inc) == snap_index_count(fresh);
        if (!same)
                diag("count %zu vs %zu", snap_index_count(inc), snap_index_count(fresh));
        for (uint32_t id = 1; id < snap_index_id_bound(fresh); id++) {
                if (!snap_index_live(fresh, id))
                        continue;
                _cleanup_free_ char *p = snap_index_path(fresh, id);
                uint32_t j = snap_index_find(inc, p);
                struct snap_key a, b;
                snap_index_get(fresh, id, &a);
                if (j == SNAP_INDEX_NONE || snap_index_get(inc, j, &b) < 0) {
                        diag("'%s' missing from the incremental index", p);
                        same = false;
                        continue;
                }
                if (a.st.mode != b.st.mode || a.st.uid != b.st.uid || a.st.gid != b.st.gid ||
                    a.st.size != b.st.size || a.st.mtime_ns != b.st.mtime_ns ||
                    a.st.ino != b.st.ino || !streq_ptr(a.link_target, b.link_target)) {
                        diag("'%s' differs", p);
                        same = false;
                }
        }
        return same;
}

static void test_full_mode(void)
{
        struct lerr *err = NULL;
        struct snapshotter_opts o;
        snapshotter_opts_init(&o);
        o.compression = LAYER_UNCOMPRESSED;
        _cleanup_(snapshotter_freep) struct snapshotter *s = NULL;
        is_int(snapshotter_new(root_fd, ign, &o, &s, &err), 0, "snapshotter");
        is_int(snapshotter_init(s, &err), 0, "initial snapshot");
        is_int(run_sh("cp -a '%s/root' '%s/replay'", snaptest_scratch, snaptest_scratch), 0,
               "copy the base");
        _cleanup_free_ char *rp = scratch_path("replay");
        replay_fd = open(rp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        is_int(snap_index_count(snapshotter_index(s)), 21, "21 entries (ignored/ left out)");
        _cleanup_free_ char *layer = NULL;

        _cleanup_free_ char *none = step(s, NULL, &layer);
        is_str(none, "", "no change, no entries");
        ok(!layer, "no change, no layer");
        struct snapshot_result res;
        is_int(snapshotter_take(s, -1, 0, &res, &err), 0, "take: nothing to write");

        write_str_at(root_fd, "usr/bin/new", "new file");
        _cleanup_free_ char *added = step(s, NULL, &layer);
        is_str(added, "P usr\nM usr/bin\nA usr/bin/new\n", "added file, its dir, a parent");
        _cleanup_free_ char *t1 = tar_names(layer);
        is_str(t1, "usr/\nusr/bin/\nusr/bin/new\n", "layer: parents first, trailing slashes");
        free(TAKE_PTR(layer));

        tick();
        write_str_at(root_fd, "etc/passwd", "root:x:0:0::/root:/bin/sh\n");
        _cleanup_free_ char *mod = step(s, NULL, &layer);
        is_str(mod, "P etc\nM etc/passwd\n", "content change");
        free(TAKE_PTR(layer));

        tick();
        is_int(run_sh("rm -rf '%s/root/opt/app'", snaptest_scratch), 0, "rm -rf opt/app");
        _cleanup_free_ char *del = step(s, NULL, &layer);
        is_str(del, "M opt\nD opt/app\n", "a deleted tree is one deletion");
        _cleanup_free_ char *t2 = tar_names(layer);
        is_str(t2, "opt/\nopt/.wh.app\n", "layer: one whiteout, not one per child");
        free(TAKE_PTR(layer));

        tick();
        unlinkat(root_fd, "usr/lib/libx.so", 0);
        mkdirat(root_fd, "usr/lib/libx.so", 0755);
        write_str_at(root_fd, "usr/lib/libx.so/inner", "i");
        is_int(run_sh("rm -rf '%s/root/var/log' && echo log > '%s/root/var/log'", snaptest_scratch,
                      snaptest_scratch),
               0, "var/log: directory to file");
        _cleanup_free_ char *types = step(s, NULL, &layer);
        is_str(types,
               "P usr\nM usr/lib\nM usr/lib/libx.so\nA usr/lib/libx.so/inner\nM var\n"
               "M var/log\n",
               "file to directory and directory to file are modifications");
        _cleanup_free_ char *t3 = tar_names(layer);
        is_str(t3, "usr/\nusr/lib/\nusr/lib/libx.so/\nusr/lib/libx.so/inner\nvar/\nvar/log\n",
               "layer: no whiteouts for type changes");
        free(TAKE_PTR(layer));
        ok(snap_index_find(snapshotter_index(s), "var/log/a.log") == SNAP_INDEX_NONE,
           "the replaced directory's children left the index");

        tick();
        fchmodat(root_fd, "etc/group", 0600, 0);
        _cleanup_free_ char *chmod = step(s, NULL, &layer);
        is_str(chmod, "P etc\nM etc/group\n", "chmod only");
        free(TAKE_PTR(layer));

        tick();
        if (geteuid() == 0) {
                fchownat(root_fd, "keep/k", 1000, 1000, 0);
                _cleanup_free_ char *chown = step(s, NULL, &layer);
                is_str(chown, "P keep\nM keep/k\n", "chown only");
                free(TAKE_PTR(layer));
                _cleanup_free_ char *tv = run_out("tar -tvf '%s/layer-%d.tar' --numeric-owner "
                                                  "| grep -c ' 1000/1000 '",
                                                  snaptest_scratch, layer_no);
                is_str(tv, "1\n", "the layer carries the new owner");
        }

        tick();
        set_time("etc/group", T0 + 60);
        _cleanup_free_ char *touch = step(s, NULL, &layer);
        is_str(touch, "P etc\nM etc/group\n", "touch only");
        free(TAKE_PTR(layer));

        /* a rewrite that keeps size and mtime: only the ctime moved */
        tick();
        write_str_at(root_fd, "keep/k", "KEEP/K");
        set_time("keep/k", T0);
        _cleanup_free_ char *sneaky = step(s, NULL, &layer);
        is_str(sneaky, "P keep\nM keep/k\n",
               "full: a rewrite that restored the mtime is caught (no stored hash)");
        free(TAKE_PTR(layer));

        /* keep/k was written in the last layer, so the index now has its content hash */
        tick();
        write_str_at(root_fd, "keep/k", "KEEP/K");
        set_time("keep/k", T0);
        _cleanup_free_ char *same = step(s, NULL, &layer);
        is_str(same, "R keep/k\n", "full: same bytes rewritten: only the ctime, no layer");
        ok(!layer, "nothing written");
        tick();
        write_str_at(root_fd, "keep/k", "keep/K");
        set_time("keep/k", T0);
        _cleanup_free_ char *diffbytes = step(s, NULL, &layer);
        is_str(diffbytes, "P keep\nM keep/k\n",
               "full: other bytes with size and mtime kept: the content hash differs");
        free(TAKE_PTR(layer));

        char *cp = scratch_path("root/keep/k");
        tick();
        if (setxattr(cp, "user.note", "x", 1, 0) == 0) {
                _cleanup_free_ char *xa = step(s, NULL, &layer);
                is_str(xa, "P keep\nM keep/k\n", "full: an xattr-only change");
                free(TAKE_PTR(layer));
        }
        free(cp);

        /* hardlinks: a new pair, and a new link to an old file */
        tick();
        write_str_at(root_fd, "keep/h1", "linked");
        linkat(root_fd, "keep/h1", root_fd, "keep/h2", 0);
        linkat(root_fd, "etc/passwd", root_fd, "keep/passwd-link", 0);
        _cleanup_free_ char *links = step(s, NULL, &layer);
        is_str(links, "R etc/passwd\nM keep\nA keep/h1\nA keep/h2\nA keep/passwd-link\n",
               "hardlinks: new paths added; the old file's ctime moved only");
        _cleanup_free_ char *lt = run_out("tar -tvf '%s' | cut -c1 | tr -d '\\n'; echo; "
                                          "tar -tvf '%s' | grep -o 'keep/h2 link to keep/h1'",
                                          layer, layer);
        is_str(lt, "d-h-\nkeep/h2 link to keep/h1\n",
               "h1 is a file, h2 a hardlink to it, passwd-link a file (its first path here)");
        free(TAKE_PTR(layer));

        /* ignored paths never show up */
        tick();
        write_str_at(root_fd, "ignored/i", "changed");
        write_str_at(root_fd, "ignored/new", "new");
        _cleanup_free_ char *ig = step(s, NULL, &layer);
        is_str(ig, "", "changes under an ignored path are not seen");

        ok(index_matches_rebuild(s), "the incremental index equals a fresh rebuild");
        /* the base plus every layer, extracted in order, is the root as it is now; directory
         * mtimes move when an extractor applies whiteouts below them, and hardlinks are kept
         * only within one layer (keep/passwd-link was written as a copy) */
        tree_skip = "ignored";
        _cleanup_free_ char *replayed = tree_compare(root_fd, replay_fd, TREE_NO_DIR_MTIME);
        tree_skip = NULL;
        is_str(replayed,
               "etc/passwd: hardlink group 'etc/passwd' vs ''\n"
               "keep/passwd-link: hardlink group 'etc/passwd' vs ''\n",
               "base + layers replayed by lading's extractor == the root");
        _cleanup_free_ char *again = step(s, NULL, &layer);
        is_str(again, "", "after all that, no change is no change");
        close(replay_fd);
        replay_fd = -1;
        lerr_free(err);
}

static void test_modes(void)
{
        struct lerr *err = NULL;
        static const char *const names[] = {"full", "redo", "time"};
        /* each mode snapshots the same three edits: chmod, a size-and-mtime-preserving rewrite,
         * a touch */
        static const char *const want[] = {
                "P keep\nM keep/m1\nM keep/m2\nM keep/m3\n",
                "P keep\nM keep/m1\nM keep/m3\n",
                "P keep\nM keep/m3\n",
        };
        for (int m = 0; m < 3; m++) {
                enum snap_mode mode;
                is_int(snap_mode_parse(names[m], &mode), 0, "parse %s", names[m]);
                is_str(snap_mode_name(mode), names[m], "name of %s", names[m]);
                write_str_at(root_fd, "keep/m1", "one");
                write_str_at(root_fd, "keep/m2", "two");
                write_str_at(root_fd, "keep/m3", "three");
                set_time("keep/m1", T0);
                set_time("keep/m2", T0);
                set_time("keep/m3", T0);
                set_time("keep", T0);
                struct snapshotter_opts o;
                snapshotter_opts_init(&o);
                o.mode = mode;
                o.compression = LAYER_UNCOMPRESSED;
                _cleanup_(snapshotter_freep) struct snapshotter *s = NULL;
                snapshotter_new(root_fd, ign, &o, &s, &err);
                is_int(snapshotter_init(s, &err), 0, "%s: init", names[m]);
                tick();
                fchmodat(root_fd, "keep/m1", 0600, 0);
                write_str_at(root_fd, "keep/m2", "TWO");
                set_time("keep/m2", T0);
                set_time("keep/m3", T0 + 1);
                set_time("keep", T0);
                _cleanup_free_ char *layer = NULL;
                _cleanup_free_ char *got = step(s, NULL, &layer);
                is_str(got, want[m], "%s mode", names[m]);
                unlinkat(root_fd, "keep/m1", 0);
                unlinkat(root_fd, "keep/m2", 0);
                unlinkat(root_fd, "keep/m3", 0);
        }
        enum snap_mode mode;
        is_int(snap_mode_parse("fast", &mode), -EINVAL, "unknown mode");
        lerr_free(err);
}

static void test_paths(void)
{
        struct lerr *err = NULL;
        struct snapshotter_opts o;
        snapshotter_opts_init(&o);
        o.compression = LAYER_UNCOMPRESSED;
        _cleanup_(snapshotter_freep) struct snapshotter *s = NULL;
        snapshotter_new(root_fd, ign, &o, &s, &err);
        is_int(snapshotter_init(s, &err), 0, "init");
        _cleanup_free_ char *layer = NULL;

        /* COPY into new directories: the new parents are added, the old ones included */
        mkdirat(root_fd, "srv", 0755);
        mkdirat(root_fd, "srv/app", 0755);
        write_str_at(root_fd, "srv/app/main", "main");
        write_str_at(root_fd, "etc/unrelated", "not passed: not seen");
        char *copy[] = {"/srv/app/main", NULL};
        _cleanup_free_ char *c1 = step(s, copy, &layer);
        is_str(c1, "A srv\nA srv/app\nA srv/app/main\n", "only the given path and its parents");
        free(TAKE_PTR(layer));

        /* a directory given: compared recursively, deletions inside it found */
        tick();
        mkdirat(root_fd, "srv/app/lib", 0755);
        write_str_at(root_fd, "srv/app/lib/x", "x");
        unlinkat(root_fd, "srv/app/main", 0);
        char *dir[] = {"srv/app", NULL};
        _cleanup_free_ char *c2 = step(s, dir, &layer);
        is_str(c2, "P srv\nM srv/app\nA srv/app/lib\nA srv/app/lib/x\nD srv/app/main\n",
               "a directory is walked");
        free(TAKE_PTR(layer));

        /* a path through a symlink resolves inside the root */
        tick();
        write_str_at(root_fd, "usr/bin/via-link", "v");
        char *vial[] = {"/u/bin/via-link", NULL};
        _cleanup_free_ char *c3 = step(s, vial, &layer);
        is_str(c3, "P usr\nM usr/bin\nA usr/bin/via-link\n", "u/ resolved to usr/");
        free(TAKE_PTR(layer));

        /* a deleted path, under a deleted parent: one whiteout at the top */
        tick();
        is_int(run_sh("rm -rf '%s/root/srv'", snaptest_scratch), 0, "rm -rf srv");
        char *gone[] = {"srv/app/lib/x", "/srv/app", NULL};
        _cleanup_free_ char *c4 = step(s, gone, &layer);
        is_str(c4, "D srv\n", "the topmost deleted path gets the whiteout");
        _cleanup_free_ char *t4 = tar_names(layer);
        is_str(t4, ".wh.srv\n", "layer: .wh.srv");
        free(TAKE_PTR(layer));
        ok(snap_index_find(snapshotter_index(s), "srv/app/lib/x") == SNAP_INDEX_NONE,
           "the deleted tree left the index");

        char *ignored[] = {"/ignored/i", NULL};
        _cleanup_free_ char *c5 = step(s, ignored, &layer);
        is_str(c5, "", "an ignored path is skipped");
        char *nothing[] = {"/etc/passwd", NULL};
        _cleanup_free_ char *c6 = step(s, nothing, &layer);
        is_str(c6, "", "an unchanged path gives nothing");

        /* the full diff then sees what paths mode was not told about */
        _cleanup_free_ char *rest = step(s, NULL, &layer);
        is_str(rest, "M etc\nA etc/unrelated\n", "full diff finds the rest");
        free(TAKE_PTR(layer));
        ok(index_matches_rebuild(s), "index equals a rebuild after paths snapshots");
        unlinkat(root_fd, "etc/unrelated", 0);
        lerr_free(err);
}

static void test_single_snapshot(void)
{
        struct lerr *err = NULL;
        struct snapshotter_opts o;
        snapshotter_opts_init(&o);
        o.compression = LAYER_GZIP;
        _cleanup_(snapshotter_freep) struct snapshotter *s = NULL;
        snapshotter_new(root_fd, ign, &o, &s, &err);
        is_int(snapshotter_init(s, &err), 0, "init at the base");
        /* several "instructions", no snapshot in between */
        mkdirat(root_fd, "build", 0755);
        write_str_at(root_fd, "build/out", "artifact");
        write_str_at(root_fd, "build/tmp", "scratch");
        unlinkat(root_fd, "build/tmp", 0);
        unlinkat(root_fd, "keep/h2", 0);
        _cleanup_free_ char *layer = scratch_path("single.tar.gz");
        _cleanup_close_ int fd = open(layer, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        struct snapshot_result res;
        is_int(snapshotter_take(s, fd, 0, &res, &err), 1, "one layer at the end");
        is_int(res.added, 2, "2 added (build, build/out)");
        is_int(res.deleted, 1, "1 deleted (keep/h2)");
        _cleanup_free_ char *names = run_out("tar -tzf '%s'", layer);
        /* keep/h1 lost a link: its ctime moved, and this fresh index has no content hash to
         * prove nothing else did, so full mode writes it again */
        is_str(names, "build/\nbuild/out\nkeep/\nkeep/h1\nkeep/.wh.h2\n",
               "build/tmp never appears: created and deleted between snapshots");
        ok(res.layer.size > 0 && res.layer.entries == 5, "layer result filled");

        _cleanup_close_ int fd2 = open(layer, O_WRONLY | O_TRUNC | O_CLOEXEC);
        is_int(snapshotter_take(s, fd2, SNAPSHOT_FORCE, &res, &err), 1,
               "SNAPSHOT_FORCE writes an empty layer");
        _cleanup_free_ char *empty = run_out("tar -tzf '%s' | wc -l", layer);
        is_str(empty, "0\n", "an empty tar");
        lerr_free(err);
}

int main(void)
{
        snaptest_setup("diff");
        make_base();
        struct lerr *err = NULL;
        ign = ignore_list_new();
        if (ignore_list_add(ign, "ignored", 0, &err) < 0)
                abort();
        test_full_mode();
        test_modes();
        test_paths();
        test_single_snapshot();
        ignore_list_free(ign);
        close(root_fd);
        return snaptest_done();
}
