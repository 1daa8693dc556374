/* SPDX-License-Identifier: Apache-2.0 */
/* Test helpers for extraction: build layer tars in memory with libarchive's write API (any
 * name, any type, pax xattrs, sparse maps, gzip or zstd), feed them to the extractor from a
 * memfd, a pipe or a callback, and list a tree as text for exact comparisons. */
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/digest.h"
#include "common/err.h"
#include "common/fs.h"
#include "snapshot/extract.h"

/* Makes a scratch directory from a template "lading-test-x-XXXXXX" on tmpfs (/dev/shm) when it
 * is there: creating 100k files on this project's CI disk costs minutes, on tmpfs a second.
 * Returns the directory path (static storage), aborts on failure. */
static inline char *tb_scratch(const char *tmpl)
{
        static char path[256];
        struct statfs sfs;
        const char *parent = "/tmp";
        if (statfs("/dev/shm", &sfs) == 0 && sfs.f_type == TMPFS_MAGIC &&
            access("/dev/shm", W_OK) == 0)
                parent = "/dev/shm";
        snprintf(path, sizeof(path), "%s/%s", parent, tmpl);
        if (!mkdtemp(path))
                abort();
        return path;
}

struct tb {
        struct archive *a;
        char *data;
        size_t len, alloc;
};

static la_ssize_t tb_write_cb(struct archive *a, void *ud, const void *p, size_t n)
{
        (void) a;
        struct tb *t = ud;
        if (t->len + n > t->alloc) {
                t->alloc = (t->len + n) * 2;
                t->data = xrealloc(t->data, t->alloc);
        }
        memcpy(t->data + t->len, p, n);
        t->len += n;
        return (la_ssize_t) n;
}

/* filter: "none", "gzip" or "zstd" */
static inline struct tb *tb_new(const char *filter)
{
        struct tb *t = xcalloc(1, sizeof(*t));
        t->a = archive_write_new();
        archive_write_set_format_pax(t->a);
        if (streq(filter, "gzip"))
                archive_write_add_filter_gzip(t->a);
        else if (streq(filter, "zstd"))
                archive_write_add_filter_zstd(t->a);
        archive_write_set_bytes_in_last_block(t->a, 1);
        if (archive_write_open(t->a, t, NULL, tb_write_cb, NULL) != ARCHIVE_OK)
                abort();
        return t;
}

struct tb_entry {
        const char *name;
        mode_t type; /* AE_IFREG (default), AE_IFDIR, AE_IFLNK, AE_IFCHR, AE_IFBLK, AE_IFIFO */
        mode_t mode; /* permission bits; 0 gives 0644 (files) or 0755 (dirs) */
        int64_t uid, gid;
        int64_t mtime; /* seconds; 0 gives 1700000000 */
        long mtime_ns;
        const char *content; /* regular files */
        size_t size;         /* 0: strlen(content) */
        const char *link;    /* symlink target */
        const char *hardlink;
        unsigned major, minor;
        const char *xattr_name, *xattr_value;
        size_t xattr_size; /* 0: strlen(xattr_value) */
};

static inline void tb_add(struct tb *t, const struct tb_entry *e)
{
        struct archive_entry *ae = archive_entry_new();
        mode_t type = e->type ? e->type : AE_IFREG;
        archive_entry_set_pathname(ae, e->name);
        archive_entry_set_uid(ae, e->uid);
        archive_entry_set_gid(ae, e->gid);
        archive_entry_set_mtime(ae, e->mtime ? e->mtime : 1700000000, e->mtime_ns);
        size_t size = 0;
        if (e->hardlink) {
                archive_entry_set_hardlink(ae, e->hardlink);
                archive_entry_set_filetype(ae, AE_IFREG);
                archive_entry_set_perm(ae, e->mode ? e->mode : 0644);
        } else {
                archive_entry_set_filetype(ae, type);
                archive_entry_set_perm(ae, e->mode ? e->mode : type == AE_IFDIR ? 0755 : 0644);
                if (type == AE_IFREG && e->content)
                        size = e->size ? e->size : strlen(e->content);
                if (type == AE_IFLNK)
                        archive_entry_set_symlink(ae, e->link);
                if (type == AE_IFCHR || type == AE_IFBLK) {
                        archive_entry_set_rdevmajor(ae, e->major);
                        archive_entry_set_rdevminor(ae, e->minor);
                }
        }
        archive_entry_set_size(ae, (la_int64_t) size);
        if (e->xattr_name)
                archive_entry_xattr_add_entry(ae, e->xattr_name, e->xattr_value,
                                              e->xattr_size ? e->xattr_size
                                                            : strlen(e->xattr_value));
        if (archive_write_header(t->a, ae) != ARCHIVE_OK) {
                fprintf(stderr, "tb_add %s: %s\n", e->name, archive_error_string(t->a));
                abort();
        }
        if (size && archive_write_data(t->a, e->content, size) != (la_ssize_t) size)
                abort();
        archive_entry_free(ae);
}

#define TB(t, ...) tb_add((t), &(struct tb_entry){__VA_ARGS__})

/* Closes the archive; the bytes stay in t->data/t->len until tb_free. */
static inline void tb_close(struct tb *t)
{
        if (archive_write_close(t->a) != ARCHIVE_OK)
                abort();
        archive_write_free(t->a);
        t->a = NULL;
}

static inline void tb_free(struct tb *t)
{
        if (t->a)
                archive_write_free(t->a);
        free(t->data);
        free(t);
}

/* A memfd holding p[0..n), at offset 0. */
static inline int tb_memfd(const void *p, size_t n)
{
        int fd = memfd_create("layer", MFD_CLOEXEC);
        if (fd < 0 || fs_write_all(fd, p, n) < 0 || lseek(fd, 0, SEEK_SET) != 0)
                abort();
        return fd;
}

/* Extracts p[0..n) onto root_fd from a memfd. The error message (or "") goes to *msg. */
static inline int tb_extract_bytes(int root_fd, const void *p, size_t n,
                                   const struct extract_options *o, struct extract_stats *st,
                                   char **msg)
{
        struct lerr *err = NULL;
        int fd = tb_memfd(p, n);
        int r = extract_layer_fd(root_fd, fd, o, st, &err);
        close(fd);
        if (msg)
                *msg = xstrdup(r < 0 ? lerr_message(err) : "");
        lerr_free(err);
        return r;
}

static inline int tb_extract(int root_fd, struct tb *t, const struct extract_options *o,
                             struct extract_stats *st, char **msg)
{
        if (t->a)
                tb_close(t);
        return tb_extract_bytes(root_fd, t->data, t->len, o, st, msg);
}

/* ---- listing a tree: one line per entry, sorted, symlinks not followed ---- */

static int tb_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static inline void tb_list_at(int dfd, const char *rel, struct buf *out, bool owners)
{
        int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY);
        DIR *d = fdopendir(fd);
        char **names = NULL;
        size_t n = 0;
        for (struct dirent *de; d && (de = readdir(d));) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                names = xreallocarray(names, n + 1, sizeof(char *));
                names[n++] = xstrdup(de->d_name);
        }
        if (d)
                closedir(d);
        if (n > 0)
                qsort(names, n, sizeof(char *), tb_cmp);
        for (size_t i = 0; i < n; i++) {
                struct stat st;
                char *path = *rel ? xasprintf("%s/%s", rel, names[i]) : xstrdup(names[i]);
                if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
                        abort();
                char own[64] = "";
                if (owners)
                        snprintf(own, sizeof(own), " %u:%u", (unsigned) st.st_uid,
                                 (unsigned) st.st_gid);
                if (S_ISDIR(st.st_mode)) {
                        (void) !buf_printf(out, "d %04o%s %s\n", st.st_mode & 07777, own, path);
                        int sub = openat(dfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
                        tb_list_at(sub, path, out, owners);
                        close(sub);
                } else if (S_ISLNK(st.st_mode)) {
                        char target[4097];
                        ssize_t tn = readlinkat(dfd, names[i], target, sizeof(target) - 1);
                        target[tn < 0 ? 0 : tn] = '\0';
                        (void) !buf_printf(out, "l%s %s -> %s\n", own, path, target);
                } else if (S_ISREG(st.st_mode)) {
                        struct buf content = BUF_INIT(1 << 20);
                        (void) fs_read_file_at(dfd, names[i], &content);
                        (void) !buf_printf(out, "f %04o%s %s", st.st_mode & 07777, own, path);
                        if (st.st_nlink > 1)
                                (void) !buf_printf(out, " nlink=%ju", (uintmax_t) st.st_nlink);
                        if (content.len <= 32 && !memchr(buf_str(&content), '\n', content.len))
                                (void) !buf_printf(out, " '%s'\n", buf_str(&content));
                        else
                                (void) !buf_printf(out, " %zu bytes\n", content.len);
                        buf_done(&content);
                } else {
                        char kind = S_ISCHR(st.st_mode) ? 'c' : S_ISBLK(st.st_mode) ? 'b' : 'p';
                        (void) !buf_printf(out, "%c %04o%s %s %u:%u\n", kind, st.st_mode & 07777,
                                           own, path, major(st.st_rdev), minor(st.st_rdev));
                }
                free(path);
                free(names[i]);
        }
        free(names);
}

/* The tree under dfd as text ("d 0755 a\nf 0644 a/x 'content'\n..."), caller frees. */
static inline char *tb_list(int dfd, bool owners)
{
        struct buf out = BUF_INIT(1 << 30);
        tb_list_at(dfd, "", &out, owners);
        return buf_steal(&out);
}
