/* SPDX-License-Identifier: Apache-2.0 */
/* Test tool: applies layer blobs in order onto a root directory with extract_layer_fd, as a
 * build does for a base image. Prints one line of stats per layer.
 * Usage: extract-layers [--ignore PATH]... [--no-threads] [--wipe] ROOT LAYER... */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "snapshot/extract.h"
#include "snapshot/ignore.h"
#include "snapshot/wipe.h"

int main(int argc, char **argv)
{
        struct ignore_list *ign = ignore_list_new();
        struct extract_options o = {.ignore = ign};
        struct lerr *err = NULL;
        bool wipe = false;
        int i = 1;

        log_setup(LOG_INFO, LOG_FORMAT_TEXT, false);
        for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
                if (strcmp(argv[i], "--ignore") == 0 && i + 1 < argc) {
                        if (ignore_list_add(ign, argv[++i], 0, &err) < 0)
                                goto fail;
                } else if (strcmp(argv[i], "--no-threads") == 0) {
                        o.flags |= EXTRACT_NO_THREADS;
                } else if (strcmp(argv[i], "--wipe") == 0) {
                        wipe = true;
                } else {
                        fprintf(stderr, "unknown option %s\n", argv[i]);
                        return 2;
                }
        }
        if (argc - i < 1) {
                fprintf(stderr,
                        "usage: %s [--ignore PATH]... [--no-threads] [--wipe] ROOT "
                        "LAYER...\n",
                        argv[0]);
                return 2;
        }
        int root = open(argv[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root < 0) {
                perror(argv[i]);
                return 1;
        }
        if (wipe && wipe_root(root, ign, NULL, &err) < 0)
                goto fail;
        for (int l = i + 1; l < argc; l++) {
                struct extract_stats st;
                int fd = open(argv[l], O_RDONLY | O_CLOEXEC);
                if (fd < 0) {
                        perror(argv[l]);
                        return 1;
                }
                o.name = argv[l];
                if (extract_layer_fd(root, fd, &o, &st, &err) < 0) {
                        lerr_wrap(&err, "extract layer '%s'", argv[l]);
                        goto fail;
                }
                close(fd);
                printf("%s: entries=%ju files=%ju dirs=%ju symlinks=%ju hardlinks=%ju "
                       "specials=%ju whiteouts=%ju bytes=%ju in_bytes=%ju ignored=%ju "
                       "devices_skipped=%ju owners_skipped=%ju xattrs_skipped=%ju\n",
                       argv[l], (uintmax_t) st.entries, (uintmax_t) st.files, (uintmax_t) st.dirs,
                       (uintmax_t) st.symlinks, (uintmax_t) st.hardlinks, (uintmax_t) st.specials,
                       (uintmax_t) st.whiteouts, (uintmax_t) st.bytes, (uintmax_t) st.in_bytes,
                       (uintmax_t) st.skipped_ignored, (uintmax_t) st.skipped_devices,
                       (uintmax_t) st.skipped_owners, (uintmax_t) st.skipped_xattrs);
        }
        close(root);
        ignore_list_free(ign);
        return 0;
fail:
        fprintf(stderr, "error: %s\n", lerr_message(err));
        lerr_free(err);
        ignore_list_free(ign);
        return 1;
}
