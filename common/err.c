/* SPDX-License-Identifier: Apache-2.0 */
/* struct lerr: an errno and a message that each layer prefixes with what it was doing.
 * It never prints; only main (or a worker handing its lerr back) does. */
#include "common/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"

struct lerr {
        int errnum;
        int exit_status;
        char *msg;
};

static int lerr_vset(struct lerr **err, int errnum, const char *suffix, const char *fmt, va_list ap)
{
        if (errnum <= 0)
                errnum = EIO;
        if (!err)
                return -errnum;
        _cleanup_free_ char *m = xvasprintf(fmt, ap);
        lerr_free(*err);
        struct lerr *e = xcalloc(1, sizeof(*e));
        e->errnum = errnum;
        e->exit_status = 1;
        e->msg = suffix ? xasprintf("%s: %s", m, suffix) : TAKE_PTR(m);
        *err = e;
        return -errnum;
}

int lerr_set(struct lerr **err, int errnum, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = lerr_vset(err, errnum, NULL, fmt, ap);
        va_end(ap);
        return r;
}

int lerr_errno(struct lerr **err, int errnum, const char *fmt, ...)
{
        va_list ap;
        if (errnum < 0)
                errnum = -errnum;
        va_start(ap, fmt);
        int r = lerr_vset(err, errnum, strerror(errnum ? errnum : EIO), fmt, ap);
        va_end(ap);
        return r;
}

int lerr_wrap(struct lerr **err, const char *fmt, ...)
{
        va_list ap;
        if (!err)
                return -EIO;
        va_start(ap, fmt);
        _cleanup_free_ char *prefix = xvasprintf(fmt, ap);
        va_end(ap);
        if (!*err)
                return lerr_set(err, EIO, "%s: unknown error", prefix);
        char *m = xasprintf("%s: %s", prefix, (*err)->msg);
        free((*err)->msg);
        (*err)->msg = m;
        return -(*err)->errnum;
}

void lerr_set_exit_status(struct lerr *err, int status)
{
        if (err)
                err->exit_status = status;
}

int lerr_exit_status(const struct lerr *err)
{
        return err ? err->exit_status : 1;
}

int lerr_code(const struct lerr *err)
{
        return err ? err->errnum : 0;
}

const char *lerr_message(const struct lerr *err)
{
        return err ? err->msg : "";
}

void lerr_free(struct lerr *err)
{
        if (!err)
                return;
        free(err->msg);
        free(err);
}
