/* SPDX-License-Identifier: Apache-2.0 */
/* The executor's entry point: parse the command line, set up logging, then hand the options to
 * the action asked for. The only place (besides worker threads handing errors back) that
 * prints an error. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "common/strv.h"
#include "executor/cli.h"
#include "executor/options.h"
#include "executor/plan_print.h"
#include "executor/run_build.h"
#include "executor/warmer.h"

static int fail(const struct lerr *err)
{
        fprintf(stderr, "error: %s\n", lerr_message(err));
        return lerr_exit_status(err);
}

/* Output that did not reach stdout (a full disk, a closed pipe) is an error, not a success. */
static int flush_stdout(struct lerr **err)
{
        if (fflush(stdout) != 0 || ferror(stdout))
                return lerr_errno(err, errno ? errno : EIO, "write to standard output");
        return 0;
}

/* The flags were checked by cli_parse(), so these parse. */
static void setup_logging(const struct options *o)
{
        enum log_level level = LOG_INFO;
        enum log_format format = LOG_FORMAT_COLOR;

        (void) log_level_parse(o->verbosity, &level);
        (void) log_format_parse(o->log_format, &format);
        log_setup(level, format, o->log_timestamp);
}

/* Returns < 0 with err set, or the exit status. */
static int run(struct options *o, const struct cli_result *res, struct lerr **err)
{
        switch (res->action) {
        case CLI_ACTION_HELP:
                cli_print_help(stdout);
                return flush_stdout(err);
        case CLI_ACTION_VERSION:
                cli_print_version(stdout);
                return flush_stdout(err);
        case CLI_ACTION_COMPLETION: {
                int r = cli_completion(res->completion_argc, res->completion_argv, stdout, err);
                if (r < 0)
                        return r;
                return flush_stdout(err);
        }
        case CLI_ACTION_PRINT_PLAN: {
                int r = plan_print(o, stdout, err);
                if (r < 0)
                        return r;
                return flush_stdout(err);
        }
        case CLI_ACTION_BUILD:
                return run_build(o, err);
        }
        return lerr_set(err, EINVAL, "unknown action %d", (int) res->action);
}

int main(int argc, char **argv)
{
        _cleanup_(options_done) struct options o;
        _cleanup_(cli_result_done) struct cli_result res = {0};
        _cleanup_(lerr_freep) struct lerr *err = NULL;

        /* before any return: the cleanup of o runs on every path */
        options_init(&o);
        /* Kaniko's warmer is a program of its own; lading's is also this subcommand */
        if (argc > 1 && streq(argv[1], "warm"))
                return warmer_main(argc - 1, argv + 1);
        if (cli_parse(argc, argv, &o, &res, &err) < 0)
                return fail(err);
        setup_logging(&o);
        strv_foreach (w, res.warnings)
                log_warn("%s", w);
        int r = run(&o, &res, &err);
        if (r < 0)
                return fail(err);
        return r;
}
