/* SPDX-License-Identifier: Apache-2.0 */
/* Base64 encoding and strict decoding. Only the standard alphabet: Docker writes "auth" with
 * Go's base64.StdEncoding. */
#include "registry/base64.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "common/alloc.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *base64_encode(const void *p, size_t n)
{
        const unsigned char *in = p;
        char *out = xmalloc((n + 2) / 3 * 4 + 1), *o = out;
        size_t i;

        for (i = 0; i + 2 < n; i += 3) {
                uint32_t v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8 | in[i + 2];
                *o++ = alphabet[v >> 18];
                *o++ = alphabet[(v >> 12) & 63];
                *o++ = alphabet[(v >> 6) & 63];
                *o++ = alphabet[v & 63];
        }
        if (i < n) {
                uint32_t v = (uint32_t) in[i] << 16 | (i + 1 < n ? (uint32_t) in[i + 1] << 8 : 0);
                *o++ = alphabet[v >> 18];
                *o++ = alphabet[(v >> 12) & 63];
                *o++ = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
                *o++ = '=';
        }
        *o = '\0';
        return out;
}

static int value_of(char c)
{
        const char *p = c ? strchr(alphabet, c) : NULL;
        return p ? (int) (p - alphabet) : -1;
}

int base64_decode(const char *s, char **ret, size_t *ret_len)
{
        size_t n = strlen(s);
        while (n > 0 && s[n - 1] == '=' && strlen(s) - n < 2)
                n--;
        if (n % 4 == 1)
                return -EINVAL;
        char *out = xmalloc(n / 4 * 3 + 3), *o = out;
        uint32_t acc = 0;
        int bits = 0;
        for (size_t i = 0; i < n; i++) {
                int v = value_of(s[i]);
                if (v < 0) {
                        free(out);
                        return -EINVAL;
                }
                acc = (acc << 6) | (uint32_t) v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        *o++ = (char) ((acc >> bits) & 0xff);
                }
        }
        /* padding must make the length a multiple of 4 when present */
        if (n != strlen(s) && (strlen(s) % 4) != 0) {
                free(out);
                return -EINVAL;
        }
        *o = '\0';
        *ret_len = (size_t) (o - out);
        *ret = out;
        return 0;
}
