/* SPDX-License-Identifier: Apache-2.0 */
/* RUN --mount by placement. Every target is resolved inside the build root; secrets are
 * written 0400 by default and removed whatever the step's outcome. */
#include "executor/run_mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/digest.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/strv.h"
#include "executor/build-internal.h"
#include "executor/copy.h"
#include "executor/instructions.h"
#include "executor/options.h"
#include "executor/process.h"

#define SECRET_MAX_BYTES (512u << 10)

struct placed {
        struct stage_ctx *s;
        const struct df_mount *m;
        bool real;         /* a real mount(2) in the step's own mount namespace */
        char *src_path;    /* real bind: the source, resolved inside its root */
        char *target_path; /* real mounts: the mount point, resolved inside the root */
        bool src_is_file;
        char *target;   /* root-relative, cleaned */
        char *aside;    /* name of the moved-aside original (same directory), or NULL */
        char **created; /* parent directories created, outermost first */
        char *anchor;   /* deepest existing ancestor, whose times are restored */
        struct timespec anchor_times[2];
        char *cache_dir; /* KANIKO_DIR-relative cache directory (type=cache) */
        char *secret;    /* secret bytes (type=secret) */
        size_t secret_len;
        bool placed;
};

struct run_mounts {
        struct placed *p;
        struct process_hook *hooks;
        size_t n;
        char **env;
};

static char *parent_of(const char *rel)
{
        const char *sl = strrchr(rel, '/');
        return sl ? xstrndup(rel, (size_t) (sl - rel)) : xstrdup("");
}

/* mkdir -p of the target's parents, remembering what was created and the times of the
 * deepest directory that existed. */
static int make_parents(struct placed *p, int root_fd, struct lerr **err)
{
        _cleanup_free_ char *dir = parent_of(p->target);
        _cleanup_free_ char *probe = xstrdup(dir);
        /* find the deepest existing ancestor */
        for (;;) {
                _cleanup_close_ int fd = fs_open_in_root(root_fd, probe, O_PATH | O_DIRECTORY, 0);
                if (fd >= 0) {
                        struct stat st;
                        if (fstat(fd, &st) == 0) {
                                p->anchor_times[0] = st.st_atim;
                                p->anchor_times[1] = st.st_mtim;
                        }
                        p->anchor = xstrdup(probe);
                        break;
                }
                if (!*probe)
                        return lerr_errno(err, fd, "open the build root");
                char *up = parent_of(probe);
                free(probe);
                probe = up;
        }
        size_t have = strlen(p->anchor), len = strlen(dir);
        for (size_t i = have ? have + 1 : 0; *dir && i <= len; i++) {
                if (dir[i] != '/' && dir[i] != '\0')
                        continue;
                char c = dir[i];
                dir[i] = '\0';
                const char *name;
                _cleanup_close_ int pfd = fs_open_parent_in_root(root_fd, dir, &name);
                if (pfd < 0 || (mkdirat(pfd, name, 0755) < 0 && errno != EEXIST))
                        return lerr_errno(err, pfd < 0 ? -pfd : errno, "create '/%s'", dir);
                strv_push(&p->created, dir);
                dir[i] = c;
        }
        return 0;
}

/* Moves an existing target out of the way, beside it. */
static int move_aside(struct placed *p, int root_fd, struct lerr **err)
{
        const char *name;
        _cleanup_close_ int pfd = fs_open_parent_in_root(root_fd, p->target, &name);
        if (pfd < 0)
                return lerr_errno(err, pfd, "open the parent of '/%s'", p->target);
        if (faccessat(pfd, name, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                return 0;
        char *aside = xasprintf(".lading-mount-%d-%s", (int) getpid(), name);
        if (renameat(pfd, name, pfd, aside) < 0) {
                int e = errno;
                free(aside);
                return lerr_errno(err, e, "move '/%s' aside", p->target);
        }
        p->aside = aside;
        return 0;
}

static int restore_real(struct placed *p, int root_fd)
{
        /* the mount went with the step's namespace; only a mount point made here is removed */
        for (size_t i = strv_length(p->created); i > 0; i--) {
                const char *pname;
                _cleanup_close_ int d = fs_open_parent_in_root(root_fd, p->created[i - 1], &pname);
                if (d >= 0 && unlinkat(d, pname, 0) < 0)
                        (void) unlinkat(d, pname, AT_REMOVEDIR);
        }
        if (p->anchor) {
                _cleanup_close_ int a =
                        fs_open_in_root(root_fd, p->anchor, O_RDONLY | O_DIRECTORY, 0);
                if (a >= 0)
                        (void) futimens(a, p->anchor_times);
        }
        return 0;
}

static int restore(struct placed *p, int root_fd, struct lerr **err)
{
        const char *name;
        int r = 0;
        if (p->real)
                return restore_real(p, root_fd);
        _cleanup_close_ int pfd = fs_open_parent_in_root(root_fd, p->target, &name);
        if (pfd < 0)
                return lerr_errno(err, pfd, "open the parent of '/%s'", p->target);
        if (p->cache_dir && p->placed) {
                /* the cache keeps what the step wrote */
                if (renameat(pfd, name, p->s->b->kaniko_fd, p->cache_dir) < 0 && errno != ENOENT)
                        r = lerr_errno(err, errno, "keep cache mount '/%s'", p->target);
        }
        int q = fs_rm_rf_at(pfd, name);
        if (q < 0 && r >= 0)
                r = lerr_errno(err, q, "remove mount '/%s' after the step", p->target);
        if (p->aside && renameat(pfd, p->aside, pfd, name) < 0 && r >= 0)
                r = lerr_errno(err, errno, "restore '/%s'", p->target);
        (void) close(TAKE_FD(pfd));
        for (size_t i = strv_length(p->created); i > 0; i--) {
                const char *pname;
                _cleanup_close_ int d = fs_open_parent_in_root(root_fd, p->created[i - 1], &pname);
                if (d >= 0)
                        (void) unlinkat(d, pname, AT_REMOVEDIR);
        }
        if (p->anchor) {
                _cleanup_close_ int a =
                        fs_open_in_root(root_fd, p->anchor, O_RDONLY | O_DIRECTORY, 0);
                if (a >= 0)
                        (void) futimens(a, p->anchor_times);
        }
        return r;
}

/* ---- real mounts ---- */

/* Whether a step can have mounts of its own: a child tries a new mount namespace and a tmpfs,
 * once per build. LADING_RUN_MOUNTS=place forces placement (tests use it to cover both). */
static bool can_mount(const char *kaniko_dir)
{
        static int cached = -1;
        if (cached >= 0)
                return cached;
        const char *force = getenv("LADING_RUN_MOUNTS");
        if (force && streq(force, "place"))
                return (cached = 0);
        _cleanup_free_ char *probe = xasprintf("%s/mount-probe", kaniko_dir);
        (void) mkdir(probe, 0700);
        pid_t pid = fork();
        if (pid == 0) {
                bool ok = unshare(CLONE_NEWNS) == 0 &&
                          mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
                          mount("tmpfs", probe, "tmpfs", 0, "size=4k") == 0;
                _exit(ok ? 0 : 1);
        }
        int ws = 0;
        cached = pid > 0 && waitpid(pid, &ws, 0) == pid && WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
        (void) rmdir(probe);
        log_debug("RUN --mount: %s", cached ? "real mounts" : "placement (no mount(2) here)");
        return cached;
}

/* The path an fd was opened at (both roots are "/" or below it), for the child, which mounts
 * by path: mount(2) refuses fds of the namespace the child left. */
static char *fd_realpath(int fd)
{
        char link[64], buf[FS_PATH_MAX + 1];
        (void) snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, buf, FS_PATH_MAX);
        if (n <= 0)
                return NULL;
        buf[n] = '\0';
        return xstrdup(buf);
}

/* In the step's child, before it drops privileges (async-signal-safe calls only). */
static int hook_child(void *userdata)
{
        static bool unshared; /* once per child: it is a fresh copy of this process */
        struct placed *p = userdata;
        const char *dst = p->target_path;
        if (!p->real)
                return 0;
        if (!unshared) {
                /* the step's mounts stay in its own namespace and vanish with it */
                if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
                        return -errno;
                unshared = true;
        }
        if (p->m->type == DF_MOUNT_TMPFS) {
                char opts[48] = "mode=1777";
                if (p->m->size > 0) {
                        char num[24];
                        int n = 0;
                        uint64_t v = (uint64_t) p->m->size;
                        do
                                num[n++] = (char) ('0' + v % 10);
                        while ((v /= 10) > 0);
                        size_t o = strlen(opts);
                        memcpy(opts + o, ",size=", 6);
                        o += 6;
                        while (n > 0)
                                opts[o++] = num[--n];
                        opts[o] = '\0';
                }
                return mount("tmpfs", dst, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0 ? -errno : 0;
        }
        if (mount(p->src_path, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
                return -errno;
        if (p->m->readonly &&
            mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, NULL) < 0)
                return -errno;
        return 0;
}

/* Creates the mount point (a directory, or an empty file for a file source) if missing. */
static int make_mount_point(struct placed *p, int root_fd, bool file, struct lerr **err)
{
        const char *name;
        _cleanup_close_ int pfd = fs_open_parent_in_root(root_fd, p->target, &name);
        if (pfd < 0)
                return lerr_errno(err, pfd, "open the parent of '/%s'", p->target);
        if (faccessat(pfd, name, F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
                int r = file ? openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)
                             : mkdirat(pfd, name, 0755);
                if (r < 0)
                        return lerr_errno(err, errno, "create mount point '/%s'", p->target);
                if (file)
                        (void) close(r);
                strv_push(&p->created, p->target);
        }
        _cleanup_close_ int fd = fs_open_in_root(root_fd, p->target, O_PATH, 0);
        if (fd < 0)
                return lerr_errno(err, fd, "open mount point '/%s'", p->target);
        p->target_path = fd_realpath(fd);
        return p->target_path ? 0 : lerr_errno(err, errno, "locate mount point '/%s'", p->target);
}

static int bind_source_fd(struct placed *p, struct lerr **err)
{
        struct stage_ctx *s = p->s;
        const struct df_mount *m = p->m;
        _cleanup_close_ int root = -EBADF;
        if (m->from) {
                int r = base_source_root(s->b, s->index, m->from, NULL, &root, err);
                if (r < 0)
                        return r;
        } else
                root = fcntl(s->b->context_fd, F_DUPFD_CLOEXEC, 3);
        if (root < 0)
                return lerr_errno(err, root, "open the bind source");
        /* resolved inside its root: a link in the context cannot bind anything outside it */
        _cleanup_close_ int fd =
                fs_open_in_root(root, m->source && *m->source ? m->source : ".", O_PATH, 0);
        if (fd < 0)
                return lerr_errno(err, fd, "RUN --mount: source '%s' not found",
                                  m->source ? m->source : ".");
        struct stat st;
        if (fstat(fd, &st) == 0)
                p->src_is_file = !S_ISDIR(st.st_mode);
        p->src_path = fd_realpath(fd);
        return p->src_path ? 0 : lerr_errno(err, errno, "locate the bind source");
}

static int prepare_real(struct placed *p, int root_fd, struct lerr **err)
{
        if (p->m->type == DF_MOUNT_BIND) {
                int r = bind_source_fd(p, err);
                if (r < 0)
                        return r;
        }
        return make_mount_point(p, root_fd, p->src_is_file, err);
}

/* ---- per type ---- */

static int place_bind(struct placed *p, int root_fd, struct lerr **err)
{
        struct stage_ctx *s = p->s;
        const struct df_mount *m = p->m;
        int src = -EBADF;
        bool context = !m->from;
        if (context)
                src = fcntl(s->b->context_fd, F_DUPFD_CLOEXEC, 3);
        else {
                int r = base_source_root(s->b, s->index, m->from, NULL, &src, err);
                if (r < 0)
                        return r;
        }
        if (src < 0)
                return lerr_errno(err, src, "open the bind source");
        struct copy_opts o = {
                .instruction = "RUN --mount=type=bind",
                .preserve_owner = !context,
                .source_name = context ? "build context" : m->from,
        };
        struct copy_result res = {0};
        _cleanup_free_ char *dest = xasprintf("/%s", p->target);
        const char *source = m->source && *m->source ? m->source : ".";
        int r = copy_sources(src, (char *[]){(char *) source, NULL}, root_fd, dest, &o, &res, err);
        (void) close(src);
        copy_result_done(&res);
        return r;
}

static int place_cache(struct placed *p, int root_fd, struct lerr **err)
{
        struct stage_ctx *s = p->s;
        const struct df_mount *m = p->m;
        char key[DIGEST_STRING_SIZE];
        const char *id = m->id && *m->id ? m->id : m->target;
        digest_buffer(id, strlen(id), key);
        if (mkdirat(s->b->kaniko_fd, "cache-mounts", 0700) < 0 && errno != EEXIST)
                return lerr_errno(err, errno, "create '%s/cache-mounts'", s->b->kaniko_dir);
        p->cache_dir = xasprintf("cache-mounts/%.16s", digest_hex(key));
        if (mkdirat(s->b->kaniko_fd, p->cache_dir, m->has_mode ? m->mode : 0755) == 0) {
                if (fchownat(s->b->kaniko_fd, p->cache_dir, m->has_uid ? m->uid : 0,
                             m->has_gid ? m->gid : 0, 0) < 0 ||
                    fchmodat(s->b->kaniko_fd, p->cache_dir, m->has_mode ? m->mode : 0755, 0) < 0)
                        return lerr_errno(err, errno, "create cache '%s'", id);
        } else if (errno != EEXIST)
                return lerr_errno(err, errno, "create cache '%s'", id);
        const char *name;
        _cleanup_close_ int pfd = fs_open_parent_in_root(root_fd, p->target, &name);
        if (pfd < 0)
                return lerr_errno(err, pfd, "open the parent of '/%s'", p->target);
        if (renameat(s->b->kaniko_fd, p->cache_dir, pfd, name) < 0)
                return lerr_errno(err, errno, "place cache mount '/%s'%s", p->target,
                                  errno == EXDEV ? " (the executor's dir is on another filesystem)"
                                                 : "");
        return 0;
}

static int place_tmpfs(struct placed *p, int root_fd, struct lerr **err)
{
        const char *name;
        _cleanup_close_ int pfd = fs_open_parent_in_root(root_fd, p->target, &name);
        if (pfd < 0 || mkdirat(pfd, name, 01777) < 0 || fchmodat(pfd, name, 01777, 0) < 0)
                return lerr_errno(err, pfd < 0 ? -pfd : errno, "create tmpfs mount '/%s'",
                                  p->target);
        return 0;
}

static int place_secret(struct placed *p, int root_fd, struct lerr **err)
{
        const struct df_mount *m = p->m;
        const char *name;
        _cleanup_close_ int pfd = fs_open_parent_in_root(root_fd, p->target, &name);
        if (pfd < 0)
                return lerr_errno(err, pfd, "open the parent of '/%s'", p->target);
        mode_t mode = m->has_mode ? m->mode : 0400;
        _cleanup_close_ int fd =
                openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return lerr_errno(err, errno, "place secret '%s'", m->id);
        int r = fs_write_all(fd, p->secret, p->secret_len);
        if (r >= 0 && (fchown(fd, m->has_uid ? m->uid : 0, m->has_gid ? m->gid : 0) < 0 ||
                       fchmod(fd, mode) < 0))
                r = -errno;
        if (r < 0)
                return lerr_errno(err, r, "place secret '%s'", m->id);
        return 0;
}

static int place(struct placed *p, int root_fd, struct lerr **err)
{
        int r;
        switch (p->m->type) {
        case DF_MOUNT_BIND:
                return place_bind(p, root_fd, err);
        case DF_MOUNT_CACHE:
                r = place_cache(p, root_fd, err);
                p->placed = r >= 0; /* a cache that was not moved in is not moved back */
                return r;
        case DF_MOUNT_TMPFS:
                return place_tmpfs(p, root_fd, err);
        case DF_MOUNT_SECRET:
                return place_secret(p, root_fd, err);
        case DF_MOUNT_SSH:
                break;
        }
        return lerr_set(err, ENOTSUP, "unsupported mount type");
}

static int hook_prepare(void *userdata, int root_fd, struct lerr **err)
{
        struct placed *p = userdata;
        int r = make_parents(p, root_fd, err);
        if (r >= 0 && p->real)
                r = prepare_real(p, root_fd, err);
        else if (r >= 0) {
                r = move_aside(p, root_fd, err);
                if (r >= 0)
                        r = place(p, root_fd, err);
        }
        if (r < 0) {
                /* the process runs no cleanup for a failed prepare: undo what was done here */
                (void) restore(p, root_fd, NULL);
                return r;
        }
        return 0;
}

static int hook_cleanup(void *userdata, int root_fd, struct lerr **err)
{
        return restore(userdata, root_fd, err);
}

/* ---- secrets ---- */

static int find_secret(const struct options *o, const char *id, struct buf *ret, bool *found,
                       struct lerr **err)
{
        *found = false;
        strv_foreach (spec, o->secrets) {
                const char *rest = startswith(spec, "id=");
                size_t n = strlen(id);
                if (!rest || strncmp(rest, id, n) != 0 || rest[n] != ',')
                        continue;
                const char *src = startswith(rest + n + 1, "src=");
                const char *env = startswith(rest + n + 1, "env=");
                *found = true;
                if (src) {
                        int r = fs_read_file_at(AT_FDCWD, src, ret);
                        if (r < 0)
                                return lerr_errno(err, r, "read secret '%s' from '%s'", id, src);
                        return 0;
                }
                const char *v = env ? getenv(env) : NULL;
                if (!v)
                        return lerr_set(err, ENOENT,
                                        "secret '%s': environment variable '%s' is "
                                        "not set",
                                        id, strempty(env));
                return buf_append_str(ret, v) < 0 ? lerr_set(err, E2BIG,
                                                             "secret '%s' is too "
                                                             "large",
                                                             id)
                                                  : 0;
        }
        return 0;
}

static char *target_of(const struct df_mount *m)
{
        if (m->target && *m->target)
                return xstrdup(m->target);
        if (m->type == DF_MOUNT_SECRET)
                return xasprintf("/run/secrets/%s", m->id ? m->id : "");
        return NULL;
}

static int add_mount(struct run_mounts *rm, struct stage_ctx *s, const struct df_mount *m,
                     struct lerr **err)
{
        struct placed p = {.s = s, .m = m};
        _cleanup_free_ char *target = target_of(m);
        if (m->type == DF_MOUNT_SSH) {
                if (m->required)
                        return lerr_set(err, ENOTSUP,
                                        "RUN --mount=type=ssh: SSH agent "
                                        "forwarding is not supported");
                log_warn("RUN --mount=type=ssh: SSH agent forwarding is not supported; the "
                         "mount is left out");
                return 0;
        }
        if (m->type == DF_MOUNT_SECRET) {
                struct buf b = BUF_INIT(SECRET_MAX_BYTES);
                bool found;
                int r = find_secret(s->b->o, m->id ? m->id : "", &b, &found, err);
                if (r < 0) {
                        buf_done(&b);
                        return r;
                }
                if (!found) {
                        buf_done(&b);
                        if (m->required)
                                return lerr_set(err, ENOENT,
                                                "secret '%s' is required but was "
                                                "not given (--secret id=%s,src=...)",
                                                m->id, m->id);
                        return 0;
                }
                p.secret_len = b.len;
                p.secret = buf_steal(&b);
                if (m->env) {
                        strv_consume(&rm->env,
                                     xasprintf("%s=%.*s", m->env, (int) p.secret_len, p.secret));
                        if (!m->target) {
                                free(p.secret);
                                return 0;
                        }
                }
        }
        if (!target || fs_normalize_path(target, &p.target) < 0 || !*p.target) {
                free(p.secret);
                free(p.target);
                return lerr_set(err, EINVAL, "RUN --mount: invalid target '%s'", strempty(target));
        }
        rm->p = xreallocarray(rm->p, rm->n + 1, sizeof(*rm->p));
        rm->p[rm->n++] = p;
        return 0;
}

int run_mounts_new(struct stage_ctx *s, const struct df_run *run, struct run_mounts **ret,
                   struct lerr **err)
{
        struct run_mounts *rm = xcalloc(1, sizeof(*rm));
        for (size_t i = 0; i < run->n_mounts; i++) {
                int r = add_mount(rm, s, &run->mounts[i], err);
                if (r < 0) {
                        run_mounts_free(rm);
                        return r;
                }
        }
        rm->hooks = xcalloc(rm->n + 1, sizeof(*rm->hooks));
        for (size_t i = 0; i < rm->n; i++) {
                struct placed *p = &rm->p[i];
                /* read-only binds and tmpfs are real mounts where the kernel allows them;
                 * rw binds are copies, so that writes are discarded as BuildKit does */
                p->real = ((p->m->type == DF_MOUNT_BIND && p->m->readonly) ||
                           p->m->type == DF_MOUNT_TMPFS) &&
                          can_mount(s->b->kaniko_dir);
                rm->hooks[i] = (struct process_hook){
                        .what = p->m->spec,
                        .prepare = hook_prepare,
                        .cleanup = hook_cleanup,
                        .child = hook_child,
                        .userdata = p,
                };
        }
        *ret = rm;
        return 0;
}

const struct process_hook *run_mounts_hooks(const struct run_mounts *m, size_t *ret_n)
{
        *ret_n = m->n;
        return m->hooks;
}

char *const *run_mounts_env(const struct run_mounts *m)
{
        return m->env;
}

void run_mounts_free(struct run_mounts *m)
{
        if (!m)
                return;
        for (size_t i = 0; i < m->n; i++) {
                struct placed *p = &m->p[i];
                free(p->target);
                free(p->aside);
                strv_free(p->created);
                free(p->anchor);
                free(p->cache_dir);
                free(p->src_path);
                free(p->target_path);
                if (p->secret)
                        explicit_bzero(p->secret, p->secret_len);
                free(p->secret);
        }
        strv_foreach (e, m->env)
                explicit_bzero(e, strlen(e));
        strv_free(m->env);
        free(m->p);
        free(m->hooks);
        free(m);
}
