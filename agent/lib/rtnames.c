/* SPDX-License-Identifier: MIT */
/*
 * The words iproute2 6.1 (Debian 12) prints for routing and link attributes.
 *
 * Each table below follows the iproute2 function named next to it, entry for entry
 * and in the same order where order is visible (flag lists). iproute2 also reads
 * /etc/iproute2/{rt_tables,rt_protos,rt_scopes,rt_dsfield}; we do not, because the
 * agent runs in a container whose /etc is not the host's, and a name that depends on
 * the reader's files cannot be compared across nodes. The built-in tables here are
 * the union of iproute2's compiled-in names and the files Debian's iproute2 package
 * ships unchanged, so a stock system prints the same words as `ip`.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/fib_rules.h>
#include <linux/icmpv6.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_arp.h>
#include <linux/rtnetlink.h>

#include <nsnet/rtnames.h>

/* Newer than some of the kernel headers we may build against; the values are ABI. */
#ifndef RTNH_F_TRAP
#define RTNH_F_TRAP 64
#endif
#ifndef RTM_F_OFFLOAD
#define RTM_F_OFFLOAD 0x4000
#endif
#ifndef RTM_F_TRAP
#define RTM_F_TRAP 0x8000
#endif
#ifndef RTM_F_OFFLOAD_FAILED
#define RTM_F_OFFLOAD_FAILED 0x20000000
#endif
#ifndef IFA_F_STABLE_PRIVACY
#define IFA_F_STABLE_PRIVACY 0x800
#endif
#ifndef ARPHRD_6LOWPAN
#define ARPHRD_6LOWPAN 825
#endif
#ifndef RTPROT_OPENR
#define RTPROT_OPENR 99
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *decimal(unsigned v, char *buf, size_t len)
{
	snprintf(buf, len, "%u", v);
	return buf;
}

/* rtnl_rttable_n2a() with only the reserved names (Debian's rt_tables adds "unspec"). */
const char *nsn_rt_table_name(uint32_t table, char *buf, size_t len)
{
	switch (table) {
	case RT_TABLE_UNSPEC: return "unspec";
	case RT_TABLE_DEFAULT: return "default";
	case RT_TABLE_MAIN: return "main";
	case RT_TABLE_LOCAL: return "local";
	default: return decimal(table, buf, len);
	}
}

/* rtnl_rtprot_tab[] plus Debian's /etc/iproute2/rt_protos, which adds "openr". */
/* clang-format off */
static const char *const rtprot_names[256] = {
	[RTPROT_UNSPEC] = "unspec",
	[RTPROT_REDIRECT] = "redirect",
	[RTPROT_KERNEL] = "kernel",
	[RTPROT_BOOT] = "boot",
	[RTPROT_STATIC] = "static",
	[RTPROT_GATED] = "gated",
	[RTPROT_RA] = "ra",
	[RTPROT_MRT] = "mrt",
	[RTPROT_ZEBRA] = "zebra",
	[RTPROT_BIRD] = "bird",
	[RTPROT_DNROUTED] = "dnrouted",
	[RTPROT_XORP] = "xorp",
	[RTPROT_NTK] = "ntk",
	[RTPROT_DHCP] = "dhcp",
	[RTPROT_KEEPALIVED] = "keepalived",
	[RTPROT_BABEL] = "babel",
	[RTPROT_OPENR] = "openr",
	[RTPROT_BGP] = "bgp",
	[RTPROT_ISIS] = "isis",
	[RTPROT_OSPF] = "ospf",
	[RTPROT_RIP] = "rip",
	[RTPROT_EIGRP] = "eigrp",
};
/* clang-format on */

const char *nsn_rt_proto_name(unsigned proto, char *buf, size_t len)
{
	if (proto < ARRAY_SIZE(rtprot_names) && rtprot_names[proto])
		return rtprot_names[proto];
	return decimal(proto, buf, len);
}

/* rtnl_rtscope_tab[]; Debian's rt_scopes repeats the same five. */
const char *nsn_rt_scope_name(unsigned scope, char *buf, size_t len)
{
	switch (scope) {
	case RT_SCOPE_UNIVERSE: return "global";
	case RT_SCOPE_SITE: return "site";
	case RT_SCOPE_LINK: return "link";
	case RT_SCOPE_HOST: return "host";
	case RT_SCOPE_NOWHERE: return "nowhere";
	default: return decimal(scope, buf, len);
	}
}

/* rtnl_rtntype_n2a(): RTN_UNSPEC is "none". */
const char *nsn_rt_type_name(unsigned type, char *buf, size_t len)
{
	switch (type) {
	case RTN_UNSPEC: return "none";
	case RTN_UNICAST: return "unicast";
	case RTN_LOCAL: return "local";
	case RTN_BROADCAST: return "broadcast";
	case RTN_ANYCAST: return "anycast";
	case RTN_MULTICAST: return "multicast";
	case RTN_BLACKHOLE: return "blackhole";
	case RTN_UNREACHABLE: return "unreachable";
	case RTN_PROHIBIT: return "prohibit";
	case RTN_THROW: return "throw";
	case RTN_NAT: return "nat";
	case RTN_XRESOLVE: return "xresolve";
	default: return decimal(type, buf, len);
	}
}

/* print_rt_pref() in ip/iproute.c. */
const char *nsn_rt_pref_name(unsigned pref)
{
	switch (pref) {
	case ICMPV6_ROUTER_PREF_LOW: return "low";
	case ICMPV6_ROUTER_PREF_MEDIUM: return "medium";
	case ICMPV6_ROUTER_PREF_HIGH: return "high";
	default: return NULL;
	}
}

/*
 * print_rule() in ip/iprule.c names FR_ACT_GOTO and FR_ACT_NOP itself and passes
 * every other action except FR_ACT_TO_TBL through rtnl_rtntype_n2a(): the FR_ACT_*
 * numbers 6..8 coincide with RTN_BLACKHOLE..RTN_PROHIBIT, which is where "blackhole",
 * "unreachable" and "prohibit" come from (and why 0 reads "none"). FR_ACT_TO_TBL
 * prints as "lookup TABLE", hence "lookup".
 */
const char *nsn_rule_action_name(unsigned action, char *buf, size_t len)
{
	switch (action) {
	case FR_ACT_TO_TBL: return "lookup";
	case FR_ACT_GOTO: return "goto";
	case FR_ACT_NOP: return "nop";
	default: return nsn_rt_type_name(action, buf, len);
	}
}

/* oper_states[] in ip/ipaddress.c. */
/* clang-format off */
static const char *const oper_states[] = {
	"UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP",
};
/* clang-format on */

const char *nsn_link_operstate_name(unsigned operstate, char *buf, size_t len)
{
	if (operstate < ARRAY_SIZE(oper_states))
		return oper_states[operstate];
	return decimal(operstate, buf, len);
}

/* arphrd_names[] of ll_type_n2a() in lib/ll_types.c (6.1: 0 is "netrom"). */
/* clang-format off */
static const struct {
	unsigned type;
	const char *name;
} arphrd_names[] = {
	{ARPHRD_NETROM, "netrom"},
	{ARPHRD_ETHER, "ether"},
	{ARPHRD_EETHER, "eether"},
	{ARPHRD_AX25, "ax25"},
	{ARPHRD_PRONET, "pronet"},
	{ARPHRD_CHAOS, "chaos"},
	{ARPHRD_IEEE802, "ieee802"},
	{ARPHRD_ARCNET, "arcnet"},
	{ARPHRD_APPLETLK, "atalk"},
	{ARPHRD_DLCI, "dlci"},
	{ARPHRD_ATM, "atm"},
	{ARPHRD_METRICOM, "metricom"},
	{ARPHRD_IEEE1394, "ieee1394"},
	{ARPHRD_INFINIBAND, "infiniband"},
	{ARPHRD_SLIP, "slip"},
	{ARPHRD_CSLIP, "cslip"},
	{ARPHRD_SLIP6, "slip6"},
	{ARPHRD_CSLIP6, "cslip6"},
	{ARPHRD_RSRVD, "rsrvd"},
	{ARPHRD_ADAPT, "adapt"},
	{ARPHRD_ROSE, "rose"},
	{ARPHRD_X25, "x25"},
	{ARPHRD_HWX25, "hwx25"},
	{ARPHRD_CAN, "can"},
	{ARPHRD_PPP, "ppp"},
	{ARPHRD_HDLC, "hdlc"},
	{ARPHRD_LAPB, "lapb"},
	{ARPHRD_DDCMP, "ddcmp"},
	{ARPHRD_RAWHDLC, "rawhdlc"},
	{ARPHRD_TUNNEL, "ipip"},
	{ARPHRD_TUNNEL6, "tunnel6"},
	{ARPHRD_FRAD, "frad"},
	{ARPHRD_SKIP, "skip"},
	{ARPHRD_LOOPBACK, "loopback"},
	{ARPHRD_LOCALTLK, "ltalk"},
	{ARPHRD_FDDI, "fddi"},
	{ARPHRD_BIF, "bif"},
	{ARPHRD_SIT, "sit"},
	{ARPHRD_IPDDP, "ip/ddp"},
	{ARPHRD_IPGRE, "gre"},
	{ARPHRD_PIMREG, "pimreg"},
	{ARPHRD_HIPPI, "hippi"},
	{ARPHRD_ASH, "ash"},
	{ARPHRD_ECONET, "econet"},
	{ARPHRD_IRDA, "irda"},
	{ARPHRD_FCPP, "fcpp"},
	{ARPHRD_FCAL, "fcal"},
	{ARPHRD_FCPL, "fcpl"},
	{ARPHRD_FCFABRIC, "fcfb0"},
	{ARPHRD_FCFABRIC + 1, "fcfb1"},
	{ARPHRD_FCFABRIC + 2, "fcfb2"},
	{ARPHRD_FCFABRIC + 3, "fcfb3"},
	{ARPHRD_FCFABRIC + 4, "fcfb4"},
	{ARPHRD_FCFABRIC + 5, "fcfb5"},
	{ARPHRD_FCFABRIC + 6, "fcfb6"},
	{ARPHRD_FCFABRIC + 7, "fcfb7"},
	{ARPHRD_FCFABRIC + 8, "fcfb8"},
	{ARPHRD_FCFABRIC + 9, "fcfb9"},
	{ARPHRD_FCFABRIC + 10, "fcfb10"},
	{ARPHRD_FCFABRIC + 11, "fcfb11"},
	{ARPHRD_FCFABRIC + 12, "fcfb12"},
	{ARPHRD_IEEE802_TR, "tr"},
	{ARPHRD_IEEE80211, "ieee802.11"},
	{ARPHRD_IEEE80211_PRISM, "ieee802.11/prism"},
	{ARPHRD_IEEE80211_RADIOTAP, "ieee802.11/radiotap"},
	{ARPHRD_IEEE802154, "ieee802.15.4"},
	{ARPHRD_IEEE802154_MONITOR, "ieee802.15.4/monitor"},
	{ARPHRD_PHONET, "phonet"},
	{ARPHRD_PHONET_PIPE, "phonet_pipe"},
	{ARPHRD_CAIF, "caif"},
	{ARPHRD_IP6GRE, "gre6"},
	{ARPHRD_NETLINK, "netlink"},
	{ARPHRD_6LOWPAN, "6lowpan"},
	{ARPHRD_NONE, "none"},
	{ARPHRD_VOID, "void"},
};
/* clang-format on */

/* Unknown types read "[N]", as ll_type_n2a() writes them. */
const char *nsn_link_type_name(unsigned arptype, char *buf, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(arphrd_names); i++)
		if (arphrd_names[i].type == arptype)
			return arphrd_names[i].name;
	snprintf(buf, len, "[%u]", arptype);
	return buf;
}

/* print_link_flags() in ip/ipaddress.c, _PF() by _PF(). */
/* clang-format off */
static const struct {
	uint32_t mask;
	const char *name;
} link_flags[] = {
	{IFF_LOOPBACK, "LOOPBACK"},
	{IFF_BROADCAST, "BROADCAST"},
	{IFF_POINTOPOINT, "POINTOPOINT"},
	{IFF_MULTICAST, "MULTICAST"},
	{IFF_NOARP, "NOARP"},
	{IFF_ALLMULTI, "ALLMULTI"},
	{IFF_PROMISC, "PROMISC"},
	{IFF_MASTER, "MASTER"},
	{IFF_SLAVE, "SLAVE"},
	{IFF_DEBUG, "DEBUG"},
	{IFF_DYNAMIC, "DYNAMIC"},
	{IFF_AUTOMEDIA, "AUTOMEDIA"},
	{IFF_PORTSEL, "PORTSEL"},
	{IFF_NOTRAILERS, "NOTRAILERS"},
	{IFF_UP, "UP"},
	{IFF_LOWER_UP, "LOWER_UP"},
	{IFF_DORMANT, "DORMANT"},
	{IFF_ECHO, "ECHO"},
};
/* clang-format on */

static void put(const char **ret, size_t max, size_t *n, const char *word)
{
	if (*n < max)
		ret[*n] = word;
	(*n)++;
}

size_t nsn_link_flag_names(uint32_t flags, const char **ret, size_t max, char *hexbuf)
{
	size_t n = 0;

	if ((flags & IFF_UP) && !(flags & IFF_RUNNING))
		put(ret, max, &n, "NO-CARRIER");
	flags &= ~(uint32_t)IFF_RUNNING;
	for (size_t i = 0; i < ARRAY_SIZE(link_flags); i++) {
		if (flags & link_flags[i].mask) {
			flags &= ~link_flags[i].mask;
			put(ret, max, &n, link_flags[i].name);
		}
	}
	if (flags) {
		snprintf(hexbuf, 16, "%x", flags);
		put(ret, max, &n, hexbuf);
	}
	return n < max ? n : max;
}

/* print_rt_flags() in ip/iproute.c. */
/* clang-format off */
static const struct {
	uint32_t mask;
	const char *name;
} route_flags[] = {
	{RTNH_F_DEAD, "dead"},
	{RTNH_F_ONLINK, "onlink"},
	{RTNH_F_PERVASIVE, "pervasive"},
	{RTNH_F_OFFLOAD, "offload"},
	{RTNH_F_TRAP, "trap"},
	{RTM_F_NOTIFY, "notify"},
	{RTNH_F_LINKDOWN, "linkdown"},
	{RTNH_F_UNRESOLVED, "unresolved"},
	{RTM_F_OFFLOAD, "rt_offload"},
	{RTM_F_TRAP, "rt_trap"},
	{RTM_F_OFFLOAD_FAILED, "rt_offload_failed"},
};
/* clang-format on */

size_t nsn_route_flag_names(uint32_t flags, const char **ret, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(route_flags); i++)
		if (flags & route_flags[i].mask)
			put(ret, max, &n, route_flags[i].name);
	return n < max ? n : max;
}

/*
 * ifa_flag_names[] and print_ifa_flags() in ip/ipaddress.c (6.1). The table names
 * IFA_F_SECONDARY twice, "secondary" then "temporary"; print_ifa_flags() clears each
 * mask after its entry, so only the first can match, and it spells IPv6's
 * "temporary". IFA_F_PERMANENT is inverted: its absence prints "dynamic".
 */
/* clang-format off */
static const struct {
	uint32_t mask;
	const char *name;
} addr_flags[] = {
	{IFA_F_SECONDARY, "secondary"},
	{IFA_F_NODAD, "nodad"},
	{IFA_F_OPTIMISTIC, "optimistic"},
	{IFA_F_DADFAILED, "dadfailed"},
	{IFA_F_HOMEADDRESS, "home"},
	{IFA_F_DEPRECATED, "deprecated"},
	{IFA_F_TENTATIVE, "tentative"},
	{IFA_F_PERMANENT, "permanent"},
	{IFA_F_MANAGETEMPADDR, "mngtmpaddr"},
	{IFA_F_NOPREFIXROUTE, "noprefixroute"},
	{IFA_F_MCAUTOJOIN, "autojoin"},
	{IFA_F_STABLE_PRIVACY, "stable-privacy"},
};
/* clang-format on */

size_t nsn_addr_flag_names(uint32_t flags, unsigned family, const char **ret, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(addr_flags); i++) {
		uint32_t mask = addr_flags[i].mask;

		if (mask == IFA_F_PERMANENT) {
			if (!(flags & mask))
				put(ret, max, &n, "dynamic");
		} else if (flags & mask) {
			if (mask == IFA_F_SECONDARY && family == AF_INET6)
				put(ret, max, &n, "temporary");
			else
				put(ret, max, &n, addr_flags[i].name);
		}
	}
	return n < max ? n : max;
}

char *nsn_fmt_lladdr(const uint8_t *addr, size_t n, char *buf, size_t len)
{
	size_t off = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(buf + off, len - off, i ? ":%02x" : "%02x", addr[i]);

		if (w < 0 || (size_t)w >= len - off)
			break; /* truncated: keep the whole bytes that fit */
		off += (size_t)w;
	}
	buf[off] = '\0';
	return buf;
}

char *nsn_fmt_prefix(unsigned family, const uint8_t *addr, unsigned plen, bool present, char *buf,
		     size_t len)
{
	char a[INET6_ADDRSTRLEN];
	unsigned host_len = family == AF_INET6 ? 128 : 32;

	if (len == 0)
		return buf;
	if (!present || plen == 0) {
		snprintf(buf, len, "default");
		return buf;
	}
	if (family != AF_INET && family != AF_INET6) {
		snprintf(buf, len, "?");
		return buf;
	}
	if (!inet_ntop((int)family, addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	if (plen == host_len)
		snprintf(buf, len, "%s", a);
	else
		snprintf(buf, len, "%s/%u", a, plen);
	return buf;
}
