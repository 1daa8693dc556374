/* SPDX-License-Identifier: Apache-2.0 */
/* The warmer's command line (Kaniko's cmd/warmer flags): images from --image and from the
 * FROM lines (and COPY --from / RUN --mount from= images) of a --dockerfile, pulled into
 * --cache-dir. The flag values go through the executor's handlers (cli-values.c), so both
 * programs read the registry flags the same way. */
#include "executor/warmer.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "version.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/parse.h"
#include "common/strv.h"
#include "executor/cli-internal.h"
#include "executor/dockerfile.h"
#include "executor/cloud_creds.h"
#include "executor/oci_layout.h"
#include "executor/options.h"
#include "executor/planner.h"
#include "registry/registry.h"

/* The executor's options (registry flags, --cache-dir, --cache-ttl, --dockerfile, ...) plus the
 * warmer's own; o first, so that a handler given &w->o can find the rest. */
struct warmer_opts {
        struct options o;
        char **images;
        bool force;
        bool help, version;
};

#define OFF(field) offsetof(struct options, field)

static struct warmer_opts *warmer_of(struct options *o)
{
        return (struct warmer_opts *) (void *) o;
}

static CLI_HANDLER(set_image)
{
        (void) f;
        (void) err;
        strv_push(&warmer_of(o)->images, value);
        return 0;
}

static int set_flag(const struct cli_flag *f, bool *field, const char *value, struct lerr **err)
{
        if (!value) {
                *field = true;
                return 0;
        }
        if (parse_bool(value, field) < 0)
                return lerr_set(err, EINVAL, "invalid value '%s' for --%s: expected true or false",
                                value, f->name);
        return 0;
}

static CLI_HANDLER(set_force)
{
        return set_flag(f, &warmer_of(o)->force, value, err);
}

static CLI_HANDLER(set_help)
{
        return set_flag(f, &warmer_of(o)->help, value, err);
}

static CLI_HANDLER(set_version)
{
        return set_flag(f, &warmer_of(o)->version, value, err);
}

static const struct cli_flag warmer_flags[] = {
        {.name = "image",
         .short_name = 'i',
         .type = CLI_LIST,
         .set = set_image,
         .metavar = "IMAGE",
         .help = "Image to warm; repeatable"},
        {.name = "dockerfile",
         .short_name = 'd',
         .type = CLI_STRING,
         .offset = OFF(dockerfile),
         .metavar = "PATH",
         .help = "Also warm every image this Dockerfile's FROM, COPY --from and RUN --mount "
                 "from= name"},
        {.name = "build-arg",
         .type = CLI_LIST,
         .offset = OFF(build_args),
         .set = cli_append_build_arg,
         .metavar = "KEY[=VALUE]",
         .help = "Build argument for the Dockerfile's FROM lines; repeatable"},
        {.name = "cache-dir",
         .short_name = 'c',
         .type = CLI_STRING,
         .offset = OFF(cache_dir),
         .metavar = "DIR",
         .def = "/cache",
         .help = "Where the images go (an OCI layout, created if missing)"},
        {.name = "cache-ttl",
         .type = CLI_DURATION,
         .offset = OFF(cache_ttl_ns),
         .metavar = "DURATION",
         .def = "336h",
         .help = "Pull again images warmed longer ago than this"},
        {.name = "force",
         .short_name = 'f',
         .type = CLI_BOOL,
         .set = set_force,
         .help = "Pull even the images the cache has"},
        {.name = "custom-platform",
         .type = CLI_STRING,
         .offset = OFF(custom_platform),
         .set = cli_set_platform,
         .metavar = "OS/ARCH[/VARIANT]",
         .def = "this machine's",
         .help = "Platform to pull images for"},
        {.name = "customPlatform",
         .type = CLI_STRING,
         .offset = OFF(custom_platform),
         .set = cli_set_platform,
         .alias_of = "custom-platform"},
        {.name = "insecure-pull",
         .type = CLI_BOOL,
         .offset = OFF(insecure_pull),
         .help = "Pull over plain HTTP"},
        {.name = "skip-tls-verify-pull",
         .type = CLI_BOOL,
         .offset = OFF(skip_tls_verify_pull),
         .help = "Pull without TLS verification"},
        {.name = "insecure-registry",
         .type = CLI_LIST,
         .offset = OFF(insecure_registries),
         .metavar = "HOST",
         .help = "Registry to reach over plain HTTP; repeatable"},
        {.name = "skip-tls-verify-registry",
         .type = CLI_LIST,
         .offset = OFF(skip_tls_verify_registries),
         .metavar = "HOST",
         .help = "Registry to reach without TLS verification; repeatable"},
        {.name = "registry-certificate",
         .type = CLI_LIST,
         .offset = OFF(registry_certificates),
         .set = cli_set_registry_certificate,
         .metavar = "HOST=PATH",
         .help = "CA certificate of a registry"},
        {.name = "registry-client-cert",
         .type = CLI_LIST,
         .offset = OFF(registry_client_certs),
         .set = cli_set_registry_client_cert,
         .metavar = "HOST=CERT,KEY",
         .help = "Client certificate for a registry (mutual TLS)"},
        {.name = "registry-map",
         .type = CLI_LIST,
         .offset = OFF(registry_maps),
         .set = cli_set_registry_map,
         .metavar = "ORIG=NEW[;...]",
         .help = "Pull images of a registry from another one"},
        {.name = "registry-mirror",
         .type = CLI_LIST,
         .offset = OFF(registry_mirrors),
         .set = cli_set_registry_mirror,
         .metavar = "HOST",
         .help = "Mirror of Docker Hub; repeatable"},
        {.name = "skip-default-registry-fallback",
         .type = CLI_BOOL,
         .offset = OFF(skip_default_registry_fallback),
         .help = "Fail when no mirror has an image"},
        {.name = "image-download-retry",
         .type = CLI_INT,
         .offset = OFF(image_download_retry),
         .metavar = "N",
         .help = "Retry a failed download N more times"},
        {.name = "verbosity",
         .short_name = 'v',
         .type = CLI_STRING,
         .offset = OFF(verbosity),
         .set = cli_set_verbosity,
         .metavar = "LEVEL",
         .def = "info",
         .help = "Log level: trace, debug, info, warn, error, fatal, panic"},
        {.name = "log-format",
         .type = CLI_STRING,
         .offset = OFF(log_format),
         .set = cli_set_log_format,
         .metavar = "FORMAT",
         .def = "color",
         .help = "Log format: text, color, json"},
        {.name = "log-timestamp",
         .type = CLI_BOOL,
         .offset = OFF(log_timestamp),
         .help = "Time stamps in the log"},
        {.name = "help", .short_name = 'h', .type = CLI_BOOL, .set = set_help, .help = "This help"},
        {.name = "version", .type = CLI_BOOL, .set = set_version, .help = "Print the version"},
};

static const struct cli_flag *find_long(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(warmer_flags); i++)
                if (streq(warmer_flags[i].name, name))
                        return &warmer_flags[i];
        return NULL;
}

static const struct cli_flag *find_short(char c)
{
        for (size_t i = 0; i < ARRAY_SIZE(warmer_flags); i++)
                if (warmer_flags[i].short_name == c)
                        return &warmer_flags[i];
        return NULL;
}

/* --name, --name=value, --name value, -x value, -xvalue, -x=value; booleans take a value only
 * after '=' (as pflag reads them). */
static int parse_args(struct warmer_opts *w, int argc, char **argv, struct lerr **err)
{
        for (int i = 1; i < argc; i++) {
                const char *arg = argv[i], *value = NULL;
                const struct cli_flag *f = NULL;
                _cleanup_free_ char *name = NULL;
                if (arg[0] == '-' && arg[1] == '-' && arg[2]) {
                        const char *eq = strchr(arg + 2, '=');
                        name = eq ? xstrndup(arg + 2, (size_t) (eq - arg - 2)) : xstrdup(arg + 2);
                        value = eq ? eq + 1 : NULL;
                        f = find_long(name);
                        if (!f)
                                return lerr_set(err, EINVAL, "unknown flag '--%s'", name);
                } else if (arg[0] == '-' && arg[1] && arg[1] != '-') {
                        f = find_short(arg[1]);
                        if (!f || (arg[2] && f->type == CLI_BOOL && arg[2] != '='))
                                return lerr_set(err, EINVAL, "unknown flag '%s'", arg);
                        value = arg[2] == '=' ? arg + 3 : arg[2] ? arg + 2 : NULL;
                } else
                        return lerr_set(err, EINVAL, "unexpected argument '%s'", arg);
                if (f->type != CLI_BOOL && !value) {
                        if (i + 1 >= argc)
                                return lerr_set(err, EINVAL, "flag --%s needs a value", f->name);
                        value = argv[++i];
                }
                if (f->alias_of)
                        log_warn("--%s is deprecated, use --%s", f->name, f->alias_of);
                int r = cli_flag_set(f, &w->o, value, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Prints text from column col, wrapped at 100 columns. */
static void print_wrapped(FILE *out, const char *text, int col)
{
        int at = col;
        for (const char *p = text; *p;) {
                size_t n = strcspn(p, " ");
                if (at > col && at + 1 + (int) n > 100) {
                        fprintf(out, "\n%*s", col, "");
                        at = col;
                }
                if (at > col) {
                        fputc(' ', out);
                        at++;
                }
                fwrite(p, 1, n, out);
                at += (int) n;
                p += n;
                while (*p == ' ')
                        p++;
        }
        fputc('\n', out);
}

static void print_help(FILE *out)
{
        fprintf(out, "Usage: warmer --image IMAGE... [--cache-dir DIR] [flags]\n"
                     "       executor warm --image IMAGE... [--cache-dir DIR] [flags]\n\n"
                     "Pulls base images into a local cache (an OCI layout) that `executor "
                     "--cache --cache-dir DIR` reads\ninstead of the registry.\n\nFlags:\n");
        for (size_t i = 0; i < ARRAY_SIZE(warmer_flags); i++) {
                const struct cli_flag *f = &warmer_flags[i];
                char left[80];
                if (f->alias_of)
                        continue;
                char lead[8] = "    ";
                if (f->short_name)
                        snprintf(lead, sizeof(lead), "-%c, ", f->short_name);
                snprintf(left, sizeof(left), "%s--%s%s%s", lead, f->name, f->metavar ? " " : "",
                         f->metavar ? f->metavar : "");
                _cleanup_free_ char *help =
                        f->def ? xasprintf("%s (default %s)", f->help, f->def) : xstrdup(f->help);
                fprintf(out, "  %-38s ", left);
                print_wrapped(out, help, 41);
        }
}

/* The images a Dockerfile names: FROM an image, COPY --from an image, RUN --mount from= an
 * image, each with the platform its stage is built for. */
static int dockerfile_images(struct warmer_opts *w, char ***ret, char ***ret_platforms,
                             struct lerr **err)
{
        struct buf b = BUF_INIT(DOCKERFILE_MAX_BYTES);
        _cleanup_(dockerfile_freep) struct dockerfile *df = NULL;
        _cleanup_(plan_freep) struct plan *plan = NULL;
        int r = fs_read_file_at(AT_FDCWD, w->o.dockerfile, &b);
        if (r < 0) {
                buf_done(&b);
                return lerr_errno(err, r, "read '%s'", w->o.dockerfile);
        }
        r = dockerfile_parse(buf_str(&b), b.len, w->o.dockerfile, &df, err);
        buf_done(&b);
        struct plan_params params = {.build_args = w->o.build_args,
                                     .target_platform = w->o.custom_platform};
        if (r >= 0)
                r = plan_build(df, &params, &plan, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < plan->n_stages; i++) {
                const struct plan_stage *ps = &plan->stages[i];
                const char *platform = ps->platform ? ps->platform : plan->target_platform;
                for (size_t k = 0; k < ps->n_deps; k++) {
                        const struct plan_dep *d = &ps->deps[k];
                        const char *image = d->via == PLAN_VIA_FROM ? ps->base : d->image;
                        if (d->stage >= 0 || !image ||
                            (d->via == PLAN_VIA_FROM && ps->base_kind != PLAN_BASE_IMAGE))
                                continue;
                        strv_push(ret, image);
                        strv_push(ret_platforms, platform);
                }
        }
        return 0;
}

static int warm_all(struct warmer_opts *w, struct lerr **err)
{
        const struct options *o = &w->o;
        struct reg_options ro = {
                .kaniko_dir = o->kaniko_dir,
                .insecure_pull = o->insecure_pull,
                .skip_tls_verify_pull = o->skip_tls_verify_pull,
                .insecure_registries = o->insecure_registries,
                .skip_tls_verify_registries = o->skip_tls_verify_registries,
                .registry_certificates = o->registry_certificates,
                .registry_client_certs = o->registry_client_certs,
                .registry_maps = o->registry_maps,
                .skip_default_registry_fallback = o->skip_default_registry_fallback,
                .image_download_retry = o->image_download_retry,
        };
        _cleanup_(reg_client_freep) struct reg_client *reg = NULL;
        _cleanup_(oci_layout_freep) struct oci_layout *l = NULL;
        _cleanup_(strv_freep) char **images = strv_copy(w->images ? w->images : (char *[]){NULL});
        _cleanup_(strv_freep) char **platforms = NULL;
        for (size_t i = 0; images[i]; i++)
                strv_push(&platforms, o->custom_platform ? o->custom_platform : "");
        int r = 0;
        if (o->dockerfile)
                r = dockerfile_images(w, &images, &platforms, err);
        if (r >= 0)
                r = reg_client_new(&ro, &reg, err);
        if (r >= 0)
                r = oci_layout_open(o->cache_dir, true, &l, err);
        if (r < 0)
                return r;
        size_t n = strv_length(images), failed = 0;
        for (size_t i = 0; i < n; i++) {
                _cleanup_(image_ref_freep) struct image_ref *ref = NULL;
                struct platform p = {0};
                struct lerr *e = NULL;
                if (*platforms[i])
                        r = platform_parse(platforms[i], &p, &e);
                else {
                        platform_default(&p);
                        r = 0;
                }
                if (r >= 0)
                        r = image_ref_parse(images[i], &ref, &e);
                if (r >= 0)
                        r = warm_image(reg, l, ref, &p, o->cache_ttl_ns, w->force, &e);
                platform_done(&p);
                if (r < 0) {
                        /* as Kaniko's warmer: the others are still warmed */
                        log_warn("Error while trying to warm image %s: %s", images[i],
                                 lerr_message(e));
                        failed++;
                }
                lerr_free(e);
        }
        if (n == 0)
                return lerr_set(err, EINVAL, "the Dockerfile names no base image to warm");
        if (failed == n)
                return lerr_set(err, EIO, "failed to warm any of the given images");
        return 0;
}

int warmer_main(int argc, char **argv)
{
        _cleanup_(lerr_freep) struct lerr *err = NULL;
        struct warmer_opts w = {0};
        options_init(&w.o);
        free(w.o.dockerfile);
        w.o.dockerfile = NULL;
        int r = parse_args(&w, argc, argv, &err);
        if (r >= 0 && w.help) {
                print_help(stdout);
        } else if (r >= 0 && w.version) {
                printf("lading warmer %s (%s)\n", LADING_VERSION, LADING_COMMIT);
        } else if (r >= 0) {
                enum log_level level = LOG_INFO;
                enum log_format format = LOG_FORMAT_COLOR;
                (void) log_level_parse(w.o.verbosity, &level);
                (void) log_format_parse(w.o.log_format, &format);
                log_setup(level, format, w.o.log_timestamp);
                strv_foreach (m, w.o.registry_mirrors)
                        strv_consume(&w.o.registry_maps, xasprintf("index.docker.io=%s", m));
                if (!w.images && !w.o.dockerfile)
                        r = lerr_set(&err, EINVAL,
                                     "give at least one --image to warm, or a --dockerfile");
                else if (!w.o.cache_dir)
                        r = lerr_set(&err, EINVAL, "--cache-dir must not be empty");
                else {
                        (void) curl_global_init(CURL_GLOBAL_DEFAULT);
                        cloud_creds_register();
                        r = warm_all(&w, &err);
                }
        }
        strv_free(w.images);
        options_done(&w.o);
        if (r < 0) {
                fprintf(stderr, "error: %s\n", lerr_message(err));
                return 1;
        }
        return fflush(stdout) == 0 ? 0 : 1;
}
