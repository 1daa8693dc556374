/* SPDX-License-Identifier: Apache-2.0 */
/* Privilege errors: the explanation for each kind of confinement, and a real mknod refused
 * after dropping CAP_MKNOD from the bounding and effective sets in a child. */
#include "common/priv.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "tap.h"

#define ALL    ((uint64_t) 0x1ffffffffffULL)
#define BIT(c) ((uint64_t) 1 << (c))

static void explain_is(enum priv_op op, int errnum, struct priv_state st, const char *want,
                       const char *name)
{
        char buf[256];
        const char *got = priv_explain(op, errnum, &st, buf, sizeof(buf));
        is_str(got, want, "%s", name);
}

static void test_explain(void)
{
        struct priv_state pod = {.effective = ALL & ~BIT(CAP_MKNOD) & ~BIT(CAP_SYS_ADMIN),
                                 .bounding = ALL & ~BIT(CAP_MKNOD) & ~BIT(CAP_SYS_ADMIN)};
        explain_is(PRIV_OP_MKNOD, EPERM, pod,
                   "the build runs without CAP_MKNOD (it is not in the capability bounding "
                   "set: an unprivileged pod?)",
                   "mknod in a pod without CAP_MKNOD");
        explain_is(PRIV_OP_MOUNT, -EPERM, pod,
                   "the build runs without CAP_SYS_ADMIN (it is not in the capability bounding "
                   "set: an unprivileged pod?)",
                   "mount in a pod, errno given negative");
        explain_is(PRIV_OP_CHOWN, EPERM, pod, NULL, "chown allowed by the pod: no explanation");
        explain_is(PRIV_OP_MKNOD, ENOSPC, pod, NULL, "not a privilege error");

        struct priv_state user = {.effective = 0, .bounding = ALL};
        explain_is(PRIV_OP_CHOWN, EPERM, user,
                   "the build runs without CAP_CHOWN in its effective capabilities (not "
                   "running as root?)",
                   "chown as a plain user");
        explain_is(PRIV_OP_SETUID, EACCES, user,
                   "the build runs without CAP_SETUID in its effective capabilities (not "
                   "running as root?)",
                   "EACCES counts too");

        struct priv_state rootless = {
                .effective = ALL, .bounding = ALL, .userns = true, .setgroups_denied = true};
        explain_is(PRIV_OP_MKNOD, EPERM, rootless,
                   "the build runs in a user namespace, where CAP_MKNOD does not allow this "
                   "(devices cannot be created there)",
                   "mknod in a user namespace");
        explain_is(PRIV_OP_MOUNT, EPERM, rootless,
                   "the build runs in a user namespace, where CAP_SYS_ADMIN does not allow this "
                   "(only some file systems can be mounted)",
                   "mount in a user namespace");
        explain_is(PRIV_OP_SETUID, EINVAL, rootless,
                   "the id is not mapped in the build's user namespace (a rootless sandbox "
                   "maps only the ids /etc/subuid and /etc/subgid give the user)",
                   "setuid to an unmapped id");
        explain_is(PRIV_OP_CHOWN, EINVAL, rootless,
                   "the id is not mapped in the build's user namespace (a rootless sandbox "
                   "maps only the ids /etc/subuid and /etc/subgid give the user)",
                   "chown to an unmapped id");
        explain_is(PRIV_OP_SETGID, EPERM, rootless,
                   "setgroups(2) is denied in the build's user namespace (a rootless sandbox "
                   "without /etc/subgid entries?)",
                   "setgroups denied");
        explain_is(PRIV_OP_SETUID, EINVAL, (struct priv_state){.effective = ALL}, NULL,
                   "EINVAL outside a user namespace is not explained");

        struct priv_state docker = {.effective = ALL, .bounding = ALL, .seccomp = 2};
        explain_is(PRIV_OP_MOUNT, EPERM, docker,
                   "refused although the build has CAP_SYS_ADMIN: a seccomp profile or a "
                   "security module (AppArmor, SELinux) of the container runtime blocks it",
                   "seccomp filter");
        explain_is(PRIV_OP_MOUNT, EPERM, (struct priv_state){.effective = ALL, .bounding = ALL},
                   NULL, "full privileges: nothing to explain");
        explain_is((enum priv_op) 99, EPERM, pod, NULL, "unknown op");

        is_str(priv_cap_name(priv_op_cap(PRIV_OP_SETFCAP)), "CAP_SETFCAP", "cap name");
        is_int(priv_op_cap(_PRIV_OP_MAX), -1, "op out of range");
        ok(priv_cap_name(64) == NULL, "cap out of range");
}

/* capget and PR_CAPBSET_READ agree with /proc/self/status, read independently here */
static uint64_t status_hex(const char *key)
{
        char buf[4096] = {0};
        int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        (void) !read(fd, buf, sizeof(buf) - 1);
        close(fd);
        const char *s = strstr(buf, key);
        return s ? strtoull(s + strlen(key), NULL, 16) : 0;
}

static void test_state(void)
{
        struct priv_state st;
        is_int(priv_state_read(&st), 0, "read own state");
        ok(st.effective == status_hex("CapEff:"), "effective set matches CapEff (%llx)",
           (unsigned long long) st.effective);
        ok(st.bounding == status_hex("CapBnd:"), "bounding set matches CapBnd (%llx)",
           (unsigned long long) st.bounding);
        is_int(st.seccomp, (int) status_hex("Seccomp:"), "seccomp mode");
}

/* In a child: drop CAP_MKNOD from bounding and effective sets, then mknod and report the
 * message through a pipe. */
static void test_real_mknod(void)
{
        if (geteuid() != 0) {
                ok(true, "# SKIP real mknod needs root");
                return;
        }
        char dir[] = "/tmp/lading-test-priv-XXXXXX";
        if (!mkdtemp(dir))
                abort();
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                abort();
        pid_t pid = fork();
        if (pid == 0) {
                struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
                struct __user_cap_data_struct data[2] = {0};
                if (prctl(PR_CAPBSET_DROP, CAP_MKNOD, 0, 0, 0) < 0 ||
                    syscall(SYS_capget, &hdr, data) < 0)
                        _exit(2);
                data[0].effective &= ~(1u << CAP_MKNOD);
                data[0].permitted &= ~(1u << CAP_MKNOD);
                if (syscall(SYS_capset, &hdr, data) < 0)
                        _exit(3);
                int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
                struct lerr *err = NULL;
                if (mknodat(dfd, "null", S_IFCHR | 0666, makedev(1, 3)) == 0)
                        _exit(4);
                (void) priv_error(&err, errno, PRIV_OP_MKNOD, "create device '%s'", "dev/null");
                const char *m = lerr_message(err);
                (void) !write(p[1], m, strlen(m));
                _exit(0);
        }
        close(p[1]);
        char buf[512] = {0};
        size_t n = 0;
        ssize_t r;
        while ((r = read(p[0], buf + n, sizeof(buf) - 1 - n)) > 0)
                n += (size_t) r;
        close(p[0]);
        int st;
        waitpid(pid, &st, 0);
        is_int(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0, "child dropped CAP_MKNOD");
        is_str(buf,
               "create device 'dev/null': Operation not permitted: the build runs without "
               "CAP_MKNOD (it is not in the capability bounding set: an unprivileged pod?)",
               "real mknod without CAP_MKNOD");
        rmdir(dir);
}

int main(void)
{
        test_explain();
        test_state();
        test_real_mknod();

        struct lerr *err = NULL;
        is_int(priv_error(&err, ENOSPC, PRIV_OP_MKNOD, "create '%s'", "x"), -ENOSPC,
               "plain errno keeps its code");
        is_str(lerr_message(err), "create 'x': No space left on device", "plain message");
        lerr_free(err);
        return tap_done();
}
