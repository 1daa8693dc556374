/* SPDX-License-Identifier: Apache-2.0 */
/* Privilege errors: which capability an operation needs, whether this process has it, and the
 * words that say so. It never changes the process's privileges. */
#include "common/priv.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"

static const int op_caps[_PRIV_OP_MAX] = {
        [PRIV_OP_MKNOD] = CAP_MKNOD,     [PRIV_OP_MOUNT] = CAP_SYS_ADMIN,
        [PRIV_OP_CHOWN] = CAP_CHOWN,     [PRIV_OP_SETUID] = CAP_SETUID,
        [PRIV_OP_SETGID] = CAP_SETGID,   [PRIV_OP_CHROOT] = CAP_SYS_CHROOT,
        [PRIV_OP_FOWNER] = CAP_FOWNER,   [PRIV_OP_XATTR_TRUSTED] = CAP_SYS_ADMIN,
        [PRIV_OP_SETFCAP] = CAP_SETFCAP,
};

static const char *const cap_names[] = {
        [CAP_CHOWN] = "CAP_CHOWN",
        [CAP_DAC_OVERRIDE] = "CAP_DAC_OVERRIDE",
        [CAP_DAC_READ_SEARCH] = "CAP_DAC_READ_SEARCH",
        [CAP_FOWNER] = "CAP_FOWNER",
        [CAP_FSETID] = "CAP_FSETID",
        [CAP_KILL] = "CAP_KILL",
        [CAP_SETGID] = "CAP_SETGID",
        [CAP_SETUID] = "CAP_SETUID",
        [CAP_SETPCAP] = "CAP_SETPCAP",
        [CAP_NET_BIND_SERVICE] = "CAP_NET_BIND_SERVICE",
        [CAP_NET_ADMIN] = "CAP_NET_ADMIN",
        [CAP_NET_RAW] = "CAP_NET_RAW",
        [CAP_SYS_CHROOT] = "CAP_SYS_CHROOT",
        [CAP_SYS_PTRACE] = "CAP_SYS_PTRACE",
        [CAP_SYS_ADMIN] = "CAP_SYS_ADMIN",
        [CAP_MKNOD] = "CAP_MKNOD",
        [CAP_AUDIT_WRITE] = "CAP_AUDIT_WRITE",
        [CAP_SETFCAP] = "CAP_SETFCAP",
};

int priv_op_cap(enum priv_op op)
{
        if ((unsigned) op >= _PRIV_OP_MAX)
                return -1;
        return op_caps[op];
}

const char *priv_cap_name(int cap)
{
        if (cap < 0 || (size_t) cap >= ARRAY_SIZE(cap_names))
                return NULL;
        return cap_names[cap];
}

static bool has(uint64_t set, int cap)
{
        return cap >= 0 && cap < 64 && (set >> cap) & 1;
}

/* Reads a small /proc file into buf; "" when it cannot be read. */
static void read_small(const char *path, char *buf, size_t size)
{
        buf[0] = '\0';
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return;
        ssize_t n = read(fd, buf, size - 1);
        (void) close(fd);
        buf[n > 0 ? n : 0] = '\0';
}

int priv_state_read(struct priv_state *ret)
{
        struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
        struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {0};
        struct priv_state st = {0};
        char buf[4096];

        if (syscall(SYS_capget, &hdr, data) < 0)
                return -errno;
        st.effective = (uint64_t) data[0].effective | ((uint64_t) data[1].effective << 32);
        for (int cap = 0; cap < 64; cap++) {
                int r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
                if (r < 0)
                        break; /* past the kernel's last capability */
                if (r > 0)
                        st.bounding |= (uint64_t) 1 << cap;
        }

        /* the initial namespace maps every id onto itself: "0 0 4294967295" */
        read_small("/proc/self/uid_map", buf, sizeof(buf));
        unsigned a, b, c;
        if (buf[0] &&
            !(sscanf(buf, "%u %u %u", &a, &b, &c) == 3 && a == 0 && b == 0 && c == 4294967295u))
                st.userns = true;
        read_small("/proc/self/setgroups", buf, sizeof(buf));
        st.setgroups_denied = strncmp(buf, "deny", 4) == 0;
        read_small("/proc/self/status", buf, sizeof(buf));
        const char *s = strstr(buf, "\nSeccomp:");
        if (s)
                st.seccomp = (int) strtol(s + 9, NULL, 10);

        *ret = st;
        return 0;
}

const char *priv_explain(enum priv_op op, int errnum, const struct priv_state *st, char *buf,
                         size_t size)
{
        int cap = priv_op_cap(op);
        const char *name = priv_cap_name(cap);

        if (errnum < 0)
                errnum = -errnum;
        if (!name || !size)
                return NULL;
        /* setuid/setgid/chown to an id the user namespace does not map fail with EINVAL */
        if (errnum == EINVAL && st->userns &&
            (op == PRIV_OP_SETUID || op == PRIV_OP_SETGID || op == PRIV_OP_CHOWN)) {
                (void) snprintf(buf, size,
                                "the id is not mapped in the build's user namespace (a "
                                "rootless sandbox maps only the ids /etc/subuid and "
                                "/etc/subgid give the user)");
                return buf;
        }
        if (errnum != EPERM && errnum != EACCES)
                return NULL;
        if (!has(st->effective, cap)) {
                if (!has(st->bounding, cap))
                        (void) snprintf(buf, size,
                                        "the build runs without %s (it is not in the "
                                        "capability bounding set: an unprivileged pod?)",
                                        name);
                else
                        (void) snprintf(buf, size,
                                        "the build runs without %s in its effective "
                                        "capabilities (not running as root?)",
                                        name);
                return buf;
        }
        if (op == PRIV_OP_SETGID && st->setgroups_denied) {
                (void) snprintf(buf, size,
                                "setgroups(2) is denied in the build's user namespace (a "
                                "rootless sandbox without /etc/subgid entries?)");
                return buf;
        }
        if (st->userns &&
            (op == PRIV_OP_MKNOD || op == PRIV_OP_MOUNT || op == PRIV_OP_XATTR_TRUSTED)) {
                (void) snprintf(buf, size,
                                "the build runs in a user namespace, where %s does not allow "
                                "this (%s)",
                                name,
                                op == PRIV_OP_MKNOD   ? "devices cannot be created there"
                                : op == PRIV_OP_MOUNT ? "only some file systems can be mounted"
                                                      : "trusted.* attributes are refused");
                return buf;
        }
        if (st->seccomp == 2) {
                (void) snprintf(buf, size,
                                "refused although the build has %s: a seccomp profile or a "
                                "security module (AppArmor, SELinux) of the container runtime "
                                "blocks it",
                                name);
                return buf;
        }
        return NULL;
}

int priv_error(struct lerr **err, int errnum, enum priv_op op, const char *fmt, ...)
{
        struct priv_state st;
        char why[256];
        const char *explained = NULL;
        va_list ap;

        if (errnum < 0)
                errnum = -errnum;
        if (errnum == 0)
                errnum = EIO;
        if (priv_state_read(&st) == 0)
                explained = priv_explain(op, errnum, &st, why, sizeof(why));
        va_start(ap, fmt);
        _cleanup_free_ char *what = xvasprintf(fmt, ap);
        va_end(ap);
        if (explained)
                return lerr_set(err, errnum, "%s: %s: %s", what, strerror(errnum), explained);
        return lerr_set(err, errnum, "%s: %s", what, strerror(errnum));
}
