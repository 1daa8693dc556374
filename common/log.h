/* SPDX-License-Identifier: Apache-2.0 */
/* One-line log messages to stderr. Level and format come from --verbosity / --log-format.
 * Never pass a secret to these functions: there is no redaction at this layer. */
#pragma once

#include <stdbool.h>
#include "common/macros.h"

enum log_level {
        LOG_PANIC,
        LOG_FATAL,
        LOG_ERROR,
        LOG_WARN,
        LOG_INFO,
        LOG_DEBUG,
        LOG_TRACE,
};

enum log_format {
        LOG_FORMAT_TEXT,
        LOG_FORMAT_COLOR,
        LOG_FORMAT_JSON,
};

/* Parses "panic|fatal|error|warn|warning|info|debug|trace"; -EINVAL otherwise. */
int log_level_parse(const char *s, enum log_level *ret);
/* Parses "text|color|json"; -EINVAL otherwise. */
int log_format_parse(const char *s, enum log_format *ret);
void log_setup(enum log_level level, enum log_format format, bool timestamps);
enum log_level log_get_level(void);
bool log_enabled(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...) PRINTF(2, 3);
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_trace(...) log_msg(LOG_TRACE, __VA_ARGS__)
