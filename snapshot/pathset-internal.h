/* SPDX-License-Identifier: Apache-2.0 */
/* pathset internals exposed for tests. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* SipHash-c-d of p[0..len) with the 128-bit key (k0, k1), little-endian halves. */
uint64_t pathset_siphash(uint64_t k0, uint64_t k1, const void *p, size_t len, int c, int d);
