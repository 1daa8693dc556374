/* SPDX-License-Identifier: Apache-2.0 */
/* USER and --chown resolution against a scratch root's etc/passwd and etc/group. */
#include "executor/users.h"
#include "executor/users-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/fs.h"
#include "tap.h"

static char base[] = "/tmp/lading-test-users-XXXXXX";

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
                             "# a comment line\n"
                             "\n"
                             "+nis-entry\n"
                             "bad line without fields\n"
                             "badid:x:abc:1::/:/bin/sh\n"
                             "toomany:x:7:7:a:/b:/bin/sh:extra\n"
                             ":x:8:8::/nameless:/bin/sh\n"
                             "huge:x:2147483648:1::/:/bin/sh\n"
                             "app:x:1000:1000:App User:/home/app:/bin/sh\r\n"
                             "app:x:1001:1001:second app line:/second:/bin/sh\n"
                             "short:x:1500:1500\n"
                             "nohome:x:1600:1600:::/bin/sh\n";

static const char group[] = "root:x:0:\n"
                            "app:x:1000:\n"
                            "extra:x:2000:other, app ,more\n"
                            "again:x:3000:app\n"
                            "dupgid:x:2000:app\n"
                            "broken:x:notanumber:app\n"
                            "fourth:x:4000:application,apps\n"
                            "staff:x:50:short\n";

static int mkroot(const char *name, const char *pw, const char *gr)
{
        char *p = xasprintf("%s/%s", base, name);
        (void) mkdir(p, 0755);
        int fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
        free(p);
        (void) mkdirat(fd, "etc", 0755);
        if (pw && fs_write_file_at(fd, "etc/passwd", pw, strlen(pw), 0644) < 0)
                abort();
        if (gr && fs_write_file_at(fd, "etc/group", gr, strlen(gr), 0644) < 0)
                abort();
        return fd;
}

static char *groups_str(const struct users_ids *u)
{
        char *s = xstrdup("");
        for (size_t i = 0; i < u->n_groups; i++) {
                char *n = xasprintf("%s%s%u", s, i ? "," : "", (unsigned) u->groups[i]);
                free(s);
                s = n;
        }
        return s;
}

/* "uid gid [groups] name home" or "error: message" */
static char *resolve(int root, const char *spec)
{
        struct users_ids u = {0};
        struct lerr *err = NULL;
        int r = users_resolve(root, spec, &u, &err);
        if (r < 0) {
                char *m = xasprintf("error %d: %s", -r, lerr_message(err));
                lerr_free(err);
                return m;
        }
        char *g = groups_str(&u);
        char *m = xasprintf("%u %u [%s] %s %s", (unsigned) u.uid, (unsigned) u.gid, g,
                            u.name ? u.name : "(none)", u.home);
        free(g);
        users_ids_done(&u);
        return m;
}

static void resolve_is(int root, const char *spec, const char *want)
{
        char *got = resolve(root, spec);
        is_str(got, want, "USER '%s'", spec);
        free(got);
}

static void chown_is(int root, const char *spec, const char *want)
{
        uid_t uid = 12345;
        gid_t gid = 12345;
        struct lerr *err = NULL;
        char *got;
        int r = users_resolve_chown(root, spec, &uid, &gid, &err);
        if (r < 0)
                got = xasprintf("error %d: %s", -r, lerr_message(err));
        else
                got = xasprintf("%u:%u", (unsigned) uid, (unsigned) gid);
        lerr_free(err);
        is_str(got, want, "--chown '%s'", spec);
        free(got);
}

static void test_line_parsers(void)
{
        struct users_pw_line pw;
        struct users_gr_line gr;
        char l1[] = "app:x:1000:1001:gecos:/home/app:/bin/sh";
        is_int(users_parse_passwd_line(l1, &pw), 0, "passwd line parses");
        is_str(pw.name, "app", "passwd name");
        is_int(pw.uid, 1000, "passwd uid");
        is_int(pw.gid, 1001, "passwd gid");
        is_str(pw.home, "/home/app", "passwd home");
        char l2[] = "app:x:1000";
        is_int(users_parse_passwd_line(l2, &pw), -EINVAL, "passwd line with 3 fields");
        char l3[] = "app:x:-1:0::/:";
        is_int(users_parse_passwd_line(l3, &pw), -EINVAL, "negative uid");
        char l4[] = "app:x:4294967295:0::/:";
        is_int(users_parse_passwd_line(l4, &pw), -EINVAL, "uid -1 as unsigned");
        char l5[] = "   ";
        is_int(users_parse_passwd_line(l5, &pw), -EINVAL, "blank line");
        char g1[] = "wheel:x:10:root,app";
        is_int(users_parse_group_line(g1, &gr), 0, "group line parses");
        is_str(gr.name, "wheel", "group name");
        is_int(gr.gid, 10, "group gid");
        is_str(gr.members, "root,app", "group members");
        char g2[] = "nomembers:x:11";
        is_int(users_parse_group_line(g2, &gr), 0, "group line without member field");
        is_str(gr.members, "", "no members");
        char g3[] = "x:x:1:a:b";
        is_int(users_parse_group_line(g3, &gr), -EINVAL, "group line with 5 fields");
        ok(users_member_of("a, app ,b", "app"), "member with blanks");
        ok(!users_member_of("application,apps", "app"), "prefixes are not members");
        ok(!users_member_of("", "app"), "empty member list");
        ok(users_member_of("app", "app"), "single member");
}

static void test_resolve(void)
{
        int root = mkroot("full", passwd, group);
        resolve_is(root, "app", "1000 1000 [2000,3000] app /home/app");
        resolve_is(root, "1000", "1000 1000 [2000,3000] app /home/app");
        resolve_is(root, "app:extra", "1000 2000 [] app /home/app");
        resolve_is(root, "app:3000", "1000 3000 [] app /home/app");
        resolve_is(root, "app:4242", "1000 4242 [] app /home/app");
        resolve_is(root, "app:", "1000 1000 [2000,3000] app /home/app");
        resolve_is(root, "1001", "1001 1001 [2000,3000] app /second");
        resolve_is(root, "short", "1500 1500 [50] short /");
        resolve_is(root, "nohome", "1600 1600 [] nohome /");
        resolve_is(root, "4321", "4321 0 [] (none) /");
        resolve_is(root, "4321:staff", "4321 50 [] (none) /");
        resolve_is(root, "", "0 0 [] root /root");
        resolve_is(root, ":extra", "0 2000 [] root /root");
        resolve_is(root, "0", "0 0 [] root /root");
        resolve_is(root, "nosuch",
                   "error 2: unable to find user 'nosuch': no matching entry in /etc/passwd");
        resolve_is(root, "app:nosuch",
                   "error 2: unable to find group 'nosuch': no matching entry in /etc/group");
        resolve_is(root, "badid",
                   "error 2: unable to find user 'badid': no matching entry "
                   "in /etc/passwd");
        resolve_is(root, "toomany",
                   "error 2: unable to find user 'toomany': no matching entry "
                   "in /etc/passwd");
        resolve_is(root, "huge",
                   "error 2: unable to find user 'huge': no matching entry "
                   "in /etc/passwd");
        resolve_is(root, "2147483648",
                   "error 34: user id '2147483648' is out of range "
                   "0-2147483647");
        resolve_is(root, "2147483647", "2147483647 0 [] (none) /");
        resolve_is(root, "app:99999999999",
                   "error 34: group id '99999999999' is out of range "
                   "0-2147483647");
        resolve_is(root, "a:b:c", "error 22: invalid user 'a:b:c': expected user[:group]");
        resolve_is(root, "-1",
                   "error 2: unable to find user '-1': no matching entry in "
                   "/etc/passwd");
        close(root);
}

static void test_missing_files(void)
{
        int root = mkroot("empty", NULL, NULL);
        resolve_is(root, "", "0 0 [] (none) /");
        resolve_is(root, "1234", "1234 0 [] (none) /");
        resolve_is(root, "1234:5678", "1234 5678 [] (none) /");
        resolve_is(root, "app",
                   "error 2: unable to find user 'app': no matching entry in /etc/passwd");
        resolve_is(root, "0:wheel",
                   "error 2: unable to find group 'wheel': no matching entry in /etc/group");
        chown_is(root, "1234", "1234:1234");
        chown_is(root, "app",
                 "error 2: unable to find user 'app': no matching entry in "
                 "/etc/passwd");
        close(root);

        /* etc/passwd is a link that escapes: it resolves inside the root, never to the host
         * file beside the root (which would match) */
        root = mkroot("escape", NULL, NULL);
        char *outside = xasprintf("%s/outside", base);
        (void) mkdir(outside, 0755);
        int ofd = open(outside, O_PATH | O_DIRECTORY | O_CLOEXEC);
        free(outside);
        if (fs_write_file_at(ofd, "passwd", "root:x:0:0::/:\n", 15, 0644) < 0 ||
            fs_write_file_at(ofd, "group", "root:x:0:\n", 10, 0644) < 0)
                abort();
        close(ofd);
        if (symlinkat("../../outside/passwd", root, "etc/passwd") < 0)
                abort();
        if (symlinkat("/../../outside/group", root, "etc/group") < 0)
                abort();
        resolve_is(root, "root",
                   "error 2: unable to find user 'root': no matching entry in /etc/passwd");
        resolve_is(root, "0:root",
                   "error 2: unable to find group 'root': no matching entry in /etc/group");
        close(root);

        /* an in-root absolute link is followed inside the root */
        root = mkroot("linked", NULL, NULL);
        (void) mkdirat(root, "data", 0755);
        if (fs_write_file_at(root, "data/passwd", "linked:x:77:78::/l:/bin/sh\n", 27, 0644) < 0)
                abort();
        if (symlinkat("/data/passwd", root, "etc/passwd") < 0)
                abort();
        resolve_is(root, "linked", "77 78 [] linked /l");
        close(root);
}

static void test_limits(void)
{
        int root = mkroot("big", NULL, group);
        int fd = openat(root, "etc/passwd", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0 || ftruncate(fd, USERS_FILE_MAX_BYTES + 1) < 0)
                abort();
        close(fd);
        resolve_is(root, "app",
                   "error 7: resolve user 'app': read '/etc/passwd' of the image: "
                   "larger than 4194304 bytes");
        close(root);

        /* one over-long line is skipped, the rest still parses */
        size_t n = USERS_LINE_MAX + 10;
        static const char tail[] = ":x:1:1::/:/bin/sh\nok:x:5:6::/ok:/bin/sh\n";
        char *pw = xmalloc(n + sizeof(tail));
        memset(pw, 'a', n);
        memcpy(pw + n, tail, sizeof(tail));
        root = mkroot("longline", pw, "");
        free(pw);
        resolve_is(root, "ok", "5 6 [] ok /ok");
        close(root);

        /* etc/passwd that is a directory: an error naming it, not silence */
        root = mkroot("dirpasswd", NULL, NULL);
        (void) mkdirat(root, "etc/passwd", 0755);
        resolve_is(root, "app",
                   "error 21: resolve user 'app': read '/etc/passwd' of the image: "
                   "Is a directory");
        close(root);
}

static void test_chown(void)
{
        int root = mkroot("chown", passwd, group);
        chown_is(root, "app", "1000:1000");
        chown_is(root, "1234", "1234:1234");
        chown_is(root, "app:extra", "1000:2000");
        chown_is(root, "app:77", "1000:77");
        chown_is(root, "1234:55", "1234:55");
        chown_is(root, "", "0:0");
        chown_is(root, ":extra", "0:2000");
        chown_is(root, "nosuch",
                 "error 2: unable to find user 'nosuch': no matching entry in "
                 "/etc/passwd");
        chown_is(root, "app:nosuch",
                 "error 2: unable to find group 'nosuch': no matching entry "
                 "in /etc/group");
        chown_is(root, "x:y:z", "error 22: invalid --chown 'x:y:z': expected user[:group]");
        close(root);
}

int main(void)
{
        if (!mkdtemp(base))
                abort();
        test_line_parsers();
        test_resolve();
        test_missing_files();
        test_limits();
        test_chown();
        int r = tap_done();
        if (r == 0) {
                int fd = open("/tmp", O_PATH | O_DIRECTORY);
                (void) fs_rm_rf_at(fd, base + 5);
                close(fd);
        }
        return r;
}
