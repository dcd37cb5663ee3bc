/* SPDX-License-Identifier: MIT */
/* --collector ADDR: the query role of nsnet.v1 (proto/nsnet.proto). Connect, Hello,
 * Welcome, then one Query and its QueryResponse chunks (again every interval with -c,
 * on the same connection), each answer rendered as --from renders a recording
 * (resp.c).
 *
 * One connection and nothing else to do while waiting: plain blocking logic, with
 * poll() only to bound each wait (5 s to connect, 60 s without a byte moving). Every
 * failure is one line naming the collector and exit 1; an Error of code QUERY (the
 * collector could not use the arguments) is exit 2, as the same usage error is
 * locally.
 *
 * With --tls-*, the socket carries TLS through the daemons' engine (agent/daemon/tls.c:
 * memory BIOs): ciphertext read is fed to it and frames are read from what it
 * decrypts; frames are encrypted and the ciphertext sent. The collector's certificate
 * must name the host dialled (or --tls-server-name). */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "remote.h"
#include "tls.h"  /* agent/daemon: mutual TLS as the agent speaks it */
#include "util.h" /* agent/daemon: --token-file as the daemons read it */

#define CONNECT_TIMEOUT_MS 5000
#define IDLE_TIMEOUT_MS	   60000

struct remote {
	const struct cli_opts *o;
	int fd;
	struct nsn_frame_reader rd;
	uint64_t seq;	  /* of the last frame sent: ours are numbered 1, 2, 3, ... */
	uint32_t max_out; /* the largest frame the collector accepts (Welcome.max_frame) */
	/* A -c round before its first answer frame: the collector may have closed the
	 * connection as idle (it does after minutes), so a close is reported as -EPIPE,
	 * without a line, and the round is asked again on a new connection. */
	bool quiet_close;
	char *token;
	size_t token_len;
	struct nsn_tls_ctx *tls_ctx; /* --tls-*, or NULL */
	struct nsn_tls *tls;	     /* this connection's session */
};

/* The one line of a failure, on stderr; returns @p status. */
__attribute__((format(printf, 3, 4))) static int fail(const struct remote *x, int status,
						      const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "nsnetstat: collector %s: ", x->o->collector);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for @p events on the socket for at most @p ms. 1 when ready, 0 on timeout,
 * -errno. */
static int wait_fd(int fd, short events, int ms)
{
	int64_t deadline = mono_ms() + ms;

	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		int64_t left = deadline - mono_ms();
		int n;

		if (left <= 0)
			return 0;
		n = poll(&p, 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		return n > 0;
	}
}

/* --token-file, read as nsnet-agent reads it. 0 or the exit status 2 (a bad argument). */
static int read_token(struct remote *x)
{
	char err[256];

	if (!x->o->token_file)
		return 0;
	if (nsn_token_read(x->o->token_file, &x->token, &x->token_len, err, sizeof(err)) < 0) {
		fprintf(stderr, "nsnetstat: --token-file %s: %s\n", x->o->token_file, err);
		return 2;
	}
	return 0;
}

/* --tls-*: load the files. 0 or the exit status 2 (a bad argument). */
static int tls_setup(struct remote *x)
{
	struct nsn_tls_files f = {x->o->tls_cert, x->o->tls_key, x->o->tls_ca};
	char err[600];

	if (!f.cert)
		return 0;
	if (nsn_tls_ctx_new(NSN_TLS_CLIENT, &f, &x->tls_ctx, err, sizeof(err)) < 0) {
		fprintf(stderr, "nsnetstat: %s\n", err);
		return 2;
	}
	return 0;
}

/* One non-blocking connect, finished before @p deadline. The socket, or -errno. */
static int connect_one(int family, const struct sockaddr *sa, socklen_t len, int64_t deadline)
{
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), e = 0;
	socklen_t elen = sizeof(e);

	if (fd < 0)
		return -errno;
	while (connect(fd, sa, len) < 0) {
		int r;

		/* A unix listener with a full backlog says EAGAIN: try again shortly. */
		if (errno == EAGAIN && family == AF_UNIX && mono_ms() < deadline) {
			nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
			continue;
		}
		/* Interrupted, a non-blocking connect goes on in the background as well. */
		if (errno != EINPROGRESS && errno != EINTR && errno != EALREADY) {
			e = errno == EAGAIN ? ETIMEDOUT : errno;
			goto fail;
		}
		r = wait_fd(fd, POLLOUT, (int)(deadline - mono_ms()));
		if (r <= 0) {
			e = r < 0 ? -r : ETIMEDOUT;
			goto fail;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0)
			e = errno;
		if (e)
			goto fail;
		break;
	}
	return fd;
fail:
	close(fd);
	return -e;
}

/* Connect to the collector: every address the name has, in getaddrinfo()'s order,
 * within CONNECT_TIMEOUT_MS in all. 0 or the exit status. */
static int dial(struct remote *x)
{
	const struct cli_addr *a = &x->o->collector_addr;
	int64_t deadline = mono_ms() + CONNECT_TIMEOUT_MS;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG}, *res;
	int fd = -ECONNREFUSED;

	if (a->is_unix) {
		struct sockaddr_un sun = {.sun_family = AF_UNIX};
		/* cli_parse() refused longer paths. */
		size_t len = strnlen(a->host, sizeof(sun.sun_path) - 1);

		memcpy(sun.sun_path, a->host, len);
		fd = connect_one(AF_UNIX, (struct sockaddr *)&sun, sizeof(sun), deadline);
	} else {
		int e = getaddrinfo(a->host, a->port, &hints, &res);

		if (e)
			return fail(x, 1, "resolve %s: %s", a->host,
				    e == EAI_SYSTEM ? strerror(errno) : gai_strerror(e));
		for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
			fd = connect_one(ai->ai_family, ai->ai_addr, ai->ai_addrlen, deadline);
			if (fd >= 0 || mono_ms() >= deadline)
				break;
		}
		freeaddrinfo(res);
	}
	if (fd < 0)
		return fail(x, 1, "connect: %s", strerror(-fd));
	x->fd = fd;
	return 0;
}

static int send_all(struct remote *x, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = send(x->fd, buf, len, MSG_NOSIGNAL);
		int r;

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && x->quiet_close && (errno == EPIPE || errno == ECONNRESET))
			return -EPIPE;
		if (n < 0 && errno != EAGAIN)
			return fail(x, 1, "send: %s", strerror(errno));
		r = wait_fd(x->fd, POLLOUT, IDLE_TIMEOUT_MS);
		if (r < 0)
			return fail(x, 1, "poll: %s", strerror(-r));
		if (r == 0)
			return fail(x, 1, "send: the collector took nothing for %d s",
				    IDLE_TIMEOUT_MS / 1000);
	}
	return 0;
}

/* Send what the TLS session has for the collector. 0, the exit status, or -EPIPE. */
static int flush_tls(struct remote *x)
{
	uint8_t *buf;
	size_t len;
	int r = nsn_tls_take_output(x->tls, &buf, &len);

	if (r < 0)
		return fail(x, 1, "%s", strerror(-r));
	r = len ? send_all(x, buf, len) : 0;
	free(buf);
	return r;
}

/* Ciphertext read: into the session, and what it decrypts into the frame reader.
 * 0 (*ret_eof when the collector ended the session: as an end of file) or the exit
 * status. */
static int take_tls(struct remote *x, const uint8_t *data, size_t n, bool *ret_eof)
{
	uint8_t plain[1 << 14];
	ssize_t k;
	int r = nsn_tls_feed(x->tls, data, n);

	while (r >= 0 && (k = nsn_tls_read(x->tls, plain, sizeof(plain))) != 0) {
		if (k < 0) {
			r = (int)k;
			break;
		}
		r = nsn_frame_reader_feed(&x->rd, plain, (size_t)k);
		if (r == -EMSGSIZE)
			r = 0; /* read_frame() reports it */
	}
	*ret_eof = r == -EPIPE;
	if (r == -EPIPE)
		return 0;
	if (r == -EPROTO) {
		int q = x->quiet_close;

		/* Our alert tells the collector why (its log line), if it still listens. */
		x->quiet_close = true;
		flush_tls(x);
		x->quiet_close = q;
		return fail(x, 1, "TLS: %s", nsn_tls_error(x->tls));
	}
	if (r < 0)
		return fail(x, 1, "%s", strerror(-r));
	/* Handshake replies, and the frames written before it completed. */
	return flush_tls(x);
}

/* Number @p f and send it. 0, the exit status, or -EPIPE (quiet_close). */
static int send_frame(struct remote *x, NsnFrame *f)
{
	uint8_t *buf;
	size_t len;
	int r;

	f->seq = ++x->seq;
	r = nsn_wire_pack(f, x->max_out, &buf, &len);
	if (r == -EMSGSIZE)
		return fail(x, 1, "the %s frame exceeds the collector's %u byte maximum",
			    nsn_wire_body_name(f), x->max_out);
	if (r < 0)
		return fail(x, 1, "%s", strerror(-r));
	if (x->tls) {
		r = nsn_tls_write(x->tls, buf, len);
		free(buf);
		if (r < 0)
			return fail(x, 1, "TLS: %s",
				    r == -EPROTO ? nsn_tls_error(x->tls) : strerror(-r));
		return flush_tls(x);
	}
	r = send_all(x, buf, len);
	free(buf);
	return r;
}

/* The next frame from the collector (empty ones skipped); @p when says what was
 * awaited, for the line about a closed connection. 0 with the frame in *ret (free with
 * nsn_wire_free()), the exit status, or -EPIPE (quiet_close). */
static int read_frame(struct remote *x, const char *when, NsnFrame **ret)
{
	uint8_t buf[1 << 16];

	for (;;) {
		const uint8_t *data;
		size_t len;
		ssize_t n;
		int r = nsn_frame_reader_next(&x->rd, &data, &len);

		if (r == -EMSGSIZE)
			return fail(x, 1, "frame length %u over the %u byte maximum",
				    nsn_frame_get_header(x->rd.buf + x->rd.off), x->rd.max);
		if (r < 0)
			return fail(x, 1, "%s", strerror(-r));
		if (r > 0 && len == 0)
			continue; /* legal, and means nothing */
		if (r > 0) {
			if (nsn_wire_unpack(data, len, x->rd.max, ret) < 0)
				return fail(x, 1, "bad frame (%zu bytes): not an nsnet.v1 Frame",
					    len);
			return 0;
		}
		r = wait_fd(x->fd, POLLIN, IDLE_TIMEOUT_MS);
		if (r < 0)
			return fail(x, 1, "poll: %s", strerror(-r));
		if (r == 0)
			return fail(x, 1, "no answer for %d s %s", IDLE_TIMEOUT_MS / 1000, when);
		n = read(x->fd, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n > 0 && x->tls) {
			bool eof;

			r = take_tls(x, buf, (size_t)n, &eof);
			if (r)
				return r;
			if (!eof)
				continue;
			n = 0; /* close_notify: as the end of the stream */
		}
		if (n == 0 && x->tls && !nsn_tls_established(x->tls))
			return fail(x, 1,
				    "connection closed during the TLS handshake (is the collector "
				    "listening "
				    "without TLS?)");
		if (x->quiet_close && ((n < 0 && errno == ECONNRESET) ||
				       (n == 0 && !nsn_frame_reader_pending(&x->rd))))
			return -EPIPE;
		if (n < 0)
			return fail(x, 1, "read: %s", strerror(errno));
		if (n == 0) {
			size_t left = nsn_frame_reader_pending(&x->rd);

			if (left >= NSN_FRAME_HDR)
				return fail(x, 1, "truncated frame (%zu of %llu bytes) %s", left,
					    NSN_FRAME_HDR +
						(unsigned long long)nsn_frame_get_header(x->rd.buf +
											 x->rd.off),
					    when);
			if (left)
				return fail(x, 1, "truncated frame (%zu of %u length bytes) %s",
					    left, NSN_FRAME_HDR, when);
			return fail(x, 1, "connection closed %s", when);
		}
		r = nsn_frame_reader_feed(&x->rd, buf, (size_t)n);
		if (r < 0 && r != -EMSGSIZE)
			return fail(x, 1, "%s", strerror(-r));
	}
}

/* An Error frame: its message, exit 2 for a query the collector could not use. */
static int error_frame(const struct remote *x, const Nsnet__V1__Error *e)
{
	int status = e->code == NSNET__V1__ERROR__CODE__QUERY ? 2 : 1;

	if (e->message && e->message[0])
		return fail(x, status, "%s", e->message);
	return fail(x, status, "error code %d", (int)e->code);
}

static int hello(struct remote *x)
{
	Nsnet__V1__Hello h = NSNET__V1__HELLO__INIT;
	NsnFrame f = NSNET__V1__FRAME__INIT, *w;
	char version[64];
	int r;

	snprintf(version, sizeof(version), "nsnetstat %s", NSN_VERSION);
	h.protocol_version = NSN_PROTOCOL_VERSION;
	h.role = NSNET__V1__HELLO__ROLE__QUERY;
	h.node = (char *)(x->o->node ? x->o->node : "");
	h.agent_version = version;
	h.token.data = (uint8_t *)x->token;
	h.token.len = x->token_len;
	h.max_frame = NSN_FRAME_MAX_DEFAULT;
	f.body_case = NSNET__V1__FRAME__BODY_HELLO;
	f.hello = &h;
	r = send_frame(x, &f);
	if (r)
		return r;
	r = read_frame(x, "before the welcome", &w);
	if (r)
		return r;
	if (w->body_case == NSNET__V1__FRAME__BODY_WELCOME) {
		/* What we may send at most: the collector's maximum, never above the limit. */
		uint32_t max = w->welcome->max_frame;
		x->max_out = max && max < NSN_FRAME_MAX_LIMIT ? max : x->max_out;
	} else if (w->body_case == NSNET__V1__FRAME__BODY_ERROR) {
		const Nsnet__V1__Error *e = w->error;
		r = fail(x, 1, "%s",
			 e->message && e->message[0] ? e->message : "refused the hello");
	} else {
		r = fail(x, 1, "unexpected %s frame instead of a welcome", nsn_wire_body_name(w));
	}
	nsn_wire_free(w);
	return r;
}

/* Ask query @p id and collect its answer in @p resp. 0, the exit status, or -EPIPE
 * when the connection was found closed before any answer (with @p quiet_close). */
static int ask(struct remote *x, uint64_t id, struct cli_resp *resp, bool quiet_close)
{
	const struct cli_opts *o = x->o;
	Nsnet__V1__Query q = NSNET__V1__QUERY__INIT;
	NsnFrame f = NSNET__V1__FRAME__INIT;
	char err[512];
	int r;

	q.id = id;
	q.args = (char **)o->query_args;
	q.n_args = o->n_query_args;
	q.nodes = o->query_nodes;
	q.n_nodes = o->n_query_nodes;
	f.body_case = NSNET__V1__FRAME__BODY_QUERY;
	f.query = &q;
	x->quiet_close = quiet_close;
	r = send_frame(x, &f);
	if (r)
		return r;
	for (;;) {
		Nsnet__V1__QueryResponse *m;
		NsnFrame *a;

		r = read_frame(x, "before the end of the answer", &a);
		if (r)
			return r;
		x->quiet_close = false;
		switch (a->body_case) {
		case NSNET__V1__FRAME__BODY_RESPONSE:
			if (a->response->id != id) {
				r = fail(x, 1, "an answer to query %llu, expected %llu",
					 (unsigned long long)a->response->id,
					 (unsigned long long)id);
				nsn_wire_free(a);
				return r;
			}
			/* The chunk goes to the answer as it is: no copy of its sockets. */
			m = a->response;
			a->response = NULL;
			a->body_case = NSNET__V1__FRAME__BODY__NOT_SET;
			nsn_wire_free(a);
			r = cli_resp_take(resp, m, err, sizeof(err));
			if (r == 1)
				return 0;
			if (r < 0)
				return fail(x, r == -EINVAL ? 2 : 1, "%s", err);
			break;
		case NSNET__V1__FRAME__BODY_ERROR:
			r = error_frame(x, a->error);
			nsn_wire_free(a);
			return r;
		case NSNET__V1__FRAME__BODY_ACK: nsn_wire_free(a); break;
		default:
			r = fail(x, 1, "unexpected %s frame in an answer", nsn_wire_body_name(a));
			nsn_wire_free(a);
			return r;
		}
	}
}

/* Connect and say hello: a new session (frames numbered from 1 again). 0 or the exit
 * status. */
static int session(struct remote *x)
{
	int r;

	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	nsn_tls_free(x->tls);
	x->tls = NULL;
	x->seq = 0;
	x->max_out = NSN_FRAME_MAX_DEFAULT;
	/* What we announce in the hello, and so accept. */
	nsn_frame_reader_release(&x->rd);
	nsn_frame_reader_init(&x->rd, NSN_FRAME_MAX_DEFAULT);
	r = dial(x);
	if (r)
		return r;
	if (x->tls_ctx) {
		const char *name =
		    x->o->tls_server_name ? x->o->tls_server_name : x->o->collector_addr.host;

		r = nsn_tls_new(x->tls_ctx, name, &x->tls);
		if (r < 0)
			return fail(x, 1, "TLS: %s",
				    r == -EINVAL ? "the collector's name is not usable"
						 : strerror(-r));
		if (nsn_tls_start(x->tls) < 0)
			return fail(x, 1, "TLS: %s", nsn_tls_error(x->tls));
		/* The ClientHello; the Hello frame follows once the handshake is done. */
		if ((r = flush_tls(x)))
			return r;
	}
	return hello(x);
}

int cli_remote(const struct cli_opts *o)
{
	struct remote x = {.o = o, .fd = -1};
	struct cli_resp *resp = NULL;
	int r;

	r = read_token(&x);
	if (r == 0)
		r = tls_setup(&x);
	if (r)
		goto out;
	r = session(&x);
	if (r)
		goto out;
	if (!(resp = cli_resp_new())) {
		r = fail(&x, 1, "%s", strerror(ENOMEM));
		goto out;
	}
	for (uint64_t id = 1;; id++) {
		/* After a pause the collector may have closed the connection as idle, or
		 * restarted: then once more on a new one. */
		r = ask(&x, id, resp, id > 1);
		if (r == -EPIPE) {
			cli_resp_restart(resp);
			r = session(&x);
			if (r == 0)
				r = ask(&x, id, resp, false);
		}
		if (r)
			break;
		if (o->continuous && !o->json)
			printf("# %ld\n", (long)time(NULL));
		r = cli_resp_render(o, resp, stdout, stderr);
		if (fflush(stdout) != 0 && errno == EPIPE)
			r = 0;
		if (r != 0 || !o->continuous)
			break;
		cli_resp_restart(resp);
		struct timespec ts = {
		    (time_t)o->interval_s,
		    (long)((o->interval_s - (double)(time_t)o->interval_s) * 1e9)};
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
out:
	cli_resp_free(resp);
	nsn_frame_reader_release(&x.rd);
	nsn_tls_free(x.tls);
	nsn_tls_ctx_free(x.tls_ctx);
	if (x.fd >= 0)
		close(x.fd);
	free(x.token);
	return r;
}
