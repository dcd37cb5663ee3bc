/* SPDX-License-Identifier: MIT */
/* A tiny test harness: TEST() cases, ASSERT_* macros that print both values, TAP output.
 * main() comes from TEST_MAIN(); a test binary exits 1 if any assertion failed. */
#ifndef NSN_TAP_H
#define NSN_TAP_H
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tap_case {
	const char *name;
	void (*fn)(void);
};
extern int tap_failed;
extern int tap_asserts;

#define TAP_FAIL(...)                                                                    \
	do {                                                                             \
		fprintf(stderr, "# %s:%d: ", __FILE__, __LINE__);                        \
		fprintf(stderr, __VA_ARGS__);                                            \
		fputc('\n', stderr);                                                     \
		tap_failed++;                                                            \
	} while (0)

#define ASSERT_TRUE(c)                                                                   \
	do {                                                                             \
		tap_asserts++;                                                           \
		if (!(c))                                                                \
			TAP_FAIL("assertion failed: %s", #c);                            \
	} while (0)
#define ASSERT_EQ(a, b)                                                                  \
	do {                                                                             \
		long long a_ = (long long)(a), b_ = (long long)(b);                      \
		tap_asserts++;                                                           \
		if (a_ != b_)                                                            \
			TAP_FAIL("%s == %s: %lld != %lld", #a, #b, a_, b_);              \
	} while (0)
#define ASSERT_STREQ(a, b)                                                               \
	do {                                                                             \
		const char *a_ = (a), *b_ = (b);                                         \
		tap_asserts++;                                                           \
		if (!a_ || !b_ || strcmp(a_, b_) != 0)                                   \
			TAP_FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)",   \
				 b_ ? b_ : "(null)");                                    \
	} while (0)
/* Both NULL, or equal strings: NULL and "" differ (a model's NULL is "not known"). */
#define ASSERT_SAME_STR(a, b)                                                            \
	do {                                                                             \
		const char *x_ = (a), *y_ = (b);                                         \
		tap_asserts++;                                                           \
		if (!x_ != !y_ || (x_ && strcmp(x_, y_) != 0))                           \
			TAP_FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b, x_ ? x_ : "(null)",   \
				 y_ ? y_ : "(null)");                                    \
	} while (0)

#define TEST(n) static void n(void)
#define TEST_MAIN(...)                                                                   \
	int tap_failed, tap_asserts;                                                     \
	int main(void)                                                                   \
	{                                                                                \
		static const struct tap_case cases[] = {__VA_ARGS__};                    \
		size_t n = sizeof(cases) / sizeof(cases[0]);                             \
		printf("1..%zu\n", n);                                                   \
		for (size_t i = 0; i < n; i++) {                                         \
			int before = tap_failed;                                         \
			cases[i].fn();                                                   \
			printf("%s %zu - %s\n", tap_failed == before ? "ok" : "not ok",  \
			       i + 1, cases[i].name);                                    \
		}                                                                        \
		if (tap_asserts == 0) {                                                  \
			fprintf(stderr, "# no assertions ran\n");                        \
			return 1;                                                        \
		}                                                                        \
		return tap_failed ? 1 : 0;                                               \
	}
#define CASE(fn) {#fn, fn}

/* An exact-size heap copy of @p len bytes: no terminating NUL for a parser to lean on. */
char *tap_dup_exact(const char *s, size_t len);
/* The whole file @p dir/@p name (heap, not NUL-terminated), its size in *ret_len; NULL
 * after a TAP_FAIL when it cannot be read or is empty. */
char *tap_load(const char *dir, const char *name, size_t *ret_len);
#endif
