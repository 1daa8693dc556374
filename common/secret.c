/* SPDX-License-Identifier: Apache-2.0 */
#include "common/secret.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "common/buf.h"
#include "common/strv.h"

void secret_free(char *s)
{
        if (s)
                OPENSSL_cleanse(s, strlen(s));
        free(s);
}

void secret_freep(char **s)
{
        secret_free(*s);
        *s = NULL;
}

void secret_strv_freep(char ***l)
{
        for (size_t i = 0; *l && (*l)[i]; i++)
                OPENSSL_cleanse((*l)[i], strlen((*l)[i]));
        strv_free(*l);
        *l = NULL;
}

void secret_buf_done(struct buf *b)
{
        if (b->data)
                OPENSSL_cleanse(b->data, b->alloc);
        buf_done(b);
}

/* cJSON's parser limits nesting (CJSON_NESTING_LIMIT), which bounds this recursion. */
static void json_cleanse(cJSON *node)
{
        if (cJSON_IsString(node) && node->valuestring)
                OPENSSL_cleanse(node->valuestring, strlen(node->valuestring));
        for (cJSON *c = node->child; c; c = c->next)
                json_cleanse(c);
}

void secret_json_freep(cJSON **j)
{
        if (*j)
                json_cleanse(*j);
        cJSON_Delete(*j);
        *j = NULL;
}
