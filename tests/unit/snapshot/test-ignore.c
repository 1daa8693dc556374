/* SPDX-License-Identifier: Apache-2.0 */
#include "snapshot/ignore.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/err.h"
#include "tap.h"

int main(void)
{
        struct lerr *err = NULL;
        _cleanup_(ignore_list_freep) struct ignore_list *l = ignore_list_new();
        is_int(ignore_list_add_defaults(l, "/kaniko", true, &err), 0, "defaults");
        ok(ignore_list_match(l, "kaniko"), "kaniko dir");
        ok(ignore_list_match(l, "kaniko/executor"), "child of kaniko dir");
        ok(!ignore_list_match(l, "kanikox"), "sibling with common prefix is not ignored");
        ok(ignore_list_match(l, "proc/self/status"), "proc");
        ok(ignore_list_match(l, "var/run"), "var/run with --ignore-var-run");
        ok(ignore_list_match(l, "etc/mtab"), "etc/mtab");
        ok(!ignore_list_match(l, "etc/passwd"), "etc/passwd is not ignored");
        ok(ignore_list_match(l, "tmp/apt-key-gpghome.Xa1"), "prefix-only entry");
        ok(!ignore_list_match(l, "tmp/x"), "tmp not ignored");
        ok(ignore_list_match_exact(l, "dev"), "exact dev");
        ok(!ignore_list_match_exact(l, "dev/null"), "exact does not check parents");
        ok(ignore_list_has_below(l, "var"), "var holds an ignored path");
        ok(ignore_list_has_below(l, ""), "the root holds ignored paths");
        ok(!ignore_list_has_below(l, "usr"), "usr holds none");

        is_int(ignore_list_add(l, "/data/*/cache", 0, &err), 0, "glob entry");
        ok(ignore_list_match(l, "data/x/cache/f"), "glob matches a component");
        ok(!ignore_list_match(l, "data/x/y/cache"), "glob does not cross slashes");
        ok(ignore_list_has_below(l, "data/x"), "glob entry below data/x");
        is_int(ignore_list_add(l, "/", 0, &err), -EINVAL, "the root cannot be ignored");
        is_int(ignore_list_add(l, "/a/../b", 0, &err), -EINVAL, "dot-dot refused");

        _cleanup_(ignore_list_freep) struct ignore_list *m = ignore_list_new();
        char path[] = "/tmp/lading-mountinfo-XXXXXX";
        int fd = mkstemp(path);
        const char *mi = "22 27 0:21 / /proc rw - proc proc rw\n"
                         "27 1 254:0 / / rw - ext4 /dev/vda rw\n"
                         "40 27 0:30 / /sb/root/etc/hosts rw - ext4 /dev/vda rw\n"
                         "41 27 0:31 / /sb/root/my\\040dir rw - tmpfs tmpfs rw\n"
                         "42 27 0:32 / /sb/rootx/no rw - tmpfs tmpfs rw\n"
                         "43 27 0:33 / /sb/root rw - tmpfs tmpfs rw\n";
        (void) !write(fd, mi, strlen(mi));
        close(fd);
        is_int(ignore_list_add_mounts(m, path, "/sb/root", &err), 0, "mountinfo read");
        is_int(ignore_list_count(m), 2, "two mounts below the root");
        is_str(ignore_list_entry(m, 0), "etc/hosts", "mount point made relative");
        is_str(ignore_list_entry(m, 1), "my dir", "octal escapes decoded");
        _cleanup_(ignore_list_freep) struct ignore_list *all = ignore_list_new();
        is_int(ignore_list_add_mounts(all, path, "/", &err), 0, "mountinfo for /");
        is_int(ignore_list_count(all), 5, "every mount but / itself");
        unlink(path);
        lerr_free(err);
        return tap_done();
}
