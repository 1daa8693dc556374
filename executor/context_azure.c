/* SPDX-License-Identifier: Apache-2.0 */
/* The Azure Blob Storage build context (see context_azure.h). */
#include "executor/context_azure.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "common/macros.h"
#include "executor/context_s3.h"
#include "executor/url_fetch.h"
#include "registry/base64.h"

static const char *const blob_suffixes[] = {".blob.core.windows.net", ".blob.core.chinacloudapi.cn",
                                            ".blob.core.usgovcloudapi.net",
                                            ".blob.core.cloudapi.de"};

/* host and path of an http(s) URL (no userinfo, port or query considered part of the host) */
static int split_url(const char *url, char **ret_host, const char **ret_path)
{
        const char *rest = startswith(url, "https://");
        if (!rest)
                rest = startswith(url, "http://");
        if (!rest)
                return -EINVAL;
        size_t n = strcspn(rest, "/?#");
        if (!n || memchr(rest, '@', n))
                return -EINVAL;
        *ret_host = xstrndup(rest, strcspn(rest, ":/?#"));
        *ret_path = rest + n;
        return 0;
}

bool azure_blob_url(const char *url, char **ret_account)
{
        _cleanup_free_ char *host = NULL;
        const char *path;
        if (split_url(url, &host, &path) < 0)
                return false;
        for (char *c = host; *c; c++)
                *c = (char) (*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
        for (size_t i = 0; i < ARRAY_SIZE(blob_suffixes); i++) {
                size_t h = strlen(host), s = strlen(blob_suffixes[i]);
                if (h <= s || !streq(host + h - s, blob_suffixes[i]))
                        continue;
                size_t account = h - s;
                if (memchr(host, '.', account))
                        return false;
                if (ret_account)
                        *ret_account = xstrndup(host, account);
                return true;
        }
        return false;
}

char *azure_string_to_sign(const char *account, const char *path, const char *ms_date)
{
        /* the verb, eleven standard headers (all empty for this GET: x-ms-date replaces Date),
         * the x-ms- headers sorted, then the resource */
        return xasprintf("GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:%s\nx-ms-version:%s\n/%s%s", ms_date,
                         AZURE_API_VERSION, account, *path ? path : "/");
}

int azure_shared_key(const char *account, const char *key_b64, const char *path,
                     const char *ms_date, char **ret)
{
        char *key = NULL;
        size_t key_len = 0;
        if (strlen(key_b64) > AZURE_KEY_MAX || base64_decode(key_b64, &key, &key_len) < 0 ||
            !key_len) {
                free(key);
                return -EINVAL;
        }
        _cleanup_free_ char *sts = azure_string_to_sign(account, path, ms_date);
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int mac_len = 0;
        unsigned char *ok = HMAC(EVP_sha256(), key, (int) key_len, (const unsigned char *) sts,
                                 strlen(sts), mac, &mac_len);
        OPENSSL_cleanse(key, key_len);
        free(key);
        if (!ok)
                return -EINVAL;
        _cleanup_free_ char *sig = base64_encode(mac, mac_len);
        *ret = xasprintf("SharedKey %s:%s", account, sig);
        return 0;
}

void azure_date(time_t t, char out[32])
{
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(out, 32, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static void headers_cleanse_free(char **h)
{
        for (size_t i = 0; h[i]; i++) {
                OPENSSL_cleanse(h[i], strlen(h[i]));
                free(h[i]);
                h[i] = NULL;
        }
}

int context_azure_fetch(const char *url, int out_fd, uint64_t max_bytes, struct lerr **err)
{
        _cleanup_free_ char *account = NULL, *host = NULL;
        _cleanup_(buf_done) struct buf body = BUF_INIT(AZURE_ERROR_MAX_BYTES);
        const char *path = NULL, *key = getenv("AZURE_STORAGE_ACCESS_KEY");
        char *headers[4] = {NULL};
        long status = 0;

        if (!azure_blob_url(url, &account) || split_url(url, &host, &path) < 0)
                return lerr_set(err, EINVAL, "'%s' is not an Azure Blob Storage URL", url);
        const char *blob = *path == '/' ? path + 1 : path;
        if (key && *key && !strchr(path, '?')) {
                char date[32];
                _cleanup_free_ char *auth = NULL;
                azure_date(time(NULL), date);
                if (azure_shared_key(account, key, path, date, &auth) < 0)
                        return lerr_set(err, EINVAL,
                                        "AZURE_STORAGE_ACCESS_KEY is not a base64 account key");
                headers[0] = xasprintf("x-ms-date: %s", date);
                headers[1] = xasprintf("x-ms-version: %s", AZURE_API_VERSION);
                headers[2] = xasprintf("Authorization: %s", auth);
                OPENSSL_cleanse(auth, strlen(auth));
                log_debug("signing the Azure Blob request with the key of account %s", account);
        } else {
                log_info("No AZURE_STORAGE_ACCESS_KEY%s: requesting %s as it is",
                         key && *key ? " used (the URL carries a query)" : "", url);
        }
        log_info("Downloading the build context from Azure Blob Storage account %s", account);
        struct url_fetch_opts fo = {
                .max_bytes = max_bytes,
                .retries = 2,
                .headers = (const char *const *) headers,
                .error_body = &body,
                .error_status = &status,
        };
        struct url_fetch_result res;
        int r = url_fetch(url, out_fd, &fo, &res, err);
        headers_cleanse_free(headers);
        if (r < 0 && status >= 400) {
                _cleanup_free_ char *code = NULL, *message = NULL;
                s3_error_parse(body.data, body.len, &code, &message);
                int errnum = status == 404 ? ENOENT : status == 403 || status == 401 ? EACCES : EIO;
                return lerr_set(err, errnum,
                                "get the build context from Azure Blob Storage account '%s', blob "
                                "'%.*s': HTTP %ld%s%s%s%s",
                                account, (int) strcspn(blob, "?"), blob, status, code ? " " : "",
                                code ? code : "", message ? ": " : "", message ? message : "");
        }
        if (r < 0)
                return lerr_wrap(err, "get the build context '%s'", url);
        return 0;
}
