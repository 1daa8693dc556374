/* SPDX-License-Identifier: Apache-2.0 */
/* The command line: every flag of the table in every syntax pflag accepts, the defaults, the
 * environment variables, Kaniko's checks across flags, the flags not built yet, the messages
 * of each usage error and the suggestions for mistyped flags. */
#include "executor/cli.h"

#include <stdarg.h>
#include <stdlib.h>

#include "version.h"
#include "common/alloc.h"
#include "common/err.h"
#include "common/strv.h"
#include "executor/cli-internal.h"
#include "executor/options.h"
#include "tap.h"

#define NOT_BUILT " is accepted for Kaniko compatibility but not implemented yet"

static struct options o;
static struct cli_result res;
static struct lerr *err;
static bool have_options;

static void reset(void)
{
        if (have_options)
                options_done(&o);
        cli_result_done(&res);
        lerr_free(err);
        err = NULL;
        options_init(&o);
        have_options = true;
}

static int count_args(const char *const *args)
{
        int n = 0;
        while (args[n])
                n++;
        return n;
}

/* cli_parse() on "executor ARGS..." into the globals o, res and err */
static int parse_all(const char *const *args)
{
        reset();
        return cli_parse(count_args(args), (char *const *) args, &o, &res, &err);
}

/* cli_parse_flags(): syntax and values only */
static int parse_flags(const char *const *args)
{
        reset();
        return cli_parse_flags(count_args(args), (char *const *) args, &o, &err);
}

#define PARSE(...) parse_all((const char *const[]){"executor", __VA_ARGS__, NULL})
#define FLAGS(...) parse_flags((const char *const[]){"executor", __VA_ARGS__, NULL})

static const char *msg(void)
{
        return err ? lerr_message(err) : "(no error)";
}

/* The flag's field in o as text: lists joined with '|', NULL as "(null)". */
static char *render(const struct cli_flag *f, const struct options *opts)
{
        const char *p = (const char *) opts + f->offset;
        switch (f->type) {
        case CLI_BOOL:
                return xstrdup(*(const bool *) p ? "true" : "false");
        case CLI_STRING:
                return xstrdup(*(char *const *) p ? *(char *const *) p : "(null)");
        case CLI_INT:
                return xasprintf("%d", *(const int *) p);
        case CLI_DURATION:
                return xasprintf("%lld", (long long) *(const int64_t *) p);
        case CLI_ENUM:
                return xstrdup(f->choices[*(const int *) p]);
        case CLI_LIST:
                return strv_join(*(char **const *) p, "|");
        case CLI_ACTION:
                return xstrdup("(action)");
        }
        return xstrdup("(unknown type)");
}

static char *render_name(const char *name)
{
        const struct cli_flag *f = cli_flag_by_name(name);
        return f ? render(f, &o) : xstrdup("(no such flag)");
}

#define is_field(name, want, ...)                                                                  \
        ({                                                                                         \
                _cleanup_free_ char *_v = render_name(name);                                       \
                is_str(_v, want, __VA_ARGS__);                                                     \
        })

/* One value per flag: given as `value`, the field renders as `want`; with no flag at all it
 * renders as `def`. A NULL value marks a boolean. */
struct sample {
        const char *name, *value, *want, *def;
};

static const struct sample samples[] = {
        {"dockerfile", "sub/Dockerfile.dev", "sub/Dockerfile.dev", "Dockerfile"},
        {"context", "/src/app", "/src/app", "/workspace/"},
        {"context-sub-path", "svc/api", "svc/api", "(null)"},
        {"git", "branch=main,single-branch=true", "branch=main,single-branch=true", "(null)"},
        {"build-arg", "VERSION=1.2", "VERSION=1.2", ""},
        {"target", "build", "build", "(null)"},
        {"custom-platform", "linux/arm64/v8", "linux/arm64/v8", "(null)"},
        {"skip-unused-stages", NULL, NULL, "false"},
        {"destination", "reg.example/app:1", "reg.example/app:1", ""},
        {"no-push", NULL, NULL, "false"},
        {"tar-path", "/out/image.tar", "/out/image.tar", "(null)"},
        {"oci-layout-path", "/out/oci", "/out/oci", "(null)"},
        {"digest-file", "/out/digest", "/out/digest", "(null)"},
        {"image-name-with-digest-file", "/out/name", "/out/name", "(null)"},
        {"image-name-tag-with-digest-file", "/out/tag", "/out/tag", "(null)"},
        {"label", "org.opencontainers.image.title=app", "org.opencontainers.image.title=app", ""},
        {"push-retry", "3", "3", "0"},
        {"push-ignore-immutable-tag-errors", NULL, NULL, "false"},
        {"skip-push-permission-check", NULL, NULL, "false"},
        {"snapshot-mode", "redo", "redo", "full"},
        {"single-snapshot", NULL, NULL, "false"},
        {"reproducible", NULL, NULL, "false"},
        {"use-new-run", NULL, NULL, "false"},
        {"force-build-metadata", NULL, NULL, "false"},
        {"compression", "zstd", "zstd", "gzip"},
        {"compression-level", "9", "9", "-1"},
        {"ignore-path", "/var/cache", "/var/cache", ""},
        {"ignore-var-run", NULL, NULL, "true"},
        {"image-fs-extract-retry", "2", "2", "0"},
        {"cleanup", NULL, NULL, "false"},
        {"cache", NULL, NULL, "false"},
        {"cache-repo", "reg.example/cache", "reg.example/cache", "(null)"},
        {"cache-dir", "/var/cache/kaniko", "/var/cache/kaniko", "/cache"},
        {"cache-ttl", "1h30m", "5400000000000", "1209600000000000"},
        {"cache-copy-layers", NULL, NULL, "false"},
        {"cache-run-layers", NULL, NULL, "true"},
        {"compressed-caching", NULL, NULL, "true"},
        {"no-push-cache", NULL, NULL, "false"},
        {"insecure", NULL, NULL, "false"},
        {"skip-tls-verify", NULL, NULL, "false"},
        {"insecure-pull", NULL, NULL, "false"},
        {"skip-tls-verify-pull", NULL, NULL, "false"},
        {"insecure-registry", "reg.local:5000", "reg.local:5000", ""},
        {"skip-tls-verify-registry", "reg.local", "reg.local", ""},
        {"registry-certificate", "reg.local=/certs/ca.crt", "reg.local=/certs/ca.crt", ""},
        {"registry-client-cert", "reg.local=/c/cert.pem,/c/key.pem",
         "reg.local=/c/cert.pem,/c/key.pem", ""},
        {"registry-mirror", "mirror.gcr.io", "mirror.gcr.io", ""},
        {"registry-map", "docker.io=harbor.local/hub;ghcr.io=harbor.local/ghcr",
         "docker.io=harbor.local/hub|ghcr.io=harbor.local/ghcr", ""},
        {"skip-default-registry-fallback", NULL, NULL, "false"},
        {"image-download-retry", "4", "4", "0"},
        {"azure-container-registry-config", "/etc/acr.json", "/etc/acr.json", "(null)"},
        {"kaniko-dir", "/tmp/kaniko", "/tmp/kaniko", "/kaniko"},
        {"force", NULL, NULL, "false"},
        {"verbosity", "DEBUG", "debug", "info"},
        {"log-format", "json", "json", "color"},
        {"log-timestamp", NULL, NULL, "false"},
        {"sandbox", "/tmp/root", "/tmp/root", "(null)"},
        {"print-plan", NULL, NULL, "false"},
        {"secret", "id=npm,src=/run/npmrc", "id=npm,src=/run/npmrc", ""},
        {"annotation", "org.example.team=build", "org.example.team=build", ""},
        {"snapshotMode", "time", "time", "full"},
        {"customPlatform", "linux/amd64", "linux/amd64", "(null)"},
        {"tarPath", "/out/old.tar", "/out/old.tar", "(null)"},
        {"whitelist-var-run", NULL, NULL, "true"},
        {"bucket", "my-bucket", "my-bucket", "(null)"},
};

static const struct sample *sample_of(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(samples); i++)
                if (streq(samples[i].name, name))
                        return &samples[i];
        return NULL;
}

static void test_every_flag_has_a_sample(void)
{
        size_t actions = 0;
        for (size_t i = 0; i < cli_flags_count; i++) {
                const struct cli_flag *f = &cli_flags[i];
                if (f->type == CLI_ACTION) {
                        actions++;
                        continue;
                }
                ok(sample_of(f->name) != NULL, "flag --%s has a test sample", f->name);
                ok(f->alias_of || f->help, "flag --%s has a help text", f->name);
        }
        for (size_t i = 0; i < ARRAY_SIZE(samples); i++)
                ok(cli_flag_by_name(samples[i].name) != NULL, "sample --%s is a flag",
                   samples[i].name);
        is_int(actions, 2, "two action flags: --help and --version");
}

static void test_defaults(void)
{
        unsetenv("KANIKO_DIR");
        is_int(FLAGS("--"), 0, "parse no flag");
        for (size_t i = 0; i < ARRAY_SIZE(samples); i++)
                is_field(samples[i].name, samples[i].def, "default of --%s", samples[i].name);
}

static void test_value_forms(const struct cli_flag *f, const struct sample *s)
{
        _cleanup_free_ char *eq = xasprintf("--%s=%s", f->name, s->value);
        _cleanup_free_ char *dash = xasprintf("--%s", f->name);

        is_int(FLAGS(eq), 0, "%s", eq);
        is_field(f->name, s->want, "%s sets the value", eq);
        is_int(FLAGS(dash, s->value), 0, "--%s %s", f->name, s->value);
        is_field(f->name, s->want, "--%s VALUE sets the value", f->name);
        is_int(FLAGS(dash), -EINVAL, "--%s without a value", f->name);
        _cleanup_free_ char *need = xasprintf("flag --%s needs a value", f->name);
        is_str(msg(), need, "--%s without a value: message", f->name);
        if (!f->short_name)
                return;

        char s_only[3] = {'-', f->short_name, '\0'};
        _cleanup_free_ char *joined = xasprintf("-%c%s", f->short_name, s->value);
        _cleanup_free_ char *s_eq = xasprintf("-%c=%s", f->short_name, s->value);
        is_int(FLAGS(s_only, s->value), 0, "-%c VALUE", f->short_name);
        is_field(f->name, s->want, "-%c VALUE sets --%s", f->short_name, f->name);
        is_int(FLAGS(joined), 0, "%s", joined);
        is_field(f->name, s->want, "%s sets --%s", joined, f->name);
        is_int(FLAGS(s_eq), 0, "%s", s_eq);
        is_field(f->name, s->want, "%s sets --%s", s_eq, f->name);
        is_int(FLAGS(s_only), -EINVAL, "-%c without a value", f->short_name);
        _cleanup_free_ char *need_s = xasprintf("flag -%c needs a value", f->short_name);
        is_str(msg(), need_s, "-%c without a value: message", f->short_name);
}

static void test_bool_forms(const struct cli_flag *f)
{
        static const char *const truths[] = {"1", "t", "T", "TRUE", "true", "True"};
        static const char *const lies[] = {"0", "f", "F", "FALSE", "false", "False"};
        _cleanup_free_ char *bare = xasprintf("--%s", f->name);

        is_int(FLAGS(bare), 0, "%s", bare);
        is_field(f->name, "true", "%s is true", bare);
        for (size_t i = 0; i < ARRAY_SIZE(truths); i++) {
                _cleanup_free_ char *t = xasprintf("--%s=%s", f->name, truths[i]);
                _cleanup_free_ char *l = xasprintf("--%s=%s", f->name, lies[i]);
                is_int(FLAGS(t), 0, "%s", t);
                is_field(f->name, "true", "%s is true", t);
                is_int(FLAGS(bare, l), 0, "%s %s", bare, l);
                is_field(f->name, "false", "%s after %s is false", l, bare);
        }
        _cleanup_free_ char *yes = xasprintf("--%s=yes", f->name);
        _cleanup_free_ char *why =
                xasprintf("invalid value 'yes' for --%s: expected true or false", f->name);
        is_int(FLAGS(yes), -EINVAL, "%s", yes);
        is_str(msg(), why, "%s: message", yes);
        /* a bare boolean never takes the next argument */
        is_int(FLAGS(bare, "false"), -EINVAL, "%s false", bare);
        _cleanup_free_ char *hint = xasprintf("unexpected argument 'false' (a boolean flag takes "
                                              "its value after '=': --%s=false)",
                                              f->name);
        is_str(msg(), hint, "%s false: message", bare);
        is_int(FLAGS(bare, "-f", "x"), 0, "%s does not eat the next flag", bare);
        is_field(f->name, "true", "%s before -f", bare);
        is_field("dockerfile", "x", "-f after %s", bare);
}

static void test_every_flag_every_form(void)
{
        for (size_t i = 0; i < cli_flags_count; i++) {
                const struct cli_flag *f = &cli_flags[i];
                const struct sample *s = sample_of(f->name);
                if (f->type == CLI_ACTION || !s)
                        continue;
                if (f->type == CLI_BOOL)
                        test_bool_forms(f);
                else
                        test_value_forms(f, s);
        }
}

/* With --no-push (or the extra flags a check needs), a built flag passes and a flag not built
 * yet fails naming itself; with --print-plan only flags that change the plan fail. */
static void test_built_states(void)
{
        for (size_t i = 0; i < cli_flags_count; i++) {
                const struct cli_flag *f = &cli_flags[i];
                const struct cli_flag *c = cli_flag_canonical(f);
                const struct sample *s = sample_of(f->name);
                if (f->type == CLI_ACTION || !s || streq(f->name, "print-plan"))
                        continue;
                /* booleans are tested with the value that is not their default */
                _cleanup_free_ char *arg =
                        s->value ? xasprintf("--%s=%s", f->name, s->value)
                                 : xasprintf("--%s=%s", f->name,
                                             streq(s->def, "true") ? "false" : "true");
                const char *need = streq(c->name, "image-name-with-digest-file") ||
                                                   streq(c->name, "image-name-tag-with-digest-file")
                                           ? "--destination=x"
                                   : streq(c->name, "cache") ? "--cache-repo=r"
                                                             : "--no-push";
                int r = PARSE("--no-push", need, arg);
                if (c->attrs & CLI_BUILT) {
                        is_int(r, 0, "%s is built", arg);
                        if (r < 0)
                                diag("%s", msg());
                        continue;
                }
                _cleanup_free_ char *want =
                        c->group == CLI_GROUP_LADING
                                ? xasprintf("--%s is not implemented yet", f->name)
                        : streq(need, "--destination=x") ? xstrdup("--destination" NOT_BUILT)
                                                         : xasprintf("--%s" NOT_BUILT, f->name);
                is_int(r, -ENOSYS, "%s is not built yet", arg);
                is_str(msg(), want, "%s: message", arg);

                r = PARSE("--print-plan", need, arg);
                if (c->attrs & CLI_PLAN) {
                        is_int(r, -ENOSYS, "%s with --print-plan fails", arg);
                } else {
                        is_int(r, 0, "%s with --print-plan changes no plan", arg);
                        is_int(res.action, CLI_ACTION_PRINT_PLAN, "%s: action", arg);
                }
        }
        is_int(PARSE("--no-push", "--cache=false", "--cache-dir=/cache", "--push-retry=0",
                     "--ignore-var-run", "--compression=gzip", "--snapshot-mode", "full",
                     "--cache-ttl=336h", "--cache-repo=", "--tar-path", ""),
               0, "flags not built yet, given their defaults");
        is_int(res.action, CLI_ACTION_BUILD, "action build");
}

static void test_repeatable(void)
{
        is_int(FLAGS("-d", "a", "--destination=b", "-dc", "--destination", "d", "-d=e"), 0,
               "five destinations");
        is_field("destination", "a|b|c|d|e", "destinations in order");
        is_int(FLAGS("--build-arg", "A=1", "--build-arg=B", "--build-arg", "C=x=y"), 0,
               "build args");
        is_field("build-arg", "A=1|B|C=x=y", "build args in order, as given");
        is_int(FLAGS("--label", "a=1", "--label=b=", "--ignore-path=/x", "--ignore-path", "/y"), 0,
               "labels and ignore paths");
        is_field("label", "a=1|b=", "labels");
        is_field("ignore-path", "/x|/y", "ignore paths");
        is_int(FLAGS("--insecure-registry=a", "--insecure-registry", "b:5000",
                     "--skip-tls-verify-registry=c", "--annotation=k=v", "--annotation=k2=v2"),
               0, "registries and annotations");
        is_field("insecure-registry", "a|b:5000", "insecure registries");
        is_field("skip-tls-verify-registry", "c", "skip-tls-verify registries");
        is_field("annotation", "k=v|k2=v2", "annotations");
        /* a map: one entry per registry, the last one wins */
        is_int(FLAGS("--registry-certificate=a=/1", "--registry-certificate", "b=/2",
                     "--registry-certificate=a=/3", "--registry-client-cert=a=/c,/k",
                     "--registry-client-cert=a=/c2,/k2"),
               0, "certificate maps");
        is_field("registry-certificate", "a=/3|b=/2", "certificates: last wins per registry");
        is_field("registry-client-cert", "a=/c2,/k2", "client certs: last wins");
        is_int(FLAGS("--registry-map=a=b;a=c", "--registry-map", "d=e;", "--registry-map="), 0,
               "registry maps with ';'");
        is_field("registry-map", "a=b|a=c|d=e", "maps keep every value of a key, in order");
        is_int(FLAGS("--registry-mirror=m1", "--registry-mirror", "m2", "--registry-mirror="), 0,
               "mirrors");
        is_field("registry-mirror", "m1|m2", "mirrors, the empty one ignored");
        is_int(FLAGS("--git=branch=dev", "--git", "recurse-submodules=1,insecure-skip-tls=t",
                     "--git=single-branch=false"),
               0, "git options, repeated and comma-separated");
        is_str(o.git_branch, "dev", "git branch");
        ok(!o.git_single_branch && o.git_recurse_submodules && o.git_insecure_skip_tls,
           "git booleans");
        is_field("git", "branch=dev,recurse-submodules=1,insecure-skip-tls=t,single-branch=false",
                 "git options as given");
        is_int(FLAGS("--secret", "id=a,src=/s/a", "--secret=id=b,env=B_TOKEN"), 0, "secrets");
        is_field("secret", "id=a,src=/s/a|id=b,env=B_TOKEN", "secrets normalised");
        /* single values: the last one wins */
        is_int(FLAGS("-f", "one", "--dockerfile=two", "--target", "a", "--target=", "--tarPath",
                     "/old", "--tar-path=/new"),
               0, "repeated single values");
        is_field("dockerfile", "two", "last --dockerfile wins");
        is_field("target", "(null)", "an empty value unsets");
        is_field("tar-path", "/new", "--tar-path after its alias --tarPath");
}

static void test_short_forms(void)
{
        is_int(FLAGS("-fDockerfile.x", "-c=/ctx", "-v", "trace", "-b", "bkt"), 0, "short forms");
        is_field("dockerfile", "Dockerfile.x", "-fVALUE");
        is_field("context", "/ctx", "-c=VALUE");
        is_field("verbosity", "trace", "-v VALUE");
        is_field("bucket", "bkt", "-b VALUE (hidden flag)");
        is_int(PARSE("-hf", "x"), 0, "-hf x: help, then -f x");
        is_int(res.action, CLI_ACTION_HELP, "-hf x is help");
        is_field("dockerfile", "x", "-hf x sets the Dockerfile");
        is_int(PARSE("-h=false", "--no-push"), 0, "-h=false");
        is_int(res.action, CLI_ACTION_BUILD, "-h=false is no help");
        is_int(FLAGS("-f", "--no-push"), 0, "-f takes the next argument whatever it is");
        is_field("dockerfile", "--no-push", "as pflag does");
        is_field("no-push", "false", "so --no-push was a value");
        is_int(FLAGS("-x"), -EINVAL, "unknown short flag");
        is_str(msg(), "unknown flag '-x'", "unknown short flag: message");
        is_int(FLAGS("-hx"), -EINVAL, "unknown short flag in a group");
        is_str(msg(), "unknown flag '-x'", "unknown short flag in a group: message");
        is_int(FLAGS("-dockerfile", "x"), -EINVAL, "a long name with one dash");
        is_str(msg(), "unknown flag '-dockerfile' (did you mean --dockerfile?)",
               "a long name with one dash: message");
        is_int(FLAGS("-cache=true"), -EINVAL, "a long name with one dash and a value");
        is_str(msg(), "unknown flag '-cache' (did you mean --cache?)", "the value is not echoed");
        is_int(FLAGS("-", "x"), -EINVAL, "a lone dash is an argument");
        is_str(msg(), "unexpected argument '-'", "a lone dash: message");
}

static void test_dashes_and_commands(void)
{
        is_int(PARSE("--no-push", "--", "-d"), -EINVAL, "after --, -d is an argument");
        is_str(msg(), "unexpected argument '-d'", "after --: message");
        is_int(PARSE("--", "version"), -EINVAL, "after --, version is no command");
        is_str(msg(), "unexpected argument 'version'", "-- version: message");
        is_int(PARSE("--no-push", "--"), 0, "a final -- is fine");
        is_int(res.action, CLI_ACTION_BUILD, "-- alone: build");
        is_int(PARSE("version"), 0, "version command");
        is_int(res.action, CLI_ACTION_VERSION, "version command: action");
        is_int(PARSE("--verbosity=debug", "version"), 0, "version after a flag");
        is_int(res.action, CLI_ACTION_VERSION, "version after a flag: action");
        is_int(PARSE("--version"), 0, "--version");
        is_int(res.action, CLI_ACTION_VERSION, "--version: action");
        is_int(PARSE("help"), 0, "help command");
        is_int(res.action, CLI_ACTION_HELP, "help command: action");
        is_int(PARSE("help", "version"), 0, "help version");
        is_int(res.action, CLI_ACTION_HELP, "help version: action");
        is_int(PARSE("--help"), 0, "--help needs no --destination");
        is_int(res.action, CLI_ACTION_HELP, "--help: action");
        is_int(PARSE("--help", "--destinaton=x"), -EINVAL, "--help does not hide a bad flag");
        is_int(PARSE("version", "extra"), -EINVAL, "version takes no argument");
        is_str(msg(), "unexpected argument 'extra'", "version extra: message");
        /* res points into argv: it must outlive the checks (is_int's block would not) */
        static const char *const completion_args[] = {"executor", "completion", "bash",
                                                      "--no-descriptions", NULL};
        is_int(parse_all(completion_args), 0, "completion");
        is_int(res.action, CLI_ACTION_COMPLETION, "completion: action");
        is_int(res.completion_argc, 2, "completion: its arguments");
        is_str(res.completion_argv[0], "bash", "completion: the shell");
        ok(res.completion_argv == (char *const *) completion_args + 2,
           "completion: the arguments after the command, in argv");
        is_int(PARSE("--cache", "completion", "--what"), 0,
               "completion: flags before it parse, no checks, the rest is the command's");
        is_int(res.completion_argc, 1, "completion --what: one argument");
        is_int(PARSE("help", "completion"), 0, "help completion");
        is_int(res.action, CLI_ACTION_COMPLETION, "help completion: action");
        is_str(res.completion_argv[0], "--help", "help completion: the command's --help");
        is_int(PARSE("verison"), -EINVAL, "mistyped command");
        is_str(msg(), "unexpected argument 'verison' (did you mean version?)",
               "mistyped command: message");
        is_int(PARSE("build", "."), -EINVAL, "docker build habits");
        is_str(msg(), "unexpected argument 'build'", "build: message");
        is_int(PARSE("---x"), -EINVAL, "three dashes");
        is_str(msg(), "bad flag syntax '---x'", "three dashes: message");
        is_int(PARSE("--=x"), -EINVAL, "no name");
        is_str(msg(), "bad flag syntax '--='", "no name: message");
}

static void expect_error(const char *const *args, int code, const char *want)
{
        _cleanup_free_ char *line = strv_join((char **) args + 1, " ");
        is_int(parse_all(args), code, "%s", line);
        is_str(msg(), want, "%s: message", line);
}

#define ERR(code, want, ...)                                                                       \
        expect_error((const char *const[]){"executor", "--no-push", __VA_ARGS__, NULL}, code, want)

static void test_value_errors(void)
{
        ERR(-EINVAL, "invalid value 'abc' for --push-retry: expected an integer", "--push-retry",
            "abc");
        ERR(-EINVAL, "invalid value '1.5' for --image-download-retry: expected an integer",
            "--image-download-retry=1.5");
        ERR(-EINVAL, "invalid value '-1' for --push-retry: must not be negative",
            "--push-retry=-1");
        ERR(-EINVAL, "invalid value '99999999999' for --image-fs-extract-retry: out of range",
            "--image-fs-extract-retry=99999999999");
        ERR(-EINVAL, "invalid value '-2' for --compression-level: must be -1 or more",
            "--compression-level=-2");
        ERR(-EINVAL, "invalid value 'fast' for --snapshot-mode: expected full, redo or time",
            "--snapshot-mode=fast");
        ERR(-EINVAL, "invalid value 'Full' for --snapshotMode: expected full, redo or time",
            "--snapshotMode", "Full");
        ERR(-EINVAL, "invalid value 'xz' for --compression: expected gzip or zstd",
            "--compression=xz");
        ERR(-EINVAL,
            "invalid value '2w' for --cache-ttl: expected a duration like 336h, 90m or "
            "1h30m",
            "--cache-ttl=2w");
        ERR(-EINVAL,
            "invalid value '10' for --cache-ttl: expected a duration like 336h, 90m or "
            "1h30m",
            "--cache-ttl", "10");
        ERR(-EINVAL, "invalid value '-1h' for --cache-ttl: must not be negative",
            "--cache-ttl=-1h");
        ERR(-EINVAL,
            "invalid value 'loud' for --verbosity: expected trace, debug, info, warn, "
            "error, fatal or panic",
            "-v", "loud");
        ERR(-EINVAL, "invalid value 'xml' for --log-format: expected text, color or json",
            "--log-format=xml");
        ERR(-EINVAL, "invalid value 'JSON' for --log-format: expected text, color or json",
            "--log-format=JSON");
        static const char *const bad_platforms[] = {
                "linux", "linux/", "/amd64", "linux/arm/v7/x", "linux/amd 64", "linux//amd64"};
        for (size_t i = 0; i < ARRAY_SIZE(bad_platforms); i++) {
                _cleanup_free_ char *want = xasprintf(
                        "invalid value '%s' for --custom-platform: expected OS/ARCH[/VARIANT], "
                        "like linux/amd64 or linux/arm/v7",
                        bad_platforms[i]);
                ERR(-EINVAL, want, "--custom-platform", bad_platforms[i]);
        }
        ERR(-EINVAL, "invalid value 'nope' for --label: expected KEY=VALUE", "--label=nope");
        ERR(-EINVAL, "invalid value '=v' for --label: expected KEY=VALUE", "--label", "=v");
        ERR(-EINVAL, "invalid value 'k' for --annotation: expected KEY=VALUE", "--annotation=k");
        ERR(-EINVAL, "invalid value '=x' for --build-arg: expected KEY=VALUE or KEY",
            "--build-arg==x");
        ERR(-EINVAL, "empty value for --destination", "--destination=");
        ERR(-EINVAL, "empty value for --ignore-path", "--ignore-path", "");
        ERR(-EINVAL, "invalid value 'reg' for --registry-certificate: expected REGISTRY=PATH",
            "--registry-certificate=reg");
        ERR(-EINVAL, "invalid value 'reg=' for --registry-certificate: expected REGISTRY=PATH",
            "--registry-certificate=reg=");
        ERR(-EINVAL,
            "invalid value 'reg=/c' for --registry-client-cert: expected REGISTRY=CERT,KEY",
            "--registry-client-cert=reg=/c");
        ERR(-EINVAL,
            "invalid value 'reg=/c,/k,/x' for --registry-client-cert: expected REGISTRY=CERT,KEY",
            "--registry-client-cert=reg=/c,/k,/x");
        ERR(-EINVAL,
            "--registry-map: invalid registry map 'b' in 'a=x;b': expected ORIG=NEW[;ORIG2=NEW2]",
            "--registry-map=a=x;b");
        ERR(-EINVAL,
            "invalid value 'depth=1' for --git: expected branch=NAME, single-branch=BOOL, "
            "recurse-submodules=BOOL or insecure-skip-tls=BOOL",
            "--git=depth=1");
        ERR(-EINVAL,
            "invalid value 'branch=x,single-branch=maybe' for --git: 'single-branch=maybe' is not "
            "true or false",
            "--git", "branch=x,single-branch=maybe");
        ERR(-EINVAL, "invalid value 'yes' for --no-push: expected true or false", "--no-push=yes");
        ERR(-EINVAL, "invalid value 'maybe' for --help: expected true or false", "--help=maybe");
}

static void test_secrets(void)
{
        ERR(-EINVAL, "invalid value 'src=/x' for --secret: expected id=NAME (without ',')",
            "--secret=src=/x");
        ERR(-EINVAL, "invalid value 'id=a,src=/x,env=Y' for --secret: give src or env, not both",
            "--secret=id=a,src=/x,env=Y");
        ERR(-EINVAL, "invalid value 'id=a,mode=0400' for --secret: unknown key 'mode'",
            "--secret=id=a,mode=0400");
        ERR(-EINVAL, "invalid value 'id=a,src' for --secret: 'src' is not KEY=VALUE",
            "--secret=id=a,src");
        ERR(-EINVAL, "invalid value 'id=a,\"src=/x' for --secret: unterminated quote",
            "--secret=id=a,\"src=/x");
        ERR(-EINVAL, "invalid value 'id=a,type=ssh' for --secret: type must be file or env",
            "--secret=id=a,type=ssh");
        ERR(-EINVAL, "invalid value 'id=a,src=' for --secret: empty src or env",
            "--secret=id=a,src=");
        ERR(-EINVAL, "--secret: secret 'a' is given twice", "--secret=id=a,src=/1",
            "--secret=id=a,env=X");

        setenv("LADING_TEST_SECRET", "s3cr3t", 1);
        unsetenv("LADING_TEST_NO_SUCH_VAR");
        is_int(FLAGS("--secret", "id=x,\"src=/p,q\"", "--secret=ID=y,SOURCE=/y",
                     "--secret=id=LADING_TEST_SECRET", "--secret=id=LADING_TEST_NO_SUCH_VAR",
                     "--secret=id=z,type=env,src=Z_VAR", "--secret=id=w,type=env"),
               0, "secret forms");
        is_field("secret",
                 "id=x,src=/p,q|id=y,src=/y|id=LADING_TEST_SECRET,env=LADING_TEST_SECRET|"
                 "id=LADING_TEST_NO_SUCH_VAR,src=LADING_TEST_NO_SUCH_VAR|id=z,env=Z_VAR|id=w,env=w",
                 "secrets: quoted comma, upper-case keys, the defaults, type=env");
        _cleanup_free_ char *all = strv_join(o.secrets, "|");
        ok(!strstr(all, "s3cr3t"), "a secret's value never enters the options");
        unsetenv("LADING_TEST_SECRET");
}

static void test_env(void)
{
        unsetenv("KANIKO_NO_PUSH");
        unsetenv("KANIKO_REGISTRY_MIRROR");
        unsetenv("KANIKO_REGISTRY_MAP");

        setenv("KANIKO_DIR", "/env/kaniko", 1);
        is_int(PARSE("--print-plan"), 0, "KANIKO_DIR");
        is_field("kaniko-dir", "/env/kaniko", "KANIKO_DIR sets the default");
        is_int(PARSE("--no-push"), 0, "KANIKO_DIR works for a build");
        is_int(PARSE("--no-push", "--kaniko-dir=/kaniko"), 0,
               "--kaniko-dir=/kaniko beats KANIKO_DIR and is the default");
        setenv("KANIKO_DIR", "/kaniko", 1);
        is_int(PARSE("--no-push"), 0, "KANIKO_DIR=/kaniko is the default");
        setenv("KANIKO_DIR", "/env/kaniko", 1);
        is_int(FLAGS("--kaniko-dir=/flag/kaniko"), 0, "--kaniko-dir with KANIKO_DIR");
        is_field("kaniko-dir", "/flag/kaniko", "the flag wins over KANIKO_DIR");
        setenv("KANIKO_DIR", "", 1);
        is_int(FLAGS("--no-push"), 0, "empty KANIKO_DIR");
        is_field("kaniko-dir", "/kaniko", "empty KANIKO_DIR: /kaniko");
        unsetenv("KANIKO_DIR");
        expect_error((const char *const[]){"executor", "--no-push", "--kaniko-dir=", NULL}, -EINVAL,
                     "--kaniko-dir must not be empty");

        setenv("KANIKO_NO_PUSH", "true", 1);
        is_int(PARSE("-c", "/src"), 0, "KANIKO_NO_PUSH=true: no --destination needed");
        is_field("no-push", "true", "KANIKO_NO_PUSH=true");
        setenv("KANIKO_NO_PUSH", "false", 1);
        expect_error((const char *const[]){"executor", "--no-push", NULL}, -EINVAL,
                     "--destination is required (or use --no-push to build without pushing)");
        setenv("KANIKO_NO_PUSH", "yes", 1);
        expect_error((const char *const[]){"executor", "--no-push", NULL}, -EINVAL,
                     "invalid value 'yes' in KANIKO_NO_PUSH: expected true or false");
        setenv("KANIKO_NO_PUSH", "", 1);
        is_int(PARSE("--no-push"), 0, "empty KANIKO_NO_PUSH counts as unset");
        is_field("no-push", "true", "empty KANIKO_NO_PUSH leaves --no-push");
        unsetenv("KANIKO_NO_PUSH");

        setenv("KANIKO_REGISTRY_MIRROR", "env-mirror", 1);
        setenv("KANIKO_REGISTRY_MAP", "quay.io=q.local;ghcr.io=g.local", 1);
        is_int(PARSE("--print-plan", "--registry-mirror=flag-mirror", "--registry-map=a=b"), 0,
               "mirror and map variables");
        is_field("registry-mirror", "flag-mirror|env-mirror", "flag mirrors, then the variable");
        is_field("registry-map",
                 "a=b|quay.io=q.local|ghcr.io=g.local|index.docker.io=flag-mirror|"
                 "index.docker.io=env-mirror",
                 "maps: flags, the variable, then one Docker Hub entry per mirror");
        is_int(PARSE("--no-push"), 0, "KANIKO_REGISTRY_MIRROR works for a build");
        unsetenv("KANIKO_REGISTRY_MIRROR");
        is_int(PARSE("--no-push"), 0, "KANIKO_REGISTRY_MAP works for a build");
        is_int(PARSE("--no-push", "--registry-map=x=y"), 0, "--registry-map works for a build");
        setenv("KANIKO_REGISTRY_MAP", "nope", 1);
        expect_error((const char *const[]){"executor", "--no-push", NULL}, -EINVAL,
                     "KANIKO_REGISTRY_MAP: invalid registry map 'nope' in 'nope': expected "
                     "ORIG=NEW[;ORIG2=NEW2]");
        unsetenv("KANIKO_REGISTRY_MAP");

        setenv("LADING_TEST_ARG", "from env", 1);
        unsetenv("LADING_TEST_UNSET_ARG");
        is_int(PARSE("--no-push", "--build-arg", "LADING_TEST_ARG", "--build-arg",
                     "LADING_TEST_UNSET_ARG", "--build-arg=A=1", "--build-arg=EMPTY="),
               0, "build args from the environment");
        is_field("build-arg", "LADING_TEST_ARG=from env|A=1|EMPTY=",
                 "a bare KEY takes its value from the environment, or is left out");
        unsetenv("LADING_TEST_ARG");
}

static void test_checks(void)
{
        expect_error((const char *const[]){"executor", NULL}, -EINVAL,
                     "--destination is required (or use --no-push to build without pushing)");
        is_int(PARSE("--print-plan"), 0, "--print-plan needs no --destination");
        is_int(res.action, CLI_ACTION_PRINT_PLAN, "--print-plan: action");
        ERR(-EINVAL, "--cache with --no-push needs --cache-repo", "--cache");
        ERR(-EINVAL, "--image-name-with-digest-file needs --destination",
            "--image-name-with-digest-file=/n");
        ERR(-EINVAL, "--image-name-tag-with-digest-file needs --destination",
            "--image-name-tag-with-digest-file", "/n");
        ERR(-EINVAL,
            "invalid value '12' for --compression-level: gzip takes 1 to 9, or -1 for its default",
            "--compression-level=12");
        ERR(-EINVAL,
            "invalid value '23' for --compression-level: zstd takes 1 to 22, or -1 for its "
            "default",
            "--compression=zstd", "--compression-level=23");
        is_int(PARSE("--no-push", "--compression=zstd", "--compression-level=12"), 0,
               "--compression=zstd with a level");
        ERR(-EINVAL, "--context must not be empty", "-c", "");
        ERR(-EINVAL, "--dockerfile must not be empty", "--dockerfile=");
        ERR(-EINVAL, "--context 'dir://' names no directory", "-c", "dir://");
        ERR(-EINVAL,
            "invalid value 'ftp://h/x' for --context: unknown scheme ftp:// (use a directory, "
            "dir://, tar://, gs://, s3://, git:// or https://)",
            "--context=ftp://h/x");
        is_int(PARSE("--no-push", "-c", "gs://b/c.tar.gz"), 0, "gs:// context");
        is_field("context", "gs://b/c.tar.gz", "gs:// context kept as given");
        /* Kaniko's legacy --bucket */
        is_int(PARSE("--no-push", "-b", "my-bucket"), 0, "--bucket");
        is_field("context", "gs://my-bucket", "--bucket without a scheme is a GCS bucket");
        ok(res.warnings == NULL, "--bucket: no warning");
        is_int(PARSE("--no-push", "--bucket", "s3://b/k.tgz", "-c", "https://h/c.tar.gz"), 0,
               "--bucket with a scheme");
        is_field("context", "s3://b/k.tgz", "--bucket with a scheme replaces a remote context");
        is_int(PARSE("--no-push", "--bucket=bkt", "-c", "/src"), 0,
               "--bucket with a local context");
        is_field("context", "/src", "a local --context given too wins, as in Kaniko");
        _cleanup_free_ char *bw = strv_join(res.warnings, "|");
        is_str(bw, "--bucket 'bkt' is ignored: --context names the local directory '/src'",
               "--bucket ignored: the warning says so");
        is_int(PARSE("--no-push", "-c", "tar://stdin"), 0, "tar://stdin context");
        is_int(PARSE("--no-push", "-c", "git://github.com/a/b#main", "--git", "branch=x"), 0,
               "git:// context with --git");
        is_field("context", "git://github.com/a/b#main", "git:// context kept as given");
        is_int(PARSE("--no-push", "-c", "https://h/c.tar.gz"), 0, "https:// context");
        is_int(PARSE("--no-push", "-c", "s3://b/c.tar.gz"), 0, "s3:// context");
        is_int(PARSE("--no-push", "-f", "https://example.com/Dockerfile"), 0, "Dockerfile URL");
        is_int(PARSE("--print-plan", "-c", "dir:///src"), 0, "dir:// context");
        is_field("context", "/src", "dir:// is removed");
        is_int(PARSE("--print-plan", "-c", "/src", "--context-sub-path", "app/api"), 0,
               "sub path of a local context");
        is_field("context", "/src/app/api", "the sub path is joined to a local context");
        is_field("context-sub-path", "(null)", "and cleared");
        is_int(PARSE("--print-plan", "-c", "/src/", "--context-sub-path=/app"), 0,
               "sub path with slashes");
        is_field("context", "/src/app", "no doubled slash");
        is_int(PARSE("--print-plan", "--target", "Build", "--custom-platform=linux/arm/v7"), 0,
               "plan flags");
        is_field("target", "Build", "target kept as given");
        is_field("custom-platform", "linux/arm/v7", "platform kept as given");
        is_int(PARSE("--no-push", "-v", "WARNING", "--log-format", "text", "--log-timestamp"), 0,
               "logging flags");
        is_field("verbosity", "warning", "verbosity lower-cased (logrus does)");
        is_int(res.action, CLI_ACTION_BUILD, "logging flags: build");
        ok(res.warnings == NULL, "no warnings");
        is_int(PARSE("--print-plan", "--snapshotMode=redo", "--snapshotMode=time",
                     "--customPlatform", "linux/amd64"),
               0, "deprecated aliases with --print-plan");
        _cleanup_free_ char *w = strv_join(res.warnings, "|");
        is_str(w,
               "--snapshotMode is deprecated, use --snapshot-mode|--customPlatform is deprecated, "
               "use --custom-platform",
               "one warning per deprecated alias");
        is_field("snapshot-mode", "time", "--snapshotMode sets --snapshot-mode");
        is_int(PARSE("--whitelist-var-run=false", "--no-push"), 0, "--whitelist-var-run");
        is_int(PARSE("-d", "reg/app"), 0, "--destination");
        is_int(PARSE("--sandbox", "/tmp/r", "--no-push"), 0, "--sandbox");
        is_int(PARSE("--azure-container-registry-config=/x", "--no-push"), 0,
               "--azure-container-registry-config is built");
        is_field("azure-container-registry-config", "/x", "the config file's path is kept");
}

static void test_suggestions(void)
{
        static const struct {
                const char *typed, *want;
        } cases[] = {
                {"destinaton", "destination"},
                {"dest", "destination"},
                {"snapshot_mode", "snapshot-mode"},
                {"snapshotmode", "snapshot-mode"},
                {"customplatform", "custom-platform"},
                {"no-psuh", "no-push"},
                {"Dockerfile", "dockerfile"},
                {"cach", "cache"},
                {"skip-tls-verify-registy", "skip-tls-verify-registry"},
                {"registry-mirrors", "registry-mirror"},
                {"build-args", "build-arg"},
                {"verbose", "verbosity"},
                {"log-timestamps", "log-timestamp"},
                {"ignore-paths", "ignore-path"},
                {"cache-ttl-hours", "cache-ttl"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                _cleanup_free_ char *arg = xasprintf("--%s=1", cases[i].typed);
                _cleanup_free_ char *want = xasprintf("unknown flag '--%s' (did you mean --%s?)",
                                                      cases[i].typed, cases[i].want);
                is_int(FLAGS(arg), -EINVAL, "%s", arg);
                is_str(msg(), want, "%s: suggestion", arg);
        }
        static const char *const far[] = {"frobnicate", "x", "password", "tls"};
        for (size_t i = 0; i < ARRAY_SIZE(far); i++) {
                _cleanup_free_ char *arg = xasprintf("--%s", far[i]);
                _cleanup_free_ char *want = xasprintf("unknown flag '--%s'", far[i]);
                is_int(FLAGS(arg), -EINVAL, "%s", arg);
                is_str(msg(), want, "%s: no suggestion", arg);
        }
        is_int(FLAGS("--registry-pasword=hunter2"), -EINVAL, "mistyped flag with a value");
        ok(!strstr(msg(), "hunter2"), "the value of an unknown flag is not echoed: %s", msg());
        ok(cli_suggest("bucket") == NULL || !streq(cli_suggest("bucket")->name, "bucket"),
           "hidden flags are never suggested");

        is_int(cli_edit_distance("", "abc"), 3, "distance from empty");
        is_int(cli_edit_distance("abc", "abc"), 0, "distance to itself");
        is_int(cli_edit_distance("ab", "ba"), 1, "a transposition costs 1");
        is_int(cli_edit_distance("kitten", "sitting"), 3, "kitten/sitting");
        is_int(cli_edit_distance("ca", "abc"), 3, "optimal string alignment");
}

static void test_help_and_version(void)
{
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);
        size_t not_built = 0;

        cli_print_help(f);
        fclose(f);
        for (size_t i = 0; i < cli_flags_count; i++) {
                const struct cli_flag *fl = &cli_flags[i];
                _cleanup_free_ char *needle = xasprintf("--%s ", fl->name);
                _cleanup_free_ char *needle_nl = xasprintf("--%s\n", fl->name);
                bool shown = strstr(text, needle) || strstr(text, needle_nl);
                if (fl->group == CLI_GROUP_HIDDEN)
                        ok(!shown, "--help hides --%s", fl->name);
                else
                        ok(shown, "--help shows --%s", fl->name);
                if (fl->short_name) {
                        char s[8];
                        snprintf(s, sizeof(s), "-%c, --", fl->short_name);
                        ok(fl->group == CLI_GROUP_HIDDEN || strstr(text, s), "--help shows -%c",
                           fl->short_name);
                }
                if (!(fl->attrs & CLI_BUILT) && !fl->alias_of && fl->group != CLI_GROUP_HIDDEN)
                        not_built++;
        }
        size_t marks = 0;
        for (const char *p = text; (p = strstr(p, "[not implemented yet]")); p++)
                marks++;
        is_int(marks, not_built ? not_built + 1 : 0,
               "one mark per flag not built, plus the explanation if there is one");
        for (int g = 0; g < CLI_GROUP_COUNT; g++)
                if (cli_group_titles[g]) {
                        _cleanup_free_ char *t = xasprintf("\n%s:\n", cli_group_titles[g]);
                        ok(strstr(text, t) != NULL, "--help has the group '%s'",
                           cli_group_titles[g]);
                }
        ok(strstr(text, "(default: Dockerfile)") && strstr(text, "(default: 336h)") &&
                   strstr(text, "(default: /workspace/)") && strstr(text, "(default: true)"),
           "--help shows defaults");
        size_t longest = 0;
        for (const char *p = text; *p;) {
                size_t n = strcspn(p, "\n");
                longest = MAX(longest, n);
                p += n + (p[n] == '\n');
        }
        ok(longest <= 100, "--help fits 100 columns (longest line %zu)", longest);

        _cleanup_free_ char *v = NULL;
        f = open_memstream(&v, &size);
        cli_print_version(f);
        fclose(f);
        _cleanup_free_ char *want =
                xasprintf("lading executor %s (%s)\n", LADING_VERSION, LADING_COMMIT);
        is_str(v, want, "--version text");
}

/* The scripts' behaviour is tested in the shells (tests/integration/cli/test_completion.py);
 * here: what each carries, and the command's errors, under valgrind and the sanitizers. */
static char *completion(const char *const *args, int argc, int *ret)
{
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        lerr_free(err);
        err = NULL;
        *ret = cli_completion(argc, (char *const *) args, f, &err);
        fclose(f);
        return text;
}

static void test_completion(void)
{
        int r;
        _cleanup_free_ char *fish = completion((const char *const[]){"fish"}, 1, &r);
        is_int(r, 0, "completion fish");
        ok(strstr(fish, "\ncomplete -c executor -l snapshot-mode -x -a 'full redo time' -d 'What "
                        "marks a file as changed: full (content and metadata), redo (metadata "
                        "and size) or time (modification time only)'\n") != NULL,
           "fish: --snapshot-mode with its values and description");
        ok(strstr(fish, "\ncomplete -c executor -l dockerfile -s f -r -F -d 'Dockerfile to "
                        "build: tried as given, then under the context, or an http(s):// URL'\n"),
           "fish: -f/--dockerfile completes files");
        ok(!strstr(fish, "whitelist"), "fish: no deprecated alias");
        for (size_t i = 0; i < cli_flags_count; i++) {
                const struct cli_flag *fl = &cli_flags[i];
                _cleanup_free_ char *needle = xasprintf("complete -c executor -l %s ", fl->name);
                _cleanup_free_ char *bare = xasprintf("complete -c executor -l %s\n", fl->name);
                bool shown = strstr(fish, needle) || strstr(fish, bare);
                bool offered = !fl->alias_of && fl->group != CLI_GROUP_DEPRECATED &&
                               fl->group != CLI_GROUP_HIDDEN;
                ok(shown == offered, "fish: --%s %s", fl->name,
                   offered ? "offered" : "not offered");
        }
        _cleanup_free_ char *zsh =
                completion((const char *const[]){"--no-descriptions", "zsh"}, 2, &r);
        is_int(r, 0, "completion --no-descriptions zsh");
        ok(strstr(zsh, "\t'--snapshot-mode=:MODE:(full redo time)' \\\n") != NULL,
           "zsh: --snapshot-mode spec without description");
        ok(strstr(zsh, "\t'*'{-d+,--destination=}':IMAGE: ' \\\n") != NULL,
           "zsh: repeatable -d/--destination");
        _cleanup_free_ char *bash = completion((const char *const[]){"bash"}, 1, &r);
        ok(r == 0 && strstr(bash, "complete -o default -F _lading_executor executor "
                                  "/kaniko/executor\n"),
           "bash: registered for executor and /kaniko/executor");
        _cleanup_free_ char *ps = completion((const char *const[]){"powershell"}, 1, &r);
        ok(r == 0 && strstr(ps, "@('--compression', 'Layer compression: gzip or zstd', "
                                "'gzip zstd')\n"),
           "powershell: --compression");
        _cleanup_free_ char *help = completion((const char *const[]){NULL}, 0, &r);
        ok(r == 0 && startswith(help, "Usage:\n  executor completion SHELL"),
           "no shell: the command's help");
        _cleanup_free_ char *bad = completion((const char *const[]){"csh"}, 1, &r);
        is_int(r, -EINVAL, "unknown shell");
        is_str(msg(),
               "unknown shell 'csh' for 'executor completion': bash, zsh, fish or "
               "powershell",
               "unknown shell: message");
        _cleanup_free_ char *two = completion((const char *const[]){"bash", "zsh"}, 2, &r);
        is_str(msg(), "unexpected argument 'zsh' for 'executor completion' (one shell only)",
               "two shells: message");
        ok(streq(bad, "") && streq(two, ""), "nothing printed on an error");
}

int main(void)
{
        unsetenv("KANIKO_DIR");
        unsetenv("KANIKO_NO_PUSH");
        unsetenv("KANIKO_REGISTRY_MIRROR");
        unsetenv("KANIKO_REGISTRY_MAP");

        test_every_flag_has_a_sample();
        test_defaults();
        test_every_flag_every_form();
        test_built_states();
        test_repeatable();
        test_short_forms();
        test_dashes_and_commands();
        test_value_errors();
        test_secrets();
        test_env();
        test_checks();
        test_suggestions();
        test_help_and_version();
        test_completion();

        reset();
        options_done(&o);
        lerr_free(err);
        return tap_done();
}
