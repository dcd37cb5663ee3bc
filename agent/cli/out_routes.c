/* SPDX-License-Identifier: MIT */
/*
 * -r: routes and policy rules, byte for byte as iproute2 6.1 prints them in text
 * mode. The route line follows print_route() and print_rta_multipath() in
 * ip/iproute.c, the rule line print_rule() in ip/iprule.c, field by field and in the
 * same order, trailing spaces included: ip ends every IPv4 route line with a space
 * and an IPv6 one with "pref medium" (no space), and each nexthop line with a space.
 * Nothing is normalised, so `ip route show table all` output can be compared with
 * plain string equality.
 *
 * What the record model does not carry is not printed: RTA_MARK, RTA_FLOW (realms),
 * RTA_UID, RTA_NH_ID, encapsulations, RTA_CACHEINFO's error count, metrics other
 * than mtu/advmss/hoplimit; and on rules l3mdev, uidrange, ipproto, sport/dport,
 * tun_id, suppress_prefixlength/ifgroup and realms.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>

#include <nsnet/format.h>
#include <nsnet/rtnames.h>

#include "cli.h"

#define ADDR_LEN 64 /* INET6_ADDRSTRLEN and then some */

void out_netns_heading(FILE *f, const char *node, const struct nsn_netns *ns)
{
	char buf[32];

	if (node)
		fprintf(f, "node %s ", node);
	fprintf(f, "netns %s (inode %llu)\n", nsn_netns_label(ns, buf, sizeof(buf)),
		(unsigned long long)ns->inode);
}

static unsigned host_len(unsigned family)
{
	return family == AF_INET6 ? 128 : 32;
}

/* family_name() in lib/utils.c, for "via inet6 ADDR" on an IPv4 route. */
static const char *family_word(unsigned family)
{
	switch (family) {
	case AF_INET: return "inet";
	case AF_INET6: return "inet6";
	default: return "unknown";
	}
}

/*
 * rtnl_dsfield_n2a(): the names of Debian's stock /etc/iproute2/rt_dsfield, else
 * "0x%02x". ip also maps 0 to "default", but a TOS of 0 is never printed.
 */
static const char *dsfield_name(unsigned tos, char *buf, size_t len)
{
	/* clang-format off */
	static const struct {
		unsigned v;
		const char *name;
	} names[] = {
		{0x28, "AF11"}, {0x30, "AF12"}, {0x38, "AF13"}, {0x48, "AF21"}, {0x50, "AF22"},
		{0x58, "AF23"}, {0x68, "AF31"}, {0x70, "AF32"}, {0x78, "AF33"}, {0x88, "AF41"},
		{0x90, "AF42"}, {0x98, "AF43"}, {0x20, "CS1"}, {0x40, "CS2"}, {0x60, "CS3"},
		{0x80, "CS4"}, {0xa0, "CS5"}, {0xc0, "CS6"}, {0xe0, "CS7"}, {0xb8, "EF"},
	};
	/* clang-format on */

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].v == tos)
			return names[i].name;
	snprintf(buf, len, "0x%02x", tos);
	return buf;
}

/*
 * ll_index_to_name(): "*" for no device, the name the gatherer resolved, else the
 * namespace's link list, else "if%u" as ip writes an index it cannot name.
 */
static const char *dev_name(const struct nsn_netns *ns, const struct nsn_nexthop *nh, char *buf,
			    size_t len)
{
	if (nh->ifindex == 0)
		return "*";
	if (nh->dev)
		return nh->dev;
	for (size_t i = 0; ns && i < ns->n_links; i++)
		if (ns->links[i].ifindex == nh->ifindex && ns->links[i].name)
			return ns->links[i].name;
	snprintf(buf, len, "if%u", nh->ifindex);
	return buf;
}

/* print_rta_gateway() (same family) or print_rta_via() (RTA_VIA, another family). */
static void put_gateway(FILE *f, unsigned route_family, const struct nsn_nexthop *nh)
{
	char a[ADDR_LEN];

	if (!nh->gw_family)
		return;
	nsn_fmt_addr(a, sizeof(a), nh->gw_family, nh->gateway);
	if (nh->gw_family == route_family)
		fprintf(f, "via %s ", a);
	else
		fprintf(f, "via %s %s ", family_word(nh->gw_family), a);
}

static void put_rt_flags(FILE *f, uint32_t flags)
{
	const char *w[16];
	size_t n = nsn_route_flag_names(flags, w, sizeof(w) / sizeof(w[0]));

	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s ", w[i]);
}

/* The destination or "from" prefix of print_route(). */
static void put_route_prefix(FILE *f, const char *word, unsigned family, bool present,
			     const uint8_t *addr, unsigned plen)
{
	char a[ADDR_LEN];

	if (present) {
		nsn_fmt_addr(a, sizeof(a), (int)family, addr);
		if (plen != host_len(family))
			fprintf(f, "%s%s/%u ", word, a, plen);
		else
			fprintf(f, "%s%s ", word, a);
	} else if (plen) {
		/* ip builds "0/%d " and prints it with "%s ": two spaces for dst. */
		fprintf(f, *word ? "%s0/%u " : "%s0/%u  ", word, plen);
	} else if (!*word) {
		fputs("default ", f);
	}
}

void out_route_line(FILE *f, const struct nsn_netns *ns, const struct nsn_route *r)
{
	char b[32], a[ADDR_LEN];
	const struct nsn_nexthop *nh1 = !r->multipath && r->n_nh > 0 ? &r->nh[0] : NULL;
	uint32_t flags = r->flags;

	if (r->type != RTN_UNICAST)
		fprintf(f, "%s ", nsn_rt_type_name(r->type, b, sizeof(b)));
	put_route_prefix(f, "", r->family, r->has_dst, r->dst, r->dst_len);
	put_route_prefix(f, "from ", r->family, r->has_src, r->src, r->src_len);
	if (r->tos)
		fprintf(f, "tos %s ", dsfield_name(r->tos, b, sizeof(b)));
	if (nh1) {
		put_gateway(f, r->family, nh1);
		if (nh1->ifindex)
			fprintf(f, "dev %s ", dev_name(ns, nh1, b, sizeof(b)));
		/* A single path's flags travel in rtm_flags; a gatherer may keep them on
		 * the nexthop instead, and the union is the same word list either way. */
		flags |= nh1->flags;
	}
	if (r->table && r->table != RT_TABLE_MAIN)
		fprintf(f, "table %s ", nsn_rt_table_name(r->table, b, sizeof(b)));
	if (!(r->flags & RTM_F_CLONED)) {
		if (r->protocol != RTPROT_BOOT)
			fprintf(f, "proto %s ", nsn_rt_proto_name(r->protocol, b, sizeof(b)));
		if (r->scope != RT_SCOPE_UNIVERSE)
			fprintf(f, "scope %s ", nsn_rt_scope_name(r->scope, b, sizeof(b)));
	}
	if (r->has_prefsrc)
		fprintf(f, "src %s ", nsn_fmt_addr(a, sizeof(a), r->family, r->prefsrc));
	if (r->has_metric)
		fprintf(f, "metric %u ", r->metric);
	put_rt_flags(f, flags);
	if (r->expires)
		fprintf(f, "expires %dsec ", r->expires);
	/* print_rta_metrics(): RTAX_* in index order, of which the model keeps three,
	 * "lock" after the name of a locked one. */
	if (r->mtu)
		fprintf(f, "mtu %s%u ", r->metrics_locked & (1u << RTAX_MTU) ? "lock " : "", r->mtu);
	if (r->advmss)
		fprintf(f, "advmss %s%u ", r->metrics_locked & (1u << RTAX_ADVMSS) ? "lock " : "", r->advmss);
	if (r->hoplimit)
		fprintf(f, "hoplimit %s%u ", r->metrics_locked & (1u << RTAX_HOPLIMIT) ? "lock " : "",
			r->hoplimit);
	if (r->pref != 0xff) {
		const char *p = nsn_rt_pref_name(r->pref);

		/* print_rt_pref() prints an unknown value bare, without "pref". */
		if (p)
			fprintf(f, "pref %s", p);
		else
			fprintf(f, "%u", r->pref);
	}
	if (r->multipath) {
		for (size_t i = 0; i < r->n_nh; i++) {
			const struct nsn_nexthop *nh = &r->nh[i];

			fputs("\n\tnexthop ", f);
			put_gateway(f, r->family, nh);
			fprintf(f, "dev %s ", dev_name(ns, nh, b, sizeof(b)));
			fprintf(f, "weight %u ", (unsigned)nh->weight);
			put_rt_flags(f, nh->flags);
		}
	}
	fputc('\n', f);
}

/* "from"/"to" of print_rule(): no trailing space, the caller adds the separators. */
static void put_rule_prefix(FILE *f, const char *word, unsigned family, bool present,
			    const uint8_t *addr, unsigned plen)
{
	char a[ADDR_LEN];

	if (present) {
		fprintf(f, "%s%s", word, nsn_fmt_addr(a, sizeof(a), (int)family, addr));
		if (plen != host_len(family))
			fprintf(f, "/%u", plen);
	} else if (plen) {
		fprintf(f, "%s0/%u", word, plen);
	}
}

void out_rule_line(FILE *f, const struct nsn_rule *r)
{
	char b[32];

	fprintf(f, "%u:\t", r->has_priority ? r->priority : 0);
	if (r->invert)
		fputs("not ", f);
	if (r->has_src || r->src_len)
		put_rule_prefix(f, "from ", r->family, r->has_src, r->src, r->src_len);
	else
		fputs("from all", f);
	put_rule_prefix(f, " to ", r->family, r->has_dst, r->dst, r->dst_len);
	if (r->tos)
		fprintf(f, " tos %s", dsfield_name(r->tos, b, sizeof(b)));
	if (r->has_fwmark || r->has_fwmask) {
		unsigned mark = r->has_fwmark ? r->fwmark : 0;

		/* "%#x": a mark of 0 prints "0", not "0x0", exactly as ip's %#llx. */
		if (r->has_fwmask && r->fwmask != 0xffffffffu)
			fprintf(f, " fwmark %#x/%#x", mark, r->fwmask);
		else
			fprintf(f, " fwmark %#x", mark);
	}
	if (r->iif)
		fprintf(f, " iif %s%s", r->iif, r->flags & FIB_RULE_IIF_DETACHED ? " [detached]" : "");
	if (r->oif)
		fprintf(f, " oif %s%s", r->oif, r->flags & FIB_RULE_OIF_DETACHED ? " [detached]" : "");
	if (r->table)
		fprintf(f, " lookup %s", nsn_rt_table_name(r->table, b, sizeof(b)));
	switch (r->action) {
	case FR_ACT_TO_TBL: break;
	case FR_ACT_GOTO:
		fprintf(f, " goto %u%s", r->goto_target, r->flags & FIB_RULE_UNRESOLVED ? " [unresolved]" : "");
		break;
	case RTN_NAT:
		/* A NAT rule without its gateway (the model has none) reads like this. */
		fputs(" masquerade", f);
		break;
	default: fprintf(f, " %s", nsn_rule_action_name(r->action, b, sizeof(b))); break;
	}
	if (r->protocol && r->protocol != RTPROT_KERNEL)
		fprintf(f, " proto %s", nsn_rt_proto_name(r->protocol, b, sizeof(b)));
	fputc('\n', f);
}

/*
 * `ip route show table all` prints IPv4 and then IPv6; so do `ip rule` and then
 * `ip -6 rule`. Taking each family in its own pass keeps that order whatever order
 * the gatherer's AF_UNSPEC dump delivered, and keeps dump order within a family.
 */
static void put_ns(FILE *f, const struct cli_opts *o, const char *node, const struct nsn_netns *ns)
{
	static const unsigned families[] = {AF_INET, AF_INET6};

	out_netns_heading(f, node, ns);
	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; i < ns->n_routes; i++)
			if (ns->routes[i].family == families[k])
				out_route_line(f, ns, &ns->routes[i]);
	if (!o->rules)
		return;
	fputs("rules:\n", f);
	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; i < ns->n_rules; i++)
			if (ns->rules[i].family == families[k])
				out_rule_line(f, &ns->rules[i]);
}

void out_routes(FILE *f, const struct cli_opts *o, const struct cli_node *nodes, size_t n_nodes)
{
	bool first = true;

	for (size_t n = 0; n < n_nodes; n++) {
		const struct nsn_scan *scan = nodes[n].scan;

		for (size_t i = 0; i < scan->n_netns; i++) {
			const struct nsn_netns *ns = scan->netns[i];

			if (ns->err != 0)
				continue;
			if (!first)
				fputc('\n', f);
			first = false;
			put_ns(f, o, cli_multi_node(o, n_nodes) ? cli_node_text(&nodes[n]) : NULL,
			       ns);
		}
	}
}
