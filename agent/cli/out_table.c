/* SPDX-License-Identifier: MIT */
/* The aligned table: ss's columns with NETNS in front (and NODE before it when several
 * nodes are shown). Widths come from a first pass over the sockets, so nothing is
 * buffered (a host of 100k sockets stays small). */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <nsnet/format.h>

#include "cli.h"

enum { C_NODE, C_NETNS, C_CONTAINER, C_POD, C_NETID, C_STATE, C_RECVQ, C_SENDQ, C_LOCAL, C_PEER, C_EXT, C_MAX };

struct cells {
	char c[C_MAX][192];
	size_t len[C_MAX];
};

static const char *const headers[C_MAX] = {
	"NODE", "NETNS", "CONTAINER", "POD", "Netid", "State", "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port", "Details",
};

static bool shown(const struct cli_opts *o, bool multi, int c)
{
	if (c == C_NODE)
		return multi;
	return (c != C_CONTAINER && c != C_POD) || o->containers;
}

/* The cells are built with nsn_fmt_put(), not snprintf: every row is made twice (widths,
 * then output), and at 100k sockets printf's format parsing was half of nsnetstat's time. */
#define CELL (sizeof(((struct cells *)0)->c[0]))

static size_t put_str(char *d, size_t at, const char *s)
{
	return nsn_fmt_put(d, CELL, at, s);
}

static size_t put_u64(char *d, size_t at, unsigned long long v, unsigned base)
{
	return nsn_fmt_put_u64(d, CELL, at, v, base);
}

static void fill(struct cells *x, const struct cli_opts *o, const char *node, const struct nsn_scan *scan,
		 const struct nsn_netns *ns, const char *label, const struct nsn_sock *s)
{
	x->len[C_NODE] = put_str(x->c[C_NODE], 0, node);
	x->len[C_NETNS] = put_str(x->c[C_NETNS], 0, label);
	if (o->containers) {
		cli_sock_container_cells(scan, ns, s, x->c[C_CONTAINER], CELL, x->c[C_POD], CELL);
		x->len[C_CONTAINER] = strlen(x->c[C_CONTAINER]);
		x->len[C_POD] = strlen(x->c[C_POD]);
	} else {
		x->c[C_CONTAINER][0] = x->c[C_POD][0] = '\0';
		x->len[C_CONTAINER] = x->len[C_POD] = 0;
	}
	x->len[C_NETID] = put_str(x->c[C_NETID], 0, nsn_sock_netid(s));
	x->len[C_STATE] = put_str(x->c[C_STATE], 0, nsn_state_name(s->state));
	x->len[C_RECVQ] = put_u64(x->c[C_RECVQ], 0, s->recv_q, 10);
	x->len[C_SENDQ] = put_u64(x->c[C_SENDQ], 0, s->send_q, 10);
	if (s->proto == NSN_PROTO_UNIX) {
		size_t n = put_str(x->c[C_LOCAL], 0, nsn_fmt_unix_path(s));

		if (n < CELL - 24) {
			x->c[C_LOCAL][n++] = ' ';
			n = put_u64(x->c[C_LOCAL], n, s->inode, 10);
		} else {
			/* a name that long: as snprintf would have cut it */
			snprintf(x->c[C_LOCAL], CELL, "%s %u", nsn_fmt_unix_path(s), s->inode);
			n = strlen(x->c[C_LOCAL]);
		}
		x->len[C_LOCAL] = n;
		x->len[C_PEER] = put_u64(x->c[C_PEER], put_str(x->c[C_PEER], 0, "* "), s->peer_inode, 10);
	} else {
		x->len[C_LOCAL] = strlen(nsn_fmt_endpoint(x->c[C_LOCAL], CELL, s, &s->local, o->numeric));
		x->len[C_PEER] = strlen(nsn_fmt_endpoint(x->c[C_PEER], CELL, s, &s->peer, o->numeric));
	}
	x->c[C_EXT][0] = '\0';
	x->len[C_EXT] = 0;
	if (o->extended) {
		char *e = x->c[C_EXT];
		size_t n = 0;

		if (s->uid != UINT32_MAX)
			n = put_u64(e, put_str(e, 0, "uid:"), s->uid, 10);
		n = put_u64(e, put_str(e, n, n ? " ino:" : "ino:"), s->inode, 10);
		x->len[C_EXT] = put_u64(e, put_str(e, n, " sk:"), s->cookie, 16);
	}
}

void cli_sock_container_cells(const struct nsn_scan *scan, const struct nsn_netns *ns,
			      const struct nsn_sock *s, char *ctr, size_t ctr_len, char *pod,
			      size_t pod_len)
{
	const struct nsn_container *cs[16], *best = NULL;
	size_t n = nsn_sock_containers(scan, ns, s, cs, NSN_ARRAY_LEN(cs)), apps = 0;

	for (size_t i = 0; i < n; i++) {
		if (cs[i]->sandbox)
			continue;
		apps++;
		if (!best)
			best = cs[i];
	}
	if (!best && n > 0)
		best = cs[0]; /* only the sandbox holds it: the pod's own socket */
	if (!best) {
		snprintf(ctr, ctr_len, "-");
		snprintf(pod, pod_len, "-");
		return;
	}
	if (best->name)
		snprintf(ctr, ctr_len, "%s", best->name);
	else
		snprintf(ctr, ctr_len, "%.*s", NSN_CONTAINER_SHORT_ID, best->id);
	if (apps > 1) {
		size_t len = strlen(ctr);
		snprintf(ctr + len, ctr_len - len, "+%zu", apps - 1);
	}
	if (best->pod_name)
		snprintf(pod, pod_len, "%s/%s", best->pod_namespace ? best->pod_namespace : "?", best->pod_name);
	else if (best->pod_uid)
		snprintf(pod, pod_len, "uid:%s", best->pod_uid); /* a pod whose name nothing on the host says */
	else
		snprintf(pod, pod_len, "-");
}

static void print_procs(FILE *f, const struct nsn_scan *scan, const struct nsn_sock *s)
{
	const struct nsn_proc_ref *refs;
	size_t n = nsn_procmap_lookup(scan->procs, s->inode, &refs);

	if (n == 0)
		return;
	fputs("users:(", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s(\"%s\",pid=%d,fd=%d)", i ? "," : "", refs[i].comm, (int)refs[i].pid,
			refs[i].fd);
	fputc(')', f);
}

static void print_info(FILE *f, const struct nsn_sock *s)
{
	const struct nsn_tcp_info *t = s->tcp_info;
	const struct nsn_skmem *m = s->skmem;

	if (!t && !m)
		return;
	fputs("\t", f);
	if (t) {
		if (t->cong[0])
			fprintf(f, " %s", t->cong);
		if (t->snd_wscale || t->rcv_wscale)
			fprintf(f, " wscale:%u,%u", t->snd_wscale, t->rcv_wscale);
		fprintf(f, " rto:%g rtt:%g/%g mss:%u rcvmss:%u cwnd:%u", t->rto_us / 1000.0,
			t->rtt_us / 1000.0, t->rttvar_us / 1000.0, t->snd_mss, t->rcv_mss, t->snd_cwnd);
		if (t->snd_ssthresh < 0xFFFF)
			fprintf(f, " ssthresh:%u", t->snd_ssthresh);
		fprintf(f, " bytes_sent:%llu bytes_retrans:%llu bytes_acked:%llu bytes_received:%llu",
			(unsigned long long)t->bytes_sent, (unsigned long long)t->bytes_retrans,
			(unsigned long long)t->bytes_acked, (unsigned long long)t->bytes_received);
		fprintf(f, " lastsnd:%u lastrcv:%u lastack:%u retrans:%u/%u", t->last_data_sent_ms,
			t->last_data_recv_ms, t->last_ack_recv_ms, t->retrans, t->total_retrans);
	}
	if (m)
		fprintf(f, " skmem:(r%u,rb%u,t%u,tb%u,f%u,w%u,o%u,bl%u,d%u)", m->rmem_alloc, m->rcvbuf,
			m->wmem_alloc, m->sndbuf, m->fwd_alloc, m->wmem_queued, m->optmem, m->backlog,
			m->drops);
	fputc('\n', f);
}

void out_table(FILE *f, const struct cli_opts *o, const struct cli_node *nodes, size_t n_nodes)
{
	size_t w[C_MAX];
	int last = o->extended ? C_EXT : C_PEER;
	bool multi = cli_multi_node(o, n_nodes);
	struct cells x;
	char buf[32];
	/* every cell at its widest, padded, and a space: widths are bounded by the cells */
	char line[C_MAX * (CELL + 1)];

	for (int c = 0; c < C_MAX; c++)
		w[c] = o->no_header ? 0 : strlen(headers[c]);
	for (size_t n = 0; n < n_nodes; n++) {
		const struct nsn_scan *scan = nodes[n].scan;

		for (size_t i = 0; i < scan->n_netns; i++) {
			const struct nsn_netns *ns = scan->netns[i];
			const char *label = nsn_netns_label(ns, buf, sizeof(buf));
			for (size_t k = 0; k < ns->n_socks; k++) {
				if (!cli_sock_visible(o, &ns->socks[k]))
					continue;
				fill(&x, o, cli_node_text(&nodes[n]), scan, ns, label,
				     &ns->socks[k]);
				for (int c = 0; c <= last; c++)
					if (x.len[c] > w[c])
						w[c] = x.len[c];
			}
		}
	}
	if (!o->no_header) {
		for (int c = 0; c <= last; c++)
			if (shown(o, multi, c))
				fprintf(f, "%-*s%s", c == last && !o->procs ? 0 : (int)w[c], headers[c],
					c == last && !o->procs ? "" : " ");
		fputs(o->procs ? "Process\n" : "\n", f);
	}
	for (size_t n = 0; n < n_nodes; n++) {
		const struct nsn_scan *scan = nodes[n].scan;

		for (size_t i = 0; i < scan->n_netns; i++) {
			const struct nsn_netns *ns = scan->netns[i];
			const char *label = nsn_netns_label(ns, buf, sizeof(buf));
			for (size_t k = 0; k < ns->n_socks; k++) {
				const struct nsn_sock *s = &ns->socks[k];
				if (!cli_sock_visible(o, s))
					continue;
				fill(&x, o, cli_node_text(&nodes[n]), scan, ns, label, s);
				/* One line, padded as "%-*s " (numbers "%*s "), written at once. */
				size_t at = 0;
				for (int c = 0; c <= last; c++) {
					if (!shown(o, multi, c))
						continue;
					bool num = c == C_RECVQ || c == C_SENDQ;
					bool pad = c < last || o->procs;
					size_t fillw = pad && w[c] > x.len[c] ? w[c] - x.len[c] : 0;
					if (num) {
						memset(line + at, ' ', fillw);
						at += fillw;
					}
					memcpy(line + at, x.c[c], x.len[c]);
					at += x.len[c];
					if (!num) {
						memset(line + at, ' ', fillw);
						at += fillw;
					}
					if (pad)
						line[at++] = ' ';
				}
				fwrite(line, 1, at, f);
				if (o->procs)
					print_procs(f, scan, s);
				fputc('\n', f);
				if (o->info)
					print_info(f, s);
			}
		}
	}
}
