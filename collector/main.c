/* SPDX-License-Identifier: MIT */
/* nsnet-collector: options, the loop, signals, the once-a-second sweep. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "collector.h"
#include "log.h"
#include "util.h"

static const char usage_text[] =
	"Usage: nsnet-collector --listen HOST:PORT|[IPV6]:PORT|unix:PATH [options]\n"
	"Holds what every node's nsnet-agent streams; answers nsnetstat --collector.\n"
	"\n"
	"  -l, --listen ADDR        agents and queries connect here (HOST:PORT, [IPV6]:PORT,\n"
	"                           unix:PATH; port 0 picks one and logs it)\n"
	"      --http HOST:PORT     serve /metrics (Prometheus), /healthz and /query there\n"
	"      --token-file FILE    agents and queries must present this token\n"
	"      --tls-cert FILE      the collector's certificate (PEM) for mutual TLS on\n"
	"                           HOST:PORT: its SANs must name what clients dial\n"
	"      --tls-key FILE       its private key (PEM)\n"
	"      --tls-ca FILE        the CA every client certificate must chain to (PEM);\n"
	"                           an agent's certificate names its node (DNS SAN, else CN)\n"
	"      --tls-agent-any-node ID  a client certificate of identity ID may send for any\n"
	"                           node (one certificate shared by a DaemonSet: weaker)\n"
	"      --plaintext          accept agents and queries on HOST:PORT unencrypted\n"
	"      --stale-after SECS   a node whose agent sent nothing for this long is stale\n"
	"                           (default: 3 of its agent's scan intervals)\n"
	"      --forget-after SECS  a node whose agent sent nothing for this long is\n"
	"                           forgotten (default 3600; at least --stale-after)\n"
	"      --max-frame BYTES    largest frame accepted (default 16777216)\n"
	"      --max-connections N  connections held at most (default 16384)\n"
	"      --log-level LEVEL    error, warn, info (default) or debug\n"
	"  -h, --help               this help\n"
	"  -V, --version            print the version\n"
	"\n"
	"Signals: SIGTERM/SIGINT close every connection and exit 0.\n"
	"Logs: one key=value line per event on stderr.\n";

__attribute__((format(printf, 1, 2))) static int fail_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("nsnet-collector: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (try --help)\n", stderr);
	return 2;
}

uint64_t coll_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t coll_stale_ms(const struct collector *c, const struct cnode *n)
{
	struct nsn_store_node_info info;
	uint64_t interval = 10000;

	if (c->o.stale_after_s > 0)
		return (uint64_t)(c->o.stale_after_s * 1000);
	if (n->snode) {
		nsn_store_node_info(n->snode, &info);
		if (info.interval_ms)
			interval = info.interval_ms;
	}
	return 3 * interval;
}

static int parse_secs(const char *flag, const char *s, double *ret)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 86400.0 * 365)
		return fail_usage("%s '%s': expected seconds > 0", flag, s);
	*ret = v;
	return 0;
}

static int parse_uint(const char *flag, const char *s, unsigned long lo, unsigned long hi,
		      unsigned long *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < lo || v > hi)
		return fail_usage("%s '%s': expected a number from %lu to %lu", flag, s, lo, hi);
	*ret = v;
	return 0;
}

enum { OPT_HTTP = 256, OPT_TOKEN, OPT_STALE, OPT_FORGET, OPT_MAX_FRAME, OPT_MAX_CONNS, OPT_LOG, OPT_PLAINTEXT,
       OPT_TLS_CERT, OPT_TLS_KEY, OPT_TLS_CA, OPT_TLS_ANY };

static int parse_opts(int argc, char **argv, struct coll_opts *o)
{
	static const struct option longopts[] = {
		{"listen", required_argument, NULL, 'l'},
		{"http", required_argument, NULL, OPT_HTTP},
		{"token-file", required_argument, NULL, OPT_TOKEN},
		{"stale-after", required_argument, NULL, OPT_STALE},
		{"forget-after", required_argument, NULL, OPT_FORGET},
		{"max-frame", required_argument, NULL, OPT_MAX_FRAME},
		{"max-connections", required_argument, NULL, OPT_MAX_CONNS},
		{"log-level", required_argument, NULL, OPT_LOG},
		{"plaintext", no_argument, NULL, OPT_PLAINTEXT},
		{"tls-cert", required_argument, NULL, OPT_TLS_CERT},
		{"tls-key", required_argument, NULL, OPT_TLS_KEY},
		{"tls-ca", required_argument, NULL, OPT_TLS_CA},
		{"tls-agent-any-node", required_argument, NULL, OPT_TLS_ANY},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0},
	};
	struct nsn_hostport a;
	char err[512];
	unsigned long v;
	int c, r;

	o->forget_after_s = 3600;
	o->max_frame = NSN_FRAME_MAX_DEFAULT;
	o->max_conns = 16384;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":l:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'l': o->listen = optarg; break;
		case OPT_HTTP: o->http = optarg; break;
		case OPT_TOKEN: o->token_file = optarg; break;
		case OPT_PLAINTEXT: o->plaintext = true; break;
		case OPT_TLS_CERT: o->tls.cert = optarg; break;
		case OPT_TLS_KEY: o->tls.key = optarg; break;
		case OPT_TLS_CA: o->tls.ca = optarg; break;
		case OPT_TLS_ANY:
			if (!*optarg)
				return fail_usage("--tls-agent-any-node: empty identity");
			o->tls_agent_any_node = optarg;
			break;
		case OPT_STALE:
			if ((r = parse_secs("--stale-after", optarg, &o->stale_after_s)))
				return r;
			break;
		case OPT_FORGET:
			if ((r = parse_secs("--forget-after", optarg, &o->forget_after_s)))
				return r;
			break;
		case OPT_MAX_FRAME:
			if ((r = parse_uint("--max-frame", optarg, 65536, NSN_FRAME_MAX_LIMIT, &v)))
				return r;
			o->max_frame = (uint32_t)v;
			break;
		case OPT_MAX_CONNS:
			if ((r = parse_uint("--max-connections", optarg, 1, 1000000, &v)))
				return r;
			o->max_conns = (unsigned)v;
			break;
		case OPT_LOG:
			if ((r = nsn_log_level_parse(optarg)) < 0)
				return fail_usage("--log-level '%s': expected error, warn, info or debug", optarg);
			nsn_log_threshold = r;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 1;
		case 'V':
			puts("nsnet-collector " NSN_VERSION);
			return 1;
		case ':':
			return fail_usage("option '%s' needs an argument", argv[optind - 1]);
		default:
			if (optopt && optopt < 256)
				return fail_usage("unknown option '-%c'", optopt);
			return fail_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return fail_usage("unexpected argument '%s'", argv[optind]);
	if (!o->listen)
		return fail_usage("--listen HOST:PORT|unix:PATH is required");
	if (nsn_addr_parse(o->listen, true, &a, err, sizeof(err)) < 0)
		return fail_usage("--listen %s", err);
	o->listen_unix = a.unix_path;
	snprintf(o->listen_host, sizeof(o->listen_host), "%s", a.host);
	o->listen_port = a.unix_path ? 0 : atoi(a.port);
	if (o->http) {
		if (nsn_addr_parse(o->http, false, &a, err, sizeof(err)) < 0)
			return fail_usage("--http %s", err);
		snprintf(o->http_host, sizeof(o->http_host), "%s", a.host);
		o->http_port = atoi(a.port);
	}
	if (o->stale_after_s > 0 && o->forget_after_s < o->stale_after_s)
		return fail_usage("--forget-after %g is shorter than --stale-after %g", o->forget_after_s,
				  o->stale_after_s);
	if (o->token_file) {
		r = nsn_token_read(o->token_file, &o->token, &o->token_len, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "nsnet-collector: --token-file %s: %s\n", o->token_file, err);
			return 2;
		}
	}
	/* Last, so that what is wrong with the other flags is said first. */
	{
		if (nsn_tls_flags_check(&o->tls, o->plaintext, "--listen", o->listen, o->listen_unix,
					"accept agents and queries unencrypted", err, sizeof(err)) < 0)
			return fail_usage("%s", err);
	}
	if (o->tls_agent_any_node && !o->tls.cert)
		return fail_usage("--tls-agent-any-node needs --tls-cert/--tls-key/--tls-ca");
	return 0;
}

/* 1,000+ agents need more descriptors than the usual soft limit of 1024. */
static void raise_nofile(unsigned want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	rlim_t goal = (rlim_t)want + 64;
	if (rl.rlim_cur >= goal)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > goal ? goal : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < goal)
		nsn_log(NSN_LOG_WARN, "event=nofile_limit limit=%llu wanted=%llu",
			(unsigned long long)rl.rlim_cur, (unsigned long long)goal);
}

static void on_sweep(uv_timer_t *t)
{
	server_sweep(t->data);
}

static void stop(struct collector *c, const char *why)
{
	if (c->stopping)
		return;
	c->stopping = true;
	nsn_log(NSN_LOG_INFO, "event=stopping signal=%s", why);
	uv_timer_stop(&c->sweep);
	uv_close((uv_handle_t *)&c->sweep, NULL);
	uv_close((uv_handle_t *)&c->sig_term, NULL);
	uv_close((uv_handle_t *)&c->sig_int, NULL);
	http_stop(c);
	server_stop(c);
}

static void on_signal(uv_signal_t *s, int signum)
{
	stop(s->data, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

static void close_all(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

int main(int argc, char **argv)
{
	struct collector c = {0};
	int r;

	r = parse_opts(argc, argv, &c.o);
	if (r) {
		free(c.o.token);
		return r == 1 ? 0 : r;
	}
	if (c.o.tls.cert) {
		char err[600];

		if (nsn_tls_ctx_new(NSN_TLS_SERVER, &c.o.tls, &c.tls_ctx, err, sizeof(err)) < 0) {
			fprintf(stderr, "nsnet-collector: %s\n", err);
			free(c.o.token);
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	snprintf(c.version, sizeof(c.version), "%s", NSN_VERSION);
	raise_nofile(c.o.max_conns);
	c.loop = uv_default_loop();
	c.store = nsn_store_new();
	if (!c.store) {
		fprintf(stderr, "nsnet-collector: %s\n", strerror(ENOMEM));
		nsn_tls_ctx_free(c.tls_ctx);
		free(c.o.token);
		return 1;
	}
	/* Signals first: whoever reads "event=listening" may signal us at once. */
	uv_timer_init(c.loop, &c.sweep);
	c.sweep.data = &c;
	uv_timer_start(&c.sweep, on_sweep, 1000, 1000);
	uv_signal_init(c.loop, &c.sig_term);
	uv_signal_init(c.loop, &c.sig_int);
	c.sig_term.data = c.sig_int.data = &c;
	uv_signal_start(&c.sig_term, on_signal, SIGTERM);
	uv_signal_start(&c.sig_int, on_signal, SIGINT);
	r = server_start(&c);
	if (r < 0) {
		fprintf(stderr, "nsnet-collector: --listen %s: %s\n", c.o.listen, uv_strerror(r));
		goto out;
	}
	if (c.o.http && (r = http_start(&c)) < 0) {
		fprintf(stderr, "nsnet-collector: --http %s: %s\n", c.o.http, uv_strerror(r));
		server_stop(&c);
		goto out;
	}
	nsn_log(NSN_LOG_INFO, "event=started version=%s max_frame=%u auth=%s%s%s stale_after=%s forget_after=%g",
		c.version, c.o.max_frame, c.tls_ctx ? "tls" : "", c.tls_ctx && c.o.token ? "+" : "",
		c.o.token ? "token" : c.tls_ctx ? "" : "none",
		c.o.stale_after_s > 0 ? "fixed" : "3_intervals", c.o.forget_after_s);
	uv_run(c.loop, UV_RUN_DEFAULT);
	r = 0;
out:
	uv_walk(c.loop, close_all, NULL);
	uv_run(c.loop, UV_RUN_DEFAULT);
	uv_loop_close(c.loop);
	for (size_t i = 0; i < c.n_nodes; i++) {
		free(c.nodes[i]->name);
		free(c.nodes[i]);
	}
	free(c.nodes);
	nsn_store_free(c.store);
	nsn_tls_ctx_free(c.tls_ctx);
	free(c.o.token);
	if (r == 0)
		nsn_log(NSN_LOG_INFO, "event=stopped");
	return r < 0 ? 1 : 0;
}
