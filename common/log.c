/* SPDX-License-Identifier: Apache-2.0 */
/* Logging: one write(2) per line so that lines from threads and children never interleave. */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"

static enum log_level current_level = LOG_INFO;
static enum log_format current_format = LOG_FORMAT_TEXT;
static bool with_timestamps;

static const char *const level_names[] = {
        [LOG_PANIC] = "panic", [LOG_FATAL] = "fatal", [LOG_ERROR] = "error", [LOG_WARN] = "warn",
        [LOG_INFO] = "info",   [LOG_DEBUG] = "debug", [LOG_TRACE] = "trace",
};

int log_level_parse(const char *s, enum log_level *ret)
{
        if (streq(s, "warning")) {
                *ret = LOG_WARN;
                return 0;
        }
        for (size_t i = 0; i < ARRAY_SIZE(level_names); i++)
                if (streq(s, level_names[i])) {
                        *ret = (enum log_level) i;
                        return 0;
                }
        return -EINVAL;
}

int log_format_parse(const char *s, enum log_format *ret)
{
        if (streq(s, "text"))
                *ret = LOG_FORMAT_TEXT;
        else if (streq(s, "color"))
                *ret = LOG_FORMAT_COLOR;
        else if (streq(s, "json"))
                *ret = LOG_FORMAT_JSON;
        else
                return -EINVAL;
        return 0;
}

void log_setup(enum log_level level, enum log_format format, bool timestamps)
{
        current_level = level;
        current_format = format;
        with_timestamps = timestamps;
}

enum log_level log_get_level(void)
{
        return current_level;
}

bool log_enabled(enum log_level level)
{
        return level <= current_level;
}

static void append_timestamp(struct buf *b)
{
        struct timespec ts;
        struct tm tm;
        char s[64];
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
        (void) !buf_printf(b, "%s.%03ldZ", s, ts.tv_nsec / 1000000);
}

static void append_json_string(struct buf *b, const char *s)
{
        (void) !buf_append(b, "\"", 1);
        for (; *s; s++) {
                unsigned char c = (unsigned char) *s;
                if (c == '"' || c == '\\')
                        (void) !buf_printf(b, "\\%c", c);
                else if (c < 0x20)
                        (void) !buf_printf(b, "\\u%04x", c);
                else
                        (void) !buf_append(b, s, 1);
        }
        (void) !buf_append(b, "\"", 1);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
        struct buf b = BUF_INIT(64 * 1024);
        va_list ap;

        if (!log_enabled(level))
                return;
        va_start(ap, fmt);
        _cleanup_free_ char *msg = xvasprintf(fmt, ap);
        va_end(ap);

        if (current_format == LOG_FORMAT_JSON) {
                (void) !buf_printf(&b, "{\"level\":\"%s\",\"msg\":", level_names[level]);
                append_json_string(&b, msg);
                if (with_timestamps) {
                        (void) !buf_append_str(&b, ",\"time\":\"");
                        append_timestamp(&b);
                        (void) !buf_append_str(&b, "\"");
                }
                (void) !buf_append_str(&b, "}\n");
        } else {
                if (with_timestamps) {
                        append_timestamp(&b);
                        (void) !buf_append_str(&b, " ");
                }
                bool color = current_format == LOG_FORMAT_COLOR && isatty(STDERR_FILENO);
                const char *tint = level <= LOG_ERROR   ? "\033[31m"
                                   : level == LOG_WARN  ? "\033[33m"
                                   : level >= LOG_DEBUG ? "\033[90m"
                                                        : "";
                /* info lines are the build's narrative: no prefix, as Kaniko prints them */
                if (level != LOG_INFO)
                        (void) !buf_printf(&b, "%s%s:%s ", color ? tint : "", level_names[level],
                                           color ? "\033[0m" : "");
                (void) !buf_printf(&b, "%s\n", msg);
        }
        if (b.data) {
                size_t off = 0;
                while (off < b.len) {
                        ssize_t n = write(STDERR_FILENO, b.data + off, b.len - off);
                        if (n <= 0)
                                break;
                        off += (size_t) n;
                }
        }
        buf_done(&b);
}
