/* SPDX-License-Identifier: Apache-2.0 */
/* Docker's variable expansion of Dockerfile words (BuildKit's shell lexer), usable at parse,
 * plan and build time: the caller supplies the variables through a lookup, so the build can
 * pass the base image's ENV plus the stage's ARGs once the base image is known.
 *
 * Forms: $v ${v} ${v:-w} ${v-w} ${v:+w} ${v+w} ${v:?msg} ${v?msg} ${v#pat} ${v##pat}
 * ${v%pat} ${v%%pat} ${v/pat/repl} ${v//pat/repl} (pat: * and ? wildcards, \ escapes).
 * Outside quotes the escape token (\ or the `# escape=` one) escapes the next character and
 * is dropped; '...' is literal; "..." expands $ and lets the escape token escape " $ and
 * itself. $1, $@, $* ... (positional and special parameters) are never set. A word in the
 * w/msg/pat/repl part is expanded recursively.
 *
 * Which instruction expands which part is decided by instructions.c, not here.
 *
 * Limits: results over EXPAND_MAX_BYTES fail with -E2BIG; ${ nested deeper than
 * EXPAND_MAX_DEPTH fail with -EINVAL; a pattern match whose cost (pattern size x value size)
 * is over EXPAND_MAX_MATCH_COST fails with -E2BIG. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct lerr;

#define EXPAND_MAX_BYTES      (16u << 20)
#define EXPAND_MAX_DEPTH      64
#define EXPAND_MAX_MATCH_COST (1u << 28)

/* The variables in force. lookup returns the value of the NUL-terminated name, or NULL when the
 * variable is unset; the value must stay valid until the expansion call returns. */
struct expand_env {
        const char *(*lookup)(void *userdata, const char *name);
        void *userdata;
};

enum expand_flags {
        /* Leave references to unset variables as written ("$X", "${X:-w}"): at plan time a
         * variable the Dockerfile does not define may still come from the base image. */
        EXPAND_KEEP_UNSET = 1u << 0,
        /* Keep quote characters in the result (used to find heredoc words). */
        EXPAND_RAW_QUOTES = 1u << 1,
        /* Keep escape characters in the result. */
        EXPAND_RAW_ESCAPES = 1u << 2,
        /* Quotes are ordinary characters (bodies of COPY/ADD heredocs). */
        EXPAND_NO_QUOTES = 1u << 3,
};

/* Expands one word (BuildKit's ProcessWord): white space is kept. escape is '\\' or '`'.
 * env may be NULL (no variable is set). On success *ret is a new string. Errors (-EINVAL)
 * read "expand '<word>': <what is wrong>". */
int expand_word(const char *word, char escape, unsigned flags, const struct expand_env *env,
                char **ret, struct lerr **err);
/* Expands and splits into words at unquoted white space, including white space that
 * expansion produced (BuildKit's ProcessWords; EXPOSE uses it). Empty words are dropped.
 * *ret is a new NULL-terminated vector (possibly empty). */
int expand_words(const char *word, char escape, unsigned flags, const struct expand_env *env,
                 char ***ret, struct lerr **err);

/* An expand_env over a "KEY=VALUE" vector (later entries win). The vector is borrowed. */
struct expand_strv_env {
        struct expand_env env;
        char *const *kv;
};
void expand_strv_env_init(struct expand_strv_env *e, char *const *kv);
