/* SPDX-License-Identifier: Apache-2.0 */
/* The flag table: Kaniko v1.24.0's executor flags (cmd/executor/cmd/root.go) plus lading's, with
 * lookups and the nearest-name suggestion. The value handlers are in cli-values.c. */
#include "executor/cli-internal.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "executor/cli.h"
#include "executor/options.h"
#include "common/strv.h"

#define CFIELD(o, f, type) ((const type *) (const void *) ((const char *) (o) + (f)->offset))
#define OFF(field)         offsetof(struct options, field)

static const char *const snapshot_modes[] = {
        [SNAPSHOT_MODE_FULL] = "full",
        [SNAPSHOT_MODE_REDO] = "redo",
        [SNAPSHOT_MODE_TIME] = "time",
        NULL,
};
static const char *const compressions[] = {
        [COMPRESSION_GZIP] = "gzip",
        [COMPRESSION_ZSTD] = "zstd",
        NULL,
};

const char *const cli_group_titles[CLI_GROUP_COUNT] = {
        [CLI_GROUP_INPUT] = "Build input",
        [CLI_GROUP_OUTPUT] = "Outputs",
        [CLI_GROUP_LAYERS] = "Layers and snapshots",
        [CLI_GROUP_CACHE] = "Cache",
        [CLI_GROUP_REGISTRY] = "Registries",
        [CLI_GROUP_RUNTIME] = "Runtime",
        [CLI_GROUP_LADING] = "lading only",
        [CLI_GROUP_DEPRECATED] = "Deprecated aliases",
        [CLI_GROUP_HIDDEN] = NULL,
};

#define B CLI_BUILT
#define P CLI_PLAN

const struct cli_flag cli_flags[] = {
        /* build input */
        {.name = "dockerfile",
         .short_name = 'f',
         .type = CLI_STRING,
         .group = CLI_GROUP_INPUT,
         .attrs = B | P,
         .offset = OFF(dockerfile),
         .metavar = "PATH",
         .def = "Dockerfile",
         .help = "Dockerfile to build: tried as given, then under the context, or an http(s):// "
                 "URL"},
        {.name = "context",
         .short_name = 'c',
         .type = CLI_STRING,
         .group = CLI_GROUP_INPUT,
         .attrs = B | P,
         .offset = OFF(context),
         .metavar = "DIR",
         .def = "/workspace/",
         .help = "Build context: a local directory, dir://DIR, tar://PATH.tar.gz, tar://stdin, "
                 "s3://BUCKET/KEY.tar.gz (AWS_* environment, S3_ENDPOINT, S3_FORCE_PATH_STYLE), "
                 "gs://BUCKET/OBJECT.tar.gz (Application Default Credentials: "
                 "GOOGLE_APPLICATION_CREDENTIALS, gcloud, the metadata server), "
                 "git://HOST/PATH[#REF[#COMMIT]] (fetched over https) or an https:// URL of a "
                 "tar.gz"},
        {.name = "context-sub-path",
         .type = CLI_STRING,
         .group = CLI_GROUP_INPUT,
         .attrs = B | P,
         .offset = OFF(context_sub_path),
         .metavar = "DIR",
         .help = "Use this sub-directory of the context as the context"},
        {.name = "git",
         .type = CLI_STRING,
         .group = CLI_GROUP_INPUT,
         .attrs = B | P,
         .offset = OFF(git_options),
         .metavar = "KEY=VALUE",
         .set = cli_set_git,
         .help = "Options of a git:// context: branch=NAME, single-branch=BOOL, "
                 "recurse-submodules=BOOL, insecure-skip-tls=BOOL (comma-separated or repeated)"},
        {.name = "build-arg",
         .type = CLI_LIST,
         .group = CLI_GROUP_INPUT,
         .attrs = B | P,
         .offset = OFF(build_args),
         .metavar = "KEY[=VALUE]",
         .set = cli_append_build_arg,
         .help = "Set a build argument; a bare KEY takes its value from the environment and is "
                 "left out when unset. Repeatable"},
        {.name = "target",
         .type = CLI_STRING,
         .group = CLI_GROUP_INPUT,
         .attrs = B | P,
         .offset = OFF(target),
         .metavar = "STAGE",
         .help = "Stage to build (its name, in any case): the last stage built and the image "
                 "produced"},
        {.name = "custom-platform",
         .type = CLI_STRING,
         .group = CLI_GROUP_INPUT,
         .attrs = B | P,
         .offset = OFF(custom_platform),
         .metavar = "OS/ARCH[/VARIANT]",
         .set = cli_set_platform,
         .def = "this machine's",
         .help = "Platform to build for: selects base images from multi-platform indexes and "
                 "sets the image's os and architecture"},
        {.name = "skip-unused-stages",
         .type = CLI_BOOL,
         .group = CLI_GROUP_INPUT,
         .attrs = B,
         .offset = OFF(skip_unused_stages),
         .help = "Build only the stages the target needs, not every stage before it"},

        /* outputs */
        {.name = "destination",
         .short_name = 'd',
         .type = CLI_LIST,
         .group = CLI_GROUP_OUTPUT,
         .attrs = B,
         .offset = OFF(destinations),
         .metavar = "IMAGE",
         .help = "Image reference to push the result to; required unless --no-push. Repeatable"},
        {.name = "no-push",
         .type = CLI_BOOL,
         .group = CLI_GROUP_OUTPUT,
         .attrs = B,
         .offset = OFF(no_push),
         .help = "Build without pushing the image (KANIKO_NO_PUSH=true does the same)"},
        {.name = "tar-path",
         .type = CLI_STRING,
         .group = CLI_GROUP_OUTPUT,
         .attrs = B,
         .offset = OFF(tar_path),
         .metavar = "PATH",
         .help = "Also write the image as a 'docker load' tarball, tagged with each destination"},
        {.name = "oci-layout-path",
         .type = CLI_STRING,
         .group = CLI_GROUP_OUTPUT,
         .attrs = B,
         .offset = OFF(oci_layout_path),
         .metavar = "DIR",
         .help = "Also write the image as an OCI image layout in DIR"},
        {.name = "digest-file",
         .type = CLI_STRING,
         .group = CLI_GROUP_OUTPUT,
         .attrs = B,
         .offset = OFF(digest_file),
         .metavar = "PATH",
         .help = "Write the digest of the image's manifest to PATH"},
        {.name = "image-name-with-digest-file",
         .type = CLI_STRING,
         .group = CLI_GROUP_OUTPUT,
         .attrs = B,
         .offset = OFF(image_name_with_digest_file),
         .metavar = "PATH",
         .help = "Write REPOSITORY@DIGEST, a line per destination, to PATH (needs --destination)"},
        {.name = "image-name-tag-with-digest-file",
         .type = CLI_STRING,
         .group = CLI_GROUP_OUTPUT,
         .attrs = B,
         .offset = OFF(image_name_tag_with_digest_file),
         .metavar = "PATH",
         .help = "Write REPOSITORY:TAG@DIGEST, a line per destination, to PATH (needs "
                 "--destination)"},
        {.name = "label",
         .type = CLI_LIST,
         .group = CLI_GROUP_OUTPUT,
         .attrs = B,
         .offset = OFF(labels),
         .metavar = "KEY=VALUE",
         .set = cli_append_key_value,
         .help = "Add a label to the image configuration of every stage. Repeatable"},
        {.name = "push-retry",
         .type = CLI_INT,
         .group = CLI_GROUP_OUTPUT,
         .attrs = B,
         .offset = OFF(push_retry),
         .metavar = "N",
         .def = "0",
         .help = "Retry a failed push N times, waiting 1s, 2s, 4s... in between"},
        {.name = "push-ignore-immutable-tag-errors",
         .type = CLI_BOOL,
         .group = CLI_GROUP_OUTPUT,
         .attrs = B,
         .offset = OFF(push_ignore_immutable_tag_errors),
         .help = "Count a push refused because the tag is immutable (GAR, ECR) as a success"},
        {.name = "skip-push-permission-check",
         .type = CLI_BOOL,
         .group = CLI_GROUP_OUTPUT,
         .attrs = B,
         .offset = OFF(skip_push_permission_check),
         .help = "Do not check, before building, that the destinations accept a push"},

        /* layers and snapshots */
        {.name = "snapshot-mode",
         .type = CLI_ENUM,
         .group = CLI_GROUP_LAYERS,
         .attrs = B,
         .offset = OFF(snapshot_mode),
         .metavar = "MODE",
         .def = "full",
         .choices = snapshot_modes,
         .help = "What marks a file as changed: full (content and metadata), redo (metadata "
                 "and size) or time (modification time only)"},
        {.name = "single-snapshot",
         .type = CLI_BOOL,
         .group = CLI_GROUP_LAYERS,
         .attrs = B,
         .offset = OFF(single_snapshot),
         .help = "Snapshot the filesystem once, after the last instruction: one layer"},
        {.name = "reproducible",
         .type = CLI_BOOL,
         .group = CLI_GROUP_LAYERS,
         .attrs = B,
         .offset = OFF(reproducible),
         .help = "Zero the timestamps in the configuration and in every layer, so that the "
                 "same input gives the same digest"},
        {.name = "use-new-run",
         .type = CLI_BOOL,
         .group = CLI_GROUP_LAYERS,
         .attrs = B,
         .offset = OFF(use_new_run),
         .help = "Find the changes of RUN from the files modified since it started (Kaniko's "
                 "experimental RUN)"},
        {.name = "force-build-metadata",
         .type = CLI_BOOL,
         .group = CLI_GROUP_LAYERS,
         .attrs = B,
         .offset = OFF(force_build_metadata),
         .help = "Add a layer even for instructions that change only metadata"},
        {.name = "compression",
         .type = CLI_ENUM,
         .group = CLI_GROUP_LAYERS,
         .attrs = B,
         .offset = OFF(compression),
         .metavar = "ALGORITHM",
         .def = "gzip",
         .choices = compressions,
         .help = "Layer compression: gzip or zstd"},
        {.name = "compression-level",
         .type = CLI_INT,
         .group = CLI_GROUP_LAYERS,
         .attrs = B,
         .offset = OFF(compression_level),
         .metavar = "N",
         .def = "-1",
         .min = -1,
         .help = "Compression level, 1-9 for gzip, 1-22 for zstd; -1 or 0: the default"},
        {.name = "ignore-path",
         .type = CLI_LIST,
         .group = CLI_GROUP_LAYERS,
         .attrs = B,
         .offset = OFF(ignore_paths),
         .metavar = "PATH",
         .help = "Leave PATH out of every snapshot (each component may be a glob). Repeatable"},
        {.name = "ignore-var-run",
         .type = CLI_BOOL,
         .group = CLI_GROUP_LAYERS,
         .attrs = B,
         .offset = OFF(ignore_var_run),
         .def = "true",
         .help = "Leave /var/run out of snapshots; =false keeps it in the image"},
        {.name = "image-fs-extract-retry",
         .type = CLI_INT,
         .group = CLI_GROUP_LAYERS,
         .attrs = B,
         .offset = OFF(image_fs_extract_retry),
         .metavar = "N",
         .def = "0",
         .help = "Retry a failed extraction of a base image N times"},
        {.name = "cleanup",
         .type = CLI_BOOL,
         .group = CLI_GROUP_LAYERS,
         .attrs = B,
         .offset = OFF(cleanup),
         .help = "Delete the files the build made once it is done"},

        /* cache */
        {.name = "cache",
         .type = CLI_BOOL,
         .group = CLI_GROUP_CACHE,
         .attrs = B,
         .offset = OFF(cache),
         .help = "Reuse layers from the cache repository and base images from --cache-dir"},
        {.name = "cache-repo",
         .type = CLI_STRING,
         .group = CLI_GROUP_CACHE,
         .attrs = B,
         .offset = OFF(cache_repo),
         .metavar = "REPOSITORY",
         .def = "DESTINATION/cache",
         .help = "Repository of cached layers; oci:DIR keeps them in an OCI layout on disk"},
        {.name = "cache-dir",
         .type = CLI_STRING,
         .group = CLI_GROUP_CACHE,
         .attrs = B,
         .offset = OFF(cache_dir),
         .metavar = "DIR",
         .def = "/cache",
         .help = "Local cache of base images, filled by the warmer; read with --cache"},
        {.name = "cache-ttl",
         .type = CLI_DURATION,
         .group = CLI_GROUP_CACHE,
         .attrs = B,
         .offset = OFF(cache_ttl_ns),
         .metavar = "DURATION",
         .def = "336h",
         .help = "Ignore cached layers and base images older than this"},
        {.name = "cache-copy-layers",
         .type = CLI_BOOL,
         .group = CLI_GROUP_CACHE,
         .attrs = B,
         .offset = OFF(cache_copy_layers),
         .help = "Cache the layers of COPY and ADD too"},
        {.name = "cache-run-layers",
         .type = CLI_BOOL,
         .group = CLI_GROUP_CACHE,
         .attrs = B,
         .offset = OFF(cache_run_layers),
         .def = "true",
         .help = "Cache the layers of RUN"},
        {.name = "compressed-caching",
         .type = CLI_BOOL,
         .group = CLI_GROUP_CACHE,
         .attrs = B,
         .offset = OFF(compressed_caching),
         .def = "true",
         .help = "No effect, accepted for Kaniko compatibility: lading streams layers and never "
                 "keeps a compressed layer in memory"},
        {.name = "no-push-cache",
         .type = CLI_BOOL,
         .group = CLI_GROUP_CACHE,
         .attrs = B,
         .offset = OFF(no_push_cache),
         .help = "Do not push cache layers"},

        /* registries */
        {.name = "insecure",
         .type = CLI_BOOL,
         .group = CLI_GROUP_REGISTRY,
         .attrs = B,
         .offset = OFF(insecure),
         .help = "Push over plain HTTP"},
        {.name = "skip-tls-verify",
         .type = CLI_BOOL,
         .group = CLI_GROUP_REGISTRY,
         .attrs = B,
         .offset = OFF(skip_tls_verify),
         .help = "Push without verifying TLS certificates"},
        {.name = "insecure-pull",
         .type = CLI_BOOL,
         .group = CLI_GROUP_REGISTRY,
         .attrs = B,
         .offset = OFF(insecure_pull),
         .help = "Pull over plain HTTP"},
        {.name = "skip-tls-verify-pull",
         .type = CLI_BOOL,
         .group = CLI_GROUP_REGISTRY,
         .attrs = B,
         .offset = OFF(skip_tls_verify_pull),
         .help = "Pull without verifying TLS certificates"},
        {.name = "insecure-registry",
         .type = CLI_LIST,
         .group = CLI_GROUP_REGISTRY,
         .attrs = B,
         .offset = OFF(insecure_registries),
         .metavar = "REGISTRY",
         .help = "Use plain HTTP with this registry, to push and to pull. Repeatable"},
        {.name = "skip-tls-verify-registry",
         .type = CLI_LIST,
         .group = CLI_GROUP_REGISTRY,
         .attrs = B,
         .offset = OFF(skip_tls_verify_registries),
         .metavar = "REGISTRY",
         .help = "Do not verify the TLS certificate of this registry. Repeatable"},
        {.name = "registry-certificate",
         .type = CLI_LIST,
         .group = CLI_GROUP_REGISTRY,
         .attrs = B,
         .offset = OFF(registry_certificates),
         .metavar = "REGISTRY=PATH",
         .set = cli_set_registry_certificate,
         .help = "Trust the CA certificate in PATH for this registry. Repeatable"},
        {.name = "registry-client-cert",
         .type = CLI_LIST,
         .group = CLI_GROUP_REGISTRY,
         .attrs = B,
         .offset = OFF(registry_client_certs),
         .metavar = "REGISTRY=CERT,KEY",
         .set = cli_set_registry_client_cert,
         .help = "Client certificate and key for mutual TLS with this registry. Repeatable"},
        {.name = "registry-mirror",
         .type = CLI_LIST,
         .group = CLI_GROUP_REGISTRY,
         .attrs = B,
         .offset = OFF(registry_mirrors),
         .metavar = "MIRROR",
         .set = cli_set_registry_mirror,
         .help = "Pull Docker Hub images from this mirror, then the next, then Docker Hub. "
                 "Repeatable; also KANIKO_REGISTRY_MIRROR"},
        {.name = "registry-map",
         .type = CLI_LIST,
         .group = CLI_GROUP_REGISTRY,
         .attrs = B,
         .offset = OFF(registry_maps),
         .metavar = "ORIG=NEW[;...]",
         .set = cli_set_registry_map,
         .help = "Pull images of registry ORIG from NEW, which may add a path "
                 "(docker.io=harbor.local/hub). Repeatable; also KANIKO_REGISTRY_MAP"},
        {.name = "skip-default-registry-fallback",
         .type = CLI_BOOL,
         .group = CLI_GROUP_REGISTRY,
         .attrs = B,
         .offset = OFF(skip_default_registry_fallback),
         .help = "Fail when no mirror has the image instead of trying the original registry"},
        {.name = "image-download-retry",
         .type = CLI_INT,
         .group = CLI_GROUP_REGISTRY,
         .attrs = B,
         .offset = OFF(image_download_retry),
         .metavar = "N",
         .def = "0",
         .help = "Retry a failed base image download N times, waiting 1s, 2s, 4s... in between"},

        /* runtime */
        {.name = "kaniko-dir",
         .type = CLI_STRING,
         .group = CLI_GROUP_RUNTIME,
         .attrs = B,
         .offset = OFF(kaniko_dir),
         .metavar = "DIR",
         .def = "/kaniko",
         .help = "The executor's own directory, left out of the image; wins over KANIKO_DIR"},
        {.name = "force",
         .type = CLI_BOOL,
         .group = CLI_GROUP_RUNTIME,
         .attrs = B,
         .offset = OFF(force),
         .help = "Build even when not running inside a container"},
        {.name = "verbosity",
         .short_name = 'v',
         .type = CLI_STRING,
         .group = CLI_GROUP_RUNTIME,
         .attrs = B,
         .offset = OFF(verbosity),
         .metavar = "LEVEL",
         .def = "info",
         .set = cli_set_verbosity,
         .suggest = (const char *const[]){"trace", "debug", "info", "warn", "error", "fatal",
                                          "panic", NULL},
         .help = "Log level: trace, debug, info, warn, error, fatal or panic"},
        {.name = "log-format",
         .type = CLI_STRING,
         .group = CLI_GROUP_RUNTIME,
         .attrs = B,
         .offset = OFF(log_format),
         .metavar = "FORMAT",
         .def = "color",
         .set = cli_set_log_format,
         .suggest = (const char *const[]){"text", "color", "json", NULL},
         .help = "Log format: text, color (text with colours on a terminal) or json"},
        {.name = "log-timestamp",
         .type = CLI_BOOL,
         .group = CLI_GROUP_RUNTIME,
         .attrs = B,
         .offset = OFF(log_timestamp),
         .help = "Start each log line with the time"},
        {.name = "help",
         .short_name = 'h',
         .type = CLI_ACTION,
         .group = CLI_GROUP_RUNTIME,
         .attrs = B,
         .action = CLI_ACTION_HELP,
         .help = "Show this help and exit"},
        {.name = "version",
         .type = CLI_ACTION,
         .group = CLI_GROUP_RUNTIME,
         .attrs = B,
         .action = CLI_ACTION_VERSION,
         .help = "Show the version and exit"},

        /* lading's own */
        {.name = "sandbox",
         .type = CLI_STRING,
         .group = CLI_GROUP_LADING,
         .attrs = B,
         .offset = OFF(sandbox),
         .metavar = "DIR",
         .help = "Build with DIR as the root filesystem, in new namespaces, instead of /: for "
                 "builds outside a container"},
        {.name = "print-plan",
         .type = CLI_BOOL,
         .group = CLI_GROUP_LADING,
         .attrs = B,
         .offset = OFF(print_plan),
         .help = "Parse the Dockerfile, apply the build arguments and --target, print the plan "
                 "as JSON and exit without building"},
        {.name = "secret",
         .type = CLI_LIST,
         .group = CLI_GROUP_LADING,
         .attrs = B,
         .offset = OFF(secrets),
         .metavar = "id=NAME[,src=PATH|,env=VAR]",
         .set = cli_set_secret,
         .help = "Offer a secret to RUN --mount=type=secret, from a file or an environment "
                 "variable (default: the variable NAME if set, else the file NAME). Repeatable"},
        {.name = "annotation",
         .type = CLI_LIST,
         .group = CLI_GROUP_LADING,
         .attrs = B,
         .offset = OFF(annotations),
         .metavar = "KEY=VALUE",
         .set = cli_append_key_value,
         .help = "Add an annotation to the image manifest. Repeatable"},

        /* deprecated names Kaniko still accepts */
        {.name = "snapshotMode",
         .type = CLI_ENUM,
         .group = CLI_GROUP_DEPRECATED,
         .attrs = B,
         .alias_of = "snapshot-mode",
         .offset = OFF(snapshot_mode),
         .metavar = "MODE",
         .choices = snapshot_modes},
        {.name = "customPlatform",
         .type = CLI_STRING,
         .group = CLI_GROUP_DEPRECATED,
         .attrs = B,
         .alias_of = "custom-platform",
         .offset = OFF(custom_platform),
         .metavar = "OS/ARCH[/VARIANT]",
         .set = cli_set_platform},
        {.name = "tarPath",
         .type = CLI_STRING,
         .group = CLI_GROUP_DEPRECATED,
         .attrs = B,
         .alias_of = "tar-path",
         .offset = OFF(tar_path),
         .metavar = "PATH"},
        {.name = "whitelist-var-run",
         .type = CLI_BOOL,
         .group = CLI_GROUP_DEPRECATED,
         .attrs = B,
         .alias_of = "ignore-var-run",
         .offset = OFF(ignore_var_run)},

        /* hidden in Kaniko's help too */
        {.name = "bucket",
         .short_name = 'b',
         .type = CLI_STRING,
         .group = CLI_GROUP_HIDDEN,
         .attrs = B | P,
         .offset = OFF(bucket),
         .metavar = "BUCKET",
         .help = "Legacy: GCS bucket holding the context as BUCKET/context.tar.gz (gs:// is "
                 "implied without a scheme; a local --context given too wins, as in Kaniko)"},
        {.name = "azure-container-registry-config",
         .type = CLI_STRING,
         .group = CLI_GROUP_HIDDEN,
         .attrs = B,
         .offset = OFF(azure_container_registry_config),
         .metavar = "PATH",
         .help = "Azure container registry configuration file (azure.json: its client secret "
                 "or managed identity gives the credentials of *.azurecr.io registries)"},
};

#undef B
#undef P

const size_t cli_flags_count = ARRAY_SIZE(cli_flags);

const struct cli_flag *cli_flag_by_name(const char *name)
{
        for (size_t i = 0; i < cli_flags_count; i++)
                if (streq(cli_flags[i].name, name))
                        return &cli_flags[i];
        return NULL;
}

const struct cli_flag *cli_flag_by_short(char c)
{
        for (size_t i = 0; c && i < cli_flags_count; i++)
                if (cli_flags[i].short_name == c)
                        return &cli_flags[i];
        return NULL;
}

const struct cli_flag *cli_flag_canonical(const struct cli_flag *f)
{
        const struct cli_flag *c = f->alias_of ? cli_flag_by_name(f->alias_of) : NULL;
        return c ? c : f;
}

static char *const *list_at(const struct options *o, const struct cli_flag *f)
{
        char *const *l;

        memcpy(&l, (const char *) o + f->offset, sizeof(l));
        return l;
}

bool cli_flag_differs(const struct cli_flag *f, const struct options *o,
                      const struct options *defaults)
{
        switch (f->type) {
        case CLI_BOOL:
                return *CFIELD(o, f, bool) != *CFIELD(defaults, f, bool);
        case CLI_STRING:
                return !streq_ptr(*CFIELD(o, f, char *), *CFIELD(defaults, f, char *));
        case CLI_INT:
        case CLI_ENUM:
                return memcmp(CFIELD(o, f, int), CFIELD(defaults, f, int), sizeof(int)) != 0;
        case CLI_DURATION:
                return *CFIELD(o, f, int64_t) != *CFIELD(defaults, f, int64_t);
        case CLI_LIST:
                return strv_length(list_at(o, f)) != strv_length(list_at(defaults, f));
        case CLI_ACTION:
                return false;
        }
        return false;
}

size_t cli_edit_distance(const char *a, const char *b)
{
        /* names are short; longer input only needs to be "far" */
        enum { MAXLEN = 64 };
        size_t n = MIN(strlen(a), (size_t) MAXLEN), m = MIN(strlen(b), (size_t) MAXLEN);
        size_t d[MAXLEN + 1][MAXLEN + 1];

        for (size_t i = 0; i <= n; i++)
                d[i][0] = i;
        for (size_t j = 0; j <= m; j++)
                d[0][j] = j;
        for (size_t i = 1; i <= n; i++)
                for (size_t j = 1; j <= m; j++) {
                        size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
                        size_t v = MIN(d[i - 1][j] + 1, d[i][j - 1] + 1);
                        v = MIN(v, d[i - 1][j - 1] + cost);
                        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                                v = MIN(v, d[i - 2][j - 2] + 1);
                        d[i][j] = v;
                }
        return d[n][m];
}

/* lower case, without '-' and '_': "--snapshot_Mode" and "--snapshotmode" find snapshot-mode */
static void fold(const char *s, char *out, size_t size)
{
        size_t n = 0;
        for (; *s && n + 1 < size; s++)
                if (*s != '-' && *s != '_')
                        out[n++] = (char) tolower((unsigned char) *s);
        out[n] = '\0';
}

static size_t common_prefix(const char *a, const char *b)
{
        size_t n = 0;
        while (a[n] && a[n] == b[n])
                n++;
        return n;
}

/* How far a mistyped name is from a flag name (both folded): the edit distance, but a prefix
 * either way ("--dest", "--cache-ttl-hours") or a changed ending ("--verbose") counts as near. */
static size_t nearness(const char *typed, const char *name)
{
        size_t d = cli_edit_distance(typed, name);
        size_t t = strlen(typed), n = strlen(name), lcp = common_prefix(typed, name);

        if (t >= 3 && lcp == t)
                d = MIN(d, (size_t) 1);
        if ((n >= 4 && lcp == n) || (t >= 5 && lcp >= t - 1))
                d = MIN(d, (size_t) 2);
        return d;
}

const struct cli_flag *cli_suggest(const char *typed)
{
        const struct cli_flag *best = NULL;
        size_t best_d = SIZE_MAX, best_lcp = 0, len = strlen(typed);
        char t[65], c[65];

        fold(typed, t, sizeof(t));
        for (size_t i = 0; i < cli_flags_count; i++) {
                const struct cli_flag *f = &cli_flags[i];
                if (f->group == CLI_GROUP_HIDDEN || f->alias_of)
                        continue;
                fold(f->name, c, sizeof(c));
                size_t d = nearness(t, c), lcp = common_prefix(t, c);
                if (d < best_d || (d == best_d && lcp > best_lcp)) {
                        best_d = d;
                        best_lcp = lcp;
                        best = f;
                }
        }
        /* cobra suggests within distance 2; long names earn a little more slack */
        return best_d <= MAX((size_t) 2, len / 5) ? best : NULL;
}
