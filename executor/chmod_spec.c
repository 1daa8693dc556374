/* SPDX-License-Identifier: Apache-2.0 */
/* chmod specifications, octal or symbolic, parsed once and applied per copied entry. */
#include "executor/chmod_spec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/parse.h"

#define MAX_CLAUSES 16

struct clause {
        mode_t who;  /* mask of affected bits (u/g/o/a) */
        char op;     /* + - = */
        mode_t perm; /* r/w/x/s/t bits expressed for all classes, masked by who */
        bool big_x;  /* X */
};

struct chmod_spec {
        bool octal;
        mode_t mode;
        struct clause c[MAX_CLAUSES];
        int n;
};

static int parse_clause(const char *s, const char *end, struct clause *cl)
{
        mode_t who = 0;
        const char *p = s;
        for (; p < end && strchr("ugoa", *p); p++)
                who |= *p == 'u' ? 04700 : *p == 'g' ? 02070 : *p == 'o' ? 01007 : 07777;
        if (p == end || !strchr("+-=", *p))
                return -EINVAL;
        cl->op = *p++;
        cl->who = who ? who : 07777;
        cl->perm = 0;
        cl->big_x = false;
        for (; p < end; p++) {
                switch (*p) {
                case 'r':
                        cl->perm |= 0444;
                        break;
                case 'w':
                        cl->perm |= 0222;
                        break;
                case 'x':
                        cl->perm |= 0111;
                        break;
                case 'X':
                        cl->big_x = true;
                        break;
                case 's':
                        cl->perm |= 06000;
                        break;
                case 't':
                        cl->perm |= 01000;
                        break;
                default:
                        return -EINVAL;
                }
        }
        return 0;
}

int chmod_spec_parse(const char *s, struct chmod_spec **ret)
{
        struct chmod_spec *c = xcalloc(1, sizeof(*c));
        mode_t m;
        if (!s || !*s) {
                free(c);
                return -EINVAL;
        }
        if (parse_octal_mode(s, &m) == 0) {
                c->octal = true;
                c->mode = m;
                *ret = c;
                return 0;
        }
        for (const char *p = s;;) {
                const char *end = strchr(p, ',');
                if (!end)
                        end = p + strlen(p);
                if (c->n == MAX_CLAUSES || parse_clause(p, end, &c->c[c->n]) < 0) {
                        free(c);
                        return -EINVAL;
                }
                c->n++;
                if (!*end)
                        break;
                p = end + 1;
        }
        *ret = c;
        return 0;
}

mode_t chmod_spec_apply(const struct chmod_spec *c, mode_t current, bool is_dir)
{
        if (c->octal)
                return c->mode;
        mode_t m = current & 07777;
        for (int i = 0; i < c->n; i++) {
                const struct clause *cl = &c->c[i];
                mode_t perm = cl->perm;
                if (cl->big_x && (is_dir || (m & 0111)))
                        perm |= 0111;
                perm &= cl->who;
                if (cl->op == '+')
                        m |= perm;
                else if (cl->op == '-')
                        m &= ~perm;
                else
                        m = (m & ~(cl->who & 07777)) | perm;
        }
        return m;
}

bool chmod_spec_is_octal(const struct chmod_spec *c)
{
        return c->octal;
}

void chmod_spec_free(struct chmod_spec *c)
{
        free(c);
}
