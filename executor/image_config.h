/* SPDX-License-Identifier: Apache-2.0 */
/* The image configuration (OCI image-spec config.md, with Docker's extra fields Healthcheck,
 * OnBuild and Shell) as a C struct: parsed from a base image's config blob, changed by the
 * Dockerfile's metadata instructions, serialised deterministically for the new image.
 * Limits: the input is bounded by the caller (IMAGE_CONFIG_MAX_BYTES). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/macros.h"

struct lerr;

#define IMAGE_CONFIG_MAX_BYTES (8u << 20)

struct healthcheck {
        char **test; /* NULL: not set; {"NONE"} disables; {"CMD-SHELL", cmd}; {"CMD", ...} */
        int64_t interval_ns; /* 0: inherit the default */
        int64_t timeout_ns;
        int64_t start_period_ns;
        int64_t start_interval_ns;
        int retries;
};

struct history_entry {
        char *created; /* RFC 3339, may be NULL */
        char *created_by;
        char *author;
        char *comment;
        bool empty_layer;
};

struct label {
        char *key, *value;
};

struct image_config {
        /* platform */
        char *architecture, *os, *variant, *os_version;
        char **os_features;
        char *created;
        char *author;
        /* execution parameters ("config" object); NULL vectors mean "null" */
        char *user;
        char **env; /* KEY=VALUE, in order, keys unique */
        char **entrypoint;
        char **cmd;
        char **exposed_ports; /* "80/tcp", sorted, unique */
        char **volumes;       /* sorted, unique */
        char *working_dir;
        struct label *labels; /* sorted by key, unique */
        size_t n_labels;
        char *stop_signal;
        struct healthcheck *healthcheck;
        char **onbuild;
        char **shell;
        bool args_escaped;
        /* filesystem */
        char **diff_ids;
        struct history_entry *history;
        size_t n_history;
};

struct image_config *image_config_new(const char *os, const char *architecture,
                                      const char *variant);
/* Parses a config blob; unknown fields are dropped (as BuildKit does). */
int image_config_parse(const char *data, size_t len, struct image_config **ret, struct lerr **err);
struct image_config *image_config_copy(const struct image_config *c);
void image_config_free(struct image_config *c);
DEFINE_FREEP(struct image_config, image_config_free)

/* Serialises with a fixed key order and Go's omitempty rules; the same config gives the same
 * bytes. Caller frees. */
char *image_config_to_json(const struct image_config *c);

/* Env: the value of key (borrowed) or NULL. */
const char *image_config_getenv(const struct image_config *c, const char *key);
/* Sets key=value, replacing an existing key in place or appending. */
void image_config_setenv(struct image_config *c, const char *key, const char *value);
void image_config_set_label(struct image_config *c, const char *key, const char *value);
/* "80" → "80/tcp"; "53/UDP" → "53/udp"; -EINVAL for anything else. */
int image_config_add_port(struct image_config *c, const char *port);
void image_config_add_volume(struct image_config *c, const char *path);
/* ENTRYPOINT resets an inherited CMD, as Docker does (set_by_stage: whether CMD was set by an
 * instruction of the current stage, which is kept). */
void image_config_set_entrypoint(struct image_config *c, char **argv, bool cmd_set_by_stage);
void image_config_set_cmd(struct image_config *c, char **argv);
void image_config_set_shell(struct image_config *c, char **argv);
void image_config_set_string(char **field, const char *value);
void image_config_set_healthcheck(struct image_config *c, const struct healthcheck *h);
void image_config_add_onbuild(struct image_config *c, const char *trigger);
void image_config_clear_onbuild(struct image_config *c);
void image_config_add_layer(struct image_config *c, const char *diff_id);
void image_config_add_history(struct image_config *c, const char *created, const char *created_by,
                              const char *comment, bool empty_layer);
/* Number of history entries that are not empty layers: must equal the number of diff_ids. */
size_t image_config_layer_history_count(const struct image_config *c);
