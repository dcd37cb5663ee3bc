/* SPDX-License-Identifier: MIT */
/* One write(2) per line, so that lines from the loop and the scan thread never
 * interleave mid-line on stderr. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

int nsn_log_threshold = NSN_LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void nsn_log_emit(int level, const char *fmt, ...)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n, m;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line), "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s ", tm.tm_year + 1900,
		     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
		     level_names[level < 0 ? 0 : level > 3 ? 3 : level]);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2; /* truncated, still one line */
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* Nowhere left to say it. */
	}
}

const char *nsn_log_q(const char *s, char *buf, size_t len)
{
	size_t o = 0;
	int quote = !s || !*s;

	if (!s)
		s = "";
	for (const char *p = s; *p && !quote; p++)
		quote = *p == ' ' || *p == '"' || *p == '=' || (unsigned char)*p < 0x20;
	if (!quote) {
		snprintf(buf, len, "%s", s);
		return buf;
	}
	if (len < 3) {
		if (len)
			buf[0] = 0;
		return buf;
	}
	buf[o++] = '"';
	for (const char *p = s; *p && o + 3 < len; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else {
			buf[o++] = c < 0x20 ? '?' : (char)c;
		}
	}
	buf[o++] = '"';
	buf[o] = 0;
	return buf;
}

int nsn_log_level_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (!strcmp(s, level_names[i]))
			return i;
	return -1;
}
