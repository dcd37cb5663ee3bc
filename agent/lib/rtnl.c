/* SPDX-License-Identifier: MIT */
/* Routes, policy rules, interfaces and addresses of one namespace over rtnetlink,
 * parsed by libnl-route-3.
 *
 * The socket is connected while the worker thread is inside the namespace (a netlink
 * socket stays bound to the namespace it was created in); the dumps below run after
 * the thread has returned to its own namespace.
 *
 * Why not libnl's caches (rtnl_route_alloc_cache() and friends): a cache keeps one
 * object per identity, and a route's identity is (family, tos, table, dst, priority).
 * The kernel has many routes that share it -- the fe80::/64 and ff00::/8 routes of
 * every IPv6 interface differ only in their device -- so a cache silently keeps one of
 * them where `ip route` shows all. Each message of a dump is therefore parsed on its
 * own with nl_msg_parse(), libnl's parser without the cache's de-duplication. A few
 * attributes libnl does not expose (whether RTA_PRIORITY was sent, RTA_PREF, the rule
 * invert flag) are read from the message directly. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/fib_rules.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/object.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>

#include "internal.h"

/* libnl's error codes are not errno values; this is the one place they are mapped. */
int nsn__nl_errno(int nle)
{
	switch (nle < 0 ? -nle : nle) {
	case 0:
		return 0;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_BAD_SOCK:
		return -EBADF;
	case NLE_EXIST:
		return -EEXIST;
	case NLE_INVAL:
		return -EINVAL;
	case NLE_RANGE:
		return -ERANGE;
	case NLE_MSGSIZE:
	case NLE_MSG_TRUNC:
		return -EMSGSIZE;
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	case NLE_AF_NOSUPPORT:
		return -EAFNOSUPPORT;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_PERM:
		return -EPERM;
	case NLE_NOACCESS:
		return -EACCES;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_NODEV:
		return -ENODEV;
	case NLE_DUMP_INTR:
		return -EINTR;
	case NLE_PROTO_MISMATCH:
		return -EPROTO;
	case NLE_MSG_OVERFLOW:
		return -EOVERFLOW;
	case NLE_NOADDR:
		return -EADDRNOTAVAIL;
	default:
		return -EIO;
	}
}

struct nl_sock *nsn__rtnl_open(int *ret_err)
{
	struct nl_sock *sk = nl_socket_alloc();
	int r;

	if (!sk) {
		*ret_err = -ENOMEM;
		return NULL;
	}
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0) {
		*ret_err = nsn__nl_errno(r);
		nl_socket_free(sk);
		return NULL;
	}
	/* Size each receive to the message instead of guessing a buffer. */
	nl_socket_enable_msg_peek(sk);
	*ret_err = 0;
	return sk;
}

void nsn__rtnl_close(struct nl_sock *sk)
{
	if (sk)
		nl_socket_free(sk); /* closes the descriptor too */
}

/* Growable arrays of the records of one dump. */
static void *grow(void *arr, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return arr;
	size_t ncap = *cap ? *cap * 2 : 8;
	void *p = realloc(arr, ncap * size);
	if (p)
		*cap = ncap;
	return p;
}

struct dump {
	struct nsn__arena *arena;
	unsigned families; /* NSN_FAMILY_* */
	int err;           /* first error of a callback, -errno */
	int kernel_err;    /* the kernel's NLMSG_ERROR, -errno */
	/* what this dump produced */
	struct nsn_route *routes;
	size_t n_routes, cap_routes;
	struct nsn_rule *rules;
	size_t n_rules, cap_rules;
	struct nsn_link *links;
	size_t n_links, cap_links;
	struct nsn_addr *addrs;
	uint32_t *addr_ifindex;
	size_t n_addrs, cap_addrs, cap_addr_ifindex;
};

static bool family_wanted(const struct dump *d, int family)
{
	if (family == AF_INET)
		return d->families & NSN_FAMILY_V4;
	if (family == AF_INET6)
		return d->families & NSN_FAMILY_V6;
	return false; /* MPLS, ipmr rules, ...: not what ip route/ip rule show */
}

/* Copy an nl_addr's bytes; returns whether there was one. */
static bool copy_addr(uint8_t out[16], const struct nl_addr *a)
{
	if (!a || nl_addr_get_len(a) == 0 || nl_addr_get_len(a) > 16)
		return false;
	memcpy(out, nl_addr_get_binary_addr(a), nl_addr_get_len(a));
	return true;
}

static const char *arena_str(struct dump *d, const char *s)
{
	return s ? nsn__arena_strndup(d->arena, s, strlen(s)) : NULL;
}

/* Not cached: the dump workers call this concurrently, and sysconf(_SC_CLK_TCK) only
 * reads the value glibc took from the auxiliary vector at start-up. */
static int32_t user_hz(void)
{
	long v = sysconf(_SC_CLK_TCK);

	return v > 0 ? (int32_t)v : 100;
}

static int on_route(struct dump *d, struct nl_object *obj, struct nlmsghdr *nlh)
{
	struct rtnl_route *rt = (struct rtnl_route *)obj;
	struct rtmsg *rtm = nlmsg_data(nlh);
	struct nlattr *a;
	struct nsn_route *r;
	int n_nh;

	if (!family_wanted(d, rtnl_route_get_family(rt)))
		return 0;
	/* Cached clones are not part of a table dump; ip hides them too. */
	if (rtm->rtm_flags & RTM_F_CLONED)
		return 0;
	d->routes = grow(d->routes, &d->cap_routes, d->n_routes, sizeof(*r));
	if (!d->routes)
		return -ENOMEM;
	r = &d->routes[d->n_routes++];
	memset(r, 0, sizeof(*r));
	r->family = rtnl_route_get_family(rt);
	r->type = rtnl_route_get_type(rt);
	r->protocol = rtnl_route_get_protocol(rt);
	r->scope = rtnl_route_get_scope(rt);
	r->tos = rtnl_route_get_tos(rt);
	r->table = rtnl_route_get_table(rt);
	r->flags = rtm->rtm_flags;
	r->dst_len = rtm->rtm_dst_len;
	r->src_len = rtm->rtm_src_len;
	r->has_dst = copy_addr(r->dst, rtnl_route_get_dst(rt)) && nlmsg_find_attr(nlh, sizeof(*rtm), RTA_DST);
	r->has_src = copy_addr(r->src, rtnl_route_get_src(rt)) && nlmsg_find_attr(nlh, sizeof(*rtm), RTA_SRC);
	r->has_prefsrc = copy_addr(r->prefsrc, rtnl_route_get_pref_src(rt));
	r->has_metric = nlmsg_find_attr(nlh, sizeof(*rtm), RTA_PRIORITY) != NULL;
	r->metric = rtnl_route_get_priority(rt);
	a = nlmsg_find_attr(nlh, sizeof(*rtm), RTA_PREF);
	r->pref = a ? nla_get_u8(a) : 0xff;
	r->multipath = nlmsg_find_attr(nlh, sizeof(*rtm), RTA_MULTIPATH) != NULL;
	/* rta_expires is in USER_HZ clock ticks (ip divides by sysconf(_SC_CLK_TCK)). */
	a = nlmsg_find_attr(nlh, sizeof(*rtm), RTA_CACHEINFO);
	if (a && nla_len(a) >= (int)sizeof(struct rta_cacheinfo)) {
		const struct rta_cacheinfo *ci = nla_data(a);
		r->expires = ci->rta_expires / user_hz();
	}
	uint32_t v;
	if (rtnl_route_get_metric(rt, RTAX_LOCK, &v) == 0)
		r->metrics_locked = v;
	if (rtnl_route_get_metric(rt, RTAX_MTU, &v) == 0)
		r->mtu = v;
	if (rtnl_route_get_metric(rt, RTAX_ADVMSS, &v) == 0)
		r->advmss = v;
	if (rtnl_route_get_metric(rt, RTAX_HOPLIMIT, &v) == 0)
		r->hoplimit = v;

	n_nh = rtnl_route_get_nnexthops(rt);
	if (n_nh > 0) {
		r->nh = nsn__arena_alloc(d->arena, (size_t)n_nh * sizeof(*r->nh));
		if (!r->nh)
			return -ENOMEM;
		for (int i = 0; i < n_nh; i++) {
			struct rtnl_nexthop *nh = rtnl_route_nexthop_n(rt, i);
			struct nsn_nexthop *o = &r->nh[r->n_nh++];
			struct nl_addr *gw = rtnl_route_nh_get_gateway(nh);

			memset(o, 0, sizeof(*o));
			/* RTA_VIA carries a gateway of another family (IPv4 via IPv6). */
			if (!gw)
				gw = rtnl_route_nh_get_via(nh);
			if (copy_addr(o->gateway, gw))
				o->gw_family = (uint8_t)nl_addr_get_family(gw);
			o->ifindex = (uint32_t)rtnl_route_nh_get_ifindex(nh);
			o->flags = rtnl_route_nh_get_flags(nh);
			/* ip prints rtnh_hops + 1; libnl stores rtnh_hops as the weight. */
			o->weight = r->multipath ? (uint8_t)(rtnl_route_nh_get_weight(nh) + 1) : 0;
		}
	}
	return 0;
}

static int on_rule(struct dump *d, struct nl_object *obj, struct nlmsghdr *nlh)
{
	struct rtnl_rule *ru = (struct rtnl_rule *)obj;
	struct fib_rule_hdr *frh = nlmsg_data(nlh);
	struct nsn_rule *r;
	uint8_t proto;

	if (!family_wanted(d, rtnl_rule_get_family(ru)))
		return 0;
	d->rules = grow(d->rules, &d->cap_rules, d->n_rules, sizeof(*r));
	if (!d->rules)
		return -ENOMEM;
	r = &d->rules[d->n_rules++];
	memset(r, 0, sizeof(*r));
	r->family = (uint8_t)rtnl_rule_get_family(ru);
	r->action = rtnl_rule_get_action(ru);
	r->tos = frh->tos;
	r->src_len = frh->src_len;
	r->dst_len = frh->dst_len;
	r->invert = frh->flags & FIB_RULE_INVERT;
	r->flags = frh->flags;
	r->has_priority = nlmsg_find_attr(nlh, sizeof(*frh), FRA_PRIORITY) != NULL;
	r->priority = rtnl_rule_get_prio(ru);
	/* FRA_TABLE holds ids above 255; frh->table is the 8-bit legacy field. */
	r->table = rtnl_rule_get_table(ru);
	r->has_fwmark = nlmsg_find_attr(nlh, sizeof(*frh), FRA_FWMARK) != NULL;
	r->fwmark = rtnl_rule_get_mark(ru);
	r->has_fwmask = nlmsg_find_attr(nlh, sizeof(*frh), FRA_FWMASK) != NULL;
	r->fwmask = rtnl_rule_get_mask(ru);
	r->goto_target = rtnl_rule_get_goto(ru);
	r->has_src = copy_addr(r->src, rtnl_rule_get_src(ru)) && r->src_len > 0;
	r->has_dst = copy_addr(r->dst, rtnl_rule_get_dst(ru)) && r->dst_len > 0;
	r->iif = arena_str(d, rtnl_rule_get_iif(ru));
	r->oif = arena_str(d, rtnl_rule_get_oif(ru));
	if (rtnl_rule_get_protocol(ru, &proto) == 0)
		r->protocol = proto;
	return 0;
}

static const rtnl_link_stat_id_t stat_ids[] = {
	RTNL_LINK_RX_PACKETS, RTNL_LINK_TX_PACKETS, RTNL_LINK_RX_BYTES, RTNL_LINK_TX_BYTES,
	RTNL_LINK_RX_ERRORS, RTNL_LINK_TX_ERRORS, RTNL_LINK_RX_DROPPED, RTNL_LINK_TX_DROPPED,
	RTNL_LINK_MULTICAST, RTNL_LINK_COLLISIONS,
	RTNL_LINK_RX_LEN_ERR, RTNL_LINK_RX_OVER_ERR, RTNL_LINK_RX_CRC_ERR, RTNL_LINK_RX_FRAME_ERR,
	RTNL_LINK_RX_FIFO_ERR, RTNL_LINK_RX_MISSED_ERR,
	RTNL_LINK_TX_ABORT_ERR, RTNL_LINK_TX_CARRIER_ERR, RTNL_LINK_TX_FIFO_ERR,
	RTNL_LINK_TX_HBEAT_ERR, RTNL_LINK_TX_WIN_ERR,
	RTNL_LINK_RX_COMPRESSED, RTNL_LINK_TX_COMPRESSED, RTNL_LINK_RX_NOHANDLER,
};

static int on_link(struct dump *d, struct nl_object *obj, struct nlmsghdr *nlh)
{
	struct rtnl_link *lk = (struct rtnl_link *)obj;
	struct nl_addr *mac = rtnl_link_get_addr(lk);
	struct nsn_link *l;
	int32_t nsid;

	d->links = grow(d->links, &d->cap_links, d->n_links, sizeof(*l));
	if (!d->links)
		return -ENOMEM;
	l = &d->links[d->n_links++];
	memset(l, 0, sizeof(*l));
	l->ifindex = (uint32_t)rtnl_link_get_ifindex(lk);
	l->name = arena_str(d, rtnl_link_get_name(lk));
	l->kind = arena_str(d, rtnl_link_get_type(lk));
	l->qdisc = arena_str(d, rtnl_link_get_qdisc(lk));
	l->mtu = rtnl_link_get_mtu(lk);
	l->flags = rtnl_link_get_flags(lk);
	l->operstate = rtnl_link_get_operstate(lk);
	l->arptype = (uint16_t)rtnl_link_get_arptype(lk);
	l->txqlen = rtnl_link_get_txqlen(lk);
	l->master = (uint32_t)rtnl_link_get_master(lk);
	l->link = (uint32_t)rtnl_link_get_link(lk);
	l->link_netnsid = rtnl_link_get_link_netnsid(lk, &nsid) == 0 ? nsid : -1;
	if (mac && nl_addr_get_len(mac) <= sizeof(l->mac)) {
		l->mac_len = (uint8_t)nl_addr_get_len(mac);
		memcpy(l->mac, nl_addr_get_binary_addr(mac), l->mac_len);
	}
	l->has_stats = nlmsg_find_attr(nlh, sizeof(struct ifinfomsg), IFLA_STATS64) ||
		       nlmsg_find_attr(nlh, sizeof(struct ifinfomsg), IFLA_STATS);
	if (l->has_stats) {
		uint64_t *out = &l->stats.rx_packets;
		/* struct nsn_link_stats lists its fields in stat_ids' order. */
		for (size_t i = 0; i < NSN_ARRAY_SIZE(stat_ids); i++)
			out[i] = rtnl_link_get_stat(lk, stat_ids[i]);
	}
	/* A veth names its peer by ifindex (IFLA_LINK), in the namespace IFLA_LINK_NETNSID
	 * designates (absent: the same one); the name and namespace come later, from the
	 * namespaces scanned beside this one (peers.c). */
	if (l->kind && strcmp(l->kind, "veth") == 0 && l->link) {
		l->has_peer = true;
		l->peer.ifindex = l->link;
		l->peer.netnsid = l->link_netnsid;
	}
	return 0;
}

static int on_addr(struct dump *d, struct nl_object *obj)
{
	struct rtnl_addr *ad = (struct rtnl_addr *)obj;
	struct nsn_addr *a;

	if (!family_wanted(d, rtnl_addr_get_family(ad)))
		return 0;
	d->addrs = grow(d->addrs, &d->cap_addrs, d->n_addrs, sizeof(*a));
	if (!d->addrs)
		return -ENOMEM;
	d->addr_ifindex = grow(d->addr_ifindex, &d->cap_addr_ifindex, d->n_addrs, sizeof(uint32_t));
	if (!d->addr_ifindex)
		return -ENOMEM;
	d->addr_ifindex[d->n_addrs] = (uint32_t)rtnl_addr_get_ifindex(ad);
	a = &d->addrs[d->n_addrs++];
	memset(a, 0, sizeof(*a));
	a->family = (uint8_t)rtnl_addr_get_family(ad);
	a->prefixlen = (uint8_t)rtnl_addr_get_prefixlen(ad);
	a->scope = (uint8_t)rtnl_addr_get_scope(ad);
	a->flags = rtnl_addr_get_flags(ad);
	a->valid_lft = rtnl_addr_get_valid_lifetime(ad);
	a->preferred_lft = rtnl_addr_get_preferred_lifetime(ad);
	copy_addr(a->local, rtnl_addr_get_local(ad));
	a->has_peer = copy_addr(a->peer, rtnl_addr_get_peer(ad));
	a->has_broadcast = copy_addr(a->broadcast, rtnl_addr_get_broadcast(ad));
	a->label = arena_str(d, rtnl_addr_get_label(ad));
	return 0;
}

struct parse_ctx {
	struct dump *d;
	struct nlmsghdr *nlh;
};

static void on_object(struct nl_object *obj, void *arg)
{
	struct parse_ctx *c = arg;
	struct dump *d = c->d;
	int r = 0;

	if (d->err)
		return;
	switch (c->nlh->nlmsg_type) {
	case RTM_NEWROUTE:
		r = on_route(d, obj, c->nlh);
		break;
	case RTM_NEWRULE:
		r = on_rule(d, obj, c->nlh);
		break;
	case RTM_NEWLINK:
		r = on_link(d, obj, c->nlh);
		break;
	case RTM_NEWADDR:
		r = on_addr(d, obj);
		break;
	}
	if (r < 0)
		d->err = r;
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct parse_ctx c = {.d = arg, .nlh = nlmsg_hdr(msg)};
	int r = nl_msg_parse(msg, on_object, &c);

	/* A message libnl cannot parse (an attribute it rejects) is the namespace's
	 * failure, reported with the rest, not a silently shorter list. */
	if (r < 0 && !c.d->err)
		c.d->err = nsn__nl_errno(r);
	return c.d->err ? NL_STOP : NL_OK;
}

/* Keep the kernel's own errno: libnl would fold it into an NLE_* code. */
static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct dump *d = arg;

	(void)nla;
	d->kernel_err = e->error < 0 ? e->error : -EIO;
	return NL_STOP;
}

/* One dump request and its replies. */
static int dump_type(struct nl_sock *sk, struct dump *d, int type, void *hdr, size_t hdrlen)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int r;

	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, d);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, d);
	d->err = d->kernel_err = 0;
	r = nl_send_simple(sk, type, NLM_F_DUMP, hdr, hdrlen);
	if (r >= 0)
		r = nl_recvmsgs(sk, cb);
	nl_cb_put(cb);
	if (d->kernel_err)
		return d->kernel_err;
	if (d->err)
		return d->err;
	return r < 0 ? nsn__nl_errno(r) : 0;
}

/* A dump the kernel marks interrupted (NLM_F_DUMP_INTR: the table changed under it)
 * may have missed or repeated entries: start it over, a few times. */
static int dump_retry(struct nl_sock *sk, struct dump *d, int type, void *hdr, size_t hdrlen,
		      size_t *count)
{
	int r = 0;

	for (int attempt = 0; attempt < 4; attempt++) {
		*count = 0;
		if (type == RTM_GETADDR)
			d->n_addrs = 0;
		r = dump_type(sk, d, type, hdr, hdrlen);
		if (r != -EINTR)
			break;
	}
	return r;
}

static const char *link_name(const struct dump *d, uint32_t ifindex)
{
	for (size_t i = 0; i < d->n_links; i++)
		if (d->links[i].ifindex == ifindex)
			return d->links[i].name;
	return NULL;
}

/* Hand each address to its interface, keeping the kernel's order within one. */
static int attach_addrs(struct dump *d)
{
	for (size_t i = 0; i < d->n_links; i++) {
		struct nsn_link *l = &d->links[i];
		size_t n = 0;

		for (size_t k = 0; k < d->n_addrs; k++)
			n += d->addr_ifindex[k] == l->ifindex;
		if (!n)
			continue;
		l->addrs = nsn__arena_alloc(d->arena, n * sizeof(*l->addrs));
		if (!l->addrs)
			return -ENOMEM;
		for (size_t k = 0; k < d->n_addrs; k++)
			if (d->addr_ifindex[k] == l->ifindex)
				l->addrs[l->n_addrs++] = d->addrs[k];
	}
	return 0;
}

static void dump_release(struct dump *d)
{
	free(d->routes);
	free(d->rules);
	free(d->links);
	free(d->addrs);
	free(d->addr_ifindex);
}

int nsn__rtnl_dump(struct nl_sock *sk, struct nsn_netns *ns, const struct nsn_gather_opts *opts)
{
	struct dump d = {.arena = &nsn__priv(ns)->arena};
	bool routes = opts->flags & NSN_GATHER_ROUTES, links = opts->flags & NSN_GATHER_LINKS;
	int r;

	d.families = opts->families ? opts->families : (NSN_FAMILY_V4 | NSN_FAMILY_V6);
	/* Links always: routes name their devices. */
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	r = dump_retry(sk, &d, RTM_GETLINK, &ifi, sizeof(ifi), &d.n_links);
	if (r < 0)
		goto out;
	if (links) {
		struct ifaddrmsg ifa = {.ifa_family = AF_UNSPEC};
		r = dump_retry(sk, &d, RTM_GETADDR, &ifa, sizeof(ifa), &d.n_addrs);
		if (r < 0)
			goto out;
		r = attach_addrs(&d);
		if (r < 0)
			goto out;
	}
	if (routes) {
		/* AF_UNSPEC walks every family in order: IPv4 then IPv6, as ip prints them. */
		struct rtmsg rtm = {.rtm_family = AF_UNSPEC};
		struct fib_rule_hdr frh = {.family = AF_UNSPEC};

		r = dump_retry(sk, &d, RTM_GETROUTE, &rtm, sizeof(rtm), &d.n_routes);
		if (r < 0)
			goto out;
		r = dump_retry(sk, &d, RTM_GETRULE, &frh, sizeof(frh), &d.n_rules);
		if (r < 0)
			goto out;
		for (size_t i = 0; i < d.n_routes; i++)
			for (size_t k = 0; k < d.routes[i].n_nh; k++)
				d.routes[i].nh[k].dev = link_name(&d, d.routes[i].nh[k].ifindex);
		ns->routes = d.routes;
		ns->n_routes = d.n_routes;
		ns->rules = d.rules;
		ns->n_rules = d.n_rules;
		d.routes = NULL;
		d.rules = NULL;
	}
	if (links) {
		ns->links = d.links;
		ns->n_links = d.n_links;
		d.links = NULL;
	}
	r = 0;
out:
	dump_release(&d);
	return r;
}

struct nsid_reply {
	int32_t nsid;
	bool seen;
	int kernel_err;
};

static int on_nsid(struct nl_msg *msg, void *arg)
{
	struct nsid_reply *rep = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWNSID)
		return NL_OK;
	a = nlmsg_find_attr(nlh, sizeof(struct rtgenmsg), NETNSA_NSID);
	if (a && nla_len(a) >= 4) {
		rep->nsid = (int32_t)nla_get_u32(a);
		rep->seen = true;
	}
	return NL_OK;
}

static int on_nsid_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct nsid_reply *rep = arg;

	(void)nla;
	rep->kernel_err = e->error < 0 ? e->error : -EIO;
	return NL_STOP;
}

int nsn__rtnl_nsid(struct nl_sock *sk, int netns_fd, int32_t *ret_nsid)
{
	struct rtgenmsg g = {.rtgen_family = AF_UNSPEC};
	struct nsid_reply rep = {.nsid = -1};
	struct nl_msg *m = nlmsg_alloc_simple(RTM_GETNSID, NLM_F_REQUEST);
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int r;

	if (!m || !cb) {
		r = -ENOMEM;
		goto out;
	}
	r = nlmsg_append(m, &g, sizeof(g), NLMSG_ALIGNTO);
	if (r == 0)
		r = nla_put_u32(m, NETNSA_FD, (uint32_t)netns_fd);
	if (r < 0) {
		r = nsn__nl_errno(r);
		goto out;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_nsid, &rep);
	nl_cb_err(cb, NL_CB_CUSTOM, on_nsid_error, &rep);
	r = nl_send_auto(sk, m);
	/* The reply is one RTM_NEWNSID; nl_recvmsgs() returns after it (no ack asked). */
	if (r >= 0)
		r = nl_recvmsgs(sk, cb);
	if (rep.kernel_err)
		r = rep.kernel_err;
	else if (r < 0)
		r = nsn__nl_errno(r);
	else if (!rep.seen)
		r = -EPROTO;
	else
		r = 0;
	*ret_nsid = rep.nsid;
out:
	nlmsg_free(m);
	nl_cb_put(cb);
	return r;
}
