/* SPDX-License-Identifier: Apache-2.0 */
/* AWS Signature Version 4 (the "Authorization header" form) for requests without a body.
 * It only computes strings; sending the request and reading credentials are context_s3.c's. */
#include "executor/s3_sign.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/macros.h"

#define SHA256_LEN 32

char *s3_uri_encode(const char *s, bool encode_slash)
{
        static const char hex[] = "0123456789ABCDEF";
        size_t n = strlen(s);
        char *out = xmalloc(n * 3 + 1), *o = out;
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                bool keep = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                            (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' ||
                            *p == '~' || (*p == '/' && !encode_slash);
                if (keep) {
                        *o++ = (char) *p;
                } else {
                        *o++ = '%';
                        *o++ = hex[*p >> 4];
                        *o++ = hex[*p & 15];
                }
        }
        *o = '\0';
        return out;
}

static void to_hex(const unsigned char *p, size_t n, char *out)
{
        static const char hex[] = "0123456789abcdef";
        for (size_t i = 0; i < n; i++) {
                out[2 * i] = hex[p[i] >> 4];
                out[2 * i + 1] = hex[p[i] & 15];
        }
        out[2 * n] = '\0';
}

/* OpenSSL fails these only when it cannot allocate */
static int sha256_hex(const char *s, size_t n, char out[2 * SHA256_LEN + 1])
{
        unsigned char md[SHA256_LEN];
        unsigned int len = 0;
        if (EVP_Digest(s, n, md, &len, EVP_sha256(), NULL) != 1 || len != SHA256_LEN)
                return -ENOMEM;
        to_hex(md, SHA256_LEN, out);
        return 0;
}

static int hmac(const unsigned char *key, size_t key_len, const char *msg,
                unsigned char out[SHA256_LEN])
{
        unsigned int len = 0;
        if (!HMAC(EVP_sha256(), key, (int) key_len, (const unsigned char *) msg, strlen(msg), out,
                  &len) ||
            len != SHA256_LEN)
                return -ENOMEM;
        return 0;
}

static int cmp_header(const void *a, const void *b)
{
        return strcmp(((const struct s3_header *) a)->name, ((const struct s3_header *) b)->name);
}

static bool valid_date(const char *d)
{
        if (!d || strlen(d) != 16 || d[8] != 'T' || d[15] != 'Z')
                return false;
        for (int i = 0; i < 15; i++)
                if (i != 8 && (d[i] < '0' || d[i] > '9'))
                        return false;
        return true;
}

static bool valid_input(const struct s3_sign_input *in)
{
        if (!in->method || !in->path || in->path[0] != '/' || !in->payload_hash ||
            !valid_date(in->amz_date) || !in->region || !in->service || !in->access_key ||
            !in->secret_key || in->n_headers > S3_SIGN_MAX_HEADERS ||
            (in->n_headers && !in->headers))
                return false;
        for (size_t i = 0; i < in->n_headers; i++)
                if (!in->headers[i].name || !in->headers[i].value)
                        return false;
        return true;
}

/* Header values are trimmed and inner runs of spaces collapsed (SigV4 "Trimall"). */
static int append_trimmed(struct buf *b, const char *v)
{
        bool space = false, any = false;
        for (; *v; v++) {
                if (*v == ' ' || *v == '\t') {
                        space = any;
                        continue;
                }
                if (space && buf_append_char(b, ' ') < 0)
                        return -E2BIG;
                if (buf_append_char(b, *v) < 0)
                        return -E2BIG;
                space = false;
                any = true;
        }
        return 0;
}

/* The sorted headers and the "a;b;c" list of their names. */
static int sorted_headers(const struct s3_sign_input *in, struct s3_header *sorted,
                          struct buf *names)
{
        if (in->n_headers)
                memcpy(sorted, in->headers, in->n_headers * sizeof(*sorted));
        qsort(sorted, in->n_headers, sizeof(*sorted), cmp_header);
        for (size_t i = 0; i < in->n_headers; i++)
                if (buf_printf(names, "%s%s", i ? ";" : "", sorted[i].name) < 0)
                        return -E2BIG;
        return 0;
}

char *s3_canonical_request(const struct s3_sign_input *in)
{
        struct s3_header sorted[S3_SIGN_MAX_HEADERS];
        _cleanup_(buf_done) struct buf names = BUF_INIT(S3_SIGN_MAX_REQUEST);
        _cleanup_(buf_done) struct buf b = BUF_INIT(S3_SIGN_MAX_REQUEST);
        if (!valid_input(in) || sorted_headers(in, sorted, &names) < 0 ||
            buf_printf(&b, "%s\n%s\n%s\n", in->method, in->path, in->query ? in->query : "") < 0)
                return NULL;
        for (size_t i = 0; i < in->n_headers; i++)
                if (buf_printf(&b, "%s:", sorted[i].name) < 0 ||
                    append_trimmed(&b, sorted[i].value) < 0 || buf_append_char(&b, '\n') < 0)
                        return NULL;
        if (buf_printf(&b, "\n%s\n%s", buf_str(&names), in->payload_hash) < 0)
                return NULL;
        return buf_steal(&b);
}

int s3_sign(const struct s3_sign_input *in, char **ret_value)
{
        struct s3_header sorted[S3_SIGN_MAX_HEADERS];
        _cleanup_(buf_done) struct buf names = BUF_INIT(S3_SIGN_MAX_REQUEST);
        _cleanup_free_ char *creq = s3_canonical_request(in);
        char creq_hash[2 * SHA256_LEN + 1], sig_hex[2 * SHA256_LEN + 1], date[9];
        unsigned char k[SHA256_LEN], t[SHA256_LEN], sig[SHA256_LEN];

        if (!creq || sorted_headers(in, sorted, &names) < 0)
                return -EINVAL;
        int r = sha256_hex(creq, strlen(creq), creq_hash);
        memcpy(date, in->amz_date, 8);
        date[8] = '\0';
        _cleanup_free_ char *scope =
                xasprintf("%s/%s/%s/aws4_request", date, in->region, in->service);
        _cleanup_free_ char *sts =
                xasprintf("AWS4-HMAC-SHA256\n%s\n%s\n%s", in->amz_date, scope, creq_hash);
        _cleanup_free_ char *key0 = xasprintf("AWS4%s", in->secret_key);
        if (r >= 0)
                r = hmac((const unsigned char *) key0, strlen(key0), date, k);
        if (r >= 0)
                r = hmac(k, sizeof(k), in->region, t);
        if (r >= 0)
                r = hmac(t, sizeof(t), in->service, k);
        if (r >= 0)
                r = hmac(k, sizeof(k), "aws4_request", t);
        if (r >= 0)
                r = hmac(t, sizeof(t), sts, sig);
        to_hex(sig, sizeof(sig), sig_hex);
        /* the derived key and the "AWS4<secret>" string are as good as the secret */
        OPENSSL_cleanse(k, sizeof(k));
        OPENSSL_cleanse(t, sizeof(t));
        OPENSSL_cleanse(key0, strlen(key0));
        if (r < 0)
                return r;
        *ret_value = xasprintf("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
                               in->access_key, scope, buf_str(&names), sig_hex);
        return 0;
}
