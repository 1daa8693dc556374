/* SPDX-License-Identifier: Apache-2.0 */
/* git's pkt-line framing (gitprotocol-common(5)) and the demultiplexer of a protocol v2 fetch
 * response (gitprotocol-v2(5)): sections, side-band-64k channels. Pure parsing: no I/O, so it
 * is fuzzed. The input is untrusted: a pkt-line is at most GIT_PKT_MAX bytes, a response at
 * most the sink's own limit. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/macros.h"

struct buf;
struct lerr;

#define GIT_PKT_MAX 65520 /* the largest pkt-line, length prefix included */

enum git_pkt_kind {
        GIT_PKT_DATA,
        GIT_PKT_FLUSH,        /* 0000 */
        GIT_PKT_DELIM,        /* 0001 */
        GIT_PKT_RESPONSE_END, /* 0002 */
};

/* Parses the pkt-line at the start of p[0..len). Returns the bytes it takes (> 0), 0 when p
 * holds only part of it, -EPROTO when it is malformed. For a data packet, *ret_data points into
 * p and *ret_len excludes the length prefix (a final "\n" is kept). */
int git_pkt_parse(const char *p, size_t len, enum git_pkt_kind *ret_kind, const char **ret_data,
                  size_t *ret_len);

/* Appends a data packet holding the formatted text (the caller adds any "\n"), or a flush or
 * delim packet. -E2BIG when the text is over the pkt-line limit or b's. */
int git_pkt_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int git_pkt_special(struct buf *b, enum git_pkt_kind kind);

/* Where the packfile bytes of a fetch response go; returns 0 or a negative errno (the
 * response then fails with that code). */
typedef int (*git_pack_sink_fn)(void *userdata, const void *p, size_t n);

/* Parses a protocol v2 fetch response as it arrives, in pieces of any size. */
struct git_fetch_resp;
struct git_fetch_resp *git_fetch_resp_new(git_pack_sink_fn sink, void *userdata);
void git_fetch_resp_free(struct git_fetch_resp *r);
DEFINE_FREEP(struct git_fetch_resp, git_fetch_resp_free)

/* Feeds n more bytes. On failure (malformed, ERR packet, error on side band 3, the sink's
 * error) returns a negative errno with err filled; later calls fail the same way. */
int git_fetch_resp_feed(struct git_fetch_resp *r, const void *p, size_t n, struct lerr **err);
/* After the last byte: fails unless a packfile section ended with a flush packet. */
int git_fetch_resp_finish(struct git_fetch_resp *r, struct lerr **err);
