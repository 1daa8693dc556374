/* SPDX-License-Identifier: Apache-2.0 */
/* Time stamps as Go's time.RFC3339Nano writes them (what Docker, BuildKit and skopeo write in
 * image configs): UTC, "Z", and the fraction of a second without trailing zeros (none at all
 * for a whole second), so that a config re-serialised by Go tools keeps its bytes. */
#pragma once

#include <time.h>

#define TIMEFMT_RFC3339_SIZE 40

/* Writes ts as "2006-01-02T15:04:05.999999999Z" into buf. Returns buf. */
char *timefmt_rfc3339(struct timespec ts, char buf[TIMEFMT_RFC3339_SIZE]);
/* The current time, formatted the same way; caller frees. */
char *timefmt_now(void);
