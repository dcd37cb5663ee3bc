/* SPDX-License-Identifier: MIT */
/**
 * @file rtnames.h
 * The words iproute2 uses for routing and link attributes, so that nsnetstat's
 * tables and JSON spell tables, protocols, scopes, types and flags exactly as
 * `ip route`, `ip rule`, `ip link` and `ip addr` do.
 *
 * Functions taking (buf, len) return a static string for a known value, or write
 * the value in decimal into @p buf (at least 16 bytes) and return @p buf.
 * The names are iproute2 6.1's built-in ones plus what Debian's stock
 * /etc/iproute2 files add; those files themselves are never read.
 */
#ifndef NSNET_RTNAMES_H
#define NSNET_RTNAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Routing table: "unspec" (0), "default" (253), "main" (254), "local" (255), else decimal. */
const char *nsn_rt_table_name(uint32_t table, char *buf, size_t len);
/** Route protocol (RTPROT_*): iproute2's built-in names ("kernel", "boot", "static", ...)
 *  and Debian's rt_protos additions ("openr"); else decimal. */
const char *nsn_rt_proto_name(unsigned proto, char *buf, size_t len);
/** Route or address scope (RT_SCOPE_*): "global", "site", "link", "host", "nowhere". */
const char *nsn_rt_scope_name(unsigned scope, char *buf, size_t len);
/** Route type (RTN_*): "unicast", "local", "broadcast", "anycast", "multicast", ... */
const char *nsn_rt_type_name(unsigned type, char *buf, size_t len);
/** IPv6 router preference (RTA_PREF): "low", "medium", "high"; NULL for anything else. */
const char *nsn_rt_pref_name(unsigned pref);
/**
 * Rule action (FR_ACT_*) as ip rule prints it: "lookup" (FR_ACT_TO_TBL, printed as
 * "lookup TABLE"), "goto", "nop", and for the others ip's route type words:
 * "blackhole", "unreachable", "prohibit" (and "none" for 0).
 */
const char *nsn_rule_action_name(unsigned action, char *buf, size_t len);
/** Operational state (IF_OPER_*): "UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP". */
const char *nsn_link_operstate_name(unsigned operstate, char *buf, size_t len);
/** Link layer type (ARPHRD_*) as ip -j's "link_type": "ether", "loopback", "none", ...;
 *  an unknown type is written "[N]", as ip writes it (not plain decimal). */
const char *nsn_link_type_name(unsigned arptype, char *buf, size_t len);

/**
 * ip link's flag words for IFF_* @p flags, in ip's order ("NO-CARRIER" first when UP
 * but not RUNNING; RUNNING itself never printed; unknown bits as one hex word).
 * @return how many words were stored in ret[0..max-1]; the strings are static
 *         except a hex word, which is written into @p hexbuf (16 bytes).
 */
size_t nsn_link_flag_names(uint32_t flags, const char **ret, size_t max, char *hexbuf);

/** ip route's flag words for rtm_flags / rtnh_flags, in ip's order ("dead", "onlink",
 *  "pervasive", "offload", "trap", "notify", "linkdown", "unresolved", "rt_offload",
 *  "rt_trap", "rt_offload_failed"); other bits print nothing, as in ip.
 *  @return how many words were stored in ret[0..max-1] (static strings). */
size_t nsn_route_flag_names(uint32_t flags, const char **ret, size_t max);

/** ip addr's flag words for IFA_F_*, in ip's order: "secondary" ("temporary" for
 *  AF_INET6), "nodad", "optimistic", "dadfailed", "home", "deprecated", "tentative",
 *  "dynamic" (IFA_F_PERMANENT absent; "permanent" itself is never printed),
 *  "mngtmpaddr", "noprefixroute", "autojoin", "stable-privacy". Unknown bits, which ip
 *  prints as "flags %02x", are left out.
 *  @return how many words were stored in ret[0..max-1] (static strings). */
size_t nsn_addr_flag_names(uint32_t flags, unsigned family, const char **ret, size_t max);

/** A link layer address as ip prints it: lowercase hex bytes joined by ':' (ip's
 *  dotted form for 4-byte tunnel addresses is not reproduced). @return buf. */
char *nsn_fmt_lladdr(const uint8_t *addr, size_t n, char *buf, size_t len);

/**
 * A route or rule prefix as ip prints it: "default" when @p present is false or the
 * length is 0 (ip route) -- callers of ip rule use "all" themselves --, the bare
 * address when @p plen is the full length (32 or 128), else "addr/plen".
 * @return buf.
 */
char *nsn_fmt_prefix(unsigned family, const uint8_t *addr, unsigned plen, bool present,
		     char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
