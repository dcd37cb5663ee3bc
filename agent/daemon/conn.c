/* SPDX-License-Identifier: MIT */
/* The collector connection: connect with back-off, Hello, wait for Welcome, then a full
 * resync and deltas; read Acks and Errors; bound what is queued.
 *
 * Back-pressure: libuv queues writes without limit, so the bound is ours. A scan is
 * only turned into frames while less than max_buffer bytes are queued; otherwise it
 * waits as "pending" and a newer scan replaces it (counted), so a slow collector gets
 * the latest state of each namespace, never a backlog of history. What is queued is
 * at most max_buffer plus one scan's frames.
 *
 * With --tls-*, the stream carries TLS (tls.c): what is read goes into the session,
 * what it decrypts into the frame reader; frames are encrypted and the ciphertext is
 * written. The Hello is written at once and leaves when the handshake completes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "log.h"

#define BACKOFF_BASE_MS 500
#define BACKOFF_CAP_MS 30000
/* The collector closes a connection without a Hello after 10 s: a Welcome not here
 * within this long is not coming. */
#define WELCOME_TIMEOUT_MS 15000

struct wreq {
	uv_write_t req;
	struct agent *a;
	uint8_t *buf;
	size_t len;
};

static void schedule_reconnect(struct agent *a);
static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

size_t conn_queued(const struct agent *a)
{
	return a->stream && a->state != CONN_CLOSING ? uv_stream_get_write_queue_size(a->stream) : 0;
}

static uint64_t now_ms(const struct agent *a)
{
	return uv_now(a->loop);
}

static void on_write(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;
	struct agent *a = w->a;

	free(w->buf);
	free(w);
	if (status < 0) {
		if (status != UV_ECANCELED)
			conn_close(a, uv_strerror(status));
		return;
	}
	/* Drained below half the bound: a pending scan may go now. */
	if (a->pending && a->state == CONN_READY && conn_queued(a) < a->o.max_buffer / 2)
		conn_try_send(a);
}

/* Queue @p buf (taken over) as it is. */
static int write_raw(struct agent *a, uint8_t *buf, size_t len)
{
	struct wreq *w = calloc(1, sizeof(*w));
	uv_buf_t b;
	int r;

	if (!w) {
		free(buf);
		return -ENOMEM;
	}
	w->a = a;
	w->buf = buf;
	w->len = len;
	b = uv_buf_init((char *)buf, (unsigned)len);
	r = uv_write(&w->req, a->stream, &b, 1, on_write);
	if (r < 0) {
		free(buf);
		free(w);
	}
	return r;
}

/* Write what the TLS session has for the collector (handshake messages, records). */
static int flush_tls(struct agent *a)
{
	uint8_t *buf;
	size_t len;
	int r = nsn_tls_take_output(a->tls, &buf, &len);

	return r < 0 ? r : len ? write_raw(a, buf, len) : 0;
}

/* Queue the bytes of a frame (taken over): encrypted first with TLS, 64 KiB at a
 * time, so that a 16 MiB frame is never held as plaintext and ciphertext twice over. */
static int write_bytes(struct agent *a, uint8_t *buf, size_t len)
{
	int r = 0;

	if (!a->tls)
		return write_raw(a, buf, len);
	for (size_t off = 0; off < len && r >= 0; off += NSN_TLS_CHUNK) {
		r = nsn_tls_write(a->tls, buf + off, len - off < NSN_TLS_CHUNK ? len - off : NSN_TLS_CHUNK);
		if (r >= 0)
			r = flush_tls(a);
	}
	free(buf);
	return r;
}

/* Pack and queue one frame; seq is assigned here. */
static int send_frame(struct agent *a, NsnFrame *f)
{
	uint8_t *buf;
	size_t len;
	int r;

	f->seq = ++a->seq;
	r = nsn_wire_pack(f, a->peer_max_frame ? a->peer_max_frame : a->o.max_frame, &buf, &len);
	if (r < 0) {
		if (r == -EMSGSIZE)
			a->st.frames_oversized++;
		return r;
	}
	r = write_bytes(a, buf, len);
	if (r < 0)
		return r;
	a->st.frames_sent++;
	a->st.bytes_sent += len;
	return 0;
}

static int emit_conn(NsnFrame *f, void *ud)
{
	return send_frame(ud, f);
}

/* --output: frames go to a file, synchronously. */
static int emit_file(NsnFrame *f, void *ud)
{
	struct agent *a = ud;
	uint8_t *buf;
	size_t len, off = 0;
	int r;

	f->seq = ++a->seq;
	r = nsn_wire_pack(f, a->o.max_frame, &buf, &len);
	if (r < 0) {
		if (r == -EMSGSIZE)
			a->st.frames_oversized++;
		return r;
	}
	while (off < len) {
		ssize_t k = write(a->out_fd, buf + off, len - off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -errno;
			free(buf);
			return r;
		}
		off += (size_t)k;
	}
	free(buf);
	a->st.frames_sent++;
	a->st.bytes_sent += len;
	return 0;
}

static int send_hello(struct agent *a, nsn_sync_emit_fn emit)
{
	Nsnet__V1__Hello h = NSNET__V1__HELLO__INIT;
	Nsnet__V1__AgentStats st = NSNET__V1__AGENT_STATS__INIT;
	NsnFrame f = NSNET__V1__FRAME__INIT;

	agent_fill_stats(a, &st);
	h.protocol_version = NSN_PROTOCOL_VERSION;
	h.role = NSNET__V1__HELLO__ROLE__AGENT;
	h.node = (char *)a->o.node;
	h.agent_version = a->version;
	h.boot_id = a->boot_id;
	h.token.data = (uint8_t *)a->o.token;
	h.token.len = a->o.token_len;
	h.session = a->session;
	h.interval_ms = (uint32_t)(a->o.interval_s * 1000);
	h.max_frame = a->o.max_frame;
	h.stats = &st;
	f.body_case = NSNET__V1__FRAME__BODY_HELLO;
	f.hello = &h;
	return emit(&f, a);
}

/* Turn the latest scan into frames: the full state after a (re)connect, then deltas,
 * then ScanDone. */
static int send_scan(struct agent *a, nsn_sync_emit_fn emit)
{
	struct nsn_sync_stats ss;
	Nsnet__V1__ScanDone done = NSNET__V1__SCAN_DONE__INIT;
	Nsnet__V1__AgentStats st = NSNET__V1__AGENT_STATS__INIT;
	NsnFrame f = NSNET__V1__FRAME__INIT;
	uint64_t bytes0 = a->st.bytes_sent, frames0 = a->st.frames_sent;
	int full = nsn_sync_is_full(a->sync);
	struct timespec ts;
	int r;

	r = nsn_sync_diff(a->sync, a->latest, NSN_PB_ALL, a->arena, emit, a, &ss);
	if (r < 0) {
		/* The peer now has part of a scan we cannot describe: start over. */
		nsn_sync_reset(a->sync);
		return r;
	}
	a->pending = false;
	agent_fill_stats(a, &st);
	clock_gettime(CLOCK_REALTIME, &ts);
	done.scan = a->scan_no;
	done.time_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	done.full = full;
	done.namespaces = (uint32_t)ss.namespaces;
	done.sockets = ss.sockets;
	done.scan_ms = (uint32_t)a->last_scan_ms;
	done.warnings = a->latest->warnings;
	done.n_warnings = a->latest->n_warnings;
	done.stats = &st;
	done.vanished = (uint32_t)a->latest->n_vanished;
	done.failed = (uint32_t)a->latest->n_failed;
	done.backend = (char *)(a->latest->backend ? a->latest->backend : "");
	f.body_case = NSNET__V1__FRAME__BODY_SCAN_DONE;
	f.scan_done = &done;
	r = emit(&f, a);
	if (r < 0)
		return r;
	nsn_log(NSN_LOG_INFO,
		"event=sent scan=%llu full=%d frames=%llu bytes=%llu snapshots=%zu deltas=%zu gone=%zu unchanged=%zu "
		"sockets_added=%zu sockets_changed=%zu sockets_removed=%zu queued=%zu",
		(unsigned long long)a->scan_no, full, (unsigned long long)(a->st.frames_sent - frames0),
		(unsigned long long)(a->st.bytes_sent - bytes0), ss.snapshots, ss.deltas, ss.gone, ss.unchanged,
		ss.sockets_added, ss.sockets_changed, ss.sockets_removed, conn_queued(a));
	return 0;
}

int output_send(struct agent *a)
{
	if (a->seq == 0) {
		int r = send_hello(a, emit_file);

		if (r < 0)
			return r;
	}
	return send_scan(a, emit_file);
}

void conn_try_send(struct agent *a)
{
	int r;

	if (a->state != CONN_READY || !a->pending || !a->latest)
		return;
	if (conn_queued(a) >= a->o.max_buffer)
		return; /* on_write tries again once it drains */
	r = send_scan(a, emit_conn);
	if (r < 0) {
		char q[256];

		nsn_log(NSN_LOG_ERROR, "event=send_failed collector=%s error=%s",
			nsn_log_q(a->o.collector, q, sizeof(q)), strerror(-r));
		conn_close(a, "send failed");
	}
}

static void on_close(uv_handle_t *h)
{
	struct agent *a = h->data;

	a->stream = NULL;
	a->state = CONN_IDLE;
	if (!a->stopping)
		schedule_reconnect(a);
}

/* Close the connection with one line at @p level saying why. */
static void close_at(struct agent *a, int level, const char *why)
{
	char q[256], q2[512];

	if (a->state == CONN_IDLE || a->state == CONN_CLOSING)
		return;
	if (a->state == CONN_RESOLVING) {
		uv_cancel((uv_req_t *)&a->gai_req);
		a->state = CONN_IDLE;
		return;
	}
	nsn_log(level, "event=disconnected collector=%s reason=%s sent_seq=%llu acked_seq=%llu queued=%zu",
		nsn_log_q(a->o.collector, q, sizeof(q)), nsn_log_q(why, q2, sizeof(q2)),
		(unsigned long long)a->seq, (unsigned long long)a->acked, conn_queued(a));
	a->state = CONN_CLOSING;
	uv_timer_stop(&a->stall_timer);
	nsn_frame_reader_release(&a->reader);
	nsn_tls_free(a->tls);
	a->tls = NULL;
	/* Whatever was queued for this connection is dropped with it: the next
	 * connection starts with a full resync, so nothing it described is lost. */
	nsn_sync_reset(a->sync);
	if (a->latest)
		a->pending = true;
	uv_close((uv_handle_t *)a->stream, on_close);
}

void conn_close(struct agent *a, const char *why)
{
	close_at(a, a->state == CONN_READY ? NSN_LOG_WARN : NSN_LOG_INFO, why);
}

static void on_reconnect_timer(uv_timer_t *t)
{
	conn_start(t->data);
}

static void schedule_reconnect(struct agent *a)
{
	uint64_t delay = BACKOFF_BASE_MS;

	for (unsigned i = 0; i < a->attempt && delay < BACKOFF_CAP_MS; i++)
		delay *= 2;
	if (delay > BACKOFF_CAP_MS)
		delay = BACKOFF_CAP_MS;
	/* "Equal jitter": half fixed, half random, so that a collector restart is not met
	 * by every node of the cluster in the same millisecond. */
	delay = delay / 2 + (uint64_t)(random() % (long)(delay / 2 + 1));
	a->attempt++;
	nsn_log(NSN_LOG_DEBUG, "event=reconnect_scheduled delay_ms=%llu attempt=%u", (unsigned long long)delay,
		a->attempt);
	uv_timer_start(&a->reconnect_timer, on_reconnect_timer, delay, 0);
}

static void connect_failed(struct agent *a, const char *what, int err)
{
	char q[256];

	a->st.connect_failures++;
	/* The first failure and then every 10th: a collector down for an hour is not
	 * 120 lines a minute. */
	if (a->attempt == 0 || a->attempt % 10 == 0)
		nsn_log(NSN_LOG_WARN, "event=connect_failed collector=%s step=%s error=\"%s\" attempt=%u",
			nsn_log_q(a->o.collector, q, sizeof(q)), what, uv_strerror(err), a->attempt + 1);
}

static void on_stall_timer(uv_timer_t *t)
{
	struct agent *a = t->data;
	uint64_t limit = (uint64_t)(a->o.interval_s * 3000);

	if (limit < 30000)
		limit = 30000;
	/* Frames outstanding and no Ack for a long time: the collector is wedged or the
	 * path is dead without a reset. Reconnecting frees the queue and resyncs. */
	if (a->state == CONN_READY && a->acked < a->seq && now_ms(a) - a->ack_progress_ms > limit)
		conn_close(a, "no ack from collector");
	/* A peer that accepts and never welcomes (a wedged collector, a proxy with nothing
	 * behind it): as long as the collector gives a Hello before it gives up on us. */
	else if (a->state == CONN_HELLO && now_ms(a) - a->ack_progress_ms > WELCOME_TIMEOUT_MS)
		close_at(a, NSN_LOG_WARN, "no welcome from collector");
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)h;
	(void)suggested;
	static char chunk[65536]; /* one connection, read on the loop thread only */
	*buf = uv_buf_init(chunk, sizeof(chunk));
}

static void handle_frame(struct agent *a, const NsnFrame *f)
{
	char q[512];

	switch (f->body_case) {
	case NSNET__V1__FRAME__BODY_WELCOME:
		if (a->state != CONN_HELLO) {
			a->st.protocol_errors++;
			conn_close(a, "welcome out of order");
			return;
		}
		if (f->welcome->protocol_version != NSN_PROTOCOL_VERSION) {
			a->st.protocol_errors++;
			nsn_log(NSN_LOG_ERROR, "event=protocol_error collector=%s error=\"collector speaks version %u\"",
				nsn_log_q(a->o.collector, q, sizeof(q)), f->welcome->protocol_version);
			conn_close(a, "protocol version");
			return;
		}
		a->peer_max_frame = f->welcome->max_frame && f->welcome->max_frame < a->o.max_frame
					    ? f->welcome->max_frame
					    : a->o.max_frame;
		a->state = CONN_READY;
		a->attempt = 0;
		a->st.connects++;
		a->ack_progress_ms = now_ms(a);
		char tls[128];

		nsn_log(NSN_LOG_INFO, "event=connected collector=%s collector_version=%s max_frame=%u tls=%s",
			nsn_log_q(a->o.collector, q, sizeof(q)), f->welcome->collector_version, a->peer_max_frame,
			a->tls ? nsn_tls_describe(a->tls, tls, sizeof(tls)) : "off");
		conn_try_send(a);
		return;
	case NSNET__V1__FRAME__BODY_ACK:
		if (a->state != CONN_READY) {
			a->st.protocol_errors++;
			nsn_log(NSN_LOG_WARN, "event=protocol_error collector=%s error=\"ack before welcome\"",
				nsn_log_q(a->o.collector, q, sizeof(q)));
			conn_close(a, "ack before welcome");
			return;
		}
		if (f->ack->seq > a->seq) {
			a->st.protocol_errors++;
			conn_close(a, "ack beyond what was sent");
			return;
		}
		if (f->ack->seq > a->acked) {
			a->acked = f->ack->seq;
			a->ack_progress_ms = now_ms(a);
		}
		return;
	case NSNET__V1__FRAME__BODY_ERROR:
		nsn_log(NSN_LOG_ERROR, "event=collector_error collector=%s code=%d message=%s",
			nsn_log_q(a->o.collector, q, sizeof(q)), (int)f->error->code,
			nsn_log_q(f->error->message, q + 256, 256));
		conn_close(a, "collector error");
		return;
	default:
		a->st.protocol_errors++;
		nsn_log(NSN_LOG_WARN, "event=protocol_error collector=%s error=\"unexpected %s frame\"",
			nsn_log_q(a->o.collector, q, sizeof(q)), nsn_wire_body_name(f));
		conn_close(a, "unexpected frame");
		return;
	}
}

/* Plaintext from the collector: frames. False when the connection was closed. */
static bool take_bytes(struct agent *a, const void *data, size_t n)
{
	const uint8_t *frame;
	size_t len;
	int r;

	r = nsn_frame_reader_feed(&a->reader, data, n);
	while (r >= 0 && a->state != CONN_CLOSING && (r = nsn_frame_reader_next(&a->reader, &frame, &len)) > 0) {
		NsnFrame *f;

		if (len == 0)
			continue; /* an empty frame is legal and means nothing (nsnet.proto) */
		r = nsn_wire_unpack(frame, len, a->o.max_frame, &f);
		if (r < 0)
			break;
		handle_frame(a, f);
		nsn_wire_free(f);
	}
	if (a->state == CONN_CLOSING)
		return false;
	if (r < 0) {
		char q[256];

		a->st.protocol_errors++;
		nsn_log(NSN_LOG_WARN, "event=protocol_error collector=%s error=\"%s\" at_byte=%llu",
			nsn_log_q(a->o.collector, q, sizeof(q)),
			r == -EMSGSIZE ? "frame larger than max_frame" : r == -ENOMEM ? "out of memory" : "undecodable frame",
			(unsigned long long)a->reader.bytes);
		conn_close(a, "protocol error");
		return false;
	}
	return true;
}

/* The alert OpenSSL wrote when the session failed, so that the collector logs why:
 * best effort, now, since closing cancels what is queued. */
static void send_alert(struct agent *a)
{
	uint8_t *buf;
	size_t len;

	if (nsn_tls_take_output(a->tls, &buf, &len) == 0 && len) {
		uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);

		uv_try_write(a->stream, &b, 1);
	}
	free(buf);
}

/* Ciphertext from the collector: through the session, then frames. */
static void take_tls(struct agent *a, const void *data, size_t n)
{
	static uint8_t plain[65536]; /* the loop thread's only */
	char why[700];
	ssize_t k;
	int r = nsn_tls_feed(a->tls, data, n);

	while (r >= 0 && (k = nsn_tls_read(a->tls, plain, sizeof(plain))) != 0) {
		if (k < 0) {
			r = (int)k;
			break;
		}
		if (!take_bytes(a, plain, (size_t)k))
			return;
	}
	/* The handshake's replies, or what became sendable once it completed. */
	if (r >= 0 && (r = flush_tls(a)) >= 0)
		return;
	if (r == -EPROTO)
		send_alert(a);
	if (r == -EPIPE) {
		conn_close(a, "collector closed the TLS session");
		return;
	}
	if (r == -EPROTO) {
		snprintf(why, sizeof(why), "TLS: %s", nsn_tls_error(a->tls));
		if (nsn_tls_established(a->tls) && a->state == CONN_READY)
			a->st.protocol_errors++;
		else
			a->st.connect_failures++;
	} else {
		snprintf(why, sizeof(why), "TLS: %s", strerror(-r));
	}
	close_at(a, NSN_LOG_ERROR, why);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct agent *a = s->data;

	if (n == 0)
		return;
	if (n < 0) {
		if (a->tls && !nsn_tls_established(a->tls)) {
			a->st.connect_failures++;
			close_at(a, NSN_LOG_ERROR,
				 n == UV_EOF ? "collector closed the connection during the TLS handshake (is it "
					       "listening without TLS?)"
					     : uv_strerror((int)n));
			return;
		}
		conn_close(a, n == UV_EOF ? "collector closed the connection" : uv_strerror((int)n));
		return;
	}
	if (a->tls)
		take_tls(a, buf->base, (size_t)n);
	else
		take_bytes(a, buf->base, (size_t)n);
}

static void on_connect(uv_connect_t *req, int status)
{
	struct agent *a = req->data;
	int r;

	if (a->state != CONN_CONNECTING)
		return;
	if (status < 0) {
		connect_failed(a, "connect", status);
		a->state = CONN_CLOSING;
		uv_close((uv_handle_t *)a->stream, on_close);
		return;
	}
	a->state = CONN_HELLO;
	r = 0;
	a->seq = a->acked = 0;
	a->ack_progress_ms = now_ms(a); /* the Welcome's clock (on_stall_timer) */
	a->peer_max_frame = 0;
	nsn_frame_reader_init(&a->reader, a->o.max_frame);
	nsn_sync_reset(a->sync);
	if (a->latest)
		a->pending = true;
	if (!a->o.unix_path)
		uv_tcp_keepalive(&a->h.tcp, 1, 30);
	if (a->tls_ctx) {
		const char *name = a->o.tls_server_name ? a->o.tls_server_name : a->o.host;

		r = nsn_tls_new(a->tls_ctx, name, &a->tls);
		if (r < 0) {
			conn_close(a, r == -EINVAL ? "TLS: the collector's name is not usable" : strerror(-r));
			return;
		}
		r = nsn_tls_start(a->tls);
		if (r < 0) {
			char why[700];

			snprintf(why, sizeof(why), "TLS: %s", nsn_tls_error(a->tls));
			close_at(a, NSN_LOG_ERROR, why);
			return;
		}
		r = flush_tls(a);
	}
	if (r >= 0)
		r = uv_read_start(a->stream, alloc_cb, on_read);
	if (r >= 0)
		r = send_hello(a, emit_conn);
	if (r < 0) {
		conn_close(a, r == -ENOMEM ? strerror(ENOMEM) : uv_strerror(r));
		return;
	}
	uv_timer_start(&a->stall_timer, on_stall_timer, 5000, 5000);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct agent *a = req->data;
	int r;

	if (a->state != CONN_RESOLVING) {
		uv_freeaddrinfo(res);
		return;
	}
	if (status < 0) {
		connect_failed(a, "resolve", status);
		a->state = CONN_IDLE;
		uv_freeaddrinfo(res);
		if (!a->stopping)
			schedule_reconnect(a);
		return;
	}
	uv_tcp_init(a->loop, &a->h.tcp);
	a->h.tcp.data = a;
	a->stream = (uv_stream_t *)&a->h.tcp;
	a->state = CONN_CONNECTING;
	a->connect_req.data = a;
	r = uv_tcp_connect(&a->connect_req, &a->h.tcp, res->ai_addr, on_connect);
	uv_freeaddrinfo(res);
	if (r < 0) {
		connect_failed(a, "connect", r);
		a->state = CONN_CLOSING;
		uv_close((uv_handle_t *)a->stream, on_close);
	}
}

void conn_start(struct agent *a)
{
	if (a->stopping || a->state != CONN_IDLE)
		return;
	if (a->o.unix_path) {
		uv_pipe_init(a->loop, &a->h.pipe, 0);
		a->h.pipe.data = a;
		a->stream = (uv_stream_t *)&a->h.pipe;
		a->state = CONN_CONNECTING;
		a->connect_req.data = a;
		uv_pipe_connect(&a->connect_req, &a->h.pipe, a->o.host, on_connect);
		return;
	}
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	int r;

	a->state = CONN_RESOLVING;
	a->gai_req.data = a;
	r = uv_getaddrinfo(a->loop, &a->gai_req, on_resolved, a->o.host, a->o.port, &hints);
	if (r < 0) {
		connect_failed(a, "resolve", r);
		a->state = CONN_IDLE;
		schedule_reconnect(a);
	}
}
