/* SPDX-License-Identifier: Apache-2.0 */
/* Sandbox path mapping (host path -> in-sandbox path) and /etc/subuid parsing; entering the
 * sandbox itself is covered by tests/integration/runtime. */
#include "executor/sandbox.h"
#include "executor/sandbox-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/fs.h"
#include "tap.h"

static char base[] = "/tmp/lading-test-sandbox-XXXXXX";

static char *at(const char *rel)
{
        return xasprintf("%s/%s", base, rel);
}

static void map_is(const struct sandbox *sb, const char *host, const char *want, const char *name)
{
        char *got = sandbox_map_path(sb, host);
        is_str(got, want, "%s", name);
        free(got);
}

static void add_ok(struct sandbox *sb, const char *rel, unsigned flags, const char *name)
{
        struct lerr *err = NULL;
        char *p = at(rel);
        int r = sandbox_add_path(sb, p, flags, &err);
        if (!ok(r == 0, "%s", name))
                diag("%s", lerr_message(err));
        lerr_free(err);
        free(p);
}

static void test_mapping(void)
{
        struct sandbox *sb = sandbox_new("/tmp/unused-sandbox-dir", "/kaniko");
        char *ctx = at("ctx"), *df = at("ctx/Dockerfile"), *sub = at("ctx/sub/file");
        char *cfg = at("docker/config.json"), *tar = at("out/image.tar");
        char *link = at("link-to-ctx/Dockerfile"), *digest = at("out/digest");

        add_ok(sb, "ctx", SANDBOX_PATH_RO, "context dir, read-only");
        add_ok(sb, "ctx/Dockerfile", SANDBOX_PATH_RO, "Dockerfile inside the context");
        add_ok(sb, "docker/config.json", SANDBOX_PATH_RO, "a config file");
        add_ok(sb, "out/image.tar", SANDBOX_PATH_PARENT, "an output file not created yet");
        add_ok(sb, "ctx/sub/file", SANDBOX_PATH_PARENT, "a writable file inside a read-only dir");
        add_ok(sb, "link-to-ctx/Dockerfile", SANDBOX_PATH_RO, "a path through a symlink");
        add_ok(sb, "out/digest", SANDBOX_PATH_PARENT, "a second output in the same dir");

        map_is(sb, ctx, "/kaniko/host/0/ctx", "context");
        map_is(sb, df, "/kaniko/host/0/ctx/Dockerfile", "covered by the context: no new bind");
        map_is(sb, cfg, "/kaniko/host/1/config.json", "file bound by its own name");
        map_is(sb, tar, "/kaniko/host/2/out/image.tar", "output under its bound parent");
        map_is(sb, digest, "/kaniko/host/2/out/digest", "second output reuses the parent bind");
        map_is(sb, sub, "/kaniko/host/3/sub/file", "writable parent inside a read-only bind");
        map_is(sb, link, "/kaniko/host/0/ctx/Dockerfile", "the path as given through a link");
        char *dotdot = at("ctx/sub/../Dockerfile");
        map_is(sb, dotdot, "/kaniko/host/0/ctx/Dockerfile", "dot-dot is resolved lexically");
        free(dotdot);
        char *other = at("ctxfoo");
        map_is(sb, other, NULL, "a sibling with the same prefix is not covered");
        free(other);
        map_is(sb, "/etc/passwd", NULL, "an unrelated host path is not mapped");

        /* relative paths are taken from the directory current at sandbox_new() */
        char cwd[4096];
        if (!getcwd(cwd, sizeof(cwd)) || chdir(base) < 0)
                abort();
        struct sandbox *rel = sandbox_new("sbx", NULL);
        if (chdir(cwd) < 0)
                abort();
        struct lerr *err = NULL;
        is_int(sandbox_add_path(rel, "ctx/", SANDBOX_PATH_RO, &err), 0, "relative host path");
        map_is(rel, "./ctx/Dockerfile", "/kaniko/host/0/ctx/Dockerfile",
               "relative path mapped from the original directory");
        map_is(rel, df, "/kaniko/host/0/ctx/Dockerfile", "absolute form maps the same");
        sandbox_free(rel);

        is_int(sandbox_add_path(sb, "/nonexistent/x", 0, &err), -ENOENT, "missing host path");
        is_str(lerr_message(err),
               "make host path '/nonexistent/x' visible in the sandbox: No such file or "
               "directory",
               "missing host path message");
        lerr_free(TAKE_PTR(err));
        is_int(sandbox_add_path(sb, "/nonexistent/out.tar", SANDBOX_PATH_PARENT, &err), -ENOENT,
               "missing parent of an output");
        lerr_free(TAKE_PTR(err));
        is_int(sandbox_add_path(sb, "/dev/null", SANDBOX_PATH_RO, &err), -EINVAL,
               "a device is refused");
        is_str(lerr_message(err),
               "make host path '/dev/null' visible in the sandbox: not a file or directory",
               "device message");
        lerr_free(TAKE_PTR(err));
        is_str(sandbox_userns_mode(sb), "none", "no user namespace before entering");

        struct sandbox *k = sandbox_new("/tmp/x", "/workspace/../opt/kaniko/");
        is_int(sandbox_add_path(k, ctx, 0, &err), 0, "custom kaniko dir");
        map_is(k, df, "/opt/kaniko/host/0/ctx/Dockerfile", "custom kaniko dir is cleaned");
        sandbox_free(k);

        struct sandbox *many = sandbox_new("/tmp/x", "/kaniko");
        int r = 0;
        for (int i = 0; i < SANDBOX_MAX_PATHS && r == 0; i++)
                r = sandbox_add_path(many, i % 2 ? cfg : tar, i % 2 ? 0 : SANDBOX_PATH_PARENT,
                                     &err);
        is_int(r, 0, "repeated paths reuse their binds");
        map_is(many, cfg, "/kaniko/host/1/config.json", "still two binds");
        sandbox_free(many);

        sandbox_free(sb);
        free(ctx);
        free(df);
        free(sub);
        free(cfg);
        free(tar);
        free(link);
        free(digest);
}

static void subid_is(const char *text, const char *name, uint32_t id, const char *want,
                     const char *what)
{
        uint32_t start = 0, count = 0;
        int r = sandbox_find_subid(text, name, id, &start, &count);
        char *got = r < 0 ? xasprintf("error %d", r) : xasprintf("%u:%u", start, count);
        is_str(got, want, "%s", what);
        free(got);
}

static void test_subid(void)
{
        const char *t = "alice:100000:65536\n"
                        "bad line\n"
                        "bob:x:10\n"
                        "carol:5:0\n"
                        "1001:300000:1000\n"
                        "dave:4294967295:2\n"
                        "bob:200000:65536\n"
                        "alice:900000:10\n";
        subid_is(t, "alice", 1000, "100000:65536", "by name, first line wins");
        subid_is(t, "bob", 1002, "200000:65536", "malformed line for the same name skipped");
        subid_is(t, "carol", 1003, "error -2", "empty range skipped");
        subid_is(t, "erin", 1001, "300000:1000", "by uid when the name is absent");
        subid_is(t, NULL, 1001, "300000:1000", "by uid without a name");
        subid_is(t, "dave", 7, "error -2", "range past 2^32 refused");
        subid_is(t, "nobody", 65534, "error -2", "no entry");
        subid_is("", "alice", 1, "error -2", "empty file");
        subid_is("alice:1:2", "alice", 1, "1:2", "no final newline");
}

int main(void)
{
        if (!mkdtemp(base))
                abort();
        int fd = open(base, O_PATH | O_DIRECTORY | O_CLOEXEC);
        (void) mkdirat(fd, "ctx", 0755);
        (void) mkdirat(fd, "ctx/sub", 0755);
        (void) mkdirat(fd, "docker", 0755);
        (void) mkdirat(fd, "out", 0755);
        if (fs_write_file_at(fd, "ctx/Dockerfile", "FROM scratch\n", 13, 0644) < 0 ||
            fs_write_file_at(fd, "docker/config.json", "{}", 2, 0600) < 0 ||
            symlinkat("ctx", fd, "link-to-ctx") < 0)
                abort();
        test_mapping();
        test_subid();
        int r = tap_done();
        if (r == 0) {
                int t = open("/tmp", O_PATH | O_DIRECTORY | O_CLOEXEC);
                (void) fs_rm_rf_at(t, base + 5);
                close(t);
        }
        close(fd);
        return r;
}
