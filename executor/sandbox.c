/* SPDX-License-Identifier: Apache-2.0 */
/* Sandbox mode: new user (when not root), PID and mount namespaces, DIR as the new root with
 * the mounts a pod has, and the executor continuing as PID 1 inside. Everything created in
 * DIR is resolved inside DIR; mounts use O_PATH fds through /proc/self/fd so that a symlink
 * swapped in cannot redirect them. The path mapping is plain string work. */
#include "executor/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/priv.h"
#include "executor/pid1.h"
#include "executor/sandbox-internal.h"

struct sb_alias {
        char *host;   /* absolute host path, lexically clean */
        char *inside; /* path inside the sandbox */
};

struct sb_bind {
        char *source; /* realpath on the host */
        char *inside; /* "<kaniko_dir>/host/N/<name>" */
        bool dir, ro;
};

struct sandbox {
        char *dir;
        char *kaniko_dir; /* absolute, clean: "/kaniko" */
        char *cwd;        /* at sandbox_new(), for relative host paths */
        struct sb_bind *binds;
        size_t n_binds;
        struct sb_alias *aliases;
        size_t n_aliases;
        const char *userns_mode;
};

/* "/" + the lexically cleaned path (".." clamped at "/"). */
static char *clean_abs(const char *base, const char *p)
{
        _cleanup_free_ char *joined = p[0] == '/' ? xstrdup(p) : xasprintf("%s/%s", base, p);
        _cleanup_free_ char *clean = NULL;
        if (fs_normalize_path(joined, &clean) < 0)
                return NULL;
        return xasprintf("/%s", clean);
}

struct sandbox *sandbox_new(const char *dir, const char *kaniko_dir)
{
        struct sandbox *sb = xcalloc(1, sizeof(*sb));
        char cwd[PATH_MAX];
        sb->dir = xstrdup(dir);
        sb->cwd = xstrdup(getcwd(cwd, sizeof(cwd)) ? cwd : "/");
        sb->kaniko_dir = clean_abs("/", kaniko_dir && *kaniko_dir ? kaniko_dir : "/kaniko");
        if (!sb->kaniko_dir)
                sb->kaniko_dir = xstrdup("/kaniko");
        sb->userns_mode = "none";
        return sb;
}

void sandbox_free(struct sandbox *sb)
{
        if (!sb)
                return;
        for (size_t i = 0; i < sb->n_binds; i++) {
                free(sb->binds[i].source);
                free(sb->binds[i].inside);
        }
        for (size_t i = 0; i < sb->n_aliases; i++) {
                free(sb->aliases[i].host);
                free(sb->aliases[i].inside);
        }
        free(sb->binds);
        free(sb->aliases);
        free(sb->dir);
        free(sb->kaniko_dir);
        free(sb->cwd);
        free(sb);
}

const char *sandbox_userns_mode(const struct sandbox *sb)
{
        return sb->userns_mode;
}

/* The part of path below prefix ("" when equal), or NULL when path is not at or below it. */
static const char *below(const char *path, const char *prefix)
{
        size_t n = strlen(prefix);
        if (streq(prefix, "/"))
                return path + 1;
        if (strncmp(path, prefix, n) != 0)
                return NULL;
        if (path[n] == '\0')
                return path + n;
        return path[n] == '/' ? path + n + 1 : NULL;
}

static char *join_rest(const char *base, const char *rest)
{
        return *rest ? xasprintf("%s/%s", base, rest) : xstrdup(base);
}

static void add_alias(struct sandbox *sb, const char *host, const char *inside)
{
        for (size_t i = 0; i < sb->n_aliases; i++)
                if (streq(sb->aliases[i].host, host))
                        return;
        sb->aliases = xreallocarray(sb->aliases, sb->n_aliases + 1, sizeof(*sb->aliases));
        sb->aliases[sb->n_aliases++] = (struct sb_alias){xstrdup(host), xstrdup(inside)};
}

static const char *last_component(const char *path)
{
        const char *s = strrchr(path, '/');
        return s && s[1] ? s + 1 : "root";
}

int sandbox_add_path(struct sandbox *sb, const char *host_path, unsigned flags, struct lerr **err)
{
        _cleanup_free_ char *abs = clean_abs(sb->cwd, host_path);
        if (!abs)
                return lerr_set(err, EINVAL, "host path '%s' is not a valid path", host_path);
        if (flags & SANDBOX_PATH_PARENT) {
                char *slash = strrchr(abs, '/');
                if (slash == abs)
                        abs[1] = '\0';
                else
                        *slash = '\0';
        }
        _cleanup_free_ char *real = realpath(abs, NULL);
        struct stat st;
        if (!real || stat(real, &st) < 0)
                return lerr_errno(err, errno, "make host path '%s' visible in the sandbox", abs);
        if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
                return lerr_set(err, EINVAL,
                                "make host path '%s' visible in the sandbox: not a file or "
                                "directory",
                                abs);
        bool ro = flags & SANDBOX_PATH_RO;

        /* reuse a bound directory that covers it (a writable one serves read-only needs) */
        const struct sb_bind *best = NULL;
        for (size_t i = 0; i < sb->n_binds; i++) {
                const struct sb_bind *b = &sb->binds[i];
                if ((b->dir || streq(b->source, real)) && below(real, b->source) &&
                    (!b->ro || ro) && (!best || strlen(b->source) > strlen(best->source)))
                        best = b;
        }
        if (!best) {
                if (sb->n_binds >= SANDBOX_MAX_PATHS)
                        return lerr_set(err, E2BIG, "more than %d host paths for the sandbox",
                                        SANDBOX_MAX_PATHS);
                sb->binds = xreallocarray(sb->binds, sb->n_binds + 1, sizeof(*sb->binds));
                sb->binds[sb->n_binds] = (struct sb_bind){
                        .source = xstrdup(real),
                        .inside = xasprintf("%s/host/%zu/%s", sb->kaniko_dir, sb->n_binds,
                                            last_component(real)),
                        .dir = S_ISDIR(st.st_mode),
                        .ro = ro,
                };
                best = &sb->binds[sb->n_binds++];
        }
        _cleanup_free_ char *inside = join_rest(best->inside, below(real, best->source));
        add_alias(sb, real, inside);
        add_alias(sb, abs, inside);
        return 0;
}

char *sandbox_map_path(const struct sandbox *sb, const char *host_path)
{
        _cleanup_free_ char *abs = clean_abs(sb->cwd, host_path);
        const struct sb_alias *best = NULL;

        if (!abs)
                return NULL;
        for (size_t i = 0; i < sb->n_aliases; i++) {
                const struct sb_alias *a = &sb->aliases[i];
                if (below(abs, a->host) && (!best || strlen(a->host) > strlen(best->host)))
                        best = a;
        }
        return best ? join_rest(best->inside, below(abs, best->host)) : NULL;
}

/* ---- mounts ------------------------------------------------------------------------ */

#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif

struct sb_mount_attr { /* struct mount_attr of linux/mount.h, which clashes with sys/mount.h */
        uint64_t attr_set, attr_clr, propagation, userns_fd;
};

#define FD_PATH_MAX 32
static const char *fd_path(int fd, char buf[FD_PATH_MAX])
{
        (void) snprintf(buf, FD_PATH_MAX, "/proc/self/fd/%d", fd);
        return buf;
}

static int mount_fd(const char *what, int src_fd, int dst_fd, const char *fstype,
                    unsigned long flags, const char *data, struct lerr **err)
{
        char s[FD_PATH_MAX], d[FD_PATH_MAX];
        const char *src = src_fd >= 0 ? fd_path(src_fd, s) : fstype;
        if (mount(src, fd_path(dst_fd, d), fstype, flags, data) < 0)
                return priv_error(err, errno, PRIV_OP_MOUNT, "mount %s in the sandbox", what);
        return 0;
}

/* Makes the mount at fd (an O_PATH fd of its root) read-only, its submounts too when
 * recursive. mount_setattr only adds the flag; the remount fallback (kernel < 5.12) must
 * repeat the flags a user namespace may not clear, and covers the top mount only. */
static int make_readonly(const char *what, int fd, bool recursive, struct lerr **err)
{
        struct sb_mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
        char p[FD_PATH_MAX];
        struct statvfs sfs;

        if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0),
                    &attr, sizeof(attr)) == 0)
                return 0;
        if (errno != ENOSYS)
                return priv_error(err, errno, PRIV_OP_MOUNT, "make %s read-only", what);
        if (fstatvfs(fd, &sfs) < 0)
                return lerr_errno(err, errno, "make %s read-only", what);
        unsigned long flags = MS_REMOUNT | MS_BIND | MS_RDONLY;
        flags |= (sfs.f_flag & ST_NOSUID ? MS_NOSUID : 0) | (sfs.f_flag & ST_NODEV ? MS_NODEV : 0) |
                 (sfs.f_flag & ST_NOEXEC ? MS_NOEXEC : 0) |
                 (sfs.f_flag & ST_NOATIME ? MS_NOATIME : 0) |
                 (sfs.f_flag & ST_RELATIME ? MS_RELATIME : 0);
        if (mount(NULL, fd_path(fd, p), NULL, flags, NULL) < 0)
                return priv_error(err, errno, PRIV_OP_MOUNT, "make %s read-only", what);
        return 0;
}

/* An O_PATH fd of rel inside the root, a directory or a regular file to mount on, created
 * (parents 0755) when missing. A symlink or another type there is refused: these are the
 * sandbox's own mount points and must not be redirected by what a build left in DIR. */
static int mountpoint(int rfd, const char *rel, bool dir, struct lerr **err)
{
        _cleanup_free_ char *parent_rel = xstrdup(rel);
        char *slash = strrchr(parent_rel, '/');
        const char *name = slash ? slash + 1 : rel;
        if (slash)
                *slash = '\0';
        else
                parent_rel[0] = '\0';
        _cleanup_close_ int pfd = fs_mkdir_p_in_root(rfd, parent_rel, 0755);
        if (pfd < 0)
                return lerr_errno(err, -pfd, "create '/%s' in the sandbox root", parent_rel);
        if (dir) {
                if (mkdirat(pfd, name, 0755) < 0 && errno != EEXIST)
                        return lerr_errno(err, errno, "create '/%s' in the sandbox root", rel);
        } else {
                int fd = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                0644);
                if (fd < 0 && errno != EEXIST)
                        return lerr_errno(err, errno, "create '/%s' in the sandbox root", rel);
                if (fd >= 0)
                        (void) close(fd);
        }
        int fd = openat(pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
                int r = lerr_errno(err, errno, "open '/%s' in the sandbox root", rel);
                closep(&fd);
                return r;
        }
        if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
                (void) close(fd);
                return lerr_set(err, ENOTDIR,
                                "'/%s' in the sandbox root is not a %s (a symlink or another "
                                "file left there?): remove it",
                                rel, dir ? "directory" : "regular file");
        }
        return fd;
}

/* Binds src_fd (an O_PATH fd of a file or directory) onto rel in the root, and its submounts. */
static int bind_fd(int rfd, int src_fd, const char *what, const char *rel, bool ro,
                   struct lerr **err)
{
        struct stat st;
        if (fstat(src_fd, &st) < 0)
                return lerr_errno(err, errno, "mount %s in the sandbox", what);
        _cleanup_close_ int dst = mountpoint(rfd, rel, S_ISDIR(st.st_mode), err);
        if (dst < 0)
                return dst;
        int r = mount_fd(what, src_fd, dst, NULL, MS_BIND | MS_REC, NULL, err);
        if (r < 0 || !ro)
                return r;
        _cleanup_close_ int top = fs_open_in_root(rfd, rel, O_PATH | O_NOFOLLOW, 0);
        if (top < 0)
                return lerr_errno(err, -top, "open '/%s' in the sandbox", rel);
        return make_readonly(what, top, true, err);
}

/* Binds host (a path on the host) onto rel in the root. */
static int bind_host(int rfd, const char *host, const char *rel, bool ro, struct lerr **err)
{
        _cleanup_close_ int src = open(host, O_PATH | O_CLOEXEC);
        if (src < 0)
                return lerr_errno(err, errno, "open '%s' to mount in the sandbox", host);
        _cleanup_free_ char *what = xasprintf("'%s' at '/%s'", host, rel);
        return bind_fd(rfd, src, what, rel, ro, err);
}

static int setup_proc_sys(int rfd, struct lerr **err)
{
        _cleanup_close_ int proc = mountpoint(rfd, "proc", true, err);
        if (proc < 0)
                return proc;
        int r = mount_fd("a new /proc", -1, proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL,
                         err);
        if (r < 0)
                return r;
        return bind_host(rfd, "/sys", "sys", true, err);
}

/* A pod's /dev: tmpfs, a few host devices bound in (mknod would need CAP_MKNOD and does not
 * work in a user namespace), its own devpts and shm. */
static int setup_dev(int rfd, bool root, struct lerr **err)
{
        static const char *const devices[] = {"null", "zero", "full", "random", "urandom", "tty"};
        static const char *const links[][2] = {
                {"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"},
                {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
                {"core", "/proc/kcore"},       {"ptmx", "pts/ptmx"},
        };
        _cleanup_close_ int mp = mountpoint(rfd, "dev", true, err);
        if (mp < 0)
                return mp;
        int r = mount_fd("a tmpfs at /dev", -1, mp, "tmpfs", MS_NOSUID | MS_STRICTATIME,
                         "mode=755,size=65536k", err);
        if (r < 0)
                return r;
        _cleanup_close_ int dev = fs_open_in_root(rfd, "dev", O_RDONLY | O_DIRECTORY, 0);
        if (dev < 0)
                return lerr_errno(err, -dev, "open /dev of the sandbox");
        for (size_t i = 0; i < ARRAY_SIZE(devices); i++) {
                _cleanup_free_ char *host = xasprintf("/dev/%s", devices[i]);
                _cleanup_free_ char *rel = xasprintf("dev/%s", devices[i]);
                if (access(host, F_OK) < 0 && streq(devices[i], "tty"))
                        continue; /* no controlling-tty device on this machine: none inside */
                r = bind_host(rfd, host, rel, false, err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < ARRAY_SIZE(links); i++)
                if (symlinkat(links[i][1], dev, links[i][0]) < 0)
                        return lerr_errno(err, errno, "create /dev/%s in the sandbox", links[i][0]);
        _cleanup_close_ int pts = mountpoint(rfd, "dev/pts", true, err);
        if (pts < 0)
                return pts;
        /* gid 5 (tty) exists only when the ids are not remapped */
        if (mount_fd("a devpts at /dev/pts", -1, pts, "devpts", MS_NOSUID | MS_NOEXEC,
                     root ? "newinstance,ptmxmode=0666,mode=0620,gid=5"
                          : "newinstance,ptmxmode=0666,mode=0620",
                     err) < 0) {
                log_warn("%s: continuing without terminals in the sandbox",
                         lerr_message(err ? *err : NULL));
                if (err)
                        lerr_free(TAKE_PTR(*err));
        }
        _cleanup_close_ int shm = mountpoint(rfd, "dev/shm", true, err);
        if (shm < 0)
                return shm;
        return mount_fd("a tmpfs at /dev/shm", -1, shm, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                        "mode=1777,size=65536k", err);
}

static const char *find_ca_bundle(void)
{
        static const char *const candidates[] = {
                "/etc/ssl/certs/ca-certificates.crt", /* Debian, Ubuntu, Alpine */
                "/etc/pki/tls/certs/ca-bundle.crt",   /* Fedora, RHEL */
                "/etc/ssl/cert.pem",                  /* Alpine, macOS-like layouts */
        };
        const char *env = getenv("SSL_CERT_FILE");
        if (env && access(env, R_OK) == 0)
                return env;
        for (size_t i = 0; i < ARRAY_SIZE(candidates); i++)
                if (access(candidates[i], R_OK) == 0)
                        return candidates[i];
        return NULL;
}

/* $KANIKO_DIR: the executor itself, the CA bundle, and the tmpfs holding host paths. */
static int setup_kaniko(const struct sandbox *sb, int rfd, bool *ret_ca, struct lerr **err)
{
        const char *k = sb->kaniko_dir + 1;
        _cleanup_free_ char *exe = xasprintf("%s/executor", k);
        _cleanup_free_ char *cert = xasprintf("%s/ssl/certs/ca-certificates.crt", k);
        _cleanup_free_ char *host = xasprintf("%s/host", k);

        /* a symlink left at $KANIKO_DIR is refused, not followed */
        _cleanup_close_ int kfd = mountpoint(rfd, k, true, err);
        if (kfd < 0)
                return kfd;
        /* by path: the fd behind /proc/self/exe belongs to the mount namespace we left, and
         * a bind mount from another namespace is refused (EINVAL) */
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n < 0)
                return lerr_errno(err, errno, "find the running executable");
        self[n] = '\0';
        int r = bind_host(rfd, self, exe, true, err);
        if (r < 0)
                return r;
        const char *ca = find_ca_bundle();
        *ret_ca = ca != NULL;
        if (ca && (r = bind_host(rfd, ca, cert, true, err)) < 0)
                return r;

        _cleanup_close_ int hmp = mountpoint(rfd, host, true, err);
        if (hmp < 0)
                return hmp;
        r = mount_fd("a tmpfs for host paths", -1, hmp, "tmpfs", MS_NOSUID | MS_NODEV,
                     "mode=755,size=1m", err);
        for (size_t i = 0; r >= 0 && i < sb->n_binds; i++)
                r = bind_host(rfd, sb->binds[i].source, sb->binds[i].inside + 1, sb->binds[i].ro,
                              err);
        return r;
}

/* An O_PATH fd of a regular file at rel for /etc/hosts or /etc/resolv.conf, resolved inside
 * the root (an image may make them links, e.g. to ../run/systemd/resolve/stub-resolv.conf:
 * the mount goes where the link points, as runc does), created when missing. */
static int etc_target(int rfd, const char *rel)
{
        int fd = fs_open_in_root(rfd, rel, O_PATH, 0);
        if (fd == -ENOENT) {
                _cleanup_close_ int etc = fs_mkdir_p_in_root(rfd, "etc", 0755);
                if (etc < 0)
                        return etc;
                int w = fs_open_in_root(rfd, rel, O_WRONLY | O_CREAT, 0644);
                if (w < 0)
                        return w;
                (void) close(w);
                fd = fs_open_in_root(rfd, rel, O_PATH, 0);
        }
        struct stat st;
        if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
                (void) close(fd);
                return -EISDIR;
        }
        return fd;
}

/* Writable copies of the host's /etc/hosts and /etc/resolv.conf bound over the root's, as
 * Kubernetes does: RUN steps resolve names like the executor, and edits stay in the copy. */
static int setup_etc(const struct sandbox *sb, int rfd, struct lerr **err)
{
        static const char *const files[] = {"hosts", "resolv.conf"};
        _cleanup_free_ char *host_rel = xasprintf("%s/host", sb->kaniko_dir + 1);
        _cleanup_close_ int hfd = fs_open_in_root(rfd, host_rel, O_RDONLY | O_DIRECTORY, 0);
        if (hfd < 0)
                return lerr_errno(err, -hfd, "open '%s/host'", sb->kaniko_dir);

        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                _cleanup_(buf_done) struct buf b = BUF_INIT(1u << 20);
                _cleanup_free_ char *src = xasprintf("/etc/%s", files[i]);
                _cleanup_free_ char *copy = xasprintf("etc-%s", files[i]);
                _cleanup_free_ char *rel = xasprintf("etc/%s", files[i]);
                int r = fs_read_file_at(AT_FDCWD, src, &b);
                if (r < 0 && i == 0) {
                        buf_reset(&b);
                        r = buf_append_str(&b, "127.0.0.1\tlocalhost\n::1\tlocalhost "
                                               "ip6-localhost ip6-loopback\n");
                }
                if (r < 0) {
                        log_warn("read '%s' for the sandbox, leaving it out: %s", src,
                                 strerror(-r));
                        continue;
                }
                r = fs_write_file_at(hfd, copy, b.data ? b.data : "", b.len, 0644);
                if (r < 0)
                        return lerr_errno(err, -r, "copy '%s' for the sandbox", src);
                _cleanup_close_ int cfd = openat(hfd, copy, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                _cleanup_close_ int dst = etc_target(rfd, rel);
                if (cfd < 0 || dst < 0) {
                        log_warn("mount '/%s' in the sandbox, leaving it out: %s", rel,
                                 strerror(dst < 0 ? -dst : errno));
                        continue;
                }
                r = mount_fd(src, cfd, dst, NULL, MS_BIND, NULL, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int pivot(int rfd, const char *root, struct lerr **err)
{
        if (fchdir(rfd) < 0)
                return lerr_errno(err, errno, "enter '%s'", root);
        /* pivot_root(".", "."): the old root ends up stacked on "/" and is detached at once,
         * so no put_old directory is needed in DIR */
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return priv_error(err, errno, PRIV_OP_MOUNT, "make '%s' the root (pivot_root)",
                                  root);
        if (umount2(".", MNT_DETACH) < 0)
                return priv_error(err, errno, PRIV_OP_MOUNT, "detach the old root");
        if (chdir("/") < 0)
                return lerr_errno(err, errno, "change to the new root");
        return 0;
}

/* In the child, PID 1 of the new PID namespace: a private mount namespace, DIR as root. */
static int setup(const struct sandbox *sb, const char *root, bool is_root, struct lerr **err)
{
        bool ca = false;
        int r;

        if (unshare(CLONE_NEWNS) < 0)
                return priv_error(err, errno, PRIV_OP_MOUNT, "create a mount namespace");
        /* private first: nothing below may propagate back to the host's mounts */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return priv_error(err, errno, PRIV_OP_MOUNT, "make all mounts private");
        if (mount(root, root, NULL, MS_BIND | MS_REC, NULL) < 0)
                return priv_error(err, errno, PRIV_OP_MOUNT, "bind '%s' onto itself", root);
        _cleanup_close_ int rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rfd < 0)
                return lerr_errno(err, errno, "open '%s'", root);
        r = setup_proc_sys(rfd, err);
        if (r >= 0)
                r = setup_dev(rfd, is_root, err);
        if (r >= 0)
                r = setup_kaniko(sb, rfd, &ca, err);
        if (r >= 0)
                r = setup_etc(sb, rfd, err);
        if (r >= 0)
                r = pivot(rfd, root, err);
        if (r < 0)
                return r;
        if (ca) {
                _cleanup_free_ char *dir = xasprintf("%s/ssl/certs", sb->kaniko_dir);
                _cleanup_free_ char *file = xasprintf("%s/ca-certificates.crt", dir);
                if (setenv("SSL_CERT_DIR", dir, 1) < 0 || setenv("SSL_CERT_FILE", file, 1) < 0)
                        return lerr_errno(err, errno, "set SSL_CERT_DIR");
        }
        return 0;
}

/* The calling process's part: forward fatal signals to the sandbox's PID 1, return its
 * status. The signals are blocked already. */
static int wait_sandbox(pid_t pid, const sigset_t *set)
{
        int fatal = 0;
        for (;;) {
                int st;
                pid_t p = waitpid(pid, &st, WNOHANG);
                if (p == pid)
                        return pid1_exit_status(st);
                if (p < 0 && errno != EINTR)
                        return 255;
                siginfo_t si;
                int sig = sigwaitinfo(set, &si);
                if (sig < 0 || sig == SIGCHLD)
                        continue;
                /* a third Ctrl-C means it: the whole namespace dies with its PID 1 */
                (void) kill(pid, ++fatal >= 3 ? SIGKILL : sig);
        }
}

static int mkdir_host_p(const char *dir, struct lerr **err)
{
        _cleanup_free_ char *p = xstrdup(dir);
        for (char *s = p + 1;; s++) {
                if (*s != '/' && *s != '\0')
                        continue;
                char c = *s;
                *s = '\0';
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        return lerr_errno(err, errno, "create sandbox directory '%s'", p);
                *s = c;
                if (!c)
                        return 0;
        }
}

/* An error of the intermediate process, passed to the caller through a pipe. */
struct sb_report {
        int code;
        char msg[4000];
};

/* In a forked process: hand the error to the caller and end. */
NORETURN static void report_and_exit(int fd, struct lerr *e)
{
        struct sb_report rep = {.code = lerr_code(e)};
        (void) snprintf(rep.msg, sizeof(rep.msg), "%s", lerr_message(e));
        (void) !write(fd, &rep, sizeof(rep));
        _exit(1);
}

/* The process between the caller and the sandbox: it enters the user namespace, creates the
 * PID namespace (so that the caller's own process is left as it was: after unshare(NEWPID)
 * a process can fork only while that namespace's init lives), forks the sandbox's PID 1 and
 * forwards signals to it. Returns only in the sandbox's PID 1. */
static int intermediate(struct sandbox *sb, const char *root, bool is_root, int report_fd,
                        const sigset_t *set, struct lerr **err)
{
        struct lerr *e = NULL;

        /* a Ctrl-C reaches the caller only, which forwards it once down the chain */
        (void) setpgid(0, 0);
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        int r = sandbox_userns_enter(&sb->userns_mode, &e);
        if (r >= 0 && unshare(CLONE_NEWPID) < 0)
                r = priv_error(&e, errno, PRIV_OP_MOUNT, "create a PID namespace");
        pid_t pid = r >= 0 ? fork() : -1;
        if (r >= 0 && pid < 0)
                r = lerr_errno(&e, errno, "start the sandbox");
        if (r < 0)
                report_and_exit(report_fd, e);
        if (pid > 0) {
                (void) close(report_fd);
                _exit(wait_sandbox(pid, set));
        }
        (void) close(report_fd);
        (void) setpgid(0, 0);
        /* if the chain above dies, the sandbox dies: it has no one to report to */
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        r = setup(sb, root, is_root, err);
        if (r < 0)
                return r;
        return pid1_init(err);
}

int sandbox_enter(struct sandbox *sb, int *ret_status, struct lerr **err)
{
        sigset_t set, old;
        int report[2];
        int r;

        if (streq(sb->kaniko_dir, "/"))
                return lerr_set(err, EINVAL, "the executor's directory cannot be '/'");
        _cleanup_free_ char *abs = clean_abs(sb->cwd, sb->dir);
        if (!abs)
                return lerr_set(err, EINVAL, "invalid sandbox directory '%s'", sb->dir);
        r = mkdir_host_p(abs, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *root = realpath(abs, NULL);
        if (!root)
                return lerr_errno(err, errno, "resolve sandbox directory '%s'", abs);
        if (streq(root, "/"))
                return lerr_set(err, EINVAL,
                                "--sandbox '%s' is this machine's root: give a directory", abs);
        bool is_root = geteuid() == 0;

        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGHUP);
        sigaddset(&set, SIGQUIT);
        sigaddset(&set, SIGCHLD);
        /* blocked before the forks: the sandbox's PID 1 inherits them blocked, so signals
         * sent before it is ready wait for pid1_init() instead of being dropped (a
         * namespace's init ignores signals it has no handler for) */
        if (sigprocmask(SIG_BLOCK, &set, &old) < 0)
                return lerr_errno(err, errno, "block signals");
        if (pipe2(report, O_CLOEXEC) < 0) {
                r = lerr_errno(err, errno, "create a pipe");
                (void) sigprocmask(SIG_SETMASK, &old, NULL);
                return r;
        }
        pid_t pid = fork();
        if (pid == 0) {
                (void) close(report[0]);
                return intermediate(sb, root, is_root, report[1], &set, err);
        }
        (void) close(report[1]);
        if (pid < 0) {
                r = lerr_errno(err, errno, "start the sandbox");
                (void) close(report[0]);
                (void) sigprocmask(SIG_SETMASK, &old, NULL);
                return r;
        }
        struct sb_report rep;
        size_t got = 0;
        ssize_t n;
        while (got < sizeof(rep) &&
               ((n = read(report[0], (char *) &rep + got, sizeof(rep) - got)) > 0 ||
                (n < 0 && errno == EINTR)))
                got += n > 0 ? (size_t) n : 0;
        (void) close(report[0]);
        int status = wait_sandbox(pid, &set);
        (void) sigprocmask(SIG_SETMASK, &old, NULL);
        if (got == sizeof(rep)) {
                rep.msg[sizeof(rep.msg) - 1] = '\0';
                return lerr_set(err, rep.code, "%s", rep.msg);
        }
        *ret_status = status;
        return 1;
}
