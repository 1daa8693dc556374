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
#include "executor/context.h"
#include "executor/dockerfile.h"
#include "executor/options.h"
#include "executor/plan_json.h"
#include "executor/planner.h"

/* The local directory of the context, or NULL when the context is remote: --print-plan reads
 * nothing but the Dockerfile and downloads no context. */
static const char *local_context(const char *ctx)
{
        if (!ctx || !*ctx)
                return NULL;
        const char *dir = startswith(ctx, "dir://");
        if (dir)
                return dir;
        return strstr(ctx, "://") ? NULL : ctx;
}

int plan_print(const struct options *o, FILE *out, struct lerr **err)
{
        struct build_context c = {.fd = -EBADF};
        _cleanup_(dockerfile_freep) struct dockerfile *df = NULL;
        _cleanup_(plan_freep) struct plan *plan = NULL;
        const char *tmp = getenv("TMPDIR");
        int r = context_read_dockerfile(o, local_context(o->context), tmp && *tmp ? tmp : "/tmp",
                                        &c, err);
        if (r >= 0)
                r = dockerfile_parse(c.dockerfile, c.dockerfile_len, c.dockerfile_name, &df, err);
        context_done(&c);
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
