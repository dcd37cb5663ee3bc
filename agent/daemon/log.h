/* SPDX-License-Identifier: MIT */
/* The agent's log: one line per event on stderr, key=value fields, the level checked
 * before anything is formatted (Redis' serverLog). Values with spaces are quoted by
 * the caller with nsn_log_q(). */
#ifndef NSN_AGENT_LOG_H
#define NSN_AGENT_LOG_H

#include <stddef.h>

enum nsn_log_level { NSN_LOG_ERROR = 0, NSN_LOG_WARN = 1, NSN_LOG_INFO = 2, NSN_LOG_DEBUG = 3 };

extern int nsn_log_threshold;

void nsn_log_emit(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define nsn_log(level, ...)                                 \
	do {                                                \
		if ((level) <= nsn_log_threshold)           \
			nsn_log_emit((level), __VA_ARGS__); \
	} while (0)

/* @p s as a logfmt value: bare when it has no space, quote or '=', else quoted with
 * '"' and '\\' escaped and control characters as '?'. Returns @p buf. */
const char *nsn_log_q(const char *s, char *buf, size_t len);

/* Parse "error|warn|info|debug"; -1 if unknown. */
int nsn_log_level_parse(const char *s);

#endif
