/* SPDX-License-Identifier: Apache-2.0 */
/* Resolves USER and --chown specs through the build root's own etc/passwd and etc/group,
 * read with in-root resolution. It never calls NSS and never looks at the machine's files. */
#include "executor/users.h"
#include "executor/users-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/parse.h"

static char *trim(char *s)
{
        while (*s == ' ' || *s == '\t')
                s++;
        size_t n = strlen(s);
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
                s[--n] = '\0';
        return s;
}

/* Splits s at ':' into at most max fields; returns the count, or max + 1 if there are more. */
static size_t split_fields(char *s, char **fields, size_t max)
{
        size_t n = 0;
        for (;;) {
                if (n == max)
                        return max + 1;
                fields[n++] = s;
                char *c = strchr(s, ':');
                if (!c)
                        return n;
                *c = '\0';
                s = c + 1;
        }
}

static int parse_id(const char *s, unsigned *ret)
{
        unsigned v;
        int r = parse_uint(s, &v);
        if (r < 0)
                return r;
        if (v > USERS_ID_MAX)
                return -ERANGE;
        *ret = v;
        return 0;
}

static bool skip_line(const char *s)
{
        return *s == '\0' || *s == '#' || *s == '+' || *s == '-';
}

int users_parse_passwd_line(char *line, struct users_pw_line *ret)
{
        char *f[7];
        unsigned uid, gid;

        line = trim(line);
        if (skip_line(line))
                return -EINVAL;
        size_t n = split_fields(line, f, ARRAY_SIZE(f));
        /* name:password:uid:gid[:gecos[:home[:shell]]]; busybox and old tools may stop early */
        if (n < 4 || n > ARRAY_SIZE(f) || !*f[0])
                return -EINVAL;
        if (parse_id(f[2], &uid) < 0 || parse_id(f[3], &gid) < 0)
                return -EINVAL;
        ret->name = f[0];
        ret->uid = uid;
        ret->gid = gid;
        ret->home = n >= 6 ? f[5] : "";
        return 0;
}

int users_parse_group_line(char *line, struct users_gr_line *ret)
{
        char *f[4];
        unsigned gid;

        line = trim(line);
        if (skip_line(line))
                return -EINVAL;
        size_t n = split_fields(line, f, ARRAY_SIZE(f));
        /* name:password:gid[:member,member...] */
        if (n < 3 || n > ARRAY_SIZE(f) || !*f[0])
                return -EINVAL;
        if (parse_id(f[2], &gid) < 0)
                return -EINVAL;
        ret->name = f[0];
        ret->gid = gid;
        ret->members = n == 4 ? f[3] : f[2] + strlen(f[2]);
        return 0;
}

bool users_member_of(const char *members, const char *name)
{
        size_t len = strlen(name);
        const char *p = members;
        while (*p) {
                while (*p == ' ' || *p == '\t')
                        p++;
                const char *e = p;
                while (*e && *e != ',')
                        e++;
                const char *end = e;
                while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
                        end--;
                if ((size_t) (end - p) == len && memcmp(p, name, len) == 0)
                        return true;
                p = *e ? e + 1 : e;
        }
        return false;
}

/* A whole etc/passwd or etc/group of the image. A missing file (or a missing etc/) reads as
 * empty, as Docker treats it; other errors are returned. */
static int read_db(int root_fd, const char *path, struct buf *ret, struct lerr **err)
{
        _cleanup_close_ int fd = fs_open_in_root(root_fd, path, O_RDONLY | O_NOCTTY, 0);
        if (fd == -ENOENT || fd == -ENOTDIR)
                return 0;
        if (fd < 0)
                return lerr_errno(err, -fd, "open '%s' of the image", path);
        int r = fs_read_fd(fd, ret);
        if (r == -E2BIG)
                return lerr_set(err, E2BIG, "read '%s' of the image: larger than %u bytes", path,
                                USERS_FILE_MAX_BYTES);
        if (r < 0)
                return lerr_errno(err, -r, "read '%s' of the image", path);
        return 0;
}

/* Calls fn on a copy of each line of b; fn returns > 0 to stop, < 0 on error. Lines longer
 * than USERS_LINE_MAX or holding a NUL byte are skipped as malformed. */
static int for_each_line(const struct buf *b, int (*fn)(char *line, void *userdata), void *userdata)
{
        const char *p = buf_str(b);
        const char *end = p + b->len;
        _cleanup_free_ char *line = NULL;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                const char *e = nl ? nl : end;
                size_t n = (size_t) (e - p);
                if (n <= USERS_LINE_MAX && !memchr(p, '\0', n)) {
                        if (!line)
                                line = xmalloc(USERS_LINE_MAX + 1);
                        memcpy(line, p, n);
                        line[n] = '\0';
                        int r = fn(line, userdata);
                        if (r != 0)
                                return r;
                }
                p = e + 1;
        }
        return 0;
}

struct pw_match {
        const char *name; /* match by name, or */
        unsigned uid;     /* by uid when name == NULL */
        bool found;
        uid_t ret_uid;
        gid_t ret_gid;
        char *ret_name, *ret_home;
};

static int pw_match_line(char *line, void *userdata)
{
        struct pw_match *m = userdata;
        struct users_pw_line pw;
        if (users_parse_passwd_line(line, &pw) < 0)
                return 0;
        if (m->name ? !streq(pw.name, m->name) : pw.uid != m->uid)
                return 0;
        m->found = true;
        m->ret_uid = pw.uid;
        m->ret_gid = pw.gid;
        m->ret_name = xstrdup(pw.name);
        m->ret_home = xstrdup(pw.home);
        return 1; /* the first matching line wins, as in Docker */
}

struct gr_match {
        const char *name;   /* match by name, or */
        unsigned gid;       /* by gid when name == NULL, or */
        const char *member; /* collect every group listing this user */
        bool found;
        gid_t ret_gid;
        gid_t *groups;
        size_t n_groups;
};

static int gr_match_line(char *line, void *userdata)
{
        struct gr_match *m = userdata;
        struct users_gr_line gr;
        if (users_parse_group_line(line, &gr) < 0)
                return 0;
        if (m->member) {
                if (!users_member_of(gr.members, m->member))
                        return 0;
                for (size_t i = 0; i < m->n_groups; i++)
                        if (m->groups[i] == gr.gid)
                                return 0;
                if (m->n_groups >= USERS_MAX_GROUPS)
                        return -E2BIG;
                m->groups = xreallocarray(m->groups, m->n_groups + 1, sizeof(gid_t));
                m->groups[m->n_groups++] = gr.gid;
                return 0;
        }
        if (m->name ? !streq(gr.name, m->name) : gr.gid != m->gid)
                return 0;
        m->found = true;
        m->ret_gid = gr.gid;
        return 1;
}

/* "digits only" decides between an id and a name, as Docker's strconv.Atoi does (no sign). */
static bool is_number(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

static int split_spec(const char *spec, char **ret_user, char **ret_group)
{
        const char *colon = strchr(spec, ':');
        if (colon && strchr(colon + 1, ':'))
                return -EINVAL;
        *ret_user = colon ? xstrndup(spec, (size_t) (colon - spec)) : xstrdup(spec);
        *ret_group = colon ? xstrdup(colon + 1) : NULL;
        return 0;
}

static int lookup_group(const struct buf *db, const char *group, gid_t *ret, struct lerr **err)
{
        struct gr_match gm = {.name = group};
        bool numeric = is_number(group);
        unsigned id = 0;

        if (numeric) {
                if (parse_id(group, &id) < 0)
                        return lerr_set(err, ERANGE, "group id '%s' is out of range 0-%u", group,
                                        USERS_ID_MAX);
                gm.name = NULL;
                gm.gid = id;
        }
        (void) for_each_line(db, gr_match_line, &gm);
        if (gm.found)
                *ret = gm.ret_gid;
        else if (numeric)
                *ret = id;
        else
                return lerr_set(err, ENOENT, "unable to find group '%s': no matching entry in %s",
                                group, USERS_GROUP_PATH);
        return 0;
}

void users_ids_done(struct users_ids *ids)
{
        free(ids->groups);
        free(ids->name);
        free(ids->home);
        *ids = (struct users_ids){0};
}

static int resolve_user(const struct buf *pwdb, const char *user, struct pw_match *ret,
                        struct lerr **err)
{
        unsigned id = 0;
        bool numeric = !*user || is_number(user);

        if (*user && numeric && parse_id(user, &id) < 0)
                return lerr_set(err, ERANGE, "user id '%s' is out of range 0-%u", user,
                                USERS_ID_MAX);
        *ret = (struct pw_match){.name = numeric ? NULL : user, .uid = id};
        (void) for_each_line(pwdb, pw_match_line, ret);
        if (ret->found)
                return 0;
        if (!numeric)
                return lerr_set(err, ENOENT, "unable to find user '%s': no matching entry in %s",
                                user, USERS_PASSWD_PATH);
        /* a uid without an entry runs with gid 0 and home "/", as Docker does */
        ret->ret_uid = id;
        ret->ret_gid = 0;
        return 0;
}

int users_resolve(int root_fd, const char *spec, struct users_ids *ret, struct lerr **err)
{
        _cleanup_(buf_done) struct buf pwdb = BUF_INIT(USERS_FILE_MAX_BYTES);
        _cleanup_(buf_done) struct buf grdb = BUF_INIT(USERS_FILE_MAX_BYTES);
        _cleanup_free_ char *user = NULL, *group = NULL;
        struct pw_match pm;
        int r;

        if (split_spec(spec ? spec : "", &user, &group) < 0)
                return lerr_set(err, EINVAL, "invalid user '%s': expected user[:group]", spec);
        r = read_db(root_fd, USERS_PASSWD_PATH, &pwdb, err);
        if (r >= 0)
                r = read_db(root_fd, USERS_GROUP_PATH, &grdb, err);
        if (r < 0)
                return lerr_wrap(err, "resolve user '%s'", spec);
        r = resolve_user(&pwdb, user, &pm, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *name = pm.ret_name, *home = pm.ret_home;
        gid_t gid = pm.ret_gid;
        _cleanup_free_ gid_t *groups = NULL;
        size_t n_groups = 0;

        if (group && *group) {
                r = lookup_group(&grdb, group, &gid, err);
                if (r < 0)
                        return r;
        } else if (name) {
                struct gr_match gm = {.member = name};
                r = for_each_line(&grdb, gr_match_line, &gm);
                groups = gm.groups;
                n_groups = gm.n_groups;
                if (r < 0)
                        return lerr_set(err, E2BIG, "user '%s' is in more than %u groups in %s",
                                        name, USERS_MAX_GROUPS, USERS_GROUP_PATH);
        }

        *ret = (struct users_ids){
                .uid = pm.ret_uid,
                .gid = gid,
                .groups = TAKE_PTR(groups),
                .n_groups = n_groups,
                .name = TAKE_PTR(name),
                .home = home && *home ? TAKE_PTR(home) : xstrdup("/"),
        };
        return 0;
}

int users_resolve_chown(int root_fd, const char *spec, uid_t *ret_uid, gid_t *ret_gid,
                        struct lerr **err)
{
        _cleanup_(buf_done) struct buf pwdb = BUF_INIT(USERS_FILE_MAX_BYTES);
        _cleanup_(buf_done) struct buf grdb = BUF_INIT(USERS_FILE_MAX_BYTES);
        _cleanup_free_ char *user = NULL, *group = NULL;
        uid_t uid = 0;
        gid_t gid = 0;
        int r;

        if (split_spec(spec ? spec : "", &user, &group) < 0)
                return lerr_set(err, EINVAL, "invalid --chown '%s': expected user[:group]", spec);
        if (*user && is_number(user)) {
                unsigned id;
                if (parse_id(user, &id) < 0)
                        return lerr_set(err, ERANGE, "user id '%s' is out of range 0-%u", user,
                                        USERS_ID_MAX);
                uid = id;
                gid = id;
        } else if (*user) {
                r = read_db(root_fd, USERS_PASSWD_PATH, &pwdb, err);
                if (r < 0)
                        return lerr_wrap(err, "resolve --chown '%s'", spec);
                struct pw_match pm;
                r = resolve_user(&pwdb, user, &pm, err);
                if (r < 0)
                        return r;
                free(pm.ret_name);
                free(pm.ret_home);
                uid = pm.ret_uid;
                gid = pm.ret_gid;
        }
        if (group && *group) {
                if (!is_number(group)) {
                        r = read_db(root_fd, USERS_GROUP_PATH, &grdb, err);
                        if (r < 0)
                                return lerr_wrap(err, "resolve --chown '%s'", spec);
                }
                r = lookup_group(&grdb, group, &gid, err);
                if (r < 0)
                        return r;
        }
        *ret_uid = uid;
        *ret_gid = gid;
        return 0;
}
