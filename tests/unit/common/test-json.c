/* SPDX-License-Identifier: Apache-2.0 */
#include "common/json.h"

#include <errno.h>
#include <string.h>

#include "common/err.h"
#include "tap.h"

int main(void)
{
        struct lerr *err = NULL;
        cJSON *j = NULL;
        const char *doc = "{\"a\":\"x\",\"A\":\"y\",\"n\":5,\"f\":1.5,\"o\":{},\"l\":[]}  \n";
        is_int(json_parse(doc, strlen(doc), 1024, "doc", &j, &err), 0, "parse");
        const char *s;
        is_int(json_get_string(j, "a", &s, &err), 0, "get a");
        is_str(s, "x", "case-sensitive lookup");
        is_int(json_get_string(j, "missing", &s, &err), 0, "missing is fine");
        ok(s == NULL, "missing is NULL");
        is_int(json_require_string(j, "missing", &s, &err), -EBADMSG, "required missing fails");
        is_str(lerr_message(err), "required field 'missing' is missing", "names the field");
        is_int(json_get_string(j, "n", &s, &err), -EBADMSG, "wrong type");
        is_str(lerr_message(err), "field 'n' is not a string", "says what is wrong");
        uint64_t u;
        bool present;
        is_int(json_get_u64(j, "n", &u, &present, &err), 0, "u64");
        is_int(u, 5, "u64 value");
        is_int(json_get_u64(j, "f", &u, &present, &err), -EBADMSG, "fraction refused");
        const cJSON *o;
        is_int(json_get_object(j, "o", &o, &err), 0, "object");
        is_int(json_get_array(j, "o", &o, &err), -EBADMSG, "object is not array");
        cJSON_Delete(j);
        is_int(json_parse("{} x", 4, 1024, "doc", &j, &err), -EBADMSG, "trailing data refused");
        is_int(json_parse("{\"a\":", 5, 1024, "manifest", &j, &err), -EBADMSG, "truncated");
        ok(strstr(lerr_message(err), "parse manifest: invalid JSON") != NULL, "names the input");
        is_int(json_parse("{}", 2, 1, "config", &j, &err), -E2BIG, "over limit");
        lerr_free(err);
        return tap_done();
}
