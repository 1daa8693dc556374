/* SPDX-License-Identifier: Apache-2.0 */
/* What can be checked of wiping without reading freed memory: each helper frees everything
 * (valgrind and ASan run this test), leaves its pointer NULL, and accepts NULL. */
#include "common/secret.h"

#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/strv.h"
#include "tap.h"

int main(void)
{
        char *s = xstrdup("token");
        secret_freep(&s);
        ok(s == NULL, "secret_freep: NULL after");
        secret_freep(&s);
        ok(s == NULL, "secret_freep: NULL is fine");
        secret_free(NULL);

        char **l = NULL;
        strv_push(&l, "AKID");
        strv_push(&l, "Authorization: secret");
        secret_strv_freep(&l);
        ok(l == NULL, "secret_strv_freep: NULL after");
        secret_strv_freep(&l);

        struct buf b = BUF_INIT(1024);
        ok(buf_printf(&b, "%s", "refresh-token") >= 0, "buf filled");
        secret_buf_done(&b);
        ok(b.data == NULL && b.len == 0, "secret_buf_done: empty after");
        secret_buf_done(&b);

        cJSON *j = cJSON_Parse("{\"a\":\"x\",\"b\":[\"y\",{\"c\":\"z\",\"d\":[[\"deep\"]]}],"
                               "\"n\":1}");
        ok(j != NULL, "json parsed");
        secret_json_freep(&j);
        ok(j == NULL, "secret_json_freep: NULL after");
        secret_json_freep(&j);
        cJSON *str = cJSON_CreateString("bare string");
        secret_json_freep(&str);
        ok(str == NULL, "secret_json_freep: a bare string");
        return tap_done();
}
