/* SPDX-License-Identifier: Apache-2.0 */
/* Profiles of the AWS shared files resolved to credentials the way the SDKs do: assume-role
 * chains through source_profile, credential_source, web identity, credential_process and
 * static keys. It does not cache or refresh credentials: a build needs them once. */
#include "executor/aws_profile.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/digest.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "common/macros.h"
#include "common/parse.h"
#include "common/strv.h"
#include "executor/aws_creds.h"
#include "executor/context_s3.h"
#include "executor/s3_sign.h"

extern char **environ;

static const char *const key_names[AWS_KEY_MAX_] = {
        [AWS_KEY_ACCESS_KEY_ID] = "aws_access_key_id",
        [AWS_KEY_SECRET_ACCESS_KEY] = "aws_secret_access_key",
        [AWS_KEY_SESSION_TOKEN] = "aws_session_token",
        [AWS_KEY_REGION] = "region",
        [AWS_KEY_ROLE_ARN] = "role_arn",
        [AWS_KEY_SOURCE_PROFILE] = "source_profile",
        [AWS_KEY_CREDENTIAL_SOURCE] = "credential_source",
        [AWS_KEY_ROLE_SESSION_NAME] = "role_session_name",
        [AWS_KEY_DURATION_SECONDS] = "duration_seconds",
        [AWS_KEY_EXTERNAL_ID] = "external_id",
        [AWS_KEY_MFA_SERIAL] = "mfa_serial",
        [AWS_KEY_WEB_IDENTITY_TOKEN_FILE] = "web_identity_token_file",
        [AWS_KEY_CREDENTIAL_PROCESS] = "credential_process",
        [AWS_KEY_SSO_START_URL] = "sso_start_url",
        [AWS_KEY_SSO_SESSION] = "sso_session",
        [AWS_KEY_SSO_ACCOUNT_ID] = "sso_account_id",
        [AWS_KEY_STS_REGIONAL_ENDPOINTS] = "sts_regional_endpoints",
};

static const char *env(const char *name)
{
        const char *v = getenv(name);
        return v && *v ? v : NULL;
}

static void str_cleanse_free(char **s)
{
        if (*s)
                OPENSSL_cleanse(*s, strlen(*s));
        free(*s);
}

static void buf_cleanse_done(struct buf *b)
{
        if (b->data)
                OPENSSL_cleanse(b->data, b->alloc);
        buf_done(b);
}

static void strv_cleanse_free(char ***l)
{
        for (size_t i = 0; *l && (*l)[i]; i++)
                OPENSSL_cleanse((*l)[i], strlen((*l)[i]));
        strv_free(*l);
}

void aws_profile_done(struct aws_profile *p)
{
        for (size_t i = 0; i < AWS_KEY_MAX_; i++)
                str_cleanse_free(&p->v[i]);
        *p = (struct aws_profile){0};
}

static char *trim(char *s)
{
        while (*s == ' ' || *s == '\t' || *s == '\r')
                s++;
        size_t n = strlen(s);
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
                s[--n] = '\0';
        return s;
}

static void set_key(struct aws_profile *p, const char *key, const char *value)
{
        for (size_t i = 0; i < AWS_KEY_MAX_; i++)
                if (!strcasecmp(key, key_names[i])) {
                        str_cleanse_free(&p->v[i]);
                        p->v[i] = xstrndup(value, strnlen(value, AWS_PROFILE_VALUE_MAX));
                        return;
                }
}

int aws_profile_parse(const char *text, size_t len, const char *profile, bool config_style,
                      struct aws_profile *p)
{
        size_t n_copy = strnlen(text, len); /* a NUL ends the text */
        _cleanup_free_ char *copy = xstrndup(text, n_copy);
        _cleanup_free_ char *want = config_style && !streq(profile, "default")
                                            ? xasprintf("profile %s", profile)
                                            : xstrdup(profile);
        bool in = false, sub = false;
        int found = 0;
        for (char *line = copy, *next; line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                bool indented = *line == ' ' || *line == '\t';
                char *l = trim(line);
                if (!*l || *l == '#' || *l == ';')
                        continue;
                if (*l == '[') {
                        size_t n = strlen(l);
                        if (l[n - 1] != ']') {
                                found = -EINVAL;
                                break;
                        }
                        l[n - 1] = '\0';
                        in = streq(trim(l + 1), want);
                        sub = false;
                        if (in)
                                found = 1;
                        continue;
                }
                char *eq = strchr(l, '=');
                if (!eq) {
                        found = -EINVAL;
                        break;
                }
                *eq = '\0';
                const char *value = trim(eq + 1);
                /* "s3 =" opens a sub-section of indented lines that are not profile keys */
                if (sub && indented)
                        continue;
                sub = !*value;
                if (in)
                        set_key(p, trim(l), value);
        }
        OPENSSL_cleanse(copy, n_copy);
        return found;
}

void aws_files_done(struct aws_files *f)
{
        free(f->config_path);
        free(f->creds_path);
        str_cleanse_free(&f->config);
        str_cleanse_free(&f->creds);
        *f = (struct aws_files){0};
}

static char *aws_file(const char *var, const char *name)
{
        const char *v = env(var), *home = env("HOME");
        return v ? xstrdup(v) : home ? xasprintf("%s/.aws/%s", home, name) : NULL;
}

static int read_text(const char *path, char **ret, size_t *ret_len, struct lerr **err)
{
        _cleanup_(buf_cleanse_done) struct buf b = BUF_INIT(S3_CONFIG_MAX_BYTES);
        if (!path)
                return 0;
        int r = fs_read_file_at(AT_FDCWD, path, &b);
        if (r == -ENOENT)
                return 0;
        if (r == -E2BIG)
                return lerr_set(err, E2BIG, "read '%s': over the limit of %u bytes", path,
                                S3_CONFIG_MAX_BYTES);
        if (r < 0)
                return lerr_errno(err, -r, "read '%s'", path);
        *ret_len = b.len;
        *ret = b.data ? buf_steal(&b) : xstrdup("");
        return 0;
}

int aws_files_read(struct aws_files *ret, struct lerr **err)
{
        struct aws_files f = {
                .config_path = aws_file("AWS_CONFIG_FILE", "config"),
                .creds_path = aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
        };
        int r = read_text(f.config_path, &f.config, &f.config_len, err);
        if (r >= 0)
                r = read_text(f.creds_path, &f.creds, &f.creds_len, err);
        if (r < 0) {
                aws_files_done(&f);
                return r;
        }
        *ret = f;
        return 0;
}

int aws_files_profile(const struct aws_files *f, const char *profile, struct aws_profile *ret,
                      struct lerr **err)
{
        _cleanup_(aws_profile_done) struct aws_profile p = {0};
        int in_config = 0, in_creds = 0;
        if (f->config &&
            (in_config = aws_profile_parse(f->config, f->config_len, profile, true, &p)) < 0)
                return lerr_set(err, EINVAL, "read '%s': malformed line", f->config_path);
        /* the credentials file wins, as in the SDKs, but for the region, which only the
         * config file sets */
        char *region = TAKE_PTR(p.v[AWS_KEY_REGION]);
        if (f->creds &&
            (in_creds = aws_profile_parse(f->creds, f->creds_len, profile, false, &p)) < 0) {
                free(region);
                return lerr_set(err, EINVAL, "read '%s': malformed line", f->creds_path);
        }
        free(p.v[AWS_KEY_REGION]);
        p.v[AWS_KEY_REGION] = region;
        *ret = p;
        p = (struct aws_profile){0};
        return in_config || in_creds;
}

static void json_cleanse_freep(cJSON **j)
{
        for (cJSON *it = *j ? (*j)->child : NULL; it; it = it->next)
                if (cJSON_IsString(it) && it->valuestring)
                        OPENSSL_cleanse(it->valuestring, strlen(it->valuestring));
        cJSON_Delete(*j);
}

static int process_fields(const cJSON *j, struct s3_credentials *c, struct lerr **err)
{
        static const char *const keys[] = {"AccessKeyId", "SecretAccessKey", "SessionToken",
                                           "Expiration"};
        char **fields[] = {&c->access_key, &c->secret_key, &c->session_token, &c->expiration};
        const cJSON *version = cJSON_GetObjectItemCaseSensitive(j, "Version");
        if (!version)
                return lerr_set(err, EBADMSG, "required field 'Version' is missing");
        if (!cJSON_IsNumber(version) || version->valuedouble != 1)
                return lerr_set(err, EBADMSG, "unsupported Version (want the number 1)");
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
                const char *v = NULL;
                int r = i < 2 ? json_require_string(j, keys[i], &v, err)
                              : json_get_string(j, keys[i], &v, err);
                if (r >= 0 && (i < 2 || v))
                        r = aws_creds_check_field(keys[i], v, err);
                if (r < 0)
                        return r;
                if (v && (i < 3 || strlen(v) < 64))
                        *fields[i] = xstrdup(v);
        }
        return 0;
}

int aws_process_parse(const char *out, size_t len, struct s3_credentials *ret, struct lerr **err)
{
        _cleanup_(json_cleanse_freep) cJSON *j = NULL;
        _cleanup_(s3_credentials_done) struct s3_credentials c = {0};
        int r = json_parse(out, len, AWS_PROCESS_OUTPUT_MAX, "output", &j, err);
        if (r < 0)
                return r;
        if (!cJSON_IsObject(j))
                return lerr_set(err, EBADMSG, "parse output: not a JSON object");
        r = process_fields(j, &c, err);
        if (r < 0)
                return lerr_wrap(err, "parse output");
        *ret = c;
        c = (struct s3_credentials){0};
        return 0;
}

static long long now_ms(void)
{
        struct timespec ts;
        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Keeps the last tail->max bytes of what is appended: the end of stderr has the reason. */
static void tail_append(struct buf *tail, const char *p, size_t n)
{
        if (n >= tail->max) {
                p += n - tail->max + 1;
                n = tail->max - 1;
        }
        if (tail->len + n >= tail->max) {
                size_t drop = tail->len + n - tail->max + 1;
                memmove(tail->data, tail->data + drop, tail->len - drop);
                tail->len -= drop;
                tail->data[tail->len] = '\0';
        }
        (void) !buf_append(tail, p, n);
}

/* The last non-empty line of s, printable ASCII only, cut at 200 bytes. Caller frees. */
static char *last_line(const char *s, size_t n)
{
        while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
                n--;
        size_t start = n;
        while (start && s[start - 1] != '\n')
                start--;
        struct buf b = BUF_INIT(256);
        for (size_t i = start; i < n && i - start < 200; i++)
                (void) !buf_append_char(&b, s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?');
        return b.data ? buf_steal(&b) : xstrdup("");
}

static int spawn_shell(const char *command, int out_fd, int err_fd, pid_t *ret_pid)
{
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t none, all;
        char *argv[] = {(char *) "sh", (char *) "-c", (char *) command, NULL};

        (void) sigemptyset(&none);
        (void) sigfillset(&all);
        (void) posix_spawn_file_actions_init(&fa);
        (void) posix_spawnattr_init(&attr);
        (void) posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        (void) posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
        (void) posix_spawn_file_actions_adddup2(&fa, err_fd, STDERR_FILENO);
        /* the executor blocks signals (PID 1); its own group lets a timeout kill all of it */
        (void) posix_spawnattr_setsigmask(&attr, &none);
        (void) posix_spawnattr_setsigdefault(&attr, &all);
        (void) posix_spawnattr_setpgroup(&attr, 0);
        (void) posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                                       POSIX_SPAWN_SETPGROUP);
        int r = posix_spawn(ret_pid, "/bin/sh", &fa, &attr, argv, environ);
        (void) posix_spawn_file_actions_destroy(&fa);
        (void) posix_spawnattr_destroy(&attr);
        return -r;
}

/* Reads stdout and stderr to EOF or the deadline: 0, -ETIMEDOUT or -E2BIG. */
static int collect(int out_fd, int err_fd, struct buf *out, struct buf *errtail)
{
        long long deadline = now_ms() + AWS_PROCESS_TIMEOUT_S * 1000LL;
        struct pollfd p[2] = {{.fd = out_fd, .events = POLLIN}, {.fd = err_fd, .events = POLLIN}};
        char chunk[4096];
        int r = 0;

        while (r == 0 && (p[0].fd >= 0 || p[1].fd >= 0)) {
                long long left = deadline - now_ms();
                if (left <= 0) {
                        r = -ETIMEDOUT;
                        break;
                }
                int n = poll(p, 2, (int) MIN(left, 1000LL));
                if (n < 0 && errno != EINTR)
                        r = -errno;
                for (int i = 0; n > 0 && r == 0 && i < 2; i++) {
                        if (p[i].fd < 0 || !p[i].revents)
                                continue;
                        ssize_t k = read(p[i].fd, chunk, sizeof(chunk));
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k <= 0)
                                p[i].fd = -1;
                        else if (i == 0 && buf_append(out, chunk, (size_t) k) < 0)
                                r = -E2BIG;
                        else if (i == 1)
                                tail_append(errtail, chunk, (size_t) k);
                }
        }
        OPENSSL_cleanse(chunk, sizeof(chunk));
        return r;
}

/* The exit status; when a PID 1 reaper took the child first, judge by the output alone. */
static int wait_child(pid_t pid, bool had_output)
{
        int status = 0;
        while (waitpid(pid, &status, 0) < 0) {
                if (errno != EINTR)
                        return had_output ? 0 : 1 << 8;
        }
        return status;
}

int aws_process_run(const char *command, struct s3_credentials *ret, struct lerr **err)
{
        _cleanup_close_ int out_r = -1, out_w = -1, err_r = -1, err_w = -1;
        _cleanup_(buf_cleanse_done) struct buf out = BUF_INIT(AWS_PROCESS_OUTPUT_MAX);
        _cleanup_(buf_done) struct buf errtail = BUF_INIT(4096);
        int po[2], pe[2];
        pid_t pid;

        if (pipe2(po, O_CLOEXEC) < 0)
                return lerr_errno(err, errno, "pipe");
        out_r = po[0];
        out_w = po[1];
        if (pipe2(pe, O_CLOEXEC) < 0)
                return lerr_errno(err, errno, "pipe");
        err_r = pe[0];
        err_w = pe[1];
        int r = spawn_shell(command, out_w, err_w, &pid);
        if (r < 0)
                return lerr_errno(err, -r, "run /bin/sh");
        /* our copies of the write ends would keep the reads from ever seeing EOF */
        (void) close(TAKE_FD(out_w));
        (void) close(TAKE_FD(err_w));
        r = collect(out_r, err_r, &out, &errtail);
        if (r < 0)
                (void) kill(-pid, SIGKILL);
        int status = wait_child(pid, out.len > 0);
        if (r == -ETIMEDOUT)
                return lerr_set(err, ETIMEDOUT, "no answer within %d s", AWS_PROCESS_TIMEOUT_S);
        if (r == -E2BIG)
                return lerr_set(err, E2BIG, "output over the limit of %u bytes",
                                AWS_PROCESS_OUTPUT_MAX);
        if (r < 0)
                return lerr_errno(err, -r, "read its output");
        if (WIFSIGNALED(status))
                return lerr_set(err, EIO, "killed by signal %d", WTERMSIG(status));
        if (WEXITSTATUS(status) != 0) {
                _cleanup_free_ char *line = last_line(errtail.data ?: "", errtail.len);
                return lerr_set(err, EIO, "exit status %d%s%s", WEXITSTATUS(status),
                                line[0] ? ": " : "", line);
        }
        return aws_process_parse(out.data ?: "", out.len, ret, err);
}

char *aws_assume_role_form(const struct aws_profile *p, const char *session)
{
        _cleanup_free_ char *role = s3_uri_encode(p->v[AWS_KEY_ROLE_ARN], true);
        _cleanup_free_ char *esession = s3_uri_encode(session, true);
        _cleanup_free_ char *ext =
                p->v[AWS_KEY_EXTERNAL_ID] ? s3_uri_encode(p->v[AWS_KEY_EXTERNAL_ID], true) : NULL;
        const char *duration = p->v[AWS_KEY_DURATION_SECONDS];
        return xasprintf(
                "Action=AssumeRole&Version=2011-06-15&RoleArn=%s&RoleSessionName=%s%s%s%s%s", role,
                esession, duration ? "&DurationSeconds=" : "", duration ?: "",
                ext ? "&ExternalId=" : "", ext ?: "");
}

struct resolver {
        const struct aws_files *f;
        const char *region;
        char **visited; /* the profiles on the way, the first one first */
        int hops;
};

/* The path part of url for the canonical request ("/" when it has none). */
static char *url_path(const char *url)
{
        const char *rest = strstr(url, "://");
        const char *slash = rest ? strchr(rest + 3, '/') : NULL;
        return slash ? xstrndup(slash, strcspn(slash, "?#")) : xstrdup("/");
}

static int sts_headers(const struct s3_credentials *c, const char *url, const char *region,
                       const char *body, char ***ret)
{
        _cleanup_free_ char *authority = NULL, *base = NULL, *path = url_path(url);
        _cleanup_(str_cleanse_free) char *auth = NULL;
        const char *scheme;
        char amz_date[17], digest[DIGEST_STRING_SIZE];
        struct tm tm;
        time_t now = time(NULL);
        if (s3_endpoint_split(url, &scheme, &authority, &base) < 0 || !gmtime_r(&now, &tm) ||
            strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", &tm) != 16)
                return -EINVAL;
        digest_buffer(body, strlen(body), digest);
        static const char ctype[] = "application/x-www-form-urlencoded; charset=utf-8";
        struct s3_header h[4] = {
                {"content-type", ctype},
                {"host", authority},
                {"x-amz-date", amz_date},
                {"x-amz-security-token", c->session_token},
        };
        struct s3_sign_input in = {
                .method = "POST",
                .path = path,
                .headers = h,
                .n_headers = c->session_token ? 4 : 3,
                .payload_hash = digest + strlen("sha256:"),
                .amz_date = amz_date,
                .region = region,
                .service = "sts",
                .access_key = c->access_key,
                .secret_key = c->secret_key,
        };
        int r = s3_sign(&in, &auth);
        if (r < 0)
                return r;
        char **l = NULL;
        strv_consume(&l, xasprintf("Content-Type: %s", ctype));
        strv_consume(&l, xasprintf("X-Amz-Date: %s", amz_date));
        if (c->session_token)
                strv_consume(&l, xasprintf("X-Amz-Security-Token: %s", c->session_token));
        strv_consume(&l, xasprintf("Authorization: %s", auth));
        strv_push(&l, "Accept: application/xml");
        strv_push(&l, "Expect:");
        *ret = l;
        return 0;
}

static int sts_http_error(const char *name, const char *role, const char *url, long status,
                          const struct buf *body, struct lerr **err)
{
        _cleanup_free_ char *code = NULL, *message = NULL;
        s3_error_parse(body->data, body->len, &code, &message);
        return lerr_set(err, status == 403 || status == 401 ? EACCES : EIO,
                        "AWS profile '%s': assume role '%s' at '%s': HTTP %ld%s%s%s%s", name, role,
                        url, status, code ? " " : "", code ? code : "", message ? ": " : "",
                        message ? message : "");
}

/* One STS AssumeRole call for profile name, signed with src. */
static int assume_role_call(const char *name, const struct aws_profile *p,
                            const struct s3_credentials *src, const char *region,
                            struct s3_credentials *ret, struct lerr **err)
{
        const char *role = p->v[AWS_KEY_ROLE_ARN];
        const char *mode =
                p->v[AWS_KEY_STS_REGIONAL_ENDPOINTS] ?: env("AWS_STS_REGIONAL_ENDPOINTS");
        bool regional = mode && !strcasecmp(mode, "regional");
        bool custom = env("AWS_ENDPOINT_URL_STS") || env("AWS_ENDPOINT_URL");
        _cleanup_free_ char *url = aws_sts_url(region, !regional);
        _cleanup_free_ char *session = p->v[AWS_KEY_ROLE_SESSION_NAME]
                                               ? xstrdup(p->v[AWS_KEY_ROLE_SESSION_NAME])
                                               : xasprintf("lading-%lld", (long long) time(NULL));
        _cleanup_(str_cleanse_free) char *form = aws_assume_role_form(p, session);
        _cleanup_(strv_cleanse_free) char **headers = NULL;
        _cleanup_(buf_cleanse_done) struct buf body = BUF_INIT(AWS_CREDS_RESPONSE_MAX);
        long status = 0;

        /* the global endpoint is signed for us-east-1 */
        const char *sign_region =
                regional || custom || startswith(region, "cn-") ? region : "us-east-1";
        if (sts_headers(src, url, sign_region, form, &headers) < 0)
                return lerr_set(err, EINVAL,
                                "AWS profile '%s': sign the AssumeRole request for '%s'", name,
                                url);
        log_debug("AWS credentials: profile '%s' assumes role '%s' at %s with access key ID %s",
                  name, role, url, src->access_key);
        int r = aws_post(url, (const char *const *) headers, form, &body, &status, err);
        if (r < 0)
                return lerr_wrap(err, "AWS profile '%s': assume role '%s' at '%s'", name, role,
                                 url);
        if (status != 200)
                return sts_http_error(name, role, url, status, &body, err);
        r = aws_sts_parse(body.data ?: "", body.len, ret, err);
        if (r < 0)
                return lerr_wrap(err, "AWS profile '%s': assume role '%s' at '%s'", name, role,
                                 url);
        return 1;
}

static int static_keys(const char *name, const struct aws_profile *p, struct s3_credentials *ret,
                       struct lerr **err)
{
        const char *ak = p->v[AWS_KEY_ACCESS_KEY_ID], *sk = p->v[AWS_KEY_SECRET_ACCESS_KEY];
        if (!ak != !sk)
                return lerr_set(err, EINVAL, "AWS profile '%s' has %s but no %s", name,
                                ak ? "aws_access_key_id" : "aws_secret_access_key",
                                ak ? "aws_secret_access_key" : "aws_access_key_id");
        *ret = (struct s3_credentials){
                .access_key = xstrdup(ak),
                .secret_key = xstrdup(sk),
                .session_token =
                        p->v[AWS_KEY_SESSION_TOKEN] ? xstrdup(p->v[AWS_KEY_SESSION_TOKEN]) : NULL,
        };
        return 1;
}

/* credential_source: the signing credentials of a role from the environment or a service. */
static int from_credential_source(const char *name, const char *source, struct s3_credentials *ret,
                                  struct lerr **err)
{
        int r;
        if (!strcmp(source, "Environment")) {
                const char *ak = env("AWS_ACCESS_KEY_ID") ?: env("AWS_ACCESS_KEY");
                const char *sk = env("AWS_SECRET_ACCESS_KEY") ?: env("AWS_SECRET_KEY");
                r = 0;
                if (ak && sk) {
                        *ret = (struct s3_credentials){
                                .access_key = xstrdup(ak),
                                .secret_key = xstrdup(sk),
                                .session_token = env("AWS_SESSION_TOKEN")
                                                         ? xstrdup(env("AWS_SESSION_TOKEN"))
                                                         : NULL,
                        };
                        r = 1;
                }
        } else if (!strcmp(source, "Ec2InstanceMetadata"))
                r = aws_creds_imds(ret, err);
        else if (!strcmp(source, "EcsContainer"))
                r = aws_creds_ecs(ret, err);
        else
                return lerr_set(err, EINVAL,
                                "AWS profile '%s': credential_source '%.64s' is not Environment, "
                                "Ec2InstanceMetadata or EcsContainer",
                                name, source);
        if (r < 0)
                return lerr_wrap(err, "AWS profile '%s': credential_source %s", name, source);
        if (r == 0)
                return lerr_set(err, ENOENT,
                                "AWS profile '%s': credential_source %s has no credentials", name,
                                source);
        return 1;
}

static int resolve(struct resolver *rs, const char *name, const char *parent,
                   struct s3_credentials *ret, const char **ret_source, struct lerr **err);

static int assume_role(struct resolver *rs, const char *name, const struct aws_profile *p,
                       struct s3_credentials *ret, const char **ret_source, struct lerr **err)
{
        _cleanup_(s3_credentials_done) struct s3_credentials src = {0};
        const char *source_profile = p->v[AWS_KEY_SOURCE_PROFILE];
        const char *credential_source = p->v[AWS_KEY_CREDENTIAL_SOURCE];
        const char *ignored = NULL;
        int r;

        if (p->v[AWS_KEY_MFA_SERIAL])
                return lerr_set(err, EINVAL,
                                "AWS profile '%s': mfa_serial is not supported (a build has no "
                                "terminal to type an MFA code)",
                                name);
        if (source_profile && credential_source)
                return lerr_set(err, EINVAL,
                                "AWS profile '%s': source_profile and credential_source are "
                                "mutually exclusive",
                                name);
        if (!source_profile && !credential_source) {
                if (!p->v[AWS_KEY_WEB_IDENTITY_TOKEN_FILE])
                        return lerr_set(err, EINVAL,
                                        "AWS profile '%s': role_arn needs source_profile, "
                                        "credential_source or web_identity_token_file",
                                        name);
                r = aws_web_identity(p->v[AWS_KEY_ROLE_ARN], p->v[AWS_KEY_WEB_IDENTITY_TOKEN_FILE],
                                     "web_identity_token_file", p->v[AWS_KEY_ROLE_SESSION_NAME],
                                     rs->region, ret, err);
                if (r < 0)
                        return lerr_wrap(err, "AWS profile '%s'", name);
                *ret_source = "web identity";
                return 1;
        }
        if (++rs->hops > AWS_PROFILE_MAX_HOPS)
                return lerr_set(err, ELOOP,
                                "AWS profile '%s': more than %d chained role assumptions", name,
                                AWS_PROFILE_MAX_HOPS);
        uint64_t secs = 0;
        const char *duration = p->v[AWS_KEY_DURATION_SECONDS];
        if (duration && (parse_u64(duration, &secs) < 0 || secs < 900 || secs > 43200))
                return lerr_set(err, EINVAL,
                                "AWS profile '%s': duration_seconds '%.32s' is not a number of "
                                "seconds from 900 to 43200",
                                name, duration);
        r = source_profile ? resolve(rs, source_profile, name, &src, &ignored, err)
                           : from_credential_source(name, credential_source, &src, err);
        if (r < 0)
                return r;
        r = assume_role_call(name, p, &src, rs->region, ret, err);
        if (r > 0)
                *ret_source = "AssumeRole";
        return r;
}

static int cycle_error(const struct resolver *rs, const char *name, struct lerr **err)
{
        _cleanup_free_ char *path = strv_join(rs->visited, " -> ");
        return lerr_set(err, ELOOP, "AWS profile '%s': source_profile cycle %s -> %s",
                        rs->visited[0], path, name);
}

static int resolve(struct resolver *rs, const char *name, const char *parent,
                   struct s3_credentials *ret, const char **ret_source, struct lerr **err)
{
        _cleanup_(aws_profile_done) struct aws_profile p = {0};
        int r = aws_files_profile(rs->f, name, &p, err);
        if (r < 0)
                return r;
        if (r == 0 && parent)
                return lerr_set(err, ENOENT,
                                "AWS profile '%s': source_profile '%s' not found in '%s' or '%s'",
                                parent, name, rs->f->creds_path ?: "~/.aws/credentials",
                                rs->f->config_path ?: "~/.aws/config");
        bool keys = p.v[AWS_KEY_ACCESS_KEY_ID] || p.v[AWS_KEY_SECRET_ACCESS_KEY];
        if (strv_contains(rs->visited, name)) {
                /* a profile may name itself as the source of its static keys */
                if (!keys)
                        return cycle_error(rs, name, err);
                *ret_source = "shared files";
                return static_keys(name, &p, ret, err);
        }
        strv_push(&rs->visited, name);
        if (p.v[AWS_KEY_ROLE_ARN])
                return assume_role(rs, name, &p, ret, ret_source, err);
        if (p.v[AWS_KEY_WEB_IDENTITY_TOKEN_FILE])
                return lerr_set(err, EINVAL,
                                "AWS profile '%s': web_identity_token_file needs role_arn", name);
        if (p.v[AWS_KEY_SSO_START_URL] || p.v[AWS_KEY_SSO_SESSION] || p.v[AWS_KEY_SSO_ACCOUNT_ID])
                return lerr_set(err, ENOTSUP,
                                "AWS profile '%s': SSO (IAM Identity Center) credentials are not "
                                "supported; use credential_process or static keys",
                                name);
        if (p.v[AWS_KEY_CREDENTIAL_PROCESS]) {
                log_debug("AWS credentials: profile '%s' runs its credential_process", name);
                r = aws_process_run(p.v[AWS_KEY_CREDENTIAL_PROCESS], ret, err);
                if (r < 0)
                        return lerr_wrap(err, "AWS profile '%s': credential_process", name);
                *ret_source = "credential_process";
                return 1;
        }
        if (keys) {
                *ret_source = "shared files";
                return static_keys(name, &p, ret, err);
        }
        if (parent)
                return lerr_set(err, ENOENT,
                                "AWS profile '%s': source_profile '%s' has no credentials", parent,
                                name);
        return 0;
}

int aws_profile_credentials(const struct aws_files *f, const char *profile, const char *region,
                            struct s3_credentials *ret, const char **ret_source, struct lerr **err)
{
        struct resolver rs = {.f = f, .region = region};
        _cleanup_(s3_credentials_done) struct s3_credentials c = {0};
        const char *source = NULL;
        int r = resolve(&rs, profile, NULL, &c, &source, err);
        strv_free(rs.visited);
        if (r <= 0)
                return r;
        *ret = c;
        c = (struct s3_credentials){0};
        *ret_source = source;
        return 1;
}
