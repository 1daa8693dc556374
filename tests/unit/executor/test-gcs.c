/* SPDX-License-Identifier: Apache-2.0 */
/* gs:// parsing, object URLs and endpoints, credentials files, the RS256 JWT (verified against
 * the public half of a key made here), token responses and error bodies. */
#include "executor/context_gcs.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/macros.h"
#include "tap.h"

static void url_is(const char *url, int want_r, const char *bucket, const char *object)
{
        char *b = NULL, *o = NULL;
        int r = gcs_parse_url(url, &b, &o);
        is_int(r, want_r, "parse '%s'", url);
        is_str(b, bucket, "parse '%s': bucket", url);
        is_str(o, object, "parse '%s': object", url);
        free(b);
        free(o);
}

static void test_parse_url(void)
{
        url_is("gs://my-bucket/path/to/context.tar.gz", 0, "my-bucket", "path/to/context.tar.gz");
        url_is("gs://my.bucket_1/c.tgz", 0, "my.bucket_1", "c.tgz");
        url_is("gs://bkt", 0, "bkt", "context.tar.gz");
        url_is("gs://bkt/", 0, "bkt", "context.tar.gz");
        url_is("gs://bkt/a b/ü.tar.gz", 0, "bkt", "a b/ü.tar.gz");
        url_is("gs:///obj", -EINVAL, NULL, NULL);
        url_is("gs://", -EINVAL, NULL, NULL);
        url_is("gs://Upper/obj", -EINVAL, NULL, NULL);
        url_is("gs://a?b/obj", -EINVAL, NULL, NULL);
        url_is("s3://bkt/obj", -EINVAL, NULL, NULL);
}

static void test_object_url(void)
{
        char *u =
                gcs_object_url("https://storage.googleapis.com", "bkt", "dir/sub dir/c+x~.tar.gz");
        is_str(u,
               "https://storage.googleapis.com/storage/v1/b/bkt/o/"
               "dir%2Fsub%20dir%2Fc%2Bx~.tar.gz?alt=media",
               "object URL: '/', ' ' and '+' encoded, '~' kept");
        free(u);
        u = gcs_object_url("http://127.0.0.1:9", "b.k_t-1", "\xc3\xbc?#&=%");
        is_str(u, "http://127.0.0.1:9/storage/v1/b/b.k_t-1/o/%C3%BC%3F%23%26%3D%25?alt=media",
               "object URL: UTF-8 and reserved characters");
        free(u);
}

static void base_is(const char *setting, int want_r, const char *want)
{
        char *b = NULL;
        is_int(gcs_endpoint_base(setting, &b), want_r, "endpoint '%s'", setting);
        is_str(b, want, "endpoint '%s': base", setting);
        free(b);
}

static void test_endpoint(void)
{
        base_is("localhost:4443", 0, "http://localhost:4443");
        base_is("http://127.0.0.1:8080/", 0, "http://127.0.0.1:8080");
        base_is("https://gcs.example//", 0, "https://gcs.example");
        base_is("https://gcs.example/prefix/", 0, "https://gcs.example/prefix");
        base_is("ftp://x", -EINVAL, NULL);
        base_is("http://user@host", -EINVAL, NULL);
        base_is("http://host/?q", -EINVAL, NULL);
        base_is("http:///x", -EINVAL, NULL);
}

static void test_base64url(void)
{
        char *s = gcs_base64url("\xfb\xff\xfe", 3);
        is_str(s, "-__-", "base64url: '+' and '/' replaced");
        free(s);
        s = gcs_base64url("ab", 2);
        is_str(s, "YWI", "base64url: no padding");
        free(s);
        s = gcs_base64url("", 0);
        is_str(s, "", "base64url: empty");
        free(s);
}

static void cred_err(const char *json, const char *want)
{
        struct gcs_credentials c = {0};
        struct lerr *err = NULL;
        int r = gcs_credentials_parse(json, strlen(json), &c, &err);
        ok(r < 0, "credentials %s: refused", want);
        is_str(err ? lerr_message(err) : NULL, want, "credentials: message");
        lerr_free(err);
        gcs_credentials_done(&c);
}

static void test_credentials(void)
{
        static const char sa[] =
                "{\"type\":\"service_account\",\"client_email\":\"b@p.iam.gserviceaccount.com\","
                "\"private_key\":\"-----BEGIN PRIVATE KEY-----\\nAAA\\n-----END PRIVATE "
                "KEY-----\\n\",\"token_uri\":\"http://127.0.0.1:1/token\"}";
        struct gcs_credentials c = {0};
        struct lerr *err = NULL;
        is_int(gcs_credentials_parse(sa, strlen(sa), &c, &err), 0, "service account parsed");
        is_int(c.type, GCS_CRED_SERVICE_ACCOUNT, "service account: type");
        is_str(c.client_email, "b@p.iam.gserviceaccount.com", "service account: client_email");
        is_str(c.private_key, "-----BEGIN PRIVATE KEY-----\nAAA\n-----END PRIVATE KEY-----\n",
               "service account: private_key unescaped");
        is_str(c.token_uri, "http://127.0.0.1:1/token", "service account: token_uri");
        gcs_credentials_done(&c);
        ok(!c.private_key && !c.client_email && !c.token_uri, "done clears the fields");

        static const char au[] = "{\"type\":\"authorized_user\",\"client_id\":\"id\","
                                 "\"client_secret\":\"s\",\"refresh_token\":\"r\"}";
        is_int(gcs_credentials_parse(au, strlen(au), &c, &err), 0, "authorized user parsed");
        is_int(c.type, GCS_CRED_AUTHORIZED_USER, "authorized user: type");
        is_str(c.refresh_token, "r", "authorized user: refresh_token");
        is_str(c.token_uri, GCS_DEFAULT_TOKEN_URI, "authorized user: default token_uri");
        gcs_credentials_done(&c);

        cred_err("{\"type\":\"external_account\"}",
                 "credentials of type 'external_account' are not supported (use "
                 "service_account or authorized_user)");
        cred_err("{\"type\":\"service_account\",\"client_email\":\"x\"}",
                 "required field 'private_key' is missing");
        cred_err("{\"type\":\"authorized_user\",\"client_id\":1}",
                 "field 'client_id' is not a string");
        cred_err("{}", "required field 'type' is missing");
        cred_err("[1", "parse credentials file: invalid JSON near byte 1");
}

static EVP_PKEY *make_key(char **ret_pem)
{
        EVP_PKEY *key = EVP_RSA_gen(2048);
        BIO *bio = BIO_new(BIO_s_mem());
        char *p = NULL;
        if (!key || !bio || PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1)
                abort();
        long n = BIO_get_mem_data(bio, &p);
        *ret_pem = strndup(p, (size_t) n);
        BIO_free(bio);
        return key;
}

/* base64url back to bytes, for the checks only */
static unsigned char *unb64url(const char *s, size_t n, size_t *ret_len)
{
        char *t = calloc(1, n + 4);
        unsigned char *out = calloc(1, n + 4);
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
                t[m++] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
        while (m % 4)
                t[m++] = '=';
        int len = EVP_DecodeBlock(out, (unsigned char *) t, (int) m);
        size_t pad = n % 4 ? 4 - n % 4 : 0;
        free(t);
        *ret_len = len < 0 ? 0 : (size_t) len - pad;
        return out;
}

static void test_jwt(void)
{
        char *pem = NULL;
        EVP_PKEY *key = make_key(&pem);
        struct gcs_credentials c = {.type = GCS_CRED_SERVICE_ACCOUNT,
                                    .client_email = strdup("builder@proj.iam.gserviceaccount.com"),
                                    .private_key = pem,
                                    .token_uri = strdup("https://oauth2.googleapis.com/token")};
        char *jwt = NULL;
        struct lerr *err = NULL;
        is_int(gcs_jwt_build(&c, 1700000000, &jwt, &err), 0, "JWT built");
        const char *d1 = jwt ? strchr(jwt, '.') : NULL;
        const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
        ok(d1 && d2 && !strchr(d2 + 1, '.') && !strchr(jwt, '='), "JWT: three parts, no padding");
        if (d1 && d2) {
                size_t n = 0;
                unsigned char *h = unb64url(jwt, (size_t) (d1 - jwt), &n);
                is_str((char *) h, "{\"alg\":\"RS256\",\"typ\":\"JWT\"}", "JWT: header");
                free(h);
                unsigned char *cl = unb64url(d1 + 1, (size_t) (d2 - d1 - 1), &n);
                is_str((char *) cl,
                       "{\"iss\":\"builder@proj.iam.gserviceaccount.com\","
                       "\"scope\":\"https://www.googleapis.com/auth/devstorage.read_only\","
                       "\"aud\":\"https://oauth2.googleapis.com/token\","
                       "\"iat\":1700000000,\"exp\":1700003600}",
                       "JWT: claims");
                free(cl);
                size_t sig_len = 0;
                unsigned char *sig = unb64url(d2 + 1, strlen(d2 + 1), &sig_len);
                is_int(sig_len, 256, "JWT: RS256 signature of a 2048-bit key");
                EVP_MD_CTX *md = EVP_MD_CTX_new();
                int v = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1
                                ? EVP_DigestVerify(md, sig, sig_len, (const unsigned char *) jwt,
                                                   (size_t) (d2 - jwt))
                                : -1;
                is_int(v, 1, "JWT: signature verifies with the public key");
                sig[0] ^= 1;
                EVP_MD_CTX_reset(md);
                v = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1
                            ? EVP_DigestVerify(md, sig, sig_len, (const unsigned char *) jwt,
                                               (size_t) (d2 - jwt))
                            : -1;
                is_int(v, 0, "JWT: a changed signature does not verify");
                EVP_MD_CTX_free(md);
                free(sig);
        }
        free(jwt);
        jwt = NULL;
        free(c.private_key);
        c.private_key =
                strdup("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n");
        is_int(gcs_jwt_build(&c, 1700000000, &jwt, &err), -EINVAL, "JWT: bad key refused");
        is_str(err ? lerr_message(err) : NULL,
               "sign a token request for service account "
               "'builder@proj.iam.gserviceaccount.com': private_key is not a PEM RSA private key",
               "JWT: bad key message");
        ok(jwt == NULL, "JWT: nothing returned on failure");
        lerr_free(err);
        gcs_credentials_done(&c);
        EVP_PKEY_free(key);
}

static void token_is(const char *json, int want_r, const char *want, const char *want_err)
{
        char *t = NULL;
        struct lerr *err = NULL;
        is_int(gcs_token_parse(json, strlen(json), &t, &err), want_r, "token from %s", json);
        is_str(t, want, "token value");
        is_str(err ? lerr_message(err) : NULL, want_err, "token error");
        free(t);
        lerr_free(err);
}

static void test_token(void)
{
        token_is("{\"access_token\":\"ya29.abc\",\"expires_in\":3599,\"token_type\":\"Bearer\"}", 0,
                 "ya29.abc", NULL);
        token_is("{\"access_token\":\"t\"}", 0, "t", NULL);
        token_is("{\"token_type\":\"Bearer\"}", -EBADMSG, NULL,
                 "required field 'access_token' is missing");
        token_is("{\"access_token\":\"\"}", -EBADMSG, NULL, "token response: empty access_token");
        token_is("{\"access_token\":\"t\",\"token_type\":\"MAC\"}", -EPROTO, NULL,
                 "token response: token_type 'MAC' is not Bearer");
        token_is("{\"access_token\":\"a\\r\\nX: y\"}", -EBADMSG, NULL,
                 "token response: access_token has a line break");
        token_is("nope", -EBADMSG, NULL, "parse token response: invalid JSON near byte 0");
}

static void msg_is(const char *body, const char *want)
{
        char *m = gcs_error_message(body, body ? strlen(body) : 0);
        is_str(m, want, "error message of %s", body ? body : "(null)");
        free(m);
}

static void test_error_message(void)
{
        msg_is("{\"error\":{\"code\":403,\"message\":\"b@p.iam does not have "
               "storage.objects.get access\",\"errors\":[]}}",
               "b@p.iam does not have storage.objects.get access");
        msg_is("{\"error\":\"invalid_grant\",\"error_description\":\"Invalid JWT Signature.\"}",
               "invalid_grant: Invalid JWT Signature.");
        msg_is("{\"error\":\"invalid_grant\"}", "invalid_grant");
        msg_is("{\"error\":{\"message\":\"line1\\nline2\\u0007\"}}", "line1 line2 ");
        msg_is("No such object: b/o", NULL);
        msg_is("{\"error\":{\"code\":404}}", NULL);
        msg_is(NULL, NULL);
        char big[2 * GCS_ERROR_FIELD_MAX + 40];
        int n = snprintf(big, sizeof(big), "{\"error\":{\"message\":\"");
        memset(big + n, 'x', 2 * GCS_ERROR_FIELD_MAX);
        snprintf(big + n + 2 * GCS_ERROR_FIELD_MAX, 10, "\"}}");
        char *m = gcs_error_message(big, strlen(big));
        is_int(m ? strlen(m) : 0, GCS_ERROR_FIELD_MAX, "error message cut at its limit");
        free(m);
}

int main(void)
{
        test_parse_url();
        test_object_url();
        test_endpoint();
        test_base64url();
        test_credentials();
        test_jwt();
        test_token();
        test_error_message();
        return tap_done();
}
