/* SPDX-License-Identifier: Apache-2.0 */
#include "common/err.h"

#include <errno.h>

#include "tap.h"

static int leaf(struct lerr **err)
{
        return lerr_errno(err, ENOSPC, "create '%s'", "usr/bin/x");
}

int main(void)
{
        struct lerr *err = NULL;
        int r = leaf(&err);
        is_int(r, -ENOSPC, "lerr_errno returns -errno");
        r = lerr_wrap(&err, "extract layer %s", "sha256:9f1c");
        r = lerr_wrap(&err, "step %d/%d RUN", 4, 9);
        is_int(r, -ENOSPC, "wrap keeps the code");
        is_str(lerr_message(err),
               "step 4/9 RUN: extract layer sha256:9f1c: create 'usr/bin/x': No space left on "
               "device",
               "each layer prefixes what it was doing");
        is_int(lerr_exit_status(err), 1, "default exit status 1");
        lerr_set_exit_status(err, 42);
        is_int(lerr_exit_status(err), 42, "exit status carried");
        r = lerr_set(&err, EINVAL, "bad flag '%s'", "--x");
        is_str(lerr_message(err), "bad flag '--x'", "set replaces an earlier error");
        is_int(lerr_code(err), EINVAL, "code replaced");
        lerr_free(err);
        err = NULL;
        is_int(lerr_wrap(&err, "nothing"), -EIO, "wrap without an error makes EIO");
        is_str(lerr_message(err), "nothing: unknown error", "and says so");
        lerr_free(err);
        is_int(lerr_set(NULL, EPERM, "x"), -EPERM, "NULL err keeps the code");
        return tap_done();
}
