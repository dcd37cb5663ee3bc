/* SPDX-License-Identifier: MIT */
/* The --json keys of -r, -i and -s in each namespace object: routes, rules, links
 * and counters (schema in README.md). Words are ip's (rtnames.h), so a script that
 * knows `ip -j` reads these without a dictionary. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/fib_rules.h>

#include <nsnet/format.h>
#include <nsnet/rtnames.h>

#include "cli.h"

static const char *family_name(unsigned family)
{
	return family == AF_INET ? "inet" : family == AF_INET6 ? "inet6" : "unspec";
}

static void key_str(struct json *j, const char *key, const char *val)
{
	json_key(j, key);
	json_str(j, val);
}

static void key_u64(struct json *j, const char *key, unsigned long long v)
{
	json_key(j, key);
	json_u64(j, v);
}

static void key_addr(struct json *j, const char *key, bool present, int family, const uint8_t *a)
{
	char buf[64];

	json_key(j, key);
	if (present)
		json_str(j, nsn_fmt_addr(buf, sizeof(buf), family, a));
	else
		json_null(j);
}

static void words(struct json *j, const char *key, const char **w, size_t n)
{
	json_key(j, key);
	json_begin_arr(j);
	for (size_t i = 0; i < n; i++)
		json_str(j, w[i]);
	json_end_arr(j);
}

static void route(struct json *j, const struct nsn_route *r)
{
	char buf[64], pbuf[80];
	const char *w[16];
	const struct nsn_nexthop *single = r->n_nh == 1 && !r->multipath ? &r->nh[0] : NULL;

	json_begin_obj(j);
	key_str(j, "table", nsn_rt_table_name(r->table, buf, sizeof(buf)));
	key_u64(j, "table_id", r->table);
	key_str(j, "family", family_name(r->family));
	key_str(j, "type", nsn_rt_type_name(r->type, buf, sizeof(buf)));
	key_str(j, "dst", nsn_fmt_prefix(r->family, r->dst, r->dst_len, r->has_dst, pbuf, sizeof(pbuf)));
	key_u64(j, "dst_len", r->dst_len);
	json_key(j, "src");
	if (r->has_src)
		json_str(j, nsn_fmt_prefix(r->family, r->src, r->src_len, true, pbuf, sizeof(pbuf)));
	else
		json_null(j);
	key_addr(j, "gateway", single && single->gw_family, single ? single->gw_family : 0,
		 single ? single->gateway : NULL);
	key_str(j, "dev", single ? single->dev : NULL);
	key_u64(j, "ifindex", single ? single->ifindex : 0);
	json_key(j, "multipath");
	json_bool(j, r->multipath);
	json_key(j, "nexthops");
	json_begin_arr(j);
	for (size_t i = 0; i < r->n_nh; i++) {
		const struct nsn_nexthop *nh = &r->nh[i];
		json_begin_obj(j);
		key_addr(j, "gateway", nh->gw_family, nh->gw_family, nh->gateway);
		key_str(j, "dev", nh->dev);
		key_u64(j, "ifindex", nh->ifindex);
		key_u64(j, "weight", nh->weight);
		words(j, "flags", w, nsn_route_flag_names(nh->flags, w, NSN_ARRAY_LEN(w)));
		json_end_obj(j);
	}
	json_end_arr(j);
	key_str(j, "protocol", nsn_rt_proto_name(r->protocol, buf, sizeof(buf)));
	key_u64(j, "protocol_id", r->protocol);
	key_str(j, "scope", nsn_rt_scope_name(r->scope, buf, sizeof(buf)));
	key_u64(j, "metric", r->metric);
	key_addr(j, "prefsrc", r->has_prefsrc, r->family, r->prefsrc);
	key_u64(j, "tos", r->tos);
	key_str(j, "pref", r->family == AF_INET6 ? nsn_rt_pref_name(r->pref) : NULL);
	words(j, "flags", w, nsn_route_flag_names(r->flags, w, NSN_ARRAY_LEN(w)));
	json_key(j, "metrics");
	json_begin_obj(j);
	if (r->mtu)
		key_u64(j, "mtu", r->mtu);
	if (r->advmss)
		key_u64(j, "advmss", r->advmss);
	if (r->hoplimit)
		key_u64(j, "hoplimit", r->hoplimit);
	json_end_obj(j);
	json_key(j, "expires");
	if (r->expires)
		json_i64(j, r->expires);
	else
		json_null(j);
	json_end_obj(j);
}

static void rule_prefix(struct json *j, const char *key, const char *lenkey, const struct nsn_rule *r,
			bool has, const uint8_t *a, unsigned len)
{
	char pbuf[80];

	key_str(j, key, has ? nsn_fmt_prefix(r->family, a, len, true, pbuf, sizeof(pbuf)) : "all");
	key_u64(j, lenkey, has ? len : 0);
}

static void rule(struct json *j, const struct nsn_rule *r)
{
	char buf[64];

	json_begin_obj(j);
	key_u64(j, "priority", r->priority);
	key_str(j, "family", family_name(r->family));
	key_str(j, "action", nsn_rule_action_name(r->action, buf, sizeof(buf)));
	key_str(j, "table", r->action == FR_ACT_TO_TBL ? nsn_rt_table_name(r->table, buf, sizeof(buf)) : NULL);
	key_u64(j, "table_id", r->table);
	rule_prefix(j, "src", "src_len", r, r->has_src, r->src, r->src_len);
	rule_prefix(j, "dst", "dst_len", r, r->has_dst, r->dst, r->dst_len);
	key_str(j, "iif", r->iif);
	key_str(j, "oif", r->oif);
	json_key(j, "fwmark");
	if (r->has_fwmark)
		json_u64(j, r->fwmark);
	else
		json_null(j);
	json_key(j, "fwmask");
	if (r->has_fwmask)
		json_u64(j, r->fwmask);
	else
		json_null(j);
	key_u64(j, "tos", r->tos);
	json_key(j, "not");
	json_bool(j, r->invert);
	json_key(j, "detached");
	json_bool(j, r->flags & (FIB_RULE_IIF_DETACHED | FIB_RULE_OIF_DETACHED));
	json_key(j, "unresolved");
	json_bool(j, r->flags & FIB_RULE_UNRESOLVED);
	json_key(j, "goto");
	if (r->action == FR_ACT_GOTO)
		json_u64(j, r->goto_target);
	else
		json_null(j);
	json_end_obj(j);
}

static void addr(struct json *j, const struct nsn_addr *a)
{
	char buf[64];
	const char *w[16];

	json_begin_obj(j);
	key_str(j, "family", family_name(a->family));
	key_addr(j, "local", true, a->family, a->local);
	key_u64(j, "prefixlen", a->prefixlen);
	key_addr(j, "peer", a->has_peer, a->family, a->peer);
	key_addr(j, "broadcast", a->has_broadcast, a->family, a->broadcast);
	key_str(j, "scope", nsn_rt_scope_name(a->scope, buf, sizeof(buf)));
	key_str(j, "label", a->label);
	words(j, "flags", w, nsn_addr_flag_names(a->flags, a->family, w, NSN_ARRAY_LEN(w)));
	key_u64(j, "valid_lft", a->valid_lft);
	key_u64(j, "preferred_lft", a->preferred_lft);
	json_end_obj(j);
}

static void stats(struct json *j, const struct nsn_link_stats *s)
{
	json_begin_obj(j);
#define U(f) key_u64(j, #f, s->f)
	U(rx_bytes);
	U(rx_packets);
	U(rx_errors);
	U(rx_dropped);
	U(tx_bytes);
	U(tx_packets);
	U(tx_errors);
	U(tx_dropped);
	U(multicast);
	U(collisions);
	U(rx_length_errors);
	U(rx_over_errors);
	U(rx_crc_errors);
	U(rx_frame_errors);
	U(rx_fifo_errors);
	U(rx_missed_errors);
	U(tx_aborted_errors);
	U(tx_carrier_errors);
	U(tx_fifo_errors);
	U(tx_heartbeat_errors);
	U(tx_window_errors);
	U(rx_compressed);
	U(tx_compressed);
	U(rx_nohandler);
#undef U
	json_end_obj(j);
}

static const char *link_name(const struct nsn_netns *ns, uint32_t ifindex)
{
	for (size_t i = 0; i < ns->n_links; i++)
		if (ns->links[i].ifindex == ifindex)
			return ns->links[i].name;
	return NULL;
}

static void link(struct json *j, const struct nsn_netns *ns, const struct nsn_link *l)
{
	char buf[128], hex[16];
	const char *w[24];

	json_begin_obj(j);
	key_u64(j, "ifindex", l->ifindex);
	key_str(j, "name", l->name);
	key_str(j, "kind", l->kind);
	key_u64(j, "mtu", l->mtu);
	words(j, "flags", w, nsn_link_flag_names(l->flags, w, NSN_ARRAY_LEN(w), hex));
	key_str(j, "operstate", nsn_link_operstate_name(l->operstate, buf, sizeof(buf)));
	key_str(j, "link_type", nsn_link_type_name(l->arptype, buf, sizeof(buf)));
	key_str(j, "mac", l->mac_len ? nsn_fmt_lladdr(l->mac, l->mac_len, buf, sizeof(buf)) : NULL);
	key_u64(j, "txqlen", l->txqlen);
	key_str(j, "qdisc", l->qdisc);
	key_str(j, "master", l->master ? link_name(ns, l->master) : NULL);
	key_u64(j, "master_ifindex", l->master);
	key_u64(j, "link_ifindex", l->link);
	json_key(j, "link_netnsid");
	if (l->link_netnsid >= 0)
		json_u64(j, (unsigned)l->link_netnsid);
	else
		json_null(j);
	json_key(j, "addrs");
	json_begin_arr(j);
	for (size_t i = 0; i < l->n_addrs; i++)
		addr(j, &l->addrs[i]);
	json_end_arr(j);
	json_key(j, "stats");
	if (l->has_stats)
		stats(j, &l->stats);
	else
		json_null(j);
	json_key(j, "peer");
	if (l->has_peer) {
		json_begin_obj(j);
		key_u64(j, "ifindex", l->peer.ifindex);
		key_str(j, "name", l->peer.name);
		json_key(j, "netns_inode");
		if (l->peer.netns)
			json_u64(j, l->peer.netns->inode);
		else
			json_null(j);
		key_str(j, "netns", l->peer.netns ? nsn_netns_label(l->peer.netns, buf, sizeof(buf)) : NULL);
		json_end_obj(j);
	} else {
		json_null(j);
	}
	json_end_obj(j);
}

void json_netcfg(struct json *j, const struct cli_opts *o, const struct nsn_netns *ns,
		 const struct nsn_netns *prev)
{
	if (o->routes) {
		json_key(j, "routes");
		json_begin_arr(j);
		for (size_t i = 0; i < ns->n_routes; i++)
			route(j, &ns->routes[i]);
		json_end_arr(j);
		json_key(j, "rules");
		json_begin_arr(j);
		for (size_t i = 0; i < ns->n_rules; i++)
			rule(j, &ns->rules[i]);
		json_end_arr(j);
	}
	if (o->links) {
		json_key(j, "links");
		json_begin_arr(j);
		for (size_t i = 0; i < ns->n_links; i++)
			link(j, ns, &ns->links[i]);
		json_end_arr(j);
	}
	if (o->counters) {
		json_key(j, "counters");
		json_begin_obj(j);
		for (size_t i = 0; i < ns->n_counters; i++) {
			json_key(j, ns->counters[i].name);
			json_i64(j, ns->counters[i].value);
		}
		json_end_obj(j);
		if (prev) {
			struct counter_delta *d;
			size_t n = counters_delta(ns, prev, &d);
			json_key(j, "counters_delta");
			json_begin_obj(j);
			for (size_t i = 0; i < n; i++) {
				json_key(j, d[i].name);
				json_i64(j, d[i].delta);
			}
			json_end_obj(j);
			free(d);
		}
	}
}
