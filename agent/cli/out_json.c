/* SPDX-License-Identifier: MIT */
/* The --json document (schema in README.md): nodes -> namespaces -> sockets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <nsnet/format.h>

#include "cli.h"

static const char *family_name(unsigned family)
{
	return family == AF_INET ? "inet" : family == AF_INET6 ? "inet6" : "unix";
}

static const char *unix_type(unsigned type)
{
	return type == SOCK_STREAM ? "stream" : type == SOCK_DGRAM ? "dgram"
	       : type == SOCK_SEQPACKET ? "seqpacket" : "unknown";
}

static void endpoint(struct json *j, const struct nsn_sock *s, const struct nsn_endpoint *ep)
{
	char buf[64];

	json_begin_obj(j);
	json_key(j, "addr");
	json_str(j, nsn_fmt_addr(buf, sizeof(buf), s->family, ep->addr));
	json_key(j, "port");
	json_u64(j, ep->port);
	json_end_obj(j);
}

static void tcp_info(struct json *j, const struct nsn_tcp_info *t)
{
	json_key(j, "tcp_info");
	json_begin_obj(j);
	json_key(j, "cong");
	json_str(j, t->cong);
#define U(name, field)          \
	json_key(j, name);      \
	json_u64(j, t->field)
	U("rtt_us", rtt_us);
	U("rttvar_us", rttvar_us);
	U("rto_us", rto_us);
	U("cwnd", snd_cwnd);
	U("ssthresh", snd_ssthresh);
	U("snd_mss", snd_mss);
	U("rcv_mss", rcv_mss);
	U("retrans", retrans);
	U("total_retrans", total_retrans);
	U("bytes_sent", bytes_sent);
	U("bytes_retrans", bytes_retrans);
	U("bytes_acked", bytes_acked);
	U("bytes_received", bytes_received);
	U("last_send_ms", last_data_sent_ms);
	U("last_recv_ms", last_data_recv_ms);
	U("last_ack_ms", last_ack_recv_ms);
	U("delivery_rate", delivery_rate);
	U("snd_wscale", snd_wscale);
	U("rcv_wscale", rcv_wscale);
#undef U
	json_end_obj(j);
}

static void skmem(struct json *j, const struct nsn_skmem *m)
{
	json_key(j, "skmem");
	json_begin_obj(j);
#define U(name, field)          \
	json_key(j, name);      \
	json_u64(j, m->field)
	U("rmem_alloc", rmem_alloc);
	U("rcvbuf", rcvbuf);
	U("wmem_alloc", wmem_alloc);
	U("sndbuf", sndbuf);
	U("fwd_alloc", fwd_alloc);
	U("wmem_queued", wmem_queued);
	U("optmem", optmem);
	U("backlog", backlog);
	U("drops", drops);
#undef U
	json_end_obj(j);
}

static void sock(struct json *j, const struct cli_opts *o, const struct nsn_scan *scan,
		 const struct nsn_sock *s)
{
	json_begin_obj(j);
	json_key(j, "proto");
	json_str(j, nsn_proto_name(s->proto));
	json_key(j, "family");
	json_str(j, family_name(s->family));
	if (s->proto == NSN_PROTO_UNIX) {
		json_key(j, "type");
		json_str(j, unix_type(s->type));
	}
	json_key(j, "state");
	json_str(j, nsn_state_name(s->state));
	json_key(j, "recv_q");
	json_u64(j, s->recv_q);
	json_key(j, "send_q");
	json_u64(j, s->send_q);
	if (s->proto == NSN_PROTO_UNIX) {
		json_key(j, "local");
		json_begin_obj(j);
		json_key(j, "path");
		json_str(j, s->path);
		json_end_obj(j);
		json_key(j, "peer");
		json_begin_obj(j);
		json_key(j, "inode");
		json_u64(j, s->peer_inode);
		json_end_obj(j);
	} else {
		json_key(j, "local");
		endpoint(j, s, &s->local);
		json_key(j, "peer");
		endpoint(j, s, &s->peer);
		if (s->family == AF_INET6 && s->v6only >= 0) {
			json_key(j, "v6only");
			json_bool(j, s->v6only == 1);
		}
	}
	if (s->ifindex) {
		json_key(j, "dev");
		json_str(j, s->dev);
		json_key(j, "ifindex");
		json_u64(j, s->ifindex);
	}
	json_key(j, "uid");
	if (s->uid == UINT32_MAX)
		json_null(j);
	else
		json_u64(j, s->uid);
	json_key(j, "inode");
	json_u64(j, s->inode);
	json_key(j, "cookie");
	json_u64(j, s->cookie);
	if (o->procs) {
		const struct nsn_proc_ref *refs;
		size_t n = nsn_procmap_lookup(scan->procs, s->inode, &refs);

		json_key(j, "processes");
		json_begin_arr(j);
		for (size_t i = 0; i < n; i++) {
			json_begin_obj(j);
			json_key(j, "pid");
			json_i64(j, refs[i].pid);
			json_key(j, "comm");
			json_str(j, refs[i].comm);
			json_key(j, "fd");
			json_i64(j, refs[i].fd);
			if (o->containers) {
				json_key(j, "container_id");
				json_str(j, refs[i].container ? refs[i].container->id : NULL);
			}
			json_end_obj(j);
		}
		json_end_arr(j);
	}
	if (s->tcp_info)
		tcp_info(j, s->tcp_info);
	if (s->skmem)
		skmem(j, s->skmem);
	json_end_obj(j);
}

static void summary(struct json *j, const struct cli_opts *o, const struct nsn_netns *ns)
{
	struct summary_row rows[NSN_PROTO_MAX * NSN_SS_MAX];
	size_t total, n = summary_count(o, ns, rows, &total);

	json_key(j, "summary");
	json_begin_obj(j);
	json_key(j, "total");
	json_u64(j, total);
	json_key(j, "by");
	json_begin_arr(j);
	for (size_t i = 0; i < n; i++) {
		json_begin_obj(j);
		json_key(j, "proto");
		json_str(j, nsn_proto_name(rows[i].proto));
		json_key(j, "state");
		json_str(j, nsn_state_name(rows[i].state));
		json_key(j, "count");
		json_u64(j, rows[i].count);
		json_end_obj(j);
	}
	json_end_arr(j);
	json_end_obj(j);
}

static void containers(struct json *j, const struct nsn_netns *ns)
{
	json_key(j, "containers");
	json_begin_arr(j);
	for (size_t i = 0; i < ns->n_containers; i++) {
		const struct nsn_container *c = ns->containers[i].c;
		json_begin_obj(j);
		json_key(j, "id");
		json_str(j, c->id);
		json_key(j, "runtime");
		json_str(j, c->runtime);
		json_key(j, "name");
		json_str(j, c->name);
		json_key(j, "sandbox");
		json_bool(j, c->sandbox);
		json_key(j, "sandbox_id");
		json_str(j, c->sandbox_id);
		json_key(j, "pod");
		if (c->pod_uid || c->pod_name) {
			json_begin_obj(j);
			json_key(j, "uid");
			json_str(j, c->pod_uid);
			json_key(j, "name");
			json_str(j, c->pod_name);
			json_key(j, "namespace");
			json_str(j, c->pod_namespace);
			json_key(j, "container");
			json_str(j, c->sandbox ? NULL : c->name);
			json_end_obj(j);
		} else {
			json_null(j);
		}
		json_key(j, "pid");
		json_i64(j, ns->containers[i].pid);
		json_key(j, "nprocs");
		json_u64(j, ns->containers[i].n_pids);
		json_key(j, "bundle");
		json_str(j, c->bundle);
		json_end_obj(j);
	}
	json_end_arr(j);
}

static void netns(struct json *j, const struct cli_opts *o, const struct nsn_scan *scan,
		  const struct nsn_netns *ns, const struct nsn_scan *prev)
{
	json_begin_obj(j);
	json_key(j, "inode");
	json_u64(j, ns->inode);
	json_key(j, "dev");
	json_u64(j, ns->dev);
	json_key(j, "cookie");
	json_u64(j, ns->cookie);
	json_key(j, "names");
	json_begin_arr(j);
	for (size_t i = 0; i < ns->n_names; i++)
		json_str(j, ns->names[i]);
	json_end_arr(j);
	json_key(j, "host");
	json_bool(j, ns->host);
	json_key(j, "current");
	json_bool(j, ns->current);
	json_key(j, "pid");
	if (ns->pid)
		json_i64(j, ns->pid);
	else
		json_null(j);
	json_key(j, "nprocs");
	json_u64(j, ns->n_pids);
	json_key(j, "error");
	json_str(j, ns->err ? strerror(-ns->err) : NULL);
	if (o->containers)
		containers(j, ns);
	if (o->summary) {
		summary(j, o, ns);
	} else if (o->sockets) {
		json_key(j, "sockets");
		json_begin_arr(j);
		for (size_t i = 0; i < ns->n_socks; i++)
			if (cli_sock_visible(o, &ns->socks[i]))
				sock(j, o, scan, &ns->socks[i]);
		json_end_arr(j);
	}
	json_netcfg(j, o, ns, prev ? scan_find_netns(prev, ns) : NULL);
	json_end_obj(j);
}

/* What the BPF pass did (with backend "bpf"). */
static void bpf_stats(struct json *j, const struct nsn_bpf_stats *b)
{
	json_key(j, "bpf");
	json_begin_obj(j);
	json_key(j, "passes");
	json_u64(j, b->passes);
	json_key(j, "records");
	json_u64(j, b->records);
	json_key(j, "dups");
	json_u64(j, b->dups);
	json_key(j, "restarts");
	json_u64(j, b->restarts);
	json_key(j, "capped");
	json_u64(j, b->capped);
	json_key(j, "drops");
	json_u64(j, b->drops);
	json_key(j, "netlink_ns");
	json_u64(j, b->netlink_ns);
	json_key(j, "foreign");
	json_u64(j, b->foreign);
	json_key(j, "cookie_lookups");
	json_u64(j, b->cookie_lookups);
	json_key(j, "cookie_missing");
	json_u64(j, b->cookie_missing);
	json_key(j, "load_ms");
	json_double(j, b->load_ms);
	json_key(j, "walk_ms");
	json_double(j, b->walk_ms);
	json_end_obj(j);
}

/* The "scan" object: with several nodes, the sums of theirs. */
static void scan_totals(struct json *j, const struct cli_opts *o, const struct cli_node *nodes, size_t n_nodes)
{
	struct nsn_attr_stats attr = {0};
	struct nsn_bpf_stats bpf = {0};
	size_t namespaces = 0, vanished = 0, failed = 0;
	double discover_ms = 0, dump_ms = 0, procs_ms = 0, attr_ms = 0;
	/* The nodes' common backend; null when they differ or one does not say (a
	 * decoded scan: the wire does not carry it). */
	const char *backend = n_nodes ? nodes[0].scan->backend : NULL;

	for (size_t i = 0; i < n_nodes; i++) {
		const struct nsn_scan *scan = nodes[i].scan;

		namespaces += scan->n_netns;
		vanished += scan->n_vanished;
		failed += scan->n_failed;
		discover_ms += scan->discover_ms;
		dump_ms += scan->dump_ms;
		procs_ms += scan->procs_ms;
		attr.processes += scan->attr.processes;
		attr.cached += scan->attr.cached;
		attr.cgroup_reads += scan->attr.cgroup_reads;
		attr.bundle_reads += scan->attr.bundle_reads;
		attr.containers += scan->attr.containers;
		attr_ms += scan->attr_ms;
		if (!backend || !scan->backend || strcmp(backend, scan->backend))
			backend = NULL;
		if (scan->backend && !strcmp(scan->backend, "bpf")) {
			bpf.passes += scan->bpf.passes;
			bpf.records += scan->bpf.records;
			bpf.dups += scan->bpf.dups;
			bpf.restarts += scan->bpf.restarts;
			bpf.capped += scan->bpf.capped;
			bpf.drops += scan->bpf.drops;
			bpf.netlink_ns += scan->bpf.netlink_ns;
			bpf.foreign += scan->bpf.foreign;
			bpf.cookie_lookups += scan->bpf.cookie_lookups;
			bpf.cookie_missing += scan->bpf.cookie_missing;
			bpf.load_ms += scan->bpf.load_ms;
			bpf.walk_ms += scan->bpf.walk_ms;
		}
	}
	json_key(j, "scan");
	json_begin_obj(j);
	json_key(j, "namespaces");
	json_u64(j, namespaces);
	json_key(j, "vanished");
	json_u64(j, vanished);
	json_key(j, "failed");
	json_u64(j, failed);
	json_key(j, "discover_ms");
	json_double(j, discover_ms);
	json_key(j, "dump_ms");
	json_double(j, dump_ms);
	json_key(j, "procs_ms");
	json_double(j, procs_ms);
	json_key(j, "backend");
	json_str(j, backend);
	if (backend && !strcmp(backend, "bpf"))
		bpf_stats(j, &bpf);
	if (o->containers) {
		json_key(j, "attribution");
		json_begin_obj(j);
		json_key(j, "processes");
		json_u64(j, attr.processes);
		json_key(j, "cached");
		json_u64(j, attr.cached);
		json_key(j, "cgroup_reads");
		json_u64(j, attr.cgroup_reads);
		json_key(j, "bundle_reads");
		json_u64(j, attr.bundle_reads);
		json_key(j, "containers");
		json_u64(j, attr.containers);
		json_key(j, "ms");
		json_double(j, attr_ms);
		json_end_obj(j);
	}
	json_end_obj(j);
}

/* What a collector says about the node, beside its name (collector mode only). */
static void node_info(struct json *j, const struct cli_node_info *info)
{
	json_key(j, "stale");
	json_bool(j, info->stale);
	json_key(j, "last_seen_ms");
	json_u64(j, info->last_seen_ms);
	json_key(j, "connected");
	json_bool(j, info->connected);
	json_key(j, "agent_version");
	json_str(j, info->agent_version ? info->agent_version : "");
	json_key(j, "boot_id");
	json_str(j, info->boot_id ? info->boot_id : "");
}

void out_json(FILE *f, const struct cli_opts *o, const struct cli_node *nodes, size_t n_nodes)
{
	struct json j = {.f = f};

	json_begin_obj(&j);
	json_key(&j, "nodes");
	json_begin_arr(&j);
	for (size_t n = 0; n < n_nodes; n++) {
		const struct nsn_scan *scan = nodes[n].scan;

		json_begin_obj(&j);
		json_key(&j, "node");
		json_str(&j, nodes[n].name);
		if (nodes[n].info)
			node_info(&j, nodes[n].info);
		json_key(&j, "namespaces");
		json_begin_arr(&j);
		for (size_t i = 0; i < scan->n_netns; i++)
			netns(&j, o, scan, scan->netns[i], nodes[n].prev);
		json_end_arr(&j);
		json_end_obj(&j);
	}
	json_end_arr(&j);
	/* One list for the document; with several nodes each line says whose it is. */
	json_key(&j, "warnings");
	json_begin_arr(&j);
	for (size_t n = 0; n < n_nodes; n++) {
		const struct nsn_scan *scan = nodes[n].scan;

		for (size_t i = 0; i < scan->n_warnings; i++) {
			char *line = NULL;

			if (cli_multi_node(o, n_nodes) &&
			    asprintf(&line, "%s: %s", nodes[n].name, scan->warnings[i]) >= 0) {
				json_str(&j, line);
				free(line);
			} else {
				json_str(&j, scan->warnings[i]);
			}
		}
	}
	json_end_arr(&j);
	scan_totals(&j, o, nodes, n_nodes);
	json_end_obj(&j);
	fputc('\n', f);
}
