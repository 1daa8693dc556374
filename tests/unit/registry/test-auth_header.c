/* SPDX-License-Identifier: Apache-2.0 */
#include "registry/auth_header.h"

#include <stdlib.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "tap.h"

/* Renders a parse as "scheme[token68]{k=v,k=v};..." for exact comparison. */
static char *render(const char *in)
{
        struct auth_challenges l = {0};
        struct lerr *err = NULL;
        struct buf b = BUF_INIT(65536);
        if (auth_header_parse(in, strlen(in), &l, &err) < 0) {
                (void) !buf_printf(&b, "ERROR: %s", lerr_message(err));
                lerr_free(err);
                auth_challenges_done(&l);
                return buf_steal(&b);
        }
        for (size_t i = 0; i < l.n; i++) {
                const struct auth_challenge *c = &l.items[i];
                (void) !buf_printf(&b, "%s%s", i ? ";" : "", c->scheme);
                if (c->token68)
                        (void) !buf_printf(&b, "[%s]", c->token68);
                (void) !buf_append_str(&b, "{");
                for (size_t k = 0; k < c->n_params; k++)
                        (void) !buf_printf(&b, "%s%s=%s", k ? "," : "", c->params[k].name,
                                           c->params[k].value);
                (void) !buf_append_str(&b, "}");
        }
        auth_challenges_done(&l);
        return buf_steal(&b);
}

static const struct {
        const char *in, *want;
} cases[] = {
        {"Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
         "scope=\"repository:library/busybox:pull\"",
         "bearer{realm=https://auth.docker.io/token,service=registry.docker.io,"
         "scope=repository:library/busybox:pull}"},
        {"Basic realm=\"Registry Realm\"", "basic{realm=Registry Realm}"},
        {"basic", "basic{}"},
        {"BASIC REALM=x", "basic{realm=x}"},
        {"Bearer realm=\"a\", Basic realm=\"b\"", "bearer{realm=a};basic{realm=b}"},
        {"Basic, Bearer realm=x", "basic{};bearer{realm=x}"},
        {"Bearer realm=\"https://a/token\" , service = \"svc\" ,scope=\"x:y:pull,push\"",
         "bearer{realm=https://a/token,service=svc,scope=x:y:pull,push}"},
        {"Bearer realm=https://a.example/token,service=reg",
         "bearer{realm=https://a.example/token,service=reg}"},
        {"Bearer realm=\"q\\\"uo\\\\te\"", "bearer{realm=q\"uo\\te}"},
        {"Bearer realm=\"\"", "bearer{realm=}"},
        {"Negotiate abc==", "negotiate[abc==]{}"},
        {"Negotiate YWJj, Basic realm=r", "negotiate[YWJj]{};basic{realm=r}"},
        {"Bearer realm=\"a\",,, scope=\"s\"", "bearer{realm=a,scope=s}"},
        {"Bearer realm=\"a\", realm=\"b\"", "bearer{realm=a}"},
        {", Bearer realm=x,", "bearer{realm=x}"},
        {"Bearer realm=\"a\",error=\"insufficient_scope\",scope=\"repository:x:pull,push\"",
         "bearer{realm=a,error=insufficient_scope,scope=repository:x:pull,push}"},
        {"  ", ""},
        {"Bearer realm=\"unterminated", "ERROR: parse WWW-Authenticate challenge 'bearer': "
                                        "parameter 'realm': unterminated quoted string"},
        {"Bearer realm=a service=b", "ERROR: parse WWW-Authenticate challenge 'bearer': "
                                     "expected ',' at byte 15"},
        {"=x", "ERROR: parse WWW-Authenticate: expected a scheme at byte 0"},
        {"Bearer\"x\"", "ERROR: parse WWW-Authenticate: unexpected '\"' at byte 6"},
        {"\"Bearer\"", "ERROR: parse WWW-Authenticate: expected a scheme at byte 0"},
};

int main(void)
{
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                _cleanup_free_ char *got = render(cases[i].in);
                is_str(got, cases[i].want, "parse [%s]", cases[i].in);
        }

        /* several headers append to one list; lookups are case-insensitive */
        struct auth_challenges l = {0};
        ok(auth_header_parse("Basic realm=x", 13, &l, NULL) == 0, "first header");
        ok(auth_header_parse("Bearer realm=\"r\",Service=\"s\"", 28, &l, NULL) == 0,
           "second header");
        is_int(l.n, 2, "two challenges");
        const struct auth_challenge *b = auth_challenges_find(&l, "BEARER");
        ok(b != NULL, "find bearer");
        is_str(auth_challenge_param(b, "service"), "s", "param lookup");
        is_str(auth_challenge_param(b, "SERVICE"), "s", "param lookup ignores case");
        ok(auth_challenge_param(b, "scope") == NULL, "absent param");
        ok(auth_challenges_find(&l, "digest") == NULL, "absent scheme");
        auth_challenges_done(&l);

        /* limits */
        struct buf big = BUF_INIT(1 << 20);
        for (int i = 0; i < 20; i++)
                (void) !buf_printf(&big, "%sS%d", i ? ", " : "", i);
        struct lerr *err = NULL;
        is_int(auth_header_parse(big.data, big.len, &l, &err), -E2BIG, "too many challenges");
        is_str(lerr_message(err), "parse WWW-Authenticate: more than 16 challenges",
               "too many challenges message");
        lerr_free(err);
        auth_challenges_done(&l);
        buf_reset(&big);
        (void) !buf_append_str(&big, "Bearer ");
        for (int i = 0; i < 40; i++)
                (void) !buf_printf(&big, "%sp%d=v", i ? "," : "", i);
        err = NULL;
        is_int(auth_header_parse(big.data, big.len, &l, &err), -E2BIG, "too many params");
        lerr_free(err);
        auth_challenges_done(&l);
        buf_reset(&big);
        for (int i = 0; i < 20000; i++)
                (void) !buf_append_char(&big, 'a');
        err = NULL;
        is_int(auth_header_parse(big.data, big.len, &l, &err), -E2BIG, "header too long");
        lerr_free(err);
        buf_done(&big);
        err = NULL;
        is_int(auth_header_parse("Basic\0x", 7, &l, &err), -EBADMSG, "NUL refused");
        lerr_free(err);
        auth_challenges_done(&l);
        return tap_done();
}
