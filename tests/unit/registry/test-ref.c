/* SPDX-License-Identifier: Apache-2.0 */
#include "registry/ref.h"

#include <stdlib.h>

#include "common/alloc.h"
#include "common/err.h"
#include "tap.h"

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define D   "sha256:" H64

struct ok_case {
        const char *in;
        const char *domain, *path, *tag, *digest;
};

static const struct ok_case oks[] = {
        {"busybox", "docker.io", "library/busybox", "latest", NULL},
        {"busybox:1.36", "docker.io", "library/busybox", "1.36", NULL},
        {"library/busybox", "docker.io", "library/busybox", "latest", NULL},
        {"docker.io/busybox", "docker.io", "library/busybox", "latest", NULL},
        {"docker.io/library/busybox", "docker.io", "library/busybox", "latest", NULL},
        {"index.docker.io/busybox", "docker.io", "library/busybox", "latest", NULL},
        {"registry-1.docker.io/library/alpine:3", "docker.io", "library/alpine", "3", NULL},
        {"Index.Docker.IO/x/y", "docker.io", "x/y", "latest", NULL},
        {"user/app", "docker.io", "user/app", "latest", NULL},
        {"user/app:v1.2.3", "docker.io", "user/app", "v1.2.3", NULL},
        {"gcr.io/project/app", "gcr.io", "project/app", "latest", NULL},
        {"gcr.io/app", "gcr.io", "app", "latest", NULL},
        {"localhost/app", "localhost", "app", "latest", NULL},
        {"localhost:5000/app", "localhost:5000", "app", "latest", NULL},
        {"localhost:5000/a/b/c:tag", "localhost:5000", "a/b/c", "tag", NULL},
        {"127.0.0.1:5000/app", "127.0.0.1:5000", "app", "latest", NULL},
        {"10.1.2.3/ns/app:1", "10.1.2.3", "ns/app", "1", NULL},
        {"[::1]:5000/app", "[::1]:5000", "app", "latest", NULL},
        {"[fe80::1]/app:x", "[fe80::1]", "app", "x", NULL},
        {"[2001:DB8::1]:443/a", "[2001:DB8::1]:443", "a", "latest", NULL},
        {"myhost:443/app", "myhost:443", "app", "latest", NULL},
        {"My.Registry.com/app", "My.Registry.com", "app", "latest", NULL},
        {"Foo/bar", "Foo", "bar", "latest", NULL},
        {"a-b.example.com/x", "a-b.example.com", "x", "latest", NULL},
        {"busybox@" D, "docker.io", "library/busybox", NULL, D},
        {"busybox:1@" D, "docker.io", "library/busybox", "1", D},
        {"host:5000/app:t@" D, "host:5000", "app", "t", D},
        {"host:5000/app@" D, "host:5000", "app", NULL, D},
        {"a/b@sha512:" H64 H64, "docker.io", "a/b", NULL, "sha512:" H64 H64},
        {"a/b@sha384:" H64 "0123456789abcdef0123456789abcdef", "docker.io", "a/b", NULL,
         "sha384:" H64 "0123456789abcdef0123456789abcdef"},
        {"a_b/c__d/e-f/g--h/i.j", "docker.io", "a_b/c__d/e-f/g--h/i.j", "latest", NULL},
        {"app:_tag", "docker.io", "library/app", "_tag", NULL},
        {"app:Tag.With-Mixed_Case", "docker.io", "library/app", "Tag.With-Mixed_Case", NULL},
        {"localhost:5000", "docker.io", "library/localhost", "5000", NULL},
        {"0abcdef", "docker.io", "library/0abcdef", "latest", NULL},
        {"x.io/a/b/c/d/e/f", "x.io", "a/b/c/d/e/f", "latest", NULL},
        {"x:1/y", "x:1", "y", "latest", NULL},
        {"x:65535/y", "x:65535", "y", "latest", NULL},
        {"DOCKER.IO/x/y:1", "docker.io", "x/y", "1", NULL},
        {"example.com:5000/team/app@sha256:" H64, "example.com:5000", "team/app", NULL, D},
};

struct err_case {
        const char *in;
        const char *msg;
};

static const struct err_case errs[] = {
        {"", "invalid reference: empty"},
        {"Busybox", "invalid reference 'Busybox': repository name must be lowercase"},
        {"docker.io/Library/busybox",
         "invalid reference 'docker.io/Library/busybox': repository name must be lowercase"},
        {"busybox:", "invalid reference 'busybox:': invalid tag"},
        {"busybox:-x", "invalid reference 'busybox:-x': invalid tag"},
        {"busybox:a+b", "invalid reference 'busybox:a+b': invalid tag"},
        {"busybox:a:b", "invalid reference 'busybox:a:b': invalid repository path"},
        {"busybox@sha256:abc", "invalid reference 'busybox@sha256:abc': invalid digest"},
        {"busybox@sha256:" H64 "00",
         "invalid reference 'busybox@sha256:" H64 "00': invalid digest length"},
        {"busybox@sha256:"
         "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
         "invalid reference 'busybox@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef"
         "0123456789abcdef': digest must be lowercase hex"},
        {"busybox@md5:0123456789abcdef0123456789abcdef",
         "invalid reference 'busybox@md5:0123456789abcdef0123456789abcdef': unsupported digest "
         "algorithm"},
        {"busybox@" D "@" D, "invalid reference 'busybox@" D "@" D "': invalid digest"},
        {"busybox@", "invalid reference 'busybox@': invalid digest"},
        {"busy box", "invalid reference 'busy box': contains a space or a non-ASCII character"},
        {"busybox\x01", "invalid reference 'busybox?': contains a space or a non-ASCII character"},
        {"a//b", "invalid reference 'a//b': invalid repository path"},
        {"a/b/", "invalid reference 'a/b/': invalid repository path"},
        {"/a", "invalid reference '/a': invalid repository path"},
        {"-a", "invalid reference '-a': invalid repository path"},
        {"a-", "invalid reference 'a-': invalid repository path"},
        {"a___b", "invalid reference 'a___b': invalid repository path"},
        {"a..b", "invalid reference 'a..b': invalid repository path"},
        {"a._b", "invalid reference 'a._b': invalid repository path"},
        {"host:5000/", "invalid reference 'host:5000/': repository path is empty"},
        {"host:5000/:tag", "invalid reference 'host:5000/:tag': repository path is empty"},
        {"host:0/a", "invalid reference 'host:0/a': invalid port"},
        {"host:65536/a", "invalid reference 'host:65536/a': invalid port"},
        {"host:x/a", "invalid reference 'host:x/a': invalid port"},
        {"host:/a", "invalid reference 'host:/a': invalid port"},
        {"-host.com/a", "invalid reference '-host.com/a': invalid domain"},
        {"host-.com/a", "invalid reference 'host-.com/a': invalid domain"},
        {"host..com/a", "invalid reference 'host..com/a': invalid domain"},
        {"ho_st.com/a", "invalid reference 'ho_st.com/a': invalid domain"},
        {"[::1/a", "invalid reference '[::1/a': invalid IPv6 address"},
        {"[]:5000/a", "invalid reference '[]:5000/a': invalid IPv6 address"},
        {"[::g]/a", "invalid reference '[::g]/a': invalid IPv6 address"},
        {"[::1]x/a", "invalid reference '[::1]x/a': invalid domain"},
        {H64, "invalid reference '" H64
              "': a 64-character hexadecimal string is an image ID, not a name"},
};

static void test_ok(const struct ok_case *c)
{
        struct image_ref *r = NULL;
        struct lerr *err = NULL;
        int k = image_ref_parse(c->in, &r, &err);
        if (!ok(k == 0, "parse '%s'", c->in)) {
                diag("error: %s", lerr_message(err));
                lerr_free(err);
                return;
        }
        bool good = streq(r->domain, c->domain) && streq(r->path, c->path) &&
                    streq_ptr(r->tag, c->tag) && streq_ptr(r->digest, c->digest);
        if (!ok(good, "parts of '%s'", c->in))
                diag("got domain=%s path=%s tag=%s digest=%s", r->domain, r->path, strempty(r->tag),
                     strempty(r->digest));
        _cleanup_free_ char *want_name = xasprintf("%s/%s", c->domain, c->path);
        is_str(r->name, want_name, "name of '%s'", c->in);
        /* the canonical string parses back to the same reference */
        _cleanup_free_ char *s = image_ref_string(r);
        struct image_ref *again = NULL;
        if (ok(image_ref_parse(s, &again, NULL) == 0, "reparse '%s'", s)) {
                _cleanup_free_ char *s2 = image_ref_string(again);
                is_str(s2, s, "round trip of '%s'", c->in);
        }
        image_ref_free(again);
        image_ref_free(r);
}

static void test_err(const struct err_case *c)
{
        struct image_ref *r = NULL;
        struct lerr *err = NULL;
        int k = image_ref_parse(c->in, &r, &err);
        is_int(k, -EINVAL, "refuse '%s'", c->in);
        is_str(lerr_message(err), c->msg, "message for '%s'", c->in);
        ok(r == NULL, "no output for '%s'", c->in);
        lerr_free(err);
        image_ref_free(r);
}

static void test_helpers(void)
{
        struct image_ref *r = NULL;
        char *s;

        ok(image_ref_parse("busybox", &r, NULL) == 0, "parse busybox");
        s = image_ref_string(r);
        is_str(s, "docker.io/library/busybox:latest", "canonical string");
        free(s);
        is_str(image_ref_api_host(r), "registry-1.docker.io", "Docker Hub API host");
        ok(image_ref_is_docker_hub(r), "is Docker Hub");
        s = image_ref_scope(r, "pull");
        is_str(s, "repository:library/busybox:pull", "pull scope");
        free(s);
        image_ref_free(r);

        ok(image_ref_parse_repo("localhost:5000/cache", &r, NULL) == 0, "parse repo");
        ok(r->tag == NULL && r->digest == NULL, "repository has no default tag");
        is_str(image_ref_api_host(r), "localhost:5000", "API host is the domain");
        struct image_ref *d = image_ref_dup(r);
        is_str(d->name, "localhost:5000/cache", "dup keeps the name");
        image_ref_free(d);
        image_ref_free(r);

        struct lerr *err = NULL;
        ok(image_ref_from_parts("mirror", "proj/library/busybox", "1", NULL, &r, &err) == 0,
           "from parts with a dotless domain");
        s = image_ref_string(r);
        is_str(s, "mirror/proj/library/busybox:1", "from parts string");
        free(s);
        image_ref_free(r);
        r = NULL;
        is_int(image_ref_from_parts("mirror", "Bad", NULL, NULL, &r, &err), -EINVAL,
               "from parts validates the path");
        is_str(lerr_message(err), "invalid reference 'mirror/Bad': invalid repository path",
               "from parts message");
        lerr_free(err);

        s = image_ref_normalize_domain("Index.Docker.io");
        is_str(s, "docker.io", "normalise Hub alias");
        free(s);
        s = image_ref_normalize_domain("bad domain");
        ok(s == NULL, "normalise refuses bad domains");

        ok(image_ref_domain_is_loopback("localhost:5000"), "localhost is loopback");
        ok(image_ref_domain_is_loopback("127.0.0.1:5000"), "127.0.0.1 is loopback");
        ok(image_ref_domain_is_loopback("127.1.2.3"), "127/8 is loopback");
        ok(image_ref_domain_is_loopback("[::1]:80"), "::1 is loopback");
        ok(!image_ref_domain_is_loopback("127.example.com"), "127.example.com is not loopback");
        ok(!image_ref_domain_is_loopback("10.0.0.1:5000"), "10.0.0.1 is not loopback");
        ok(!image_ref_domain_is_loopback("localhostx:1"), "localhostx is not loopback");

        /* a 128-character tag is fine, one more is not */
        char tag[140];
        memset(tag, 't', sizeof(tag));
        tag[128] = '\0';
        _cleanup_free_ char *t128 = xasprintf("app:%s", tag);
        ok(image_ref_parse(t128, &r, NULL) == 0 && strlen(r->tag) == 128,
           "128-character tag accepted");
        image_ref_free(r);
        r = NULL;
        tag[128] = 't';
        tag[129] = '\0';
        _cleanup_free_ char *t129 = xasprintf("app:%s", tag);
        err = NULL;
        is_int(image_ref_parse(t129, &r, &err), -EINVAL, "129-character tag refused");
        _cleanup_free_ char *want = xasprintf("invalid reference '%s': invalid tag", t129);
        is_str(lerr_message(err), want, "long tag message");
        lerr_free(err);

        /* a 255-character name is fine, one more is not */
        char path[300];
        memset(path, 'a', sizeof(path));
        path[250] = '\0'; /* "x.io/" + 250 = 255 */
        _cleanup_free_ char *exact = xasprintf("x.io/%s", path);
        ok(image_ref_parse(exact, &r, NULL) == 0 && strlen(r->name) == 255,
           "255-character name accepted");
        image_ref_free(r);
        r = NULL;
        path[250] = 'a';
        path[251] = '\0';
        _cleanup_free_ char *over = xasprintf("x.io/%s", path);
        err = NULL;
        is_int(image_ref_parse(over, &r, &err), -EINVAL, "256-character name refused");
        ok(strstr(lerr_message(err), "repository name is longer than 255 characters") != NULL,
           "long name message");
        lerr_free(err);
}

int main(void)
{
        for (size_t i = 0; i < ARRAY_SIZE(oks); i++)
                test_ok(&oks[i]);
        for (size_t i = 0; i < ARRAY_SIZE(errs); i++)
                test_err(&errs[i]);
        diag("%zu valid and %zu invalid references", ARRAY_SIZE(oks), ARRAY_SIZE(errs));
        test_helpers();
        return tap_done();
}
