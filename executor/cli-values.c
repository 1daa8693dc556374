/* SPDX-License-Identifier: Apache-2.0 */
/* The values of flags: one small handler per kind (boolean, integer, duration, KEY=VALUE, ...)
 * and per flag with its own syntax (--secret, --git, --custom-platform, ...). Each checks one
 * value and stores it in struct options; checks across flags are in cli.c. */
#include "executor/cli-internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "executor/options.h"
#include "common/alloc.h"
#include "common/err.h"
#include "common/log.h"
#include "common/parse.h"
#include "common/strv.h"

#define FIELD(o, f, type) ((type *) (void *) ((char *) (o) + (f)->offset))

/* CLI_ENUM fields are written as int */
_Static_assert(sizeof(enum snapshot_mode_opt) == sizeof(int), "enum is int-sized");
_Static_assert(sizeof(enum compression_opt) == sizeof(int), "enum is int-sized");

static int invalid(struct lerr **err, const struct cli_flag *f, const char *value, const char *why)
{
        return lerr_set(err, EINVAL, "invalid value '%s' for --%s: %s", value, f->name, why);
}

/* "a, b or c" */
static char *choices_text(const char *const *choices)
{
        size_t n = strv_length((char *const *) choices);
        _cleanup_free_ char *head = NULL;

        if (n <= 1)
                return xstrdup(n ? choices[0] : "");
        char **l = NULL;
        for (size_t i = 0; i + 1 < n; i++)
                strv_push(&l, choices[i]);
        head = strv_join(l, ", ");
        strv_free(l);
        return xasprintf("%s or %s", head, choices[n - 1]);
}

int cli_set_bool(const struct cli_flag *f, struct options *o, const char *value, struct lerr **err)
{
        bool b = true;

        if (value && parse_bool(value, &b) < 0)
                return invalid(err, f, value, "expected true or false");
        *FIELD(o, f, bool) = b;
        return 0;
}

static void replace_string(char **field, const char *value)
{
        free(*field);
        *field = value && *value ? xstrdup(value) : NULL;
}

int cli_set_string(const struct cli_flag *f, struct options *o, const char *value,
                   struct lerr **err)
{
        (void) err;
        replace_string(FIELD(o, f, char *), value);
        return 0;
}

int cli_set_int(const struct cli_flag *f, struct options *o, const char *value, struct lerr **err)
{
        int v, r = parse_int(value, &v);

        if (r == -ERANGE)
                return invalid(err, f, value, "out of range");
        if (r < 0)
                return invalid(err, f, value, "expected an integer");
        if (v < f->min) {
                if (f->min == 0)
                        return invalid(err, f, value, "must not be negative");
                _cleanup_free_ char *why = xasprintf("must be %d or more", f->min);
                return invalid(err, f, value, why);
        }
        *FIELD(o, f, int) = v;
        return 0;
}

int cli_set_duration(const struct cli_flag *f, struct options *o, const char *value,
                     struct lerr **err)
{
        int64_t ns;

        if (parse_duration_ns(value, &ns) < 0)
                return invalid(err, f, value, "expected a duration like 336h, 90m or 1h30m");
        if (ns < 0)
                return invalid(err, f, value, "must not be negative");
        *FIELD(o, f, int64_t) = ns;
        return 0;
}

int cli_set_enum(const struct cli_flag *f, struct options *o, const char *value, struct lerr **err)
{
        for (int i = 0; f->choices[i]; i++)
                if (streq(value, f->choices[i])) {
                        memcpy(FIELD(o, f, int), &i, sizeof(i));
                        return 0;
                }
        _cleanup_free_ char *c = choices_text(f->choices);
        _cleanup_free_ char *why = xasprintf("expected %s", c);
        return invalid(err, f, value, why);
}

int cli_append_list(const struct cli_flag *f, struct options *o, const char *value,
                    struct lerr **err)
{
        if (!*value)
                return lerr_set(err, EINVAL, "empty value for --%s", f->name);
        strv_push(FIELD(o, f, char **), value);
        return 0;
}

/* KEY=VALUE with a non-empty KEY (--label, --annotation) */
int cli_append_key_value(const struct cli_flag *f, struct options *o, const char *value,
                         struct lerr **err)
{
        const char *eq = strchr(value, '=');

        if (!eq || eq == value)
                return invalid(err, f, value, "expected KEY=VALUE");
        strv_push(FIELD(o, f, char **), value);
        return 0;
}

int cli_append_build_arg(const struct cli_flag *f, struct options *o, const char *value,
                         struct lerr **err)
{
        if (!*value || *value == '=')
                return invalid(err, f, value, "expected KEY=VALUE or KEY");
        strv_push(FIELD(o, f, char **), value);
        return 0;
}

/* A map flag: one entry per key, the last value given wins (Kaniko's keyValueArg). */
static void map_put(char ***l, const char *entry)
{
        size_t klen = strcspn(entry, "=");

        for (char **p = *l; p && *p; p++)
                if (strncmp(*p, entry, klen + 1) == 0) {
                        free(*p);
                        *p = xstrdup(entry);
                        return;
                }
        strv_push(l, entry);
}

int cli_set_registry_certificate(const struct cli_flag *f, struct options *o, const char *value,
                                 struct lerr **err)
{
        const char *eq = strchr(value, '=');

        if (!eq || eq == value || !eq[1])
                return invalid(err, f, value, "expected REGISTRY=PATH");
        map_put(FIELD(o, f, char **), value);
        return 0;
}

int cli_set_registry_client_cert(const struct cli_flag *f, struct options *o, const char *value,
                                 struct lerr **err)
{
        const char *eq = strchr(value, '=');
        const char *comma = eq ? strchr(eq, ',') : NULL;

        if (!eq || eq == value || !comma || comma == eq + 1 || !comma[1] || strchr(comma + 1, ','))
                return invalid(err, f, value, "expected REGISTRY=CERT,KEY");
        map_put(FIELD(o, f, char **), value);
        return 0;
}

int cli_add_registry_map(struct options *o, const char *value, struct lerr **err)
{
        _cleanup_free_ char *copy = xstrdup(value);
        char **add = NULL;
        char *p = copy;

        while (p) {
                char *next = strchr(p, ';');
                if (next)
                        *next++ = '\0';
                char *eq = strchr(p, '=');
                if (*p && (!eq || eq == p || !eq[1])) {
                        strv_free(add);
                        return lerr_set(err, EINVAL, "invalid registry map '%s' in '%s': %s", p,
                                        value, "expected ORIG=NEW[;ORIG2=NEW2]");
                }
                if (*p)
                        strv_push(&add, p);
                p = next;
        }
        strv_foreach (s, add)
                strv_push(&o->registry_maps, s);
        strv_free(add);
        return 0;
}

int cli_set_registry_map(const struct cli_flag *f, struct options *o, const char *value,
                         struct lerr **err)
{
        if (cli_add_registry_map(o, value, err) < 0)
                return lerr_wrap(err, "--%s", f->name);
        return 0;
}

int cli_set_registry_mirror(const struct cli_flag *f, struct options *o, const char *value,
                            struct lerr **err)
{
        (void) err;
        if (*value)
                strv_push(FIELD(o, f, char **), value);
        return 0;
}

static bool platform_part_ok(const char *s, size_t n)
{
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
                        return false;
        return true;
}

/* os/arch[/variant], each part [A-Za-z0-9_.-]+ (containerd's platform specifier) */
int cli_set_platform(const struct cli_flag *f, struct options *o, const char *value,
                     struct lerr **err)
{
        const char *p = value;
        int parts = 0;

        if (*value) {
                for (;;) {
                        size_t n = strcspn(p, "/");
                        if (!platform_part_ok(p, n) || ++parts > 3)
                                break;
                        if (!p[n]) {
                                p = NULL;
                                break;
                        }
                        p += n + 1;
                }
                if (p || parts < 2)
                        return invalid(err, f, value,
                                       "expected OS/ARCH[/VARIANT], like linux/amd64 or "
                                       "linux/arm/v7");
        }
        replace_string(FIELD(o, f, char *), value);
        return 0;
}

int cli_set_verbosity(const struct cli_flag *f, struct options *o, const char *value,
                      struct lerr **err)
{
        _cleanup_free_ char *lower = xstrdup(value);
        enum log_level level;

        /* logrus.ParseLevel lowercases its input */
        for (char *c = lower; *c; c++)
                *c = (char) tolower((unsigned char) *c);
        if (log_level_parse(lower, &level) < 0)
                return invalid(err, f, value,
                               "expected trace, debug, info, warn, error, fatal or panic");
        free(o->verbosity);
        o->verbosity = TAKE_PTR(lower);
        return 0;
}

int cli_set_log_format(const struct cli_flag *f, struct options *o, const char *value,
                       struct lerr **err)
{
        enum log_format format;

        if (log_format_parse(value, &format) < 0)
                return invalid(err, f, value, "expected text, color or json");
        replace_string(&o->log_format, value);
        return 0;
}

static int set_git_pair(struct options *o, const char *pair)
{
        static const char *const keys[] = {"single-branch", "recurse-submodules",
                                           "insecure-skip-tls"};
        bool *fields[] = {&o->git_single_branch, &o->git_recurse_submodules,
                          &o->git_insecure_skip_tls};
        const char *v;

        if ((v = startswith(pair, "branch="))) {
                replace_string(&o->git_branch, v);
                return 0;
        }
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
                size_t n = strlen(keys[i]);
                if (strncmp(pair, keys[i], n) == 0 && pair[n] == '=')
                        return parse_bool(pair + n + 1, fields[i]);
        }
        return -ENOENT;
}

/* Kaniko's --git takes one key=value per use and ignores unknown keys; lading also takes
 * comma-separated pairs and refuses what it does not know. */
int cli_set_git(const struct cli_flag *f, struct options *o, const char *value, struct lerr **err)
{
        _cleanup_free_ char *copy = xstrdup(value);
        char *p = copy;

        for (;;) {
                char *next = strchr(p, ',');
                if (next)
                        *next++ = '\0';
                int r = set_git_pair(o, p);
                if (r == -EINVAL) {
                        _cleanup_free_ char *why = xasprintf("'%s' is not true or false", p);
                        return invalid(err, f, value, why);
                }
                if (r < 0)
                        return invalid(err, f, value,
                                       "expected branch=NAME, single-branch=BOOL, "
                                       "recurse-submodules=BOOL or insecure-skip-tls=BOOL");
                if (!next)
                        break;
                p = next;
        }
        char *joined = o->git_options ? xasprintf("%s,%s", o->git_options, value) : xstrdup(value);
        free(o->git_options);
        o->git_options = joined;
        return 0;
}

/* Splits one CSV record as BuildKit reads --secret: a field may be "quoted", with "" for a
 * quote, so that a path can hold a comma. */
static int csv_split(const char *s, char ***ret)
{
        _cleanup_(strv_freep) char **fields = NULL;

        for (;;) {
                _cleanup_free_ char *field = xmalloc(strlen(s) + 1);
                size_t n = 0;
                if (*s == '"') {
                        for (s++;; s++) {
                                if (!*s)
                                        return -EINVAL;
                                if (*s == '"') {
                                        if (s[1] != '"')
                                                break;
                                        s++;
                                }
                                field[n++] = *s;
                        }
                        s++;
                        if (*s && *s != ',')
                                return -EINVAL;
                } else {
                        while (*s && *s != ',')
                                field[n++] = *s++;
                }
                field[n] = '\0';
                strv_consume(&fields, TAKE_PTR(field));
                if (!*s)
                        break;
                s++;
        }
        *ret = TAKE_PTR(fields);
        return 0;
}

struct secret_spec {
        const char *type, *id, *src, *env;
};

static int secret_fields(char **fields, struct secret_spec *s, const char **ret_bad)
{
        strv_foreach (field, fields) {
                char *eq = strchr(field, '=');
                *ret_bad = field;
                if (!eq)
                        return -EINVAL;
                *eq = '\0';
                const char *v = eq + 1;
                for (char *c = field; *c; c++)
                        *c = (char) tolower((unsigned char) *c);
                if (streq(field, "type"))
                        s->type = v;
                else if (streq(field, "id"))
                        s->id = v;
                else if (streq(field, "src") || streq(field, "source"))
                        s->src = v;
                else if (streq(field, "env"))
                        s->env = v;
                else
                        return -ENOENT;
        }
        return 0;
}

/* BuildKit's --secret: id=NAME plus src=PATH (or source=) or env=VAR, or type=file|env. With
 * neither src nor env, the variable named NAME is used if it is set, else the file NAME. */
int cli_set_secret(const struct cli_flag *f, struct options *o, const char *value,
                   struct lerr **err)
{
        _cleanup_(strv_freep) char **fields = NULL;
        struct secret_spec s = {0};
        const char *bad = NULL;

        if (csv_split(value, &fields) < 0)
                return invalid(err, f, value, "unterminated quote");
        int r = secret_fields(fields, &s, &bad);
        if (r == -ENOENT) {
                _cleanup_free_ char *why = xasprintf("unknown key '%s'", bad);
                return invalid(err, f, value, why);
        }
        if (r < 0) {
                _cleanup_free_ char *why = xasprintf("'%s' is not KEY=VALUE", bad);
                return invalid(err, f, value, why);
        }
        if (s.type && !streq(s.type, "file") && !streq(s.type, "env"))
                return invalid(err, f, value, "type must be file or env");
        if (!s.id || !*s.id || strchr(s.id, ','))
                return invalid(err, f, value, "expected id=NAME (without ',')");
        if (s.src && s.env)
                return invalid(err, f, value, "give src or env, not both");
        if (s.type && streq(s.type, "env") && !s.env) {
                s.env = s.src ? s.src : s.id;
                s.src = NULL;
        }
        if (!s.src && !s.env) {
                if (getenv(s.id))
                        s.env = s.id;
                else
                        s.src = s.id;
        }
        if ((s.src && !*s.src) || (s.env && !*s.env))
                return invalid(err, f, value, "empty src or env");

        _cleanup_free_ char *prefix = xasprintf("id=%s,", s.id);
        strv_foreach (have, o->secrets)
                if (startswith(have, prefix))
                        return lerr_set(err, EINVAL, "--%s: secret '%s' is given twice", f->name,
                                        s.id);
        strv_consume(&o->secrets, s.src ? xasprintf("id=%s,src=%s", s.id, s.src)
                                        : xasprintf("id=%s,env=%s", s.id, s.env));
        return 0;
}

int cli_flag_set(const struct cli_flag *f, struct options *o, const char *value, struct lerr **err)
{
        static int (*const generic[])(const struct cli_flag *, struct options *, const char *,
                                      struct lerr **) = {
                [CLI_BOOL] = cli_set_bool, [CLI_STRING] = cli_set_string,
                [CLI_INT] = cli_set_int,   [CLI_DURATION] = cli_set_duration,
                [CLI_ENUM] = cli_set_enum, [CLI_LIST] = cli_append_list,
                [CLI_ACTION] = NULL,
        };

        if (f->set)
                return f->set(f, o, value, err);
        if (!generic[f->type])
                return lerr_set(err, EINVAL, "--%s sets no option", f->name);
        return generic[f->type](f, o, value, err);
}
