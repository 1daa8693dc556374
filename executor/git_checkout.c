/* SPDX-License-Identifier: Apache-2.0 */
/* Checkout of one commit's tree from a packfile into a directory. No index, no .git, no
 * attributes (eol conversion, filters); submodules are only reported (git_submodule.c fetches
 * them): the files exactly as committed. */
#include "executor/git_checkout.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/log.h"

struct checkout {
        struct git_pack *p;
        struct git_gitlinks *links; /* NULL: warn */
        uint64_t entries;
};

int git_commit_tree(const char *data, size_t len, unsigned char ret[GIT_OID_RAWSZ])
{
        char hex[GIT_OID_HEXSZ + 1];
        if (len < 5 + GIT_OID_HEXSZ + 1 || memcmp(data, "tree ", 5) != 0 ||
            data[5 + GIT_OID_HEXSZ] != '\n')
                return -EBADMSG;
        memcpy(hex, data + 5, GIT_OID_HEXSZ);
        hex[GIT_OID_HEXSZ] = '\0';
        return git_oid_from_hex(hex, ret) < 0 ? -EBADMSG : 0;
}

/* The names git itself refuses to check out (verify_path): and with no '/', nothing can
 * climb out of the directory or reach into a .git */
static bool safe_name(const char *name, size_t n)
{
        return n > 0 && !memchr(name, '/', n) && !(n == 1 && name[0] == '.') &&
               !(n == 2 && memcmp(name, "..", 2) == 0) &&
               !(n == 4 && strncasecmp(name, ".git", 4) == 0);
}

static int write_blob(struct checkout *c, int dir_fd, const char *name, const unsigned char *id,
                      mode_t mode, const char *path, struct lerr **err)
{
        _cleanup_free_ unsigned char *data = NULL;
        enum git_obj_type t;
        size_t len;
        int r = git_pack_read(c->p, id, GIT_OBJ_BLOB, &t, &data, &len, err);
        if (r < 0)
                return lerr_wrap(err, "check out '%s'", path);
        if (mode == 0) {
                if (len == 0 || len > GIT_CHECKOUT_MAX_LINK_TARGET || memchr(data, '\0', len))
                        return lerr_set(err, EBADMSG, "check out '%s': invalid symlink target",
                                        path);
                if (symlinkat((const char *) data, dir_fd, name) < 0)
                        return lerr_errno(err, errno, "check out '%s'", path);
                return 0;
        }
        _cleanup_close_ int fd =
                openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return lerr_errno(err, errno, "check out '%s'", path);
        r = fs_write_all(fd, data, len);
        if (r >= 0 && fchmod(fd, mode) < 0)
                r = -errno;
        if (r < 0)
                return lerr_errno(err, r, "check out '%s'", path);
        return 0;
}

static int check_out_tree(struct checkout *c, const unsigned char *tree_id, int dir_fd,
                          const char *prefix, unsigned depth, struct lerr **err);

/* A new directory, 0755 whatever the umask (as git makes them): its fd. */
static int make_dir(int dir_fd, const char *name, const char *path, struct lerr **err)
{
        if (mkdirat(dir_fd, name, 0755) < 0)
                return lerr_errno(err, errno, "check out '%s'", path);
        int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return lerr_errno(err, errno, "check out '%s'", path);
        if (fchmod(fd, 0755) < 0) {
                int r = lerr_errno(err, errno, "check out '%s'", path);
                (void) close(fd);
                return r;
        }
        return fd;
}

static int check_out_entry(struct checkout *c, int dir_fd, const char *mode, const char *name,
                           const unsigned char *id, const char *path, unsigned depth,
                           struct lerr **err)
{
        if (++c->entries > GIT_CHECKOUT_MAX_ENTRIES)
                return lerr_set(err, E2BIG, "the tree has over %u entries",
                                GIT_CHECKOUT_MAX_ENTRIES);
        /* 100664 is what very old git wrote for group-writable files; git reads it as 100644 */
        if (streq(mode, "100644") || streq(mode, "100664"))
                return write_blob(c, dir_fd, name, id, 0644, path, err);
        if (streq(mode, "100755"))
                return write_blob(c, dir_fd, name, id, 0755, path, err);
        if (streq(mode, "120000"))
                return write_blob(c, dir_fd, name, id, 0, path, err);
        if (streq(mode, "160000")) {
                _cleanup_close_ int sub = make_dir(dir_fd, name, path, err);
                if (sub < 0)
                        return sub;
                if (!c->links) {
                        log_warn("Skipping submodule '%s': left as an empty directory", path);
                        return 0;
                }
                struct git_gitlinks *l = c->links;
                l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
                l->v[l->n].path = xstrdup(path);
                git_oid_to_hex(id, l->v[l->n].id);
                l->n++;
                return 0;
        }
        if (!streq(mode, "40000"))
                return lerr_set(err, EBADMSG, "check out '%s': unknown mode %s", path, mode);
        if (depth >= GIT_CHECKOUT_MAX_DEPTH)
                return lerr_set(err, E2BIG, "check out '%s': over %u nested directories", path,
                                GIT_CHECKOUT_MAX_DEPTH);
        _cleanup_close_ int sub = make_dir(dir_fd, name, path, err);
        if (sub < 0)
                return sub;
        return check_out_tree(c, id, sub, path, depth + 1, err);
}

static int check_out_tree(struct checkout *c, const unsigned char *tree_id, int dir_fd,
                          const char *prefix, unsigned depth, struct lerr **err)
{
        _cleanup_free_ unsigned char *data = NULL;
        enum git_obj_type t;
        size_t len;
        int r = git_pack_read(c->p, tree_id, GIT_OBJ_TREE, &t, &data, &len, err);
        if (r < 0)
                return *prefix ? lerr_wrap(err, "check out '%s'", prefix) : r;
        /* entries: "<octal mode> <name>\0<20-byte id>" */
        for (size_t pos = 0; pos < len;) {
                const char *mode = (const char *) data + pos;
                const char *sp = memchr(mode, ' ', len - pos);
                if (!sp || sp == mode || sp - mode > 6)
                        return lerr_set(err, EBADMSG, "malformed tree in '%s/'", prefix);
                const char *name = sp + 1;
                const char *nul = memchr(name, '\0', len - (size_t) (name - (char *) data));
                if (!nul || (size_t) ((const unsigned char *) nul + 1 - data) + GIT_OID_RAWSZ > len)
                        return lerr_set(err, EBADMSG, "malformed tree in '%s/'", prefix);
                size_t name_len = (size_t) (nul - name);
                if (!safe_name(name, name_len) || name_len > 4096)
                        return lerr_set(err, EBADMSG, "unsafe entry name in tree '%s/'", prefix);
                char mode_s[8] = {0};
                memcpy(mode_s, mode, (size_t) (sp - mode));
                const unsigned char *id = (const unsigned char *) nul + 1;
                _cleanup_free_ char *path =
                        *prefix ? xasprintf("%s/%s", prefix, name) : xstrdup(name);
                r = check_out_entry(c, dir_fd, mode_s, name, id, path, depth, err);
                if (r < 0)
                        return r;
                pos = (size_t) (id + GIT_OID_RAWSZ - data);
        }
        return 0;
}

void git_gitlinks_done(struct git_gitlinks *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i].path);
        free(l->v);
        *l = (struct git_gitlinks){0};
}

int git_checkout(struct git_pack *p, const unsigned char commit[GIT_OID_RAWSZ], int dir_fd,
                 struct git_gitlinks *ret_links, struct lerr **err)
{
        struct checkout c = {.p = p, .links = ret_links};
        _cleanup_free_ unsigned char *data = NULL;
        unsigned char tree[GIT_OID_RAWSZ];
        enum git_obj_type t;
        size_t len;
        int r = git_pack_read(p, commit, GIT_OBJ_COMMIT, &t, &data, &len, err);
        if (r < 0)
                return r;
        if (git_commit_tree((const char *) data, len, tree) < 0)
                return lerr_set(err, EBADMSG, "malformed commit object");
        r = check_out_tree(&c, tree, dir_fd, "", 0, err);
        if (r < 0)
                return r;
        return c.entries > INT32_MAX ? INT32_MAX : (int) c.entries;
}
