/* SPDX-License-Identifier: MIT */
/* The CLI's JSON writer: escaping, and that any byte string yields valid UTF-8. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tap.h"

static char out[512];

static const char *enc(const char *s, size_t n)
{
	FILE *f = fmemopen(out, sizeof(out), "w");
	struct json j = {.f = f};

	json_strn(&j, s, n);
	fclose(f);
	return out;
}

TEST(escapes)
{
	ASSERT_STREQ(enc("a\"b\\c", 5), "\"a\\\"b\\\\c\"");
	ASSERT_STREQ(enc("\n\x01\x7f", 3), "\"\\u000a\\u0001\\u007f\"");
	ASSERT_STREQ(enc("@abs@name", 9), "\"@abs@name\"");
}

TEST(valid_utf8_kept)
{
	ASSERT_STREQ(enc("\xc3\xa9", 2), "\"\xc3\xa9\"");                 /* é */
	ASSERT_STREQ(enc("\xe2\x82\xac", 3), "\"\xe2\x82\xac\"");         /* € */
	ASSERT_STREQ(enc("\xf0\x9f\x98\x80", 4), "\"\xf0\x9f\x98\x80\""); /* U+1F600 */
	ASSERT_STREQ(enc("\xf4\x8f\xbf\xbf", 4), "\"\xf4\x8f\xbf\xbf\""); /* U+10FFFF */
}

TEST(invalid_utf8_replaced)
{
	ASSERT_STREQ(enc("\xc0\x80", 2), "\"\\ufffd\\ufffd\"");             /* overlong NUL */
	ASSERT_STREQ(enc("\xe0\x80\x80", 3), "\"\\ufffd\\ufffd\\ufffd\"");  /* overlong */
	ASSERT_STREQ(enc("\xed\xa0\x80", 3), "\"\\ufffd\\ufffd\\ufffd\"");  /* surrogate */
	ASSERT_STREQ(enc("\xf4\x90\x80\x80", 4), "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* > U+10FFFF */
	ASSERT_STREQ(enc("a\xe2\x82", 3), "\"a\\ufffd\\ufffd\"");          /* truncated */
	ASSERT_STREQ(enc("\xff", 1), "\"\\ufffd\"");
}

TEST(commas)
{
	FILE *f = fmemopen(out, sizeof(out), "w");
	struct json j = {.f = f};

	json_begin_obj(&j);
	json_key(&j, "a");
	json_u64(&j, 1);
	json_key(&j, "b");
	json_begin_arr(&j);
	json_bool(&j, true);
	json_null(&j);
	json_end_arr(&j);
	json_end_obj(&j);
	fclose(f);
	ASSERT_STREQ(out, "{\"a\":1,\"b\":[true,null]}");
}

TEST_MAIN(CASE(escapes), CASE(valid_utf8_kept), CASE(invalid_utf8_replaced), CASE(commas))
