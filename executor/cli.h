/* SPDX-License-Identifier: Apache-2.0 */
/* The executor's command line: Kaniko's flags (same names, short forms, defaults and value
 * syntax as cobra/pflag give them), lading's own flags, the environment variables Kaniko reads,
 * and Kaniko's checks across flags. The result is a filled struct options and what to do. */
#pragma once

#include <stdio.h>
#include "common/macros.h"

struct lerr;
struct options;

enum cli_action {
        CLI_ACTION_BUILD,      /* build (and push) the image */
        CLI_ACTION_PRINT_PLAN, /* --print-plan: print the plan as JSON, build nothing */
        CLI_ACTION_HELP,       /* --help, -h or the 'help' command */
        CLI_ACTION_VERSION,    /* --version or the 'version' command */
        CLI_ACTION_COMPLETION, /* the 'completion' command */
};

struct cli_result {
        enum cli_action action;
        /* Notes for the user (deprecated flag names) to log once logging is set up. Owned. */
        char **warnings;
        /* CLI_ACTION_COMPLETION: the arguments after 'completion' (in argv, not owned) */
        int completion_argc;
        char *const *completion_argv;
};

/* Parses argv[1..argc-1] into o, which must come from options_init(), then applies
 * KANIKO_NO_PUSH, KANIKO_REGISTRY_MIRROR and KANIKO_REGISTRY_MAP and checks the options as
 * Kaniko does (--destination unless --no-push, ...). For the help and version actions nothing
 * is checked beyond the flag syntax.
 *
 * A flag whose behaviour is not built yet is an error naming it when it is given with a value
 * other than its default (with --print-plan, only the flags that change the plan count).
 * Returns 0 and fills *ret (which the caller frees with cli_result_done()), or a negative errno
 * (EINVAL for every usage error, ENOSYS for a flag not built yet) with a one-line *err. o may
 * be partly filled on failure; options_done() frees it either way. */
int cli_parse(int argc, char *const *argv, struct options *o, struct cli_result *ret,
              struct lerr **err) WUR;
void cli_result_done(struct cli_result *r);

/* --help: the flags by group, with their defaults. */
void cli_print_help(FILE *out);
/* --version: "lading executor VERSION (COMMIT)". */
void cli_print_version(FILE *out);
/* The 'completion' command with the arguments after it ("bash", "--no-descriptions", ...):
 * prints the script for that shell, or the command's help. Errors are usage errors. */
int cli_completion(int argc, char *const *argv, FILE *out, struct lerr **err) WUR;
