/* SPDX-License-Identifier: Apache-2.0 */
/* --print-plan: Dockerfile lookup (Kaniko's rules), parse, plan, JSON out. It neither pulls
 * nor builds, and reads nothing but the Dockerfile. */
#include "executor/plan_print.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/fs.h"
#include "executor/dockerfile.h"
#include "executor/options.h"
#include "executor/plan_json.h"
#include "executor/planner.h"

static bool is_url(const char *s)
{
        return startswith(s, "http://") || startswith(s, "https://");
}

/* The local directory of the context, or NULL when the context is remote. */
static const char *local_context(const char *ctx)
{
        if (!ctx || !*ctx)
                return NULL;
        const char *dir = startswith(ctx, "dir://");
        if (dir)
                return dir;
        return strstr(ctx, "://") ? NULL : ctx;
}

static int read_dockerfile(const struct options *o, struct buf *b, struct lerr **err)
{
        const char *path = o->dockerfile ? o->dockerfile : "Dockerfile";
        const char *ctx = local_context(o->context);
        _cleanup_free_ char *joined = NULL;
        int r;

        if (is_url(path))
                return lerr_set(err, ENOTSUP,
                                "read Dockerfile '%s': a Dockerfile URL is not supported yet",
                                path);
        r = fs_read_file_at(AT_FDCWD, path, b);
        if (r == -ENOENT && ctx && path[0] != '/') {
                joined = xasprintf("%s%s%s", ctx, ctx[strlen(ctx) - 1] == '/' ? "" : "/", path);
                buf_reset(b);
                r = fs_read_file_at(AT_FDCWD, joined, b);
        }
        if (r == -E2BIG)
                return lerr_set(err, E2BIG, "read Dockerfile '%s': over the limit of %u bytes",
                                joined ? joined : path, DOCKERFILE_MAX_BYTES);
        if (r == -ENOENT)
                return lerr_set(err, ENOENT,
                                "Dockerfile '%s' not found (tried it as given%s%s): please provide "
                                "a valid path to a Dockerfile within the build context with "
                                "--dockerfile",
                                path, joined ? " and as " : "", joined ? joined : "");
        if (r < 0)
                return lerr_errno(err, r, "read Dockerfile '%s'", joined ? joined : path);
        return 0;
}

int plan_print(const struct options *o, FILE *out, struct lerr **err)
{
        struct buf b = BUF_INIT(DOCKERFILE_MAX_BYTES);
        _cleanup_(dockerfile_freep) struct dockerfile *df = NULL;
        _cleanup_(plan_freep) struct plan *plan = NULL;
        int r;

        r = read_dockerfile(o, &b, err);
        if (r >= 0)
                r = dockerfile_parse(b.data ? b.data : "", b.len,
                                     o->dockerfile ? o->dockerfile : "Dockerfile", &df, err);
        buf_done(&b);
        if (r < 0)
                return r;
        struct plan_params params = {
                .build_args = o->build_args,
                .target = o->target,
                .target_platform = o->custom_platform,
        };
        r = plan_build(df, &params, &plan, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *json = plan_to_json(plan);
        if (fputs(json, out) == EOF || fflush(out) == EOF)
                return lerr_errno(err, errno ? errno : EIO, "write the plan");
        return 0;
}
