/* SPDX-License-Identifier: MIT */
/* What every fuzz target shares: the libFuzzer entry point each defines, and the check
 * that turns a broken invariant into an abort a fuzzer records (and a replay fails on).
 *
 * Each target is built twice: with -DNSN_LIBFUZZER as a libFuzzer target, and without
 * it linked with replay.c, whose main() runs the checked-in corpus through it. */
#ifndef NSN_FUZZ_H
#define NSN_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(c)                                                                              \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #c);  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif
