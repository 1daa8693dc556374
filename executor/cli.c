/* SPDX-License-Identifier: Apache-2.0 */
/* The command line as cobra/pflag read Kaniko's: long and short flags, values after '=' or in
 * the next argument, bare booleans, '--'; then Kaniko's environment variables and its checks
 * across flags. The flags themselves are in cli-flags.c; the help is in cli-help.c. */
#include "executor/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "executor/cli-internal.h"
#include "executor/options.h"
#include "common/alloc.h"
#include "common/err.h"
#include "common/parse.h"
#include "common/strv.h"

#define NOT_BUILT "is accepted for Kaniko compatibility but not implemented yet"
/* Kaniko's constants.DefaultKanikoPath, whatever KANIKO_DIR says */
#define DEFAULT_KANIKO_DIR "/kaniko"

struct parser {
        struct options *o;
        int argc;
        char *const *argv;
        int next; /* index of the next argument */
        /* per flag, by index in cli_flags: the flag the user typed (an alias, or the flag
         * itself), or the environment variable that set it */
        const struct cli_flag **given;
        const char **given_env;
        /* the previous argument was a boolean flag without "=value" */
        const struct cli_flag *bare_bool;
        bool help, version, help_command;
        /* index in argv of the first argument after 'completion'; 0: not that command */
        int completion_at;
        bool help_completion; /* "help completion" */
        char **warnings;
};

static size_t flag_index(const struct cli_flag *f)
{
        return (size_t) (f - cli_flags);
}

static int apply(struct parser *p, const struct cli_flag *f, const char *value, struct lerr **err)
{
        const struct cli_flag *c = cli_flag_canonical(f);
        int r;

        if (f->type == CLI_ACTION) {
                bool on = true;
                if (value && parse_bool(value, &on) < 0)
                        return lerr_set(err, EINVAL,
                                        "invalid value '%s' for --%s: expected true or false",
                                        value, f->name);
                if (f->action == CLI_ACTION_HELP)
                        p->help = on;
                else
                        p->version = on;
                return 0;
        }
        r = cli_flag_set(f, p->o, value, err);
        if (r < 0)
                return r;
        p->given[flag_index(c)] = f;
        if (f->alias_of) {
                _cleanup_free_ char *w =
                        xasprintf("--%s is deprecated, use --%s", f->name, f->alias_of);
                if (!strv_contains(p->warnings, w))
                        strv_consume(&p->warnings, TAKE_PTR(w));
        }
        return 0;
}

static bool takes_value(const struct cli_flag *f)
{
        return f->type != CLI_BOOL && f->type != CLI_ACTION;
}

static const char *next_value(struct parser *p)
{
        return p->next < p->argc ? p->argv[p->next++] : NULL;
}

/* The typed name only: the value of a mistyped flag may be a password. */
static int unknown_flag(const char *dashes, const char *name, struct lerr **err)
{
        const struct cli_flag *s = cli_suggest(name);

        if (s)
                return lerr_set(err, EINVAL, "unknown flag '%s%s' (did you mean --%s?)", dashes,
                                name, s->name);
        return lerr_set(err, EINVAL, "unknown flag '%s%s'", dashes, name);
}

/* --name, --name=value, --name value */
static int parse_long(struct parser *p, const char *arg, struct lerr **err)
{
        const char *name = arg + 2, *eq = strchr(name, '=');
        _cleanup_free_ char *key = xstrndup(name, eq ? (size_t) (eq - name) : strlen(name));
        const struct cli_flag *f;
        const char *value = eq ? eq + 1 : NULL;

        if (!*key || *key == '-')
                return lerr_set(err, EINVAL, "bad flag syntax '--%s%s'", key, *key ? "" : "=");
        f = cli_flag_by_name(key);
        if (!f)
                return unknown_flag("--", key, err);
        if (takes_value(f) && !value) {
                value = next_value(p);
                if (!value)
                        return lerr_set(err, EINVAL, "flag --%s needs a value", f->name);
        }
        if (apply(p, f, value, err) < 0)
                return -EINVAL;
        if (!takes_value(f) && !eq)
                p->bare_bool = f;
        return 0;
}

/* -f value, -fvalue, -f=value, and booleans grouped as pflag allows (-hf Dockerfile) */
static int parse_short(struct parser *p, const char *arg, struct lerr **err)
{
        const char *s = arg + 1;
        size_t n = strcspn(s, "=");

        /* Go's flag package takes -name; pflag would read "-dockerfile" as -d ockerfile and
         * push to an image named "ockerfile" */
        if (n > 1) {
                _cleanup_free_ char *key = xstrndup(s, n);
                const struct cli_flag *f = cli_flag_by_name(key);
                if (f)
                        return lerr_set(err, EINVAL, "unknown flag '-%s' (did you mean --%s?)", key,
                                        f->name);
        }
        while (*s) {
                char c = *s++;
                const struct cli_flag *f = cli_flag_by_short(c);
                const char *value = NULL;

                if (!f)
                        return lerr_set(err, EINVAL, "unknown flag '-%c'", c);
                if (!takes_value(f)) {
                        if (*s == '=')
                                return apply(p, f, s + 1, err);
                        if (apply(p, f, NULL, err) < 0)
                                return -EINVAL;
                        if (!*s)
                                p->bare_bool = f;
                        continue;
                }
                if (*s == '=')
                        s++;
                value = *s ? s : next_value(p);
                if (!value)
                        return lerr_set(err, EINVAL, "flag -%c needs a value", c);
                return apply(p, f, value, err);
        }
        return 0;
}

static int positional(struct parser *p, const char *arg, bool after_dashes, bool first,
                      struct lerr **err)
{
        static const char *const commands[] = {"version", "help", "completion"};
        bool b;

        if (!after_dashes && first) {
                if (streq(arg, "version")) {
                        p->version = true;
                        return 0;
                }
                if (streq(arg, "help")) {
                        p->help = p->help_command = true;
                        return 0;
                }
                if (streq(arg, "completion")) {
                        /* the rest belongs to the command (cli-completion.c) */
                        p->completion_at = p->next;
                        p->next = p->argc;
                        return 0;
                }
        }
        /* cobra's "help [command]" */
        if (!after_dashes && p->help_command && (streq(arg, "version") || streq(arg, "help")))
                return 0;
        if (!after_dashes && p->help_command && streq(arg, "completion")) {
                p->help_completion = true;
                return 0;
        }
        if (p->bare_bool && parse_bool(arg, &b) == 0)
                return lerr_set(err, EINVAL,
                                "unexpected argument '%s' (a boolean flag takes its value after "
                                "'=': --%s=%s)",
                                arg, p->bare_bool->name, arg);
        for (size_t i = 0; first && !after_dashes && i < ARRAY_SIZE(commands); i++)
                if (cli_edit_distance(arg, commands[i]) <= 2)
                        return lerr_set(err, EINVAL, "unexpected argument '%s' (did you mean %s?)",
                                        arg, commands[i]);
        return lerr_set(err, EINVAL, "unexpected argument '%s'", arg);
}

static int parse_args(struct parser *p, struct lerr **err)
{
        bool after_dashes = false, first = true;

        while (p->next < p->argc) {
                const char *arg = p->argv[p->next++];
                const struct cli_flag *bare_bool = p->bare_bool;
                int r;

                p->bare_bool = NULL;
                if (!after_dashes && streq(arg, "--")) {
                        after_dashes = true;
                        continue;
                }
                if (!after_dashes && arg[0] == '-' && arg[1] == '-')
                        r = parse_long(p, arg, err);
                else if (!after_dashes && arg[0] == '-' && arg[1])
                        r = parse_short(p, arg, err);
                else {
                        p->bare_bool = bare_bool;
                        r = positional(p, arg, after_dashes, first, err);
                        p->bare_bool = NULL;
                        first = false;
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

static void mark_env(struct parser *p, const char *flag, const char *env)
{
        size_t i = flag_index(cli_flag_by_name(flag));

        if (!p->given[i])
                p->given_env[i] = env;
}

/* Kaniko's validateFlags: the variables add to (or, for KANIKO_NO_PUSH, override) the flags. An
 * empty variable counts as unset. */
static int apply_env(struct parser *p, struct lerr **err)
{
        struct options *o = p->o;
        const char *v;

        /* options_init() took it as the default of --kaniko-dir; Kaniko moves its directory
         * there just as for the flag */
        v = getenv("KANIKO_DIR");
        if (v && *v && !streq(v, DEFAULT_KANIKO_DIR))
                mark_env(p, "kaniko-dir", "KANIKO_DIR");
        v = getenv("KANIKO_REGISTRY_MIRROR");
        if (v && *v) {
                strv_push(&o->registry_mirrors, v);
                mark_env(p, "registry-mirror", "KANIKO_REGISTRY_MIRROR");
        }
        v = getenv("KANIKO_NO_PUSH");
        if (v && *v) {
                /* Kaniko builds this error and drops it, so a typo silently pushes */
                if (parse_bool(v, &o->no_push) < 0)
                        return lerr_set(err, EINVAL,
                                        "invalid value '%s' in KANIKO_NO_PUSH: expected true or "
                                        "false",
                                        v);
                mark_env(p, "no-push", "KANIKO_NO_PUSH");
        }
        v = getenv("KANIKO_REGISTRY_MAP");
        if (v && *v) {
                if (cli_add_registry_map(o, v, err) < 0)
                        return lerr_wrap(err, "KANIKO_REGISTRY_MAP");
                mark_env(p, "registry-map", "KANIKO_REGISTRY_MAP");
        }
        strv_foreach (m, o->registry_mirrors)
                strv_consume(&o->registry_maps, xasprintf("index.docker.io=%s", m));
        return 0;
}

/* Kaniko turns a bare KEY into KEY=$KEY, or KEY= when unset. Docker leaves an unset one out, so
 * the ARG keeps its default; that is what lading does. */
static void resolve_build_args(struct options *o)
{
        char **resolved = NULL;

        strv_foreach (a, o->build_args) {
                const char *v;
                if (strchr(a, '='))
                        strv_push(&resolved, a);
                else if ((v = getenv(a)))
                        strv_consume(&resolved, xasprintf("%s=%s", a, v));
        }
        strv_free(o->build_args);
        o->build_args = resolved;
}

static bool flag_given(const struct parser *p, const char *name)
{
        for (size_t i = 0; i < cli_flags_count; i++)
                if (streq(cli_flags[i].name, name))
                        return p->given[i] || p->given_env[i];
        return false;
}

/* Kaniko's legacy --bucket (root.go, resolveSourceContext): a value without "://" is a GCS
 * bucket, gs://VALUE, whose object context.tar.gz is the context; it replaces a remote
 * --context. Kaniko then keeps a local --context, which it always has by default; lading
 * lets --bucket win over the default and says so when a local --context given by the user
 * wins. */
static void apply_bucket(struct parser *p)
{
        struct options *o = p->o;
        if (!o->bucket || !*o->bucket)
                return;
        if (o->context && *o->context && !strstr(o->context, "://") && flag_given(p, "context")) {
                char *w = xasprintf("--bucket '%s' is ignored: --context names the local "
                                    "directory '%s'",
                                    o->bucket, o->context);
                if (!strv_contains(p->warnings, w))
                        strv_consume(&p->warnings, w);
                else
                        free(w);
                return;
        }
        free(o->context);
        o->context =
                strstr(o->bucket, "://") ? xstrdup(o->bucket) : xasprintf("gs://%s", o->bucket);
}

static int check_context(struct options *o, struct lerr **err)
{
        static const char *const built[] = {"tar://", "https://", "http://",
                                            "s3://",  "gs://",    "git://"};
        const char *scheme_end, *rest;

        if (!o->context)
                return lerr_set(err, EINVAL, "--context must not be empty");
        if ((rest = startswith(o->context, "dir://"))) {
                if (!*rest)
                        return lerr_set(err, EINVAL, "--context 'dir://' names no directory");
                char *dir = xstrdup(rest);
                free(o->context);
                o->context = dir;
        }
        scheme_end = strstr(o->context, "://");
        if (scheme_end) {
                _cleanup_free_ char *scheme =
                        xstrndup(o->context, (size_t) (scheme_end - o->context) + 3);
                for (size_t i = 0; i < ARRAY_SIZE(built); i++)
                        if (streq(scheme, built[i]))
                                return 0;
                return lerr_set(err, EINVAL,
                                "invalid value '%s' for --context: unknown scheme %s (use a "
                                "directory, dir://, tar://, gs://, s3://, git:// or https://)",
                                o->context, scheme);
        }
        /* Kaniko applies --context-sub-path to remote contexts only; for a local one a user
         * means the same sub-directory */
        if (o->context_sub_path) {
                const char *sub = o->context_sub_path;
                size_t n = strlen(o->context);
                while (*sub == '/')
                        sub++;
                char *joined = xasprintf("%s%s%s", o->context,
                                         n && o->context[n - 1] == '/' ? "" : "/", sub);
                free(o->context);
                o->context = joined;
                free(o->context_sub_path);
                o->context_sub_path = NULL;
        }
        return 0;
}

static int check_dockerfile(const struct options *o, struct lerr **err)
{
        if (!o->dockerfile)
                return lerr_set(err, EINVAL, "--dockerfile must not be empty");
        return 0;
}

static int check_compression_level(const struct options *o, struct lerr **err)
{
        int max = o->compression == COMPRESSION_ZSTD ? 22 : 9;

        if (o->compression_level > max)
                return lerr_set(err, EINVAL,
                                "invalid value '%d' for --compression-level: %s takes 1 to %d, "
                                "or -1 for its default",
                                o->compression_level,
                                o->compression == COMPRESSION_ZSTD ? "zstd" : "gzip", max);
        return 0;
}

/* Kaniko's checks, in Kaniko's order (cmd/executor/cmd/root.go, PersistentPreRunE). */
static int check_options(struct parser *p, struct lerr **err)
{
        struct options *o = p->o;
        int r;

        if (apply_env(p, err) < 0)
                return -EINVAL;
        if (!o->kaniko_dir)
                return lerr_set(err, EINVAL, "--kaniko-dir must not be empty");
        resolve_build_args(o);
        if (!o->no_push && !o->print_plan && !o->destinations)
                return lerr_set(err, EINVAL,
                                "--destination is required (or use --no-push to build without "
                                "pushing)");
        if (o->cache && o->no_push && !o->cache_repo)
                return lerr_set(err, EINVAL, "--cache with --no-push needs --cache-repo");
        apply_bucket(p);
        r = check_context(o, err);
        if (r < 0)
                return r;
        r = check_dockerfile(o, err);
        if (r < 0)
                return r;
        if (!o->destinations && o->image_name_with_digest_file)
                return lerr_set(err, EINVAL, "--image-name-with-digest-file needs --destination");
        if (!o->destinations && o->image_name_tag_with_digest_file)
                return lerr_set(err, EINVAL,
                                "--image-name-tag-with-digest-file needs --destination");
        return check_compression_level(o, err);
}

/* A flag not built yet fails when it would change something. Given with its default value
 * (--cache=false, --cache-dir=/cache) it changes nothing, so it passes. */
static int check_built(struct parser *p, struct lerr **err)
{
        _cleanup_(options_done) struct options defaults;

        options_init(&defaults);
        free(defaults.kaniko_dir);
        defaults.kaniko_dir = xstrdup(DEFAULT_KANIKO_DIR);
        for (size_t i = 0; i < cli_flags_count; i++) {
                const struct cli_flag *f = &cli_flags[i];
                if (!p->given[i] && !p->given_env[i])
                        continue;
                if ((f->attrs & CLI_BUILT) || (p->o->print_plan && !(f->attrs & CLI_PLAN)))
                        continue;
                if (!cli_flag_differs(f, p->o, &defaults))
                        continue;
                if (p->given_env[i])
                        return lerr_set(err, ENOSYS, "%s (--%s) " NOT_BUILT, p->given_env[i],
                                        f->name);
                if (f->group == CLI_GROUP_LADING)
                        return lerr_set(err, ENOSYS, "--%s is not implemented yet", f->name);
                return lerr_set(err, ENOSYS, "--%s " NOT_BUILT, p->given[i]->name);
        }
        return 0;
}

static void parser_init(struct parser *p, int argc, char *const *argv, struct options *o)
{
        *p = (struct parser){
                .o = o,
                .argc = argc,
                .argv = argv,
                .next = 1,
                .given = xcalloc(cli_flags_count, sizeof(*p->given)),
                .given_env = xcalloc(cli_flags_count, sizeof(*p->given_env)),
        };
}

static void parser_done(struct parser *p)
{
        free(p->given);
        free(p->given_env);
        strv_free(p->warnings);
}

int cli_parse_flags(int argc, char *const *argv, struct options *o, struct lerr **err)
{
        _cleanup_(parser_done) struct parser p;

        parser_init(&p, argc, argv, o);
        return parse_args(&p, err);
}

int cli_parse(int argc, char *const *argv, struct options *o, struct cli_result *ret,
              struct lerr **err)
{
        _cleanup_(parser_done) struct parser p;
        int r;

        parser_init(&p, argc, argv, o);
        r = parse_args(&p, err);
        if (r >= 0 && !p.help && !p.version && !p.completion_at) {
                r = check_options(&p, err);
                if (r >= 0)
                        r = check_built(&p, err);
        }
        if (r < 0)
                return r;
        static char *const completion_help[] = {"--help", NULL};

        if (p.help && p.help_completion) {
                p.help = false;
                p.completion_at = argc;
        }
        *ret = (struct cli_result){
                .action = p.help            ? CLI_ACTION_HELP
                          : p.version       ? CLI_ACTION_VERSION
                          : p.completion_at ? CLI_ACTION_COMPLETION
                          : o->print_plan   ? CLI_ACTION_PRINT_PLAN
                                            : CLI_ACTION_BUILD,
                .warnings = TAKE_PTR(p.warnings),
        };
        if (p.help_completion) {
                ret->completion_argc = 1;
                ret->completion_argv = completion_help;
        } else if (p.completion_at) {
                ret->completion_argc = argc - p.completion_at;
                ret->completion_argv = argv + p.completion_at;
        }
        return 0;
}

void cli_result_done(struct cli_result *r)
{
        strv_free(r->warnings);
        r->warnings = NULL;
}
