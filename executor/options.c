/* SPDX-License-Identifier: Apache-2.0 */
/* Defaults of struct options, as Kaniko v1.24.0 has them. */
#include "executor/options.h"

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/strv.h"

void options_init(struct options *o)
{
        const char *kdir = getenv("KANIKO_DIR");

        memset(o, 0, sizeof(*o));
        o->dockerfile = xstrdup("Dockerfile");
        o->context = xstrdup("/workspace/");
        o->snapshot_mode = SNAPSHOT_MODE_FULL;
        o->compression = COMPRESSION_GZIP;
        o->compression_level = -1;
        o->ignore_var_run = true;
        o->cache_dir = xstrdup("/cache");
        o->cache_ttl_ns = 336LL * 3600 * 1000000000LL;
        o->cache_run_layers = true;
        o->compressed_caching = true;
        o->kaniko_dir = xstrdup(kdir && *kdir ? kdir : "/kaniko");
        o->verbosity = xstrdup("info");
        o->log_format = xstrdup("color");
}

void options_done(struct options *o)
{
        char **strings[] = {
                &o->dockerfile,
                &o->dockerfile_shown,
                &o->context,
                &o->context_sub_path,
                &o->bucket,
                &o->target,
                &o->custom_platform,
                &o->git_options,
                &o->git_branch,
                &o->azure_container_registry_config,
                &o->tar_path,
                &o->oci_layout_path,
                &o->digest_file,
                &o->image_name_with_digest_file,
                &o->image_name_tag_with_digest_file,
                &o->cache_repo,
                &o->cache_dir,
                &o->kaniko_dir,
                &o->sandbox,
                &o->verbosity,
                &o->log_format,
        };
        char ***vectors[] = {
                &o->build_args,
                &o->labels,
                &o->annotations,
                &o->secrets,
                &o->destinations,
                &o->ignore_paths,
                &o->insecure_registries,
                &o->skip_tls_verify_registries,
                &o->registry_certificates,
                &o->registry_client_certs,
                &o->registry_mirrors,
                &o->registry_maps,
        };
        for (size_t i = 0; i < ARRAY_SIZE(strings); i++) {
                free(*strings[i]);
                *strings[i] = NULL;
        }
        for (size_t i = 0; i < ARRAY_SIZE(vectors); i++) {
                strv_free(*vectors[i]);
                *vectors[i] = NULL;
        }
}
