/* SPDX-License-Identifier: Apache-2.0 */
/* COPY's engine against Docker's rules, in scratch roots under /tmp (run as root: owners). */
#include "executor/copy.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/strv.h"
#include "executor/chmod_spec.h"
#include "tap.h"

static char base[] = "/tmp/lading-test-copy-XXXXXX";
static int ctx, dst;

static void write_file(int dir, const char *path, const char *content, mode_t mode)
{
        int fd = openat(dir, path, O_WRONLY | O_CREAT | O_TRUNC, mode);
        if (fd < 0 || write(fd, content, strlen(content)) < 0)
                abort();
        fchmod(fd, mode);
        close(fd);
}

static char *read_file(int dir, const char *path)
{
        static char b[256];
        memset(b, 0, sizeof(b));
        int fd = openat(dir, path, O_RDONLY | O_NOFOLLOW);
        if (fd < 0)
                return NULL;
        if (read(fd, b, sizeof(b) - 1) < 0)
                abort();
        close(fd);
        return b;
}

static struct stat st_of(int dir, const char *path)
{
        struct stat st;
        memset(&st, 0, sizeof(st));
        if (fstatat(dir, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
                st.st_mode = 0;
        return st;
}

static void reset_dst(void)
{
        int d = open(base, O_RDONLY | O_DIRECTORY);
        fs_rm_rf_at(d, "dst");
        mkdirat(d, "dst", 0755);
        close(dst);
        dst = openat(d, "dst", O_RDONLY | O_DIRECTORY);
        close(d);
}

static void setup(void)
{
        if (!mkdtemp(base))
                abort();
        int d = open(base, O_RDONLY | O_DIRECTORY);
        mkdirat(d, "ctx", 0755);
        mkdirat(d, "outside", 0755);
        write_file(d, "outside/secret", "outside", 0644);
        ctx = openat(d, "ctx", O_RDONLY | O_DIRECTORY);
        close(d);
        write_file(ctx, "a.txt", "A", 0640);
        write_file(ctx, "b.txt", "B", 0644);
        write_file(ctx, "run.sh", "#!/bin/sh\n", 04755);
        mkdirat(ctx, "dir", 0750);
        mkdirat(ctx, "dir/sub", 0755);
        write_file(ctx, "dir/sub/deep.txt", "deep", 0600);
        write_file(ctx, "dir/skip.log", "log", 0644);
        write_file(ctx, "dir/keep.txt", "keep", 0644);
        linkat(ctx, "dir/keep.txt", ctx, "dir/hard.txt", 0);
        symlinkat("keep.txt", ctx, "dir/link");
        symlinkat("/a.txt", ctx, "abs-link");
        symlinkat("../outside/secret", ctx, "escape-link");
        mkdirat(ctx, "x", 0755);
        mkdirat(ctx, "x/y", 0755);
        write_file(ctx, "x/y/z.txt", "z", 0644);
        fsetxattr(openat(ctx, "b.txt", O_RDONLY), "user.test", "v", 1, 0);
        struct timespec ts[2] = {{1000000000, 5}, {1000000000, 5}};
        utimensat(ctx, "a.txt", ts, 0);
        utimensat(ctx, "dir", ts, 0);
        dst = -1;
        reset_dst();
}

static int run(char **srcs, const char *dest, const struct copy_opts *o, struct copy_result *res,
               struct lerr **err)
{
        struct copy_opts def = {.instruction = "COPY"};
        struct copy_result tmp = {0};
        int r = copy_sources(ctx, srcs, dst, dest, o ? o : &def, res ? res : &tmp, err);
        if (!res)
                copy_result_done(&tmp);
        return r;
}

static enum copy_filter_result filter_logs(void *ud, const char *rel, const char *below,
                                           bool is_dir)
{
        (void) ud;
        (void) below;
        if (fnmatch("*.log", rel, 0) == 0)
                return COPY_EXCLUDE;
        if (streq(rel, "x") && is_dir)
                return COPY_EXCLUDE; /* "x" excluded, "!x/y/z.txt" re-included */
        if (streq(rel, "dir/sub"))
                return COPY_PRUNE;
        return COPY_INCLUDE;
}

int main(void)
{
        struct lerr *err = NULL;
        struct copy_result res = {0};
        setup();

        /* single file to a file path */
        is_int(run((char *[]){"a.txt", NULL}, "/dest", NULL, NULL, &err), 0, "file to a file");
        is_str(read_file(dst, "dest"), "A", "content copied");
        struct stat st = st_of(dst, "dest");
        is_int(st.st_mode & 07777, 0640, "mode kept");
        is_int(st.st_uid, 0, "owner 0 for context files");
        ok(st.st_mtim.tv_sec == 1000000000 && st.st_mtim.tv_nsec == 5, "mtime kept to the ns");
        is_int(run((char *[]){"run.sh", NULL}, "/bin/", NULL, NULL, &err), 0, "to a new dir/");
        is_int(st_of(dst, "bin").st_mode & 07777, 0755, "created parent is 0755");
        is_int(st_of(dst, "bin/run.sh").st_mode & 07777, 04755, "setuid kept");
        is_int(run((char *[]){"b.txt", NULL}, "/bin", NULL, NULL, &err), 0, "onto an existing dir");
        is_str(read_file(dst, "bin/b.txt"), "B", "file goes inside the existing dir");
        char v[8] = {0};
        int fd = openat(dst, "bin/b.txt", O_RDONLY);
        ok(fgetxattr(fd, "user.test", v, sizeof(v)) == 1 && v[0] == 'v', "xattr copied");
        close(fd);

        /* directories: contents, not the directory itself */
        reset_dst();
        is_int(run((char *[]){"dir", NULL}, "/app", NULL, &res, &err), 0, "directory");
        ok(st_of(dst, "app/keep.txt").st_mode && !st_of(dst, "app/dir").st_mode,
           "contents copied, not the directory");
        is_int(st_of(dst, "app").st_mode & 07777, 0750, "new dest dir takes the source's mode");
        is_int(st_of(dst, "app").st_mtim.tv_sec, 1000000000, "and its mtime");
        ok(S_ISLNK(st_of(dst, "app/link").st_mode), "symlink inside a dir stays a link");
        ok(st_of(dst, "app/hard.txt").st_ino == st_of(dst, "app/keep.txt").st_ino,
           "hardlinks preserved");
        is_str(read_file(dst, "app/sub/deep.txt"), "deep", "nested");
        is_int(strv_length(res.paths), 1, "one top-level path reported");
        is_str(res.paths[0], "app", "reported path");
        is_int(res.files, 6, "entries counted (the destination itself is not)");
        copy_result_done(&res);
        is_int(run((char *[]){"dir", NULL}, "/", NULL, &res, &err), 0, "directory onto the root");
        is_str(read_file(dst, "sub/deep.txt"), "deep", "contents land in the root");
        is_int(strv_length(res.paths), 1, "one path reported for the root");
        is_str(res.paths[0], "/", "the root is reported as '/' (the snapshot walks it all)");
        copy_result_done(&res);
        mkdirat(dst, "keep", 0711);
        fchownat(dst, "keep", 5, 5, 0);
        is_int(run((char *[]){"dir", NULL}, "/keep", NULL, NULL, &err), 0, "into an existing dir");
        st = st_of(dst, "keep");
        ok((st.st_mode & 07777) == 0711 && st.st_uid == 5, "existing dest dir keeps mode/owner");

        /* wildcards and several sources */
        reset_dst();
        is_int(run((char *[]){"*.txt", NULL}, "/out/", NULL, NULL, &err), 0, "wildcard");
        ok(st_of(dst, "out/a.txt").st_mode && st_of(dst, "out/b.txt").st_mode, "both matched");
        is_int(run((char *[]){"*.txt", NULL}, "/out2", NULL, NULL, &err), -EINVAL,
               "several files need a dir destination");
        is_str(lerr_message(err),
               "COPY: with more than one source file, the destination must be a directory and "
               "end with a /",
               "Docker's rule, in its words");
        is_int(run((char *[]){"a.*", NULL}, "/single", NULL, NULL, &err), 0,
               "a wildcard matching one file");
        ok(S_ISREG(st_of(dst, "single").st_mode), "writes the file at the destination");
        is_int(run((char *[]){"nope", NULL}, "/x", NULL, NULL, &err), -ENOENT, "missing source");
        is_str(lerr_message(err),
               "COPY: 'nope' not found in the build context (or excluded by .dockerignore)",
               "says what and where");
        is_int(run((char *[]){"*.none", NULL}, "/x/", NULL, NULL, &err), -ENOENT, "no match");
        is_str(lerr_message(err), "COPY: no files in the build context match '*.none'",
               "no-match message");
        is_int(run((char *[]){"../../outside/secret", NULL}, "/x", NULL, NULL, &err), -ENOENT,
               "dot-dot cannot leave the context");

        /* symlinks as sources are followed, inside the context */
        reset_dst();
        is_int(run((char *[]){"abs-link", NULL}, "/l", NULL, NULL, &err), 0, "symlink source");
        is_str(read_file(dst, "l"), "A", "absolute link resolved in the context");
        is_int(run((char *[]){"escape-link", NULL}, "/e", NULL, NULL, &err), -ENOENT,
               "a link pointing out of the context is not followed out");

        /* destination through a symlink in the build root stays in the root */
        reset_dst();
        symlinkat("/../../outside", dst, "evil");
        is_int(run((char *[]){"b.txt", NULL}, "/evil/pwn", NULL, NULL, &err), 0,
               "destination through an escaping link");
        int d = open(base, O_RDONLY | O_DIRECTORY);
        ok(faccessat(d, "outside/pwn", F_OK, 0) != 0, "nothing written outside the root");
        ok(faccessat(dst, "outside/pwn", F_OK, 0) == 0,
           "the dangling link's target is created inside the root, as mkdir -p follows links");
        close(d);

        /* --chown, --chmod */
        reset_dst();
        struct chmod_spec *cs = NULL;
        is_int(chmod_spec_parse("0640", &cs), 0, "octal chmod");
        struct copy_opts o = {
                .instruction = "COPY", .chown = true, .uid = 1000, .gid = 2000, .chmod = cs};
        is_int(run((char *[]){"dir", NULL}, "/a/b/c", &o, &res, &err), 0, "--chown --chmod");
        st = st_of(dst, "a");
        ok(st.st_uid == 1000 && st.st_gid == 2000 && (st.st_mode & 07777) == 0755,
           "implicit parents: 0755, owned by the --chown user");
        st = st_of(dst, "a/b/c/keep.txt");
        ok(st.st_uid == 1000 && (st.st_mode & 07777) == 0640, "files chowned and chmodded");
        is_int(st_of(dst, "a/b/c/sub").st_mode & 07777, 0640, "chmod applies to copied dirs");
        ok(st_of(dst, "a/b/c/link").st_uid == 1000, "links chowned too");
        is_int(strv_length(res.paths), 3, "created parents reported");
        copy_result_done(&res);
        chmod_spec_free(cs);
        is_int(chmod_spec_parse("u+x,g=rX,o-rwx", &cs), 0, "symbolic chmod");
        o = (struct copy_opts){.instruction = "COPY", .chmod = cs};
        is_int(run((char *[]){"a.txt", NULL}, "/sym", &o, NULL, &err), 0, "symbolic applied");
        is_int(st_of(dst, "sym").st_mode & 07777, 0750,
               "0640 u+x,g=rX,o-rwx gives 0750 (X sees the x added by u+x, as chmod(1))");
        chmod_spec_free(cs);

        /* filters: .dockerignore / --exclude */
        reset_dst();
        o = (struct copy_opts){.instruction = "COPY", .filter = filter_logs};
        is_int(run((char *[]){".", NULL}, "/f/", &o, NULL, &err), 0, "filtered copy");
        ok(!st_of(dst, "f/dir/skip.log").st_mode, "excluded file skipped");
        ok(!st_of(dst, "f/dir/sub").st_mode, "pruned dir skipped");
        is_str(read_file(dst, "f/x/y/z.txt"), "z", "file below an excluded dir re-included");
        is_int(run((char *[]){"dir/skip.log", NULL}, "/s", &o, NULL, &err), -ENOENT,
               "an excluded source is not found");

        /* --parents */
        reset_dst();
        o = (struct copy_opts){.instruction = "COPY", .parents = true};
        is_int(run((char *[]){"x/y/z.txt", "a.txt", NULL}, "/p", &o, NULL, &err), 0, "--parents");
        ok(st_of(dst, "p/x/y/z.txt").st_mode && st_of(dst, "p/a.txt").st_mode,
           "source dirs kept under the destination");
        is_int(run((char *[]){"x/./y/z.txt", NULL}, "/q/", &o, NULL, &err), 0, "--parents pivot");
        ok(st_of(dst, "q/y/z.txt").st_mode && !st_of(dst, "q/x").st_mode,
           "only the part after /./ is kept");

        /* replacing */
        reset_dst();
        mkdirat(dst, "d", 0755);
        is_int(run((char *[]){"a.txt", NULL}, "/d/a.txt", NULL, NULL, &err), 0, "new file");
        is_int(run((char *[]){"b.txt", NULL}, "/d/a.txt", NULL, NULL, &err), 0, "overwrite");
        is_str(read_file(dst, "d/a.txt"), "B", "overwritten");
        mkdirat(dst, "d/a.dir", 0755);
        is_int(run((char *[]){"a.txt", NULL}, "/d/a.dir/", NULL, NULL, &err), 0, "into dir/");
        o = (struct copy_opts){.instruction = "COPY", .preserve_owner = true};
        fchownat(ctx, "b.txt", 7, 8, 0);
        is_int(run((char *[]){"b.txt", NULL}, "/po", &o, NULL, &err), 0, "preserve owner");
        ok(st_of(dst, "po").st_uid == 7 && st_of(dst, "po").st_gid == 8, "owner preserved");

        lerr_free(err);
        int b = open("/tmp", O_RDONLY | O_DIRECTORY);
        fs_rm_rf_at(b, base + 5);
        close(b);
        return tap_done();
}
