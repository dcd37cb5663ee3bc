/* SPDX-License-Identifier: MIT */
/* A streaming JSON writer: compact output, one document per line, strings escaped per
 * RFC 8259 (unix socket names may hold any byte). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void sep(struct json *j)
{
	if (j->need_comma[j->depth])
		fputc(',', j->f);
	j->need_comma[j->depth] = true;
}

static void open_(struct json *j, char c)
{
	sep(j);
	fputc(c, j->f);
	if (j->depth + 1 < (int)(sizeof(j->need_comma) / sizeof(j->need_comma[0])))
		j->depth++;
	j->need_comma[j->depth] = false;
}

static void close_(struct json *j, char c)
{
	if (j->depth > 0)
		j->depth--;
	fputc(c, j->f);
}

void json_begin_obj(struct json *j) { open_(j, '{'); }
void json_end_obj(struct json *j) { close_(j, '}'); }
void json_begin_arr(struct json *j) { open_(j, '['); }
void json_end_arr(struct json *j) { close_(j, ']'); }

void json_key(struct json *j, const char *key)
{
	json_str(j, key);
	fputc(':', j->f);
	/* The value that follows must not be preceded by a comma. */
	j->need_comma[j->depth] = false;
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629, table 3-7), or 0: this
 * rejects overlong forms, surrogates and code points above U+10FFFF. */
size_t json_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t k = 2; k < len; k++)
		if ((s[k] & 0xc0) != 0x80)
			return 0;
	return len;
}

void json_strn(struct json *j, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	sep(j);
	fputc('"', j->f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = u[i];
		if (c == '"' || c == '\\') {
			fputc('\\', j->f);
			fputc(c, j->f);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(j->f, "\\u%04x", c);
		} else if (c < 0x80) {
			fputc(c, j->f);
		} else {
			/* Unix socket paths are bytes: a byte that is not part of well-formed
			 * UTF-8 becomes U+FFFD, so the document always parses. */
			size_t len = json_utf8_len(u + i, n - i);
			if (len) {
				fwrite(u + i, 1, len, j->f);
				i += len - 1;
			} else {
				fputs("\\ufffd", j->f);
			}
		}
	}
	fputc('"', j->f);
}

void json_str(struct json *j, const char *s)
{
	if (!s) {
		json_null(j);
		return;
	}
	json_strn(j, s, strlen(s));
}

void json_u64(struct json *j, unsigned long long v)
{
	sep(j);
	fprintf(j->f, "%llu", v);
}

void json_i64(struct json *j, long long v)
{
	sep(j);
	fprintf(j->f, "%lld", v);
}

void json_double(struct json *j, double v)
{
	sep(j);
	fprintf(j->f, "%.3f", v);
}

void json_bool(struct json *j, bool v)
{
	sep(j);
	fputs(v ? "true" : "false", j->f);
}

void json_null(struct json *j)
{
	sep(j);
	fputs("null", j->f);
}
