/* SPDX-License-Identifier: Apache-2.0 */
/* WWW-Authenticate parsing (RFC 7235 §4.1): one or more challenges, each a scheme followed by
 * a token68 or by name=value parameters (token or quoted-string values). Also accepts what
 * real registries send that the RFC does not allow: unquoted URLs as values, stray commas.
 *
 * Limits: AUTH_HEADER_MAX bytes per header, AUTH_CHALLENGES_MAX challenges in all,
 * AUTH_PARAMS_MAX parameters per challenge; more is an error (-E2BIG). */
#pragma once

#include <stddef.h>
#include "common/macros.h"

struct lerr;

#define AUTH_HEADER_MAX     16384
#define AUTH_CHALLENGES_MAX 16
#define AUTH_PARAMS_MAX     32

struct auth_param {
        char *name; /* lower case */
        char *value;
};

struct auth_challenge {
        char *scheme;  /* lower case: "bearer", "basic" */
        char *token68; /* NULL unless the challenge carried one */
        struct auth_param *params;
        size_t n_params;
};

struct auth_challenges {
        struct auth_challenge *items;
        size_t n;
};

/* Parses one header value and appends its challenges to *list (a header may be sent several
 * times). On error *list keeps what earlier calls added. -EBADMSG for bad syntax. */
int auth_header_parse(const char *s, size_t len, struct auth_challenges *list, struct lerr **err);
/* The value of a parameter (name matched case-insensitively), or NULL. */
const char *auth_challenge_param(const struct auth_challenge *c, const char *name);
/* The first challenge with this scheme (case-insensitive), or NULL. */
const struct auth_challenge *auth_challenges_find(const struct auth_challenges *list,
                                                  const char *scheme);
void auth_challenges_done(struct auth_challenges *list);
