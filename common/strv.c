/* SPDX-License-Identifier: Apache-2.0 */
/* String vectors. */
#include "common/strv.h"

#include <string.h>

#include "common/alloc.h"

size_t strv_length(char *const *l)
{
        size_t n = 0;
        while (l && l[n])
                n++;
        return n;
}

void strv_consume(char ***l, char *s)
{
        size_t n = strv_length(*l);
        *l = xreallocarray(*l, n + 2, sizeof(char *));
        (*l)[n] = s;
        (*l)[n + 1] = NULL;
}

void strv_push(char ***l, const char *s)
{
        strv_consume(l, xstrdup(s));
}

char **strv_copy(char *const *l)
{
        size_t n = strv_length(l);
        char **c = xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++)
                c[i] = xstrdup(l[i]);
        return c;
}

bool strv_contains(char *const *l, const char *s)
{
        strv_foreach (x, l)
                if (streq(x, s))
                        return true;
        return false;
}

char *strv_join(char *const *l, const char *sep)
{
        size_t n = strv_length(l), total = 1, seplen = strlen(sep);
        for (size_t i = 0; i < n; i++)
                total += strlen(l[i]) + (i ? seplen : 0);
        char *r = xmalloc(total), *p = r;
        for (size_t i = 0; i < n; i++) {
                if (i) {
                        memcpy(p, sep, seplen);
                        p += seplen;
                }
                size_t len = strlen(l[i]);
                memcpy(p, l[i], len);
                p += len;
        }
        *p = '\0';
        return r;
}

void strv_free(char **l)
{
        if (!l)
                return;
        for (size_t i = 0; l[i]; i++)
                free(l[i]);
        free(l);
}
