/* SPDX-License-Identifier: Apache-2.0 */
/* A small git client for build contexts (--context git://...) and ADD of git repositories: it
 * speaks git's smart HTTP protocol version 2 (gitprotocol-http(5), gitprotocol-v2(5)) with
 * libcurl, resolves a ref with ls-refs, fetches one commit with "deepen 1" into a packfile on
 * disk, and checks it out (git_checkout.h). No git binary, no ssh, no git:// protocol (port
 * 9418): Kaniko's git://HOST/PATH contexts are fetched over https. Protocol v0/v1-only
 * servers are refused with a message saying so. Responses are untrusted: the ref listing is
 * capped at GIT_FETCH_MAX_REFS_BYTES, the packfile at GIT_FETCH_MAX_PACK_BYTES (and
 * git_pack.h's limits). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include "executor/git_pack.h"

struct git_gitlinks;
struct lerr;

#define GIT_FETCH_MAX_REFS_BYTES (16u << 20)
#define GIT_FETCH_MAX_PACK_BYTES (UINT64_C(16) << 30)
#define GIT_FETCH_MAX_CAPS_BYTES (1u << 20)

struct git_remote_opts {
        bool allow_http;         /* plain http:// is permitted (else only https://) */
        bool insecure_tls;       /* skip certificate verification */
        const char *ca_file;     /* NULL: the system's */
        const char *username;    /* basic auth, NULL: none (userinfo in the URL also works) */
        const char *password;    /* borrowed; never logged */
        bool recurse_submodules; /* fetch submodules (git_submodule.h), else warn */
        uint64_t max_pack_bytes; /* 0: GIT_FETCH_MAX_PACK_BYTES */
};

/* Where to fetch from and what. */
struct git_source {
        char *url;    /* the repository's http(s) URL, no fragment */
        char *ref;    /* NULL: HEAD; a full or short ref name, or a 40-hex commit id */
        char *commit; /* NULL, or a 40-hex commit id to check out (Kaniko's "#REF#COMMIT") */
};
void git_source_done(struct git_source *s);

/* Kaniko's context form git://HOST/PATH[#REF[#COMMIT]]: fetched from https://HOST/PATH, or
 * http://HOST/PATH when plain_http. -EINVAL with a message when malformed. */
int git_source_from_context(const char *context, bool plain_http, struct git_source *ret,
                            struct lerr **err);
/* Whether ADD treats a source as a git repository (BuildKit's rule: git@..., git://...,
 * ssh://..., or an http(s) URL whose path ends in ".git", optionally followed by #REF). */
bool git_is_add_source(const char *src);
/* BuildKit's ADD form http(s)://HOST/PATH.git[#REF]. git@, ssh:// and git:// fail with
 * ENOTSUP ("only https:// is supported"), #REF:SUBDIR with ENOTSUP. */
int git_source_from_add(const char *src, struct git_source *ret, struct lerr **err);

/* The URL as it may be shown: without userinfo. Caller frees. */
char *git_url_redacted(const char *url);

/* Resolves s's ref (or commit) to a commit id (40 lower-case hex + NUL): a 40-hex ref or a
 * commit is taken as is, without asking the server; otherwise the server's ls-refs answer is
 * searched for HEAD (ref NULL or "HEAD"), a full name (refs/...), or a short name as
 * refs/heads/NAME, then refs/tags/NAME. Annotated tags are peeled. ENOENT: no such ref. */
int git_resolve(const struct git_source *s, const struct git_remote_opts *o,
                char ret_id[GIT_OID_HEXSZ + 1], struct lerr **err);

/* Fetches commit id (shallow, depth 1 when the server can) and writes the packfile into
 * pack_fd (empty, seekable). */
int git_fetch_pack(const char *url, const char *id, const struct git_remote_opts *o, int pack_fd,
                   struct lerr **err);

/* Fetches commit id of url into a temporary file in work_dir (deleted at once), checks the
 * pack and checks the commit out into dest_fd (an empty directory), reporting its submodules
 * as git_checkout() does (ret_links NULL: warnings). Returns the number of entries. */
int git_fetch_checkout(const char *url, const char *id, const struct git_remote_opts *o,
                       const char *work_dir, int dest_fd, struct git_gitlinks *ret_links,
                       struct lerr **err);

/* All of it: resolves s (unless id is already given: non-NULL and non-empty), fetches and
 * checks out the commit into dest_fd (git_fetch_checkout()), then, with
 * o->recurse_submodules, its submodules (git_submodules_clone()). Writes the commit id to
 * ret_id (may be the same buffer as id). Returns the number of entries checked out. */
int git_clone(const struct git_source *s, const char *id, const struct git_remote_opts *o,
              const char *work_dir, int dest_fd, char ret_id[GIT_OID_HEXSZ + 1], struct lerr **err);
