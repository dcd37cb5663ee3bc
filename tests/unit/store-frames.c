/* SPDX-License-Identifier: MIT */
/* Frames built by hand for the store's tests (see store-frames.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "store-frames.h"

void mk_sock(struct ns_msg *m, size_t i, uint64_t cookie, uint32_t port)
{
	Nsnet__V1__Socket *s = &m->socks[i];

	nsnet__v1__socket__init(s);
	s->cookie = cookie;
	s->proto = NSNET__V1__PROTO__TCP;
	s->family = AF_INET;
	s->state = 10; /* LISTEN */
	s->type = SOCK_STREAM;
	s->uid = 0;
	s->inode = (uint32_t)(1000 + cookie);
	memcpy(m->addr[i], "\x7f\x00\x00\x01", 4);
	s->local_addr = (ProtobufCBinaryData){4, m->addr[i]};
	s->peer_addr = (ProtobufCBinaryData){4, m->addr[i]};
	s->local_port = port;
	m->sockp[i] = s;
}

Nsnet__V1__NamespaceSnapshot *mk_ns(struct ns_msg *m, uint64_t cookie, const char *name, size_t n)
{
	memset(m, 0, sizeof(*m));
	nsnet__v1__netns_id__init(&m->id);
	m->id.cookie = cookie;
	m->id.dev = 4;
	m->id.inode = 4026530000u + cookie;
	for (size_t i = 0; i < n; i++)
		mk_sock(m, i, i + 1, (uint32_t)(8000 + i + 1));
	nsnet__v1__route__init(&m->route);
	m->route.family = AF_INET;
	m->route.table = 254;
	m->route.type = 1;
	m->routep[0] = &m->route;
	for (size_t i = 0; i < 2; i++) {
		nsnet__v1__link__init(&m->links[i]);
		m->links[i].ifindex = (uint32_t)(2 - i); /* out of order on purpose */
		m->links[i].name = i ? "lo" : "eth0";
		m->links[i].mtu = i ? 65536 : 1500;
		m->linkp[i] = &m->links[i];
	}
	const char *cn[] = {"IpInReceives", "TcpActiveOpens", "Ip6InReceives"};
	for (size_t i = 0; i < 3; i++) {
		nsnet__v1__counter__init(&m->ctrs[i]);
		m->ctrs[i].name = (char *)cn[i];
		m->ctrs[i].value = (int64_t)(10 * (i + 1));
		m->ctrp[i] = &m->ctrs[i];
	}
	m->names[0] = (char *)name;
	nsnet__v1__namespace_snapshot__init(&m->snap);
	m->snap.id = &m->id;
	m->snap.n_names = name ? 1 : 0;
	m->snap.names = m->names;
	m->snap.pid = 42;
	m->snap.nprocs = 1;
	m->snap.n_sockets = n;
	m->snap.sockets = m->sockp;
	m->snap.n_routes = 1;
	m->snap.routes = m->routep;
	m->snap.n_links = 2;
	m->snap.links = m->linkp;
	m->snap.n_counters = 3;
	m->snap.counters = m->ctrp;
	return &m->snap;
}

struct nsn_store_node *hello(struct nsn_store *st, const char *node, const char *boot,
			     uint64_t session)
{
	Nsnet__V1__Hello h = NSNET__V1__HELLO__INIT;
	struct nsn_store_node *n = NULL;
	struct nsn_store_error err;

	h.protocol_version = NSN_PROTOCOL_VERSION;
	h.role = NSNET__V1__HELLO__ROLE__AGENT;
	h.node = (char *)node;
	h.boot_id = (char *)boot;
	h.agent_version = "test";
	h.session = session;
	ASSERT_EQ(nsn_store_hello(st, &h, &n, &err), 0);
	return n;
}

int apply_snap(struct nsn_store_node *n, Nsnet__V1__NamespaceSnapshot *s,
	       struct nsn_store_error *err)
{
	NsnFrame f = NSNET__V1__FRAME__INIT;

	f.body_case = NSNET__V1__FRAME__BODY_SNAPSHOT;
	f.snapshot = s;
	return nsn_store_apply(n, &f, err);
}

int apply_delta(struct nsn_store_node *n, Nsnet__V1__NamespaceDelta *d, struct nsn_store_error *err)
{
	NsnFrame f = NSNET__V1__FRAME__INIT;

	f.body_case = NSNET__V1__FRAME__BODY_DELTA;
	f.delta = d;
	return nsn_store_apply(n, &f, err);
}

int apply_gone(struct nsn_store_node *n, Nsnet__V1__NetnsId *id, struct nsn_store_error *err)
{
	NsnFrame f = NSNET__V1__FRAME__INIT;
	Nsnet__V1__NamespaceGone g = NSNET__V1__NAMESPACE_GONE__INIT;

	g.id = id;
	f.body_case = NSNET__V1__FRAME__BODY_GONE;
	f.gone = &g;
	return nsn_store_apply(n, &f, err);
}

int scan_done(struct nsn_store_node *n, bool full)
{
	NsnFrame f = NSNET__V1__FRAME__INIT;
	Nsnet__V1__ScanDone d = NSNET__V1__SCAN_DONE__INIT;
	Nsnet__V1__AgentStats st = NSNET__V1__AGENT_STATS__INIT;
	char *w[] = {"netns 7: vanished during the scan"};

	d.scan = 3;
	d.time_ms = 1700000000000ull;
	d.full = full;
	d.scan_ms = 12;
	d.vanished = 1;
	d.n_warnings = 1;
	d.warnings = w;
	d.backend = "bpf";
	st.scans = 3;
	st.bpf_records_dropped = 4;
	st.bpf_chains_capped = 2;
	d.stats = &st;
	f.body_case = NSNET__V1__FRAME__BODY_SCAN_DONE;
	f.scan_done = &d;
	return nsn_store_apply(n, &f, NULL);
}

struct view view_of(const struct nsn_store_node *n)
{
	struct view v = {0};

	ASSERT_EQ(nsn_store_node_snapshots(n, &v.s, &v.n), 0);
	return v;
}

void view_free(struct view *v)
{
	nsn_store_snapshots_free(v->s, v->n);
}

const Nsnet__V1__NamespaceSnapshot *view_find(const struct view *v, uint64_t cookie)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->s[i]->id && v->s[i]->id->cookie == cookie)
			return v->s[i];
	return NULL;
}

const char *cookies(const Nsnet__V1__NamespaceSnapshot *s)
{
	static char buf[256];
	size_t k = 0;

	buf[0] = '\0';
	for (size_t i = 0; s && i < s->n_sockets && k < sizeof(buf) - 24; i++)
		k += (size_t)snprintf(buf + k, sizeof(buf) - k, "%s%llu", i ? "," : "",
				      (unsigned long long)s->sockets[i]->cookie);
	return buf;
}
