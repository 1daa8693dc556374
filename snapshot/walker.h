/* SPDX-License-Identifier: Apache-2.0 */
/* The walker: reads a build root without ever following a symlink or leaving the root's
 * filesystem. Directories are opened with openat(dir, name, O_DIRECTORY|O_NOFOLLOW), entries
 * read with getdents64 and stat'ed with statx(AT_SYMLINK_NOFOLLOW) (fstatat where statx is not
 * allowed); names are visited in byte order so that layers are reproducible. Ignored paths
 * (ignore_list_match_exact) are not reported and not descended; mount points below the root
 * are skipped even when missing from the ignore list.
 *
 * Also here: the canonical path order of layers, the stat key of one entry, and the extended
 * attributes a layer carries.
 * Limits: paths up to FS_PATH_MAX bytes (longer ones fail with -ENAMETOOLONG), xattr name lists
 * and values up to WALKER_XATTR_MAX bytes each, WALKER_MAX_XATTRS attributes per entry. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "common/macros.h"

struct lerr;
struct ignore_list;

#define WALKER_XATTR_MAX       65536
#define WALKER_MAX_XATTRS      128
#define SNAP_XATTR_DIGEST_SIZE 16
#define SNAP_CONTENT_HASH_SIZE 32

/* What the walker knows of one entry without reading it. */
struct snap_stat {
        uint64_t size;
        int64_t mtime_ns;
        int64_t ctime_ns;
        uint64_t ino;
        uint64_t dev;  /* st_dev: with ino, identifies hardlinks */
        uint64_t rdev; /* character and block devices only, else 0 */
        uint32_t mode; /* S_IFMT type and the 07777 permission bits */
        uint32_t uid, gid;
        uint32_t nlink;
};

enum walker_stat_flags {
        WALKER_MOUNT_KNOWN = 1u << 0, /* statx says whether the entry is a mount root */
        WALKER_MOUNT_ROOT = 1u << 1,  /* ... and it is */
};

/* Test hook: use fstatat and the /proc/self/fd xattr path even where statx and *xattrat()
 * work, as on kernels before 6.13 or under a seccomp profile that refuses them. */
void walker_set_force_fallbacks(bool on);

/* statx (fstatat as fallback) of name in dir_fd, never following a symlink. *ret_flags gets
 * WALKER_MOUNT_KNOWN|WALKER_MOUNT_ROOT from statx (ret_flags may be NULL). Returns 0 or -errno. */
int walker_stat_at(int dir_fd, const char *name, struct snap_stat *ret, unsigned *ret_flags);
/* fstat of an open fd as a snap_stat. */
int walker_stat_fd(int fd, struct snap_stat *ret);
/* The target of the symlink name in dir_fd (new string). -EINVAL if it is not a symlink,
 * -ENAMETOOLONG past FS_PATH_MAX. */
int walker_readlink_at(int dir_fd, const char *name, char **ret);

/* Opens the regular file name in dir_fd for reading: never a symlink, never blocking on a FIFO,
 * without updating its atime where allowed (O_NOATIME). -EINVAL if it is not a regular file. */
int walker_open_file_at(int dir_fd, const char *name);
/* The sha256 of a regular file's content, as raw bytes. */
int walker_hash_file_at(int dir_fd, const char *name, uint8_t out[SNAP_CONTENT_HASH_SIZE]);
/* Converts the hex part of a "sha256:..." string to raw bytes (n bytes, n <= 32). */
void walker_digest_to_raw(const char *digest, uint8_t *out, size_t n);

/* Extended attributes of one entry, sorted by name. */
struct snap_xattr {
        char *name;
        unsigned char *value;
        size_t len;
};
struct snap_xattrs {
        struct snap_xattr *v;
        size_t n;
};
void snap_xattrs_done(struct snap_xattrs *x);
/* true for the attributes a layer carries: user.*, trusted.* and security.*, except the
 * host's labels and the kernel's own (security.selinux, system.* such as ACLs,
 * trusted.overlay.* and user.overlay.*): as Docker and umoci, which drop host labels. */
bool walker_xattr_wanted(const char *name);
/* Reads the wanted attributes of name in dir_fd, never following a symlink (listxattrat /
 * getxattrat where the kernel has them, else the /proc/self/fd path). A filesystem without
 * xattr support gives none. -E2BIG past the limits. */
int walker_read_xattrs_at(int dir_fd, const char *name, struct snap_xattrs *ret);
/* A digest of the attributes (names and values); all zero bytes when there are none. */
void walker_xattrs_digest(const struct snap_xattrs *x, uint8_t out[SNAP_XATTR_DIGEST_SIZE]);

/* The order of entries in a layer: byte order where '/' sorts before every other byte, which is
 * the depth-first order of a walk with sorted names (so "a", "a/b", "a.b"). <0, 0, >0. */
int walker_path_cmp(const char *a, const char *b);

/* One entry handed to the walk's callback. */
struct walker_entry {
        const char *path; /* root-relative, cleaned: "etc/passwd" */
        const char *name; /* the last component (points into path) */
        size_t path_len;
        int dir_fd; /* the directory holding it (O_RDONLY), valid during the callback only */
        struct snap_stat st;
        uint32_t parent_tag; /* the tag the callback gave the parent directory */
        uint32_t tag;        /* directories: set by the callback, seen by the children */
};

enum walker_action {
        WALKER_DESCEND = 0, /* continue (into the entry, for a directory) */
        WALKER_SKIP = 1,    /* do not descend into this directory */
};

/* Called for each entry in depth-first sorted order (a directory before its contents). Returns
 * a walker_action, or a negative errno with *err filled to stop the walk. */
typedef int (*walker_fn)(struct walker_entry *e, void *userdata, struct lerr **err);

/* Walks everything below dir (a root-relative directory path, "" for the root itself; not
 * reported itself) of root_fd. dir is resolved inside the root without following a symlink in
 * its last component. Entries that vanish during the walk are not reported. ign may be NULL.
 * Returns 0 or the callback's / the filesystem's error, with the path in the message. */
int walker_walk(int root_fd, const char *dir, uint32_t dir_tag, const struct ignore_list *ign,
                walker_fn fn, void *userdata, struct lerr **err);
