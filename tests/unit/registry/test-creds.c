/* SPDX-License-Identifier: Apache-2.0 */
/* config.json credential resolution, with a fake docker-credential-test helper on a temp PATH. */
#include "registry/creds.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/fs.h"
#include "tap.h"

static char tmp[] = "/tmp/lading-test-creds-XXXXXX";

static void write_file(const char *rel, const char *content, mode_t mode)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", tmp, rel);
        _cleanup_free_ char *dir = xstrdup(p);
        *strrchr(dir, '/') = '\0';
        _cleanup_free_ char *cmd = xasprintf("mkdir -p '%s'", dir);
        if (system(cmd) != 0)
                abort();
        if (fs_write_file_at(AT_FDCWD, p, content, strlen(content), mode) < 0)
                abort();
}

static char *read_tmp(const char *rel)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", tmp, rel);
        struct buf b = BUF_INIT(1 << 20);
        if (fs_read_file_at(AT_FDCWD, p, &b) < 0) {
                buf_done(&b);
                return xstrdup("(unreadable)");
        }
        return buf_steal(&b);
}

static struct creds_store *parse(const char *json)
{
        struct creds_store *s = NULL;
        struct lerr *err = NULL;
        if (creds_store_parse(json, strlen(json), "/cfg/config.json", &s, &err) < 0) {
                diag("parse: %s", lerr_message(err));
                lerr_free(err);
        }
        return s;
}

/* Looks up and renders "user|password|identity|registry|source" or "ERROR: msg". */
static char *lookup(const struct creds_store *s, const char *domain, const char *repo)
{
        struct creds *c = NULL;
        struct lerr *err = NULL;
        if (creds_lookup(s, domain, repo, &c, &err) < 0) {
                char *m = xasprintf("ERROR: %s", lerr_message(err));
                lerr_free(err);
                return m;
        }
        char *m = xasprintf("%s|%s|%s|%s|%s", strempty(c->username), strempty(c->password),
                            strempty(c->identity_token), strempty(c->registry_token), c->source);
        creds_free(c);
        return m;
}

#define CHECK(s, domain, repo, want, ...)                                                          \
        do {                                                                                       \
                char *got_ = lookup(s, domain, repo);                                              \
                is_str(got_, want, __VA_ARGS__);                                                   \
                free(got_);                                                                        \
        } while (0)

static void test_auths(void)
{
        /* "dXNlcjpwYXNzOndpdGg6Y29sb25z" is base64 of "user:pass:with:colons" */
        struct creds_store *s = parse(
                "{\"auths\":{"
                "\"https://index.docker.io/v1/\":{\"auth\":\"dXNlcjpwYXNzOndpdGg6Y29sb25z\"},"
                "\"docker.io\":{\"username\":\"other\",\"password\":\"x\"},"
                "\"reg.example:5000\":{\"username\":\"u\",\"password\":\"p\"},"
                "\"reg.example:5000/team/app\":{\"username\":\"teamu\",\"password\":\"teamp\"},"
                "\"https://scheme.example\":{\"identitytoken\":\"idtok\"},"
                "\"http://legacy.example/v2/\":{\"registrytoken\":\"regtok\"},"
                "\"both.example\":{\"auth\":\"YTpi\",\"username\":\"ignored\","
                "\"password\":\"ignored\"},"
                "\"bad.example\":{\"auth\":\"!!!\"},"
                "\"nocolon.example\":{\"auth\":\"bm9jb2xvbg==\"},"
                "\"empty.example\":{},"
                "\"Upper.Example\":{\"username\":\"up\",\"password\":\"per\"}"
                "},\"HttpHeaders\":{\"User-Agent\":\"x\"}}");
        ok(s != NULL, "parse auths");
        if (!s)
                return;
        CHECK(s, "docker.io", "library/busybox",
              "user|pass:with:colons|||credentials for 'docker.io' from /cfg/config.json (auths "
              "'https://index.docker.io/v1/')",
              "Docker Hub uses its canonical key first");
        CHECK(s, "reg.example:5000", "other/app",
              "u|p|||credentials for 'reg.example:5000' from /cfg/config.json (auths "
              "'reg.example:5000')",
              "bare host key");
        CHECK(s, "reg.example:5000", "team/app",
              "teamu|teamp|||credentials for 'reg.example:5000' from /cfg/config.json (auths "
              "'reg.example:5000/team/app')",
              "repository key beats host key");
        CHECK(s, "reg.example:5000", NULL,
              "u|p|||credentials for 'reg.example:5000' from /cfg/config.json (auths "
              "'reg.example:5000')",
              "no repository given");
        CHECK(s, "scheme.example", NULL,
              "||idtok||credentials for 'scheme.example' from /cfg/config.json (auths "
              "'https://scheme.example')",
              "key with https scheme, identity token");
        CHECK(s, "legacy.example", NULL,
              "|||regtok|credentials for 'legacy.example' from /cfg/config.json (auths "
              "'http://legacy.example/v2/')",
              "key with http scheme and /v2/, registry token");
        CHECK(s, "both.example", NULL,
              "a|b|||credentials for 'both.example' from /cfg/config.json (auths 'both.example')",
              "auth wins over username/password");
        CHECK(s, "bad.example", NULL,
              "ERROR: Docker config '/cfg/config.json': entry 'bad.example': its 'auth' field is "
              "not base64 of 'username:password'",
              "malformed auth");
        CHECK(s, "nocolon.example", NULL,
              "ERROR: Docker config '/cfg/config.json': entry 'nocolon.example': its 'auth' field "
              "is not base64 of 'username:password'",
              "auth without a colon");
        CHECK(s, "empty.example", NULL,
              "||||no credentials for 'empty.example': the auths entry 'empty.example' in "
              "/cfg/config.json is empty (anonymous)",
              "empty entry");
        CHECK(s, "upper.example", NULL,
              "up|per|||credentials for 'upper.example' from /cfg/config.json (auths "
              "'Upper.Example')",
              "host keys compare without case");
        CHECK(s, "UPPER.example", NULL,
              "up|per|||credentials for 'upper.example' from /cfg/config.json (auths "
              "'Upper.Example')",
              "lookups compare without case");
        CHECK(s, "unknown.example", NULL,
              "||||no credentials for 'unknown.example' in /cfg/config.json (anonymous)",
              "unknown registry is anonymous");
        creds_store_free(s);

        s = parse("{\"auths\":{\"index.docker.io\":{\"username\":\"hub\",\"password\":\"pw\"}}}");
        CHECK(s, "docker.io", NULL,
              "hub|pw|||credentials for 'docker.io' from /cfg/config.json (auths "
              "'index.docker.io')",
              "index.docker.io key serves Docker Hub");
        creds_store_free(s);
        s = parse("{\"auths\":{\"registry-1.docker.io\":{\"username\":\"hub\",\"password\":\"pw\"}}"
                  "}");
        CHECK(s, "docker.io", NULL,
              "hub|pw|||credentials for 'docker.io' from /cfg/config.json (auths "
              "'registry-1.docker.io')",
              "registry-1.docker.io key serves Docker Hub");
        creds_store_free(s);
}

static void test_bad_files(void)
{
        static const struct {
                const char *json, *msg;
        } bads[] = {
                {"{", "read Docker config '/cfg/config.json': parse config: invalid JSON near "
                      "byte 0"},
                {"[]", "read Docker config '/cfg/config.json': not a JSON object"},
                {"{\"auths\":[]}",
                 "read Docker config '/cfg/config.json': field 'auths' is not an object"},
                {"{\"auths\":{\"x\":1}}",
                 "read Docker config '/cfg/config.json': auths entry 'x' is not an object"},
                {"{\"auths\":{\"x\":{\"auth\":1}}}",
                 "read Docker config '/cfg/config.json': auths entry 'x': field 'auth' is not a "
                 "string"},
                {"{\"credHelpers\":{\"x\":1}}", "read Docker config '/cfg/config.json': "
                                                "credHelpers entry 'x' is not a string"},
                {"{\"credsStore\":1}",
                 "read Docker config '/cfg/config.json': field 'credsStore' is not a string"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(bads); i++) {
                struct creds_store *s = NULL;
                struct lerr *err = NULL;
                int r = creds_store_parse(bads[i].json, strlen(bads[i].json), "/cfg/config.json",
                                          &s, &err);
                is_int(r, -EBADMSG, "refuse config %zu", i);
                is_str(lerr_message(err), bads[i].msg, "message for config %zu", i);
                lerr_free(err);
                creds_store_free(s);
        }
}

static const char helper_script[] =
        "#!/bin/sh\n"
        "[ \"$1\" = get ] || exit 9\n"
        "server=$(cat)\n"
        "printf '%s\\n' \"$server\" >> \"$(dirname \"$0\")/../helper-calls\"\n"
        "case \"$server\" in\n"
        "helper.example) echo '{\"ServerURL\":\"helper.example\",\"Username\":\"hu\","
        "\"Secret\":\"hs\"}' ;;\n"
        "token.example) echo '{\"ServerURL\":\"token.example\",\"Username\":\"<token>\","
        "\"Secret\":\"refresh-tok\"}' ;;\n"
        "https://index.docker.io/v1/) echo '{\"Username\":\"hubu\",\"Secret\":\"hubs\"}' ;;\n"
        "store.example) echo '{\"Username\":\"su\",\"Secret\":\"ss\"}' ;;\n"
        "fail.example) echo 'boom: the keychain is locked' >&2; exit 3 ;;\n"
        "garbage.example) echo 'not json' ;;\n"
        "*) echo 'credentials not found in native keychain'; exit 1 ;;\n"
        "esac\n";

static void test_helpers(void)
{
        write_file("bin/docker-credential-test", helper_script, 0755);
        _cleanup_free_ char *path = xasprintf("%s/bin:/usr/bin:/bin", tmp);
        setenv("PATH", path, 1);

        struct creds_store *s = parse(
                "{\"auths\":{\"none.example\":{\"username\":\"fileu\",\"password\":\"filep\"},"
                "\"nohelper.example\":{\"username\":\"nu\",\"password\":\"np\"}},"
                "\"credHelpers\":{\"helper.example\":\"test\",\"token.example\":\"test\","
                "\"https://index.docker.io/v1/\":\"test\",\"none.example\":\"test\","
                "\"fail.example\":\"test\",\"garbage.example\":\"test\","
                "\"missing.example\":\"nothere\",\"evil.example\":\"../../bin/sh\"}}");
        CHECK(s, "helper.example", NULL,
              "hu|hs|||credentials for 'helper.example' from docker-credential-test (credHelpers "
              "in /cfg/config.json)",
              "credHelpers entry");
        CHECK(s, "token.example", NULL,
              "||refresh-tok||credentials for 'token.example' from docker-credential-test "
              "(credHelpers in /cfg/config.json)",
              "helper identity token");
        CHECK(s, "docker.io", "library/busybox",
              "hubu|hubs|||credentials for 'docker.io' from docker-credential-test (credHelpers "
              "in /cfg/config.json)",
              "helper for Docker Hub gets the canonical key");
        CHECK(s, "none.example", NULL,
              "fileu|filep|||credentials for 'none.example' from /cfg/config.json (auths "
              "'none.example'; credHelpers docker-credential-test has none)",
              "helper without credentials falls back to auths");
        CHECK(s, "fail.example", NULL,
              "ERROR: get credentials for 'fail.example' (credHelpers in /cfg/config.json): "
              "docker-credential-test get: exit status 3: boom: the keychain is locked",
              "failing helper");
        CHECK(s, "garbage.example", NULL,
              "ERROR: get credentials for 'garbage.example' (credHelpers in /cfg/config.json): "
              "docker-credential-test get: output is not the expected JSON object",
              "helper printing garbage");
        CHECK(s, "missing.example", NULL,
              "ERROR: get credentials for 'missing.example' (credHelpers in /cfg/config.json): "
              "credential helper docker-credential-nothere not found on PATH",
              "credHelpers naming a missing helper");
        CHECK(s, "evil.example", NULL,
              "ERROR: get credentials for 'evil.example' (credHelpers in /cfg/config.json): "
              "invalid credential helper name '../../bin/sh'",
              "helper names are not paths");
        creds_store_free(s);
        _cleanup_free_ char *calls = read_tmp("helper-calls");
        is_str(calls,
               "helper.example\ntoken.example\nhttps://index.docker.io/v1/\nnone.example\n"
               "fail.example\ngarbage.example\n",
               "the helper got each server on stdin");

        s = parse("{\"credsStore\":\"test\",\"auths\":{\"store.example\":{}}}");
        CHECK(s, "store.example", NULL,
              "su|ss|||credentials for 'store.example' from docker-credential-test (credsStore "
              "in /cfg/config.json)",
              "credsStore");
        CHECK(s, "other.example", NULL,
              "||||no credentials for 'other.example': docker-credential-test has none "
              "(credsStore in /cfg/config.json; anonymous)",
              "credsStore without credentials is anonymous");
        creds_store_free(s);

        s = parse("{\"credsStore\":\"desktop\",\"auths\":{\"a.example\":{\"auth\":\"YTpi\"}}}");
        CHECK(s, "a.example", NULL,
              "a|b|||credentials for 'a.example' from /cfg/config.json (auths 'a.example'; "
              "credsStore docker-credential-desktop is not on PATH)",
              "missing credsStore helper falls back to auths");
        CHECK(s, "b.example", NULL,
              "||||no credentials for 'b.example': docker-credential-desktop is not on PATH "
              "(credsStore in /cfg/config.json; anonymous)",
              "missing credsStore helper, no auths entry");
        creds_store_free(s);
}

static void test_locations(void)
{
        struct creds_store *s = NULL;
        struct creds *c = NULL;
        _cleanup_free_ char *kdir = xasprintf("%s/kaniko", tmp);
        _cleanup_free_ char *home = xasprintf("%s/home", tmp);
        _cleanup_free_ char *dc = xasprintf("%s/dockercfg", tmp);

        unsetenv("REGISTRY_AUTH_FILE");
        unsetenv("XDG_RUNTIME_DIR");
        unsetenv("KANIKO_DIR");
        setenv("HOME", home, 1);
        setenv("DOCKER_CONFIG", dc, 1);

        ok(creds_store_load(kdir, &s, NULL) == 0, "load with no file anywhere");
        ok(creds_store_path(s) == NULL, "no file found");
        ok(creds_lookup(s, "x.example", NULL, &c, NULL) == 0 && creds_is_anonymous(c),
           "anonymous without a file");
        _cleanup_free_ char *want =
                xasprintf("no credentials for 'x.example': no Docker config found (looked for "
                          "%s/dockercfg/config.json, %s/kaniko/.docker/config.json, "
                          "%s/home/.docker/config.json; anonymous)",
                          tmp, tmp, tmp);
        is_str(c->source, want, "source lists the places looked at");
        creds_free(c);
        creds_store_free(s);

        write_file("home/.docker/config.json", "{\"auths\":{\"x.example\":{\"auth\":\"aDpo\"}}}",
                   0600);
        ok(creds_store_load(kdir, &s, NULL) == 0, "load from HOME");
        _cleanup_free_ char *hp = xasprintf("%s/home/.docker/config.json", tmp);
        is_str(creds_store_path(s), hp, "HOME's config used last");
        creds_store_free(s);

        write_file("kaniko/.docker/config.json", "{\"auths\":{\"x.example\":{\"auth\":\"azpr\"}}}",
                   0600);
        ok(creds_store_load(kdir, &s, NULL) == 0, "load from the kaniko dir");
        _cleanup_free_ char *kp = xasprintf("%s/kaniko/.docker/config.json", tmp);
        is_str(creds_store_path(s), kp, "kaniko dir beats HOME");
        ok(creds_lookup(s, "x.example", NULL, &c, NULL) == 0 && streq(c->username, "k"),
           "credentials from the kaniko dir");
        creds_free(c);
        creds_store_free(s);

        setenv("KANIKO_DIR", kdir, 1);
        ok(creds_store_load(NULL, &s, NULL) == 0, "load with KANIKO_DIR from the environment");
        is_str(creds_store_path(s), kp, "KANIKO_DIR honoured");
        creds_store_free(s);

        write_file("dockercfg/config.json", "{\"auths\":{\"x.example\":{\"auth\":\"ZDpk\"}}}",
                   0600);
        ok(creds_store_load(kdir, &s, NULL) == 0, "load from DOCKER_CONFIG");
        _cleanup_free_ char *dp = xasprintf("%s/dockercfg/config.json", tmp);
        is_str(creds_store_path(s), dp, "DOCKER_CONFIG first");
        creds_store_free(s);

        write_file("dockercfg/config.json", "{broken", 0600);
        struct lerr *err = NULL;
        s = NULL;
        is_int(creds_store_load(kdir, &s, &err), -EBADMSG, "broken config is an error");
        _cleanup_free_ char *msg =
                xasprintf("read Docker config '%s': parse config: invalid JSON near byte 2", dp);
        is_str(lerr_message(err), msg, "broken config message");
        lerr_free(err);

        unsetenv("DOCKER_CONFIG");
        unsetenv("HOME");
        write_file("podman/auth.json", "{\"auths\":{\"x.example\":{\"auth\":\"cDpw\"}}}", 0600);
        _cleanup_free_ char *pa = xasprintf("%s/podman/auth.json", tmp);
        _cleanup_free_ char *empty_kdir = xasprintf("%s/nokaniko", tmp);
        setenv("REGISTRY_AUTH_FILE", pa, 1);
        ok(creds_store_load(empty_kdir, &s, NULL) == 0, "load podman's auth file");
        is_str(creds_store_path(s), pa, "REGISTRY_AUTH_FILE as a fallback");
        ok(creds_lookup(s, "x.example", NULL, &c, NULL) == 0 && streq(c->password, "p"),
           "credentials from auth.json");
        creds_free(c);
        creds_store_free(s);
        unsetenv("REGISTRY_AUTH_FILE");
}

/* GitLab CI's variables, as Kaniko's built-in helper: only for the registry they name, only
 * where config.json leaves it anonymous */
static void test_ci_env(void)
{
        _cleanup_(creds_store_freep) struct creds_store *s =
                parse("{\"auths\":{\"gitlab.example:5050\":{\"auth\":\"Y2ZnOnB3\"}}}");
        _cleanup_(creds_store_freep) struct creds_store *none = parse("{}");
        setenv("CI_REGISTRY", "registry.gitlab.example", 1);
        setenv("CI_REGISTRY_USER", "gitlab-ci-token", 1);
        setenv("CI_REGISTRY_PASSWORD", "job-secret", 1);
        setenv("CI_DEPENDENCY_PROXY_SERVER", "https://gitlab.example:443/", 1);
        setenv("CI_DEPENDENCY_PROXY_USER", "proxy-user", 1);
        setenv("CI_DEPENDENCY_PROXY_PASSWORD", "proxy-secret", 1);

        CHECK(none, "registry.gitlab.example", "group/app",
              "gitlab-ci-token|job-secret|||credentials for 'registry.gitlab.example' from "
              "CI_REGISTRY_USER and CI_REGISTRY_PASSWORD (CI_REGISTRY names it)",
              "CI_REGISTRY's registry gets the job's credentials");
        CHECK(none, "gitlab.example:443", NULL,
              "proxy-user|proxy-secret|||credentials for 'gitlab.example:443' from "
              "CI_DEPENDENCY_PROXY_USER and CI_DEPENDENCY_PROXY_PASSWORD "
              "(CI_DEPENDENCY_PROXY_SERVER names it)",
              "the dependency proxy's server (scheme and slash dropped) gets its own pair");
        CHECK(none, "other.example", NULL,
              "||||no credentials for 'other.example' in /cfg/config.json (anonymous)",
              "another registry stays anonymous");
        CHECK(s, "gitlab.example:5050", NULL,
              "cfg|pw|||credentials for 'gitlab.example:5050' from /cfg/config.json (auths "
              "'gitlab.example:5050')",
              "an auths entry is used as before");
        setenv("CI_REGISTRY", "gitlab.example:5050", 1);
        CHECK(s, "gitlab.example:5050", NULL,
              "cfg|pw|||credentials for 'gitlab.example:5050' from /cfg/config.json (auths "
              "'gitlab.example:5050')",
              "config.json wins over the CI variables for the same registry");
        setenv("CI_REGISTRY", "registry.gitlab.example", 1);
        setenv("CI_REGISTRY_PASSWORD", "", 1);
        CHECK(none, "registry.gitlab.example", NULL,
              "||||no credentials for 'registry.gitlab.example' in /cfg/config.json (anonymous)",
              "an empty password is no credential");
        unsetenv("CI_REGISTRY");
        unsetenv("CI_REGISTRY_USER");
        unsetenv("CI_REGISTRY_PASSWORD");
        unsetenv("CI_DEPENDENCY_PROXY_SERVER");
        unsetenv("CI_DEPENDENCY_PROXY_USER");
        unsetenv("CI_DEPENDENCY_PROXY_PASSWORD");
}

int main(void)
{
        if (!mkdtemp(tmp))
                return 1;
        test_auths();
        test_bad_files();
        test_helpers();
        test_locations();
        test_ci_env();
        int r = tap_done();
        if (r == 0) {
                _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", tmp);
                (void) !system(cmd);
        } else {
                printf("# kept %s\n", tmp);
        }
        return r;
}
