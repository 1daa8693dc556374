/* SPDX-License-Identifier: Apache-2.0 */
/* The Dockerfile parser: text to stages of typed instructions, as current Docker/BuildKit reads
 * it. Parser directives (# syntax=, # escape=, # check=) before anything else, comments, line
 * continuations with the escape token (also across comment and blank lines), JSON (exec) vs
 * shell form, instruction flags (--name=value), heredocs (<<EOF, <<-EOF, quoted delimiters,
 * several per line, fd prefixes) on RUN, COPY, ADD and ONBUILD of those.
 *
 * Nothing is expanded here: arguments are kept raw (see instructions.h for expansion, vars.h
 * for ARG/ENV scoping, planner.h for stages and --target).
 *
 * Errors (-EINVAL, -E2BIG for limits) read "<file>:<line>: <what is wrong> in '<the
 * instruction>'" ("<file>:<first>-<last>:" when it spans lines; "<file>: ..." when no line
 * applies). Examples:
 *   Dockerfile:3: unknown instruction 'RUNN' (did you mean 'RUN'?) in 'RUNN make'
 *   Dockerfile:5: unterminated heredoc 'EOF' in 'RUN <<EOF'
 *
 * Limits: DOCKERFILE_MAX_BYTES of input and no NUL byte, checked before anything is allocated;
 * at most DOCKERFILE_MAX_STAGES stages (stage references are resolved by name, a cost that grows
 * with the square of the stage count). */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include "common/macros.h"
#include "executor/instructions.h"

struct lerr;

#define DOCKERFILE_MAX_BYTES  (4u << 20)
#define DOCKERFILE_MAX_STAGES 4096
/* Longest instruction text quoted back in an error message. */
#define DOCKERFILE_ERROR_QUOTE_MAX 120

struct df_stage {
        unsigned index;
        const char *name;       /* FROM ... AS name (lower case), NULL when unnamed; borrowed */
        struct df_inst *from;   /* the FROM instruction; borrowed from dockerfile.insts */
        struct df_inst **insts; /* the instructions after FROM, up to the next FROM; the array
                                 * is owned by the stage, the instructions are borrowed */
        size_t n_insts;
};

struct df_warning {
        unsigned line; /* 0 when not about one line */
        char *message;
};

/* Read-only once parsed; free with dockerfile_free(). */
struct dockerfile {
        char *filename;
        char escape;            /* '\\' or '`' (# escape=) */
        char *syntax;           /* # syntax= value, or NULL */
        char *check;            /* # check= value, or NULL */
        struct df_inst **insts; /* every instruction in file order (owned) */
        size_t n_insts;
        struct df_inst **meta_args; /* the ARGs before the first FROM (borrowed) */
        size_t n_meta_args;
        struct df_stage *stages; /* at least one */
        size_t n_stages;
        struct df_warning *warnings; /* things Docker warns about (empty continuation lines,
                                      * MAINTAINER, duplicate stage names ...) */
        size_t n_warnings;
};

/* Parses len bytes of data (not NUL-terminated; may hold a UTF-8 BOM). filename names the file
 * in error messages. On success *ret is the parsed file. Errors: -E2BIG (over
 * DOCKERFILE_MAX_BYTES), -EINVAL (with location, see above). A file with no instruction, no
 * FROM, or an instruction other than ARG before the first FROM is an error. */
int dockerfile_parse(const char *data, size_t len, const char *filename, struct dockerfile **ret,
                     struct lerr **err);
void dockerfile_free(struct dockerfile *df);
DEFINE_FREEP(struct dockerfile, dockerfile_free)

/* Parses one instruction (with its heredoc bodies, if any) as a base image's ONBUILD trigger is
 * stored in its config, e.g. "COPY . /app" or "RUN <<EOF\necho hi\nEOF". The default escape
 * token applies (directives are not looked for). ONBUILD, FROM and MAINTAINER are refused, as
 * is anything that is not exactly one instruction. Errors name the trigger:
 * "ONBUILD trigger 'RUNN x': unknown instruction 'RUNN' (did you mean 'RUN'?)". */
int dockerfile_parse_trigger(const char *text, struct df_inst **ret, struct lerr **err);

/* Sets *err to "<filename>:<lines>: <message> in '<instruction>'" for inst, with errnum, and
 * returns -errnum: for errors the planner or the build find in an instruction. */
int dockerfile_inst_error(const char *filename, const struct df_inst *inst, struct lerr **err,
                          int errnum, const char *fmt, ...) PRINTF(5, 6);
/* Rewrites the message already in *err the same way (keeping its code); returns the code. */
int dockerfile_inst_wrap(const char *filename, const struct df_inst *inst, struct lerr **err);
