/* SPDX-License-Identifier: Apache-2.0 */
/* ecr_creds.h: host matching, response and error parsing, a SigV4 vector computed with
 * Python's hmac module, and the provider end to end (through creds_lookup()) against a fake
 * ECR endpoint on 127.0.0.1 that AWS_ENDPOINT_URL_ECR points at: the request it receives is
 * checked, and the second lookup must come from the cache. */
#include "executor/ecr_creds.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/macros.h"
#include "common/strv.h"
#include "executor/context_s3.h"
#include "registry/creds.h"
#include "tap.h"

#define ECR_HOST "123456789012.dkr.ecr.eu-central-1.amazonaws.com"

static void host_is(const char *host, int want, const char *region, const char *url)
{
        char *r = NULL, *u = NULL;
        is_int(ecr_host_parse(host, &r, &u), want, "host '%s': match", host);
        is_str(r, region, "host '%s': region", host);
        is_str(u, url, "host '%s': API endpoint", host);
        free(r);
        free(u);
}

static void test_host(void)
{
        host_is("123456789012.dkr.ecr.us-west-2.amazonaws.com", 1, "us-west-2",
                "https://api.ecr.us-west-2.amazonaws.com/");
        host_is("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", 1, "cn-north-1",
                "https://api.ecr.cn-north-1.amazonaws.com.cn/");
        host_is("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", 1, "us-gov-west-1",
                "https://ecr-fips.us-gov-west-1.amazonaws.com/");
        host_is("12345678901.dkr.ecr.us-west-2.amazonaws.com", 0, NULL, NULL);
        host_is("1234567890123.dkr.ecr.us-west-2.amazonaws.com", 0, NULL, NULL);
        host_is("123456789012.dkr.ecr..amazonaws.com", 0, NULL, NULL);
        host_is("123456789012.dkr.ecr.us-west-2.amazonaws.com.evil.example", 0, NULL, NULL);
        host_is("123456789012.dkr.ecr.us-west-2.amazonaws.com:443", 0, NULL, NULL);
        host_is("123456789012.dkr.ecr.us_west.amazonaws.com", 0, NULL, NULL);
        host_is("public.ecr.aws", 0, NULL, NULL);
        host_is("docker.io", 0, NULL, NULL);
}

static void token_is(const char *body, int want, const char *user, const char *password,
                     const char *want_err, const char *what)
{
        char *u = NULL, *p = NULL;
        struct lerr *err = NULL;
        is_int(ecr_token_parse(body, strlen(body), &u, &p, &err), want, "%s: result", what);
        is_str(u, user, "%s: user", what);
        is_str(p, password, "%s: password", what);
        is_str(err ? lerr_message(err) : NULL, want_err, "%s: error", what);
        free(u);
        free(p);
        lerr_free(err);
}

#define TOKEN_OK                                                                                   \
        "{\"authorizationData\":[{\"authorizationToken\":\"QVdTOmV5SndZWGxzYjJGa0lqb2k=\","        \
        "\"expiresAt\":1.7649E9,\"proxyEndpoint\":"                                                \
        "\"https://123456789012.dkr.ecr.us-west-2.amazonaws.com\"}]}"

static void test_token(void)
{
        token_is(TOKEN_OK, 0, "AWS", "eyJwYXlsb2FkIjoi", NULL, "token");
        token_is("{\"authorizationData\":[]}", -EBADMSG, NULL, NULL,
                 "parse ECR GetAuthorizationToken response: no authorizationData", "empty list");
        token_is("{}", -EBADMSG, NULL, NULL,
                 "parse ECR GetAuthorizationToken response: no authorizationData", "no list");
        token_is("{\"authorizationData\":[{}]}", -EBADMSG, NULL, NULL,
                 "parse ECR GetAuthorizationToken response: required field 'authorizationToken' is "
                 "missing",
                 "no token");
        token_is("{\"authorizationData\":[{\"authorizationToken\":\"!!\"}]}", -EBADMSG, NULL, NULL,
                 "parse ECR GetAuthorizationToken response: authorizationToken is not base64",
                 "not base64");
        /* base64 of "AWSpassword" */
        token_is("{\"authorizationData\":[{\"authorizationToken\":\"QVdTcGFzc3dvcmQ=\"}]}",
                 -EBADMSG, NULL, NULL,
                 "parse ECR GetAuthorizationToken response: authorizationToken is not "
                 "USER:PASSWORD",
                 "no colon");
        token_is("[1]", -EBADMSG, NULL, NULL,
                 "parse ECR GetAuthorizationToken response: not a JSON object", "array");
}

static void error_is(const char *body, const char *type, const char *message, const char *what)
{
        char *t = NULL, *m = NULL;
        ecr_error_parse(body, strlen(body), &t, &m);
        is_str(t, type, "%s: type", what);
        is_str(m, message, "%s: message", what);
        free(t);
        free(m);
}

static void test_error(void)
{
        error_is("{\"__type\":\"UnrecognizedClientException\",\"message\":\"The security token "
                 "included in the request is invalid.\"}",
                 "UnrecognizedClientException",
                 "The security token included in the request is invalid.", "plain");
        error_is("{\"__type\":\"com.amazon.coral.service#AccessDeniedException\","
                 "\"Message\":\"User: x is not\\nauthorized\"}",
                 "AccessDeniedException", "User: x is not authorized", "namespaced, Message");
        error_is("<html>", NULL, NULL, "not JSON");
}

static void test_signature(void)
{
        struct s3_credentials c = {.access_key = (char *) "AKIDEXAMPLE",
                                   .secret_key =
                                           (char *) "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};
        char **h = NULL;
        is_int(ecr_request_headers(&c, "api.ecr.us-west-2.amazonaws.com", "/", "us-west-2",
                                   "20261128T123000Z", &h),
               0, "sign");
        is_int(strv_length(h), 4, "four headers");
        is_str(h[0], "Content-Type: application/x-amz-json-1.1", "content type");
        is_str(h[1], "X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken",
               "target");
        is_str(h[2], "X-Amz-Date: 20261128T123000Z", "date");
        /* computed with Python's hashlib and hmac from the SigV4 specification */
        is_str(h[3],
               "Authorization: AWS4-HMAC-SHA256 "
               "Credential=AKIDEXAMPLE/20261128/us-west-2/ecr/aws4_request, "
               "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
               "Signature=d9d4f55ce7f3ef6996b9a0cdd5683ed6ff0dcd2fd39012d52cb06421e7e7c1a0",
               "signature");
        strv_free(h);
        c.session_token = (char *) "FQoGZXIvYXdzEXAMPLE==";
        is_int(ecr_request_headers(&c, "api.ecr.us-west-2.amazonaws.com", "/", "us-west-2",
                                   "20261128T123000Z", &h),
               0, "sign with a session token");
        is_int(strv_length(h), 5, "five headers");
        is_str(h[3], "X-Amz-Security-Token: FQoGZXIvYXdzEXAMPLE==", "session token");
        is_str(h[4],
               "Authorization: AWS4-HMAC-SHA256 "
               "Credential=AKIDEXAMPLE/20261128/us-west-2/ecr/aws4_request, "
               "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, "
               "Signature=f74340d3439a57e2fff3a078efd67ae58c83c05323fe1eb490cc2ca671dbe523",
               "signature with a session token");
        strv_free(h);
}

/* The fake ECR endpoint: answers each connection with the current status and body and keeps
 * the last request. */
static struct {
        pthread_mutex_t lock;
        int fd, requests;
        const char *status, *body;
        char request[8192];
} fake = {.lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1};

static size_t read_request(int c, char *out, size_t max)
{
        size_t n = 0;
        const char *end = NULL;
        while (n + 1 < max) {
                ssize_t k = read(c, out + n, max - 1 - n);
                if (k <= 0)
                        break;
                n += (size_t) k;
                out[n] = '\0';
                if (!end && (end = strstr(out, "\r\n\r\n"))) {
                        const char *cl = strcasestr(out, "\r\nContent-Length: ");
                        size_t want = cl ? strtoul(cl + 18, NULL, 10) : 0;
                        if (n >= (size_t) (end + 4 - out) + want)
                                break;
                        end = NULL;
                }
        }
        out[n] = '\0';
        return n;
}

static void *serve(void *arg)
{
        (void) arg;
        for (;;) {
                int c = accept4(fake.fd, NULL, NULL, SOCK_CLOEXEC);
                if (c < 0)
                        return NULL;
                char req[8192], resp[2048];
                (void) read_request(c, req, sizeof(req));
                (void) pthread_mutex_lock(&fake.lock);
                memcpy(fake.request, req, sizeof(req));
                fake.requests++;
                int n = snprintf(resp, sizeof(resp),
                                 "HTTP/1.1 %s\r\nContent-Type: application/x-amz-json-1.1\r\n"
                                 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                                 fake.status, strlen(fake.body), fake.body);
                (void) pthread_mutex_unlock(&fake.lock);
                (void) !write(c, resp, (size_t) n);
                close(c);
        }
}

static int fake_start(pthread_t *t)
{
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof(a);
        fake.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fake.fd < 0 || bind(fake.fd, (struct sockaddr *) &a, sizeof(a)) < 0 ||
            listen(fake.fd, 8) < 0 || getsockname(fake.fd, (struct sockaddr *) &a, &len) < 0 ||
            pthread_create(t, NULL, serve, NULL) != 0)
                return -1;
        return ntohs(a.sin_port);
}

static void fake_reply(const char *status, const char *body)
{
        (void) pthread_mutex_lock(&fake.lock);
        fake.status = status;
        fake.body = body;
        (void) pthread_mutex_unlock(&fake.lock);
}

/* The header line of the last request that "\r\n" name starts, without the CRLFs. */
static char *request_header(const char *name)
{
        (void) pthread_mutex_lock(&fake.lock);
        const char *p = strcasestr(fake.request, name);
        char *v = p ? xstrndup(p + 2, strcspn(p + 2, "\r\n")) : NULL;
        (void) pthread_mutex_unlock(&fake.lock);
        return v;
}

static void lookup_is(const struct creds_store *s, const char *domain, int want, const char *user,
                      const char *password, const char *source, const char *want_err,
                      const char *what)
{
        struct creds *c = NULL;
        struct lerr *err = NULL;
        is_int(creds_lookup(s, domain, NULL, &c, &err), want, "%s: result", what);
        is_str(c ? c->username : NULL, user, "%s: user", what);
        is_str(c ? c->password : NULL, password, "%s: password", what);
        is_str(c ? c->source : NULL, source, "%s: source", what);
        is_str(err ? lerr_message(err) : NULL, want_err, "%s: error", what);
        creds_free(c);
        lerr_free(err);
}

static void check_request(int port)
{
        _cleanup_free_ char *date = request_header("\r\nX-Amz-Date: ");
        _cleanup_free_ char *auth = request_header("\r\nAuthorization: ");
        _cleanup_free_ char *host = xasprintf("127.0.0.1:%d", port);
        char **h = NULL;
        struct s3_credentials c = {.access_key = (char *) "AKIDECR",
                                   .secret_key = (char *) "SECRETECR"};
        ok(!strncmp(fake.request, "POST / HTTP/1.1\r\n", 17), "request line");
        ok(strstr(fake.request, "\r\nContent-Type: application/x-amz-json-1.1\r\n") != NULL,
           "content type sent");
        ok(strstr(fake.request,
                  "\r\nX-Amz-Target: "
                  "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken\r\n") != NULL,
           "target sent");
        ok(strstr(fake.request, "\r\n\r\n{}") != NULL, "body {}");
        /* the signature a server with the same secret computes for the received date */
        if (!ok(date && strlen(date) == 28, "date sent"))
                return;
        is_int(ecr_request_headers(&c, host, "/", "eu-central-1", date + 12, &h), 0, "re-sign");
        is_str(auth, h[3], "signature of the request");
        strv_free(h);
}

static void test_provider(void)
{
        pthread_t t;
        struct creds_store *s = NULL;
        struct lerr *err = NULL;
        const char *host = ECR_HOST;
        int port = fake_start(&t);
        if (!ok(port > 0, "fake ECR endpoint"))
                return;
        _cleanup_free_ char *endpoint = xasprintf("http://127.0.0.1:%d", port);
        is_int(creds_store_parse("{}", 2, "config.json", &s, &err), 0, "empty config");
        (void) setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
        (void) setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
        (void) setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
        (void) setenv("AWS_ENDPOINT_URL_ECR", endpoint, 1);
        (void) setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1", 1);
        ecr_creds_register();

        lookup_is(s, host, 0, NULL, NULL,
                  "no credentials for '" ECR_HOST "' in config.json (anonymous)", NULL,
                  "no AWS credentials: anonymous");
        is_int(fake.requests, 0, "no request without AWS credentials");

        (void) setenv("AWS_ACCESS_KEY_ID", "AKIDECR", 1);
        (void) setenv("AWS_SECRET_ACCESS_KEY", "SECRETECR", 1);
        fake_reply("400 Bad Request",
                   "{\"__type\":\"UnrecognizedClientException\",\"message\":\"The security "
                   "token included in the request is invalid.\"}");
        _cleanup_free_ char *want_err = xasprintf(
                "get credentials for '%s': ECR GetAuthorizationToken at '%s/': HTTP 400 "
                "UnrecognizedClientException: The security token included in the request is "
                "invalid.",
                host, endpoint);
        lookup_is(s, host, -EACCES, NULL, NULL, NULL, want_err, "ECR error");

        fake_reply("200 OK", TOKEN_OK);
        lookup_is(s, host, 0, "AWS", "eyJwYXlsb2FkIjoi",
                  "credentials for '" ECR_HOST "' from ECR GetAuthorizationToken (AWS "
                  "credentials from environment)",
                  NULL, "token");
        is_int(fake.requests, 2, "two requests");
        check_request(port);
        lookup_is(s, host, 0, "AWS", "eyJwYXlsb2FkIjoi",
                  "credentials for '" ECR_HOST "' from ECR GetAuthorizationToken (AWS "
                  "credentials from environment)",
                  NULL, "cached token");
        is_int(fake.requests, 2, "the cache answers the second lookup");
        lookup_is(s, "registry.example:5000", 0, NULL, NULL,
                  "no credentials for 'registry.example:5000' in config.json (anonymous)", NULL,
                  "not ECR");

        creds_set_provider(NULL);
        ecr_creds_cache_clear();
        creds_store_free(s);
        (void) shutdown(fake.fd, SHUT_RDWR);
        close(fake.fd);
        (void) pthread_join(t, NULL);
}

int main(void)
{
        test_host();
        test_token();
        test_error();
        test_signature();
        test_provider();
        return tap_done();
}
