/* SPDX-License-Identifier: Apache-2.0 */
/* Recursive submodule fetching for git contexts: .gitmodules lookup, URL and credential
 * choice, one fetch and checkout per submodule. No submodule.<name>.update/branch/shallow
 * settings (the recorded commit is what git checks out by default), no .git directories. */
#include "executor/git_submodule.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/log.h"
#include "executor/git_checkout.h"
#include "executor/git_fetch.h"
#include "executor/git_modules.h"

struct clone_ctx {
        const struct git_remote_opts *o;
        const char *work_dir;
        unsigned count;
        uint64_t entries;
};

/* .gitmodules at the top of a checkout; none is an empty list. A symlink is refused, as git
 * refuses one (it could point at anything on this machine). */
static int read_gitmodules(int root_fd, struct git_modules *ret, struct lerr **err)
{
        _cleanup_close_ int fd = openat(root_fd, ".gitmodules", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) {
                *ret = (struct git_modules){0};
                return 0;
        }
        struct stat st;
        if (fd < 0 && errno == ELOOP)
                return lerr_set(err, EBADMSG, "'.gitmodules' is a symbolic link");
        if (fd < 0 || fstat(fd, &st) < 0)
                return lerr_errno(err, errno, "read '.gitmodules'");
        if (!S_ISREG(st.st_mode))
                return lerr_set(err, EBADMSG, "'.gitmodules' is not a regular file");
        _cleanup_(buf_done) struct buf b = BUF_INIT(GIT_MODULES_MAX_BYTES);
        int r = fs_read_fd(fd, &b);
        if (r == -E2BIG)
                return lerr_set(err, E2BIG, "'.gitmodules' is over %u bytes",
                                GIT_MODULES_MAX_BYTES);
        if (r < 0)
                return lerr_errno(err, r, "read '.gitmodules'");
        return git_modules_parse(b.data ? b.data : "", b.len, ret, err);
}

/* Whether a and b have the same scheme, host and port (userinfo aside): where credentials
 * given for the superproject may also be sent. */
static bool same_origin(const char *a, const char *b)
{
        _cleanup_free_ char *ra = git_url_redacted(a), *rb = git_url_redacted(b);
        const char *ha = strstr(ra, "://"), *hb = strstr(rb, "://");
        if (!ha || !hb)
                return false;
        size_t na = (size_t) (ha + 3 - ra) + strcspn(ha + 3, "/?#");
        size_t nb = (size_t) (hb + 3 - rb) + strcspn(hb + 3, "/?#");
        return na == nb && strncasecmp(ra, rb, na) == 0;
}

static int clone_level(struct clone_ctx *c, const char *super_url, int root_fd,
                       const struct git_gitlinks *links, const char *prefix, unsigned depth,
                       struct lerr **err);

/* A submodule's URL (from its .gitmodules entry m) and the remote options to fetch it with:
 * the superproject's, without its credentials on another origin. */
static int submodule_url(const struct clone_ctx *c, const char *super_url,
                         const struct git_module *m, const char *full, char **ret_url,
                         struct git_remote_opts *ret_opts, struct lerr **err)
{
        if (!m)
                return lerr_set(err, ENOENT,
                                "submodule '%s': no entry with this path in "
                                "'.gitmodules'",
                                full);
        if (!m->url || !*m->url)
                return lerr_set(err, EINVAL, "submodule '%s': no url in '.gitmodules'", full);
        _cleanup_free_ char *url = NULL;
        int r = git_modules_resolve_url(super_url, m->url, &url, err);
        if (r < 0)
                return lerr_wrap(err, "submodule '%s'", full);
        if (startswith(url, "http://") && !c->o->allow_http) {
                _cleanup_free_ char *shown = git_url_redacted(url);
                return lerr_set(err, ENOTSUP,
                                "submodule '%s': URL '%s': plain http is refused when the "
                                "superproject is fetched over https",
                                full, shown);
        }
        *ret_opts = *c->o;
        if (!same_origin(super_url, url)) {
                ret_opts->username = NULL;
                ret_opts->password = NULL;
        }
        *ret_url = TAKE_PTR(url);
        return 0;
}

static int clone_one(struct clone_ctx *c, const char *super_url, const struct git_modules *mods,
                     int root_fd, const struct git_gitlink *l, const char *prefix, unsigned depth,
                     struct lerr **err)
{
        _cleanup_free_ char *full =
                *prefix ? xasprintf("%s/%s", prefix, l->path) : xstrdup(l->path);
        _cleanup_free_ char *url = NULL;
        struct git_remote_opts so;
        int r = submodule_url(c, super_url, git_modules_find(mods, l->path), full, &url, &so, err);
        if (r < 0)
                return r;
        if (depth >= GIT_SUBMODULE_MAX_DEPTH)
                return lerr_set(err, E2BIG, "submodule '%s': submodules nested over %u levels deep",
                                full, GIT_SUBMODULE_MAX_DEPTH);
        if (++c->count > GIT_SUBMODULE_MAX)
                return lerr_set(err, E2BIG, "submodule '%s': over %u submodules in all", full,
                                GIT_SUBMODULE_MAX);
        /* the checkout made this directory from safe names: no link can be on the way, and
         * resolving in the root keeps it so */
        _cleanup_close_ int dfd =
                fs_open_in_root(root_fd, l->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
        if (dfd < 0)
                return lerr_errno(err, dfd, "submodule '%s': open its directory", full);
        _cleanup_free_ char *shown = git_url_redacted(url);
        log_info("Fetching submodule '%s' (commit %.7s) from %s", full, l->id, shown);
        _cleanup_(git_gitlinks_done) struct git_gitlinks sub = {0};
        r = git_fetch_checkout(url, l->id, &so, c->work_dir, dfd, &sub, err);
        if (r < 0)
                return lerr_wrap(err, "submodule '%s'", full);
        c->entries += (uint64_t) r;
        return clone_level(c, url, dfd, &sub, full, depth + 1, err);
}

static int clone_level(struct clone_ctx *c, const char *super_url, int root_fd,
                       const struct git_gitlinks *links, const char *prefix, unsigned depth,
                       struct lerr **err)
{
        if (links->n == 0)
                return 0;
        _cleanup_(git_modules_done) struct git_modules mods = {0};
        int r = read_gitmodules(root_fd, &mods, err);
        if (r < 0)
                return *prefix ? lerr_wrap(err, "submodule '%s'", prefix) : r;
        for (size_t i = 0; i < links->n; i++) {
                r = clone_one(c, super_url, &mods, root_fd, &links->v[i], prefix, depth, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int git_submodules_clone(const char *super_url, const struct git_remote_opts *o,
                         const char *work_dir, int root_fd, const struct git_gitlinks *links,
                         struct lerr **err)
{
        struct clone_ctx c = {.o = o, .work_dir = work_dir};
        int r = clone_level(&c, super_url, root_fd, links, "", 0, err);
        if (r < 0)
                return r;
        return c.entries > INT32_MAX ? INT32_MAX : (int) c.entries;
}
