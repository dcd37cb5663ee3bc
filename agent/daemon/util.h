/* SPDX-License-Identifier: MIT */
/* What the daemons and nsnetstat --collector share beyond the log: the address
 * syntax of --collector/--listen/--http and reading a --token-file. */
#ifndef NSN_DAEMON_UTIL_H
#define NSN_DAEMON_UTIL_H

#include <stdbool.h>
#include <stddef.h>

struct nsn_hostport {
	bool unix_path;  /* unix:PATH */
	char host[256];  /* HOST of HOST:PORT (brackets removed), or the unix path */
	char port[8];    /* decimal, "" for unix */
};

/* HOST:PORT, [IPV6]:PORT or unix:PATH (when @p allow_unix). The syntax is checked
 * here; names are resolved when used. Returns 0, or -EINVAL with one line in @p err
 * saying what is wrong with it (without the flag's name). */
int nsn_addr_parse(const char *s, bool allow_unix, struct nsn_hostport *ret, char *err, size_t err_len);

/* A token file's contents without its trailing newline(s), at most 4096 bytes and not
 * empty. Returns 0 with a new string in *ret (free()) and its length, or -errno with
 * one line in @p err. */
int nsn_token_read(const char *path, char **ret, size_t *ret_len, char *err, size_t err_len);

/* Whether two tokens are equal, in time that depends only on @p want_len (the
 * configured token's), never on where they first differ. */
bool nsn_token_equal(const void *want, size_t want_len, const void *got, size_t got_len);

struct sockaddr_storage;
/* The address (without brackets) and port of an AF_INET or AF_INET6 socket address, for
 * logs: "?" and 0 for anything else. */
void nsn_sockaddr_name(const struct sockaddr_storage *ss, char *ip, size_t ip_len,
		       unsigned *ret_port);

#endif
