/* SPDX-License-Identifier: Apache-2.0 */
/* Number, boolean and duration parsers for text from users and the network. Each accepts the
 * whole string or fails with -EINVAL (bad syntax) / -ERANGE (out of range); never atoi. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

int parse_u64(const char *s, uint64_t *ret);      /* decimal */
int parse_i64(const char *s, int64_t *ret);       /* decimal, optional sign */
int parse_uint(const char *s, unsigned *ret);     /* decimal, fits unsigned */
int parse_int(const char *s, int *ret);           /* decimal, fits int */
int parse_octal_mode(const char *s, mode_t *ret); /* 0-07777 */
/* true: 1 t T TRUE true True; false: 0 f F FALSE false False (Go's strconv.ParseBool). */
int parse_bool(const char *s, bool *ret);
/* Go time.ParseDuration: "336h", "1h30m", "1.5s", "300ms", "0"; result in nanoseconds. */
int parse_duration_ns(const char *s, int64_t *ret);
