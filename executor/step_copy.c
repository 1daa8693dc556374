/* SPDX-License-Identifier: Apache-2.0 */
/* COPY and ADD: sources from the build context (minus .dockerignore), another stage or an
 * image; inline heredoc files; for ADD also http(s) URLs (downloaded, --checksum checked, mtime
 * from Last-Modified) and local tar archives (unpacked into the destination). */
#include "executor/build-internal.h"

#include <archive.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/strv.h"
#include "executor/cache.h"
#include "executor/chmod_spec.h"
#include "executor/copy.h"
#include "executor/dockerignore.h"
#include "executor/git_fetch.h"
#include "executor/image_config.h"
#include "executor/instructions.h"
#include "executor/options.h"
#include "executor/url_fetch.h"
#include "executor/users.h"
#include "snapshot/extract.h"
#include "snapshot/ignore.h"

#define ADD_URL_MAX_BYTES (UINT64_C(64) << 30)

enum copy_filter_result step_copy_filter(void *userdata, const char *src_rel, const char *below,
                                         bool is_dir)
{
        const struct copy_filter *f = userdata;
        if (f->excludes && *below && dockerignore_match(f->excludes, below))
                return is_dir && dockerignore_may_include_below(f->excludes, below) ? COPY_EXCLUDE
                                                                                    : COPY_SKIP;
        if (f->ignore && dockerignore_match(f->ignore, src_rel))
                return is_dir && !dockerignore_may_include_below(f->ignore, src_rel) ? COPY_PRUNE
                                                                                     : COPY_EXCLUDE;
        return COPY_INCLUDE;
}

static bool is_url(const char *s)
{
        return startswith(s, "http://") || startswith(s, "https://");
}

static bool dest_is_dir(const char *dest)
{
        size_t n = strlen(dest);
        return n && dest[n - 1] == '/';
}

static char *join_dest(const char *dest, const char *name)
{
        return xasprintf("%s%s%s", dest, dest_is_dir(dest) ? "" : "/", name);
}

/* Writes data as a new file at dest (absolute in the root), with the step's owner and mode. */
static int place_file(struct stage_ctx *s, const char *dest, int in_fd, const char *data,
                      size_t len, mode_t mode, const struct copy_opts *o, int64_t mtime,
                      struct step_out *out, struct lerr **err)
{
        _cleanup_free_ char *rel = NULL;
        int r = fs_normalize_path(dest, &rel);
        if (r < 0 || !*rel)
                return lerr_set(err, EINVAL, "%s: invalid destination '%s'", o->instruction, dest);
        /* parents first, with the engine's rules (0755, --chown owner) */
        _cleanup_free_ char *parent =
                xstrndup(rel, strrchr(rel, '/') ? (size_t) (strrchr(rel, '/') - rel) : 0);
        _cleanup_close_ int dir = fs_mkdir_p_in_root(s->b->root_fd, parent, 0755);
        if (dir < 0)
                return lerr_errno(err, dir, "%s: create '/%s'", o->instruction, parent);
        const char *name = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
        struct stat st;
        if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                if (S_ISDIR(st.st_mode))
                        return lerr_set(err, EISDIR,
                                        "%s: cannot replace directory '/%s' with a file",
                                        o->instruction, rel);
                if (unlinkat(dir, name, 0) < 0)
                        return lerr_errno(err, errno, "%s: replace '/%s'", o->instruction, rel);
        }
        _cleanup_close_ int fd =
                openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return lerr_errno(err, errno, "%s: create '/%s'", o->instruction, rel);
        r = in_fd >= 0 ? fs_copy_fd(in_fd, fd) : fs_write_all(fd, data, len);
        if (r < 0)
                return lerr_errno(err, r, "%s: write '/%s'", o->instruction, rel);
        if (o->chmod)
                mode = chmod_spec_apply(o->chmod, mode, false);
        if (fchown(fd, o->chown ? o->uid : 0, o->chown ? o->gid : 0) < 0 || fchmod(fd, mode) < 0)
                return lerr_errno(err, errno, "%s: set owner and mode of '/%s'", o->instruction,
                                  rel);
        if (mtime >= 0) {
                struct timespec ts[2] = {{mtime, 0}, {mtime, 0}};
                (void) futimens(fd, ts);
        }
        strv_push(&out->paths, rel);
        return 0;
}

static int add_url(struct stage_ctx *s, const char *url, const char *dest, const char *checksum,
                   bool several, const struct copy_opts *o, struct step_out *out, struct lerr **err)
{
        _cleanup_free_ char *tmp = xasprintf("%s/add-download", s->b->kaniko_dir);
        struct url_fetch_result res;
        /* the cache key may have downloaded it already */
        _cleanup_close_ int fd = cache_take_download(s, url, &res);
        if (fd < 0) {
                fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                if (fd < 0)
                        return lerr_errno(err, errno, "ADD: create '%s'", tmp);
                (void) unlink(tmp);
                struct url_fetch_opts fo = {.max_bytes = ADD_URL_MAX_BYTES, .retries = 2};
                log_info("Downloading %s", url);
                int r = url_fetch(url, fd, &fo, &res, err);
                if (r < 0)
                        return lerr_wrap(err, "ADD");
        }
        if (checksum && !streq(checksum, res.digest))
                return lerr_set(err, EBADMSG,
                                "ADD: checksum of '%s' is %s, not %s as --checksum says", url,
                                res.digest, checksum);
        _cleanup_free_ char *name = url_file_name(url);
        _cleanup_free_ char *target = NULL;
        if (dest_is_dir(dest) || several) {
                if (!name)
                        return lerr_set(err, EINVAL,
                                        "ADD: cannot tell a file name from '%s': give "
                                        "the destination file name",
                                        url);
                target = join_dest(dest, name);
        } else
                target = xstrdup(dest);
        if (lseek(fd, 0, SEEK_SET) < 0)
                return lerr_errno(err, errno, "ADD: rewind '%s'", tmp);
        return place_file(s, target, fd, NULL, 0, 0600, o, res.last_modified, out, err);
}

/* What --keep-git-dir keeps: a .git holding HEAD (the commit id, detached), shallow (the same
 * id), config (the remote's URL without credentials) and empty objects/ and refs/. It is not
 * a complete repository: no objects are kept, so `git rev-parse HEAD` works and `git log`
 * does not. */
static int write_git_dir(int dir_fd, const char *url, const char *id, struct lerr **err)
{
        _cleanup_free_ char *shown = git_url_redacted(url);
        _cleanup_free_ char *head = xasprintf("%s\n", id);
        _cleanup_free_ char *config = xasprintf("[core]\n\trepositoryformatversion = 0\n"
                                                "\tbare = false\n[remote \"origin\"]\n"
                                                "\turl = %s\n",
                                                shown);
        static const char *const dirs[] = {".git", ".git/objects", ".git/refs", ".git/refs/heads",
                                           ".git/refs/tags"};
        for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
                if (mkdirat(dir_fd, dirs[i], 0755) < 0)
                        return lerr_errno(err, errno, "ADD: create '%s'", dirs[i]);
        int r = fs_write_file_at(dir_fd, ".git/HEAD", head, strlen(head), 0644);
        if (r >= 0)
                r = fs_write_file_at(dir_fd, ".git/shallow", head, strlen(head), 0644);
        if (r >= 0)
                r = fs_write_file_at(dir_fd, ".git/config", config, strlen(config), 0644);
        return r < 0 ? lerr_errno(err, r, "ADD: write '.git'") : 0;
}

/* ADD of a git repository: checked out under KANIKO_DIR, then copied like a directory of the
 * context (its contents into dest, --chown/--chmod applied, no .dockerignore). */
static int add_git(struct stage_ctx *s, const char *src, const char *dest, bool keep_git_dir,
                   const struct copy_opts *o, struct step_out *out, struct lerr **err)
{
        _cleanup_(git_source_done) struct git_source gs = {0};
        int r = git_source_from_add(src, &gs, err);
        if (r < 0)
                return lerr_wrap(err, "ADD");
        _cleanup_free_ char *work = xasprintf("%s/add-git", s->b->kaniko_dir);
        (void) fs_rm_rf_at(AT_FDCWD, work);
        if (mkdir(work, 0755) < 0)
                return lerr_errno(err, errno, "ADD: create '%s'", work);
        _cleanup_close_ int dfd = open(work, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        /* the checkout's root becomes dest: a directory git would make, whatever the umask */
        if (dfd < 0 || fchmod(dfd, 0755) < 0)
                return lerr_errno(err, errno, "ADD: open '%s'", work);
        /* BuildKit's ADD checks the submodules out too (Kaniko's ADD has no git) */
        struct git_remote_opts go = {.allow_http = startswith(gs.url, "http://") != NULL,
                                     .recurse_submodules = true};
        char id[GIT_OID_HEXSZ + 1];
        r = git_clone(&gs, cache_git_commit(s, src), &go, s->b->kaniko_dir, dfd, id, err);
        if (r >= 0 && keep_git_dir)
                r = write_git_dir(dfd, gs.url, id, err);
        if (r >= 0) {
                char *sources[] = {(char *) ".", NULL};
                struct copy_opts co = *o;
                struct copy_result res = {0};
                co.filter = NULL;
                co.filter_userdata = NULL;
                co.preserve_owner = false;
                co.source_name = "git repository";
                co.parents = false;
                r = copy_sources(dfd, sources, s->b->root_fd, dest, &co, &res, err);
                strv_foreach (p, res.paths)
                        strv_push(&out->paths, p);
                copy_result_done(&res);
        }
        (void) fs_rm_rf_at(AT_FDCWD, work);
        if (r < 0) {
                _cleanup_free_ char *shown = git_url_redacted(src);
                return lerr_wrap(err, "ADD '%s'", shown);
        }
        return 0;
}

/* Whether a file of the context is a tar archive (plain or compressed) ADD unpacks. */
static bool is_archive(int src_root, const char *rel)
{
        _cleanup_close_ int fd = fs_open_in_root(src_root, rel, O_RDONLY, 0);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return false;
        struct archive *a = archive_read_new();
        if (!a)
                oom();
        archive_read_support_format_tar(a);
        archive_read_support_filter_all(a);
        struct archive_entry *e;
        bool ok = archive_read_open_fd(a, fd, 65536) == ARCHIVE_OK &&
                  archive_read_next_header(a, &e) == ARCHIVE_OK;
        archive_read_free(a);
        return ok;
}

struct decompress {
        struct archive *a;
};

/* Feeds the extractor the decompressed tar (any compression libarchive reads). */
static ssize_t decompressed_read(void *userdata, void *buf, size_t len)
{
        struct decompress *d = userdata;
        la_ssize_t n = archive_read_data(d->a, buf, len);
        return n < 0 ? -EBADMSG : (ssize_t) n;
}

static int add_archive(struct stage_ctx *s, int src_root, const char *rel, const char *dest,
                       const struct copy_opts *o, struct step_out *out, struct lerr **err)
{
        _cleanup_free_ char *dir = NULL;
        int r = fs_normalize_path(dest, &dir);
        if (r < 0)
                return lerr_errno(err, r, "ADD: destination '%s'", dest);
        _cleanup_close_ int dfd = fs_mkdir_p_in_root(s->b->root_fd, dir, 0755);
        if (dfd < 0)
                return lerr_errno(err, dfd, "ADD: create '/%s'", dir);
        _cleanup_close_ int fd = fs_open_in_root(src_root, rel, O_RDONLY, 0);
        if (fd < 0)
                return lerr_errno(err, fd, "ADD: open '%s'", rel);
        struct decompress d = {.a = archive_read_new()};
        if (!d.a)
                oom();
        archive_read_support_format_raw(d.a);
        archive_read_support_filter_all(d.a);
        struct archive_entry *e;
        if (archive_read_open_fd(d.a, fd, 65536) != ARCHIVE_OK ||
            archive_read_next_header(d.a, &e) != ARCHIVE_OK) {
                r = lerr_set(err, EBADMSG, "ADD: read '%s': %s", rel, archive_error_string(d.a));
                archive_read_free(d.a);
                return r;
        }
        /* the destination keeps its own mode and owner; ignored paths are never written */
        struct extract_options eo = {
                .name = rel,
                .flags = EXTRACT_KEEP_ROOT | (o->chown ? EXTRACT_NO_CHOWN : 0),
                .ignore = *dir ? NULL : s->b->ignore,
        };
        r = extract_layer_read(dfd, decompressed_read, &d, &eo, NULL, err);
        archive_read_free(d.a);
        if (r < 0)
                return lerr_wrap(err, "ADD: unpack '%s' into '/%s'", rel, dir);
        strv_push(&out->paths, *dir ? dir : "/");
        return 0;
}

static int open_source_root(struct stage_ctx *s, const struct df_copy *c, struct lerr **err)
{
        int fd = -EBADF;
        if (!c->from) {
                fd = fcntl(s->b->context_fd, F_DUPFD_CLOEXEC, 3);
                return fd < 0 ? lerr_errno(err, errno, "open the build context") : fd;
        }
        int r = base_source_root(s->b, s->index, c->from, NULL, &fd, err);
        return r < 0 ? r : fd;
}

static int copy_inlines(struct stage_ctx *s, const struct df_copy *c, const char *dest,
                        bool several, const struct copy_opts *o, struct step_out *out,
                        struct lerr **err)
{
        for (size_t i = 0; i < c->n_inlines; i++) {
                const struct df_inline *in = &c->inlines[i];
                _cleanup_free_ char *target =
                        dest_is_dir(dest) || several ? join_dest(dest, in->name) : xstrdup(dest);
                int r = place_file(s, target, -1, in->data, strlen(in->data), 0644, o,
                                   s->b->o->reproducible ? 0 : time(NULL), out, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int resolve_owner(struct stage_ctx *s, const struct df_copy *c, struct copy_opts *o,
                         struct chmod_spec **chmod, struct lerr **err)
{
        if (c->chown) {
                int r = users_resolve_chown(s->b->root_fd, c->chown, &o->uid, &o->gid, err);
                if (r < 0)
                        return r;
                o->chown = true;
        }
        if (c->chmod) {
                if (chmod_spec_parse(c->chmod, chmod) < 0)
                        return lerr_set(err, EINVAL, "invalid --chmod '%s'", c->chmod);
                o->chmod = *chmod;
        }
        return 0;
}

int step_copy(struct stage_ctx *s, const struct df_inst *exp, struct step_out *out,
              struct lerr **err)
{
        const struct df_copy *c = &exp->u.copy;
        bool add = exp->kind == DF_ADD;
        struct chmod_spec *chmod = NULL;
        _cleanup_(dockerignore_freep) struct dockerignore *excludes = NULL;
        _cleanup_(strv_freep) char **local = NULL;
        _cleanup_free_ char *dest = stage_abs_path(s, c->dest);
        struct copy_filter f = {.ignore = c->from ? NULL : s->b->ignore_file};
        struct copy_opts o = {
                .instruction = add ? "ADD" : "COPY",
                .preserve_owner = c->from != NULL,
                .parents = c->parents,
                .filter = step_copy_filter,
                .filter_userdata = &f,
                .source_name = c->from ? c->from : "build context",
        };
        int r = resolve_owner(s, c, &o, &chmod, err);
        if (r >= 0 && c->excludes && c->excludes[0]) {
                r = dockerignore_from_patterns(c->excludes, &excludes, err);
                f.excludes = excludes;
        }
        bool several = strv_length(c->sources) + c->n_inlines > 1;
        int64_t t0 = build_now_ns();
        _cleanup_close_ int src = -EBADF;
        strv_foreach (source, c->sources) {
                if (r < 0)
                        break;
                if (add && git_is_add_source(source))
                        r = add_git(s, source, dest, c->keep_git_dir > 0, &o, out, err);
                else if (is_url(source) && !add)
                        r = lerr_set(err, EINVAL,
                                     "COPY: source '%s' is a URL: use ADD to "
                                     "download files",
                                     source);
                else if (is_url(source))
                        r = add_url(s, source, dest, c->checksum, several, &o, out, err);
                else
                        strv_push(&local, source);
        }
        if (r >= 0 && local) {
                src = open_source_root(s, c, err);
                r = src < 0 ? src : 0;
        }
        if (r >= 0 && local && add && c->unpack != 0) {
                /* local archives are unpacked, the rest copied */
                _cleanup_(strv_freep) char **plain = NULL;
                for (size_t i = 0; r >= 0 && local[i]; i++) {
                        _cleanup_(strv_freep) char **matches = NULL;
                        r = copy_expand_source(src, local[i], &o, &matches, err);
                        for (size_t k = 0; r >= 0 && matches && matches[k]; k++) {
                                if (is_archive(src, matches[k]))
                                        r = add_archive(s, src, matches[k], dest, &o, out, err);
                                else
                                        strv_push(&plain, matches[k]);
                        }
                }
                strv_free(local);
                local = TAKE_PTR(plain);
        }
        if (r >= 0 && local) {
                struct copy_result res = {0};
                r = copy_sources(src, local, s->b->root_fd, dest, &o, &res, err);
                strv_foreach (p, res.paths)
                        strv_push(&out->paths, p);
                copy_result_done(&res);
        }
        if (r >= 0)
                r = copy_inlines(s, c, dest, several, &o, out, err);
        build_phase_add(s->b, PHASE_COPY, t0);
        chmod_spec_free(chmod);
        if (r < 0)
                return r;
        out->changed = true;
        if (!out->paths)
                out->paths = xcalloc(1, sizeof(char *));
        return 0;
}
