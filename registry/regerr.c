/* SPDX-License-Identifier: Apache-2.0 */
/* Formatting of registry error responses. Never sees request headers, so never a secret. */
#include "registry/regerr.h"

#include <errno.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/json.h"

const char *http_status_text(long status)
{
        switch (status) {
        case 200:
                return "OK";
        case 201:
                return "Created";
        case 202:
                return "Accepted";
        case 204:
                return "No Content";
        case 206:
                return "Partial Content";
        case 301:
                return "Moved Permanently";
        case 302:
                return "Found";
        case 303:
                return "See Other";
        case 307:
                return "Temporary Redirect";
        case 308:
                return "Permanent Redirect";
        case 400:
                return "Bad Request";
        case 401:
                return "Unauthorized";
        case 403:
                return "Forbidden";
        case 404:
                return "Not Found";
        case 405:
                return "Method Not Allowed";
        case 408:
                return "Request Timeout";
        case 409:
                return "Conflict";
        case 412:
                return "Precondition Failed";
        case 413:
                return "Content Too Large";
        case 415:
                return "Unsupported Media Type";
        case 416:
                return "Range Not Satisfiable";
        case 429:
                return "Too Many Requests";
        case 500:
                return "Internal Server Error";
        case 501:
                return "Not Implemented";
        case 502:
                return "Bad Gateway";
        case 503:
                return "Service Unavailable";
        case 504:
                return "Gateway Timeout";
        default:
                return "";
        }
}

int regerr_errno(long status)
{
        switch (status) {
        case 401:
        case 403:
                return EACCES;
        case 404:
                return ENOENT;
        case 405:
        case 501:
                return EOPNOTSUPP;
        case 408:
        case 504:
                return ETIMEDOUT;
        case 413:
                return E2BIG;
        case 429:
                return EAGAIN;
        default:
                return status >= 400 && status < 500 ? EINVAL : EIO;
        }
}

/* Appends s as printable ASCII, collapsing whitespace, within the text budget. */
static void append_clean(struct buf *b, const char *s, size_t n)
{
        bool space = false;
        for (size_t i = 0; i < n && s[i]; i++) {
                unsigned char c = (unsigned char) s[i];
                if (b->len >= REGERR_TEXT_MAX) {
                        (void) !buf_append_str(b, "...");
                        return;
                }
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                        space = true;
                        continue;
                }
                if (space && b->len > 0 && b->data[b->len - 1] != ' ')
                        (void) !buf_append_char(b, ' ');
                space = false;
                (void) !buf_append_char(b, (c >= 0x20 && c < 0x7f) ? (char) c : '?');
        }
}

static void describe_errors(struct buf *b, const cJSON *errors)
{
        const cJSON *e;
        int n = 0;
        cJSON_ArrayForEach(e, errors)
        {
                const char *code = NULL, *msg = NULL;
                if (!cJSON_IsObject(e) || json_get_string(e, "code", &code, NULL) < 0 ||
                    json_get_string(e, "message", &msg, NULL) < 0)
                        continue;
                if (n++ > 0)
                        (void) !buf_append_str(b, "; ");
                if (n > 5) {
                        (void) !buf_append_str(b, "...");
                        return;
                }
                if (code)
                        append_clean(b, code, 64);
                if (code && msg)
                        (void) !buf_append_str(b, ": ");
                if (msg)
                        append_clean(b, msg, REGERR_TEXT_MAX);
        }
}

static bool describe_json(struct buf *b, const char *body, size_t len)
{
        _cleanup_(cJSON_Deletep) cJSON *j = NULL;
        const cJSON *errors = NULL;
        const char *oerr = NULL, *odesc = NULL, *details = NULL;
        size_t before = b->len;

        if (json_parse(body, len, REGERR_BODY_MAX, "error", &j, NULL) < 0 || !cJSON_IsObject(j))
                return false;
        if (json_get_array(j, "errors", &errors, NULL) == 0 && errors)
                describe_errors(b, errors);
        else if (json_get_string(j, "error", &oerr, NULL) == 0 && oerr) {
                /* OAuth2 token endpoints (RFC 6749 §5.2) */
                append_clean(b, oerr, 64);
                if (json_get_string(j, "error_description", &odesc, NULL) == 0 && odesc) {
                        (void) !buf_append_str(b, ": ");
                        append_clean(b, odesc, REGERR_TEXT_MAX);
                }
        } else if (json_get_string(j, "details", &details, NULL) == 0 && details) {
                append_clean(b, details, REGERR_TEXT_MAX);
        }
        return b->len > before;
}

char *regerr_describe(long status, const char *body, size_t len)
{
        struct buf b = BUF_INIT(REGERR_TEXT_MAX * 4);
        const char *text = http_status_text(status);
        (void) !buf_printf(&b, "HTTP %ld%s%s", status, text[0] ? " " : "", text);
        if (!body || len == 0 || len > REGERR_BODY_MAX)
                return buf_steal(&b);
        struct buf detail = BUF_INIT(REGERR_TEXT_MAX * 2);
        if (!describe_json(&detail, body, len)) {
                buf_reset(&detail);
                /* plain text or HTML from a proxy: the first line, if it looks like words */
                size_t n = strcspn(body, "\n");
                if (n > 0 && body[0] != '<' && body[0] != '{')
                        append_clean(&detail, body, MIN(n, (size_t) 200));
        }
        if (detail.len)
                (void) !buf_printf(&b, ": %s", detail.data);
        buf_done(&detail);
        return buf_steal(&b);
}

int regerr_has_code(const char *body, size_t len, const char *code)
{
        _cleanup_(cJSON_Deletep) cJSON *j = NULL;
        const cJSON *errors = NULL, *e;
        if (!body || len == 0 || json_parse(body, len, REGERR_BODY_MAX, "error", &j, NULL) < 0 ||
            json_get_array(j, "errors", &errors, NULL) < 0 || !errors)
                return 0;
        cJSON_ArrayForEach(e, errors)
        {
                const char *c = NULL;
                if (cJSON_IsObject(e) && json_get_string(e, "code", &c, NULL) == 0 && c &&
                    streq(c, code))
                        return 1;
        }
        return 0;
}
