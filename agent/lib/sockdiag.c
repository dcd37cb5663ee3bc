/* SPDX-License-Identifier: MIT */
/* NETLINK_SOCK_DIAG dumps of one namespace: TCP, UDP, RAW (IPv4 + IPv6) and UNIX.
 *
 * Cost model (measured on the host): the kernel walks the host-wide TCP and UDP
 * hash tables for every dump, whatever namespace asks. So: one legacy TCPDIAG_GETSOCK
 * request covers IPv4 and IPv6 TCP in a single walk; the state mask is the one ss uses
 * (0xFFF), never ~0, which on kernels >= 6.7 adds TCP_BOUND_INACTIVE and a walk of the
 * bind table; and a LISTEN-only mask lets the kernel skip the established table. */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <linux/unix_diag.h>

#include "internal.h"

#define RECV_BUF (64 * 1024)

struct nsn__dumper {
	int fd;
	struct nsn_netns *ns;
	const struct nsn_gather_opts *opts;
	uint32_t seq;
	unsigned states;
	int want_info;
	/* SIOCGIFNAME answers for the netlink socket's own namespace: cache the last one,
	 * since the few bound sockets of a namespace usually share a device. */
	uint32_t last_ifindex;
	const char *last_dev;
	char buf[RECV_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
};

static int send_req(struct nsn__dumper *d, uint16_t type, const void *req, size_t len)
{
	struct {
		struct nlmsghdr nlh;
		char body[64];
	} msg;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};

	memset(&msg, 0, sizeof(msg));
	msg.nlh.nlmsg_len = NLMSG_LENGTH(len);
	msg.nlh.nlmsg_type = type;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	msg.nlh.nlmsg_seq = ++d->seq;
	memcpy(msg.body, req, len);
	if (sendto(d->fd, &msg, msg.nlh.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	return 0;
}

typedef int (*msg_fn)(struct nsn__dumper *d, const struct nlmsghdr *h);

/* The messages of one datagram of a multi-part answer to the last request, each handed
 * to @p fn. Returns 1 at the end of the answer (NLMSG_DONE; an nlmsgerr with a positive
 * code, which no kernel sends, ends it too), 0 when more is to come, the kernel's error
 * as is (-errno from nlmsgerr), or the first error of @p fn. */
static int parse_msgs(struct nsn__dumper *d, msg_fn fn, const void *buf, size_t len)
{
	/* Signed: NLMSG_NEXT() steps over the padding of a message's length, which a last
	 * message without its padding does not have, and the count must then go negative
	 * (ending the walk) rather than wrap into a read past the datagram. */
	ssize_t n = (ssize_t)len;

	for (const struct nlmsghdr *h = buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
		if (h->nlmsg_seq != d->seq)
			continue; /* a stale answer to an earlier request */
		if (h->nlmsg_type == NLMSG_DONE) {
			/* A dump that failed midway reports its error here. */
			if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
				int e = *(const int *)NLMSG_DATA(h);
				if (e < 0)
					return e;
			}
			return 1;
		}
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
				return -EBADMSG;
			return e->error ? (e->error < 0 ? e->error : 1) : -EBADMSG;
		}
		int r = fn(d, h);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Read a multi-part answer to the last request and hand each message to @p fn. The
 * kernel's error, if any, is returned as is (-errno from nlmsgerr). */
static int recv_dump(struct nsn__dumper *d, msg_fn fn)
{
	for (;;) {
		ssize_t n = recv(d->fd, d->buf, sizeof(d->buf), 0);
		int r;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ECONNRESET;
		r = parse_msgs(d, fn, d->buf, (size_t)n);
		if (r != 0)
			return r < 0 ? r : 0;
	}
}

static const char *dev_name(struct nsn__dumper *d, uint32_t ifindex)
{
	struct ifreq ifr = {.ifr_ifindex = (int)ifindex};

	if (ifindex == d->last_ifindex)
		return d->last_dev;
	/* The ioctl runs in the namespace of the socket it is issued on, which is the one
	 * being dumped, whatever namespace this thread has returned to. */
	if (ioctl(d->fd, SIOCGIFNAME, &ifr) < 0)
		return NULL;
	d->last_ifindex = ifindex;
	d->last_dev = nsn__arena_strndup(&nsn__priv(d->ns)->arena, ifr.ifr_name,
					 strnlen(ifr.ifr_name, sizeof(ifr.ifr_name)));
	return d->last_dev;
}

/* The attributes after a message's fixed header; NULL at the end or at the first one
 * that does not fit in the message (a truncated message is read up to there). */
static const struct nlattr *attr_check(const struct nlmsghdr *h, const struct nlattr *a)
{
	const char *end = (const char *)h + h->nlmsg_len;

	if ((const char *)a + sizeof(*a) > end || a->nla_len < sizeof(*a) ||
	    (const char *)a + a->nla_len > end)
		return NULL;
	return a;
}

static const struct nlattr *attr_first(const struct nlmsghdr *h, size_t hdrlen)
{
	return attr_check(h, (const void *)((const char *)h + NLMSG_SPACE(hdrlen)));
}

static const struct nlattr *attr_next(const struct nlmsghdr *h, const struct nlattr *a)
{
	return attr_check(h, (const void *)((const char *)a + NLA_ALIGN(a->nla_len)));
}

static void copy_tcp_info(struct nsn_tcp_info *t, const void *data, size_t len)
{
	struct tcp_info ti;

	/* Older kernels send a shorter struct: the missing tail stays zero. */
	memset(&ti, 0, sizeof(ti));
	memcpy(&ti, data, len < sizeof(ti) ? len : sizeof(ti));
	t->rtt_us = ti.tcpi_rtt;
	t->rttvar_us = ti.tcpi_rttvar;
	t->rto_us = ti.tcpi_rto;
	t->snd_cwnd = ti.tcpi_snd_cwnd;
	t->snd_ssthresh = ti.tcpi_snd_ssthresh;
	t->snd_mss = ti.tcpi_snd_mss;
	t->rcv_mss = ti.tcpi_rcv_mss;
	t->retrans = ti.tcpi_retrans;
	t->total_retrans = ti.tcpi_total_retrans;
	t->last_data_sent_ms = ti.tcpi_last_data_sent;
	t->last_data_recv_ms = ti.tcpi_last_data_recv;
	t->last_ack_recv_ms = ti.tcpi_last_ack_recv;
	t->bytes_acked = ti.tcpi_bytes_acked;
	t->bytes_received = ti.tcpi_bytes_received;
	t->bytes_sent = ti.tcpi_bytes_sent;
	t->bytes_retrans = ti.tcpi_bytes_retrans;
	t->delivery_rate = ti.tcpi_delivery_rate;
	t->snd_wscale = ti.tcpi_snd_wscale;
	t->rcv_wscale = ti.tcpi_rcv_wscale;
}

static void copy_skmem(struct nsn_skmem *m, const uint32_t *v, size_t n)
{
	uint32_t a[SK_MEMINFO_VARS] = {0};

	memcpy(a, v, (n < SK_MEMINFO_VARS ? n : SK_MEMINFO_VARS) * sizeof(uint32_t));
	m->rmem_alloc = a[SK_MEMINFO_RMEM_ALLOC];
	m->rcvbuf = a[SK_MEMINFO_RCVBUF];
	m->wmem_alloc = a[SK_MEMINFO_WMEM_ALLOC];
	m->sndbuf = a[SK_MEMINFO_SNDBUF];
	m->fwd_alloc = a[SK_MEMINFO_FWD_ALLOC];
	m->wmem_queued = a[SK_MEMINFO_WMEM_QUEUED];
	m->optmem = a[SK_MEMINFO_OPTMEM];
	m->backlog = a[SK_MEMINFO_BACKLOG];
	m->drops = a[SK_MEMINFO_DROPS];
}

/* The state is the message's byte: a shift by it must stay within the mask's width. */
static bool state_wanted(const struct nsn__dumper *d, unsigned state)
{
	return state < NSN_SS_MAX && (d->states & (1u << state));
}

static int family_wanted(const struct nsn__dumper *d, int family)
{
	unsigned f = d->opts->families ? d->opts->families : (NSN_FAMILY_V4 | NSN_FAMILY_V6);

	return family == AF_INET ? !!(f & NSN_FAMILY_V4) : !!(f & NSN_FAMILY_V6);
}

static int on_inet(struct nsn__dumper *d, const struct nlmsghdr *h, uint8_t proto)
{
	const struct inet_diag_msg *m = NLMSG_DATA(h);
	struct nsn__arena *arena = &nsn__priv(d->ns)->arena;
	struct nsn_sock *s;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return -EBADMSG;
	if (m->idiag_family != AF_INET && m->idiag_family != AF_INET6)
		return 0;
	if (!family_wanted(d, m->idiag_family) || !state_wanted(d, m->idiag_state))
		return 0;
	s = nsn__netns_push_sock(d->ns);
	if (!s)
		return -ENOMEM;
	s->proto = proto;
	s->family = m->idiag_family;
	s->state = m->idiag_state < NSN_SS_MAX ? m->idiag_state : NSN_SS_UNKNOWN;
	s->type = proto == NSN_PROTO_TCP ? SOCK_STREAM : proto == NSN_PROTO_UDP ? SOCK_DGRAM : SOCK_RAW;
	s->v6only = -1;
	s->recv_q = m->idiag_rqueue;
	s->send_q = m->idiag_wqueue;
	s->uid = m->idiag_uid;
	s->inode = m->idiag_inode;
	s->ifindex = m->id.idiag_if;
	s->cookie = (uint64_t)m->id.idiag_cookie[0] | (uint64_t)m->id.idiag_cookie[1] << 32;
	memcpy(s->local.addr, m->id.idiag_src, m->idiag_family == AF_INET ? 4 : 16);
	memcpy(s->peer.addr, m->id.idiag_dst, m->idiag_family == AF_INET ? 4 : 16);
	s->local.port = ntohs(m->id.idiag_sport);
	s->peer.port = ntohs(m->id.idiag_dport);
	if (s->ifindex)
		s->dev = dev_name(d, s->ifindex);

	struct nsn_tcp_info *ti = NULL;
	for (const struct nlattr *a = attr_first(h, sizeof(*m)); a; a = attr_next(h, a)) {
		const void *data = (const char *)a + NLA_HDRLEN;
		size_t len = a->nla_len - NLA_HDRLEN;

		switch (a->nla_type & NLA_TYPE_MASK) {
		case INET_DIAG_SKV6ONLY:
			if (len >= 1)
				s->v6only = *(const uint8_t *)data ? 1 : 0;
			break;
		case INET_DIAG_INFO:
		case INET_DIAG_CONG:
			if (!d->want_info || proto != NSN_PROTO_TCP)
				break;
			if (!ti) {
				ti = nsn__arena_alloc(arena, sizeof(*ti));
				if (!ti)
					return -ENOMEM;
				memset(ti, 0, sizeof(*ti));
				s->tcp_info = ti;
			}
			if ((a->nla_type & NLA_TYPE_MASK) == INET_DIAG_INFO)
				copy_tcp_info(ti, data, len);
			else
				snprintf(ti->cong, sizeof(ti->cong), "%.*s",
					 (int)strnlen(data, len), (const char *)data);
			break;
		case INET_DIAG_SKMEMINFO:
			if (d->want_info) {
				struct nsn_skmem *mem = nsn__arena_alloc(arena, sizeof(*mem));
				if (!mem)
					return -ENOMEM;
				copy_skmem(mem, data, len / sizeof(uint32_t));
				s->skmem = mem;
			}
			break;
		}
	}
	return 0;
}

static int on_tcp(struct nsn__dumper *d, const struct nlmsghdr *h)
{
	return on_inet(d, h, NSN_PROTO_TCP);
}

static int on_udp(struct nsn__dumper *d, const struct nlmsghdr *h)
{
	return on_inet(d, h, NSN_PROTO_UDP);
}

static int on_raw(struct nsn__dumper *d, const struct nlmsghdr *h)
{
	return on_inet(d, h, NSN_PROTO_RAW);
}

static int on_probe(struct nsn__dumper *d, const struct nlmsghdr *h)
{
	(void)d;
	(void)h;
	return 0;
}

static int on_unix(struct nsn__dumper *d, const struct nlmsghdr *h)
{
	const struct unix_diag_msg *m = NLMSG_DATA(h);
	struct nsn__arena *arena = &nsn__priv(d->ns)->arena;
	struct nsn_sock *s;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return -EBADMSG;
	if (!state_wanted(d, m->udiag_state))
		return 0;
	s = nsn__netns_push_sock(d->ns);
	if (!s)
		return -ENOMEM;
	s->proto = NSN_PROTO_UNIX;
	s->family = AF_UNIX;
	s->type = m->udiag_type;
	s->state = m->udiag_state < NSN_SS_MAX ? m->udiag_state : NSN_SS_UNKNOWN;
	s->v6only = -1;
	s->uid = UINT32_MAX;
	s->inode = m->udiag_ino;
	s->cookie = (uint64_t)m->udiag_cookie[0] | (uint64_t)m->udiag_cookie[1] << 32;

	for (const struct nlattr *a = attr_first(h, sizeof(*m)); a; a = attr_next(h, a)) {
		const char *data = (const char *)a + NLA_HDRLEN;
		size_t len = a->nla_len - NLA_HDRLEN;

		switch (a->nla_type & NLA_TYPE_MASK) {
		case UNIX_DIAG_NAME: {
			char *p = nsn__arena_strndup(arena, data, len);
			if (!p)
				return -ENOMEM;
			/* Abstract names start with NUL and may hold more: ss shows each as '@'. */
			if (len > 0 && p[0] == '\0')
				for (size_t i = 0; i < len; i++)
					if (p[i] == '\0')
						p[i] = '@';
			s->path = p;
			break;
		}
		case UNIX_DIAG_PEER:
			if (len >= 4)
				memcpy(&s->peer_inode, data, 4);
			break;
		case UNIX_DIAG_RQLEN:
			if (len >= sizeof(struct unix_diag_rqlen)) {
				const struct unix_diag_rqlen *q = (const void *)data;
				s->recv_q = q->udiag_rqueue;
				s->send_q = q->udiag_wqueue;
			}
			break;
		case UNIX_DIAG_UID:
			if (len >= 4)
				memcpy(&s->uid, data, 4);
			break;
		case UNIX_DIAG_MEMINFO:
			if (d->want_info) {
				struct nsn_skmem *mem = nsn__arena_alloc(arena, sizeof(*mem));
				if (!mem)
					return -ENOMEM;
				copy_skmem(mem, (const void *)data, len / sizeof(uint32_t));
				s->skmem = mem;
			}
			break;
		}
	}
	return 0;
}

static uint8_t inet_ext(const struct nsn__dumper *d)
{
	if (!d->want_info)
		return 0;
	return (1 << (INET_DIAG_INFO - 1)) | (1 << (INET_DIAG_CONG - 1)) |
	       (1 << (INET_DIAG_SKMEMINFO - 1));
}

/* States each protocol can be in, as sock_diag reports them. TCP sockets in CLOSE
 * are in no table the dump walks, and asking for CLOSE (as ss's -l does, for UDP's
 * sake) would make the kernel walk the whole established table for nothing: on a
 * host of 1000 namespaces x 100 sockets that is 1.5 s instead of 83 ms for -tl. */
#define TCP_STATES (NSN_STATES_ALL & ~(1u << NSN_SS_CLOSE))
#define DGRAM_STATES ((1u << NSN_SS_ESTABLISHED) | (1u << NSN_SS_CLOSE))
#define UNIX_STATES ((1u << NSN_SS_ESTABLISHED) | (1u << NSN_SS_CLOSE) | (1u << NSN_SS_LISTEN) | \
		     (1u << NSN_SS_SYN_SENT))

static int dump_tcp(struct nsn__dumper *d)
{
	/* The legacy request reaches the kernel as family AF_UNSPEC: one walk, both families. */
	struct inet_diag_req req = {
		.idiag_family = AF_INET,
		.idiag_ext = inet_ext(d),
		.idiag_states = d->states & TCP_STATES,
	};
	int r = send_req(d, TCPDIAG_GETSOCK, &req, sizeof(req));

	return r < 0 ? r : recv_dump(d, on_tcp);
}

static int dump_inet_v2(struct nsn__dumper *d, uint8_t family, uint8_t protocol, msg_fn fn)
{
	struct inet_diag_req_v2 req = {
		.sdiag_family = family,
		.sdiag_protocol = protocol,
		.idiag_ext = inet_ext(d),
		.idiag_states = d->states,
	};
	int r;

	if (protocol == IPPROTO_RAW)
		req.pad = IPPROTO_RAW; /* sdiag_raw_protocol: every raw protocol */
	r = send_req(d, SOCK_DIAG_BY_FAMILY, &req, sizeof(req));
	return r < 0 ? r : recv_dump(d, fn);
}

static int dump_unix(struct nsn__dumper *d)
{
	struct unix_diag_req req = {
		.sdiag_family = AF_UNIX,
		.udiag_states = d->states,
		.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN | UDIAG_SHOW_UID |
			      (d->want_info ? UDIAG_SHOW_MEMINFO : 0),
	};
	int r = send_req(d, SOCK_DIAG_BY_FAMILY, &req, sizeof(req));

	return r < 0 ? r : recv_dump(d, on_unix);
}

struct nsn__dumper *nsn__dumper_new(void)
{
	return calloc(1, sizeof(struct nsn__dumper));
}

void nsn__dumper_free(struct nsn__dumper *d)
{
	free(d);
}

int nsn__sockdiag_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	return fd < 0 ? -errno : fd;
}

int nsn__sockdiag_has_raw(void)
{
	struct nsn__dumper *d = nsn__dumper_new();
	static const struct nsn_gather_opts opts;
	int r;

	if (!d)
		return -ENOMEM;
	d->fd = nsn__sockdiag_open();
	if (d->fd < 0) {
		r = d->fd;
		nsn__dumper_free(d);
		return r;
	}
	d->opts = &opts;
	d->states = 1u << NSN_SS_MAX; /* matches nothing: we only want to know if it answers */
	r = dump_inet_v2(d, AF_INET, IPPROTO_RAW, on_probe);
	close(d->fd);
	nsn__dumper_free(d);
	return r == -ENOENT ? 0 : r < 0 ? r : 1;
}

unsigned nsn__sockdiag_protos(const struct nsn_gather_opts *opts)
{
	unsigned protos = opts->protos ? opts->protos : NSN_PROTOS_ALL;
	unsigned states = (opts->states ? opts->states : NSN_STATES_ALL) & NSN_STATES_ALL;

	/* Every walk of a host-wide table costs, whatever namespace asks: skip those that
	 * cannot hold a socket in a wanted state. */
	if (!(states & TCP_STATES))
		protos &= ~NSN_PROTO_BIT(NSN_PROTO_TCP);
	if (!(states & DGRAM_STATES))
		protos &= ~(NSN_PROTO_BIT(NSN_PROTO_UDP) | NSN_PROTO_BIT(NSN_PROTO_RAW));
	if (!(states & UNIX_STATES))
		protos &= ~NSN_PROTO_BIT(NSN_PROTO_UNIX);
	return protos;
}

/* Ready @p d for the dumps of @p ns through @p fd under @p opts. */
static void dumper_reset(struct nsn__dumper *d, int fd, struct nsn_netns *ns,
			 const struct nsn_gather_opts *opts)
{
	memset(d, 0, offsetof(struct nsn__dumper, buf));
	d->fd = fd;
	d->ns = ns;
	d->opts = opts;
	d->states = (opts->states ? opts->states : NSN_STATES_ALL) & NSN_STATES_ALL;
	d->want_info = !!(opts->flags & NSN_GATHER_INFO);
}

int nsn__sockdiag_parse(struct nsn__dumper *d, struct nsn_netns *ns,
			const struct nsn_gather_opts *opts, unsigned proto, uint32_t seq,
			const void *buf, size_t len)
{
	static const msg_fn fns[NSN_PROTO_MAX] = {
	    [NSN_PROTO_TCP] = on_tcp,
	    [NSN_PROTO_UDP] = on_udp,
	    [NSN_PROTO_RAW] = on_raw,
	    [NSN_PROTO_UNIX] = on_unix,
	};

	if (proto >= NSN_PROTO_MAX)
		return -EINVAL;
	dumper_reset(d, -1, ns, opts);
	d->seq = seq;
	return parse_msgs(d, fns[proto], buf, len);
}

int nsn__sockdiag_dump(struct nsn__dumper *d, struct nsn__nsfds *fds, struct nsn_netns *ns,
		       const struct nsn_gather_opts *opts)
{
	unsigned protos = nsn__sockdiag_protos(opts);
	unsigned fam = opts->families ? opts->families : (NSN_FAMILY_V4 | NSN_FAMILY_V6);
	int r = 0;

	dumper_reset(d, fds->diag, ns, opts);

	/* ss's order: unix, raw, udp, tcp. */
	if (protos & NSN_PROTO_BIT(NSN_PROTO_UNIX))
		r = dump_unix(d);
	if (r >= 0 && (protos & NSN_PROTO_BIT(NSN_PROTO_RAW))) {
		if (fds->raw4 >= 0 || fds->raw6 >= 0) {
			/* No raw_diag in this kernel: the worker opened the /proc files. */
			/* The parser owns the descriptor from here, whatever it returns. */
			if (fds->raw4 >= 0) {
				r = nsn__procnet_raw(fds->raw4, AF_INET, ns, d->states);
				fds->raw4 = -1;
			}
			if (r >= 0 && fds->raw6 >= 0) {
				r = nsn__procnet_raw(fds->raw6, AF_INET6, ns, d->states);
				fds->raw6 = -1;
			}
		} else {
			if (fam & NSN_FAMILY_V4)
				r = dump_inet_v2(d, AF_INET, IPPROTO_RAW, on_raw);
			if (r >= 0 && (fam & NSN_FAMILY_V6))
				r = dump_inet_v2(d, AF_INET6, IPPROTO_RAW, on_raw);
		}
	}
	if (r >= 0 && (protos & NSN_PROTO_BIT(NSN_PROTO_UDP))) {
		if (fam & NSN_FAMILY_V4)
			r = dump_inet_v2(d, AF_INET, IPPROTO_UDP, on_udp);
		if (r >= 0 && (fam & NSN_FAMILY_V6))
			r = dump_inet_v2(d, AF_INET6, IPPROTO_UDP, on_udp);
	}
	if (r >= 0 && (protos & NSN_PROTO_BIT(NSN_PROTO_TCP)))
		r = dump_tcp(d);
	return r < 0 ? r : 0;
}

/* Cookies by exact lookup (nsn__sockdiag_cookies()).
 *
 * A socket's cookie is made the first time something asks for it. A dump asks for every
 * socket it sends; the BPF walk can only read what is there, and its task_file pass only
 * reaches sockets that a process holds. What no process holds (TIME-WAIT, request,
 * orphaned and not-yet-accepted TCP sockets, kernel UDP sockets, unix sockets in flight)
 * is looked up here, one non-dump SOCK_DIAG_BY_FAMILY request each: a hash lookup by the
 * exact tuple (by inode for unix) whose answer carries the cookie the kernel just made,
 * as a dump would have.
 *
 * Requests go LOOKUP_BATCH to a datagram. sock_diag answers within sendmsg() (the
 * kernel side of a netlink socket runs in the sender's context), so every answer is
 * queued when send returns and is read without blocking: a lost answer cannot hang the
 * worker, it only leaves that socket without a cookie, which is counted. */
#define LOOKUP_BATCH 64

union lookup_req {
	struct inet_diag_req_v2 in;
	struct unix_diag_req un;
};

static bool wants_lookup(const struct nsn_sock *s)
{
	if (s->cookie)
		return false;
	if (s->proto == NSN_PROTO_UNIX)
		return s->inode != 0; /* unix_diag finds them by inode */
	return s->proto == NSN_PROTO_TCP || s->proto == NSN_PROTO_UDP;
}

size_t nsn__sockdiag_cookies_wanted(const struct nsn_netns *ns)
{
	size_t n = 0;

	for (size_t i = 0; i < ns->n_socks; i++)
		n += wants_lookup(&ns->socks[i]);
	return n;
}

static size_t lookup_req(const struct nsn_sock *s, union lookup_req *q)
{
	memset(q, 0, sizeof(*q));
	if (s->proto == NSN_PROTO_UNIX) {
		q->un.sdiag_family = AF_UNIX;
		q->un.udiag_states = ~0u;
		q->un.udiag_ino = s->inode;
		q->un.udiag_cookie[0] = q->un.udiag_cookie[1] = INET_DIAG_NOCOOKIE;
		return sizeof(q->un);
	}
	size_t alen = s->family == AF_INET ? 4 : 16;
	q->in.sdiag_family = s->family;
	q->in.sdiag_protocol = s->proto == NSN_PROTO_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	q->in.idiag_states = ~0u;
	q->in.id.idiag_if = s->ifindex;
	q->in.id.idiag_cookie[0] = q->in.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	if (s->proto == NSN_PROTO_TCP) {
		/* inet_diag_find_one_icsk(): src is the socket's own address */
		q->in.id.idiag_sport = htons(s->local.port);
		q->in.id.idiag_dport = htons(s->peer.port);
		memcpy(q->in.id.idiag_src, s->local.addr, alen);
		memcpy(q->in.id.idiag_dst, s->peer.addr, alen);
	} else {
		/* udp_dump_one() passes src and dst to the receive lookup as a packet's
		 * source and destination: the peer first ("swapped for historical reasons") */
		q->in.id.idiag_sport = htons(s->peer.port);
		q->in.id.idiag_dport = htons(s->local.port);
		memcpy(q->in.id.idiag_src, s->peer.addr, alen);
		memcpy(q->in.id.idiag_dst, s->local.addr, alen);
	}
	return sizeof(q->in);
}

/* The cookie in an answer to the lookup of @p s, if the answer is about @p s: a lookup
 * may find another socket (a UDP reuseport group, a tuple reused since the walk). */
static uint64_t answer_cookie(const struct nsn_sock *s, const struct nlmsghdr *h)
{
	if (s->proto == NSN_PROTO_UNIX) {
		const struct unix_diag_msg *m = NLMSG_DATA(h);

		if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)) || m->udiag_ino != s->inode)
			return 0;
		return (uint64_t)m->udiag_cookie[0] | (uint64_t)m->udiag_cookie[1] << 32;
	}
	const struct inet_diag_msg *m = NLMSG_DATA(h);
	size_t alen = s->family == AF_INET ? 4 : 16;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return 0;
	/* A TIME-WAIT or request socket may have been replaced on the same tuple since the
	 * walk (a new SYN, the request grown into its child): those must answer as what the
	 * walk saw. A full socket may have changed state meanwhile and still be the same. */
	if ((s->state == NSN_SS_TIME_WAIT || s->state == NSN_SS_SYN_RECV) && m->idiag_state != s->state)
		return 0;
	if (m->idiag_family != s->family ||
	    ntohs(m->id.idiag_sport) != s->local.port || ntohs(m->id.idiag_dport) != s->peer.port ||
	    memcmp(m->id.idiag_src, s->local.addr, alen) || memcmp(m->id.idiag_dst, s->peer.addr, alen) ||
	    m->idiag_inode != s->inode)
		return 0;
	return (uint64_t)m->id.idiag_cookie[0] | (uint64_t)m->id.idiag_cookie[1] << 32;
}

/* Read every queued answer to the batch of @p n requests, sequence numbers @p seq0...,
 * for the sockets at @p idx. */
static int lookup_answers(struct nsn__dumper *d, struct nsn_netns *ns, const size_t *idx, size_t n,
			  uint32_t seq0, size_t *found)
{
	for (;;) {
		ssize_t len = recv(d->fd, d->buf, sizeof(d->buf), MSG_DONTWAIT);

		if (len < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == ENOBUFS)
				continue; /* answers lost to a full buffer: those sockets stay without */
			return -errno;
		}
		ssize_t left = len;
		for (const struct nlmsghdr *h = (const void *)d->buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			uint32_t k = h->nlmsg_seq - seq0;
			uint64_t cookie;

			if (k >= n || h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
				continue; /* an error (gone since the walk), or stale */
			cookie = answer_cookie(&ns->socks[idx[k]], h);
			if (cookie && !ns->socks[idx[k]].cookie) {
				ns->socks[idx[k]].cookie = cookie;
				(*found)++;
			}
		}
	}
}

int nsn__sockdiag_cookies(struct nsn__dumper *d, int fd, struct nsn_netns *ns, size_t *ret_asked,
			  size_t *ret_found)
{
	struct {
		struct nlmsghdr nlh;
		union lookup_req q;
	} msgs[LOOKUP_BATCH];
	size_t idx[LOOKUP_BATCH], n = 0, off = 0;
	char *out = (char *)msgs;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	int r = 0;

	*ret_asked = *ret_found = 0;
	memset(d, 0, offsetof(struct nsn__dumper, buf));
	d->fd = fd;
	d->ns = ns;
	for (size_t i = 0; i <= ns->n_socks && r >= 0; i++) {
		if (i < ns->n_socks && wants_lookup(&ns->socks[i])) {
			struct nlmsghdr nlh = {0};
			union lookup_req q;
			size_t len = lookup_req(&ns->socks[i], &q);

			nlh.nlmsg_len = NLMSG_LENGTH(len);
			nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
			nlh.nlmsg_flags = NLM_F_REQUEST;
			nlh.nlmsg_seq = d->seq + 1 + (uint32_t)n;
			memcpy(out + off, &nlh, sizeof(nlh));
			memcpy(out + off + NLMSG_HDRLEN, &q, len);
			off += NLMSG_ALIGN(nlh.nlmsg_len);
			idx[n++] = i;
		}
		if (n && (n == LOOKUP_BATCH || i == ns->n_socks)) {
			if (sendto(fd, out, off, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
				r = -errno;
			} else {
				*ret_asked += n;
				r = lookup_answers(d, ns, idx, n, d->seq + 1, ret_found);
			}
			d->seq += (uint32_t)n;
			n = off = 0;
		}
	}
	return r;
}

/* sock_diag's order, which ss keeps: unix, raw, udp (IPv4, then IPv6), tcp (listeners,
 * then the established table, which the walk already reads in that order). */
static unsigned rank(const struct nsn_sock *s)
{
	switch (s->proto) {
	case NSN_PROTO_UNIX:
		return 0;
	case NSN_PROTO_RAW:
		return 1;
	case NSN_PROTO_UDP:
		return s->family == AF_INET ? 2 : 3;
	default:
		return 4;
	}
}

int nsn__socks_sort_ss(struct nsn_netns *ns)
{
	size_t start[6] = {0}, n = ns->n_socks;
	struct nsn_sock *t;

	if (n < 2)
		return 0;
	t = malloc(n * sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		start[rank(&ns->socks[i]) + 1]++;
	for (size_t k = 1; k < 6; k++)
		start[k] += start[k - 1];
	for (size_t i = 0; i < n; i++)
		t[start[rank(&ns->socks[i])]++] = ns->socks[i];
	memcpy(ns->socks, t, n * sizeof(*t));
	free(t);
	return 0;
}
