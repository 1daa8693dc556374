/* SPDX-License-Identifier: Apache-2.0 */
/* When and how long to wait before retrying a registry request: connection-level failures,
 * 408, 429 and 5xx (but 501) are retried with exponential backoff and jitter; a Retry-After
 * header (seconds or an HTTP date) is honoured, up to RETRY_AFTER_MAX_MS. Pure functions, so
 * that the numbers are tested without sleeping. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define RETRY_MAX_DELAY_MS 30000 /* longest computed backoff */
#define RETRY_AFTER_MAX_MS 60000 /* longest Retry-After we wait for */

bool retry_status_is_retryable(long status);
/* curl_code is a CURLcode; true for failures a new connection may cure (refused, reset,
 * timed out, closed early, HTTP/2 stream errors), false for certificates, bad URLs, aborted
 * writes, too many redirects. */
bool retry_curl_is_retryable(int curl_code);
/* Parses Retry-After: delta-seconds or an IMF-fixdate (RFC 9110 §10.2.3) relative to now.
 * A date in the past is 0; more than RETRY_AFTER_MAX_MS is that. Returns 0 and *ret_ms, or
 * -EINVAL. */
int retry_after_parse(const char *value, time_t now, long *ret_ms);
/* The wait before retry number attempt (0 for the first retry): base_ms * 2^attempt, capped
 * at RETRY_MAX_DELAY_MS, then scaled by a jitter factor in [0.8, 1.2] drawn from rnd. With
 * retry_after_ms >= 0 the wait is that (capped at RETRY_AFTER_MAX_MS) plus up to 10 % jitter,
 * never less than what the server asked for. */
long retry_delay_ms(unsigned attempt, unsigned base_ms, long retry_after_ms, uint32_t rnd);
/* A random 32-bit number for jitter (not for secrets). */
uint32_t retry_random(void);
