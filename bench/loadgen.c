/* SPDX-License-Identifier: MIT */
/*
 * nsn-loadgen: a cluster of simulated agents for benchmarking nsnet-collector.
 *
 * It replays one recorded agent session (what `nsnet-agent --output FILE` wrote: a
 * Hello, the full snapshot, ScanDone(full), then each scan's deltas and ScanDone) as N
 * nodes over N connections. Only the Hello is rebuilt per node (its name, boot id and
 * session); every other frame goes out as the recorded bytes, whose seq numbers are
 * already 1, 2, 3, ... within the session. The figures it prints are measured here:
 *
 *   ingest  every node's Hello, full snapshot and ScanDone(full), as fast as the
 *           collector takes them, until every node's last frame is acked
 *   steady  each node replays the recorded delta scans at the recorded interval
 *           (nodes staggered across it), then ScanDone heartbeats with increasing scan
 *           numbers once its deltas run out, as an idle agent sends; the collector's
 *           CPU (/proc/PID/stat) and RSS over the phase
 *   query   each --query as a Query frame of a QUERY connection (collector latency:
 *           Query sent until the QueryResponse with last=true), and, with --cli, as
 *           `nsnetstat --collector ADDR WORDS...` (wall time with its output discarded)
 *
 * The nodes keep their pace during the query phase, so queries run against a live
 * cluster. One thread, non-blocking sockets, one epoll set.
 *
 * usage: nsn-loadgen --connect HOST:PORT|unix:PATH --recording FILE [options]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include "loadgen.h"

extern char **environ;

#define MAX_QUERIES 16
#define MAX_IOV	    64
#define READ_CHUNK  (1u << 16)

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;

	fputs("nsn-loadgen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* ---- the load generator --------------------------------------------------------- */

enum ev_kind { EV_NODE, EV_QUERY, EV_CHILD };

struct seg {
	const uint8_t *p;
	size_t len;
	uint8_t *owned; /* freed once written */
};

struct outq {
	struct seg *v;
	size_t head, n, cap;
	uint64_t bytes; /* written so far */
};

/* A scan sent and not yet acked: its ack latency is a steady-phase figure. */
struct inflight {
	uint64_t seq;
	double t;
};

enum node_state { NS_CONNECTING, NS_HELLO, NS_READY };

struct lg;

struct node {
	enum ev_kind kind; /* first: epoll's data.ptr points here */
	struct lg *lg;
	unsigned idx;
	int fd;
	char name[64];
	enum node_state state;
	bool want_out;
	struct outq q;
	struct nsn_frame_reader rd;
	uint64_t seq;	/* the last seq queued */
	uint64_t acked; /* the last Ack received */
	uint64_t ingest_seq;
	double ingest_done; /* when ingest_seq was acked (0: not yet) */
	size_t next_scan;   /* in rec->scans */
	uint64_t heartbeats;
	uint64_t sockets; /* what the last ScanDone queued says the node has */
	double next_due;  /* 0: not pacing */
	struct inflight fl[16];
	size_t n_fl;
};

struct query_spec {
	char *text;   /* as given, placeholders expanded */
	char **words; /* Query.args (without --node=) */
	size_t n_words;
	char **nodes; /* from --node=A,B words */
	size_t n_nodes;
	char **cli_argv; /* the CLI's command line */
	/* results */
	double *lat;
	size_t n_lat;
	uint64_t sockets, namespaces, nodes_answered, bytes, chunks;
	double *cli;
	size_t n_cli;
	long cli_rss_kb;
	int cli_status;
	char cli_err[256];
};

struct qconn {
	enum ev_kind kind;
	struct lg *lg;
	int fd;
	bool connected, welcomed, want_out;
	struct outq q;
	struct nsn_frame_reader rd;
	uint64_t seq, id;
	/* the query in flight */
	struct query_spec *spec;
	bool busy;
	double t0;
	uint64_t sockets, namespaces, nodes, bytes, chunks;
	char last_node[128];
};

struct child {
	enum ev_kind kind;
	int pidfd;
	pid_t pid;
	bool done;
	int status;
	long rss_kb;
};

struct lg {
	/* options */
	const char *connect;
	const char *recording_path;
	const char *prefix;
	const char *cli;
	const char *metrics;
	char *token;
	size_t token_len;
	unsigned n_nodes;
	double steady_s;
	double query_budget_s;
	unsigned runs;
	pid_t pid; /* the collector's, for CPU and RSS */
	double timeout_s;
	struct query_spec specs[MAX_QUERIES];
	size_t n_specs;

	struct sockaddr_storage addr;
	socklen_t addr_len;
	int ep;
	struct recording rec;
	struct node *nodes;
	bool pacing;
	double interval_s;
	bool failed;
	char why[512];
	/* figures */
	double *acklat;
	size_t n_acklat, cap_acklat;
	uint64_t steady_scans, steady_heartbeats, steady_bytes;
	bool counting;
	uint8_t rbuf[READ_CHUNK];
};

static void lg_fail(struct lg *lg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void lg_fail(struct lg *lg, const char *fmt, ...)
{
	va_list ap;

	if (lg->failed)
		return;
	lg->failed = true;
	va_start(ap, fmt);
	vsnprintf(lg->why, sizeof(lg->why), fmt, ap);
	va_end(ap);
}

static int outq_push(struct outq *q, const uint8_t *p, size_t len, uint8_t *owned)
{
	if (q->head + q->n == q->cap) {
		if (q->head) {
			memmove(q->v, q->v + q->head, q->n * sizeof(*q->v));
			q->head = 0;
		} else {
			size_t cap = q->cap ? q->cap * 2 : 8;
			struct seg *v = realloc(q->v, cap * sizeof(*v));

			if (!v) {
				free(owned);
				return -ENOMEM;
			}
			q->v = v;
			q->cap = cap;
		}
	}
	q->v[q->head + q->n++] = (struct seg){p, len, owned};
	return 0;
}

/* Write as much of @p q as the socket takes. 1: all written, 0: some left, -errno. */
static int outq_flush(struct outq *q, int fd)
{
	while (q->n) {
		struct iovec iov[MAX_IOV];
		size_t k = q->n < MAX_IOV ? q->n : MAX_IOV;
		ssize_t w;

		for (size_t i = 0; i < k; i++)
			iov[i] = (struct iovec){(void *)q->v[q->head + i].p, q->v[q->head + i].len};
		w = writev(fd, iov, (int)k);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return -errno;
		}
		q->bytes += (uint64_t)w;
		while (w > 0) {
			struct seg *s = &q->v[q->head];

			if ((size_t)w >= s->len) {
				w -= (ssize_t)s->len;
				free(s->owned);
				q->head++;
				q->n--;
			} else {
				s->p += w;
				s->len -= (size_t)w;
				w = 0;
			}
		}
	}
	q->head = 0;
	return 1;
}

static void outq_release(struct outq *q)
{
	for (size_t i = 0; i < q->n; i++)
		free(q->v[q->head + i].owned);
	free(q->v);
	*q = (struct outq){0};
}

static int ep_set(struct lg *lg, int fd, void *ptr, bool out, int op)
{
	struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = ptr};

	return epoll_ctl(lg->ep, op, fd, &ev) < 0 ? -errno : 0;
}

/* Flush what can be written now; watch for EPOLLOUT only while something is left. */
static int flush_watch(struct lg *lg, int fd, void *ptr, struct outq *q, bool *want_out)
{
	int r = outq_flush(q, fd);

	if (r < 0)
		return r;
	if ((r == 0) != *want_out) {
		*want_out = r == 0;
		return ep_set(lg, fd, ptr, *want_out, EPOLL_CTL_MOD);
	}
	return 0;
}

static int open_conn(struct lg *lg, void *ptr)
{
	int one = 1, fd = socket(lg->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int r;

	if (fd < 0)
		return -errno;
	if (lg->addr.ss_family != AF_UNIX)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&lg->addr, lg->addr_len) < 0 && errno != EINPROGRESS) {
		r = -errno;
		close(fd);
		return r;
	}
	r = ep_set(lg, fd, ptr, true, EPOLL_CTL_ADD);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

static int connect_done(int fd)
{
	int err = 0;
	socklen_t l = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
		return -errno;
	return -err;
}

static int pack_push(struct outq *q, NsnFrame *f)
{
	uint8_t *buf;
	size_t len;
	int r = nsn_wire_pack(f, NSN_FRAME_MAX_LIMIT, &buf, &len);

	if (r < 0)
		return r;
	return outq_push(q, buf, len, buf);
}

/* The recorded Hello with this node's identity: a distinct name, boot id and session. */
static int node_send_hello(struct node *n)
{
	struct lg *lg = n->lg;
	Nsnet__V1__Hello h = *lg->rec.hello->hello;
	NsnFrame f = NSNET__V1__FRAME__INIT;
	char boot_id[40];

	snprintf(boot_id, sizeof(boot_id), "6c6f6164-6765-4e00-8000-%012x", n->idx + 1);
	h.node = n->name;
	h.boot_id = boot_id;
	h.session = 0x6c67000000000000ull | ((uint64_t)getpid() << 20) | (n->idx + 1);
	if (lg->token) {
		h.token.data = (uint8_t *)lg->token;
		h.token.len = lg->token_len;
	}
	f.seq = n->seq = 1;
	f.body_case = NSNET__V1__FRAME__BODY_HELLO;
	f.hello = &h;
	return pack_push(&n->q, &f);
}

/* The next scan of a paced node: the next recorded delta scan, else a heartbeat. */
static int node_send_scan(struct node *n, double now)
{
	struct lg *lg = n->lg;
	struct recording *rec = &lg->rec;
	int r;

	if (n->next_scan < rec->n_scans) {
		const struct rec_scan *s = &rec->scans[n->next_scan++];

		r = outq_push(&n->q, rec->data + s->off, s->bytes, NULL);
		n->seq = s->first + s->n; /* frame index i has seq i + 1 */
		n->sockets = s->sockets;
		if (lg->counting) {
			lg->steady_scans++;
			lg->steady_bytes += s->bytes;
		}
	} else {
		Nsnet__V1__ScanDone d = *rec->last_done->scan_done;
		NsnFrame f = NSNET__V1__FRAME__INIT;

		/* What an idle agent sends: a ScanDone with the next scan number and the
		 * counts of the last one (nothing changed). */
		d.scan = rec->last_done->scan_done->scan + ++n->heartbeats;
		d.time_ms = nsn__wall_ms();
		d.full = false;
		f.seq = ++n->seq;
		f.body_case = NSNET__V1__FRAME__BODY_SCAN_DONE;
		f.scan_done = &d;
		r = pack_push(&n->q, &f);
		if (r >= 0 && lg->counting) {
			lg->steady_heartbeats++;
			lg->steady_bytes += n->q.v[n->q.head + n->q.n - 1].len;
		}
	}
	if (r < 0)
		return r;
	if (n->n_fl < sizeof(n->fl) / sizeof(n->fl[0]))
		n->fl[n->n_fl++] = (struct inflight){n->seq, now};
	return flush_watch(lg, n->fd, n, &n->q, &n->want_out);
}

static void record_acklat(struct lg *lg, double v)
{
	if (lg->n_acklat == lg->cap_acklat) {
		size_t cap = lg->cap_acklat ? lg->cap_acklat * 2 : 4096;
		double *p = realloc(lg->acklat, cap * sizeof(*p));

		if (!p)
			return;
		lg->acklat = p;
		lg->cap_acklat = cap;
	}
	lg->acklat[lg->n_acklat++] = v;
}

static void node_frame(struct node *n, const NsnFrame *f, double now)
{
	struct lg *lg = n->lg;
	struct recording *rec = &lg->rec;
	int r;

	switch (f->body_case) {
	case NSNET__V1__FRAME__BODY_WELCOME:
		if (n->state != NS_HELLO) {
			lg_fail(lg, "node %s: welcome out of order", n->name);
			return;
		}
		n->state = NS_READY;
		/* The whole full resync in one go: the recorded bytes, shared by all nodes. */
		r = outq_push(&n->q, rec->data + rec->full_off, rec->full_bytes, NULL);
		n->seq = n->ingest_seq = rec->full_end;
		n->sockets = rec->full_done_sockets;
		if (r >= 0)
			r = flush_watch(lg, n->fd, n, &n->q, &n->want_out);
		if (r < 0)
			lg_fail(lg, "node %s: send: %s", n->name, strerror(-r));
		return;
	case NSNET__V1__FRAME__BODY_ACK:
		if (f->ack->seq > n->seq) {
			lg_fail(lg,
				"node %s: collector acked seq %" PRIu64 ", only %" PRIu64 " sent",
				n->name, f->ack->seq, n->seq);
			return;
		}
		if (f->ack->seq < n->acked) {
			lg_fail(lg, "node %s: ack went back from %" PRIu64 " to %" PRIu64, n->name,
				n->acked, f->ack->seq);
			return;
		}
		n->acked = f->ack->seq;
		if (!n->ingest_done && n->ingest_seq && n->acked >= n->ingest_seq)
			n->ingest_done = now;
		while (n->n_fl && n->fl[0].seq <= n->acked) {
			if (lg->counting)
				record_acklat(lg, now - n->fl[0].t);
			memmove(n->fl, n->fl + 1, --n->n_fl * sizeof(n->fl[0]));
		}
		return;
	case NSNET__V1__FRAME__BODY_ERROR:
		lg_fail(lg,
			"node %s: collector error code %d: %s (after %" PRIu64
			" frames sent, %" PRIu64 " acked)",
			n->name, (int)f->error->code, f->error->message, n->seq, n->acked);
		return;
	default:
		lg_fail(lg, "node %s: unexpected %s frame from the collector", n->name,
			nsn_wire_body_name(f));
		return;
	}
}

/* Read what is there and hand each frame to @p fn; false once the stream ended. */
static bool read_frames(struct lg *lg, int fd, struct nsn_frame_reader *rd, const char *who,
			void (*fn)(void *ctx, const uint8_t *data, size_t len), void *ctx)
{
	for (;;) {
		ssize_t k = read(fd, lg->rbuf, sizeof(lg->rbuf));
		const uint8_t *data;
		size_t len;
		int r;

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN)
			return true;
		if (k <= 0) {
			lg_fail(lg, "%s: connection %s by the collector", who,
				k == 0 ? "closed" : strerror(errno));
			return false;
		}
		r = nsn_frame_reader_feed(rd, lg->rbuf, (size_t)k);
		while (r >= 0 && (r = nsn_frame_reader_next(rd, &data, &len)) > 0) {
			fn(ctx, data, len);
			if (lg->failed)
				return false;
		}
		if (r < 0) {
			lg_fail(lg, "%s: bad stream from the collector: %s", who, strerror(-r));
			return false;
		}
		if ((size_t)k < sizeof(lg->rbuf))
			return true;
	}
}

static void node_on_frame(void *ctx, const uint8_t *data, size_t len)
{
	struct node *n = ctx;
	NsnFrame *f;
	int r;

	if (!len)
		return;
	r = nsn_wire_unpack(data, len, NSN_FRAME_MAX_DEFAULT, &f);
	if (r < 0) {
		lg_fail(n->lg, "node %s: undecodable frame from the collector: %s", n->name,
			strerror(-r));
		return;
	}
	node_frame(n, f, nsn__now_s());
	nsn_wire_free(f);
}

static void node_event(struct node *n, uint32_t events)
{
	struct lg *lg = n->lg;
	int r;

	if (n->state == NS_CONNECTING) {
		r = connect_done(n->fd);
		if (r < 0) {
			lg_fail(lg, "node %s: connect: %s", n->name, strerror(-r));
			return;
		}
		n->state = NS_HELLO;
		r = node_send_hello(n);
		if (r >= 0) {
			n->want_out = true;
			r = flush_watch(lg, n->fd, n, &n->q, &n->want_out);
		}
		if (r < 0)
			lg_fail(lg, "node %s: hello: %s", n->name, strerror(-r));
		return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		if (!read_frames(lg, n->fd, &n->rd, n->name, node_on_frame, n))
			return;
	if (events & EPOLLOUT) {
		r = flush_watch(lg, n->fd, n, &n->q, &n->want_out);
		if (r < 0)
			lg_fail(lg, "node %s: write: %s", n->name, strerror(-r));
	}
}

/* ---- queries ---------------------------------------------------------------------- */

/* A QueryResponse chunk, walked rather than unpacked so that the client side costs
 * next to nothing: the figure is the collector's. */
static void query_on_frame(void *ctx, const uint8_t *data, size_t len)
{
	struct qconn *c = ctx;
	struct lg *lg = c->lg;
	const uint8_t *p = data, *end = data + len, *d;
	uint32_t field;
	uint64_t v;
	size_t l;
	int r;

	if (!len)
		return;
	if (!c->welcomed) {
		NsnFrame *f;

		r = nsn_wire_unpack(data, len, NSN_FRAME_MAX_DEFAULT, &f);
		if (r < 0 || f->body_case != NSNET__V1__FRAME__BODY_WELCOME) {
			lg_fail(lg, "query connection: %s instead of welcome%s%s",
				r < 0 ? "garbage" : nsn_wire_body_name(f),
				r >= 0 && f->body_case == NSNET__V1__FRAME__BODY_ERROR ? ": " : "",
				r >= 0 && f->body_case == NSNET__V1__FRAME__BODY_ERROR
				    ? f->error->message
				    : "");
		} else {
			c->welcomed = true;
		}
		if (r >= 0)
			nsn_wire_free(f);
		return;
	}
	c->bytes += NSN_FRAME_HDR + len;
	while ((r = nsn__pb_next(&p, end, &field, &v, &d, &l)) > 0) {
		const uint8_t *rp = d, *rend = d + l, *rd;
		uint32_t rf;
		uint64_t rv;
		size_t rl;
		char msg[256];

		if (field == 5) {
			nsn__pb_string(d, d + l, 2, msg, sizeof(msg));
			lg_fail(lg, "query '%s': collector error: %s", c->spec->text, msg);
			return;
		}
		if (field != 11)
			continue;
		c->chunks++;
		while ((r = nsn__pb_next(&rp, rend, &rf, &rv, &rd, &rl)) > 0) {
			char node[128];

			switch (rf) {
			case 2:
				nsn__pb_string(rd, rd + rl, 1, node, sizeof(node));
				if (strcmp(node, c->last_node)) {
					c->nodes++;
					snprintf(c->last_node, sizeof(c->last_node), "%s", node);
				}
				break;
			case 3:
				c->namespaces++;
				c->sockets += nsn__pb_count(rd, rd + rl, 8);
				break;
			case 4:
				if (rv)
					c->busy = false;
				break;
			case 5:
				nsn__pb_string(rd, rd + rl, 2, msg, sizeof(msg));
				lg_fail(lg, "query '%s': the collector could not run it: %s",
					c->spec->text, msg);
				return;
			}
		}
	}
	if (r < 0)
		lg_fail(lg, "query '%s': a response frame does not decode", c->spec->text);
}

static void query_event(struct qconn *c, uint32_t events)
{
	struct lg *lg = c->lg;
	int r;

	if (!c->connected) {
		r = connect_done(c->fd);
		if (r < 0) {
			lg_fail(lg, "query connection: connect: %s", strerror(-r));
			return;
		}
		c->connected = true;
		r = flush_watch(lg, c->fd, c, &c->q, &c->want_out);
		if (r < 0)
			lg_fail(lg, "query connection: write: %s", strerror(-r));
		return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		if (!read_frames(lg, c->fd, &c->rd, "query connection", query_on_frame, c))
			return;
	if (events & EPOLLOUT) {
		r = flush_watch(lg, c->fd, c, &c->q, &c->want_out);
		if (r < 0)
			lg_fail(lg, "query connection: write: %s", strerror(-r));
	}
}

static int query_send(struct qconn *c, struct query_spec *s)
{
	Nsnet__V1__Query q = NSNET__V1__QUERY__INIT;
	NsnFrame f = NSNET__V1__FRAME__INIT;
	int r;

	q.id = ++c->id;
	q.args = s->words;
	q.n_args = s->n_words;
	q.nodes = s->nodes;
	q.n_nodes = s->n_nodes;
	f.seq = ++c->seq;
	f.body_case = NSNET__V1__FRAME__BODY_QUERY;
	f.query = &q;
	c->spec = s;
	c->busy = true;
	c->sockets = c->namespaces = c->nodes = c->bytes = c->chunks = 0;
	c->last_node[0] = '\0';
	c->t0 = nsn__now_s();
	r = pack_push(&c->q, &f);
	if (r < 0)
		return r;
	return flush_watch(c->lg, c->fd, c, &c->q, &c->want_out);
}

/* ---- the loop ------------------------------------------------------------------------ */

/* Queue the scans that are due; the earliest next due time. */
static double pace(struct lg *lg, double now)
{
	double next = now + 1.0;

	for (unsigned i = 0; i < lg->n_nodes; i++) {
		struct node *n = &lg->nodes[i];

		if (!n->next_due)
			continue;
		if (n->next_due <= now) {
			int r = node_send_scan(n, now);

			if (r < 0) {
				lg_fail(lg, "node %s: send: %s", n->name, strerror(-r));
				return now;
			}
			n->next_due += lg->interval_s;
		}
		if (n->next_due < next)
			next = n->next_due;
	}
	return next;
}

/* Run the loop until @p done says so, the deadline, or a failure. */
static int run_until(struct lg *lg, bool (*done)(struct lg *, void *), void *ctx, double deadline)
{
	struct epoll_event ev[64];

	for (;;) {
		double now = nsn__now_s(), next = deadline;
		int timeout, k;

		if (lg->failed)
			return -EPROTO;
		if (done(lg, ctx))
			return 0;
		if (now >= deadline)
			return -ETIMEDOUT;
		if (lg->pacing) {
			double p = pace(lg, now);

			if (lg->failed)
				return -EPROTO;
			if (p < next)
				next = p;
		}
		timeout = next > now ? (int)ceil((next - now) * 1000) : 0;
		k = epoll_wait(lg->ep, ev, 64, timeout);
		if (k < 0 && errno != EINTR)
			return -errno;
		for (int i = 0; i < k && !lg->failed; i++) {
			enum ev_kind kind = *(enum ev_kind *)ev[i].data.ptr;

			if (kind == EV_NODE) {
				node_event(ev[i].data.ptr, ev[i].events);
			} else if (kind == EV_QUERY) {
				query_event(ev[i].data.ptr, ev[i].events);
			} else {
				struct child *ch = ev[i].data.ptr;
				struct rusage ru;

				if (wait4(ch->pid, &ch->status, WNOHANG, &ru) == ch->pid) {
					ch->done = true;
					ch->rss_kb = ru.ru_maxrss;
					epoll_ctl(lg->ep, EPOLL_CTL_DEL, ch->pidfd, NULL);
				}
			}
		}
	}
}

static bool all_acked(struct lg *lg, void *ctx)
{
	(void)ctx;
	for (unsigned i = 0; i < lg->n_nodes; i++)
		if (lg->nodes[i].acked < lg->nodes[i].seq)
			return false;
	return true;
}

static bool all_ingested(struct lg *lg, void *ctx)
{
	(void)ctx;
	for (unsigned i = 0; i < lg->n_nodes; i++)
		if (!lg->nodes[i].ingest_done)
			return false;
	return true;
}

static bool never(struct lg *lg, void *ctx)
{
	(void)lg;
	(void)ctx;
	return false;
}

static bool query_welcomed(struct lg *lg, void *ctx)
{
	(void)lg;
	return ((struct qconn *)ctx)->welcomed;
}

static bool query_answered(struct lg *lg, void *ctx)
{
	(void)lg;
	return !((struct qconn *)ctx)->busy;
}

static bool child_done(struct lg *lg, void *ctx)
{
	(void)lg;
	return ((struct child *)ctx)->done;
}

/* ---- set-up ------------------------------------------------------------------------ */

static int parse_connect(struct lg *lg)
{
	const char *s = lg->connect;

	if (!strncmp(s, "unix:", 5)) {
		struct sockaddr_un *u = (struct sockaddr_un *)&lg->addr;

		if (strlen(s + 5) >= sizeof(u->sun_path))
			return fail("--connect %s: path too long", s);
		u->sun_family = AF_UNIX;
		strcpy(u->sun_path, s + 5);
		lg->addr_len = sizeof(*u);
		return 0;
	}

	char host[256];
	const char *colon = strrchr(s, ':');
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *ai;
	size_t hl;

	if (!colon)
		return fail("--connect %s: expected HOST:PORT or unix:PATH", s);
	hl = (size_t)(colon - s);
	if (hl >= sizeof(host))
		return fail("--connect %s: host too long", s);
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (host[0] == '[' && hl > 1 && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
		return fail("--connect %s: cannot resolve", s);
	memcpy(&lg->addr, ai->ai_addr, ai->ai_addrlen);
	lg->addr_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static char *replace_all(const char *s, const char *key, const char *val)
{
	size_t kl = strlen(key), vl = strlen(val), n = 0;
	const char *p;
	char *out, *o;

	for (p = s; (p = strstr(p, key)); p += kl)
		n++;
	out = malloc(strlen(s) + n * vl + 1);
	if (!out)
		return NULL;
	for (o = out; (p = strstr(s, key)); s = p + kl) {
		memcpy(o, s, (size_t)(p - s));
		o += p - s;
		memcpy(o, val, vl);
		o += vl;
	}
	strcpy(o, s);
	return out;
}

static int push_word(char ***v, size_t *n, const char *w, size_t len)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	if (!(nv[*n] = strndup(w, len)))
		return -ENOMEM;
	nv[++*n] = NULL;
	return 0;
}

/* A query spec: nsnetstat's words separated by spaces (so a filter is written as
 * its words: "( sport = :80 )"); %PORT%, %NODE% and %NS% are expanded, and
 * "--node=A,B" words become Query.nodes. */
static int spec_prepare(struct lg *lg, struct query_spec *s)
{
	char port[16], node[80], *t, *u;
	size_t n_cli = 0;

	snprintf(port, sizeof(port), "%u", lg->rec.rare_port);
	snprintf(node, sizeof(node), "%s-%u", lg->prefix, lg->n_nodes / 2);
	t = replace_all(s->text, "%PORT%", port);
	u = t ? replace_all(t, "%NODE%", node) : NULL;
	free(t);
	t = u ? replace_all(u, "%NS%", lg->rec.first_ns[0] ? lg->rec.first_ns : "none") : NULL;
	free(u);
	if (!t)
		return -ENOMEM;
	s->text = t;
	if (lg->cli && (push_word(&s->cli_argv, &n_cli, lg->cli, strlen(lg->cli)) < 0 ||
			push_word(&s->cli_argv, &n_cli, "--collector", 11) < 0 ||
			push_word(&s->cli_argv, &n_cli, lg->connect, strlen(lg->connect)) < 0))
		return -ENOMEM;
	/* The simulated agents speak plaintext: so does the CLI, and says so (TCP only). */
	if (lg->cli && strncmp(lg->connect, "unix:", 5) != 0 &&
	    push_word(&s->cli_argv, &n_cli, "--plaintext", 11) < 0)
		return -ENOMEM;
	for (const char *p = t; *p;) {
		size_t l;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		l = strcspn(p, " ");
		if (l > 7 && !strncmp(p, "--node=", 7)) {
			for (const char *q = p + 7, *e = p + l; q < e;) {
				size_t m = strcspn(q, ", ");

				if (m && push_word(&s->nodes, &s->n_nodes, q, m) < 0)
					return -ENOMEM;
				q += m + (q + m < e);
			}
		} else if (push_word(&s->words, &s->n_words, p, l) < 0) {
			return -ENOMEM;
		}
		if (lg->cli && push_word(&s->cli_argv, &n_cli, p, l) < 0)
			return -ENOMEM;
		p += l;
	}
	return 0;
}

static void free_words(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static void spec_release(struct query_spec *s)
{
	free(s->text);
	free_words(s->words);
	free_words(s->nodes);
	free_words(s->cli_argv);
	free(s->lat);
	free(s->cli);
}

static void reset_peak_rss(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, "5", 1) < 0) {
			/* an old kernel: the figure is an upper bound then */
		}
		close(fd);
	}
}

/* Run the CLI once with its output discarded; its stderr is kept for a report. */
static int run_cli(struct lg *lg, struct query_spec *s, double *ret_s)
{
	posix_spawn_file_actions_t fa;
	struct child ch = {.kind = EV_CHILD, .pidfd = -1};
	char errpath[] = "/tmp/nsn-loadgen-cli.XXXXXX";
	int efd = mkstemp(errpath), r;
	double t0;

	if (efd < 0)
		return -errno;
	unlink(errpath);
	/* The child's ru_maxrss starts from this process's peak RSS (posix_spawn shares
	 * our memory until the exec): bring our peak down to what we use now, a few MB. */
	reset_peak_rss();
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, efd, 2);
	t0 = nsn__now_s();
	r = posix_spawn(&ch.pid, lg->cli, &fa, NULL, s->cli_argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r) {
		close(efd);
		return -r;
	}
	ch.pidfd = (int)syscall(SYS_pidfd_open, ch.pid, 0);
	if (ch.pidfd < 0 || ep_set(lg, ch.pidfd, &ch, false, EPOLL_CTL_ADD) < 0) {
		r = -errno;
		kill(ch.pid, SIGKILL);
		waitpid(ch.pid, NULL, 0);
		close(efd);
		return r;
	}
	r = run_until(lg, child_done, &ch, nsn__now_s() + lg->timeout_s);
	*ret_s = nsn__now_s() - t0;
	if (!ch.done) {
		kill(ch.pid, SIGKILL);
		waitpid(ch.pid, NULL, 0);
		snprintf(s->cli_err, sizeof(s->cli_err), "no answer within %.0f s", lg->timeout_s);
		s->cli_status = -1;
	} else {
		s->cli_status =
		    WIFEXITED(ch.status) ? WEXITSTATUS(ch.status) : 128 + WTERMSIG(ch.status);
		if (ch.rss_kb > s->cli_rss_kb)
			s->cli_rss_kb = ch.rss_kb;
		if (s->cli_status) {
			ssize_t k = pread(efd, s->cli_err, sizeof(s->cli_err) - 1, 0);

			s->cli_err[k > 0 ? k : 0] = '\0';
			s->cli_err[strcspn(s->cli_err, "\n")] = '\0';
		}
	}
	close(ch.pidfd);
	close(efd);
	return r;
}

static int push_sample(double **v, size_t *n, double x)
{
	double *nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[(*n)++] = x;
	return 0;
}

/* ---- the phases ------------------------------------------------------------------- */

static int phase_ingest(struct lg *lg, long *ret_rss_kb)
{
	struct recording *rec = &lg->rec;
	double t0, t1, c0, c1, s0, s1, first = 0, last = 0;
	uint64_t sockets = rec->full_sockets * lg->n_nodes;
	uint64_t bytes = (uint64_t)(rec->full_bytes) * lg->n_nodes;
	char a[32], b[32];
	long rss0 = lg->pid ? nsn__proc_status_kb(lg->pid, "VmRSS") : -1;
	int r;

	c0 = lg->pid ? nsn__proc_cpu_s(lg->pid) : -1;
	s0 = nsn__self_cpu_s();
	t0 = nsn__now_s();
	for (unsigned i = 0; i < lg->n_nodes; i++) {
		struct node *n = &lg->nodes[i];

		n->fd = open_conn(lg, n);
		if (n->fd < 0)
			return fail("node %s: connect: %s", n->name, strerror(-n->fd));
		n->want_out = true;
	}
	r = run_until(lg, all_ingested, NULL, t0 + lg->timeout_s);
	t1 = nsn__now_s();
	c1 = lg->pid ? nsn__proc_cpu_s(lg->pid) : -1;
	s1 = nsn__self_cpu_s();
	if (r < 0) {
		unsigned done = 0;

		for (unsigned i = 0; i < lg->n_nodes; i++)
			done += lg->nodes[i].ingest_done > 0;
		return fail("ingest: %s after %.1f s (%u of %u nodes acked their full resync)",
			    lg->failed ? lg->why : strerror(-r), t1 - t0, done, lg->n_nodes);
	}
	for (unsigned i = 0; i < lg->n_nodes; i++) {
		double d = lg->nodes[i].ingest_done - t0;

		if (!first || d < first)
			first = d;
		if (d > last)
			last = d;
	}
	*ret_rss_kb = lg->pid ? nsn__proc_status_kb(lg->pid, "VmRSS") : -1;
	printf("I  ingest: %s sockets (%s namespaces) from %u nodes in %.2f s = %s sockets/s (%.0f "
	       "MB/s, %.0f MB"
	       " of frames); first node acked after %.2f s; collector CPU %.0f%% of a core, "
	       "loadgen %.0f%%\n",
	       nsn__thousands(sockets, a), nsn__thousands(rec->full_namespaces * lg->n_nodes, b),
	       lg->n_nodes, t1 - t0,
	       nsn__thousands((uint64_t)((double)sockets / (t1 - t0)), (char[32]){0}),
	       (double)bytes / 1e6 / (t1 - t0), (double)bytes / 1e6, first,
	       lg->pid ? 100.0 * (c1 - c0) / (t1 - t0) : -1.0, 100.0 * (s1 - s0) / (t1 - t0));
	if (lg->pid && rss0 > 0 && *ret_rss_kb > 0)
		printf("I  RSS: %.0f MB before, %.0f MB after ingest = %.0f MB per million sockets"
		       " (%.0f MB per million above the empty collector; target < 200)\n",
		       rss0 / 1024.0, *ret_rss_kb / 1024.0,
		       *ret_rss_kb / 1024.0 / ((double)sockets / 1e6),
		       (*ret_rss_kb - rss0) / 1024.0 / ((double)sockets / 1e6));
	if (lg->metrics) {
		double ms, store, socks;
		size_t len;

		if (nsn__metrics_scrape(lg->metrics, &ms, &len, &store, &socks) == 0)
			printf("I  /metrics after ingest: nsnet_collector_store_bytes %.0f MB "
			       "(%.0f bytes per socket),"
			       " nsnet_collector_sockets %s; scrape %.1f ms, %zu KB\n",
			       store / 1e6, socks > 0 ? store / socks : 0.0,
			       nsn__thousands((uint64_t)socks, a), ms, len / 1024);
		else
			printf("I  /metrics after ingest: scrape of %s failed\n", lg->metrics);
	}
	fflush(stdout);
	return 0;
}

/* Does the collector hold what the agents said they have? With the pace held, once
 * every frame is acked, nsnet_collector_sockets must be the sum of each node's last
 * ScanDone.sockets. */
static int check_sockets(struct lg *lg, const char *when)
{
	double ms, store, socks;
	uint64_t want = 0;
	bool pacing = lg->pacing;
	size_t len;
	char a[32], b[32];
	int r;

	if (!lg->metrics)
		return 0;
	lg->pacing = false;
	r = run_until(lg, all_acked, NULL, nsn__now_s() + lg->timeout_s);
	lg->pacing = pacing;
	if (r < 0)
		return fail("check %s: %s", when, lg->failed ? lg->why : strerror(-r));
	for (unsigned i = 0; i < lg->n_nodes; i++)
		want += lg->nodes[i].sockets;
	if (nsn__metrics_scrape(lg->metrics, &ms, &len, &store, &socks) < 0 || socks < 0) {
		printf("I  check %s: scrape of %s failed\n", when, lg->metrics);
		return 0;
	}
	printf(
	    "I  check %s: the collector holds %s sockets, the agents' last ScanDones say %s: %s\n",
	    when, nsn__thousands((uint64_t)socks, a), nsn__thousands(want, b),
	    (uint64_t)socks == want ? "ok" : "MISMATCH");
	fflush(stdout);
	return 0;
}

static int phase_steady(struct lg *lg, long rss_ingest_kb)
{
	struct recording *rec = &lg->rec;
	double t0, t1, c0, c1, s0, s1, p50, p99, pmax;
	uint64_t sockets = rec->full_sockets * lg->n_nodes;
	long rss1;
	int r;

	t0 = nsn__now_s();
	/* Staggered: node i's first scan is i/N of an interval in, as agents that started
	 * at unrelated times would be. */
	for (unsigned i = 0; i < lg->n_nodes; i++)
		lg->nodes[i].next_due = t0 + lg->interval_s * (i + 0.5) / lg->n_nodes;
	lg->pacing = true;
	lg->counting = true;
	c0 = lg->pid ? nsn__proc_cpu_s(lg->pid) : -1;
	s0 = nsn__self_cpu_s();
	r = run_until(lg, never, NULL, t0 + lg->steady_s);
	t1 = nsn__now_s();
	c1 = lg->pid ? nsn__proc_cpu_s(lg->pid) : -1;
	s1 = nsn__self_cpu_s();
	lg->counting = false;
	if (r != -ETIMEDOUT)
		return fail("steady: %s", lg->failed ? lg->why : strerror(-r));
	rss1 = lg->pid ? nsn__proc_status_kb(lg->pid, "VmRSS") : -1;
	pmax = lg->n_acklat ? nsn__quantile(lg->acklat, lg->n_acklat, 1.0) : 0;
	p50 = nsn__quantile(lg->acklat, lg->n_acklat, 0.5);
	p99 = nsn__quantile(lg->acklat, lg->n_acklat, 0.99);
	{
		double per_scan = rec->n_scans ? 1.0 / (double)rec->n_scans : 0;
		double scans_s = (double)lg->steady_scans / (t1 - t0);

		printf("I  steady CPU: %.2f %% of one core with deltas every %.0f s from %u nodes "
		       "over %.0f s"
		       " (%" PRIu64 " delta scans + %" PRIu64
		       " heartbeats; ~%.0f sockets added, %.0f removed, %.0f changed"
		       " per s cluster-wide; %.2f MB/s); scan ack latency p50 %.1f ms, p99 %.1f "
		       "ms, max %.1f ms;"
		       " loadgen %.1f%%\n",
		       lg->pid ? 100.0 * (c1 - c0) / (t1 - t0) : -1.0, lg->interval_s, lg->n_nodes,
		       t1 - t0, lg->steady_scans, lg->steady_heartbeats,
		       scans_s * (double)rec->delta_added * per_scan,
		       scans_s * (double)rec->delta_removed * per_scan,
		       scans_s * (double)rec->delta_changed * per_scan,
		       (double)lg->steady_bytes / 1e6 / (t1 - t0), p50 * 1e3, p99 * 1e3, pmax * 1e3,
		       100.0 * (s1 - s0) / (t1 - t0));
	}
	if (lg->pid && rss1 > 0)
		printf("I  RSS after steady: %.0f MB (%+.0f MB since ingest) = %.0f MB per million "
		       "sockets\n",
		       rss1 / 1024.0, (rss1 - rss_ingest_kb) / 1024.0,
		       rss1 / 1024.0 / ((double)sockets / 1e6));
	fflush(stdout);
	return 0;
}

static int phase_query(struct lg *lg)
{
	struct qconn c = {.kind = EV_QUERY, .lg = lg, .want_out = true};
	Nsnet__V1__Hello h = NSNET__V1__HELLO__INIT;
	NsnFrame f = NSNET__V1__FRAME__INIT;
	int r;

	nsn_frame_reader_init(&c.rd, NSN_FRAME_MAX_LIMIT);
	c.fd = open_conn(lg, &c);
	if (c.fd < 0)
		return fail("query connection: %s", strerror(-c.fd));
	h.protocol_version = NSN_PROTOCOL_VERSION;
	h.role = NSNET__V1__HELLO__ROLE__QUERY;
	h.agent_version = "nsn-loadgen";
	h.max_frame = NSN_FRAME_MAX_LIMIT;
	h.token.data = (uint8_t *)lg->token;
	h.token.len = lg->token_len;
	f.seq = c.seq = 1;
	f.body_case = NSNET__V1__FRAME__BODY_HELLO;
	f.hello = &h;
	r = pack_push(&c.q, &f);
	if (r >= 0)
		r = run_until(lg, query_welcomed, &c, nsn__now_s() + lg->timeout_s);
	if (r < 0)
		return fail("query connection: %s", lg->failed ? lg->why : strerror(-r));

	for (size_t i = 0; i < lg->n_specs; i++) {
		struct query_spec *s = &lg->specs[i];
		double start = nsn__now_s(), secs = 0;
		char a[32];

		/* At least one run of each; more while within the budget (a query of every
		 * socket of the cluster may take seconds). */
		for (unsigned k = 0;
		     k < lg->runs && (k == 0 || nsn__now_s() - start < lg->query_budget_s); k++) {
			r = query_send(&c, s);
			if (r >= 0)
				r = run_until(lg, query_answered, &c, nsn__now_s() + lg->timeout_s);
			if (r < 0)
				return fail("query '%s': %s", s->text,
					    lg->failed ? lg->why : strerror(-r));
			push_sample(&s->lat, &s->n_lat, nsn__now_s() - c.t0);
			s->sockets = c.sockets;
			s->namespaces = c.namespaces;
			s->nodes_answered = c.nodes;
			s->bytes = c.bytes;
			s->chunks = c.chunks;
		}
		start = nsn__now_s();
		for (unsigned k = 0; lg->cli && k < lg->runs &&
				     (k == 0 || nsn__now_s() - start < lg->query_budget_s);
		     k++) {
			r = run_cli(lg, s, &secs);
			if (r < 0 && lg->failed)
				return fail("query '%s' (nsnetstat): %s", s->text, lg->why);
			if (s->cli_status)
				break;
			push_sample(&s->cli, &s->n_cli, secs);
		}
		printf("I  query %s: %.1f ms collector (median of %zu; %s sockets, %" PRIu64
		       " namespaces,"
		       " %" PRIu64 " nodes, %.1f MB in %" PRIu64 " chunks)",
		       s->text, nsn__quantile(s->lat, s->n_lat, 0.5) * 1e3, s->n_lat,
		       nsn__thousands(s->sockets, a), s->namespaces, s->nodes_answered,
		       (double)s->bytes / 1e6, s->chunks);
		if (lg->cli && s->cli_status)
			printf(", nsnetstat FAILED (exit %d: %s)", s->cli_status, s->cli_err);
		else if (lg->cli)
			printf(", %.1f ms nsnetstat (median of %zu, peak RSS %.0f MB)",
			       nsn__quantile(s->cli, s->n_cli, 0.5) * 1e3, s->n_cli,
			       s->cli_rss_kb / 1024.0);
		printf("\n");
		fflush(stdout);
	}
	close(c.fd);
	outq_release(&c.q);
	nsn_frame_reader_release(&c.rd);
	return 0;
}

/* ---- main ------------------------------------------------------------------------ */

static const char usage_text[] =
    "usage: nsn-loadgen --connect HOST:PORT|unix:PATH --recording FILE [options]\n"
    "Replays one recorded agent session (nsnet-agent --output) as N nodes against an\n"
    "nsnet-collector and prints ingest, steady-state and query figures.\n"
    "\n"
    "  -c, --connect ADDR       the collector's --listen address\n"
    "  -r, --recording FILE     an nsnet-agent --output recording with at least a full scan\n"
    "  -n, --nodes N            simulated nodes (default 200)\n"
    "      --prefix NAME        node names NAME-0 .. NAME-(N-1) (default lg)\n"
    "  -p, --pid PID            the collector's pid: CPU and RSS figures\n"
    "      --steady SECS        steady phase (default 30; 0: skip)\n"
    "      --query WORDS        a query (repeatable): nsnetstat's words separated by spaces;\n"
    "                           %PORT% (a port a few established sockets per node have),\n"
    "                           %NODE% (a node in the middle) and %NS% (a namespace name)\n"
    "                           are expanded; --node=A,B selects nodes\n"
    "      --runs N             runs per query (default 5), within --query-budget\n"
    "      --query-budget SECS  more runs of a query only while under this (default 10)\n"
    "      --cli PATH           also time `PATH --collector ADDR WORDS...`\n"
    "      --metrics HOST:PORT  scrape the collector's /metrics after ingest\n"
    "      --token-file FILE    the token the collector expects\n"
    "      --timeout SECS       give up on any one step after this (default 300)\n";

static int read_token(struct lg *lg, const char *path)
{
	uint8_t *buf;
	size_t len;
	int r = nsn__read_file(path, &buf, &len);

	if (r < 0)
		return fail("--token-file %s: %s", path, strerror(-r));
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	lg->token = (char *)buf;
	lg->token_len = len;
	return 0;
}

int main(int argc, char **argv)
{
	enum {
		O_PREFIX = 256,
		O_STEADY,
		O_QUERY,
		O_RUNS,
		O_BUDGET,
		O_CLI,
		O_METRICS,
		O_TOKEN,
		O_TIMEOUT
	};
	static const struct option lo[] = {
	    {"connect", required_argument, NULL, 'c'},
	    {"recording", required_argument, NULL, 'r'},
	    {"nodes", required_argument, NULL, 'n'},
	    {"prefix", required_argument, NULL, O_PREFIX},
	    {"pid", required_argument, NULL, 'p'},
	    {"steady", required_argument, NULL, O_STEADY},
	    {"query", required_argument, NULL, O_QUERY},
	    {"runs", required_argument, NULL, O_RUNS},
	    {"query-budget", required_argument, NULL, O_BUDGET},
	    {"cli", required_argument, NULL, O_CLI},
	    {"metrics", required_argument, NULL, O_METRICS},
	    {"token-file", required_argument, NULL, O_TOKEN},
	    {"timeout", required_argument, NULL, O_TIMEOUT},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct lg *lg = calloc(1, sizeof(*lg));
	struct recording *rec;
	long rss_kb = -1;
	char a[32];
	int c;

	if (!lg)
		return 1;
	lg->prefix = "lg";
	lg->n_nodes = 200;
	lg->steady_s = 30;
	lg->runs = 5;
	lg->query_budget_s = 10;
	lg->timeout_s = 300;
	while ((c = getopt_long(argc, argv, "c:r:n:p:h", lo, NULL)) != -1) {
		switch (c) {
		case 'c': lg->connect = optarg; break;
		case 'r': lg->recording_path = optarg; break;
		case 'n': lg->n_nodes = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'p': lg->pid = (pid_t)strtol(optarg, NULL, 10); break;
		case O_PREFIX: lg->prefix = optarg; break;
		case O_STEADY: lg->steady_s = strtod(optarg, NULL); break;
		case O_QUERY:
			if (lg->n_specs == MAX_QUERIES) {
				fail("at most %d --query", MAX_QUERIES);
				return 2;
			}
			lg->specs[lg->n_specs++].text = optarg;
			break;
		case O_RUNS: lg->runs = (unsigned)strtoul(optarg, NULL, 10); break;
		case O_BUDGET: lg->query_budget_s = strtod(optarg, NULL); break;
		case O_CLI: lg->cli = optarg; break;
		case O_METRICS: lg->metrics = optarg; break;
		case O_TOKEN:
			if (read_token(lg, optarg) < 0)
				return 2;
			break;
		case O_TIMEOUT: lg->timeout_s = strtod(optarg, NULL); break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: fputs(usage_text, stderr); return 2;
		}
	}
	if (!lg->connect || !lg->recording_path || optind != argc || lg->n_nodes == 0 ||
	    lg->n_nodes > 100000 || lg->runs == 0 || !(lg->timeout_s > 0)) {
		fputs(usage_text, stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (parse_connect(lg) < 0)
		return 2;
	rec = &lg->rec;
	{
		char err[512];

		if (nsn__rec_load(lg->recording_path, rec, err, sizeof(err)) < 0) {
			fail("%s", err);
			return 1;
		}
	}
	lg->interval_s = rec->interval_ms / 1000.0;
	printf("I  recording: %s frames, %s sockets in %s namespaces, full resync %.2f MB (%.0f "
	       "bytes/socket),"
	       " %zu delta scans at %.0f s (%.1f KB, %.0f sockets added, %.0f removed, %.0f "
	       "changed per scan),"
	       " %%PORT%% = %u (%u sockets per node)\n",
	       nsn__thousands(rec->n_frames, a), nsn__thousands(rec->full_sockets, (char[32]){0}),
	       nsn__thousands(rec->full_namespaces, (char[32]){0}), (double)rec->full_bytes / 1e6,
	       (double)rec->full_bytes / (double)(rec->full_sockets ? rec->full_sockets : 1),
	       rec->n_scans, lg->interval_s,
	       rec->n_scans ? (double)rec->delta_bytes / 1024.0 / (double)rec->n_scans : 0.0,
	       rec->n_scans ? (double)rec->delta_added / (double)rec->n_scans : 0.0,
	       rec->n_scans ? (double)rec->delta_removed / (double)rec->n_scans : 0.0,
	       rec->n_scans ? (double)rec->delta_changed / (double)rec->n_scans : 0.0,
	       rec->rare_port, rec->rare_count);
	if (rec->n_scans * lg->interval_s < lg->steady_s)
		printf("I  note: %zu recorded delta scans cover %.0f s of the %.0f s steady phase; "
		       "heartbeats after\n",
		       rec->n_scans, rec->n_scans * lg->interval_s, lg->steady_s);
	fflush(stdout);

	for (size_t i = 0; i < lg->n_specs; i++)
		if (spec_prepare(lg, &lg->specs[i]) < 0) {
			fail("out of memory");
			return 1;
		}
	lg->ep = epoll_create1(EPOLL_CLOEXEC);
	lg->nodes = calloc(lg->n_nodes, sizeof(*lg->nodes));
	if (lg->ep < 0 || !lg->nodes) {
		fail("set-up: %s", strerror(errno));
		return 1;
	}
	{
		struct rlimit rl;

		/* A file descriptor per node, and some. */
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < lg->n_nodes + 64u) {
			rl.rlim_cur = lg->n_nodes + 64u;
			if (rl.rlim_max < rl.rlim_cur)
				rl.rlim_max = rl.rlim_cur;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	for (unsigned i = 0; i < lg->n_nodes; i++) {
		struct node *n = &lg->nodes[i];

		n->kind = EV_NODE;
		n->lg = lg;
		n->idx = i;
		n->fd = -1;
		snprintf(n->name, sizeof(n->name), "%s-%u", lg->prefix, i);
		nsn_frame_reader_init(&n->rd, 0);
	}

	if (phase_ingest(lg, &rss_kb) < 0 || check_sockets(lg, "after ingest") < 0)
		return 1;
	if (lg->steady_s > 0 &&
	    (phase_steady(lg, rss_kb) < 0 || check_sockets(lg, "after steady") < 0))
		return 1;
	if (lg->n_specs && !lg->pacing) {
		/* Without a steady phase the nodes still need their heartbeats. */
		for (unsigned i = 0; i < lg->n_nodes; i++)
			lg->nodes[i].next_due =
			    nsn__now_s() + lg->interval_s * (i + 0.5) / lg->n_nodes;
		lg->pacing = true;
	}
	if (lg->n_specs && phase_query(lg) < 0)
		return 1;
	for (unsigned i = 0; i < lg->n_nodes; i++) {
		close(lg->nodes[i].fd);
		outq_release(&lg->nodes[i].q);
		nsn_frame_reader_release(&lg->nodes[i].rd);
	}
	for (size_t i = 0; i < lg->n_specs; i++)
		spec_release(&lg->specs[i]);
	close(lg->ep);
	free(lg->nodes);
	free(lg->acklat);
	free(lg->token);
	nsn__rec_release(rec);
	free(lg);
	return 0;
}
