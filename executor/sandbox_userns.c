/* SPDX-License-Identifier: Apache-2.0 */
/* The sandbox's user namespace for a caller that is not root: the caller's uid and gid mapped
 * to 0, plus its /etc/subuid and /etc/subgid ranges through the setuid newuidmap/newgidmap
 * helpers when it has some. It reads the machine's own passwd and subid files (this is the
 * machine's user, not the image's) and changes nothing on disk. */
#include "executor/sandbox-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/log.h"

int sandbox_find_subid(const char *text, const char *name, uint32_t id, uint32_t *ret_start,
                       uint32_t *ret_count)
{
        char idstr[16];
        (void) snprintf(idstr, sizeof(idstr), "%u", (unsigned) id);
        for (const char *p = text; p && *p;) {
                const char *nl = strchr(p, '\n');
                size_t n = nl ? (size_t) (nl - p) : strlen(p);
                char line[512];
                if (n < sizeof(line)) {
                        memcpy(line, p, n);
                        line[n] = '\0';
                        char *c1 = strchr(line, ':');
                        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                        if (c2 && !strchr(c2 + 1, ':')) {
                                *c1 = *c2 = '\0';
                                char *e1, *e2;
                                errno = 0;
                                unsigned long start = strtoul(c1 + 1, &e1, 10);
                                unsigned long count = strtoul(c2 + 1, &e2, 10);
                                bool who = (name && streq(line, name)) || streq(line, idstr);
                                if (who && errno == 0 && *e1 == '\0' && *e2 == '\0' &&
                                    e1 != c1 + 1 && e2 != c2 + 1 && count > 0 &&
                                    start <= UINT32_MAX && count <= UINT32_MAX - start) {
                                        *ret_start = (uint32_t) start;
                                        *ret_count = (uint32_t) count;
                                        return 0;
                                }
                        }
                }
                p = nl ? nl + 1 : NULL;
        }
        return -ENOENT;
}

static int write_proc(const char *path, const char *s, struct lerr **err)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || fs_write_all(fd, s, strlen(s)) < 0)
                return lerr_errno(err, errno, "write '%s'", path);
        return 0;
}

static int unshare_user(struct lerr **err)
{
        if (unshare(CLONE_NEWUSER) == 0)
                return 0;
        return lerr_errno(err, errno,
                          "create a user namespace (--sandbox without root needs one; "
                          "unprivileged user namespaces may be disabled by "
                          "user.max_user_namespaces, kernel.unprivileged_userns_clone or "
                          "AppArmor: run as root instead)");
}

/* Only the caller's own ids, mapped to 0: all an unprivileged process may write itself. */
static int map_single(uid_t uid, gid_t gid, struct lerr **err)
{
        char map[64];
        int r = write_proc("/proc/self/setgroups", "deny", err);
        if (r < 0)
                return r;
        (void) snprintf(map, sizeof(map), "0 %u 1\n", (unsigned) uid);
        r = write_proc("/proc/self/uid_map", map, err);
        if (r < 0)
                return r;
        (void) snprintf(map, sizeof(map), "0 %u 1\n", (unsigned) gid);
        return write_proc("/proc/self/gid_map", map, err);
}

static char *find_tool(const char *name)
{
        static const char *const dirs[] = {"/usr/bin", "/bin", "/usr/sbin", "/sbin"};
        for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
                char *path = xasprintf("%s/%s", dirs[i], name);
                if (access(path, X_OK) == 0)
                        return path;
                free(path);
        }
        return NULL;
}

/* The caller's ranges in the host's /etc/subuid and /etc/subgid, by name or uid. */
static bool read_subids(uid_t uid, gid_t gid, uint32_t sub[2][2])
{
        _cleanup_(buf_done) struct buf pw = BUF_INIT(4u << 20);
        _cleanup_(buf_done) struct buf su = BUF_INIT(1u << 20);
        _cleanup_(buf_done) struct buf sg = BUF_INIT(1u << 20);
        _cleanup_free_ char *name = NULL;
        char key[32];

        /* the host's passwd (this is the machine's user, not the image's) */
        if (fs_read_file_at(AT_FDCWD, "/etc/passwd", &pw) == 0) {
                int n = snprintf(key, sizeof(key), ":%u:", (unsigned) uid);
                for (const char *p = buf_str(&pw); p && *p;) {
                        const char *c = strchr(p, ':');
                        const char *x = c ? strchr(c + 1, ':') : NULL;
                        const char *nl = strchr(p, '\n');
                        if (c && x && (!nl || x < nl) && strncmp(x, key, (size_t) n) == 0) {
                                name = xstrndup(p, (size_t) (c - p));
                                break;
                        }
                        p = nl ? nl + 1 : NULL;
                }
        }
        if (fs_read_file_at(AT_FDCWD, "/etc/subuid", &su) < 0 ||
            fs_read_file_at(AT_FDCWD, "/etc/subgid", &sg) < 0)
                return false;
        return sandbox_find_subid(buf_str(&su), name, uid, &sub[0][0], &sub[0][1]) == 0 &&
               sandbox_find_subid(buf_str(&sg), name, gid, &sub[1][0], &sub[1][1]) == 0;
}

/* newuidmap/newgidmap (setuid helpers) must run outside the new namespace on our pid: a
 * helper forked before unshare waits for it, then writes both maps. 0 when they worked. */
static int map_subids(uid_t uid, gid_t gid, const uint32_t sub[2][2], bool *ret_mapped,
                      struct lerr **err)
{
        _cleanup_free_ char *uidmap = find_tool("newuidmap");
        _cleanup_free_ char *gidmap = find_tool("newgidmap");
        char args[2][6][16];
        int go[2];

        *ret_mapped = false;
        if (!uidmap || !gidmap)
                return unshare_user(err);
        (void) snprintf(args[0][0], 16, "%d", (int) getpid());
        (void) snprintf(args[1][0], 16, "%d", (int) getpid());
        for (int i = 0; i < 2; i++) {
                (void) snprintf(args[i][1], 16, "0");
                (void) snprintf(args[i][2], 16, "%u", i == 0 ? (unsigned) uid : (unsigned) gid);
                (void) snprintf(args[i][3], 16, "1");
                (void) snprintf(args[i][4], 16, "1");
        }
        char start[2][16], count[2][16];
        for (int i = 0; i < 2; i++) {
                (void) snprintf(start[i], 16, "%u", (unsigned) sub[i][0]);
                (void) snprintf(count[i], 16, "%u", (unsigned) sub[i][1]);
        }
        char *const uargv[] = {uidmap,     args[0][0], args[0][1], args[0][2], args[0][3],
                               args[0][4], start[0],   count[0],   NULL};
        char *const gargv[] = {gidmap,     args[1][0], args[1][1], args[1][2], args[1][3],
                               args[1][4], start[1],   count[1],   NULL};
        if (pipe2(go, O_CLOEXEC) < 0)
                return lerr_errno(err, errno, "create a pipe");
        pid_t helper = fork();
        if (helper < 0) {
                (void) close(go[0]);
                (void) close(go[1]);
                return lerr_errno(err, errno, "fork");
        }
        if (helper == 0) {
                char c;
                int st;
                (void) close(go[1]);
                if (read(go[0], &c, 1) != 1)
                        _exit(1); /* the parent could not unshare */
                pid_t p = fork();
                if (p == 0) {
                        execv(uargv[0], uargv);
                        _exit(127);
                }
                if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st))
                        _exit(1);
                execv(gargv[0], gargv);
                _exit(127);
        }
        (void) close(go[0]);
        int r = unshare_user(err);
        if (r == 0 && write(go[1], "x", 1) != 1)
                r = lerr_errno(err, errno, "signal the id-mapping helper");
        (void) close(go[1]);
        int st;
        while (waitpid(helper, &st, 0) < 0 && errno == EINTR)
                ;
        *ret_mapped = r == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
        return r;
}

int sandbox_userns_enter(const char **ret_mode, struct lerr **err)
{
        uid_t uid = geteuid();
        gid_t gid = getegid();
        uint32_t sub[2][2];
        bool mapped = false;
        int r;

        *ret_mode = "none";
        if (uid == 0)
                return 0;
        if (read_subids(uid, gid, sub)) {
                r = map_subids(uid, gid, sub, &mapped, err);
                if (r < 0)
                        return r;
                if (!mapped)
                        log_warn("newuidmap/newgidmap failed: only uid %u and gid %u are mapped "
                                 "in the sandbox",
                                 (unsigned) uid, (unsigned) gid);
        } else {
                r = unshare_user(err);
                if (r < 0)
                        return r;
        }
        if (mapped) {
                *ret_mode = "subid";
                return 0;
        }
        log_info("sandbox without root and without /etc/subuid ranges: only uid %u is mapped "
                 "(to 0); RUN steps cannot switch to other users and files cannot be given "
                 "other owners",
                 (unsigned) uid);
        *ret_mode = "single";
        return map_single(uid, gid, err);
}
