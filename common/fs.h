/* SPDX-License-Identifier: Apache-2.0 */
/* Filesystem helpers. Everything that touches a build root goes through the *_in_root
 * functions: paths are resolved as if root_fd were "/" (symlinks, absolute or relative, and
 * ".." never leave it), using openat2(RESOLVE_IN_ROOT) or, where the kernel or a seccomp
 * profile refuses it, a component-by-component walk with the same semantics.
 * Limits: FS_PATH_MAX bytes per path, FS_MAX_SYMLINK_HOPS symlinks per resolution. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct buf;

#define FS_PATH_MAX         4096
#define FS_MAX_SYMLINK_HOPS 40

/* Lexically cleans an entry name: drops leading "/" and "./", collapses "//" and ".",
 * refuses ".." (-EINVAL) and names over FS_PATH_MAX (-ENAMETOOLONG). The root itself
 * ("", "/", ".", "./") becomes "". *ret is a new string. */
int fs_clean_path(const char *in, char **ret);
/* Like fs_clean_path but resolves ".." lexically, clamped at the root (for user paths such
 * as a Dockerfile's COPY destination: "/a/../b" is "b", "../x" is "x"). */
int fs_normalize_path(const char *in, char **ret);

/* Opens rel (relative to root_fd, or absolute meaning the same) with open(2) flags/mode,
 * resolved inside root_fd as openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) does: ".." and
 * absolute links restart at / stay at root_fd, procfs magic links fail with -ELOOP.
 * O_NOFOLLOW (and O_CREAT|O_EXCL) apply to the last component only, as for open(2); a trailing
 * slash makes the last component a directory that is followed. Returns an fd (O_CLOEXEC) or
 * -errno (-EAGAIN if the tree kept changing during resolution). */
int fs_open_in_root(int root_fd, const char *rel, int flags, mode_t mode);
/* Resolves the directory rel inside root_fd with the same rules, as far as it exists, without
 * creating anything: returns an O_PATH|O_DIRECTORY fd of the deepest existing directory on the
 * resolved path, its canonical root-relative path in *ret_canon (no links, no dots, "" for the
 * root) and, in *ret_rest, the cleaned components still missing below it ("" when rel exists).
 * Both strings are the caller's. For callers that must know where a path really lands (the
 * ignore list is lexical). -ENOTDIR when a component is not a directory, -ENOENT when a missing
 * component is followed by "..", -ELOOP past FS_MAX_SYMLINK_HOPS links. Always uses the walk. */
int fs_chase_in_root(int root_fd, const char *rel, char **ret_canon, char **ret_rest);
/* Opens the directory that contains the last component of rel (resolved inside root_fd) as an
 * O_PATH|O_DIRECTORY fd. *ret_name points into rel at the last component. rel must name
 * something below the root (not the root itself): -EINVAL otherwise. */
int fs_open_parent_in_root(int root_fd, const char *rel, const char **ret_name);
/* Creates rel and its missing parents as directories (mode for new ones, umask applies)
 * inside root_fd and returns an O_DIRECTORY fd of it. Existing symlinks on the way are
 * followed inside the root. -ENOTDIR if a component exists and is not a directory. */
int fs_mkdir_p_in_root(int root_fd, const char *rel, mode_t mode);

/* Test hook: force the walk fallback even where openat2 works. */
void fs_set_force_walk(bool on);

/* Reads what is left of fd into b (bounded by b->max: -E2BIG if larger). */
int fs_read_fd(int fd, struct buf *b);
/* The names in a directory ("." and ".." left out), unsorted, as a new array of n new strings
 * (free each, then the array). */
int fs_list_names(int dir_fd, char ***ret, size_t *ret_n);
/* Reads a whole file into b (bounded by b->max: -E2BIG if larger). */
int fs_read_file_at(int dir_fd, const char *path, struct buf *b);
/* Writes data to path atomically (temp file in the same dir, fsync-less rename). The temp file
 * is created with O_EXCL|O_NOFOLLOW; path itself is replaced, not followed. */
int fs_write_file_at(int dir_fd, const char *path, const void *data, size_t len, mode_t mode);
/* Removes name under dir_fd recursively, never following symlinks. ENOENT is success. Uses a
 * bounded number of fds at any depth. Never empties another filesystem: -EBUSY if name is or
 * holds a mount point (what was removed before it stays removed). -ESTALE if the tree is moved
 * while it is being removed. Stops at the first error. */
int fs_rm_rf_at(int dir_fd, const char *name);
/* Removes everything inside the directory fd (not the directory itself), as fs_rm_rf_at. */
int fs_empty_dir(int dir_fd);
/* Copies all of in_fd to out_fd (copy_file_range, falling back to read/write). */
int fs_copy_fd(int in_fd, int out_fd);
/* write(2) all of p, retrying on EINTR and short writes. */
int fs_write_all(int fd, const void *p, size_t n);
