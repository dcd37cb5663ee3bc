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

void json_strn(struct json *j, const char *s, size_t n)
{
	sep(j);
	fputc('"', j->f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			fputc('\\', j->f);
			fputc(c, j->f);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(j->f, "\\u%04x", c);
		} else if (c >= 0x80) {
			/* Paths are bytes, not necessarily UTF-8: escape what is not valid. */
			size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
			bool ok = len > 0 && i + len <= n && c < 0xf5;
			for (size_t k = 1; ok && k < len; k++)
				ok = ((unsigned char)s[i + k] & 0xc0) == 0x80;
			if (ok) {
				fwrite(s + i, 1, len, j->f);
				i += len - 1;
			} else {
				fprintf(j->f, "\\u%04x", c);
			}
		} else {
			fputc(c, j->f);
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
