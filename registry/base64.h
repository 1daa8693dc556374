/* SPDX-License-Identifier: Apache-2.0 */
/* Standard base64 (RFC 4648 §4), for HTTP Basic credentials and config.json "auth" fields. */
#pragma once

#include <stddef.h>

/* Returns a new NUL-terminated string. Aborts on OOM only. */
char *base64_encode(const void *p, size_t n);
/* Decodes s (padding optional, no whitespace) into a new NUL-terminated buffer; *ret_len gets
 * the decoded length. -EINVAL on a character outside the alphabet or a bad length. */
int base64_decode(const char *s, char **ret, size_t *ret_len);
