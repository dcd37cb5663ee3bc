/* SPDX-License-Identifier: MIT */
/* Fuzz target for what a query asks: the words of a Query's args, which nsnet-collector
 * parses with nsnetstat's own option parser (agent/cli/options.c, as collector/query.c
 * does: remote mode, output to a memory stream, --collector/--from/--host-root refused
 * first), and the ss filter expression among them (agent/lib/filter.c), which is then
 * evaluated against every socket a query reads.
 *
 * Input: the words, separated by NUL bytes (an empty word is a word; a word can hold
 * anything else, as a Query's strings can). At most MAX_WORDS are taken.
 *
 * Each input is parsed twice: as a whole command line through cli_parse(), and as a
 * bare filter through nsn_filter_parse() (the words nsnetstat takes after its options).
 * Every filter that parses is evaluated against a fixed set of sockets of every kind.
 * Beyond "no crash, no leak", the parsers' promises abort: cli_parse() returns 0, 1
 * or 2 with one line of text for 2; a filter error names a word within the input and
 * says something; and evaluation is consistent: "not ( E )" matches exactly the
 * sockets E does not, and "E or E", "E and E" match what E matches. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cli.h"
#include "fuzz.h"

#define MAX_WORDS 64

/* Sockets of every kind the filter distinguishes: families, v4-mapped, ports at the
 * edges, a device by name and index, unix paths (named, abstract, unnamed). */
static struct nsn_sock socks[10];

static void socks_init(void)
{
	static bool done;
	struct nsn_sock *s = socks;

	if (done)
		return;
	done = true;
	/* tcp 10.0.0.1:443 <- 192.168.1.20:50000, ESTAB, bound to eth0 (ifindex 2) */
	*s = (struct nsn_sock){.proto = NSN_PROTO_TCP,
			       .family = AF_INET,
			       .state = NSN_SS_ESTABLISHED,
			       .type = SOCK_STREAM,
			       .v6only = -1,
			       .inode = 1001,
			       .ifindex = 2,
			       .dev = "eth0",
			       .local = {{10, 0, 0, 1}, 443},
			       .peer = {{192, 168, 1, 20}, 50000}};
	s++;
	/* tcp6 [::]:80 LISTEN */
	*s = (struct nsn_sock){.proto = NSN_PROTO_TCP,
			       .family = AF_INET6,
			       .state = NSN_SS_LISTEN,
			       .type = SOCK_STREAM,
			       .v6only = 0,
			       .inode = 1002,
			       .local = {{0}, 80}};
	s++;
	/* tcp6 [::ffff:10.1.2.3]:8080 <- [::ffff:10.0.0.9]:1 (v4-mapped) */
	*s = (struct nsn_sock){
	    .proto = NSN_PROTO_TCP,
	    .family = AF_INET6,
	    .state = NSN_SS_ESTABLISHED,
	    .type = SOCK_STREAM,
	    .v6only = 0,
	    .inode = 1003,
	    .local = {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3}, 8080},
	    .peer = {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 9}, 1}};
	s++;
	/* tcp6 [2001:db8::1]:65535 <- [fe80::1]:22, TIME-WAIT, no inode */
	*s = (struct nsn_sock){.proto = NSN_PROTO_TCP,
			       .family = AF_INET6,
			       .state = NSN_SS_TIME_WAIT,
			       .type = SOCK_STREAM,
			       .v6only = -1,
			       .ifindex = 7,
			       .local = {{0x20, 0x01, 0x0d, 0xb8, [15] = 1}, 65535},
			       .peer = {{0xfe, 0x80, [15] = 1}, 22}};
	s++;
	/* udp 127.0.0.53:53 UNCONN, port 0 peer */
	*s = (struct nsn_sock){.proto = NSN_PROTO_UDP,
			       .family = AF_INET,
			       .state = NSN_SS_CLOSE,
			       .type = SOCK_DGRAM,
			       .v6only = -1,
			       .inode = 1005,
			       .local = {{127, 0, 0, 53}, 53},
			       .peer = {{0}, 0}};
	s++;
	/* raw 0.0.0.0:icmp (port is the protocol) */
	*s = (struct nsn_sock){.proto = NSN_PROTO_RAW,
			       .family = AF_INET,
			       .state = NSN_SS_CLOSE,
			       .type = SOCK_RAW,
			       .v6only = -1,
			       .inode = 1006,
			       .local = {{0}, 1}};
	s++;
	/* unix stream /run/containerd/containerd.sock LISTEN */
	*s = (struct nsn_sock){.proto = NSN_PROTO_UNIX,
			       .family = AF_UNIX,
			       .state = NSN_SS_LISTEN,
			       .type = SOCK_STREAM,
			       .v6only = -1,
			       .inode = 1007,
			       .path = "/run/containerd/containerd.sock"};
	s++;
	/* unix abstract @/tmp/.X11-unix/X0, a glob's metacharacters in a name */
	*s = (struct nsn_sock){.proto = NSN_PROTO_UNIX,
			       .family = AF_UNIX,
			       .state = NSN_SS_ESTABLISHED,
			       .type = SOCK_SEQPACKET,
			       .v6only = -1,
			       .inode = 1008,
			       .peer_inode = 1009,
			       .path = "@/tmp/.X11-unix/X0[*?]"};
	s++;
	/* unix unnamed */
	*s = (struct nsn_sock){.proto = NSN_PROTO_UNIX,
			       .family = AF_UNIX,
			       .state = NSN_SS_ESTABLISHED,
			       .type = SOCK_DGRAM,
			       .v6only = -1,
			       .inode = 1009,
			       .peer_inode = 1008};
	s++;
	/* udp6 [fe80::1]:546 bound to a device known only by index */
	*s = (struct nsn_sock){.proto = NSN_PROTO_UDP,
			       .family = AF_INET6,
			       .state = NSN_SS_CLOSE,
			       .type = SOCK_DGRAM,
			       .v6only = 1,
			       .inode = 1010,
			       .ifindex = 3,
			       .local = {{0xfe, 0x80, [15] = 1}, 546}};
}

/* Which of socks[] @p f matches, as a bit mask. */
static unsigned matches(const struct nsn_filter *f)
{
	unsigned m = 0;

	for (size_t i = 0; i < NSN_ARRAY_LEN(socks); i++)
		if (nsn_filter_match(f, &socks[i]))
			m |= 1u << i;
	return m;
}

/* @p words wrapped as @p pre..., words..., @p post...: a new filter or NULL when it does
 * not parse (too deep a nesting for the wrapper, say). */
static struct nsn_filter *parse_wrapped(char **words, int n, char *const *pre, int n_pre,
					char *const *post, int n_post)
{
	char *v[MAX_WORDS * 2 + 8];
	struct nsn_filter *f = NULL;
	int k = 0;

	for (int i = 0; i < n_pre; i++)
		v[k++] = pre[i];
	for (int i = 0; i < n; i++)
		v[k++] = words[i];
	for (int i = 0; i < n_post; i++)
		v[k++] = post[i];
	if (nsn_filter_parse(k, v, &f, NULL) < 0)
		return NULL;
	return f;
}

/* The words as a filter alone (what nsnetstat takes after its options). */
static void fuzz_filter(char **words, int n)
{
	struct nsn_filter_error err;
	struct nsn_filter *f = NULL, *g;
	unsigned m;
	int r;

	memset(&err, 0xa5, sizeof(err));
	r = nsn_filter_parse(n, words, &f, &err);
	FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENOMEM);
	if (r < 0) {
		FUZZ_CHECK(f == NULL);
		FUZZ_CHECK(err.argi >= 0 && err.argi <= n);
		FUZZ_CHECK(memchr(err.msg, '\0', sizeof(err.msg)) && err.msg[0]);
		return;
	}
	FUZZ_CHECK(f != NULL);
	FUZZ_CHECK((nsn_filter_states(f) & ~NSN_STATES_ALL) == 0);
	m = matches(f);
	if (!nsn_filter_has_expr(f)) {
		FUZZ_CHECK(m == (1u << NSN_ARRAY_LEN(socks)) - 1);
		nsn_filter_free(f);
		return;
	}

	/* State words come first and are not part of the expression: wrap only the rest,
	 * which is everything when the filter has no states. */
	if (nsn_filter_states(f) == 0) {
		static char *const not_open[] = {"not", "("}, *const close[] = {")"};
		static char *const or_[] = {"or"}, *const and_[] = {"and"};
		char *twice[MAX_WORDS * 2 + 8];

		g = parse_wrapped(words, n, not_open, 2, close, 1);
		if (g) {
			FUZZ_CHECK(matches(g) == (~m & ((1u << NSN_ARRAY_LEN(socks)) - 1)));
			nsn_filter_free(g);
		}
		/* "( E ) or ( E )" and the same with and: built by hand, E twice. */
		for (int op = 0; op < 2; op++) {
			int k = 0;

			twice[k++] = "(";
			for (int i = 0; i < n; i++)
				twice[k++] = words[i];
			twice[k++] = ")";
			twice[k++] = op ? and_[0] : or_[0];
			twice[k++] = "(";
			for (int i = 0; i < n; i++)
				twice[k++] = words[i];
			g = parse_wrapped(twice, k, NULL, 0, close, 1);
			if (g) {
				FUZZ_CHECK(matches(g) == m);
				nsn_filter_free(g);
			}
		}
	}
	nsn_filter_free(f);
}

/* A fixed set of containers the --pod, --k8s-namespace, --container and --runtime
 * filter is tried against. */
static void fuzz_cfilter(const struct nsn_container_filter *cf)
{
	static const struct nsn_container ctrs[] = {
	    {.id = "3f1a9c0b7d2e4f6a8b0c2d4e6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a",
	     .runtime = "containerd",
	     .name = "api",
	     .pod_name = "api-7f9c",
	     .pod_namespace = "payments",
	     .pod_uid = "9a50e2f3-3472-4769-9d51-a757cec74782"},
	    {.id = "de1df48ae24415a49f4bab0a5f22bcd66b930db7010b41577c51879b31ffe5b1",
	     .runtime = "podman",
	     .name = "rcfx-20002"},
	    {.id = "0123456789ab"}, /* what a decoded scan leaves NULL is unknown */
	};

	for (size_t i = 0; i < NSN_ARRAY_LEN(ctrs); i++)
		(void)nsn_container_match(cf, &ctrs[i]);
	(void)nsn_container_match(cf, NULL);
}

/* The words as a collector's query: collector/query.c's query_prepare(). */
static void fuzz_query(char **words, int n)
{
	char *argv[MAX_WORDS + 2];
	struct cli_opts o = {0};
	char *text = NULL;
	size_t text_len = 0;
	FILE *f;
	int r;

	argv[0] = "nsnetstat";
	for (int i = 0; i < n; i++) {
		if (!strcmp(words[i], "--collector") || !strncmp(words[i], "--collector=", 12) ||
		    !strcmp(words[i], "--from") || !strncmp(words[i], "--from=", 7) ||
		    !strcmp(words[i], "--host-root") || !strncmp(words[i], "--host-root=", 12))
			return; /* refused before parsing */
		argv[i + 1] = words[i];
	}
	argv[n + 1] = NULL;

	f = open_memstream(&text, &text_len);
	if (!f)
		abort();
	o.out = o.err = f;
	o.remote = true;
	r = cli_parse(n + 1, argv, &o);
	fclose(f);
	FUZZ_CHECK(r == 0 || r == 1 || r == 2);
	if (r == 2) {
		/* One line: the collector sends the first as its Error (a newline inside a
		 * word it quotes may make more; never none). */
		FUZZ_CHECK(text && text_len > 0 && text[text_len - 1] == '\n');
	} else if (r == 0) {
		FUZZ_CHECK(o.remote);
		FUZZ_CHECK((o.gather.states & ~NSN_STATES_ALL) == 0 && o.gather.states);
		(void)matches(o.filter);
		for (size_t i = 0; i < NSN_ARRAY_LEN(socks); i++)
			(void)cli_sock_visible(&o, &socks[i]);
		fuzz_cfilter(&o.cfilter);
	}
	free(text);
	cli_opts_release(&o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *words[MAX_WORDS];
	int n = 0;

	socks_init();
	/* NUL-terminated words in a copy: the last one may lack its NUL. */
	buf = malloc(size + 1);
	if (!buf)
		abort();
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (size_t off = 0; size > 0 && off <= size && n < MAX_WORDS;) {
		words[n++] = buf + off;
		off += strlen(buf + off) + 1;
		if (off == size && data[size - 1] == '\0')
			break; /* a final NUL ends the last word; it starts no empty one */
	}
	fuzz_filter(words, n);
	fuzz_query(words, n);
	for (int i = 0; i < n; i++)
		(void)nsn_state_mask_parse(words[i]);
	free(buf);
	return 0;
}
