/* SPDX-License-Identifier: Apache-2.0 */
/* Option values of instructions that have their own little languages: RUN --mount and
 * --device (CSV key=value lists), EXPOSE port specs, COPY --chmod, ADD --checksum, and what a
 * RUN with heredocs executes. Parsing only; nothing here touches a filesystem. */
#include "executor/instructions.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/parse.h"
#include "common/strv.h"
#include "executor/dftext.h"
#include "executor/expand.h"
#include "executor/instructions-internal.h"

static const char *const mount_types[] = {"bind", "cache", "tmpfs", "secret", "ssh"};
static const char *const sharing_names[] = {NULL, "shared", "private", "locked"};

const char *df_mount_type_name(enum df_mount_type t)
{
        return (unsigned) t < ARRAY_SIZE(mount_types) ? mount_types[t] : "?";
}

const char *df_mount_sharing_name(enum df_mount_sharing s)
{
        return (unsigned) s < ARRAY_SIZE(sharing_names) ? sharing_names[s] : NULL;
}

const char *df_network_name(enum df_network n)
{
        return n == DF_NETWORK_NONE ? "none" : n == DF_NETWORK_HOST ? "host" : "default";
}

const char *df_security_name(enum df_security s)
{
        return s == DF_SECURITY_INSECURE ? "insecure" : "sandbox";
}

/* One line of CSV (RFC 4180 quoting: "a,b" and "" for a quote), as BuildKit reads mounts. */
static int csv_fields(const char *s, char ***ret)
{
        _cleanup_(strvb_done) struct strvb v = {0};

        for (;;) {
                struct buf f = BUF_INIT(SIZE_MAX);
                if (*s == '"') {
                        for (s++;; s++) {
                                if (!*s) {
                                        buf_done(&f);
                                        return -EBADMSG; /* missing closing quote */
                                }
                                if (*s == '"') {
                                        if (s[1] != '"')
                                                break;
                                        s++;
                                }
                                if (buf_append_char(&f, *s) < 0)
                                        oom();
                        }
                        s++;
                        if (*s && *s != ',') {
                                buf_done(&f);
                                return -EBADMSG; /* text after the closing quote */
                        }
                } else {
                        size_t n = strcspn(s, ",");
                        if (memchr(s, '"', n)) {
                                buf_done(&f);
                                return -EBADMSG; /* a quote inside an unquoted field */
                        }
                        if (buf_append(&f, s, n) < 0)
                                oom();
                        s += n;
                }
                strvb_consume(&v, buf_steal(&f));
                if (!*s)
                        break;
                s++; /* the comma */
        }
        *ret = strvb_steal(&v);
        return 0;
}

/* docker/go-units RAMInBytes: "64m", "1.5GiB", "1024" (binary multipliers) */
static int ram_in_bytes(const char *s, int64_t *ret)
{
        const char *p = s;
        size_t dots_ok = 1;

        if (!(*p >= '0' && *p <= '9'))
                return -EINVAL;
        while ((*p >= '0' && *p <= '9') || (*p == '.' && p[1] >= '0' && p[1] <= '9')) {
                if (*p == '.' && !dots_ok--)
                        return -EINVAL;
                p++;
        }
        _cleanup_free_ char *num = xstrndup(s, (size_t) (p - s));
        if (*p == ' ')
                p++;
        double mult = 1;
        const char *units = "kmgtp";
        const char *u = *p ? strchr(units, *p | 0x20) : NULL;
        if (u && *p != '\0') {
                for (const char *q = units; q <= u; q++)
                        mult *= 1024;
                p++;
        }
        if (*p == 'i' || *p == 'I')
                p++;
        if (*p == 'b' || *p == 'B')
                p++;
        if (*p)
                return -EINVAL;
        double v = strtod(num, NULL) * mult;
        if (!isfinite(v) || v >= 9.2e18)
                return -ERANGE;
        *ret = (int64_t) v;
        return 0;
}

static int parse_octal_u32(const char *s, uint32_t *ret)
{
        uint64_t v = 0;
        if (!*s)
                return -EINVAL;
        for (; *s; s++) {
                if (*s < '0' || *s > '7')
                        return -EINVAL;
                v = v * 8 + (uint64_t) (*s - '0');
                if (v > UINT32_MAX)
                        return -ERANGE;
        }
        *ret = (uint32_t) v;
        return 0;
}

static int parse_dec_u32(const char *s, uint32_t *ret)
{
        uint64_t v;
        if (!(*s >= '0' && *s <= '9') || parse_u64(s, &v) < 0 || v > UINT32_MAX)
                return -EINVAL;
        *ret = (uint32_t) v;
        return 0;
}

struct mount_state {
        struct df_mount *m;
        bool ro_auto;
        bool type_known;
        bool final; /* every value is expanded: check everything */
};

static int mount_flag(struct mount_state *st, const char *key, struct lerr **err)
{
        struct df_mount *m = st->m;

        if (streq(key, "readonly") || streq(key, "ro")) {
                m->readonly = true;
                st->ro_auto = false;
        } else if (streq(key, "readwrite") || streq(key, "rw")) {
                m->readonly = false;
                st->ro_auto = false;
        } else if (streq(key, "required")) {
                if (st->type_known && m->type != DF_MOUNT_SECRET && m->type != DF_MOUNT_SSH)
                        return lerr_set(err, EINVAL,
                                        "unexpected key 'required' for mount type '%s'",
                                        df_mount_type_name(m->type));
                m->required = true;
        } else {
                _cleanup_free_ char *q = dftext_quote(key, strlen(key), 80);
                return lerr_set(err, EINVAL, "invalid field '%s' must be a key=value pair", q);
        }
        return 0;
}

static int mount_bad_value(const char *key, const char *value, struct lerr **err)
{
        _cleanup_free_ char *q = dftext_quote(value, strlen(value), 80);
        return lerr_set(err, EINVAL, "invalid value for %s: '%s'", key, q);
}

static int mount_enum(const char *what, const char *value, const char *const *names, size_t n,
                      size_t first, unsigned *ret, struct lerr **err)
{
        _cleanup_free_ char *low = dftext_lower(xstrdup(value));
        for (size_t i = first; i < n; i++)
                if (streq(low, names[i])) {
                        *ret = (unsigned) i;
                        return 0;
                }
        _cleanup_free_ char *q = dftext_quote(value, strlen(value), 80);
        _cleanup_free_ char *s = dftext_suggest(value, names + first, n - first, true);
        if (s)
                return lerr_set(err, EINVAL, "unsupported %s '%s' (did you mean '%s'?)", what, q,
                                s);
        return lerr_set(err, EINVAL, "unsupported %s '%s'", what, q);
}

static int mount_needs_type(struct mount_state *st, const char *key, enum df_mount_type t1,
                            enum df_mount_type t2, struct lerr **err)
{
        if (st->type_known && st->m->type != t1 && st->m->type != t2)
                return lerr_set(err, EINVAL, "unexpected key '%s' for mount type '%s'", key,
                                df_mount_type_name(st->m->type));
        return 0;
}

static void set_str(char **dst, const char *v)
{
        free(*dst);
        *dst = xstrdup(v);
}

static int mount_value(struct mount_state *st, const char *key, const char *value,
                       struct lerr **err)
{
        static const char *const keys[] = {
                "type",        "from", "source", "target",    "readonly", "id",  "sharing",
                "required",    "size", "mode",   "uid",       "gid",      "src", "dst",
                "destination", "ro",   "rw",     "readwrite", "env",
        };
        struct df_mount *m = st->m;
        bool check = st->final || !strchr(value, '$');
        bool b;
        unsigned e = 0; /* gcc -O3 cannot see that mount_enum() sets it when it returns 0 */
        int r = 0;

        if (streq(key, "type")) {
                st->type_known = check;
                if (check && (r = mount_enum("mount type", value, mount_types,
                                             ARRAY_SIZE(mount_types), 0, &e, err)) >= 0)
                        m->type = (enum df_mount_type) e;
        } else if (streq(key, "from"))
                set_str(&m->from, value);
        else if (streq(key, "source") || streq(key, "src"))
                set_str(&m->source, value);
        else if (streq(key, "target") || streq(key, "dst") || streq(key, "destination"))
                set_str(&m->target, value);
        else if (streq(key, "readonly") || streq(key, "ro") || streq(key, "readwrite") ||
                 streq(key, "rw")) {
                bool ro_key = streq(key, "readonly") || streq(key, "ro");
                st->ro_auto = false;
                if (check && parse_bool(value, &b) < 0)
                        return mount_bad_value(key, value, err);
                if (check)
                        m->readonly = ro_key ? b : !b;
        } else if (streq(key, "required")) {
                r = mount_needs_type(st, key, DF_MOUNT_SECRET, DF_MOUNT_SSH, err);
                if (r >= 0 && check && parse_bool(value, &m->required) < 0)
                        return mount_bad_value(key, value, err);
        } else if (streq(key, "size")) {
                r = mount_needs_type(st, key, DF_MOUNT_TMPFS, DF_MOUNT_TMPFS, err);
                if (r >= 0 && check && ram_in_bytes(value, &m->size) < 0)
                        return mount_bad_value(key, value, err);
        } else if (streq(key, "id"))
                set_str(&m->id, value);
        else if (streq(key, "sharing")) {
                if (check && (r = mount_enum("sharing value", value, sharing_names,
                                             ARRAY_SIZE(sharing_names), 1, &e, err)) >= 0)
                        m->sharing = (enum df_mount_sharing) e;
        } else if (streq(key, "mode")) {
                m->has_mode = true;
                if (check && parse_octal_u32(value, &m->mode) < 0)
                        return mount_bad_value(key, value, err);
        } else if (streq(key, "uid") || streq(key, "gid")) {
                bool uid = key[0] == 'u';
                *(uid ? &m->has_uid : &m->has_gid) = true;
                if (check && parse_dec_u32(value, uid ? &m->uid : &m->gid) < 0)
                        return mount_bad_value(key, value, err);
        } else if (streq(key, "env"))
                set_str(&m->env, value);
        else {
                _cleanup_free_ char *q = dftext_quote(key, strlen(key), 80);
                _cleanup_free_ char *s = dftext_suggest(key, keys, ARRAY_SIZE(keys), true);
                if (s)
                        return lerr_set(err, EINVAL, "unexpected key '%s' (did you mean '%s'?)", q,
                                        s);
                return lerr_set(err, EINVAL, "unexpected key '%s'", q);
        }
        return r;
}

static int mount_finish(struct mount_state *st, struct lerr **err)
{
        struct df_mount *m = st->m;
        bool file_info =
                m->type == DF_MOUNT_SECRET || m->type == DF_MOUNT_SSH || m->type == DF_MOUNT_CACHE;

        if (!st->type_known)
                return 0;
        if (!file_info && (m->has_mode || m->has_uid || m->has_gid))
                return lerr_set(err, EINVAL, "%s not allowed for '%s' type mounts",
                                m->has_mode  ? "mode"
                                : m->has_uid ? "uid"
                                             : "gid",
                                df_mount_type_name(m->type));
        if (st->ro_auto)
                m->readonly = m->type != DF_MOUNT_CACHE && m->type != DF_MOUNT_TMPFS;
        if (m->type == DF_MOUNT_SECRET) {
                if (m->from)
                        return lerr_set(err, EINVAL, "secret mount should not have a from");
                if (m->sharing != DF_SHARING_UNSET)
                        return lerr_set(err, EINVAL, "secret mount should not define sharing");
                if (!m->source && !m->target && !m->id)
                        return lerr_set(err, EINVAL,
                                        "invalid secret mount: one of source, target, id required");
                if (m->source && m->id)
                        return lerr_set(err, EINVAL,
                                        "secret mount: both source and id can't be set");
        }
        if (m->sharing != DF_SHARING_UNSET && m->type != DF_MOUNT_CACHE)
                return lerr_set(err, EINVAL, "invalid cache sharing set for %s mount",
                                df_mount_type_name(m->type));
        return 0;
}

static int mount_field(struct mount_state *st, const char *field, const struct expand_env *env,
                       unsigned flags, char escape, struct lerr **err)
{
        const char *eq = strchr(field, '=');
        _cleanup_free_ char *key =
                dftext_lower(xstrndup(field, eq ? (size_t) (eq - field) : SIZE_MAX));
        _cleanup_free_ char *value = NULL;
        int r;

        if (!eq)
                return mount_flag(st, key, err);
        if (streq(key, "from") && !env) {
                const char *d = strchr(eq + 1, '$');
                if (d && d[1])
                        return lerr_set(err, EINVAL,
                                        "'from' doesn't support variable expansion, "
                                        "define alias stage instead");
        }
        if (env) {
                r = expand_word(eq + 1, escape, flags, env, &value, err);
                if (r < 0)
                        return r;
        } else
                value = xstrdup(eq + 1);
        return mount_value(st, key, value, err);
}

int df_mount_parse(const char *spec, const struct expand_env *env, unsigned flags, char escape,
                   struct df_mount *ret, struct lerr **err)
{
        _cleanup_(strv_freep) char **fields = NULL;
        struct df_mount m = {.type = DF_MOUNT_BIND, .spec = xstrdup(spec)};
        struct mount_state st = {
                .m = &m,
                .ro_auto = true,
                .type_known = true,
                .final = env && !(flags & EXPAND_KEEP_UNSET),
        };
        int r = csv_fields(spec, &fields);

        if (r < 0) {
                _cleanup_free_ char *q = dftext_quote(spec, strlen(spec), 80);
                df_mount_done(&m);
                return lerr_set(err, EINVAL, "parse mount '%s': bad quoting", q);
        }
        strv_foreach (f, fields) {
                r = mount_field(&st, f, env, flags, escape, err);
                if (r < 0)
                        break;
        }
        if (r >= 0)
                r = mount_finish(&st, err);
        if (r < 0) {
                df_mount_done(&m);
                return r;
        }
        *ret = m;
        return 0;
}

static int device_field(struct df_device *d, const char *f, struct lerr **err)
{
        const char *eq = strchr(f, '=');
        _cleanup_free_ char *key = dftext_lower(xstrndup(f, eq ? (size_t) (eq - f) : SIZE_MAX));
        _cleanup_free_ char *q = dftext_quote(f, strlen(f), 80);

        if (!eq) {
                if (streq(key, "required"))
                        d->required = true;
                else if (!d->name)
                        d->name = xstrdup(f);
                else
                        return lerr_set(err, EINVAL, "invalid field '%s' must be a key=value pair",
                                        q);
        } else if (streq(key, "name")) {
                if (d->name)
                        return lerr_set(err, EINVAL, "device name already set to '%s'", d->name);
                d->name = xstrdup(eq + 1);
        } else if (streq(key, "required")) {
                if (parse_bool(eq + 1, &d->required) < 0)
                        return mount_bad_value("required", eq + 1, err);
        } else if (!d->name)
                d->name = xstrdup(f); /* CDI names such as vendor.com/class=name */
        else
                return lerr_set(err, EINVAL, "unexpected field '%s' in a device", q);
        return 0;
}

int df_device_parse(const char *spec, struct df_device *ret, struct lerr **err)
{
        _cleanup_(strv_freep) char **fields = NULL;
        struct df_device d = {0};

        if (csv_fields(spec, &fields) < 0) {
                _cleanup_free_ char *q = dftext_quote(spec, strlen(spec), 80);
                return lerr_set(err, EINVAL, "parse device '%s': bad quoting", q);
        }
        strv_foreach (f, fields) {
                int r = device_field(&d, f, err);
                if (r < 0) {
                        free(d.name);
                        return r;
                }
        }
        if (!d.name || !*d.name) {
                free(d.name);
                return lerr_set(err, EINVAL, "device needs a name");
        }
        *ret = d;
        return 0;
}

/* ---- EXPOSE ---- */

static int port_number(const char *s, size_t n, unsigned *ret)
{
        unsigned v = 0;
        if (n == 0)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                v = v * 10 + (unsigned) (s[i] - '0');
                if (v > 65535)
                        return -ERANGE;
        }
        *ret = v;
        return 0;
}

static int port_range(const char *s, unsigned *start, unsigned *end)
{
        const char *dash = strchr(s, '-');
        int r = port_number(s, dash ? (size_t) (dash - s) : strlen(s), start);
        if (r < 0 || !dash) {
                *end = *start;
                return r;
        }
        r = port_number(dash + 1, strlen(dash + 1), end);
        if (r >= 0 && *end < *start)
                r = -EINVAL;
        return r;
}

/* "[ip:][hostport:]port[-port][/proto]" (Docker accepts the host parts and ignores them) */
static int expose_one(const char *word, struct strvb *ports, size_t *total, struct lerr **err)
{
        _cleanup_free_ char *q = dftext_quote(word, strlen(word), 80);
        const char *colon = strrchr(word, ':');
        const char *cport = colon ? colon + 1 : word;
        const char *slash = strchr(cport, '/');
        _cleanup_free_ char *num = xstrndup(cport, slash ? (size_t) (slash - cport) : SIZE_MAX);
        _cleanup_free_ char *proto = dftext_lower(xstrdup(slash ? slash + 1 : "tcp"));
        unsigned start, end;

        if (!*num)
                return lerr_set(err, EINVAL, "invalid port '%s': no port specified", q);
        if (!*proto) {
                free(proto);
                proto = xstrdup("tcp"); /* "80/" is "80/tcp" */
        }
        if (!streq(proto, "tcp") && !streq(proto, "udp") && !streq(proto, "sctp"))
                return lerr_set(err, EINVAL, "invalid port '%s': invalid proto '%s'", q, slash + 1);
        if (port_range(num, &start, &end) < 0)
                return lerr_set(err, EINVAL, "invalid port '%s': invalid container port '%s'", q,
                                num);
        if (*total + (end - start + 1) > DF_EXPOSE_MAX_PORTS)
                return lerr_set(err, E2BIG, "EXPOSE lists more than %d ports", DF_EXPOSE_MAX_PORTS);
        *total += end - start + 1;
        for (unsigned p = start; p <= end; p++)
                strvb_consume(ports, xasprintf("%u/%s", p, proto));
        return 0;
}

int df_expose_ports(char *const *words, char ***ret, struct lerr **err)
{
        _cleanup_(strvb_done) struct strvb ports = {0};
        size_t total = 0;

        strv_foreach (w, words) {
                int r = expose_one(w, &ports, &total, err);
                if (r < 0)
                        return r;
        }
        *ret = strvb_steal(&ports);
        return 0;
}

/* ---- --chmod and --checksum ---- */

/* chmod(1) symbolic modes: clause[,clause]... with clause = [ugoa]*([-+=]([rwxXst]*|[ugo]))+ */
static bool symbolic_mode(const char *s)
{
        for (;;) {
                while (*s && strchr("ugoa", *s))
                        s++;
                if (!*s || !strchr("+-=", *s))
                        return false;
                while (*s && strchr("+-=", *s)) {
                        s++;
                        if (*s && strchr("ugo", *s))
                                s++;
                        else
                                while (*s && strchr("rwxXst", *s))
                                        s++;
                }
                if (!*s)
                        return true;
                if (*s++ != ',')
                        return false;
        }
}

int df_chmod_parse(const char *s, bool *ret_octal, uint32_t *ret_mode, struct lerr **err)
{
        _cleanup_free_ char *q = dftext_quote(s, strlen(s), 80);
        uint32_t mode;

        if (*s >= '0' && *s <= '9') {
                if (parse_octal_u32(s, &mode) < 0 || mode > 07777)
                        return lerr_set(err, EINVAL,
                                        "invalid chmod parameter '%s': it should be an octal "
                                        "string between 0 and 07777 or a symbolic mode",
                                        q);
                *ret_octal = true;
                *ret_mode = mode;
                return 0;
        }
        if (!symbolic_mode(s))
                return lerr_set(err, EINVAL,
                                "invalid chmod parameter '%s': it should be an octal string "
                                "between 0 and 07777 or a symbolic mode",
                                q);
        *ret_octal = false;
        *ret_mode = 0;
        return 0;
}

static bool is_git_source(const char *s)
{
        return startswith(s, "git://") || startswith(s, "git@") || startswith(s, "ssh://") ||
               ((startswith(s, "https://") || startswith(s, "http://")) &&
                (strstr(s, ".git#") || (strlen(s) > 4 && streq(s + strlen(s) - 4, ".git"))));
}

int df_checksum_check(const char *checksum, char *const *sources, struct lerr **err)
{
        if (strv_length(sources) != 1)
                return lerr_set(err, EINVAL, "checksum can't be specified for multiple sources");
        const char *src = sources[0];
        bool http = startswith(src, "http://") || startswith(src, "https://");
        if (!http && !is_git_source(src))
                return lerr_set(err, EINVAL, "checksum requires HTTP(S) or Git sources");
        if (is_git_source(src))
                return 0;
        static const struct {
                const char *algo;
                size_t hexlen;
        } algos[] = {{"sha256:", 64}, {"sha384:", 96}, {"sha512:", 128}};
        for (size_t i = 0; i < ARRAY_SIZE(algos); i++) {
                const char *hex = startswith(checksum, algos[i].algo);
                if (hex && strlen(hex) == algos[i].hexlen &&
                    strspn(hex, "0123456789abcdef") == algos[i].hexlen)
                        return 0;
        }
        _cleanup_free_ char *q = dftext_quote(checksum, strlen(checksum), 80);
        return lerr_set(err, EINVAL,
                        "invalid checksum '%s': expected sha256:, sha384: or sha512: and the "
                        "lower-case hex digest",
                        q);
}

/* ---- what RUN executes ---- */

void df_run_script_done(struct df_run_script *s)
{
        strv_free(s->argv);
        free(s->file_name);
        free(s->file_data);
        memset(s, 0, sizeof(*s));
}

static int heredoc_script(const struct df_inst *run, struct df_run_script *s, char ***args,
                          struct lerr **err)
{
        const char *text = run->u.run.cmd.args[0];
        bool is;
        int r = df_heredoc_word(text, &is, NULL, NULL);

        if (r >= 0 && is) {
                const struct df_heredoc *h = &run->heredocs[0];
                _cleanup_free_ char *data =
                        h->chomp ? df_chomp_tabs(h->content) : xstrdup(h->content);
                if (startswith(data, "#!")) {
                        /* its own interpreter: a file the shell runs (BuildKit /dev/pipes) */
                        _cleanup_free_ char *joined = xasprintf("/dev/pipes/%s", h->name);
                        _cleanup_free_ char *clean = NULL;
                        r = fs_normalize_path(joined, &clean);
                        if (r < 0)
                                return lerr_set(err, -r, "bad heredoc name '%s'", h->name);
                        s->file_name = xstrdup(h->name);
                        s->file_data = TAKE_PTR(data);
                        strv_consume(args, xasprintf("/%s", clean));
                } else
                        strv_consume(args, TAKE_PTR(data));
                return 0;
        }
        /* anything else: the shell sees the heredocs as written */
        struct buf b = BUF_INIT(SIZE_MAX);
        if (buf_append_str(&b, text) < 0)
                oom();
        for (size_t i = 0; i < run->n_heredocs; i++)
                if (buf_printf(&b, "\n%s%s", run->heredocs[i].content, run->heredocs[i].name) < 0)
                        oom();
        strv_consume(args, buf_steal(&b));
        return 0;
}

int df_run_script(const struct df_inst *run, char *const *shell, struct df_run_script *ret,
                  struct lerr **err)
{
        static char *const default_shell[] = {"/bin/sh", "-c", NULL};
        const struct df_cmdline *c = &run->u.run.cmd;
        struct df_run_script s = {0};
        _cleanup_(strv_freep) char **args = xcalloc(1, sizeof(char *));
        int r;

        if (run->kind != DF_RUN)
                return lerr_set(err, EINVAL, "not a RUN instruction");
        if (run->n_heredocs > 0) {
                if (strv_length(c->args) != 1 || c->json)
                        return lerr_set(err, EINVAL, "heredocs need a shell-form RUN");
                r = heredoc_script(run, &s, &args, err);
                if (r < 0) {
                        df_run_script_done(&s);
                        return r;
                }
        } else
                strv_foreach (a, c->args)
                        strv_push(&args, a);
        if (!c->json) {
                s.argv = strv_copy(shell && shell[0] ? shell : default_shell);
                strv_foreach (a, args)
                        strv_push(&s.argv, a);
        } else
                s.argv = TAKE_PTR(args);
        *ret = s;
        return 0;
}
