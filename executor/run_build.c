/* SPDX-License-Identifier: Apache-2.0 */
/* How a build starts: in a sandbox, or as the container's PID 1 on "/". Never on the machine's
 * own root without PID 1, $KANIKO_DIR/executor or --force (see container_check.h). */
#include "executor/run_build.h"

#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/log.h"
#include "common/strv.h"
#include "executor/acr_creds.h"
#include "executor/build.h"
#include "executor/container_check.h"
#include "executor/cloud_creds.h"
#include "executor/ecr_creds.h"
#include "executor/gcr_creds.h"
#include "executor/context_gcs.h"
#include "executor/options.h"
#include "executor/pid1.h"
#include "executor/sandbox.h"

static bool exists(const char *p)
{
        struct stat st;
        return p && stat(p, &st) == 0;
}

/* Adds a host path and rewrites *field to where it is inside. */
static int map_field(struct sandbox *sb, char **field, unsigned flags, struct lerr **err)
{
        if (!*field || !**field)
                return 0;
        int r = sandbox_add_path(sb, *field, flags, err);
        if (r < 0)
                return r;
        char *inside = sandbox_map_path(sb, *field);
        if (!inside)
                return lerr_set(err, EINVAL, "cannot map '%s' into the sandbox", *field);
        free(*field);
        *field = inside;
        return 0;
}

/* "prefix" + path fields such as dir://PATH, tar://PATH, KEY=PATH. */
static int map_prefixed(struct sandbox *sb, char **field, const char *prefix, unsigned flags,
                        struct lerr **err)
{
        const char *rest = *field ? startswith(*field, prefix) : NULL;
        if (!rest || !*rest)
                return 0;
        char *path = xstrdup(rest);
        int r = map_field(sb, &path, flags, err);
        if (r >= 0) {
                free(*field);
                *field = xasprintf("%s%s", prefix, path);
        }
        free(path);
        return r;
}

/* "host=path[,path]" values: each path mapped. */
static int map_kv_paths(struct sandbox *sb, char **values, struct lerr **err)
{
        for (size_t i = 0; values && values[i]; i++) {
                char *eq = strchr(values[i], '=');
                if (!eq)
                        continue;
                _cleanup_(strv_freep) char **mapped = NULL;
                _cleanup_free_ char *paths = xstrdup(eq + 1);
                for (char *p = paths, *comma; p; p = comma ? comma + 1 : NULL) {
                        comma = strchr(p, ',');
                        if (comma)
                                *comma = '\0';
                        char *m = xstrdup(p);
                        int r = map_field(sb, &m, SANDBOX_PATH_RO, err);
                        if (r < 0) {
                                free(m);
                                return r;
                        }
                        strv_consume(&mapped, m);
                }
                _cleanup_free_ char *joined = strv_join(mapped, ",");
                char *v = xasprintf("%.*s=%s", (int) (eq - values[i]), values[i], joined);
                free(values[i]);
                values[i] = v;
        }
        return 0;
}

static int map_secrets(struct sandbox *sb, char **secrets, struct lerr **err)
{
        for (size_t i = 0; secrets && secrets[i]; i++) {
                char *src = strstr(secrets[i], ",src=");
                if (!src)
                        continue;
                char *path = xstrdup(src + 5);
                int r = map_field(sb, &path, SANDBOX_PATH_RO, err);
                if (r >= 0) {
                        char *v = xasprintf("%.*s,src=%s", (int) (src - secrets[i]), secrets[i],
                                            path);
                        free(secrets[i]);
                        secrets[i] = v;
                }
                free(path);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The docker config directory the registry client will read, mapped in: $DOCKER_CONFIG or
 * ~/.docker (the sandbox's own $KANIKO_DIR/.docker is empty). */
static int map_docker_config(struct sandbox *sb, struct lerr **err)
{
        const char *dc = getenv("DOCKER_CONFIG");
        const char *home = getenv("HOME");
        _cleanup_free_ char *dir = dc && *dc ? xstrdup(dc)
                                   : home    ? xasprintf("%s/.docker", home)
                                             : NULL;
        if (!exists(dir))
                return 0;
        int r = map_field(sb, &dir, SANDBOX_PATH_RO, err);
        if (r >= 0)
                (void) setenv("DOCKER_CONFIG", dir, 1);
        return r;
}

/* A credentials file named by the variable var, else found at fallback (may be NULL), mapped
 * in read-only; var then names it inside, where ~ is not the user's. */
static int map_env_file(struct sandbox *sb, const char *var, char *fallback, struct lerr **err)
{
        _cleanup_free_ char *owned = fallback;
        const char *v = getenv(var);
        _cleanup_free_ char *path = v && *v ? xstrdup(v) : TAKE_PTR(owned);
        if (!exists(path))
                return 0;
        int r = map_field(sb, &path, SANDBOX_PATH_RO, err);
        if (r >= 0)
                (void) setenv(var, path, 1);
        return r;
}

/* The AWS shared files an s3:// context reads (context_s3.h). */
static int map_aws_files(struct sandbox *sb, struct lerr **err)
{
        /* the shared files have a default under $HOME; the token files (EKS IRSA, EKS Pod
         * Identity) exist only when named */
        static const char *const files[][2] = {{"AWS_SHARED_CREDENTIALS_FILE", "credentials"},
                                               {"AWS_CONFIG_FILE", "config"},
                                               {"AWS_WEB_IDENTITY_TOKEN_FILE", NULL},
                                               {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", NULL}};
        const char *home = getenv("HOME");
        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                int r = map_env_file(
                        sb, files[i][0],
                        home && files[i][1] ? xasprintf("%s/.aws/%s", home, files[i][1]) : NULL,
                        err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool is_ecr(const char *host)
{
        _cleanup_free_ char *region = NULL, *api = NULL;
        return ecr_host_parse(host, &region, &api) > 0;
}

/* Whether a destination or the cache repository is on a cloud registry whose credentials
 * (cloud_creds.h) may come from files: ECR's from the AWS shared files, Google's from the
 * Application Default Credentials file. A base image there is found only later, in the
 * Dockerfile: with --sandbox its credentials must then come from the environment (or the
 * metadata server). */
static bool names_registry(const struct options *o, bool (*is)(const char *host))
{
        _cleanup_(strv_freep) char **refs = strv_copy(o->destinations);
        if (o->cache_repo)
                strv_push(&refs, o->cache_repo);
        strv_foreach (ref, refs) {
                _cleanup_free_ char *host = xstrndup(ref, strcspn(ref, "/:"));
                for (char *c = host; *c; c++)
                        *c = (char) tolower((unsigned char) *c);
                if (is(host))
                        return true;
        }
        return false;
}

/* The Application Default Credentials file a gs:// context reads (context_gcs.h): the
 * gcloud file, when it is the one found, goes in as GOOGLE_APPLICATION_CREDENTIALS, which
 * comes first in the same order. */
static int map_gcs_files(struct sandbox *sb, struct lerr **err)
{
        const char *cfg = getenv("CLOUDSDK_CONFIG"), *home = getenv("HOME");
        char *adc = cfg && *cfg ? xasprintf("%s/" GCS_ADC_FILE, cfg)
                    : home      ? xasprintf("%s/.config/gcloud/" GCS_ADC_FILE, home)
                                : NULL;
        return map_env_file(sb, "GOOGLE_APPLICATION_CREDENTIALS", adc, err);
}

static bool is_acr(const char *host)
{
        return acr_host_match(host, NULL);
}

/* The files ACR credentials read (acr_creds.h): the --azure-container-registry-config file,
 * mapped whenever given (a base image on ACR is found only later, in the Dockerfile), and the
 * workload identity token. A config file that does not exist stays as given: reading it
 * fails later with its name. */
static int map_azure_files(struct sandbox *sb, struct options *o, struct lerr **err)
{
        int r = 0;
        if (exists(o->azure_container_registry_config))
                r = map_field(sb, &o->azure_container_registry_config, SANDBOX_PATH_RO, err);
        if (r >= 0)
                r = map_env_file(sb, "AZURE_FEDERATED_TOKEN_FILE", NULL, err);
        return r;
}

static int map_paths(struct sandbox *sb, struct options *o, struct lerr **err)
{
        int r = 0;
        const char *ctx = o->context;
        /* read now: mapping a local context replaces (frees) o->context */
        bool s3 = ctx && startswith(ctx, "s3://"), gs = ctx && startswith(ctx, "gs://");
        if (ctx && startswith(ctx, "dir://"))
                r = map_prefixed(sb, &o->context, "dir://", SANDBOX_PATH_RO, err);
        else if (ctx && startswith(ctx, "tar://") && !streq(ctx, "tar://stdin"))
                r = map_prefixed(sb, &o->context, "tar://", SANDBOX_PATH_RO, err);
        else if (ctx && !strstr(ctx, "://"))
                r = map_field(sb, &o->context, SANDBOX_PATH_RO, err);
        /* a Dockerfile outside the context, found as given */
        if (r >= 0 && o->dockerfile && !strstr(o->dockerfile, "://") && exists(o->dockerfile)) {
                o->dockerfile_shown = xstrdup(o->dockerfile);
                r = map_field(sb, &o->dockerfile, SANDBOX_PATH_RO, err);
        }
        if (r >= 0)
                r = map_docker_config(sb, err);
        if (r >= 0 && (s3 || names_registry(o, is_ecr)))
                r = map_aws_files(sb, err);
        if (r >= 0 && (gs || names_registry(o, gcr_host_match)))
                r = map_gcs_files(sb, err);
        if (r >= 0 && (o->azure_container_registry_config || names_registry(o, is_acr)))
                r = map_azure_files(sb, o, err);
        if (r >= 0)
                r = map_kv_paths(sb, o->registry_certificates, err);
        if (r >= 0)
                r = map_kv_paths(sb, o->registry_client_certs, err);
        if (r >= 0)
                r = map_secrets(sb, o->secrets, err);
        char **outputs[] = {&o->tar_path, &o->oci_layout_path, &o->digest_file,
                            &o->image_name_with_digest_file, &o->image_name_tag_with_digest_file};
        for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(outputs); i++)
                r = map_field(sb, outputs[i], SANDBOX_PATH_PARENT, err);
        /* the caches: the warmer's base images (read), an on-disk layer cache (written) */
        if (r >= 0 && o->cache && exists(o->cache_dir))
                r = map_field(sb, &o->cache_dir, SANDBOX_PATH_RO, err);
        if (r >= 0 && o->cache && o->cache_repo)
                r = map_prefixed(sb, &o->cache_repo, "oci:", SANDBOX_PATH_PARENT, err);
        return r;
}

int run_build(struct options *o, struct lerr **err)
{
        /* libcurl and OpenSSL read their configuration while "/" is still ours */
        (void) curl_global_init(CURL_GLOBAL_DEFAULT);
        cloud_creds_register();
        if (o->sandbox) {
                _cleanup_(sandbox_freep) struct sandbox *sb =
                        sandbox_new(o->sandbox, o->kaniko_dir);
                int status = 0;
                int r = map_paths(sb, o, err);
                if (r < 0)
                        return lerr_wrap(err, "--sandbox");
                r = sandbox_enter(sb, &status, err);
                if (r < 0)
                        return r;
                if (r == 1)
                        return status; /* the sandbox ran the build and has ended */
        } else {
                int r = container_check(o->kaniko_dir, o->force, err);
                if (r >= 0)
                        r = pid1_init(err);
                if (r < 0)
                        return r;
        }
        acr_creds_set_config(o->azure_container_registry_config);
        int r = build_run(o, err);
        (void) pid1_reap();
        return r < 0 ? r : 0;
}
