/* SPDX-License-Identifier: Apache-2.0 */
/* Freeing memory that held a secret (a token, a key, a signed request): it is wiped first
 * with OPENSSL_cleanse, which the compiler cannot drop as a dead store, so that secrets do not
 * linger in freed heap pages or a core file. */
#pragma once

#include <cjson/cJSON.h>

#include "common/macros.h"

struct buf;

/* Wipes and frees a string; NULL is fine. */
void secret_free(char *s);
void secret_freep(char **s);
#define _cleanup_secret_ _cleanup_(secret_freep)
/* Wipes every string of a NULL-terminated list, then frees it. */
void secret_strv_freep(char ***l);
/* Wipes the whole allocation of b (not only its length), then buf_done(). */
void secret_buf_done(struct buf *b);
/* Wipes every string value of a JSON tree, then frees it. */
void secret_json_freep(cJSON **j);
