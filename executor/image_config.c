/* SPDX-License-Identifier: Apache-2.0 */
/* Image config: parse, change, serialise. Owns no I/O; the build decides what to change. */
#include "executor/image_config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/digest.h"
#include "common/err.h"
#include "common/json.h"
#include "common/strv.h"

struct image_config *image_config_new(const char *os, const char *architecture, const char *variant)
{
        struct image_config *c = xcalloc(1, sizeof(*c));
        c->os = xstrdup(os ? os : "linux");
        c->architecture = xstrdup(architecture ? architecture : "amd64");
        c->variant = variant && *variant ? xstrdup(variant) : NULL;
        return c;
}

static void healthcheck_free(struct healthcheck *h)
{
        if (!h)
                return;
        strv_free(h->test);
        free(h);
}

static void history_done(struct history_entry *h)
{
        free(h->created);
        free(h->created_by);
        free(h->author);
        free(h->comment);
}

void image_config_free(struct image_config *c)
{
        if (!c)
                return;
        free(c->architecture);
        free(c->os);
        free(c->variant);
        free(c->os_version);
        strv_free(c->os_features);
        free(c->created);
        free(c->author);
        free(c->user);
        strv_free(c->env);
        strv_free(c->entrypoint);
        strv_free(c->cmd);
        strv_free(c->exposed_ports);
        strv_free(c->volumes);
        free(c->working_dir);
        for (size_t i = 0; i < c->n_labels; i++) {
                free(c->labels[i].key);
                free(c->labels[i].value);
        }
        free(c->labels);
        free(c->stop_signal);
        healthcheck_free(c->healthcheck);
        strv_free(c->onbuild);
        strv_free(c->shell);
        strv_free(c->diff_ids);
        for (size_t i = 0; i < c->n_history; i++)
                history_done(&c->history[i]);
        free(c->history);
        free(c);
}

static char *dup_or_null(const char *s)
{
        return s ? xstrdup(s) : NULL;
}

static char **strv_copy_or_null(char *const *l)
{
        return l ? strv_copy(l) : NULL;
}

struct image_config *image_config_copy(const struct image_config *c)
{
        struct image_config *n = xcalloc(1, sizeof(*n));
        n->architecture = dup_or_null(c->architecture);
        n->os = dup_or_null(c->os);
        n->variant = dup_or_null(c->variant);
        n->os_version = dup_or_null(c->os_version);
        n->os_features = strv_copy_or_null(c->os_features);
        n->created = dup_or_null(c->created);
        n->author = dup_or_null(c->author);
        n->user = dup_or_null(c->user);
        n->env = strv_copy_or_null(c->env);
        n->entrypoint = strv_copy_or_null(c->entrypoint);
        n->cmd = strv_copy_or_null(c->cmd);
        n->exposed_ports = strv_copy_or_null(c->exposed_ports);
        n->volumes = strv_copy_or_null(c->volumes);
        n->working_dir = dup_or_null(c->working_dir);
        for (size_t i = 0; i < c->n_labels; i++)
                image_config_set_label(n, c->labels[i].key, c->labels[i].value);
        n->stop_signal = dup_or_null(c->stop_signal);
        if (c->healthcheck)
                image_config_set_healthcheck(n, c->healthcheck);
        n->onbuild = strv_copy_or_null(c->onbuild);
        n->shell = strv_copy_or_null(c->shell);
        n->args_escaped = c->args_escaped;
        n->diff_ids = strv_copy_or_null(c->diff_ids);
        for (size_t i = 0; i < c->n_history; i++) {
                const struct history_entry *h = &c->history[i];
                image_config_add_history(n, h->created, h->created_by, h->comment, h->empty_layer);
                n->history[n->n_history - 1].author = dup_or_null(h->author);
        }
        return n;
}

/* ---- parsing ---- */

static int get_str(const cJSON *o, const char *key, char **ret, struct lerr **err)
{
        const char *s;
        int r = json_get_string(o, key, &s, err);
        if (r < 0)
                return r;
        free(*ret);
        *ret = dup_or_null(s);
        return 0;
}

/* An array of strings, or null/absent (→ NULL vector). */
static int get_strv(const cJSON *o, const char *key, char ***ret, struct lerr **err)
{
        const cJSON *a, *e;
        int r = json_get_array(o, key, &a, err);
        if (r < 0)
                return r;
        strv_free(*ret);
        *ret = NULL;
        if (!a)
                return 0;
        *ret = xcalloc(1, sizeof(char *));
        cJSON_ArrayForEach(e, a)
        {
                if (!cJSON_IsString(e))
                        return lerr_set(err, EBADMSG, "field '%s' holds a non-string", key);
                strv_push(ret, e->valuestring);
        }
        return 0;
}

/* A set encoded as an object with empty-object values ({"80/tcp":{}}). */
static int get_set(const cJSON *o, const char *key, char ***ret, struct lerr **err)
{
        const cJSON *m, *e;
        int r = json_get_object(o, key, &m, err);
        if (r < 0)
                return r;
        if (!m)
                return 0;
        cJSON_ArrayForEach(e, m)
        {
                if (!e->string)
                        continue;
                if (!*ret)
                        *ret = xcalloc(1, sizeof(char *));
                if (!strv_contains(*ret, e->string))
                        strv_push(ret, e->string);
        }
        return 0;
}

static int get_duration(const cJSON *o, const char *key, int64_t *ret, struct lerr **err)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
        if (!v || cJSON_IsNull(v))
                return 0;
        if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9.2e18)
                return lerr_set(err, EBADMSG, "field 'Healthcheck.%s' is not a duration", key);
        *ret = (int64_t) v->valuedouble;
        return 0;
}

static int parse_healthcheck(struct image_config *c, const cJSON *h, struct lerr **err)
{
        struct healthcheck hc = {0};
        _cleanup_(strv_freep) char **test = NULL;
        int r = get_strv(h, "Test", &test, err);
        if (r >= 0)
                r = get_duration(h, "Interval", &hc.interval_ns, err);
        if (r >= 0)
                r = get_duration(h, "Timeout", &hc.timeout_ns, err);
        if (r >= 0)
                r = get_duration(h, "StartPeriod", &hc.start_period_ns, err);
        if (r >= 0)
                r = get_duration(h, "StartInterval", &hc.start_interval_ns, err);
        if (r < 0)
                return r;
        const cJSON *retries = cJSON_GetObjectItemCaseSensitive(h, "Retries");
        if (cJSON_IsNumber(retries))
                hc.retries = retries->valueint;
        hc.test = test;
        image_config_set_healthcheck(c, &hc);
        return 0;
}

static int parse_exec_config(struct image_config *c, const cJSON *cfg, struct lerr **err)
{
        const cJSON *labels, *h, *e;
        int r = get_str(cfg, "User", &c->user, err);
        if (r >= 0)
                r = get_strv(cfg, "Env", &c->env, err);
        if (r >= 0)
                r = get_strv(cfg, "Entrypoint", &c->entrypoint, err);
        if (r >= 0)
                r = get_strv(cfg, "Cmd", &c->cmd, err);
        if (r >= 0)
                r = get_set(cfg, "ExposedPorts", &c->exposed_ports, err);
        if (r >= 0)
                r = get_set(cfg, "Volumes", &c->volumes, err);
        if (r >= 0)
                r = get_str(cfg, "WorkingDir", &c->working_dir, err);
        if (r >= 0)
                r = get_str(cfg, "StopSignal", &c->stop_signal, err);
        if (r >= 0)
                r = get_strv(cfg, "OnBuild", &c->onbuild, err);
        if (r >= 0)
                r = get_strv(cfg, "Shell", &c->shell, err);
        if (r >= 0)
                r = json_get_object(cfg, "Labels", &labels, err);
        if (r >= 0)
                r = json_get_object(cfg, "Healthcheck", &h, err);
        if (r < 0)
                return r;
        cJSON_ArrayForEach(e, labels)
        {
                if (!cJSON_IsString(e))
                        return lerr_set(err, EBADMSG, "label '%s' is not a string", e->string);
                image_config_set_label(c, e->string, e->valuestring);
        }
        c->args_escaped = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cfg, "ArgsEscaped"));
        if (h)
                return parse_healthcheck(c, h, err);
        return 0;
}

static int parse_history(struct image_config *c, const cJSON *root, struct lerr **err)
{
        const cJSON *hist, *e;
        int r = json_get_array(root, "history", &hist, err);
        if (r < 0)
                return r;
        cJSON_ArrayForEach(e, hist)
        {
                const char *created = NULL, *by = NULL, *comment = NULL, *author = NULL;
                if (!cJSON_IsObject(e))
                        return lerr_set(err, EBADMSG, "a history entry is not an object");
                if (json_get_string(e, "created", &created, err) < 0 ||
                    json_get_string(e, "created_by", &by, err) < 0 ||
                    json_get_string(e, "comment", &comment, err) < 0 ||
                    json_get_string(e, "author", &author, err) < 0)
                        return -EBADMSG;
                bool empty = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "empty_layer"));
                image_config_add_history(c, created, by, comment, empty);
                c->history[c->n_history - 1].author = dup_or_null(author);
        }
        return 0;
}

int image_config_parse(const char *data, size_t len, struct image_config **ret, struct lerr **err)
{
        _cleanup_(cJSON_Deletep) cJSON *root = NULL;
        _cleanup_(image_config_freep) struct image_config *c = xcalloc(1, sizeof(*c));
        const cJSON *cfg, *rootfs;

        int r = json_parse(data, len, IMAGE_CONFIG_MAX_BYTES, "image config", &root, err);
        if (r < 0)
                return r;
        if (!cJSON_IsObject(root))
                return lerr_set(err, EBADMSG, "image config is not a JSON object");
        r = get_str(root, "architecture", &c->architecture, err);
        if (r >= 0)
                r = get_str(root, "os", &c->os, err);
        if (r >= 0)
                r = get_str(root, "variant", &c->variant, err);
        if (r >= 0)
                r = get_str(root, "os.version", &c->os_version, err);
        if (r >= 0)
                r = get_strv(root, "os.features", &c->os_features, err);
        if (r >= 0)
                r = get_str(root, "created", &c->created, err);
        if (r >= 0)
                r = get_str(root, "author", &c->author, err);
        if (r >= 0)
                r = json_get_object(root, "config", &cfg, err);
        if (r >= 0 && cfg)
                r = parse_exec_config(c, cfg, err);
        if (r >= 0)
                r = json_get_object(root, "rootfs", &rootfs, err);
        if (r >= 0 && rootfs)
                r = get_strv(rootfs, "diff_ids", &c->diff_ids, err);
        if (r >= 0)
                r = parse_history(c, root, err);
        if (r < 0)
                return lerr_wrap(err, "parse image config");
        strv_foreach (d, c->diff_ids) {
                if (!digest_is_wellformed(d))
                        return lerr_set(err, EBADMSG, "parse image config: bad diff_id '%s'", d);
        }
        *ret = TAKE_PTR(c);
        return 0;
}

/* ---- serialising: Go's encoding/json order for BuildKit's image struct, omitempty ---- */

static void add_strv(cJSON *o, const char *key, char *const *l, bool omit_empty)
{
        if (!l || (omit_empty && !l[0]))
                return;
        cJSON *a = json_add_array(o, key);
        strv_foreach (s, l)
                json_array_add_string(a, s);
}

static void add_set(cJSON *o, const char *key, char *const *l)
{
        if (!l || !l[0])
                return;
        cJSON *m = json_add_object(o, key);
        strv_foreach (s, l)
                json_add_object(m, s);
}

static void add_str(cJSON *o, const char *key, const char *s)
{
        if (s && *s)
                json_add_string(o, key, s);
}

static void add_num(cJSON *o, const char *key, double v)
{
        if (!cJSON_AddNumberToObject(o, key, v))
                oom();
}

static void add_healthcheck(cJSON *cfg, const struct healthcheck *h)
{
        cJSON *o = json_add_object(cfg, "Healthcheck");
        add_strv(o, "Test", h->test, true);
        if (h->interval_ns)
                add_num(o, "Interval", (double) h->interval_ns);
        if (h->timeout_ns)
                add_num(o, "Timeout", (double) h->timeout_ns);
        if (h->start_period_ns)
                add_num(o, "StartPeriod", (double) h->start_period_ns);
        if (h->start_interval_ns)
                add_num(o, "StartInterval", (double) h->start_interval_ns);
        if (h->retries)
                add_num(o, "Retries", h->retries);
}

static void add_exec_config(cJSON *root, const struct image_config *c)
{
        cJSON *cfg = json_add_object(root, "config");
        add_str(cfg, "User", c->user);
        add_set(cfg, "ExposedPorts", c->exposed_ports);
        add_strv(cfg, "Env", c->env, true);
        add_strv(cfg, "Entrypoint", c->entrypoint, true);
        add_strv(cfg, "Cmd", c->cmd, true);
        add_set(cfg, "Volumes", c->volumes);
        add_str(cfg, "WorkingDir", c->working_dir);
        if (c->n_labels) {
                cJSON *l = json_add_object(cfg, "Labels");
                for (size_t i = 0; i < c->n_labels; i++)
                        json_add_string(l, c->labels[i].key, c->labels[i].value);
        }
        add_str(cfg, "StopSignal", c->stop_signal);
        if (c->args_escaped && !cJSON_AddTrueToObject(cfg, "ArgsEscaped"))
                oom();
        if (c->healthcheck)
                add_healthcheck(cfg, c->healthcheck);
        add_strv(cfg, "OnBuild", c->onbuild, true);
        add_strv(cfg, "Shell", c->shell, true);
}

char *image_config_to_json(const struct image_config *c)
{
        _cleanup_(cJSON_Deletep) cJSON *root = json_new_object();
        add_str(root, "created", c->created);
        add_str(root, "author", c->author);
        add_str(root, "architecture", c->architecture);
        add_str(root, "os", c->os);
        add_str(root, "os.version", c->os_version);
        add_strv(root, "os.features", c->os_features, true);
        add_str(root, "variant", c->variant);
        add_exec_config(root, c);
        cJSON *rootfs = json_add_object(root, "rootfs");
        json_add_string(rootfs, "type", "layers");
        cJSON *ids = json_add_array(rootfs, "diff_ids");
        strv_foreach (d, c->diff_ids)
                json_array_add_string(ids, d);
        if (c->n_history) {
                cJSON *hist = json_add_array(root, "history");
                for (size_t i = 0; i < c->n_history; i++) {
                        const struct history_entry *h = &c->history[i];
                        cJSON *e = json_new_object();
                        if (!cJSON_AddItemToArray(hist, e))
                                oom();
                        add_str(e, "created", h->created);
                        add_str(e, "created_by", h->created_by);
                        add_str(e, "author", h->author);
                        add_str(e, "comment", h->comment);
                        if (h->empty_layer && !cJSON_AddTrueToObject(e, "empty_layer"))
                                oom();
                }
        }
        return json_print(root);
}

/* ---- changes ---- */

const char *image_config_getenv(const struct image_config *c, const char *key)
{
        size_t n = strlen(key);
        strv_foreach (e, c->env)
                if (strncmp(e, key, n) == 0 && e[n] == '=')
                        return e + n + 1;
        return NULL;
}

void image_config_setenv(struct image_config *c, const char *key, const char *value)
{
        size_t n = strlen(key);
        char *kv = xasprintf("%s=%s", key, value);
        for (size_t i = 0; c->env && c->env[i]; i++)
                if (strncmp(c->env[i], key, n) == 0 && c->env[i][n] == '=') {
                        free(c->env[i]);
                        c->env[i] = kv;
                        return;
                }
        strv_consume(&c->env, kv);
}

void image_config_set_label(struct image_config *c, const char *key, const char *value)
{
        size_t lo = 0, hi = c->n_labels;
        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                int cmp = strcmp(c->labels[mid].key, key);
                if (cmp == 0) {
                        free(c->labels[mid].value);
                        c->labels[mid].value = xstrdup(value);
                        return;
                }
                if (cmp < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        c->labels = xreallocarray(c->labels, c->n_labels + 1, sizeof(*c->labels));
        memmove(&c->labels[lo + 1], &c->labels[lo], (c->n_labels - lo) * sizeof(*c->labels));
        c->labels[lo] = (struct label){.key = xstrdup(key), .value = xstrdup(value)};
        c->n_labels++;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static void sorted_set_add(char ***set, char *s)
{
        if (strv_contains(*set, s)) {
                free(s);
                return;
        }
        strv_consume(set, s);
        qsort(*set, strv_length(*set), sizeof(char *), cmp_str);
}

int image_config_add_port(struct image_config *c, const char *port)
{
        const char *slash = strchr(port, '/');
        size_t n = slash ? (size_t) (slash - port) : strlen(port);
        const char *proto = slash ? slash + 1 : "tcp";
        if (n == 0 || n > 5)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (port[i] < '0' || port[i] > '9')
                        return -EINVAL;
        if (strcasecmp(proto, "tcp") && strcasecmp(proto, "udp") && strcasecmp(proto, "sctp"))
                return -EINVAL;
        char *p = xasprintf("%.*s/%s", (int) n, port, proto);
        for (char *q = p + n + 1; *q; q++)
                *q = (char) (*q >= 'A' && *q <= 'Z' ? *q + 32 : *q);
        sorted_set_add(&c->exposed_ports, p);
        return 0;
}

void image_config_add_volume(struct image_config *c, const char *path)
{
        sorted_set_add(&c->volumes, xstrdup(path));
}

void image_config_set_entrypoint(struct image_config *c, char **argv, bool cmd_set_by_stage)
{
        strv_free(c->entrypoint);
        c->entrypoint = argv ? strv_copy(argv) : NULL;
        if (!cmd_set_by_stage) {
                strv_free(c->cmd);
                c->cmd = NULL;
        }
}

void image_config_set_cmd(struct image_config *c, char **argv)
{
        strv_free(c->cmd);
        c->cmd = argv ? strv_copy(argv) : NULL;
}

void image_config_set_shell(struct image_config *c, char **argv)
{
        strv_free(c->shell);
        c->shell = argv ? strv_copy(argv) : NULL;
}

void image_config_set_string(char **field, const char *value)
{
        free(*field);
        *field = dup_or_null(value);
}

void image_config_set_healthcheck(struct image_config *c, const struct healthcheck *h)
{
        healthcheck_free(c->healthcheck);
        c->healthcheck = xmemdup(h, sizeof(*h));
        c->healthcheck->test = strv_copy_or_null(h->test);
}

void image_config_add_onbuild(struct image_config *c, const char *trigger)
{
        strv_push(&c->onbuild, trigger);
}

void image_config_clear_onbuild(struct image_config *c)
{
        strv_free(c->onbuild);
        c->onbuild = NULL;
}

void image_config_add_layer(struct image_config *c, const char *diff_id)
{
        strv_push(&c->diff_ids, diff_id);
}

void image_config_add_history(struct image_config *c, const char *created, const char *created_by,
                              const char *comment, bool empty_layer)
{
        c->history = xreallocarray(c->history, c->n_history + 1, sizeof(*c->history));
        c->history[c->n_history++] = (struct history_entry){
                .created = dup_or_null(created),
                .created_by = dup_or_null(created_by),
                .comment = dup_or_null(comment),
                .empty_layer = empty_layer,
        };
}

size_t image_config_layer_history_count(const struct image_config *c)
{
        size_t n = 0;
        for (size_t i = 0; i < c->n_history; i++)
                n += !c->history[i].empty_layer;
        return n;
}
