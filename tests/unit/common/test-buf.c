/* SPDX-License-Identifier: Apache-2.0 */
#include "common/buf.h"

#include <errno.h>
#include <stdlib.h>

#include "tap.h"

int main(void)
{
        struct buf b = BUF_INIT(10);
        is_str(buf_str(&b), "", "empty buffer reads as empty string");
        is_int(buf_append_str(&b, "hello"), 0, "append within limit");
        is_int(buf_printf(&b, "%d", 1234), 0, "printf within limit");
        is_str(b.data, "hello1234", "contents");
        is_int(buf_append_str(&b, "xy"), -E2BIG, "append past limit fails with E2BIG");
        is_str(b.data, "hello1234", "failed append leaves buffer unchanged");
        is_int(buf_append_char(&b, '!'), 0, "append up to exactly the limit");
        is_int(b.len, 10, "length at limit");
        buf_reset(&b);
        is_int(b.len, 0, "reset empties");
        is_int(buf_printf(&b, "%s", "12345678901"), -E2BIG, "printf past limit fails");
        char *s = buf_steal(&b);
        is_str(s, "", "steal of empty buffer gives empty string");
        free(s);
        struct buf big = BUF_INIT(1 << 20);
        for (int i = 0; i < 100000; i++)
                if (buf_append(&big, "abcdefgh", 8) < 0)
                        break;
        is_int(big.len, 800000, "grows across many appends");
        buf_done(&big);
        buf_done(&b);
        return tap_done();
}
