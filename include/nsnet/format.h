/* SPDX-License-Identifier: MIT */
/**
 * @file format.h
 * Addresses and ports written exactly as ss writes them, for tables; and plain
 * inet_ntop for JSON.
 */
#ifndef NSNET_FORMAT_H
#define NSNET_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <nsnet/model.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Enough for "[ffff:...:255.255.255.255]%<15 chars>:<service>". */
#define NSN_FMT_ENDPOINT_LEN 128

/**
 * inet_ntop() of a 4- or 16-byte address.
 * @return @p buf, or "?" for an unknown family.
 */
const char *nsn_fmt_addr(char *buf, size_t len, int family, const uint8_t *addr);

/**
 * ss's "Local Address:Port" for an inet socket end point:
 * "127.0.0.1:80", "[::1]:80", "[::ffff:127.0.0.1]:80", "0.0.0.0%lo:9000",
 * "*:80" (IPv6 wildcard when v6only is not 1), "[::]:80" (IPv6 wildcard, v6only 1),
 * port 0 as "*". With @p numeric false the port is a service name from
 * /etc/services when one exists for (@p proto) tcp or udp; raw ports stay numbers.
 * @return @p buf.
 */
const char *nsn_fmt_endpoint(char *buf, size_t len, const struct nsn_sock *s,
			     const struct nsn_endpoint *ep, bool numeric);

/** ss's unix "Local Address": the path, "@abstract", or "*" when unnamed. */
const char *nsn_fmt_unix_path(const struct nsn_sock *s);

/**
 * Append @p s to the string of @p len bytes at @p buf, whose first @p at bytes are
 * written (@p at < @p len), cutting what does not fit, as snprintf would; the result is
 * always terminated. For formatting many rows fast: no format string to parse.
 * @return the new length.
 */
size_t nsn_fmt_put(char *buf, size_t len, size_t at, const char *s);

/** As nsn_fmt_put(), the digits of @p v in @p base (10 or 16, lower case). */
size_t nsn_fmt_put_u64(char *buf, size_t len, size_t at, unsigned long long v, unsigned base);

#ifdef __cplusplus
}
#endif
#endif
