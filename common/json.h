/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers over cJSON for reading untrusted JSON: bounded parse, case-sensitive, typed
 * field access. Missing optional fields are NULL; wrong types are errors. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "common/macros.h"

struct lerr;

DEFINE_FREEP(cJSON, cJSON_Delete)

/* Parses exactly len bytes (len <= max); what names the input in errors ("manifest"). */
int json_parse(const char *data, size_t len, size_t max, const char *what, cJSON **ret,
               struct lerr **err);

/* Field getters: return 0 and set *ret (NULL when absent); -EBADMSG if present with another
 * type (err names the field). Strings are borrowed from the object. */
int json_get_string(const cJSON *obj, const char *key, const char **ret, struct lerr **err);
int json_get_object(const cJSON *obj, const char *key, const cJSON **ret, struct lerr **err);
int json_get_array(const cJSON *obj, const char *key, const cJSON **ret, struct lerr **err);
/* Integer in [0, 2^53]; *present says whether the field existed. */
int json_get_u64(const cJSON *obj, const char *key, uint64_t *ret, bool *present,
                 struct lerr **err);
/* Required string: absent is an error too. */
int json_require_string(const cJSON *obj, const char *key, const char **ret, struct lerr **err);

/* Compact serialisation; caller frees. Aborts on OOM. */
char *json_print(const cJSON *obj);
/* Add helpers that abort on OOM. */
cJSON *json_add_string(cJSON *obj, const char *key, const char *value);
cJSON *json_add_object(cJSON *obj, const char *key);
cJSON *json_add_array(cJSON *obj, const char *key);
cJSON *json_new_object(void);
cJSON *json_new_array(void);
void json_array_add_string(cJSON *arr, const char *value);
