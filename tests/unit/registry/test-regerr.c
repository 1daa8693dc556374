/* SPDX-License-Identifier: Apache-2.0 */
#include "registry/regerr.h"

#include <errno.h>
#include <stdlib.h>

#include "common/alloc.h"
#include "common/macros.h"
#include "tap.h"

static void check(long status, const char *body, const char *want, const char *name)
{
        char *got = regerr_describe(status, body, body ? strlen(body) : 0);
        is_str(got, want, "%s", name);
        free(got);
}

int main(void)
{
        check(404,
              "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\","
              "\"detail\":{\"Tag\":\"x\"}}]}",
              "HTTP 404 Not Found: MANIFEST_UNKNOWN: manifest unknown", "manifest unknown");
        check(401,
              "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\","
              "\"detail\":[{\"Type\":\"repository\"}]}]}\n",
              "HTTP 401 Unauthorized: UNAUTHORIZED: authentication required", "unauthorized");
        check(403,
              "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"requested access to the "
              "resource is denied\"}]}",
              "HTTP 403 Forbidden: DENIED: requested access to the resource is denied", "denied");
        check(404,
              "{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":\"repository name not known "
              "to registry\"},{\"code\":\"BLOB_UNKNOWN\",\"message\":\"blob unknown to "
              "registry\"}]}",
              "HTTP 404 Not Found: NAME_UNKNOWN: repository name not known to registry; "
              "BLOB_UNKNOWN: blob unknown to registry",
              "two errors");
        check(400, "{\"errors\":[{\"code\":\"MANIFEST_INVALID\"}]}",
              "HTTP 400 Bad Request: MANIFEST_INVALID", "code only");
        check(400, "{\"errors\":[{\"message\":\"tag invalid\"}]}",
              "HTTP 400 Bad Request: tag invalid", "message only");
        check(401, "{\"error\":\"invalid_grant\",\"error_description\":\"bad refresh token\"}",
              "HTTP 401 Unauthorized: invalid_grant: bad refresh token", "OAuth2 error");
        check(401, "{\"details\":\"incorrect username or password\"}",
              "HTTP 401 Unauthorized: incorrect username or password", "Docker Hub's details");
        check(502, "upstream connect error\nor disconnect",
              "HTTP 502 Bad Gateway: upstream "
              "connect error",
              "plain text first line");
        check(503, "<html><body>Service Unavailable</body></html>", "HTTP 503 Service Unavailable",
              "HTML is left out");
        check(500, NULL, "HTTP 500 Internal Server Error", "no body");
        check(599, "", "HTTP 599", "unknown status");
        check(418, "{\"errors\":[{\"code\":\"X\",\"message\":\"a\\u001b[31mred\\ttab\"}]}",
              "HTTP 418: X: a?[31mred tab", "control characters neutralised");
        check(404, "{\"errors\":\"nope\"}", "HTTP 404 Not Found", "errors of the wrong type");
        check(404, "{\"errors\":[1,{\"code\":\"A\"}]}", "HTTP 404 Not Found: A",
              "bad entries skipped");
        check(404,
              "{\"errors\":[{\"code\":\"A\"},{\"code\":\"B\"},{\"code\":\"C\"},{\"code\":\"D\"},"
              "{\"code\":\"E\"},{\"code\":\"F\"},{\"code\":\"G\"}]}",
              "HTTP 404 Not Found: A; B; C; D; E; ...", "at most five errors");

        /* a long message is cut */
        char *big = xmalloc(5000);
        memset(big, 'm', 4999);
        big[4999] = '\0';
        char *body = xasprintf("{\"errors\":[{\"code\":\"X\",\"message\":\"%s\"}]}", big);
        char *got = regerr_describe(400, body, strlen(body));
        ok(strlen(got) < 500 && strstr(got, "...") != NULL, "long message cut (%zu bytes)",
           strlen(got));
        free(got);
        free(body);
        free(big);

        is_str(http_status_text(429), "Too Many Requests", "status text");
        is_str(http_status_text(299), "", "no text for unknown statuses");
        is_int(regerr_errno(401), EACCES, "401 is EACCES");
        is_int(regerr_errno(403), EACCES, "403 is EACCES");
        is_int(regerr_errno(404), ENOENT, "404 is ENOENT");
        is_int(regerr_errno(429), EAGAIN, "429 is EAGAIN");
        is_int(regerr_errno(413), E2BIG, "413 is E2BIG");
        is_int(regerr_errno(400), EINVAL, "400 is EINVAL");
        is_int(regerr_errno(503), EIO, "503 is EIO");
        const char *b = "{\"errors\":[{\"code\":\"BLOB_UNKNOWN\"}]}";
        ok(regerr_has_code(b, strlen(b), "BLOB_UNKNOWN"), "has BLOB_UNKNOWN");
        ok(!regerr_has_code(b, strlen(b), "DENIED"), "has no DENIED");
        ok(!regerr_has_code("x", 1, "DENIED"), "not JSON");
        return tap_done();
}
