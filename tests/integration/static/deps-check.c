/* SPDX-License-Identifier: Apache-2.0 */
/* A probe linked statically against the same musl build of libcurl, OpenSSL, libarchive, zstd
 * and zlib as the static executor (scripts/build-static.sh builds it): it reports what those
 * libraries were built with, fetches an https URL and reads a tar stream, so that
 * test-static.py can check the toolchain end to end. It is not part of lading. */
#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <errno.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <zlib.h>
#include <zstd.h>

static const struct {
        unsigned long bit;
        const char *name;
} curl_features[] = {
        {CURL_VERSION_IPV6, "ipv6"},
        {CURL_VERSION_SSL, "ssl"},
        {CURL_VERSION_LIBZ, "libz"},
        {CURL_VERSION_NTLM, "ntlm"},
        {CURL_VERSION_ASYNCHDNS, "asynchdns"},
        {CURL_VERSION_SPNEGO, "spnego"},
        {CURL_VERSION_LARGEFILE, "largefile"},
        {CURL_VERSION_IDN, "idn"},
        {CURL_VERSION_TLSAUTH_SRP, "tls-srp"},
        {CURL_VERSION_NTLM_WB, "ntlm-wb"},
        {CURL_VERSION_HTTP2, "http2"},
        {CURL_VERSION_GSSAPI, "gssapi"},
        {CURL_VERSION_KERBEROS5, "kerberos5"},
        {CURL_VERSION_UNIX_SOCKETS, "unix-sockets"},
        {CURL_VERSION_PSL, "psl"},
        {CURL_VERSION_HTTPS_PROXY, "https-proxy"},
        {CURL_VERSION_BROTLI, "brotli"},
        {CURL_VERSION_ALTSVC, "alt-svc"},
        {CURL_VERSION_HTTP3, "http3"},
        {CURL_VERSION_ZSTD, "zstd"},
        {CURL_VERSION_HSTS, "hsts"},
};

static const char *or_none(const char *s)
{
        return s ? s : "none";
}

/* One "key value" line per fact; test-static.py compares them with what the recipes ask for. */
static int cmd_features(void)
{
        const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);

        printf("curl %s\n", v->version);
        printf("curl-ssl %s\n", or_none(v->ssl_version));
        printf("curl-libz %s\n", or_none(v->libz_version));
        printf("curl-nghttp2 %s\n", or_none(v->nghttp2_version));
        printf("curl-protocols");
        for (const char *const *p = v->protocols; *p; p++)
                printf(" %s", *p);
        printf("\ncurl-features");
        for (size_t i = 0; i < sizeof(curl_features) / sizeof(curl_features[0]); i++)
                if (v->features & (int) curl_features[i].bit)
                        printf(" %s", curl_features[i].name);
        printf("\nopenssl %s\n", OpenSSL_version(OPENSSL_VERSION));
#ifdef OPENSSL_THREADS
        printf("openssl-threads yes\n");
#else
        printf("openssl-threads no\n");
#endif
        printf("openssl-dir %s\n", OpenSSL_version(OPENSSL_DIR));
        printf("zlib %s\n", zlibVersion());
        printf("zstd %s\n", ZSTD_versionString());
        printf("archive-zlib %s\n", or_none(archive_zlib_version()));
        printf("archive-zstd %s\n", or_none(archive_libzstd_version()));
        printf("archive-lzma %s\n", or_none(archive_liblzma_version()));
        printf("archive-bzlib %s\n", or_none(archive_bzlib_version()));
        printf("archive-lz4 %s\n", or_none(archive_liblz4_version()));
        return 0;
}

struct fetch {
        CURL *curl;
        char tls_version[32];
        size_t body_len;
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *userdata)
{
        struct fetch *f = userdata;
        const struct curl_tlssessioninfo *info = NULL;

        /* The TLS session is only reachable while the connection is open: look now. */
        if (!f->tls_version[0] &&
            curl_easy_getinfo(f->curl, CURLINFO_TLS_SSL_PTR, &info) == CURLE_OK && info &&
            info->backend == CURLSSLBACKEND_OPENSSL && info->internals)
                snprintf(f->tls_version, sizeof(f->tls_version), "%s",
                         SSL_get_version(info->internals));
        f->body_len += size * nmemb;
        return fwrite(p, size, nmemb, stdout);
}

/* GET url over https, trusting only cafile; prints "status N", "tls VERSION", then the body.
 * Exits with libcurl's error code, so the test can tell a verification failure (60). */
static int cmd_get(const char *url, const char *cafile)
{
        char errbuf[CURL_ERROR_SIZE] = "";
        struct fetch f = {.curl = curl_easy_init()};
        long status = 0;
        CURLcode rc;

        if (!f.curl)
                return 1;
        curl_easy_setopt(f.curl, CURLOPT_URL, url);
        curl_easy_setopt(f.curl, CURLOPT_CAINFO, cafile);
        curl_easy_setopt(f.curl, CURLOPT_PROTOCOLS_STR, "https");
        curl_easy_setopt(f.curl, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(f.curl, CURLOPT_TIMEOUT, 20L);
        curl_easy_setopt(f.curl, CURLOPT_NOPROXY, "*");
        curl_easy_setopt(f.curl, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(f.curl, CURLOPT_WRITEDATA, &f);
        printf("body\n");
        rc = curl_easy_perform(f.curl);
        if (rc == CURLE_OK)
                curl_easy_getinfo(f.curl, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(f.curl);
        if (rc != CURLE_OK) {
                fprintf(stderr, "curl: (%d) %s\n", (int) rc, errbuf[0] ? errbuf : "");
                return (int) rc;
        }
        printf("\nstatus %ld\ntls %s\nbytes %zu\n", status, f.tls_version[0] ? f.tls_version : "?",
               f.body_len);
        return 0;
}

static void hex(const unsigned char *p, size_t n)
{
        for (size_t i = 0; i < n; i++)
                printf("%02x", p[i]);
}

/* Lists a tar stream (any compression the build supports): type, path, mode, size, sha256 of
 * the content (OpenSSL EVP, as common/digest.c uses it), link target and xattrs. */
static int print_entry(struct archive *a, struct archive_entry *e)
{
        unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;
        const char *name, *type = "other";
        const void *value;
        size_t size;
        la_ssize_t n;
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();

        if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
                return -1;
        while ((n = archive_read_data(a, buf, sizeof(buf))) > 0)
                EVP_DigestUpdate(ctx, buf, (size_t) n);
        EVP_DigestFinal_ex(ctx, md, &mdlen);
        EVP_MD_CTX_free(ctx);
        if (n < 0)
                return -1;

        /* tar hard links carry no file type of their own */
        switch (archive_entry_hardlink(e) ? AE_IFREG : archive_entry_filetype(e)) {
        case AE_IFREG:
                type = archive_entry_hardlink(e) ? "hardlink" : "file";
                break;
        case AE_IFDIR:
                type = "dir";
                break;
        case AE_IFLNK:
                type = "symlink";
                break;
        default:
                break;
        }
        printf("%s %s %04o %lld ", type, archive_entry_pathname(e),
               (unsigned) archive_entry_perm(e), (long long) archive_entry_size(e));
        hex(md, mdlen);
        if (archive_entry_symlink(e))
                printf(" -> %s", archive_entry_symlink(e));
        if (archive_entry_hardlink(e))
                printf(" => %s", archive_entry_hardlink(e));
        archive_entry_xattr_reset(e);
        while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
                printf(" xattr:%s=", name);
                hex(value, size);
        }
        printf("\n");
        return 0;
}

static int cmd_tar(const char *path)
{
        struct archive *a = archive_read_new();
        struct archive_entry *e;
        int r, ret = 0;

        if (!a)
                return 1;
        archive_read_support_format_tar(a);
        archive_read_support_filter_gzip(a);
        archive_read_support_filter_bzip2(a);
        archive_read_support_filter_xz(a);
        archive_read_support_filter_zstd(a);
        r = archive_read_open_filename(a, path, 65536);
        while (r == ARCHIVE_OK && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK)
                if (print_entry(a, e) < 0)
                        r = ARCHIVE_FATAL;
        if (r != ARCHIVE_EOF) {
                fprintf(stderr, "archive: %s\n", or_none(archive_error_string(a)));
                ret = 1;
        } else {
                printf("filter %s\n", archive_filter_name(a, 0));
        }
        archive_read_free(a);
        return ret;
}

/* musl's getaddrinfo: /etc/hosts, then the nameservers of /etc/resolv.conf; no NSS. */
static int cmd_resolve(const char *name)
{
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
        char addr[INET6_ADDRSTRLEN];
        int r = getaddrinfo(name, NULL, &hints, &res);

        if (r != 0) {
                fprintf(stderr, "resolve '%s': %s\n", name, gai_strerror(r));
                return 1;
        }
        for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
                const void *src =
                        ai->ai_family == AF_INET6
                                ? (const void *) &((struct sockaddr_in6 *) ai->ai_addr)->sin6_addr
                                : (const void *) &((struct sockaddr_in *) ai->ai_addr)->sin_addr;
                if (inet_ntop(ai->ai_family, src, addr, sizeof(addr)))
                        printf("%s\n", addr);
        }
        freeaddrinfo(res);
        return 0;
}

int main(int argc, char **argv)
{
        int ret;

        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return 1;
        if (argc == 2 && strcmp(argv[1], "features") == 0)
                ret = cmd_features();
        else if (argc == 4 && strcmp(argv[1], "get") == 0)
                ret = cmd_get(argv[2], argv[3]);
        else if (argc == 3 && strcmp(argv[1], "tar") == 0)
                ret = cmd_tar(argv[2]);
        else if (argc == 3 && strcmp(argv[1], "resolve") == 0)
                ret = cmd_resolve(argv[2]);
        else {
                fprintf(stderr, "usage: %s features | get URL CAFILE | tar FILE | resolve NAME\n",
                        argv[0]);
                ret = 2;
        }
        curl_global_cleanup();
        return ret;
}
