/* SPDX-License-Identifier: Apache-2.0 */
/* Errors that carry what failed and where: an errno plus one human line built up by each layer.
 *
 * Contract: functions that take `struct lerr **err` fill it on failure and leave it alone on
 * success. Passing err == NULL is allowed: the message is then dropped and only the code kept. */
#pragma once

#include <stdarg.h>
#include "common/macros.h"

struct lerr;

/* Replaces any earlier error in *err. Returns -errnum (errnum > 0). */
int lerr_set(struct lerr **err, int errnum, const char *fmt, ...) PRINTF(3, 4);
/* Like lerr_set, with ": strerror(errnum)" appended. */
int lerr_errno(struct lerr **err, int errnum, const char *fmt, ...) PRINTF(3, 4);
/* Prefixes "fmt: " to the message; keeps the code. If *err is empty, makes one with EIO.
 * Returns the (negative) code. */
int lerr_wrap(struct lerr **err, const char *fmt, ...) PRINTF(2, 3);
/* Sets the process exit status the executor should use for this error (a failing RUN). */
void lerr_set_exit_status(struct lerr *err, int status);
int lerr_exit_status(const struct lerr *err); /* 1 unless set */
int lerr_code(const struct lerr *err);        /* positive errno */
const char *lerr_message(const struct lerr *err);
void lerr_free(struct lerr *err);
DEFINE_FREEP(struct lerr, lerr_free)
