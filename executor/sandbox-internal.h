/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers of sandbox.c, visible to its unit tests. */
#pragma once

#include <stdint.h>

struct lerr;

/* Finds the first line "who:start:count" of an /etc/subuid-format text where who is name or
 * the decimal id. 0 and the range on success, -ENOENT when no line matches; malformed lines
 * and empty ranges are skipped. */
int sandbox_find_subid(const char *text, const char *name, uint32_t id, uint32_t *ret_start,
                       uint32_t *ret_count);

/* When not root: unshares a user namespace and maps the caller to root in it, with its
 * subordinate ranges when /etc/subuid and /etc/subgid give some and newuidmap/newgidmap
 * work. *ret_mode is "none" (root: nothing done), "subid" or "single". Call in a
 * single-threaded process. */
int sandbox_userns_enter(const char **ret_mode, struct lerr **err);
