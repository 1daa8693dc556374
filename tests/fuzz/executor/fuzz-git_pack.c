/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the git client's parsers of server data. The first byte picks the entry point:
 * 0: a protocol v2 fetch response (pkt-lines, sections, side band), fed in pieces whose size
 *    the second byte sets, whose packfile is then read as in 1;
 * 1: a packfile: indexed, every object read, and every commit checked out into a scratch
 *    directory (removed afterwards); its trailer checksum is recomputed first, so that
 *    mutations reach the objects rather than stopping at a checksum mismatch;
 * 2: a delta applied to a base (split where the second byte says).
 * Rejecting input is fine; crashing, leaking, undefined behaviour, hanging, or writing outside
 * the scratch directory is not. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fs.h"
#include "executor/git_checkout.h"
#include "executor/git_pack.h"
#include "executor/git_pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct git_pack_limits limits = {
        .max_objects = 4096, .max_object_bytes = 4u << 20, .max_delta_depth = 64};

static void check_out(struct git_pack *p, const unsigned char *id)
{
        char dir[] = "/tmp/fuzz-git-XXXXXX";
        struct lerr *err = NULL;
        if (!mkdtemp(dir))
                return;
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
                struct git_gitlinks links = {0};
                if (git_checkout(p, id, fd, &links, &err) < 0)
                        lerr_free(err);
                git_gitlinks_done(&links);
                close(fd);
        }
        (void) fs_rm_rf_at(AT_FDCWD, dir);
}

static void read_pack(int fd)
{
        struct git_pack *p = NULL;
        struct lerr *err = NULL;
        if (git_pack_open(fd, &limits, &p, &err) < 0) {
                lerr_free(err);
                return;
        }
        for (uint32_t i = 0; i < git_pack_count(p) && i < 256; i++) {
                const unsigned char *id = git_pack_object_id(p, i);
                enum git_obj_type t;
                unsigned char *obj;
                size_t len;
                if (git_pack_read(p, id, GIT_OBJ_NONE, &t, &obj, &len, &err) < 0) {
                        lerr_free(err);
                        err = NULL;
                        continue;
                }
                free(obj);
                if (t == GIT_OBJ_COMMIT)
                        check_out(p, id);
        }
        git_pack_free(p);
}

static int to_fd(void *userdata, const void *p, size_t n)
{
        return fs_write_all(*(int *) userdata, p, n);
}

/* Writes pack with its last 20 bytes replaced by the sha1 of the rest. */
static int write_fixed_pack(int fd, const uint8_t *pack, size_t n)
{
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned len = 0;
        if (n < 20)
                return fs_write_all(fd, pack, n);
        if (EVP_Digest(pack, n - 20, md, &len, EVP_sha1(), NULL) != 1 || len != 20)
                return -EIO;
        int r = fs_write_all(fd, pack, n - 20);
        return r < 0 ? r : fs_write_all(fd, md, 20);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 2 || size > (1u << 20))
                return 0;
        int fd = memfd_create("fuzz-pack", MFD_CLOEXEC);
        if (fd < 0)
                return 0;
        if (data[0] == 0) {
                struct git_fetch_resp *r = git_fetch_resp_new(to_fd, &fd);
                struct lerr *err = NULL;
                size_t step = data[1] ? data[1] : 4096;
                int k = 0;
                for (size_t pos = 2; pos < size && k >= 0; pos += step)
                        k = git_fetch_resp_feed(r, data + pos,
                                                size - pos < step ? size - pos : step, &err);
                if (k >= 0)
                        k = git_fetch_resp_finish(r, &err);
                if (k < 0)
                        lerr_free(err);
                else
                        read_pack(fd);
                git_fetch_resp_free(r);
        } else if (data[0] == 1) {
                if (write_fixed_pack(fd, data + 1, size - 1) >= 0)
                        read_pack(fd);
        } else if (data[0] == 2) {
                size_t split = data[1] < size - 2 ? data[1] : size - 2;
                unsigned char *out = NULL;
                size_t len;
                if (git_delta_apply(data + 2, split, data + 2 + split, size - 2 - split, 1u << 20,
                                    &out, &len) == 0)
                        free(out);
        }
        close(fd);
        return 0;
}
