/* SPDX-License-Identifier: MIT */
/* /healthz for the kubelet's probes: healthy while scans succeed, whether or not the
 * collector is reachable (a collector outage must not restart every agent of the
 * cluster). One request per connection; a client that says nothing for 5 s, or sends
 * more than a request line and headers, is dropped. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "log.h"
#include "util.h"

#define MAX_REQUEST 4096
#define MAX_CONNS 32

struct hconn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t wreq;
	struct agent *a;
	char req[MAX_REQUEST];
	size_t len;
	char resp[1536];
	int closing;
};

static void hconn_free(uv_handle_t *h)
{
	struct hconn *c = h->data;

	/* Two handles: free on the second close callback. */
	if (++c->closing == 3) {
		c->a->health_conns--;
		free(c);
	}
}

static void hconn_close(struct hconn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	uv_close((uv_handle_t *)&c->tcp, hconn_free);
	uv_close((uv_handle_t *)&c->timer, hconn_free);
}

static void on_timeout(uv_timer_t *t)
{
	hconn_close(t->data);
}

static void on_written(uv_write_t *req, int status)
{
	(void)status;
	hconn_close(req->data);
}

static void respond(struct hconn *c)
{
	struct agent *a = c->a;
	char body[1024];
	const char *status;
	uint64_t now = uv_now(a->loop);
	uint64_t limit = (uint64_t)(a->o.interval_s * 3000) + 30000;
	bool ok = a->last_ok_ms && now - a->last_ok_ms <= limit;
	int code, n;

	if (strncmp(c->req, "GET /healthz ", 13) && strncmp(c->req, "GET /healthz?", 13) &&
	    strncmp(c->req, "HEAD /healthz ", 14)) {
		code = 404;
		status = "Not Found";
		n = snprintf(body, sizeof(body), "{\"error\":\"not found: only /healthz is served\"}\n");
	} else {
		code = ok ? 200 : 503;
		status = ok ? "OK" : "Service Unavailable";
		n = snprintf(body, sizeof(body),
			     "{\"status\":\"%s\",\"node\":\"%s\",\"last_scan_age_ms\":%lld,\"last_scan_ms\":%.1f,"
			     "\"scans\":%llu,\"scans_failed\":%llu,\"namespaces\":%zu,\"sockets\":%zu,"
			     "\"connected\":%s,\"sent_seq\":%llu,\"acked_seq\":%llu,\"queued_bytes\":%zu,"
			     "\"updates_coalesced\":%llu,\"scans_coalesced\":%llu,\"connects\":%llu,"
			     "\"connect_failures\":%llu,\"protocol_errors\":%llu,\"backend\":%s%s%s,"
			     "\"bpf_drops\":%llu,\"bpf_capped\":%llu}\n",
			     a->last_ok_ms ? (ok ? "ok" : "stale") : "starting", a->o.node,
			     a->last_ok_ms ? (long long)(now - a->last_ok_ms) : -1LL, a->last_scan_ms,
			     (unsigned long long)a->st.scans, (unsigned long long)a->st.scans_failed,
			     a->last_namespaces, a->last_sockets, a->state == CONN_READY ? "true" : "false",
			     (unsigned long long)a->seq, (unsigned long long)a->acked, conn_queued(a),
			     (unsigned long long)a->st.updates_coalesced, (unsigned long long)a->st.scans_coalesced,
			     (unsigned long long)a->st.connects, (unsigned long long)a->st.connect_failures,
			     (unsigned long long)a->st.protocol_errors, a->last_backend ? "\"" : "",
			     a->last_backend ? a->last_backend : "null", a->last_backend ? "\"" : "",
			     (unsigned long long)a->bpf_drops, (unsigned long long)a->bpf_capped);
	}
	if (n < 0 || (size_t)n >= sizeof(body))
		n = 0;
	int m = snprintf(c->resp, sizeof(c->resp),
			 "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
			 "Connection: close\r\nCache-Control: no-store\r\n\r\n%s",
			 code, status, n, !strncmp(c->req, "HEAD ", 5) ? "" : body);
	if (m < 0 || (size_t)m >= sizeof(c->resp)) {
		hconn_close(c);
		return;
	}
	uv_buf_t b = uv_buf_init(c->resp, (unsigned)m);
	c->wreq.data = c;
	uv_read_stop((uv_stream_t *)&c->tcp);
	if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_written) < 0)
		hconn_close(c);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct hconn *c = h->data;

	(void)suggested;
	*buf = uv_buf_init(c->req + c->len, (unsigned)(MAX_REQUEST - 1 - c->len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct hconn *c = s->data;

	(void)buf;
	if (n < 0) {
		hconn_close(c);
		return;
	}
	c->len += (size_t)n;
	c->req[c->len] = 0;
	if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n"))
		respond(c);
	else if (c->len >= MAX_REQUEST - 1)
		hconn_close(c);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct agent *a = server->data;
	struct hconn *c;

	if (status < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->a = a;
	uv_tcp_init(a->loop, &c->tcp);
	uv_timer_init(a->loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	a->health_conns++;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0 || a->health_conns > MAX_CONNS) {
		hconn_close(c);
		return;
	}
	uv_timer_start(&c->timer, on_timeout, 5000, 0);
	if (uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read) < 0)
		hconn_close(c);
}

int health_start(struct agent *a)
{
	struct sockaddr_storage ss;
	int r;

	r = uv_ip4_addr(a->o.health_host, a->o.health_port, (struct sockaddr_in *)&ss);
	if (r < 0)
		r = uv_ip6_addr(a->o.health_host, a->o.health_port, (struct sockaddr_in6 *)&ss);
	if (r < 0)
		return r;
	uv_tcp_init(a->loop, &a->health);
	a->health.data = a;
	a->health_on = true;
	r = uv_tcp_bind(&a->health, (const struct sockaddr *)&ss, 0);
	if (r >= 0)
		r = uv_listen((uv_stream_t *)&a->health, 64, on_connection);
	if (r >= 0) {
		struct sockaddr_storage got = {0};
		int len = sizeof(got);
		char ip[64];
		unsigned port;

		uv_tcp_getsockname(&a->health, (struct sockaddr *)&got, &len);
		nsn_sockaddr_name(&got, ip, sizeof(ip), &port);
		nsn_log(NSN_LOG_INFO, "event=health_listening addr=%s port=%u", ip, port);
	}
	return r;
}

void health_stop(struct agent *a)
{
	if (a->health_on && !uv_is_closing((uv_handle_t *)&a->health))
		uv_close((uv_handle_t *)&a->health, NULL);
}
