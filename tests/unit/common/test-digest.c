/* SPDX-License-Identifier: Apache-2.0 */
#include "common/digest.h"

#include "tap.h"

int main(void)
{
        char d[DIGEST_STRING_SIZE];
        digest_buffer("", 0, d);
        is_str(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
               "sha256 of empty input");
        _cleanup_(digest_freep) struct digest_ctx *c = digest_new();
        digest_update(c, "ab", 2);
        char peek[DIGEST_STRING_SIZE];
        digest_peek(c, peek);
        digest_update(c, "c", 1);
        digest_final(c, d);
        is_str(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
               "streamed sha256 of abc");
        is_str(peek, "sha256:fb8e20fc2e4c3f248c60c39bd652f3c1347298bb977b8b4d5903b85055620603",
               "peek gives the digest so far");
        ok(digest_is_valid(d), "valid digest");
        ok(!digest_is_valid(
                   "sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"),
           "upper case hex refused");
        ok(!digest_is_valid("sha256:abc"), "short digest refused");
        ok(digest_is_wellformed("sha512:abc_-="), "other algorithms well-formed");
        ok(!digest_is_wellformed("sha256:abc"), "malformed sha256 refused");
        ok(!digest_is_wellformed(":abc"), "empty algorithm refused");
        ok(!digest_is_wellformed("sha256"), "no colon refused");
        is_str(digest_hex(d), d + 7, "hex part");
        return tap_done();
}
