/* SPDX-License-Identifier: Apache-2.0 */
/* The flag table shared by the parser (cli.c), the help (cli-help.c) and the unit tests. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include "common/macros.h"

struct lerr;
struct options;

enum cli_type {
        CLI_BOOL,     /* bool; "--x" is true, "--x=V" takes Go's strconv.ParseBool values */
        CLI_STRING,   /* char *; an empty value leaves it NULL (unset) */
        CLI_INT,      /* int, not below cli_flag.min */
        CLI_DURATION, /* int64_t nanoseconds, Go's time.ParseDuration syntax */
        CLI_ENUM,     /* an enum field (int-sized): the index of the value in cli_flag.choices */
        CLI_LIST,     /* char **, one entry per use (or more: see the flag's handler) */
        CLI_ACTION,   /* --help, --version: a bool that selects cli_flag.action, no field */
};

enum cli_group {
        CLI_GROUP_INPUT,
        CLI_GROUP_OUTPUT,
        CLI_GROUP_LAYERS,
        CLI_GROUP_CACHE,
        CLI_GROUP_REGISTRY,
        CLI_GROUP_RUNTIME,
        CLI_GROUP_LADING,
        CLI_GROUP_DEPRECATED,
        CLI_GROUP_HIDDEN,
        CLI_GROUP_COUNT,
};

enum {
        /* lading does what the flag says. Others are accepted but fail when used with a value
         * other than their default; the build issues set this as they wire each flag. */
        CLI_BUILT = 1u << 0,
        /* The value changes what --print-plan prints (parsing, stages, build args), so it is
         * checked with --print-plan too. */
        CLI_PLAN = 1u << 1,
};

struct cli_flag {
        const char *name; /* long name, without "--" */
        char short_name;  /* 0: none */
        enum cli_type type;
        enum cli_group group;
        unsigned attrs;             /* CLI_BUILT, CLI_PLAN */
        size_t offset;              /* of the field in struct options (not CLI_ACTION) */
        const char *alias_of;       /* deprecated name: the flag it stands for */
        const char *metavar;        /* value placeholder in --help */
        const char *def;            /* default as --help shows it; NULL: none shown */
        const char *help;           /* one sentence or two, no final period */
        const char *const *choices; /* CLI_ENUM: the accepted values, NULL-terminated */
        /* CLI_STRING with a fixed set of values: what shell completion offers, NULL-terminated
         * (the flag's handler is what accepts them; a unit test checks that it does) */
        const char *const *suggest;
        int min;    /* CLI_INT: smallest accepted value */
        int action; /* CLI_ACTION: the enum cli_action it selects */
        /* Parses value (NULL for a bare boolean) into o. NULL: the generic one of the type. */
        int (*set)(const struct cli_flag *f, struct options *o, const char *value,
                   struct lerr **err);
};

extern const struct cli_flag cli_flags[];
extern const size_t cli_flags_count;
extern const char *const cli_group_titles[CLI_GROUP_COUNT];

/* Exact lookups; NULL if there is no such flag. */
const struct cli_flag *cli_flag_by_name(const char *name);
const struct cli_flag *cli_flag_by_short(char c);
/* The flag an alias stands for, or f itself. */
const struct cli_flag *cli_flag_canonical(const struct cli_flag *f);
/* Applies one value (NULL: a bare boolean) with the flag's handler. Errors name the flag. */
int cli_flag_set(const struct cli_flag *f, struct options *o, const char *value,
                 struct lerr **err) WUR;
/* Whether the flag's field in o differs from the same field in defaults. */
bool cli_flag_differs(const struct cli_flag *f, const struct options *o,
                      const struct options *defaults);

/* Value handlers for cli_flag.set (cli-values.c). */
#define CLI_HANDLER(name)                                                                          \
        int name(const struct cli_flag *f, struct options *o, const char *value, struct lerr **err)
CLI_HANDLER(cli_set_bool);
CLI_HANDLER(cli_set_string);
CLI_HANDLER(cli_set_int);
CLI_HANDLER(cli_set_duration);
CLI_HANDLER(cli_set_enum);
CLI_HANDLER(cli_append_list);
CLI_HANDLER(cli_append_key_value);
CLI_HANDLER(cli_append_build_arg);
CLI_HANDLER(cli_set_registry_certificate);
CLI_HANDLER(cli_set_registry_client_cert);
CLI_HANDLER(cli_set_registry_map);
CLI_HANDLER(cli_set_registry_mirror);
CLI_HANDLER(cli_set_platform);
CLI_HANDLER(cli_set_verbosity);
CLI_HANDLER(cli_set_log_format);
CLI_HANDLER(cli_set_git);
CLI_HANDLER(cli_set_secret);

/* Appends "orig=new[;orig2=new2]" to o->registry_maps, one entry per pair (for --registry-map
 * and KANIKO_REGISTRY_MAP). An empty value adds nothing, as in Kaniko: CI templates often pass
 * an empty variable. */
int cli_add_registry_map(struct options *o, const char *value, struct lerr **err) WUR;

/* Only the first step of cli_parse(): the flags' syntax and values into o, without the
 * environment, the checks across flags and the check for flags not built yet. For tests. */
int cli_parse_flags(int argc, char *const *argv, struct options *o, struct lerr **err) WUR;

/* Optimal-string-alignment distance (Levenshtein plus adjacent transpositions). */
size_t cli_edit_distance(const char *a, const char *b);
/* The visible flag nearest to a mistyped long name, or NULL when none is close. */
const struct cli_flag *cli_suggest(const char *typed);
