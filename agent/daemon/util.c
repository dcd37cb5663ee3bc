/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "util.h"

__attribute__((format(printf, 3, 4))) static int einval(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int nsn_addr_parse(const char *s, bool allow_unix, struct nsn_hostport *ret, char *err, size_t err_len)
{
	const char *colon, *whole = s;
	char *end;
	unsigned long p;
	size_t hl;

	memset(ret, 0, sizeof(*ret));
	if (!*s)
		return einval(err, err_len, "'': empty address");
	if (!strncmp(s, "unix:", 5)) {
		if (!allow_unix)
			return einval(err, err_len, "'%s': a unix socket is not allowed here", s);
		if (!s[5])
			return einval(err, err_len, "'%s': unix: needs a path", s);
		if (strlen(s + 5) >= 108)
			return einval(err, err_len, "'%s': unix socket path longer than 107 bytes", s);
		snprintf(ret->host, sizeof(ret->host), "%s", s + 5);
		ret->unix_path = true;
		return 0;
	}
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return einval(err, err_len, "'%s': expected [IPV6]:PORT", s);
		hl = (size_t)(rb - s - 1);
		colon = rb + 1;
		s++;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return einval(err, err_len, "'%s': expected HOST:PORT, [IPV6]:PORT%s (no port)", s,
				      allow_unix ? " or unix:PATH" : "");
		if (memchr(s, ':', (size_t)(colon - s)))
			return einval(err, err_len, "'%s': an IPv6 address needs brackets: [ADDR]:PORT", s);
		hl = (size_t)(colon - s);
	}
	if (hl == 0)
		return einval(err, err_len, "'%s': empty host", whole);
	if (hl >= sizeof(ret->host))
		return einval(err, err_len, "'%s': host name too long", whole);
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || p > 65535 || colon[1] == '-' || colon[1] == '+')
		return einval(err, err_len, "'%s': the port '%s' must be a number from 0 to 65535", whole,
			      colon + 1);
	memcpy(ret->host, s, hl);
	ret->host[hl] = 0;
	snprintf(ret->port, sizeof(ret->port), "%lu", p);
	return 0;
}

int nsn_token_read(const char *path, char **ret, size_t *ret_len, char *err, size_t err_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	char buf[4097];
	ssize_t n = 0;
	size_t len = 0;

	*ret = NULL;
	*ret_len = 0;
	if (fd < 0) {
		int e = errno;
		snprintf(err, err_len, "%s", strerror(e));
		return -e;
	}
	while (len < sizeof(buf) && (n = read(fd, buf + len, sizeof(buf) - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		len += (size_t)n;
	}
	int e = n < 0 ? errno : 0;
	close(fd);
	if (e) {
		snprintf(err, err_len, "%s", strerror(e));
		return -e;
	}
	if (len >= sizeof(buf)) {
		snprintf(err, err_len, "larger than 4096 bytes");
		return -EFBIG;
	}
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (!len) {
		snprintf(err, err_len, "empty token");
		return -EINVAL;
	}
	if (!(*ret = malloc(len + 1))) {
		snprintf(err, err_len, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	memcpy(*ret, buf, len);
	(*ret)[len] = 0;
	*ret_len = len;
	return 0;
}

bool nsn_token_equal(const void *want, size_t want_len, const void *got, size_t got_len)
{
	const volatile uint8_t *w = want, *g = got;
	uint8_t diff = got_len != want_len;

	/* Walk the configured token's length whatever was sent; read the sent bytes
	 * cyclically so a short one costs the same and is never read past. */
	for (size_t i = 0; i < want_len; i++)
		diff |= (uint8_t)(w[i] ^ (got_len ? g[i % got_len] : 0));
	return diff == 0;
}

void nsn_sockaddr_name(const struct sockaddr_storage *ss, char *ip, size_t ip_len,
		       unsigned *ret_port)
{
	const struct sockaddr_in *v4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)ss;

	*ret_port = 0;
	snprintf(ip, ip_len, "?");
	if (ss->ss_family == AF_INET && inet_ntop(AF_INET, &v4->sin_addr, ip, (socklen_t)ip_len))
		*ret_port = ntohs(v4->sin_port);
	else if (ss->ss_family == AF_INET6 && inet_ntop(AF_INET6, &v6->sin6_addr, ip, (socklen_t)ip_len))
		*ret_port = ntohs(v6->sin6_port);
}
