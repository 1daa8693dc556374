/* SPDX-License-Identifier: Apache-2.0 */
/* Bounded, typed access to cJSON trees built from untrusted input. */
#include "common/json.h"

#include <errno.h>
#include <math.h>

#include "common/alloc.h"
#include "common/err.h"

int json_parse(const char *data, size_t len, size_t max, const char *what, cJSON **ret,
               struct lerr **err)
{
        if (len > max)
                return lerr_set(err, E2BIG, "%s is %zu bytes, over the limit of %zu", what, len,
                                max);
        const char *end = NULL;
        cJSON *j = cJSON_ParseWithLengthOpts(data, len, &end, false);
        if (!j) {
                size_t off = end && end >= data ? (size_t) (end - data) : 0;
                return lerr_set(err, EBADMSG, "parse %s: invalid JSON near byte %zu", what, off);
        }
        /* only whitespace may follow the value */
        for (const char *p = end; p && p < data + len; p++)
                if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && *p != '\0') {
                        cJSON_Delete(j);
                        return lerr_set(err, EBADMSG, "parse %s: trailing data at byte %zu", what,
                                        (size_t) (p - data));
                }
        *ret = j;
        return 0;
}

static int get_typed(const cJSON *obj, const char *key, int type, const char *tname,
                     const cJSON **ret, struct lerr **err)
{
        const cJSON *v = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
        if (!v || cJSON_IsNull(v)) {
                *ret = NULL;
                return 0;
        }
        if ((v->type & 0xff) != type)
                return lerr_set(err, EBADMSG, "field '%s' is not %s", key, tname);
        *ret = v;
        return 0;
}

int json_get_string(const cJSON *obj, const char *key, const char **ret, struct lerr **err)
{
        const cJSON *v = NULL;
        int r = get_typed(obj, key, cJSON_String, "a string", &v, err);
        if (r < 0)
                return r;
        *ret = v ? v->valuestring : NULL;
        return 0;
}

int json_require_string(const cJSON *obj, const char *key, const char **ret, struct lerr **err)
{
        int r = json_get_string(obj, key, ret, err);
        if (r < 0)
                return r;
        if (!*ret)
                return lerr_set(err, EBADMSG, "required field '%s' is missing", key);
        return 0;
}

int json_get_object(const cJSON *obj, const char *key, const cJSON **ret, struct lerr **err)
{
        return get_typed(obj, key, cJSON_Object, "an object", ret, err);
}

int json_get_array(const cJSON *obj, const char *key, const cJSON **ret, struct lerr **err)
{
        return get_typed(obj, key, cJSON_Array, "an array", ret, err);
}

int json_get_u64(const cJSON *obj, const char *key, uint64_t *ret, bool *present, struct lerr **err)
{
        const cJSON *v = NULL;
        int r = get_typed(obj, key, cJSON_Number, "a number", &v, err);
        if (r < 0)
                return r;
        if (present)
                *present = v != NULL;
        if (!v)
                return 0;
        double d = v->valuedouble;
        if (!(d >= 0 && d <= 9007199254740992.0) || floor(d) != d)
                return lerr_set(err, EBADMSG, "field '%s' is not a non-negative integer", key);
        *ret = (uint64_t) d;
        return 0;
}

char *json_print(const cJSON *obj)
{
        char *s = cJSON_PrintUnformatted(obj);
        if (!s)
                oom();
        return s;
}

static cJSON *check(cJSON *j)
{
        if (!j)
                oom();
        return j;
}

cJSON *json_add_string(cJSON *obj, const char *key, const char *value)
{
        return check(cJSON_AddStringToObject(obj, key, value));
}

cJSON *json_add_object(cJSON *obj, const char *key)
{
        return check(cJSON_AddObjectToObject(obj, key));
}

cJSON *json_add_array(cJSON *obj, const char *key)
{
        return check(cJSON_AddArrayToObject(obj, key));
}

cJSON *json_new_object(void)
{
        return check(cJSON_CreateObject());
}

cJSON *json_new_array(void)
{
        return check(cJSON_CreateArray());
}

void json_array_add_string(cJSON *arr, const char *value)
{
        if (!cJSON_AddItemToArray(arr, check(cJSON_CreateString(value))))
                oom();
}
