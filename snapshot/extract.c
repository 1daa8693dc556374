/* SPDX-License-Identifier: Apache-2.0 */
/* Layer extraction: the libarchive read loop, entry names, limits, stats and the one warning per
 * kind of skipped trouble. Entry types are in extract_entry.c, whiteouts in extract_whiteout.c,
 * parent directories in extract_path.c, the input stream in extract_input.c. */
#include "snapshot/extract.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/log.h"
#include "snapshot/extract-internal.h"
#include "snapshot/ignore.h"
#include "snapshot/pathset.h"

const char *extract_show(struct extractor *x, int slot, const char *s)
{
        char *out = x->shown[slot & 1];
        size_t cap = sizeof(x->shown[0]), o = 0;
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if (o + 4 >= cap) {
                        memcpy(out + o, "...", 3);
                        o += 3;
                        break;
                }
                out[o++] = (*p < 0x20 || *p == 0x7f) ? '?' : (char) *p;
        }
        out[o] = '\0';
        return out;
}

void extract_note(uint64_t *counter, struct skip_note *n, const char *fmt, ...)
{
        va_list ap;
        (*counter)++;
        if (n->first)
                return;
        va_start(ap, fmt);
        n->first = xvasprintf(fmt, ap);
        va_end(ap);
}

int extract_remember(struct extractor *x, const char *canon, struct lerr **err)
{
        size_t len = strlen(canon);
        while (len > 0) {
                int r = pathset_add(x->written, canon, len);
                if (r < 0)
                        return lerr_set(err, E2BIG,
                                        "the layer's names take more than %zu bytes of memory",
                                        (size_t) EXTRACT_MAX_PATH_BYTES);
                if (r == 0)
                        break; /* already there, and so are its parents */
                while (len > 0 && canon[len - 1] != '/')
                        len--;
                if (len > 0)
                        len--;
        }
        return 0;
}

/* The error of a failed libarchive call: the input's own (read error, corrupt gzip) if any. */
static int read_error(struct extractor *x, const char *after, struct lerr **err)
{
        if (xin_failed(x->in, err) < 0)
                return after ? lerr_wrap(err, "read the entry after '%s'",
                                         extract_show(x, 0, after))
                             : lerr_wrap(err, "read the layer");
        int errnum = archive_errno(x->a);
        const char *msg = archive_error_string(x->a);
        if (errnum <= 0)
                errnum = EBADMSG; /* ARCHIVE_ERRNO_MISC and friends: malformed data */
        if (after)
                return lerr_set(err, errnum, "read the entry after '%s': %s",
                                extract_show(x, 0, after), msg ? msg : "malformed tar");
        return lerr_set(err, errnum, "read the layer: %s", msg ? msg : "malformed tar");
}

static bool is_wh(const char *s, size_t n)
{
        return n >= 4 && memcmp(s, ".wh.", 4) == 0;
}

static int process(struct extractor *x, const char *name, struct lerr **err)
{
        _cleanup_free_ char *clean = NULL;
        int r = fs_clean_path(name, &clean);
        if (r == -EINVAL)
                return lerr_set(err, EINVAL, "entry '%s': a '..' component leaves the root",
                                extract_show(x, 0, name));
        if (r == -ENAMETOOLONG)
                return lerr_set(err, ENAMETOOLONG, "entry '%s': name longer than %d bytes",
                                extract_show(x, 0, name), FS_PATH_MAX);
        if (r < 0)
                return lerr_errno(err, -r, "entry '%s'", extract_show(x, 0, name));

        char *slash = strrchr(clean, '/');
        const char *base = slash ? slash + 1 : clean;
        _cleanup_free_ char *dir = xstrndup(clean, slash ? (size_t) (slash - clean) : 0);
        /* ".wh." only means something on the last component: a directory of that name would be
         * a whiteout that other entries write into */
        for (const char *p = clean; p < base;) {
                const char *q = strchr(p, '/');
                if (is_wh(p, (size_t) (q - p)))
                        return lerr_set(err, EINVAL,
                                        "entry '%s': a whiteout name is used as a directory",
                                        extract_show(x, 0, name));
                p = q + 1;
        }
        if (is_wh(base, strlen(base)))
                return extract_whiteout(x, clean, dir, base, err);

        if (x->ignore && *clean && ignore_list_match(x->ignore, clean)) {
                extract_note(&x->st.skipped_ignored, &x->note_ignored, "'%s'",
                             extract_show(x, 0, clean));
                return 0;
        }
        return extract_entry(x, clean, err);
}

static void warn_once(const struct extractor *x, uint64_t count, const struct skip_note *n,
                      const char *what)
{
        if (count == 0 || (x->o->flags & EXTRACT_QUIET))
                return;
        log_warn("layer %s: %s: %ju (first %s)", x->o->name ? x->o->name : "(unnamed)", what,
                 (uintmax_t) count, n->first ? n->first : "?");
}

static void report(const struct extractor *x)
{
        warn_once(x, x->st.skipped_devices, &x->note_devices,
                  "device nodes not created (no permission)");
        warn_once(x, x->st.skipped_owners, &x->note_owners,
                  "entries left with the extracting user as owner");
        warn_once(x, x->st.skipped_xattrs, &x->note_xattrs, "extended attributes not set");
        if (x->st.skipped_ignored && !(x->o->flags & EXTRACT_QUIET))
                log_info("layer %s: entries under ignored paths skipped: %ju (first %s)",
                         x->o->name ? x->o->name : "(unnamed)", (uintmax_t) x->st.skipped_ignored,
                         x->note_ignored.first ? x->note_ignored.first : "?");
        if (x->st.skipped_other)
                log_debug("layer %s: other entries skipped: %ju (first %s)",
                          x->o->name ? x->o->name : "(unnamed)", (uintmax_t) x->st.skipped_other,
                          x->note_other.first ? x->note_other.first : "?");
}

static int run(struct extractor *x, struct lerr **err)
{
        uint64_t max = x->o->max_entries ? x->o->max_entries : EXTRACT_MAX_ENTRIES;
        _cleanup_free_ char *last = NULL;
        int r;

        x->a = archive_read_new();
        if (!x->a)
                oom();
        /* plain tar only (pax, ustar, GNU): decompression is ours; "empty" accepts a zero-byte
         * stream as an empty layer */
        archive_read_support_format_tar(x->a);
        archive_read_support_format_empty(x->a);
        if (archive_read_open(x->a, x->in, NULL, xin_archive_read, NULL) != ARCHIVE_OK)
                return read_error(x, NULL, err);
        for (;;) {
                r = archive_read_next_header(x->a, &x->e);
                if (r == ARCHIVE_EOF)
                        break;
                /* WARN: a name not in the locale's charset, kept as bytes. RETRY: a damaged
                 * header libarchive would skip to resynchronize: refused, a layer is exact. */
                if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
                        return read_error(x, last, err);
                if (++x->st.entries > max)
                        return lerr_set(err, E2BIG, "the layer has more than %ju entries",
                                        (uintmax_t) max);
                const char *name = archive_entry_pathname(x->e);
                if (!name)
                        return lerr_set(err, EBADMSG, "entry %ju has no name",
                                        (uintmax_t) x->st.entries);
                r = process(x, name, err);
                if (r < 0)
                        return r;
                free(last);
                last = xstrdup(name);
        }
        r = extract_finish_dirs(x, err);
        if (r < 0)
                return r;
        r = xin_drain(x->in, err);
        if (r < 0)
                return lerr_wrap(err, "read the end of the layer");
        return 0;
}

static int extract(int root_fd, int fd, extract_read_fn read_fn, void *userdata,
                   const struct extract_options *opts, struct extract_stats *ret_stats,
                   struct lerr **err)
{
        static const struct extract_options defaults = {0};
        struct extractor x = {.root_fd = root_fd, .o = opts ? opts : &defaults};
        int r;

        x.ignore = x.o->ignore;
        x.is_root = geteuid() == 0;
        r = xin_new(fd, read_fn, userdata, !(x.o->flags & EXTRACT_NO_THREADS), &x.in, err);
        if (r < 0)
                return r;
        dircache_init(&x.dc, root_fd);
        x.written = pathset_new(EXTRACT_MAX_PATH_BYTES);
        r = run(&x, err);
        if (r >= 0) {
                x.st.in_bytes = xin_in_bytes(x.in);
                report(&x);
                if (ret_stats)
                        *ret_stats = x.st;
        }
        if (x.a)
                archive_read_free(x.a);
        xin_free(x.in);
        dircache_done(&x.dc);
        pathset_free(x.written);
        for (size_t i = 0; i < x.ndirs; i++)
                free(x.dirs[i].path);
        free(x.dirs);
        struct skip_note *notes[] = {&x.note_ignored, &x.note_devices, &x.note_xattrs,
                                     &x.note_owners, &x.note_other};
        for (size_t i = 0; i < ARRAY_SIZE(notes); i++)
                free(notes[i]->first);
        return r;
}

int extract_layer_fd(int root_fd, int fd, const struct extract_options *opts,
                     struct extract_stats *ret_stats, struct lerr **err)
{
        if (fd < 0)
                return lerr_set(err, EBADF, "extract: no input");
        return extract(root_fd, fd, NULL, NULL, opts, ret_stats, err);
}

int extract_layer_read(int root_fd, extract_read_fn read_fn, void *userdata,
                       const struct extract_options *opts, struct extract_stats *ret_stats,
                       struct lerr **err)
{
        if (!read_fn)
                return lerr_set(err, EINVAL, "extract: no input");
        return extract(root_fd, -1, read_fn, userdata, opts, ret_stats, err);
}
