/* SPDX-License-Identifier: Apache-2.0 */
/* pkt-lines and the protocol v2 fetch response. Only parsing and framing: the HTTP exchange
 * is git_fetch.c's, the packfile itself git_pack.c's. */
#include "executor/git_pkt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"

static int hex_digit(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int git_pkt_parse(const char *p, size_t len, enum git_pkt_kind *ret_kind, const char **ret_data,
                  size_t *ret_len)
{
        size_t n = 0;

        if (len < 4)
                return 0;
        for (int i = 0; i < 4; i++) {
                int d = hex_digit(p[i]);
                if (d < 0)
                        return -EPROTO;
                n = n * 16 + (size_t) d;
        }
        if (n < 4) {
                /* 0003 is reserved and never valid */
                if (n == 3)
                        return -EPROTO;
                *ret_kind = n == 0 ? GIT_PKT_FLUSH : n == 1 ? GIT_PKT_DELIM : GIT_PKT_RESPONSE_END;
                *ret_data = NULL;
                *ret_len = 0;
                return 4;
        }
        if (n > GIT_PKT_MAX)
                return -EPROTO;
        if (len < n)
                return 0;
        *ret_kind = GIT_PKT_DATA;
        *ret_data = p + 4;
        *ret_len = n - 4;
        return (int) n;
}

int git_pkt_printf(struct buf *b, const char *fmt, ...)
{
        char line[GIT_PKT_MAX + 1];
        char head[5];
        va_list ap;

        va_start(ap, fmt);
        int n = vsnprintf(line + 4, sizeof(line) - 4, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t) n + 4 > GIT_PKT_MAX)
                return -E2BIG;
        (void) snprintf(head, sizeof(head), "%04x", (unsigned) n + 4);
        memcpy(line, head, 4);
        return buf_append(b, line, (size_t) n + 4);
}

int git_pkt_special(struct buf *b, enum git_pkt_kind kind)
{
        switch (kind) {
        case GIT_PKT_FLUSH:
                return buf_append(b, "0000", 4);
        case GIT_PKT_DELIM:
                return buf_append(b, "0001", 4);
        case GIT_PKT_RESPONSE_END:
                return buf_append(b, "0002", 4);
        case GIT_PKT_DATA:
                break;
        }
        return -EINVAL;
}

enum resp_state {
        RESP_SECTION, /* the next data packet names a section */
        RESP_BODY,    /* inside a section other than packfile */
        RESP_PACK,    /* inside the packfile section: side-band packets */
        RESP_DONE,    /* the packfile section ended */
        RESP_FAILED,
};

struct git_fetch_resp {
        git_pack_sink_fn sink;
        void *userdata;
        enum resp_state state;
        int error;
        size_t have; /* bytes of a partial pkt-line in pending */
        char pending[GIT_PKT_MAX];
};

struct git_fetch_resp *git_fetch_resp_new(git_pack_sink_fn sink, void *userdata)
{
        struct git_fetch_resp *r = xcalloc(1, sizeof(*r));
        r->sink = sink;
        r->userdata = userdata;
        return r;
}

void git_fetch_resp_free(struct git_fetch_resp *r)
{
        free(r);
}

/* Server text goes into messages: printable ASCII only, and not too long. */
static void clean_text(char *out, size_t size, const char *p, size_t n)
{
        size_t k = 0;
        while (n && (p[n - 1] == '\n' || p[n - 1] == '\r'))
                n--;
        for (size_t i = 0; i < n && k + 1 < size; i++)
                out[k++] = p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '?';
        out[k] = '\0';
}

static int fail(struct git_fetch_resp *r, struct lerr **err, int errnum, const char *what,
                const char *p, size_t n)
{
        char text[256];
        clean_text(text, sizeof(text), p, n);
        r->state = RESP_FAILED;
        r->error = errnum;
        return lerr_set(err, errnum, "%s%s%s", what, *text ? ": " : "", text);
}

static bool is_line(const char *p, size_t n, const char *word)
{
        size_t w = strlen(word);
        return (n == w || (n == w + 1 && p[w] == '\n')) && memcmp(p, word, w) == 0;
}

static int on_packet(struct git_fetch_resp *r, enum git_pkt_kind kind, const char *p, size_t n,
                     struct lerr **err)
{
        if (kind == GIT_PKT_DATA && n >= 4 && memcmp(p, "ERR ", 4) == 0)
                return fail(r, err, EPROTO, "the server reported an error", p + 4, n - 4);
        switch (r->state) {
        case RESP_SECTION:
                if (kind != GIT_PKT_DATA)
                        return fail(r, err, EPROTO, "fetch response: expected a section name", "",
                                    0);
                r->state = is_line(p, n, "packfile") ? RESP_PACK : RESP_BODY;
                return 0;
        case RESP_BODY:
                if (kind == GIT_PKT_DELIM)
                        r->state = RESP_SECTION;
                else if (kind != GIT_PKT_DATA)
                        return fail(r, err, EPROTO, "fetch response ended without a packfile", "",
                                    0);
                return 0;
        case RESP_PACK:
                if (kind == GIT_PKT_FLUSH || kind == GIT_PKT_RESPONSE_END) {
                        r->state = RESP_DONE;
                        return 0;
                }
                if (kind != GIT_PKT_DATA || n < 1)
                        return fail(r, err, EPROTO, "fetch response: malformed side-band packet",
                                    "", 0);
                if (p[0] == 1) {
                        int e = r->sink(r->userdata, p + 1, n - 1);
                        if (e < 0)
                                return fail(r, err, -e, "fetch response: store the packfile", "",
                                            0);
                } else if (p[0] == 3)
                        return fail(r, err, EPROTO, "the server reported an error", p + 1, n - 1);
                else if (p[0] != 2)
                        return fail(r, err, EPROTO, "fetch response: unknown side-band channel", "",
                                    0);
                return 0;
        case RESP_DONE:
                return fail(r, err, EPROTO, "fetch response: data after the packfile", "", 0);
        case RESP_FAILED:
                break;
        }
        return -EPROTO;
}

int git_fetch_resp_feed(struct git_fetch_resp *r, const void *data, size_t n, struct lerr **err)
{
        const char *p = data;

        if (r->state == RESP_FAILED)
                return lerr_set(err, r->error, "fetch response: already failed");
        while (n > 0) {
                /* fill pending up to one whole packet, then parse it from there */
                size_t room = sizeof(r->pending) - r->have;
                size_t take = n < room ? n : room;
                memcpy(r->pending + r->have, p, take);
                r->have += take;
                p += take;
                n -= take;
                size_t off = 0;
                for (;;) {
                        enum git_pkt_kind kind;
                        const char *d;
                        size_t dn;
                        int c = git_pkt_parse(r->pending + off, r->have - off, &kind, &d, &dn);
                        if (c < 0)
                                return fail(r, err, EPROTO, "fetch response: malformed pkt-line",
                                            "", 0);
                        if (c == 0)
                                break;
                        int e = on_packet(r, kind, d, dn, err);
                        if (e < 0)
                                return e;
                        off += (size_t) c;
                }
                memmove(r->pending, r->pending + off, r->have - off);
                r->have -= off;
        }
        return 0;
}

int git_fetch_resp_finish(struct git_fetch_resp *r, struct lerr **err)
{
        if (r->state == RESP_FAILED)
                return lerr_set(err, r->error, "fetch response: already failed");
        if (r->state != RESP_DONE || r->have)
                return lerr_set(err, EPROTO, "fetch response: truncated (no complete packfile)");
        return 0;
}
