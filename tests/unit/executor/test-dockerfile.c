/* SPDX-License-Identifier: Apache-2.0 */
/* The frontend's interface as the build uses it: ONBUILD triggers, what RUN executes, build-time
 * expansion with a base image's ENV, ARG/ENV scopes, EXPOSE ports, --chmod, platforms, stage
 * references, --print-plan and the input limits. The corpus covers the language itself. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/strv.h"
#include "executor/dockerfile.h"
#include "executor/expand.h"
#include "executor/instructions.h"
#include "executor/options.h"
#include "executor/plan_print.h"
#include "executor/planner.h"
#include "registry/platform.h"
#include "executor/vars.h"
#include "tap.h"

static char *join(char *const *v)
{
        return strv_join(v, "|");
}

static struct dockerfile *parse(const char *text)
{
        struct dockerfile *df = NULL;
        struct lerr *err = NULL;
        if (dockerfile_parse(text, strlen(text), "Dockerfile", &df, &err) < 0) {
                diag("parse failed: %s", lerr_message(err));
                lerr_free(err);
                return NULL;
        }
        return df;
}

static void test_triggers(void)
{
        struct df_inst *t = NULL;
        struct lerr *err = NULL;

        is_int(dockerfile_parse_trigger("COPY --chown=1 . /app", &t, &err), 0, "trigger COPY");
        if (t) {
                is_int(t->kind, DF_COPY, "trigger kind");
                is_str(t->u.copy.chown, "1", "trigger flag");
                is_str(t->u.copy.dest, "/app", "trigger dest");
                df_inst_free(t);
        }
        t = NULL;
        is_int(dockerfile_parse_trigger("RUN <<EOF\necho hi\nEOF", &t, &err), 0, "heredoc trigger");
        if (t) {
                is_int(t->n_heredocs, 1, "trigger heredoc");
                is_str(t->heredocs[0].content, "echo hi\n", "trigger heredoc body");
                df_inst_free(t);
        }
        static const struct {
                const char *text, *msg;
        } bad[] = {
                {"FROM alpine", "ONBUILD trigger 'FROM alpine': FROM isn't allowed as an ONBUILD "
                                "trigger"},
                {"ONBUILD RUN x", "ONBUILD trigger 'ONBUILD RUN x': ONBUILD isn't allowed as an "
                                  "ONBUILD trigger"},
                {"MAINTAINER me", "ONBUILD trigger 'MAINTAINER me': MAINTAINER isn't allowed as "
                                  "an ONBUILD trigger"},
                {"RUN a\nRUN b", "ONBUILD trigger 'RUN a': an ONBUILD trigger must be exactly one "
                                 "instruction"},
                {"RUNN x", "ONBUILD trigger 'RUNN x': unknown instruction 'RUNN' (did you mean "
                           "'RUN'?)"},
                {"COPY x", "ONBUILD trigger 'COPY x': COPY requires at least two arguments, but "
                           "only one was provided. Destination could not be determined"},
                {"", "ONBUILD trigger '': the trigger is empty"},
                {"# only a comment", "ONBUILD trigger '# only a comment': an ONBUILD trigger must "
                                     "be exactly one instruction"},
                {"RUN <<EOF\nno end", "ONBUILD trigger 'RUN <<EOF': unterminated heredoc 'EOF'"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                t = NULL;
                err = NULL;
                is_int(dockerfile_parse_trigger(bad[i].text, &t, &err), -EINVAL, "bad trigger %zu",
                       i);
                is_str(lerr_message(err), bad[i].msg, "bad trigger %zu message", i);
                lerr_free(err);
                df_inst_free(t);
        }
}

static void run_script_case(const char *dockerfile, char *const *shell, const char *want_argv,
                            const char *want_file, const char *want_data)
{
        _cleanup_(dockerfile_freep) struct dockerfile *df = parse(dockerfile);
        struct df_run_script s = {0};
        struct lerr *err = NULL;

        if (!ok(df != NULL, "parse for run script"))
                return;
        const struct df_inst *run = df->stages[0].insts[df->stages[0].n_insts - 1];
        if (!is_int(df_run_script(run, shell, &s, &err), 0, "run script"))
                diag("%s", lerr_message(err));
        _cleanup_free_ char *argv = join(s.argv);
        is_str(argv, want_argv, "argv of '%s'", run->original);
        is_str(s.file_name, want_file, "file name");
        is_str(s.file_data, want_data, "file data");
        df_run_script_done(&s);
        lerr_free(err);
}

static void test_run_script(void)
{
        char *bash[] = {"/bin/bash", "-eo", "pipefail", "-c", NULL};
        run_script_case("FROM a\nRUN echo hi\n", NULL, "/bin/sh|-c|echo hi", NULL, NULL);
        run_script_case("FROM a\nRUN [\"ls\", \"-l\"]\n", NULL, "ls|-l", NULL, NULL);
        run_script_case("FROM a\nRUN echo hi\n", bash, "/bin/bash|-eo|pipefail|-c|echo hi", NULL,
                        NULL);
        run_script_case("FROM a\nRUN <<EOF\necho a\necho b\nEOF\n", NULL,
                        "/bin/sh|-c|echo a\necho b\n", NULL, NULL);
        run_script_case("FROM a\nRUN <<-EOF\n\techo a\n\tEOF\n", NULL, "/bin/sh|-c|echo a\n", NULL,
                        NULL);
        run_script_case("FROM a\nRUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\n", NULL,
                        "/bin/sh|-c|/dev/pipes/EOF", "EOF", "#!/usr/bin/env python3\nprint(1)\n");
        run_script_case("FROM a\nRUN <<EOF python3\nprint(1)\nEOF\n", NULL,
                        "/bin/sh|-c|<<EOF python3\nprint(1)\nEOF", NULL, NULL);
        run_script_case("FROM a\nRUN <<A cat && <<-B cat\n1\nA\n\t2\n\tB\n", NULL,
                        "/bin/sh|-c|<<A cat && <<-B cat\n1\nA\n\t2\nB", NULL, NULL);
}

static char *base_env[] = {"PATH=/usr/bin:/bin", "APP=/srv/app", "MODE=cache", NULL};

/* A build-time walk of one stage: a vars scope with the base image's ENV, each instruction
 * expanded with it, then applied. */
static void test_build_time_expansion(void)
{
        _cleanup_(dockerfile_freep) struct dockerfile *df =
                parse("FROM base\nARG T=$MODE\nCOPY conf $APP/etc/\n"
                      "RUN --mount=type=$T,target=$APP/.cache make\nENV APP=/opt\nWORKDIR $APP\n");
        _cleanup_(plan_freep) struct plan *plan = NULL;
        struct plan_params params = {.target_platform = "linux/amd64",
                                     .build_platform = "linux/amd64"};
        struct lerr *err = NULL;

        if (!ok(df != NULL, "parse build-time case"))
                return;
        is_int(plan_build(df, &params, &plan, &err), 0, "plan it");
        _cleanup_(vars_freep) struct vars *v = vars_stage_new(plan->global, NULL, base_env);
        const struct df_stage *st = &df->stages[0];
        const char *val = NULL;
        is_int(vars_arg(v, "T", st->insts[0]->u.kv.kvs[0].value, '\\', 0, &val, &err), 0, "ARG T");
        is_str(val, "cache", "ARG default sees the base image ENV");

        struct df_inst *x = NULL;
        is_int(df_inst_expand(st->insts[1], vars_expand_env(v), 0, &x, &err), 0, "expand COPY");
        is_str(x ? x->u.copy.dest : NULL, "/srv/app/etc/", "COPY dest from base ENV");
        df_inst_free(x);
        x = NULL;
        is_int(df_inst_expand(st->insts[2], vars_expand_env(v), 0, &x, &err), 0, "expand RUN");
        if (x && x->u.run.n_mounts == 1) {
                is_int(x->u.run.mounts[0].type, DF_MOUNT_CACHE, "mount type from ARG");
                is_str(x->u.run.mounts[0].target, "/srv/app/.cache", "mount target from ENV");
                ok(!x->u.run.mounts[0].readonly, "cache mount writable");
        }
        df_inst_free(x);
        x = NULL;
        is_int(df_inst_expand(st->insts[3], vars_expand_env(v), 0, &x, &err), 0, "expand ENV");
        vars_env(v, x->u.kv.kvs[0].key, x->u.kv.kvs[0].value);
        df_inst_free(x);
        x = NULL;
        is_int(df_inst_expand(st->insts[4], vars_expand_env(v), 0, &x, &err), 0, "expand WORKDIR");
        is_str(x ? x->u.value : NULL, "/opt", "ENV replaces the base image's");
        df_inst_free(x);

        _cleanup_(strv_freep) char **cfg = vars_config_env(v);
        _cleanup_free_ char *c = join(cfg);
        is_str(c, "PATH=/usr/bin:/bin|APP=/opt|MODE=cache", "config env keeps order, no ARG");
        _cleanup_(strv_freep) char **run = vars_run_env(v);
        _cleanup_free_ char *r = join(run);
        is_str(r, "PATH=/usr/bin:/bin|APP=/opt|MODE=cache|T=cache", "run env has the ARG");
        _cleanup_(strv_freep) char **decl = vars_declared_args(v);
        _cleanup_free_ char *d = join(decl);
        is_str(d, "T=cache", "declared args");

        /* a value only known at build time is checked then */
        _cleanup_(vars_freep) struct vars *bad = vars_stage_new(plan->global, NULL, base_env);
        vars_env(bad, "T", "floppy");
        x = NULL;
        is_int(df_inst_expand(st->insts[2], vars_expand_env(bad), 0, &x, &err), -EINVAL,
               "bad mount type at build time");
        is_str(lerr_message(err), "unsupported mount type 'floppy'", "bad mount type message");
        lerr_free(err);
        err = NULL;
        is_int(dockerfile_inst_wrap(df->filename, st->insts[2], &err), -EIO, "wrap empty error");
        lerr_free(err);
}

/* values that can only be checked once expanded are checked by the build-time expansion */
static void test_build_time_checks(void)
{
        _cleanup_(dockerfile_freep) struct dockerfile *df =
                parse("FROM base\nCOPY --chmod=$MODE a /b\nADD --checksum=$SUM $URL /\n");
        if (!ok(df != NULL, "parse build-time checks"))
                return;
        char *good[] = {
                "MODE=0644", "URL=https://example.com/a.tgz",
                "SUM=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d",
                NULL};
        char *bad[] = {"MODE=999", "URL=file.tgz", "SUM=sha256:00", NULL};
        struct expand_strv_env ge, be;
        struct df_inst *x = NULL;
        struct lerr *err = NULL;

        expand_strv_env_init(&ge, good);
        expand_strv_env_init(&be, bad);
        is_int(df_inst_expand(df->stages[0].insts[0], &ge.env, 0, &x, &err), 0, "good chmod");
        is_str(x ? x->u.copy.chmod : NULL, "0644", "chmod expanded");
        df_inst_free(x);
        x = NULL;
        is_int(df_inst_expand(df->stages[0].insts[1], &ge.env, 0, &x, &err), 0, "good checksum");
        df_inst_free(x);
        x = NULL;
        is_int(df_inst_expand(df->stages[0].insts[0], &be.env, 0, &x, &err), -EINVAL, "bad chmod");
        is_str(lerr_message(err),
               "invalid chmod parameter '999': it should be an octal string between 0 and 07777 "
               "or a symbolic mode",
               "bad chmod message");
        lerr_free(err);
        err = NULL;
        is_int(df_inst_expand(df->stages[0].insts[1], &be.env, 0, &x, &err), -EINVAL,
               "checksum on a local source");
        is_str(lerr_message(err), "checksum requires HTTP(S) or Git sources", "checksum message");
        lerr_free(err);
        err = NULL;
        /* at plan time, unknown values are left for later */
        is_int(df_inst_expand(df->stages[0].insts[0], NULL, EXPAND_KEEP_UNSET, &x, &err), 0,
               "unknown chmod at plan time");
        is_str(x ? x->u.copy.chmod : NULL, "$MODE", "kept as written");
        df_inst_free(x);
}

static void test_vars(void)
{
        char *args[] = {"HTTP_PROXY=http://p:3128", "no_proxy=localhost", "V=given", "BARE", NULL};
        struct vars_params params = {
                .build_args = args,
                .target_platform = "linux/arm/v6",
                .build_platform = "linux/amd64",
        };
        _cleanup_(vars_freep) struct vars *g = NULL;
        struct lerr *err = NULL;

        is_int(vars_global_new(&params, &g, &err), 0, "global scope");
        is_str(vars_get(g, "TARGETPLATFORM"), "linux/arm/v6", "TARGETPLATFORM");
        is_str(vars_get(g, "TARGETVARIANT"), "v6", "TARGETVARIANT");
        is_str(vars_get(g, "BUILDARCH"), "amd64", "BUILDARCH");
        is_int(vars_meta_arg(g, "V", "default", '\\', &err), 0, "meta ARG with build arg");
        is_str(vars_get(g, "V"), "given", "build arg beats the default");
        is_int(vars_meta_arg(g, "W", "${V}-w", '\\', &err), 0, "meta ARG default");
        is_str(vars_get(g, "W"), "given-w", "meta default expands with the global scope");
        is_int(vars_meta_arg(g, "BARE", NULL, '\\', &err), 0, "bare build arg");
        ok(vars_get(g, "BARE") == NULL, "a bare KEY in vars_params stays unset");

        _cleanup_(vars_freep) struct vars *s = vars_stage_new(g, NULL, NULL);
        ok(vars_get(s, "V") == NULL, "global ARG not visible in a stage");
        ok(vars_get(s, "PATH") == NULL, "unknown base env: no PATH added");
        const char *val;
        is_int(vars_arg(s, "W", NULL, '\\', 0, &val, &err), 0, "redeclare W");
        is_str(val, "given-w", "redeclared ARG takes the global value");
        is_int(vars_arg(s, "NONE", NULL, '\\', 0, &val, &err), 0, "ARG without value");
        ok(val == NULL, "unset ARG");
        _cleanup_(strv_freep) char **run = vars_run_env(s);
        _cleanup_free_ char *r = join(run);
        is_str(r,
               "W=given-w|HTTP_PROXY=http://p:3128|http_proxy=http://p:3128|NO_PROXY=localhost|"
               "no_proxy=localhost",
               "proxy build args reach RUN in both spellings");
        _cleanup_(strv_freep) char **decl = vars_declared_args(s);
        _cleanup_free_ char *d = join(decl);
        is_str(d, "W=given-w|NONE=", "declared args include unset ones");
        _cleanup_(strv_freep) char **cfg = vars_config_env(s);
        is_int(strv_length(cfg), 0, "ARGs are not in the config env");

        char *scratch[] = {NULL};
        _cleanup_(vars_freep) struct vars *sc = vars_stage_new(g, NULL, scratch);
        is_str(vars_get(sc, "PATH"), VARS_DEFAULT_PATH, "scratch gets the default PATH");
        vars_env(sc, "E", "1");
        _cleanup_(vars_freep) struct vars *child = vars_stage_new(g, sc, NULL);
        is_str(vars_get(child, "E"), "1", "child stage inherits ENV");
        _cleanup_(vars_freep) struct vars *cp = vars_copy(child);
        vars_env(cp, "E", "2");
        is_str(vars_get(child, "E"), "1", "copies are independent");

        ok(vars_is_proxy_arg("https_proxy") && vars_is_proxy_arg("ALL_PROXY"), "proxy names");
        ok(!vars_is_proxy_arg("Http_Proxy"), "mixed case is not predefined");
        ok(vars_is_platform_arg("BUILDVARIANT") && !vars_is_platform_arg("TARGETSTAGE"),
           "platform names");

        struct vars_params badp = {.target_platform = "linux/bogus", .build_platform = "linux"};
        struct vars *bg = NULL;
        is_int(vars_global_new(&badp, &bg, &err), -EINVAL, "bad platform");
        is_str(lerr_message(err),
               "invalid platform 'linux/bogus': unknown operating system or architecture",
               "bad platform message");
        lerr_free(err);
}

static void test_expose(void)
{
        char *words[] = {"80", "8000-8002/udp", "53/UDP", "127.0.0.1:8080:80/tcp", "9/sctp", "7/",
                         NULL};
        char **ports = NULL;
        struct lerr *err = NULL;
        is_int(df_expose_ports(words, &ports, &err), 0, "expose ports");
        _cleanup_free_ char *j = join(ports);
        is_str(j, "80/tcp|8000/udp|8001/udp|8002/udp|53/udp|80/tcp|9/sctp|7/tcp",
               "normalized ports");
        strv_free(ports);

        static const struct {
                const char *word, *msg;
        } bad[] = {
                {"http", "invalid port 'http': invalid container port 'http'"},
                {"80/icmp", "invalid port '80/icmp': invalid proto 'icmp'"},
                {"70000", "invalid port '70000': invalid container port '70000'"},
                {"90-80", "invalid port '90-80': invalid container port '90-80'"},
                {"/tcp", "invalid port '/tcp': no port specified"},
                {"1-65535", NULL},
                {"0-65535/udp", "EXPOSE lists more than 65536 ports"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                char *w[] = {(char *) bad[i].word, "1", NULL};
                if (!bad[i].msg)
                        w[1] = NULL;
                ports = NULL;
                err = NULL;
                int r = df_expose_ports(w, &ports, &err);
                if (bad[i].msg) {
                        ok(r < 0, "'%s' refused", bad[i].word);
                        is_str(lerr_message(err), bad[i].msg, "'%s' message", bad[i].word);
                } else
                        is_int(strv_length(ports), 65535, "'%s' gives every port", bad[i].word);
                strv_free(ports);
                lerr_free(err);
        }
}

static void test_chmod_platform(void)
{
        bool octal;
        uint32_t mode;
        is_int(df_chmod_parse("0755", &octal, &mode, NULL), 0, "octal chmod");
        ok(octal && mode == 0755, "octal value");
        is_int(df_chmod_parse("7777", &octal, &mode, NULL), 0, "7777");
        is_int(mode, 07777, "7777 is octal");
        is_int(df_chmod_parse("u=rwx,g+rX,o-w", &octal, &mode, NULL), 0, "symbolic chmod");
        ok(!octal, "symbolic flagged");
        is_int(df_chmod_parse("a+", &octal, &mode, NULL), 0, "empty permission list");
        is_int(df_chmod_parse("u+x,", &octal, &mode, NULL), -EINVAL, "trailing comma");
        is_int(df_chmod_parse("", &octal, &mode, NULL), -EINVAL, "empty chmod");
        is_int(df_chmod_parse("10000", &octal, &mode, NULL), -EINVAL, "over 07777");

        static const struct {
                const char *in, *out;
        } plats[] = {
                {"linux/amd64", "linux/amd64"},     {"linux/x86_64", "linux/amd64"},
                {"linux/aarch64", "linux/arm64"},   {"linux/arm64/v8", "linux/arm64"},
                {"linux/arm", "linux/arm/v7"},      {"linux/armhf", "linux/arm/v7"},
                {"linux/armel", "linux/arm/v6"},    {"linux/arm/7", "linux/arm/v7"},
                {"LINUX/AMD64", "linux/amd64"},     {"linux/i386", "linux/386"},
                {"windows/amd64", "windows/amd64"}, {"linux/ppc64le", "linux/ppc64le"},
                {"macos/arm64", "darwin/arm64"},    {"linux/riscv64", "linux/riscv64"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(plats); i++) {
                struct platform p;
                struct lerr *err = NULL;
                if (!is_int(platform_parse(plats[i].in, &p, &err), 0, "platform '%s'",
                            plats[i].in)) {
                        lerr_free(err);
                        continue;
                }
                _cleanup_free_ char *f = platform_string(&p);
                is_str(f, plats[i].out, "platform '%s' normalized", plats[i].in);
                platform_done(&p);
        }
        struct platform p;
        is_int(platform_parse("arm64", &p, NULL), 0, "lone architecture");
        is_str(p.os, "linux", "lone architecture gets the host OS");
        platform_done(&p);
        is_int(platform_parse("linux//amd64", &p, NULL), -EINVAL, "empty component");
        is_int(platform_parse("a/b/c/d", &p, NULL), -EINVAL, "four components");
}

static void test_resolve_from(void)
{
        _cleanup_(dockerfile_freep) struct dockerfile *df =
                parse("FROM a AS one\nFROM b AS two\nRUN true\nFROM c AS three\n");
        _cleanup_(plan_freep) struct plan *plan = NULL;
        struct plan_params params = {
                .target = "TWO", .target_platform = "linux/amd64", .build_platform = "linux/amd64"};
        struct lerr *err = NULL;
        int st;

        if (!ok(df != NULL, "parse for resolve"))
                return;
        is_int(plan_build(df, &params, &plan, &err), 0, "plan with target");
        is_int(plan->target, 1, "target by name, any case");
        ok(plan->stages[0].needed == false && plan->stages[2].needed == false,
           "stages the target does not use are not needed");
        is_int(plan_find_stage(plan, "Three"), 2, "find stage");
        is_int(plan_find_stage(plan, "four"), -1, "missing stage");
        const struct df_inst *run = df->stages[1].insts[0];
        is_int(plan_resolve_from(plan, 1, "one", true, run, &st, &err), 0, "earlier name");
        is_int(st, 0, "earlier stage");
        is_int(plan_resolve_from(plan, 1, "0", true, run, &st, &err), 0, "earlier index");
        is_int(st, 0, "index 0");
        is_int(plan_resolve_from(plan, 1, "0", false, run, &st, &err), 0, "index not allowed");
        is_int(st, -1, "then it is an image name");
        is_int(plan_resolve_from(plan, 1, "nginx", true, run, &st, &err), 0, "an image");
        is_int(st, -1, "image");
        is_int(plan_resolve_from(plan, 1, "three", true, run, &st, &err), -EINVAL, "later stage");
        is_str(lerr_message(err),
               "Dockerfile:3: cannot mount from stage 'three': it is defined after this stage "
               "(line 4) in 'RUN true'",
               "later stage message");
        lerr_free(err);
}

static void write_file(const char *path, const char *text)
{
        int r = fs_write_file_at(AT_FDCWD, path, text, strlen(text), 0644);
        if (r < 0)
                diag("write %s: %s", path, strerror(-r));
}

static char *capture_plan(struct options *o, struct lerr **err, int *ret)
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        *ret = plan_print(o, f, err);
        fclose(f);
        return text;
}

static void test_plan_print(void)
{
        char dir[] = "/tmp/lading-plan-XXXXXX";
        if (!ok(mkdtemp(dir) != NULL, "temp dir"))
                return;
        _cleanup_free_ char *ctx = xasprintf("%s/ctx", dir);
        _cleanup_free_ char *df = xasprintf("%s/ctx/Dockerfile.prod", dir);
        mkdir(ctx, 0755);
        write_file(df, "ARG FROM_ENV\nFROM alpine:${FROM_ENV}\n");

        struct options o;
        struct lerr *err = NULL;
        int r;
        options_init(&o);
        free(o.dockerfile);
        o.dockerfile = xstrdup("Dockerfile.prod");
        free(o.context);
        o.context = xasprintf("dir://%s", ctx);
        strv_push(&o.build_args, "FROM_ENV");
        setenv("FROM_ENV", "3.19", 1);
        o.custom_platform = xstrdup("linux/arm64");
        char *out = capture_plan(&o, &err, &r);
        is_int(r, 0, "plan_print finds the Dockerfile in the context");
        ok(out && strstr(out, "\"base\":\t\"alpine:3.19\""), "bare build arg from the environment");
        ok(out && strstr(out, "\"target_platform\":\t\"linux/arm64\""), "custom platform");
        ok(out && strstr(out, "\"dockerfile\":\t\"Dockerfile.prod\""), "file name as given");

        free(o.dockerfile);
        o.dockerfile = xstrdup("missing/Dockerfile");
        free(out);
        out = capture_plan(&o, &err, &r);
        is_int(r, -ENOENT, "missing Dockerfile");
        _cleanup_free_ char *want = xasprintf(
                "Dockerfile 'missing/Dockerfile' not found (tried it as given and as "
                "%s/missing/Dockerfile): please provide a valid path to a Dockerfile within the "
                "build context with --dockerfile",
                ctx);
        is_str(lerr_message(err), want, "missing Dockerfile message");
        lerr_free(err);
        err = NULL;

        free(o.dockerfile);
        /* a URL is downloaded; nothing listens on port 1 of loopback */
        o.dockerfile = xstrdup("http://127.0.0.1:1/Dockerfile");
        free(out);
        out = capture_plan(&o, &err, &r);
        is_int(r, -EIO, "URL Dockerfile that cannot be downloaded");
        ok(err && strstr(lerr_message(err), "download 'http://127.0.0.1:1/Dockerfile'") != NULL,
           "the error names the URL");
        lerr_free(err);
        err = NULL;

        free(o.dockerfile);
        o.dockerfile = xstrdup(df);
        write_file(df, "FROM alpine\nRUN\n");
        free(out);
        out = capture_plan(&o, &err, &r);
        is_int(r, -EINVAL, "parse error through plan_print");
        _cleanup_free_ char *want2 = xasprintf("%s:2: RUN requires a command in 'RUN'", df);
        is_str(lerr_message(err), want2, "parse error names the file");
        lerr_free(err);
        err = NULL;

        free(out);
        options_done(&o);
        unsetenv("FROM_ENV");
        (void) unlink(df);
        (void) rmdir(ctx);
        (void) rmdir(dir);
}

static void test_limits(void)
{
        size_t n = DOCKERFILE_MAX_BYTES + 1;
        char *big = xmalloc(n);
        memset(big, '#', n);
        big[0] = 'F';
        struct dockerfile *df = NULL;
        struct lerr *err = NULL;
        is_int(dockerfile_parse(big, n, "Dockerfile", &df, &err), -E2BIG, "over the size limit");
        is_str(lerr_message(err),
               "Dockerfile: the Dockerfile is 4194305 bytes, over the limit of 4194304",
               "size limit message");
        lerr_free(err);
        free(big);

        /* a long but valid file parses */
        struct buf b = BUF_INIT(DOCKERFILE_MAX_BYTES);
        if (buf_append_str(&b, "FROM alpine\n") < 0)
                abort();
        for (int i = 0; i < 20000; i++)
                if (buf_printf(&b, "LABEL l%d=\"value %d\"\n", i, i) < 0)
                        abort();
        err = NULL;
        is_int(dockerfile_parse(b.data, b.len, "Dockerfile", &df, &err), 0, "20000 instructions");
        is_int(df ? df->stages[0].n_insts : 0, 20000, "all of them");
        dockerfile_free(df);
        buf_done(&b);
}

int main(void)
{
        test_triggers();
        test_run_script();
        test_build_time_expansion();
        test_build_time_checks();
        test_vars();
        test_expose();
        test_chmod_platform();
        test_resolve_from();
        test_plan_print();
        test_limits();
        return tap_done();
}
