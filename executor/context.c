/* SPDX-License-Identifier: Apache-2.0 */
/* Build contexts and Dockerfiles. Unpacking a context archive uses the layer extractor, so a
 * hostile archive cannot write outside KANIKO_DIR/buildcontext. */
#include "executor/context.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/log.h"
#include "executor/context_azure.h"
#include "executor/context_gcs.h"
#include "executor/context_s3.h"
#include "executor/dockerfile.h"
#include "executor/git_fetch.h"
#include "executor/options.h"
#include "executor/url_fetch.h"
#include "snapshot/extract.h"

#define CONTEXT_ARCHIVE_MAX_BYTES (UINT64_C(64) << 30)

static bool is_url(const char *s)
{
        return startswith(s, "http://") || startswith(s, "https://");
}

static int unpack_archive_fd(int in_fd, const char *what, const char *dest, struct lerr **err)
{
        (void) fs_rm_rf_at(AT_FDCWD, dest);
        if (mkdir(dest, 0755) < 0)
                return lerr_errno(err, errno, "create '%s'", dest);
        _cleanup_close_ int root = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return lerr_errno(err, errno, "open '%s'", dest);
        struct extract_options eo = {.name = what, .flags = EXTRACT_QUIET};
        int r = extract_layer_fd(root, in_fd, &eo, NULL, err);
        if (r < 0)
                return lerr_wrap(err, "unpack the build context %s", what);
        return 0;
}

static int context_from_url(const char *url, const char *dest, const char *kaniko_dir,
                            struct lerr **err)
{
        _cleanup_free_ char *tmp = xasprintf("%s/buildcontext.download", kaniko_dir);
        _cleanup_close_ int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return lerr_errno(err, errno, "create '%s'", tmp);
        struct url_fetch_opts fo = {.max_bytes = CONTEXT_ARCHIVE_MAX_BYTES, .retries = 2};
        struct url_fetch_result res;
        int r;
        if (startswith(url, "s3://")) {
                r = context_s3_fetch(url, fd, CONTEXT_ARCHIVE_MAX_BYTES, err);
        } else if (startswith(url, "gs://")) {
                r = context_gcs_fetch(url, fd, CONTEXT_ARCHIVE_MAX_BYTES, err);
        } else if (azure_blob_url(url, NULL)) {
                r = context_azure_fetch(url, fd, CONTEXT_ARCHIVE_MAX_BYTES, err);
        } else {
                log_info("Downloading the build context from %s", url);
                r = url_fetch(url, fd, &fo, &res, err);
        }
        if (r >= 0 && lseek(fd, 0, SEEK_SET) < 0)
                r = lerr_errno(err, errno, "rewind '%s'", tmp);
        if (r >= 0)
                r = unpack_archive_fd(fd, url, dest, err);
        (void) unlink(tmp);
        return r;
}

static int context_from_tar(const char *path, const char *dest, struct lerr **err)
{
        _cleanup_close_ int fd = -EBADF;
        if (streq(path, "stdin"))
                fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
        else
                fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return lerr_errno(err, errno, "open the build context 'tar://%s'", path);
        return unpack_archive_fd(fd, path, dest, err);
}

/* Kaniko's git context: https://HOST/PATH, or http with GIT_PULL_METHOD=http as Kaniko has it
 * (tests, trusted networks), credentials from GIT_USERNAME/GIT_PASSWORD or GIT_TOKEN as Kaniko
 * reads them, --git branch= when the URL names no ref. */
static int context_from_git(const struct options *o, const char *url, const char *dest,
                            const char *kaniko_dir, struct lerr **err)
{
        _cleanup_(git_source_done) struct git_source s = {0};
        /* Kaniko falls back to https on any other value; a typo here would silently change
         * nothing, so it is an error */
        const char *method = getenv("GIT_PULL_METHOD");
        bool plain_http = method && !strcasecmp(method, "http");
        if (method && *method && !plain_http && strcasecmp(method, "https"))
                return lerr_set(err, EINVAL,
                                "invalid value '%s' in GIT_PULL_METHOD: expected https or http",
                                method);
        int r = git_source_from_context(url, plain_http, &s, err);
        if (r < 0)
                return r;
        if (!s.ref && o->git_branch && *o->git_branch)
                s.ref = xstrdup(o->git_branch);
        const char *token = getenv("GIT_TOKEN");
        struct git_remote_opts go = {
                .allow_http = plain_http,
                .insecure_tls = o->git_insecure_skip_tls,
                .recurse_submodules = o->git_recurse_submodules,
                .username = token && *token ? token : getenv("GIT_USERNAME"),
                .password = token && *token ? "" : getenv("GIT_PASSWORD"),
        };
        if (go.username && !*go.username && !(go.password && *go.password))
                go.username = NULL;
        else if (!go.username && go.password && *go.password)
                go.username = "";
        (void) fs_rm_rf_at(AT_FDCWD, dest);
        if (mkdir(dest, 0755) < 0)
                return lerr_errno(err, errno, "create '%s'", dest);
        _cleanup_close_ int fd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return lerr_errno(err, errno, "open '%s'", dest);
        char id[GIT_OID_HEXSZ + 1];
        _cleanup_free_ char *shown = git_url_redacted(url);
        r = git_clone(&s, NULL, &go, kaniko_dir, fd, id, err);
        if (r < 0)
                return lerr_wrap(err, "get the build context '%s'", shown);
        log_info("Build context: commit %s of %s (%d files)", id, shown, r);
        return 0;
}

/* The context directory for o->context, unpacking remote ones. */
static int context_dir(const struct options *o, const char *kaniko_dir, char **ret,
                       struct lerr **err)
{
        const char *c = o->context && *o->context ? o->context : "/workspace/";
        const char *rest;
        if ((rest = startswith(c, "dir://")))
                c = rest;
        else if ((rest = startswith(c, "tar://")) || is_url(c) || startswith(c, "s3://") ||
                 startswith(c, "gs://")) {
                _cleanup_free_ char *dest = xasprintf("%s/buildcontext", kaniko_dir);
                int r = rest ? context_from_tar(rest, dest, err)
                             : context_from_url(c, dest, kaniko_dir, err);
                if (r < 0)
                        return r;
                *ret = TAKE_PTR(dest);
                return 0;
        } else if (startswith(c, "git://")) {
                _cleanup_free_ char *dest = xasprintf("%s/buildcontext", kaniko_dir);
                int r = context_from_git(o, c, dest, kaniko_dir, err);
                if (r < 0)
                        return r;
                *ret = TAKE_PTR(dest);
                return 0;
        } else if (strstr(c, "://"))
                return lerr_set(err, ENOTSUP,
                                "build context '%s': this kind of context is not supported yet "
                                "(use a directory, dir://, tar://PATH, tar://stdin, s3://, gs://, "
                                "git://HOST/PATH or an https:// URL of a tar.gz)",
                                c);
        char *abs = realpath(c, NULL);
        if (!abs)
                return lerr_errno(err, errno, "build context '%s'", c);
        *ret = abs;
        return 0;
}

int context_read_dockerfile(const struct options *o, const char *ctx, const char *kaniko_dir,
                            struct build_context *c, struct lerr **err)
{
        const char *path = o->dockerfile && *o->dockerfile ? o->dockerfile : "Dockerfile";
        struct buf b = BUF_INIT(DOCKERFILE_MAX_BYTES);
        _cleanup_free_ char *joined = NULL;
        int r;

        if (is_url(path)) {
                _cleanup_free_ char *dst = xasprintf("%s/Dockerfile", kaniko_dir);
                _cleanup_close_ int fd = open(dst, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                struct url_fetch_opts fo = {.max_bytes = DOCKERFILE_MAX_BYTES, .retries = 2};
                struct url_fetch_result res;
                if (fd < 0)
                        return lerr_errno(err, errno, "create '%s'", dst);
                r = url_fetch(path, fd, &fo, &res, err);
                if (r < 0)
                        return lerr_wrap(err, "get the Dockerfile");
                joined = TAKE_PTR(dst);
                r = fs_read_file_at(AT_FDCWD, joined, &b);
        } else {
                /* as given first (relative to the working directory), then in the context */
                r = fs_read_file_at(AT_FDCWD, path, &b);
                if (r == -ENOENT && ctx && path[0] != '/') {
                        joined = xasprintf("%s/%s", ctx, path);
                        buf_reset(&b);
                        r = fs_read_file_at(AT_FDCWD, joined, &b);
                }
        }
        if (r == -ENOENT) {
                buf_done(&b);
                return lerr_set(err, ENOENT,
                                "Dockerfile '%s' not found (tried it as given%s%s): please provide "
                                "a valid path to a Dockerfile within the build context with "
                                "--dockerfile",
                                path, joined ? " and as " : "", joined ? joined : "");
        }
        if (r < 0) {
                buf_done(&b);
                if (r == -E2BIG)
                        return lerr_set(err, E2BIG,
                                        "read Dockerfile '%s': over the limit of %u bytes",
                                        joined ? joined : path, DOCKERFILE_MAX_BYTES);
                return lerr_errno(err, r, "read Dockerfile '%s'", joined ? joined : path);
        }
        const char *found = joined ? joined : path;
        c->dockerfile_path =
                found[0] == '/' || is_url(path) ? xstrdup(found) : realpath(found, NULL);
        if (!c->dockerfile_path)
                c->dockerfile_path = xstrdup(found);
        c->dockerfile_name = xstrdup(o->dockerfile_shown ? o->dockerfile_shown : path);
        c->dockerfile_len = b.len;
        c->dockerfile = buf_steal(&b);
        return 0;
}

int context_open(const struct options *o, const char *kaniko_dir, struct build_context *ret,
                 struct lerr **err)
{
        struct build_context c = {.fd = -EBADF};
        _cleanup_free_ char *dir = NULL;
        int r = context_dir(o, kaniko_dir, &dir, err);
        if (r < 0)
                return r;
        if (o->context_sub_path && *o->context_sub_path) {
                char *sub = NULL;
                r = fs_normalize_path(o->context_sub_path, &sub);
                if (r < 0)
                        return lerr_errno(err, r, "--context-sub-path '%s'", o->context_sub_path);
                char *joined = xasprintf("%s/%s", dir, sub);
                free(sub);
                free(dir);
                dir = joined;
        }
        c.fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (c.fd < 0)
                return lerr_errno(err, errno, "open the build context '%s'", dir);
        r = context_read_dockerfile(o, dir, kaniko_dir, &c, err);
        if (r < 0) {
                context_done(&c);
                return r;
        }
        c.dir = TAKE_PTR(dir);
        *ret = c;
        return 0;
}

void context_done(struct build_context *c)
{
        if (c->fd >= 0)
                (void) close(c->fd);
        free(c->dir);
        free(c->dockerfile_path);
        free(c->dockerfile_name);
        free(c->dockerfile);
        memset(c, 0, sizeof(*c));
        c->fd = -EBADF;
}
