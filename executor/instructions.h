/* SPDX-License-Identifier: Apache-2.0 */
/* Typed Dockerfile instructions: what each instruction says, its flags parsed into structs, its
 * raw (unexpanded) arguments, and the expansion rules of Docker/BuildKit per instruction.
 *
 * dockerfile.c lexes the text (lines, continuations, heredocs, JSON vs shell form, flags) and
 * fills the common fields of struct df_inst; df_inst_parse() here turns them into the typed
 * union. Nothing is expanded at parse time: df_inst_expand() returns a copy expanded with the
 * variables in force at build time (base image ENV, ARGs, ENV), following this table:
 *
 *   FROM         image, --platform (with the global ARGs; see planner.h)
 *   ENV, LABEL   keys and values, each with the variables in force before the instruction
 *   ARG          defaults (one after another; see vars.h), not names
 *   COPY, ADD    sources, destination, --chown, --chmod, ADD --checksum, and heredoc bodies
 *                whose delimiter is unquoted; not --from, --exclude, --link, --parents
 *   WORKDIR, USER, VOLUME, STOPSIGNAL   their argument(s)
 *   EXPOSE       each word, then split again at white space
 *   RUN          the values of --mount options only (the shell expands the command)
 *   CMD, ENTRYPOINT, SHELL, HEALTHCHECK, MAINTAINER, ONBUILD   nothing
 *
 * Values that can only be checked once expanded (a mount's type, --chmod, ...) are checked at
 * parse time when they hold no '$', and always by df_inst_expand(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/macros.h"

struct lerr;
struct expand_env;

enum df_kind {
        DF_ADD,
        DF_ARG,
        DF_CMD,
        DF_COPY,
        DF_ENTRYPOINT,
        DF_ENV,
        DF_EXPOSE,
        DF_FROM,
        DF_HEALTHCHECK,
        DF_LABEL,
        DF_MAINTAINER,
        DF_ONBUILD,
        DF_RUN,
        DF_SHELL,
        DF_STOPSIGNAL,
        DF_USER,
        DF_VOLUME,
        DF_WORKDIR,
        DF_KIND_COUNT,
};

/* "RUN", "COPY", ... */
const char *df_kind_name(enum df_kind k);
/* Case-insensitive; -ENOENT for an unknown name. */
int df_kind_from_name(const char *name, enum df_kind *ret);

struct df_heredoc {
        char *name;    /* the delimiter, quotes removed: "EOF" */
        char *content; /* the body lines, each with its line ending, tabs not yet stripped */
        unsigned fd;   /* 3 for "3<<EOF", else 0 */
        bool expand;   /* delimiter unquoted: COPY/ADD bodies get variables expanded */
        bool chomp;    /* "<<-": leading tabs of each body line are stripped */
};

/* A RUN, CMD or ENTRYPOINT command line. "ENTRYPOINT []" is an empty exec form (Docker then
 * stores no entrypoint); "CMD []" an empty command. */
struct df_cmdline {
        bool json;   /* exec form; otherwise shell form */
        char **args; /* exec form: the array (maybe empty); shell form: the text as one element,
                      * or none when the instruction has no argument */
};

struct df_kv {
        char *key;
        char *value; /* ARG: NULL when it has no default */
        bool legacy; /* ENV/LABEL written "KEY value" rather than "KEY=value" */
};

enum df_mount_type {
        DF_MOUNT_BIND,
        DF_MOUNT_CACHE,
        DF_MOUNT_TMPFS,
        DF_MOUNT_SECRET,
        DF_MOUNT_SSH,
};

enum df_mount_sharing {
        DF_SHARING_UNSET, /* cache mounts default to shared */
        DF_SHARING_SHARED,
        DF_SHARING_PRIVATE,
        DF_SHARING_LOCKED,
};

/* One RUN --mount=... (BuildKit's options; see dockerfile reference "RUN --mount"). */
struct df_mount {
        char *spec; /* the flag value as written: "type=cache,target=/root/.cache" */
        enum df_mount_type type;
        char *target;  /* target= dst= destination= */
        char *source;  /* source= src= */
        char *from;    /* from=: a stage name or an image; NULL is the build context */
        char *id;      /* id=: cache, secret or ssh id */
        char *env;     /* env=: secret exposed as this environment variable */
        bool readonly; /* after defaults: bind, secret, ssh read-only; cache, tmpfs writable */
        bool required; /* secret, ssh: fail when missing */
        enum df_mount_sharing sharing;
        bool has_mode, has_uid, has_gid;
        uint32_t mode; /* octal in the spec */
        uint32_t uid, gid;
        int64_t size; /* tmpfs size= in bytes, 0 when not given */
};

enum df_network {
        DF_NETWORK_DEFAULT,
        DF_NETWORK_NONE,
        DF_NETWORK_HOST,
};

enum df_security {
        DF_SECURITY_SANDBOX,
        DF_SECURITY_INSECURE,
};

struct df_device {
        char *name;
        bool required;
};

struct df_run {
        struct df_cmdline cmd;
        struct df_mount *mounts;
        size_t n_mounts;
        enum df_network network;
        enum df_security security;
        struct df_device *devices;
        size_t n_devices;
};

/* An inline file of COPY/ADD written as a heredoc source: COPY <<EOF /dest */
struct df_inline {
        char *name; /* the file name: the heredoc delimiter */
        char *data; /* tabs stripped for <<-; expanded by df_inst_expand() when expand is set */
        bool expand;
};

struct df_copy {
        char **sources; /* context paths, URLs, git refs (not heredocs) */
        struct df_inline *inlines;
        size_t n_inlines;
        char *dest;
        char *from;      /* COPY --from: stage name, stage index or image; NULL if absent */
        char *chown;     /* user[:group] or NULL */
        char *chmod;     /* octal "0755" or symbolic "u+x,g=r", or NULL */
        char *checksum;  /* ADD --checksum or NULL */
        char **excludes; /* --exclude patterns, repeatable (empty vector if none) */
        bool link;
        bool parents;     /* COPY --parents */
        int keep_git_dir; /* ADD --keep-git-dir: -1 not given, else 0/1 */
        int unpack;       /* ADD --unpack: -1 not given, else 0/1 */
};

struct df_healthcheck {
        char **test; /* {"NONE"}, {"CMD", argv...} or {"CMD-SHELL", "text"} */
        int64_t interval_ns, timeout_ns, start_period_ns, start_interval_ns; /* 0: default */
        int retries;                                                         /* 0: default */
};

struct df_from {
        char *image;    /* base: image reference, stage name or "scratch" (unexpanded) */
        char *name;     /* AS name, lower-cased; NULL when unnamed */
        char *platform; /* --platform or NULL */
};

struct df_inst;

struct df_onbuild {
        char *expression;        /* the trigger as stored in the image config: "RUN make" */
        struct df_inst *trigger; /* the trigger parsed */
};

struct df_inst {
        enum df_kind kind;
        char *keyword;      /* the instruction word as written ("run") */
        unsigned line;      /* first line, 1-based */
        unsigned end_line;  /* last line of the instruction text (continuations) */
        unsigned last_line; /* last line including heredoc bodies */
        char *original;     /* the text with continuation lines joined, trimmed: Docker's
                             * history created_by; no heredoc bodies */
        char **flags;       /* "--name=value" as written, quotes removed, in order */
        char **args;        /* raw (unexpanded) arguments as BuildKit's line parsers split
                             * them: words or the JSON array; ENV and LABEL: key, value and
                             * "=" (or "" for the legacy "KEY value" form) per pair; ONBUILD:
                             * the trigger's keyword then its arguments */
        bool json;          /* arguments in JSON (exec) form */
        struct df_heredoc *heredocs;
        size_t n_heredocs;
        char escape; /* escape token in force: '\\' or '`' */
        union {
                struct df_from from;          /* FROM */
                struct df_run run;            /* RUN */
                struct df_cmdline cmd;        /* CMD, ENTRYPOINT */
                struct df_copy copy;          /* COPY, ADD */
                struct df_healthcheck health; /* HEALTHCHECK */
                struct df_onbuild onbuild;    /* ONBUILD */
                struct {                      /* ENV, LABEL, ARG */
                        struct df_kv *kvs;
                        size_t n_kvs;
                } kv;
                char **words; /* EXPOSE ports, VOLUME paths, SHELL argv (non-empty) */
                char *value;  /* USER, WORKDIR, STOPSIGNAL, MAINTAINER */
        } u;
};

/* Fills inst->u from the common fields (kind, flags, args, json, heredocs), checking flags and
 * arguments. Errors (-EINVAL) say what is wrong, without a location (the caller adds it).
 * For ONBUILD, inst->u.onbuild.trigger must already hold the parsed trigger; ownership of
 * nothing changes. */
int df_inst_parse(struct df_inst *inst, struct lerr **err);

/* Deep copy. */
struct df_inst *df_inst_copy(const struct df_inst *inst);
void df_inst_free(struct df_inst *inst);
DEFINE_FREEP(struct df_inst, df_inst_free)

/* A copy of inst with the parts Docker expands for its kind expanded with env (see the table
 * above), using inst->escape (heredoc bodies always use '\\', as BuildKit does). flags are
 * expand_flags (EXPAND_KEEP_UNSET at plan time). For COPY/ADD the inline files' data is then
 * final; RUN mounts are parsed again from their expanded specs and fully checked. ENV, LABEL:
 * each pair is expanded with env as it was before the instruction, as Docker does. ARG:
 * defaults are left alone (vars_arg() expands them one by one). */
int df_inst_expand(const struct df_inst *inst, const struct expand_env *env, unsigned flags,
                   struct df_inst **ret, struct lerr **err);

/* Parses a --mount value. With env, each option's value is expanded first (escape token
 * escape) and everything is checked; without env values are taken as written and those
 * holding '$' are not checked yet. */
int df_mount_parse(const char *spec, const struct expand_env *env, unsigned flags, char escape,
                   struct df_mount *ret, struct lerr **err);
void df_mount_done(struct df_mount *m);
const char *df_mount_type_name(enum df_mount_type t);
const char *df_mount_sharing_name(enum df_mount_sharing s); /* NULL for unset */
const char *df_network_name(enum df_network n);
const char *df_security_name(enum df_security s);

/* EXPOSE: turns expanded port words ("80", "8000-8002/udp", "53/UDP") into Docker's
 * "port/proto" keys ("80/tcp", "8000/udp", ...). Ranges are bounded by DF_EXPOSE_MAX_PORTS in
 * total. */
#define DF_EXPOSE_MAX_PORTS 65536
int df_expose_ports(char *const *words, char ***ret, struct lerr **err);

/* --chmod: octal up to 07777 (*ret_octal true, *ret_mode) or a symbolic mode such as "u+x,go=r"
 * (*ret_octal false; applying it is the copier's job). */
int df_chmod_parse(const char *s, bool *ret_octal, uint32_t *ret_mode, struct lerr **err);

/* What a RUN executes, by BuildKit's rules for heredocs: a single heredoc starting with "#!"
 * becomes a file (file_name/file_data, to be written mode 0755 and run as its own
 * interpreter: argv is its path under /dev/pipes/); a single heredoc otherwise is the shell
 * script itself; any other heredoc use is handed to the shell as written, bodies included.
 * shell is the image's SHELL (NULL: /bin/sh -c). argv is the final argument vector. */
struct df_run_script {
        char **argv;
        char *file_name; /* NULL unless a "#!" heredoc */
        char *file_data;
};
int df_run_script(const struct df_inst *run, char *const *shell, struct df_run_script *ret,
                  struct lerr **err);
void df_run_script_done(struct df_run_script *s);

/* Strips the leading tabs of every line (for <<- heredocs). Returns a new string. */
char *df_chomp_tabs(const char *s);
