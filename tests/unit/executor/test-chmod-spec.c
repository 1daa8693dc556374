/* SPDX-License-Identifier: Apache-2.0 */
#include "executor/chmod_spec.h"

#include <errno.h>

#include "tap.h"

static void apply_is(const char *spec, mode_t cur, bool dir, intmax_t want)
{
        struct chmod_spec *c = NULL;
        int r = chmod_spec_parse(spec, &c);
        is_int(r == 0 ? (intmax_t) chmod_spec_apply(c, cur, dir) : -1, want, "%s on %04o%s", spec,
               (unsigned) cur, dir ? " (dir)" : "");
        chmod_spec_free(c);
}

int main(void)
{
        struct chmod_spec *c = NULL;
        apply_is("755", 0600, false, 0755);
        apply_is("0644", 0777, true, 0644);
        apply_is("4755", 0, false, 04755);
        apply_is("u+x", 0644, false, 0744);
        apply_is("+x", 0644, false, 0755);
        apply_is("a=r", 0777, false, 0444);
        apply_is("go-w", 0666, false, 0644);
        apply_is("a+X", 0644, false, 0644);
        apply_is("a+X", 0644, true, 0755);
        apply_is("a+X", 0744, false, 0755);
        apply_is("u=rwx,g=rx,o=", 0, false, 0750);
        apply_is("u+s", 0755, false, 04755);
        apply_is("o+t", 0777, true, 01777);
        apply_is("g=u", 0644, false, -1);
        is_int(chmod_spec_parse("", &c), -EINVAL, "empty");
        is_int(chmod_spec_parse("999", &c), -EINVAL, "not octal, not symbolic");
        is_int(chmod_spec_parse("u+q", &c), -EINVAL, "unknown permission letter");
        is_int(chmod_spec_parse("u+x,", &c), -EINVAL, "trailing comma");
        return tap_done();
}
