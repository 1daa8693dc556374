/* SPDX-License-Identifier: Apache-2.0 */
/* sha256 through OpenSSL's EVP interface. */
#include "common/digest.h"

#include <openssl/evp.h>
#include <string.h>

#include "common/alloc.h"

struct digest_ctx {
        EVP_MD_CTX *md;
};

struct digest_ctx *digest_new(void)
{
        struct digest_ctx *d = xcalloc(1, sizeof(*d));
        d->md = EVP_MD_CTX_new();
        if (!d->md || EVP_DigestInit_ex(d->md, EVP_sha256(), NULL) != 1)
                oom();
        return d;
}

void digest_update(struct digest_ctx *d, const void *p, size_t n)
{
        if (n && EVP_DigestUpdate(d->md, p, n) != 1)
                oom();
}

static void format_hex(const unsigned char *md, unsigned len, char out[DIGEST_STRING_SIZE])
{
        static const char hex[] = "0123456789abcdef";
        memcpy(out, "sha256:", 7);
        for (unsigned i = 0; i < len && i < 32; i++) {
                out[7 + 2 * i] = hex[md[i] >> 4];
                out[7 + 2 * i + 1] = hex[md[i] & 15];
        }
        out[DIGEST_STRING_LEN] = '\0';
}

void digest_final(struct digest_ctx *d, char out[DIGEST_STRING_SIZE])
{
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned len = 0;
        if (EVP_DigestFinal_ex(d->md, md, &len) != 1)
                oom();
        format_hex(md, len, out);
}

void digest_peek(const struct digest_ctx *d, char out[DIGEST_STRING_SIZE])
{
        EVP_MD_CTX *copy = EVP_MD_CTX_new();
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned len = 0;
        if (!copy || EVP_MD_CTX_copy_ex(copy, d->md) != 1 ||
            EVP_DigestFinal_ex(copy, md, &len) != 1)
                oom();
        EVP_MD_CTX_free(copy);
        format_hex(md, len, out);
}

void digest_reset(struct digest_ctx *d)
{
        if (EVP_DigestInit_ex(d->md, EVP_sha256(), NULL) != 1)
                oom();
}

void digest_free(struct digest_ctx *d)
{
        if (!d)
                return;
        EVP_MD_CTX_free(d->md);
        free(d);
}

void digest_buffer(const void *p, size_t n, char out[DIGEST_STRING_SIZE])
{
        _cleanup_(digest_freep) struct digest_ctx *d = digest_new();
        digest_update(d, p, n);
        digest_final(d, out);
}

bool digest_is_valid(const char *s)
{
        const char *h = startswith(s, "sha256:");
        if (!h || strlen(h) != DIGEST_SHA256_HEX_LEN)
                return false;
        for (; *h; h++)
                if (!((*h >= '0' && *h <= '9') || (*h >= 'a' && *h <= 'f')))
                        return false;
        return true;
}

/* OCI image-spec descriptor.md: algorithm ":" encoded, with
 * algorithm = [a-z0-9]+ ([+._-] [a-z0-9]+)*, encoded = [a-zA-Z0-9=_-]+ */
bool digest_is_wellformed(const char *s)
{
        const char *colon = strchr(s, ':');
        if (!colon || colon == s || !colon[1])
                return false;
        bool prev_sep = true;
        for (const char *p = s; p < colon; p++) {
                bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9');
                bool sep = *p == '+' || *p == '.' || *p == '_' || *p == '-';
                if (!alnum && !(sep && !prev_sep))
                        return false;
                prev_sep = sep;
        }
        if (prev_sep)
                return false;
        for (const char *p = colon + 1; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '=' || *p == '_' || *p == '-'))
                        return false;
        return strncmp(s, "sha256:", 7) != 0 || digest_is_valid(s);
}

const char *digest_hex(const char *s)
{
        return digest_is_valid(s) ? s + 7 : NULL;
}
