/* SPDX-License-Identifier: Apache-2.0 */
/* The path set: membership, growth, limits, clearing, and the SipHash reference vector. */
#include "snapshot/pathset.h"

#include <errno.h>
#include <stdio.h>

#include "snapshot/pathset-internal.h"
#include "tap.h"

int main(void)
{
        /* the reference vector of the SipHash paper (appendix A): SipHash-2-4, key 00..0f,
         * message 00..0e */
        unsigned char msg[15];
        for (int i = 0; i < 15; i++)
                msg[i] = (unsigned char) i;
        uint64_t k0 = 0x0706050403020100ULL, k1 = 0x0f0e0d0c0b0a0908ULL;
        is_int(pathset_siphash(k0, k1, msg, sizeof(msg), 2, 4) == 0xa129ca6149be45e5ULL, 1,
               "SipHash-2-4 reference vector");

        _cleanup_(pathset_freep) struct pathset *s = pathset_new(1 << 20);
        is_int(pathset_add(s, "a/b", 3), 1, "added");
        is_int(pathset_add(s, "a/b", 3), 0, "already there");
        ok(pathset_contains(s, "a/b", 3), "contains");
        ok(!pathset_contains(s, "a", 1), "a prefix is another path");
        ok(pathset_contains(s, "a/bc", 3), "length is honoured");
        char name[32];
        for (int i = 0; i < 50000; i++) {
                snprintf(name, sizeof(name), "dir/%d", i);
                if (pathset_add(s, name, strlen(name)) != 1)
                        break;
        }
        is_int(pathset_count(s), 50001, "50000 more names, through several growths");
        int all = 1;
        for (int i = 0; i < 50000; i++) {
                snprintf(name, sizeof(name), "dir/%d", i);
                all &= pathset_contains(s, name, strlen(name));
        }
        ok(all, "all found after growth");
        ok(!pathset_contains(s, "dir/50000", 9), "absent name not found");
        pathset_clear(s);
        is_int(pathset_count(s), 0, "cleared");
        ok(!pathset_contains(s, "a/b", 3), "gone after clear");

        _cleanup_(pathset_freep) struct pathset *small = pathset_new(10);
        is_int(pathset_add(small, "12345", 5), 1, "6 bytes fit");
        is_int(pathset_add(small, "1234", 4), -E2BIG, "5 more would take 11 bytes: refused");
        is_int(pathset_add(small, "123", 3), 1, "4 more: exactly 10 bytes");
        return tap_done();
}
