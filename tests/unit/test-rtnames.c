/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for agent/lib/rtnames.c: the words and flag orders of iproute2 6.1
 * (Debian 12), pinned one by one. At the end, the route and rule lines of
 * agent/cli/out_routes.c (compiled in, as the CLI is not a library) for the cases a
 * real namespace cannot easily produce.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/fib_rules.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_arp.h>
#include <linux/rtnetlink.h>

#include <nsnet/rtnames.h>

#include "cli.h"
#include "tap.h"

/* Words joined by ',' into a static buffer, for one ASSERT_STREQ per flag set. */
static const char *join(const char **w, size_t n)
{
	static char out[512];
	size_t off = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && off < sizeof(out); i++)
		off += (size_t)snprintf(out + off, sizeof(out) - off, "%s%s", i ? "," : "", w[i]);
	return out;
}

static const char *link_flags(uint32_t flags)
{
	static char hex[16];
	const char *w[32];

	return join(w, nsn_link_flag_names(flags, w, 32, hex));
}

static const char *route_flags(uint32_t flags)
{
	const char *w[32];

	return join(w, nsn_route_flag_names(flags, w, 32));
}

static const char *addr_flags(uint32_t flags, unsigned family)
{
	const char *w[32];

	return join(w, nsn_addr_flag_names(flags, family, w, 32));
}

TEST(tables)
{
	char b[16];

	ASSERT_STREQ(nsn_rt_table_name(0, b, sizeof(b)), "unspec");
	ASSERT_STREQ(nsn_rt_table_name(RT_TABLE_DEFAULT, b, sizeof(b)), "default");
	ASSERT_STREQ(nsn_rt_table_name(RT_TABLE_MAIN, b, sizeof(b)), "main");
	ASSERT_STREQ(nsn_rt_table_name(RT_TABLE_LOCAL, b, sizeof(b)), "local");
	ASSERT_STREQ(nsn_rt_table_name(100, b, sizeof(b)), "100");
	/* Not read from /etc/iproute2/rt_tables: custom tables stay numbers. */
	ASSERT_STREQ(nsn_rt_table_name(1, b, sizeof(b)), "1");
	ASSERT_STREQ(nsn_rt_table_name(4294967295u, b, sizeof(b)), "4294967295");
	ASSERT_TRUE(nsn_rt_table_name(7, b, sizeof(b)) == b);
}

TEST(protocols)
{
	static const struct {
		unsigned v;
		const char *name;
	} want[] = {
	    {0, "unspec"},    {1, "redirect"}, {2, "kernel"}, {3, "boot"},   {4, "static"},
	    {8, "gated"},     {9, "ra"},       {10, "mrt"},   {11, "zebra"}, {12, "bird"},
	    {13, "dnrouted"}, {14, "xorp"},    {15, "ntk"},   {16, "dhcp"},  {18, "keepalived"},
	    {42, "babel"},    {99, "openr"},   {186, "bgp"},  {187, "isis"}, {188, "ospf"},
	    {189, "rip"},     {192, "eigrp"},  {5, "5"},      {17, "17"},    {200, "200"},
	    {255, "255"},     {256, "256"},
	};
	char b[16];

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ASSERT_STREQ(nsn_rt_proto_name(want[i].v, b, sizeof(b)), want[i].name);
}

TEST(scopes_types_prefs)
{
	char b[16];

	ASSERT_STREQ(nsn_rt_scope_name(RT_SCOPE_UNIVERSE, b, sizeof(b)), "global");
	ASSERT_STREQ(nsn_rt_scope_name(200, b, sizeof(b)), "site");
	ASSERT_STREQ(nsn_rt_scope_name(253, b, sizeof(b)), "link");
	ASSERT_STREQ(nsn_rt_scope_name(254, b, sizeof(b)), "host");
	ASSERT_STREQ(nsn_rt_scope_name(255, b, sizeof(b)), "nowhere");
	ASSERT_STREQ(nsn_rt_scope_name(100, b, sizeof(b)), "100");

	static const char *const types[] = {
	    "none",	 "unicast",	"local",    "broadcast", "anycast", "multicast",
	    "blackhole", "unreachable", "prohibit", "throw",	 "nat",	    "xresolve",
	};
	for (unsigned t = 0; t < 12; t++)
		ASSERT_STREQ(nsn_rt_type_name(t, b, sizeof(b)), types[t]);
	ASSERT_STREQ(nsn_rt_type_name(12, b, sizeof(b)), "12");

	ASSERT_STREQ(nsn_rt_pref_name(3), "low");
	ASSERT_STREQ(nsn_rt_pref_name(0), "medium");
	ASSERT_STREQ(nsn_rt_pref_name(1), "high");
	ASSERT_TRUE(nsn_rt_pref_name(2) == NULL);
	ASSERT_TRUE(nsn_rt_pref_name(0xff) == NULL);
}

TEST(rule_actions)
{
	char b[16];

	ASSERT_STREQ(nsn_rule_action_name(FR_ACT_TO_TBL, b, sizeof(b)), "lookup");
	ASSERT_STREQ(nsn_rule_action_name(FR_ACT_GOTO, b, sizeof(b)), "goto");
	ASSERT_STREQ(nsn_rule_action_name(FR_ACT_NOP, b, sizeof(b)), "nop");
	ASSERT_STREQ(nsn_rule_action_name(FR_ACT_BLACKHOLE, b, sizeof(b)), "blackhole");
	ASSERT_STREQ(nsn_rule_action_name(FR_ACT_UNREACHABLE, b, sizeof(b)), "unreachable");
	ASSERT_STREQ(nsn_rule_action_name(FR_ACT_PROHIBIT, b, sizeof(b)), "prohibit");
	/* Through rtnl_rtntype_n2a(), as ip does. */
	ASSERT_STREQ(nsn_rule_action_name(FR_ACT_UNSPEC, b, sizeof(b)), "none");
	ASSERT_STREQ(nsn_rule_action_name(99, b, sizeof(b)), "99");
}

TEST(operstates)
{
	static const char *const want[] = {
	    "UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP",
	};
	char b[16];

	for (unsigned i = 0; i < 7; i++)
		ASSERT_STREQ(nsn_link_operstate_name(i, b, sizeof(b)), want[i]);
	ASSERT_STREQ(nsn_link_operstate_name(7, b, sizeof(b)), "7");
}

TEST(link_types)
{
	char b[16];

	ASSERT_STREQ(nsn_link_type_name(ARPHRD_ETHER, b, sizeof(b)), "ether");
	ASSERT_STREQ(nsn_link_type_name(ARPHRD_LOOPBACK, b, sizeof(b)), "loopback");
	ASSERT_STREQ(nsn_link_type_name(ARPHRD_NONE, b, sizeof(b)), "none");
	ASSERT_STREQ(nsn_link_type_name(ARPHRD_VOID, b, sizeof(b)), "void");
	ASSERT_STREQ(nsn_link_type_name(ARPHRD_SIT, b, sizeof(b)), "sit");
	ASSERT_STREQ(nsn_link_type_name(ARPHRD_TUNNEL, b, sizeof(b)), "ipip");
	ASSERT_STREQ(nsn_link_type_name(ARPHRD_TUNNEL6, b, sizeof(b)), "tunnel6");
	ASSERT_STREQ(nsn_link_type_name(ARPHRD_IPGRE, b, sizeof(b)), "gre");
	ASSERT_STREQ(nsn_link_type_name(ARPHRD_IP6GRE, b, sizeof(b)), "gre6");
	ASSERT_STREQ(nsn_link_type_name(ARPHRD_INFINIBAND, b, sizeof(b)), "infiniband");
	ASSERT_STREQ(nsn_link_type_name(ARPHRD_PPP, b, sizeof(b)), "ppp");
	ASSERT_STREQ(nsn_link_type_name(ARPHRD_CAN, b, sizeof(b)), "can");
	ASSERT_STREQ(nsn_link_type_name(ARPHRD_IEEE80211_RADIOTAP, b, sizeof(b)),
		     "ieee802.11/radiotap");
	ASSERT_STREQ(nsn_link_type_name(ARPHRD_FCFABRIC + 12, b, sizeof(b)), "fcfb12");
	ASSERT_STREQ(nsn_link_type_name(825, b, sizeof(b)), "6lowpan");
	ASSERT_STREQ(nsn_link_type_name(0, b, sizeof(b)), "netrom");
	/* Unknown: ll_type_n2a()'s "[%d]"; 6.1 has no name for rawip (519) or mctp (290). */
	ASSERT_STREQ(nsn_link_type_name(519, b, sizeof(b)), "[519]");
	ASSERT_STREQ(nsn_link_type_name(290, b, sizeof(b)), "[290]");
}

TEST(link_flag_order)
{
	/* lo, an up veth with carrier, and one without. */
	ASSERT_STREQ(link_flags(IFF_LOOPBACK | IFF_UP | IFF_RUNNING | IFF_LOWER_UP),
		     "LOOPBACK,UP,LOWER_UP");
	ASSERT_STREQ(
	    link_flags(IFF_BROADCAST | IFF_MULTICAST | IFF_UP | IFF_RUNNING | IFF_LOWER_UP),
	    "BROADCAST,MULTICAST,UP,LOWER_UP");
	ASSERT_STREQ(link_flags(IFF_BROADCAST | IFF_MULTICAST | IFF_UP),
		     "NO-CARRIER,BROADCAST,MULTICAST,UP");
	ASSERT_STREQ(link_flags(IFF_BROADCAST | IFF_MULTICAST), "BROADCAST,MULTICAST");
	/* RUNNING alone is never a word. */
	ASSERT_STREQ(link_flags(IFF_RUNNING), "");
	ASSERT_STREQ(link_flags(IFF_POINTOPOINT | IFF_NOARP | IFF_UP | IFF_RUNNING | IFF_LOWER_UP),
		     "POINTOPOINT,NOARP,UP,LOWER_UP");
	/* Every bit, in print_link_flags()'s order, and an unknown one as bare hex. */
	ASSERT_STREQ(link_flags(0x7ffffu | (1u << 20)),
		     "LOOPBACK,BROADCAST,POINTOPOINT,MULTICAST,NOARP,ALLMULTI,PROMISC,MASTER,"
		     "SLAVE,DEBUG,DYNAMIC,AUTOMEDIA,PORTSEL,NOTRAILERS,UP,LOWER_UP,DORMANT,"
		     "ECHO,100000");
	ASSERT_STREQ(
	    link_flags(IFF_UP | IFF_RUNNING | IFF_SLAVE | IFF_MASTER | IFF_PROMISC | IFF_ALLMULTI),
	    "ALLMULTI,PROMISC,MASTER,SLAVE,UP");

	/* max caps what is stored, and the count. */
	const char *w[2];
	char hex[16];

	ASSERT_EQ(nsn_link_flag_names(IFF_BROADCAST | IFF_MULTICAST | IFF_UP, w, 2, hex), 2);
	ASSERT_STREQ(w[0], "NO-CARRIER");
	ASSERT_STREQ(w[1], "BROADCAST");
}

TEST(route_flag_order)
{
	ASSERT_STREQ(route_flags(0), "");
	ASSERT_STREQ(route_flags(RTNH_F_ONLINK), "onlink");
	ASSERT_STREQ(route_flags(RTNH_F_LINKDOWN), "linkdown");
	ASSERT_STREQ(route_flags(RTNH_F_ONLINK | RTNH_F_LINKDOWN | RTNH_F_DEAD),
		     "dead,onlink,linkdown");
	ASSERT_STREQ(route_flags(0xffffffffu),
		     "dead,onlink,pervasive,offload,trap,notify,linkdown,unresolved,rt_offload,"
		     "rt_trap,rt_offload_failed");
	/* RTM_F_CLONED and friends print nothing. */
	ASSERT_STREQ(route_flags(RTM_F_CLONED | RTM_F_EQUALIZE | RTM_F_PREFIX), "");
	ASSERT_STREQ(route_flags(0x100), "notify");
	ASSERT_STREQ(route_flags(0x4000 | 0x8000 | 0x20000000),
		     "rt_offload,rt_trap,rt_offload_failed");
}

TEST(addr_flag_order)
{
	/* `ip addr add 10.0.0.1/24`: IFA_F_PERMANENT, nothing printed. */
	ASSERT_STREQ(addr_flags(IFA_F_PERMANENT, AF_INET), "");
	ASSERT_STREQ(addr_flags(IFA_F_PERMANENT | IFA_F_SECONDARY, AF_INET), "secondary");
	/* A DHCP lease: no IFA_F_PERMANENT, so "dynamic", IPv4 too. */
	ASSERT_STREQ(addr_flags(0, AF_INET), "dynamic");
	ASSERT_STREQ(addr_flags(IFA_F_PERMANENT | IFA_F_NODAD, AF_INET6), "nodad");
	/* SLAAC: dynamic mngtmpaddr noprefixroute; privacy: temporary dynamic. */
	ASSERT_STREQ(addr_flags(IFA_F_MANAGETEMPADDR | IFA_F_NOPREFIXROUTE, AF_INET6),
		     "dynamic,mngtmpaddr,noprefixroute");
	ASSERT_STREQ(addr_flags(IFA_F_SECONDARY, AF_INET6), "temporary,dynamic");
	ASSERT_STREQ(addr_flags(IFA_F_PERMANENT | IFA_F_TENTATIVE | IFA_F_DADFAILED, AF_INET6),
		     "dadfailed,tentative");
	ASSERT_STREQ(addr_flags(IFA_F_PERMANENT | 0x800, AF_INET6), "stable-privacy");
	ASSERT_STREQ(addr_flags(0xfffu, AF_INET6),
		     "temporary,nodad,optimistic,dadfailed,home,deprecated,tentative,"
		     "mngtmpaddr,noprefixroute,autojoin,stable-privacy");
	ASSERT_STREQ(addr_flags(0xfffu & ~(uint32_t)IFA_F_PERMANENT, AF_INET),
		     "secondary,nodad,optimistic,dadfailed,home,deprecated,tentative,dynamic,"
		     "mngtmpaddr,noprefixroute,autojoin,stable-privacy");
}

TEST(lladdr)
{
	uint8_t mac[6] = {0x02, 0xab, 0x00, 0x0f, 0xff, 0x10};
	char b[32], small[6];

	ASSERT_STREQ(nsn_fmt_lladdr(mac, 6, b, sizeof(b)), "02:ab:00:0f:ff:10");
	ASSERT_STREQ(nsn_fmt_lladdr(mac, 1, b, sizeof(b)), "02");
	ASSERT_STREQ(nsn_fmt_lladdr(mac, 0, b, sizeof(b)), "");
	/* Only whole bytes when the buffer is short. */
	ASSERT_STREQ(nsn_fmt_lladdr(mac, 6, small, sizeof(small)), "02:ab");
	ASSERT_TRUE(nsn_fmt_lladdr(mac, 6, b, 0) == b);
}

TEST(prefixes)
{
	uint8_t a4[4] = {10, 0, 0, 0}, h4[4] = {192, 0, 2, 1}, a6[16] = {0x20, 0x01, 0x0d, 0xb8};
	char b[64];

	ASSERT_STREQ(nsn_fmt_prefix(AF_INET, a4, 24, true, b, sizeof(b)), "10.0.0.0/24");
	ASSERT_STREQ(nsn_fmt_prefix(AF_INET, h4, 32, true, b, sizeof(b)), "192.0.2.1");
	ASSERT_STREQ(nsn_fmt_prefix(AF_INET, a4, 0, true, b, sizeof(b)), "default");
	ASSERT_STREQ(nsn_fmt_prefix(AF_INET, a4, 8, false, b, sizeof(b)), "default");
	ASSERT_STREQ(nsn_fmt_prefix(AF_INET6, a6, 32, true, b, sizeof(b)), "2001:db8::/32");
	a6[15] = 1;
	ASSERT_STREQ(nsn_fmt_prefix(AF_INET6, a6, 128, true, b, sizeof(b)), "2001:db8::1");
	ASSERT_STREQ(nsn_fmt_prefix(AF_INET6, a6, 0, false, b, sizeof(b)), "default");
}

/* ---- out_routes.c: lines that a test namespace cannot easily make ------------- */

static char *capture_route(const struct nsn_netns *ns, const struct nsn_route *r)
{
	static char buf[1024];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	out_route_line(f, ns, r);
	fclose(f);
	return buf;
}

static char *capture_rule(const struct nsn_rule *r)
{
	static char buf[512];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	out_rule_line(f, r);
	fclose(f);
	return buf;
}

TEST(route_lines)
{
	struct nsn_nexthop nh[2] = {{0}};
	struct nsn_route r = {.family = AF_INET,
			      .type = RTN_UNICAST,
			      .protocol = RTPROT_BOOT,
			      .table = RT_TABLE_MAIN,
			      .pref = 0xff,
			      .nh = nh,
			      .n_nh = 1};
	struct nsn_link links[1] = {{.ifindex = 7, .name = "eth7"}};
	struct nsn_netns ns = {.links = links, .n_links = 1};

	/* default via 192.0.2.1 dev eth0 proto dhcp src 192.0.2.10 metric 100 */
	nh[0].gw_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.1", nh[0].gateway);
	nh[0].ifindex = 2;
	nh[0].dev = "eth0";
	r.protocol = RTPROT_DHCP;
	r.has_prefsrc = true;
	inet_pton(AF_INET, "192.0.2.10", r.prefsrc);
	r.has_metric = true;
	r.metric = 100;
	ASSERT_STREQ(capture_route(&ns, &r),
		     "default via 192.0.2.1 dev eth0 proto dhcp src 192.0.2.10 metric 100 \n");

	/* No RTA_DST but a length (never sent by Linux): ip's "0/8" and two spaces. */
	r.dst_len = 8;
	r.has_prefsrc = r.has_metric = false;
	r.protocol = RTPROT_BOOT;
	nh[0].gw_family = 0;
	ASSERT_STREQ(capture_route(&ns, &r), "0/8  dev eth0 \n");

	/* A device the gatherer did not name: the namespace's links, else if%u. */
	r.dst_len = 0;
	nh[0].dev = NULL;
	nh[0].ifindex = 7;
	ASSERT_STREQ(capture_route(&ns, &r), "default dev eth7 \n");
	nh[0].ifindex = 9;
	ASSERT_STREQ(capture_route(&ns, &r), "default dev if9 \n");

	/* Single-path flags kept on the nexthop still print, once. */
	nh[0].ifindex = 2;
	nh[0].dev = "eth0";
	nh[0].flags = RTNH_F_ONLINK;
	r.flags = RTNH_F_ONLINK | RTNH_F_LINKDOWN;
	ASSERT_STREQ(capture_route(&ns, &r), "default dev eth0 onlink linkdown \n");
	r.flags = nh[0].flags = 0;

	/* IPv4 over an IPv6 gateway (RTA_VIA), a TOS with a Debian rt_dsfield name. */
	r.has_dst = true;
	r.dst_len = 24;
	inet_pton(AF_INET, "198.51.100.0", r.dst);
	r.tos = 0xb8;
	nh[0].gw_family = AF_INET6;
	inet_pton(AF_INET6, "fe80::1", nh[0].gateway);
	ASSERT_STREQ(capture_route(&ns, &r),
		     "198.51.100.0/24 tos EF via inet6 fe80::1 dev eth0 \n");
	r.tos = 0x04;
	ASSERT_STREQ(capture_route(&ns, &r),
		     "198.51.100.0/24 tos 0x04 via inet6 fe80::1 dev eth0 \n");
	r.tos = 0;

	/* IPv6 with an unknown RA preference: ip prints the number without "pref". */
	memset(&r, 0, sizeof(r));
	memset(nh, 0, sizeof(nh));
	r.family = AF_INET6;
	r.type = RTN_UNICAST;
	r.protocol = RTPROT_RA;
	r.table = RT_TABLE_MAIN;
	r.has_metric = true;
	r.metric = 1024;
	r.pref = 2;
	r.nh = nh;
	r.n_nh = 1;
	nh[0].gw_family = AF_INET6;
	inet_pton(AF_INET6, "fe80::1", nh[0].gateway);
	nh[0].ifindex = 2;
	nh[0].dev = "eth0";
	ASSERT_STREQ(capture_route(&ns, &r),
		     "default via fe80::1 dev eth0 proto ra metric 1024 2\n");
	r.pref = 3;
	r.hoplimit = 64;
	r.mtu = 1280;
	ASSERT_STREQ(
	    capture_route(&ns, &r),
	    "default via fe80::1 dev eth0 proto ra metric 1024 mtu 1280 hoplimit 64 pref low\n");

	/* A multipath route with a dead nexthop and a custom protocol and table. */
	memset(&r, 0, sizeof(r));
	memset(nh, 0, sizeof(nh));
	r.family = AF_INET;
	r.type = RTN_UNICAST;
	r.protocol = 200;
	r.table = 1000;
	r.pref = 0xff;
	r.has_dst = true;
	r.dst_len = 16;
	inet_pton(AF_INET, "172.16.0.0", r.dst);
	r.multipath = true;
	r.nh = nh;
	r.n_nh = 2;
	for (int i = 0; i < 2; i++) {
		nh[i].gw_family = AF_INET;
		nh[i].ifindex = (uint32_t)(2 + i);
		nh[i].weight = (uint8_t)(1 + 9 * i);
	}
	inet_pton(AF_INET, "192.0.2.1", nh[0].gateway);
	inet_pton(AF_INET, "192.0.2.2", nh[1].gateway);
	nh[0].dev = "eth0";
	nh[1].dev = "eth1";
	nh[1].flags = RTNH_F_DEAD | RTNH_F_LINKDOWN;
	ASSERT_STREQ(capture_route(&ns, &r),
		     "172.16.0.0/16 table 1000 proto 200 \n"
		     "\tnexthop via 192.0.2.1 dev eth0 weight 1 \n"
		     "\tnexthop via 192.0.2.2 dev eth1 weight 10 dead linkdown \n");

	/* Cloned entries print neither proto nor scope. */
	memset(&r, 0, sizeof(r));
	r.family = AF_INET;
	r.type = RTN_LOCAL;
	r.table = RT_TABLE_LOCAL;
	r.protocol = RTPROT_KERNEL;
	r.scope = RT_SCOPE_HOST;
	r.flags = RTM_F_CLONED;
	r.pref = 0xff;
	r.has_dst = true;
	r.dst_len = 32;
	inet_pton(AF_INET, "127.0.0.1", r.dst);
	ASSERT_STREQ(capture_route(&ns, &r), "local 127.0.0.1 table local \n");
}

TEST(rule_lines)
{
	struct nsn_rule r = {.family = AF_INET, .action = FR_ACT_TO_TBL, .table = RT_TABLE_LOCAL};

	ASSERT_STREQ(capture_rule(&r), "0:\tfrom all lookup local\n");
	r.has_priority = true;
	r.priority = 32766;
	r.table = RT_TABLE_MAIN;
	r.protocol = RTPROT_KERNEL;
	ASSERT_STREQ(capture_rule(&r), "32766:\tfrom all lookup main\n");

	/* fwmark: "%#x" spells 0 as "0"; the mask only when it is not all ones. */
	r.protocol = 0;
	r.priority = 5;
	r.table = 100;
	r.has_fwmark = r.has_fwmask = true;
	r.fwmark = 0;
	r.fwmask = 0xff;
	ASSERT_STREQ(capture_rule(&r), "5:\tfrom all fwmark 0/0xff lookup 100\n");
	r.fwmark = 0x20;
	r.fwmask = 0xffffffffu;
	ASSERT_STREQ(capture_rule(&r), "5:\tfrom all fwmark 0x20 lookup 100\n");
	r.has_fwmark = r.has_fwmask = false;

	/* Everything the model has, in print_rule()'s order. */
	r.invert = true;
	r.has_src = true;
	r.src_len = 32;
	inet_pton(AF_INET, "10.0.0.1", r.src);
	r.has_dst = true;
	r.dst_len = 8;
	inet_pton(AF_INET, "10.0.0.0", r.dst);
	r.tos = 0x10;
	r.iif = "eth0";
	r.oif = "eth1";
	r.protocol = RTPROT_STATIC;
	ASSERT_STREQ(capture_rule(&r),
		     "5:\tnot from 10.0.0.1 to 10.0.0.0/8 tos 0x10 iif eth0 oif eth1 lookup 100 "
		     "proto static\n");

	/* Actions without a table. */
	memset(&r, 0, sizeof(r));
	r.family = AF_INET6;
	r.has_priority = true;
	r.priority = 7;
	r.src_len = 64; /* a length without FRA_SRC */
	r.action = FR_ACT_GOTO;
	r.goto_target = 100;
	ASSERT_STREQ(capture_rule(&r), "7:\tfrom 0/64 goto 100\n");
	r.src_len = 0;
	r.has_dst = true;
	r.dst_len = 128;
	inet_pton(AF_INET6, "2001:db8::1", r.dst);
	r.action = FR_ACT_BLACKHOLE;
	ASSERT_STREQ(capture_rule(&r), "7:\tfrom all to 2001:db8::1 blackhole\n");
	r.has_dst = false;
	r.dst_len = 0;
	r.action = FR_ACT_UNREACHABLE;
	ASSERT_STREQ(capture_rule(&r), "7:\tfrom all unreachable\n");
	r.action = FR_ACT_PROHIBIT;
	ASSERT_STREQ(capture_rule(&r), "7:\tfrom all prohibit\n");
	r.action = FR_ACT_NOP;
	ASSERT_STREQ(capture_rule(&r), "7:\tfrom all nop\n");
}

TEST(routes_view)
{
	struct nsn_route routes[2] = {
	    {.family = AF_INET6,
	     .type = RTN_UNREACHABLE,
	     .table = RT_TABLE_MAIN,
	     .pref = 0,
	     .has_metric = true,
	     .metric = 1024,
	     .protocol = RTPROT_BOOT},
	    {.family = AF_INET,
	     .type = RTN_BLACKHOLE,
	     .table = RT_TABLE_MAIN,
	     .pref = 0xff,
	     .protocol = RTPROT_BOOT},
	};
	struct nsn_rule rules[1] = {{.family = AF_INET, .action = FR_ACT_TO_TBL, .table = 255}};
	char *names[] = {"blue", NULL};
	struct nsn_netns a = {.inode = 4026531840u, .host = true},
			 b = {.inode = 42,
			      .names = names,
			      .n_names = 1,
			      .routes = routes,
			      .n_routes = 2,
			      .rules = rules,
			      .n_rules = 1},
			 broken = {.inode = 7, .err = -2};
	struct nsn_netns *list[] = {&a, &broken, &b};
	struct nsn_scan scan = {.netns = list, .n_netns = 3};
	struct cli_opts o = {.routes = true, .rules = true};
	struct cli_node node = {.name = "n", .scan = &scan};
	static char buf[1024];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	out_routes(f, &o, &node, 1);
	fclose(f);
	/* IPv4 before IPv6 whatever the dump order; failed namespaces left out. */
	ASSERT_STREQ(buf, "netns host (inode 4026531840)\n"
			  "rules:\n"
			  "\n"
			  "netns blue (inode 42)\n"
			  "blackhole default \n"
			  "unreachable default metric 1024 pref medium\n"
			  "rules:\n"
			  "0:\tfrom all lookup local\n");
	o.rules = false;
	f = fmemopen(buf, sizeof(buf), "w");
	out_routes(f, &o, &node, 1);
	fclose(f);
	ASSERT_STREQ(buf, "netns host (inode 4026531840)\n"
			  "\n"
			  "netns blue (inode 42)\n"
			  "blackhole default \n"
			  "unreachable default metric 1024 pref medium\n");
}

TEST_MAIN(CASE(tables), CASE(protocols), CASE(scopes_types_prefs), CASE(rule_actions),
	  CASE(operstates), CASE(link_types), CASE(link_flag_order), CASE(route_flag_order),
	  CASE(addr_flag_order), CASE(lladdr), CASE(prefixes), CASE(route_lines), CASE(rule_lines),
	  CASE(routes_view))
