/* SPDX-License-Identifier: Apache-2.0 */
/* Allocation wrappers: they print "out of memory" and abort instead of returning NULL. */
#pragma once

#include <stddef.h>
#include <stdarg.h>
#include "common/macros.h"

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t n);
char *xasprintf(const char *fmt, ...) PRINTF(1, 2);
char *xvasprintf(const char *fmt, va_list ap) PRINTF(1, 0);
/* Abort with "out of memory"; for library callbacks that report allocation failure. */
NORETURN void oom(void);
