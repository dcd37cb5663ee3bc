/* SPDX-License-Identifier: MIT */
/* Unit tests for agent/lib/filter.c: ss state words and filter expressions. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <sys/socket.h>

#include <nsnet/filter.h>

#include "tap.h"

#define B(s) (1u << (s))

/* Parse a NULL-terminated word list; the filter (or NULL) goes to *ret. */
static int parse_words(const char *const *words, struct nsn_filter **ret,
		       struct nsn_filter_error *err)
{
	int argc = 0;

	while (words[argc])
		argc++;
	return nsn_filter_parse(argc, (char *const *)words, ret, err);
}

#define WORDS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Parse, expecting success. */
static struct nsn_filter *parse_ok(const char *const *words)
{
	struct nsn_filter *f = NULL;
	struct nsn_filter_error err;
	int r = parse_words(words, &f, &err);

	if (r != 0)
		fprintf(stderr, "# parse failed at argi %d: %s\n", err.argi, err.msg);
	ASSERT_EQ(r, 0);
	return f;
}

/* Does the filter given by the words match the socket? Parse errors fail the test. */
static bool matches(const char *const *words, const struct nsn_sock *s)
{
	struct nsn_filter *f = parse_ok(words);
	bool m = f && nsn_filter_match(f, s);

	ASSERT_TRUE(f != NULL);
	nsn_filter_free(f);
	return m;
}

static unsigned states_of(const char *const *words)
{
	struct nsn_filter *f = parse_ok(words);
	unsigned m = nsn_filter_states(f);

	nsn_filter_free(f);
	return m;
}

/* Parse, expecting -EINVAL with this argi and (when msg is not NULL) this message. */
static void parse_fails(const char *const *words, int argi, const char *msg)
{
	struct nsn_filter *f = (struct nsn_filter *)&f; /* must be reset to NULL */
	struct nsn_filter_error err;

	ASSERT_EQ(parse_words(words, &f, &err), -EINVAL);
	ASSERT_TRUE(f == NULL);
	ASSERT_EQ(err.argi, argi);
	if (msg)
		ASSERT_STREQ(err.msg, msg);
	ASSERT_TRUE(err.msg[0] != '\0');
}

static struct nsn_sock inet_sock(int family, const char *laddr, uint16_t lport,
				 const char *paddr, uint16_t pport)
{
	struct nsn_sock s = {.proto = NSN_PROTO_TCP, .family = (uint8_t)family,
			     .state = NSN_SS_ESTABLISHED, .v6only = -1};

	ASSERT_EQ(inet_pton(family, laddr, s.local.addr), 1);
	ASSERT_EQ(inet_pton(family, paddr, s.peer.addr), 1);
	s.local.port = lport;
	s.peer.port = pport;
	return s;
}

static struct nsn_sock tcp4(const char *laddr, uint16_t lport, const char *paddr,
			    uint16_t pport)
{
	return inet_sock(AF_INET, laddr, lport, paddr, pport);
}

static struct nsn_sock tcp6(const char *laddr, uint16_t lport, const char *paddr,
			    uint16_t pport)
{
	return inet_sock(AF_INET6, laddr, lport, paddr, pport);
}

static struct nsn_sock unix_sock(const char *path)
{
	return (struct nsn_sock){.proto = NSN_PROTO_UNIX, .family = AF_UNIX,
				 .type = SOCK_STREAM, .state = NSN_SS_LISTEN, .path = path};
}

TEST(state_words)
{
	static const struct {
		const char *word;
		unsigned mask;
	} cases[] = {
		{"established", B(NSN_SS_ESTABLISHED)}, {"syn-sent", B(NSN_SS_SYN_SENT)},
		{"syn-recv", B(NSN_SS_SYN_RECV)},       {"syn-rcv", B(NSN_SS_SYN_RECV)},
		{"fin-wait-1", B(NSN_SS_FIN_WAIT1)},    {"fin-wait-2", B(NSN_SS_FIN_WAIT2)},
		{"time-wait", B(NSN_SS_TIME_WAIT)},     {"closed", B(NSN_SS_CLOSE)},
		{"close", B(NSN_SS_CLOSE)},             {"unconnected", B(NSN_SS_CLOSE)},
		{"close-wait", B(NSN_SS_CLOSE_WAIT)},   {"last-ack", B(NSN_SS_LAST_ACK)},
		{"listening", B(NSN_SS_LISTEN)},        {"listen", B(NSN_SS_LISTEN)},
		{"closing", B(NSN_SS_CLOSING)},         {"ESTABLISHED", B(NSN_SS_ESTABLISHED)},
		{"Listening", B(NSN_SS_LISTEN)},        {"Time-Wait", B(NSN_SS_TIME_WAIT)},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ASSERT_EQ(nsn_state_mask_parse(cases[i].word), cases[i].mask);
	ASSERT_EQ(nsn_state_mask_parse("bogus"), 0);
	ASSERT_EQ(nsn_state_mask_parse(""), 0);
	ASSERT_EQ(nsn_state_mask_parse("establishe"), 0);
	ASSERT_EQ(nsn_state_mask_parse(NULL), 0);
}

TEST(state_groups)
{
	ASSERT_EQ(nsn_state_mask_parse("all"), 0xFFF);
	ASSERT_EQ(nsn_state_mask_parse("ALL"), 0xFFF);
	ASSERT_EQ(nsn_state_mask_parse("connected"),
		  0xFFF & ~(B(NSN_SS_CLOSE) | B(NSN_SS_LISTEN)));
	ASSERT_EQ(nsn_state_mask_parse("synchronized"),
		  0xFFF & ~(B(NSN_SS_CLOSE) | B(NSN_SS_LISTEN) | B(NSN_SS_SYN_SENT)));
	ASSERT_EQ(nsn_state_mask_parse("bucket"), B(NSN_SS_SYN_RECV) | B(NSN_SS_TIME_WAIT));
	ASSERT_EQ(nsn_state_mask_parse("big"),
		  0xFFF & ~(B(NSN_SS_SYN_RECV) | B(NSN_SS_TIME_WAIT)));
}

TEST(state_filter)
{
	ASSERT_EQ(states_of(WORDS("state", "established")), B(NSN_SS_ESTABLISHED));
	ASSERT_EQ(states_of(WORDS("state", "established", "state", "listening")),
		  B(NSN_SS_ESTABLISHED) | B(NSN_SS_LISTEN));
	ASSERT_EQ(states_of(WORDS("state", "connected", "state", "close")),
		  0xFFF & ~B(NSN_SS_LISTEN));
	/* The first "exclude" starts from every state. */
	ASSERT_EQ(states_of(WORDS("exclude", "listening")), 0xFFF & ~B(NSN_SS_LISTEN));
	ASSERT_EQ(states_of(WORDS("excl", "time-wait", "exclude", "syn-recv")),
		  0xFFF & ~(B(NSN_SS_TIME_WAIT) | B(NSN_SS_SYN_RECV)));
	ASSERT_EQ(states_of(WORDS("exclude", "bucket")), nsn_state_mask_parse("big"));
	/* After a "state" word, "exclude" only clears bits. */
	ASSERT_EQ(states_of(WORDS("state", "connected", "exclude", "established")),
		  nsn_state_mask_parse("connected") & ~B(NSN_SS_ESTABLISHED));
	/* A "state" after an "exclude" adds back. */
	ASSERT_EQ(states_of(WORDS("exclude", "all", "state", "listen")), B(NSN_SS_LISTEN));
	ASSERT_EQ(states_of(WORDS("state", "all")), 0xFFF);
	ASSERT_EQ(states_of(WORDS("state", "SYN-SENT")), B(NSN_SS_SYN_SENT));

	/* No state words: 0, and the expression alone. */
	struct nsn_filter *f = parse_ok(WORDS("dport", "=", ":22"));

	ASSERT_EQ(nsn_filter_states(f), 0);
	ASSERT_TRUE(nsn_filter_has_expr(f));
	nsn_filter_free(f);

	/* State words then an expression. */
	f = parse_ok(WORDS("state", "established", "(", "dport", "=", ":ssh", ")"));
	ASSERT_EQ(nsn_filter_states(f), B(NSN_SS_ESTABLISHED));
	ASSERT_TRUE(nsn_filter_has_expr(f));
	nsn_filter_free(f);

	/* State words only: no expression, everything matches. */
	f = parse_ok(WORDS("state", "listening"));
	struct nsn_sock s = tcp4("1.2.3.4", 1, "5.6.7.8", 2);

	ASSERT_TRUE(!nsn_filter_has_expr(f));
	ASSERT_TRUE(nsn_filter_match(f, &s));
	nsn_filter_free(f);
}

TEST(empty_and_null)
{
	struct nsn_filter *f = NULL;
	struct nsn_sock s = tcp4("1.2.3.4", 1, "5.6.7.8", 2);

	ASSERT_EQ(nsn_filter_parse(0, NULL, &f, NULL), 0);
	ASSERT_TRUE(f != NULL);
	ASSERT_EQ(nsn_filter_states(f), 0);
	ASSERT_TRUE(!nsn_filter_has_expr(f));
	ASSERT_TRUE(nsn_filter_match(f, &s));
	nsn_filter_free(f);

	ASSERT_TRUE(nsn_filter_match(NULL, &s));
	ASSERT_TRUE(!nsn_filter_has_expr(NULL));
	ASSERT_EQ(nsn_filter_states(NULL), 0);
	nsn_filter_free(NULL);
	ASSERT_EQ(nsn_filter_parse(0, NULL, NULL, NULL), -EINVAL);
	ASSERT_EQ(nsn_filter_parse(-1, NULL, &f, NULL), -EINVAL);
	ASSERT_TRUE(f == NULL);

	/* Whitespace-only words are no expression either. */
	f = parse_ok(WORDS(" ", ""));
	ASSERT_TRUE(!nsn_filter_has_expr(f));
	nsn_filter_free(f);
}

TEST(port_operators)
{
	static const struct {
		const char *op;
		bool lt, eq, gt; /* result for ports 442, 443, 444 against 443 */
	} ops[] = {
		{"=", 0, 1, 0},  {"==", 0, 1, 0}, {"eq", 0, 1, 0},  {"!=", 1, 0, 1},
		{"ne", 1, 0, 1}, {"neq", 1, 0, 1}, {">", 0, 0, 1},  {"gt", 0, 0, 1},
		{"<", 1, 0, 0},  {"lt", 1, 0, 0}, {">=", 0, 1, 1}, {"ge", 0, 1, 1},
		{"geq", 0, 1, 1}, {"<=", 1, 1, 0}, {"le", 1, 1, 0}, {"leq", 1, 1, 0},
	};

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		struct nsn_sock lo = tcp4("10.0.0.1", 442, "10.0.0.2", 442);
		struct nsn_sock eq = tcp4("10.0.0.1", 443, "10.0.0.2", 443);
		struct nsn_sock hi = tcp4("10.0.0.1", 444, "10.0.0.2", 444);
		const char *const *sw = WORDS("sport", ops[i].op, ":443");
		const char *const *dw = WORDS("dport", ops[i].op, "443");

		ASSERT_EQ(matches(sw, &lo), ops[i].lt);
		ASSERT_EQ(matches(sw, &eq), ops[i].eq);
		ASSERT_EQ(matches(sw, &hi), ops[i].gt);
		ASSERT_EQ(matches(dw, &lo), ops[i].lt);
		ASSERT_EQ(matches(dw, &eq), ops[i].eq);
		ASSERT_EQ(matches(dw, &hi), ops[i].gt);
	}
}

TEST(port_side_and_spec)
{
	struct nsn_sock s = tcp4("10.0.0.1", 22, "10.0.0.2", 50000);

	/* sport is the local port, dport the peer's. */
	ASSERT_TRUE(matches(WORDS("sport", "=", ":22"), &s));
	ASSERT_TRUE(!matches(WORDS("dport", "=", ":22"), &s));
	ASSERT_TRUE(matches(WORDS("dport", "=", "50000"), &s));
	ASSERT_TRUE(matches(WORDS("sport", "=", ":0022"), &s));
	ASSERT_TRUE(matches(WORDS("dport", ">", ":1023"), &s));
	/* Service names, when this system has them. */
	if (getservbyname("ssh", "tcp")) {
		ASSERT_TRUE(matches(WORDS("sport", "=", ":ssh"), &s));
		ASSERT_TRUE(matches(WORDS("sport", "eq", "ssh"), &s));
	}
	if (getservbyname("https", "tcp")) {
		struct nsn_sock h = tcp4("10.0.0.1", 443, "10.0.0.2", 1);

		ASSERT_TRUE(matches(WORDS("sport", "=", ":https"), &h));
	}
	/* Edges. */
	struct nsn_sock z = tcp4("0.0.0.0", 0, "0.0.0.0", 65535);

	ASSERT_TRUE(matches(WORDS("sport", "=", ":0"), &z));
	ASSERT_TRUE(matches(WORDS("dport", "=", ":65535"), &z));
	ASSERT_TRUE(matches(WORDS("dport", ">=", ":65535"), &z));
	ASSERT_TRUE(!matches(WORDS("sport", "<", ":0"), &z));
}

TEST(boolean_logic)
{
	struct nsn_sock s = tcp4("10.0.0.1", 1, "10.0.0.2", 2);

	ASSERT_TRUE(matches(WORDS("sport", "=", ":1", "and", "dport", "=", ":2"), &s));
	ASSERT_TRUE(!matches(WORDS("sport", "=", ":1", "and", "dport", "=", ":3"), &s));
	ASSERT_TRUE(matches(WORDS("sport", "=", ":1", "&&", "dport", "=", ":2"), &s));
	ASSERT_TRUE(matches(WORDS("sport", "=", ":1", "&", "dport", "=", ":2"), &s));
	/* Juxtaposition is "and". */
	ASSERT_TRUE(matches(WORDS("sport", "=", ":1", "dport", "=", ":2"), &s));
	ASSERT_TRUE(!matches(WORDS("sport", "=", ":1", "dport", "=", ":3"), &s));

	ASSERT_TRUE(matches(WORDS("sport", "=", ":9", "or", "dport", "=", ":2"), &s));
	ASSERT_TRUE(matches(WORDS("sport", "=", ":9", "||", "dport", "=", ":2"), &s));
	ASSERT_TRUE(matches(WORDS("sport", "=", ":9", "|", "dport", "=", ":2"), &s));
	ASSERT_TRUE(!matches(WORDS("sport", "=", ":9", "or", "dport", "=", ":9"), &s));

	ASSERT_TRUE(!matches(WORDS("not", "sport", "=", ":1"), &s));
	ASSERT_TRUE(!matches(WORDS("!", "sport", "=", ":1"), &s));
	ASSERT_TRUE(matches(WORDS("not", "not", "sport", "=", ":1"), &s));
	ASSERT_TRUE(matches(WORDS("!", "sport", "=", ":9"), &s));

	/* "and" binds tighter than "or": 9 or (1 and 9) is false, (9 or 1) and 9 would be
	 * false too, so use a case where they differ: 1 or (9 and 9) is true. */
	ASSERT_TRUE(matches(WORDS("sport", "=", ":1", "or", "sport", "=", ":9", "and",
				  "dport", "=", ":9"),
			    &s));
	ASSERT_TRUE(!matches(WORDS("(", "sport", "=", ":1", "or", "sport", "=", ":9", ")",
				   "and", "dport", "=", ":9"),
			     &s));
	/* And juxtaposition binds like "and". */
	ASSERT_TRUE(matches(WORDS("sport", "=", ":1", "or", "sport", "=", ":9", "dport", "=",
				  ":9"),
			    &s));
	/* "not" binds tighter than "and"/"or". */
	ASSERT_TRUE(matches(WORDS("not", "sport", "=", ":9", "and", "dport", "=", ":2"), &s));
	ASSERT_TRUE(matches(WORDS("not", "sport", "=", ":1", "or", "dport", "=", ":2"), &s));
	ASSERT_TRUE(!matches(WORDS("not", "(", "sport", "=", ":1", "or", "dport", "=", ":2",
				   ")"),
			     &s));
	/* Nested parentheses. */
	ASSERT_TRUE(matches(WORDS("(", "(", "sport", "=", ":1", ")", ")"), &s));
	ASSERT_TRUE(matches(WORDS("(", "sport", "=", ":9", "or", "(", "dport", "=", ":2",
				  "and", "sport", "<", ":5", ")", ")"),
			    &s));
}

TEST(glued_tokens)
{
	struct nsn_sock s = tcp4("10.0.0.1", 443, "10.0.0.2", 50000);
	struct nsn_sock t = tcp4("10.0.0.1", 50000, "10.0.0.2", 443);
	struct nsn_sock u = tcp4("10.0.0.1", 1, "10.0.0.2", 2);

	/* ss users' spellings of one filter. */
	const char *const *forms[] = {
		WORDS("(", "dport", "=", ":443", "or", "sport", "=", ":443", ")"),
		WORDS("( dport = :443 or sport = :443 )"),
		WORDS("(dport = :443 or sport = :443)"),
		WORDS("(dport", "=", ":443", "or", "sport", "=", ":443)"),
		WORDS("(dport=:443", "or", "sport=:443)"),
		WORDS("(dport==:443||sport==:443)"),
		WORDS("dport=:443||sport=:443"),
		WORDS("dport", "eq", ":443", "or", "sport", "eq", ":443"),
	};
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		ASSERT_TRUE(matches(forms[i], &s));
		ASSERT_TRUE(matches(forms[i], &t));
		ASSERT_TRUE(!matches(forms[i], &u));
	}

	ASSERT_TRUE(matches(WORDS("dport=:2"), &u));
	ASSERT_TRUE(matches(WORDS("(dport = :2)"), &u));
	ASSERT_TRUE(matches(WORDS("sport>=1"), &u));
	ASSERT_TRUE(matches(WORDS("sport<=1"), &u));
	ASSERT_TRUE(!matches(WORDS("sport<1"), &u));
	ASSERT_TRUE(matches(WORDS("sport!=2"), &u));
	ASSERT_TRUE(matches(WORDS("!(sport=2)"), &u));
	ASSERT_TRUE(!matches(WORDS("!sport=1"), &u));
	ASSERT_TRUE(matches(WORDS("not(sport=2)"), &u));
	ASSERT_TRUE(matches(WORDS("sport=1&&dport=2"), &u));
	ASSERT_TRUE(matches(WORDS("((sport=1))", "and", "(dport", "=", "2)"), &u));
	ASSERT_TRUE(matches(WORDS("src=10.0.0.1:1"), &u));
	ASSERT_TRUE(matches(WORDS("(src", "10.0.0.0/8)"), &u));
	ASSERT_TRUE(matches(WORDS("(dst=[::ffff:0:0]/96", "or", "dst=10.0.0.2)"), &u));
}

TEST(ipv4_addresses)
{
	struct nsn_sock s = tcp4("10.1.2.3", 80, "192.168.1.20", 40000);

	ASSERT_TRUE(matches(WORDS("src", "10.0.0.0/8"), &s));
	ASSERT_TRUE(matches(WORDS("src", "=", "10.0.0.0/8"), &s));
	ASSERT_TRUE(matches(WORDS("src", "==", "10.1.0.0/16"), &s));
	ASSERT_TRUE(matches(WORDS("src", "eq", "10.1.2.3"), &s));
	ASSERT_TRUE(!matches(WORDS("src", "10.1.2.4"), &s));
	ASSERT_TRUE(!matches(WORDS("src", "11.0.0.0/8"), &s));
	ASSERT_TRUE(matches(WORDS("src", "10.0.0.0/9"), &s));
	ASSERT_TRUE(!matches(WORDS("src", "10.128.0.0/9"), &s));
	ASSERT_TRUE(matches(WORDS("src", "0.0.0.0/0"), &s));
	ASSERT_TRUE(matches(WORDS("src", "10/8"), &s));
	ASSERT_TRUE(matches(WORDS("dst", "192.168.1.0/24"), &s));
	ASSERT_TRUE(!matches(WORDS("dst", "10.0.0.0/8"), &s));
	/* A bare address matches exactly. */
	ASSERT_TRUE(matches(WORDS("dst", "192.168.1.20"), &s));
	ASSERT_TRUE(!matches(WORDS("dst", "192.168.1.2"), &s));
	/* With ports. */
	ASSERT_TRUE(matches(WORDS("src", "10.1.2.3:80"), &s));
	ASSERT_TRUE(!matches(WORDS("src", "10.1.2.3:81"), &s));
	ASSERT_TRUE(matches(WORDS("src", "10.0.0.0/8:80"), &s));
	ASSERT_TRUE(matches(WORDS("src", "10.1.2.3:*"), &s));
	ASSERT_TRUE(matches(WORDS("src", "*:80"), &s));
	ASSERT_TRUE(matches(WORDS("src", ":80"), &s));
	ASSERT_TRUE(!matches(WORDS("src", ":81"), &s));
	ASSERT_TRUE(matches(WORDS("src", "*"), &s));
	ASSERT_TRUE(matches(WORDS("dst", "*:40000"), &s));
	ASSERT_TRUE(!matches(WORDS("dst", "*:80"), &s));
	if (getservbyname("http", "tcp"))
		ASSERT_TRUE(matches(WORDS("src", "10.1.2.3:http"), &s));
	/* Negation. */
	ASSERT_TRUE(!matches(WORDS("src", "!=", "10.0.0.0/8"), &s));
	ASSERT_TRUE(matches(WORDS("src", "ne", "11.0.0.0/8"), &s));
	ASSERT_TRUE(matches(WORDS("dst", "neq", "10.0.0.0/8"), &s));
	/* An IPv6 rule does not match an IPv4 socket. */
	ASSERT_TRUE(!matches(WORDS("src", "::/0"), &s));
	ASSERT_TRUE(!matches(WORDS("src", "[::ffff:10.1.2.3]"), &s));
}

TEST(ipv6_addresses)
{
	struct nsn_sock s = tcp6("fd00::1", 8080, "::1", 443);

	ASSERT_TRUE(matches(WORDS("src", "[fd00::]/8"), &s));
	ASSERT_TRUE(matches(WORDS("src", "[fd00::/8]"), &s));
	ASSERT_TRUE(matches(WORDS("src", "fd00::/8"), &s));
	ASSERT_TRUE(matches(WORDS("src", "fd00::1"), &s));
	ASSERT_TRUE(matches(WORDS("src", "[fd00::1]"), &s));
	ASSERT_TRUE(!matches(WORDS("src", "fd00::2"), &s));
	ASSERT_TRUE(!matches(WORDS("src", "fe80::/10"), &s));
	ASSERT_TRUE(matches(WORDS("src", "fc00::/7"), &s));
	ASSERT_TRUE(matches(WORDS("src", "[fd00::1]:8080"), &s));
	ASSERT_TRUE(!matches(WORDS("src", "[fd00::1]:8081"), &s));
	ASSERT_TRUE(matches(WORDS("src", "[fd00::]/16:8080"), &s));
	ASSERT_TRUE(matches(WORDS("src", "[fd00::/16]:8080"), &s));
	ASSERT_TRUE(matches(WORDS("dst", "[::1]"), &s));
	ASSERT_TRUE(matches(WORDS("dst", "::1"), &s));
	ASSERT_TRUE(matches(WORDS("dst", "[::1]:443"), &s));
	ASSERT_TRUE(matches(WORDS("dst", "*:443"), &s));
	ASSERT_TRUE(!matches(WORDS("dst", "[::1]:80"), &s));
	ASSERT_TRUE(matches(WORDS("dst", "!=", "[::2]"), &s));
	/* An IPv4 rule does not match a plain IPv6 socket. */
	ASSERT_TRUE(!matches(WORDS("src", "0.0.0.0/0"), &s));
}

TEST(ipv4_mapped)
{
	struct nsn_sock m = tcp6("::ffff:10.1.2.3", 80, "::ffff:192.168.0.9", 5000);
	struct nsn_sock v4 = tcp4("10.1.2.3", 80, "192.168.0.9", 5000);

	/* An IPv4 rule matches v4-mapped addresses of dual-stack sockets... */
	ASSERT_TRUE(matches(WORDS("src", "10.0.0.0/8"), &m));
	ASSERT_TRUE(matches(WORDS("src", "10.1.2.3"), &m));
	ASSERT_TRUE(matches(WORDS("src", "10.1.2.3:80"), &m));
	ASSERT_TRUE(!matches(WORDS("src", "10.1.2.3:81"), &m));
	ASSERT_TRUE(!matches(WORDS("src", "11.0.0.0/8"), &m));
	ASSERT_TRUE(matches(WORDS("dst", "192.168.0.0/16"), &m));
	ASSERT_TRUE(matches(WORDS("src", "0.0.0.0/0"), &m));
	/* ...but not other IPv6 addresses that happen to end the same way. */
	struct nsn_sock n = tcp6("::10.1.2.3", 80, "::1", 1);

	ASSERT_TRUE(!matches(WORDS("src", "10.1.2.3"), &n));
	ASSERT_TRUE(!matches(WORDS("src", "0.0.0.0/0"), &n));
	/* A v4-mapped rule is an IPv6 rule, as in ss. */
	ASSERT_TRUE(matches(WORDS("src", "[::ffff:10.1.2.3]"), &m));
	ASSERT_TRUE(matches(WORDS("src", "::ffff:10.0.0.0/104"), &m));
	ASSERT_TRUE(!matches(WORDS("src", "[::ffff:10.1.2.3]"), &v4));
}

TEST(unix_paths)
{
	struct nsn_sock a = unix_sock("/run/docker.sock");
	struct nsn_sock b = unix_sock("@/tmp/.X11-unix/X0");
	struct nsn_sock c = unix_sock(NULL);
	struct nsn_sock i = tcp4("10.0.0.1", 80, "10.0.0.2", 1);

	ASSERT_TRUE(matches(WORDS("src", "/run/docker.sock"), &a));
	ASSERT_TRUE(matches(WORDS("src", "/run/*.sock"), &a));
	ASSERT_TRUE(matches(WORDS("src", "/run/*"), &a));
	ASSERT_TRUE(matches(WORDS("src", "/RUN/DOCKER.SOCK"), &a)); /* ss folds case */
	ASSERT_TRUE(!matches(WORDS("src", "/run/*.socket"), &a));
	ASSERT_TRUE(matches(WORDS("src", "unix:/run/d?cker.sock"), &a));
	ASSERT_TRUE(matches(WORDS("src", "/run/[!x]ocker.sock"), &a));
	ASSERT_TRUE(matches(WORDS("src", "=", "/run/docker.sock"), &a));
	ASSERT_TRUE(!matches(WORDS("src", "!=", "/run/docker.sock"), &a));
	ASSERT_TRUE(matches(WORDS("src", "!=", "/tmp/*"), &a));
	ASSERT_TRUE(matches(WORDS("(src", "/run/*)"), &a));
	ASSERT_TRUE(matches(WORDS("(src /run/*)"), &a));
	ASSERT_TRUE(matches(WORDS("src=/run/*"), &a));
	ASSERT_TRUE(matches(WORDS("src", "@/tmp/.X11-unix/*"), &b));
	ASSERT_TRUE(matches(WORDS("src", "@*"), &b));
	ASSERT_TRUE(!matches(WORDS("src", "@*"), &a));
	ASSERT_TRUE(matches(WORDS("src", "unix:*"), &a));
	ASSERT_TRUE(matches(WORDS("src", "unix:*"), &c)); /* unnamed compares as "" */
	ASSERT_TRUE(!matches(WORDS("src", "/*"), &c));
	/* The model has no peer names: dst never matches a unix socket. */
	ASSERT_TRUE(!matches(WORDS("dst", "unix:*"), &a));

	/* Inet conditions are false for unix sockets, in either polarity. */
	ASSERT_TRUE(!matches(WORDS("src", "*"), &a));
	ASSERT_TRUE(!matches(WORDS("src", "0.0.0.0/0"), &a));
	ASSERT_TRUE(!matches(WORDS("src", "!=", "10.0.0.1"), &a));
	ASSERT_TRUE(!matches(WORDS("sport", ">=", ":0"), &a));
	ASSERT_TRUE(!matches(WORDS("dport", "!=", ":1"), &a));
	ASSERT_TRUE(!matches(WORDS("dev", "!=", "lo"), &a));
	/* ...but "not" is plain boolean negation. */
	ASSERT_TRUE(matches(WORDS("not", "sport", "=", ":1"), &a));
	/* And unix conditions are false for inet sockets. */
	ASSERT_TRUE(!matches(WORDS("src", "unix:*"), &i));
	ASSERT_TRUE(!matches(WORDS("src", "!=", "/x"), &i));
	/* Mixed: one filter for both kinds. */
	ASSERT_TRUE(matches(WORDS("src", "/run/*", "or", "sport", "=", ":80"), &a));
	ASSERT_TRUE(matches(WORDS("src", "/run/*", "or", "sport", "=", ":80"), &i));
}

TEST(devices)
{
	struct nsn_sock s = tcp4("0.0.0.0", 9000, "0.0.0.0", 0);
	struct nsn_sock n = tcp4("0.0.0.0", 9000, "0.0.0.0", 0);
	struct nsn_sock x = unix_sock("/x");

	s.dev = "eth0";
	s.ifindex = 3;
	ASSERT_TRUE(matches(WORDS("dev", "=", "eth0"), &s));
	ASSERT_TRUE(matches(WORDS("dev", "==", "eth0"), &s));
	ASSERT_TRUE(matches(WORDS("dev", "eq", "eth0"), &s));
	ASSERT_TRUE(matches(WORDS("dev=eth0"), &s));
	ASSERT_TRUE(matches(WORDS("(dev = eth0)"), &s));
	ASSERT_TRUE(!matches(WORDS("dev", "=", "eth1"), &s));
	ASSERT_TRUE(matches(WORDS("dev", "=", "3"), &s));
	ASSERT_TRUE(!matches(WORDS("dev", "=", "4"), &s));
	ASSERT_TRUE(matches(WORDS("dev", "!=", "eth1"), &s));
	ASSERT_TRUE(!matches(WORDS("dev", "ne", "eth0"), &s));
	ASSERT_TRUE(!matches(WORDS("dev", "!=", "3"), &s));
	/* Unbound socket. */
	ASSERT_TRUE(!matches(WORDS("dev", "=", "eth0"), &n));
	ASSERT_TRUE(matches(WORDS("dev", "!=", "eth0"), &n));
	/* Unix sockets have no device. */
	ASSERT_TRUE(!matches(WORDS("dev", "=", "eth0"), &x));
}

TEST(long_chains)
{
	/* A flat chain of conditions is not nesting: it must parse at any length. */
	enum { N = 2000 };
	static const char *words[N * 4 + 1];
	char ports[N][8];
	struct nsn_sock s = tcp4("10.0.0.1", N, "10.0.0.2", 1);
	struct nsn_sock t = tcp4("10.0.0.1", N + 1, "10.0.0.2", 1);

	for (int i = 0; i < N; i++) {
		snprintf(ports[i], sizeof(ports[i]), ":%d", i + 1);
		words[i * 4 + 0] = "sport";
		words[i * 4 + 1] = "=";
		words[i * 4 + 2] = ports[i];
		words[i * 4 + 3] = i + 1 < N ? "or" : NULL;
	}
	ASSERT_TRUE(matches(words, &s));
	ASSERT_TRUE(!matches(words, &t));
}

TEST(nesting_limit)
{
	static const char *words[200];
	struct nsn_sock s = tcp4("10.0.0.1", 1, "10.0.0.2", 1);
	int n = 0;

	/* 64 levels are fine. */
	for (int i = 0; i < 64; i++)
		words[n++] = "(";
	words[n++] = "sport=1";
	for (int i = 0; i < 64; i++)
		words[n++] = ")";
	words[n] = NULL;
	ASSERT_TRUE(matches(words, &s));

	/* 65 are not; argi names the first '(' too many. */
	n = 0;
	for (int i = 0; i < 65; i++)
		words[n++] = "(";
	words[n++] = "sport=1";
	for (int i = 0; i < 65; i++)
		words[n++] = ")";
	words[n] = NULL;
	parse_fails(words, 64, "'(' nested too deeply; at most 64 levels");

	/* "not" counts as nesting. */
	n = 0;
	for (int i = 0; i < 100; i++)
		words[n++] = "not";
	words[n++] = "sport=1";
	words[n] = NULL;
	parse_fails(words, 64, "'not' nested too deeply; at most 64 levels");

	/* Glued parentheses count the same, and argi stays the word's index. */
	char deep[200];

	memset(deep, '(', 100);
	snprintf(deep + 100, sizeof(deep) - 100, "sport=1");
	parse_fails(WORDS(deep), 0, NULL);
}

TEST(parse_errors)
{
	parse_fails(WORDS("dport", "=", "foo"), 2,
		    "unexpected 'foo' after 'dport ='; expected a port such as :443");
	parse_fails(WORDS("dport=foo"), 0,
		    "unexpected 'foo' after 'dport ='; expected a port such as :443");
	parse_fails(WORDS("state", "established", "dport", "ge", "foo"), 4,
		    "unexpected 'foo' after 'dport ge'; expected a port such as :443");
	parse_fails(WORDS("dport", "=", ":nosuchservice"), 2, NULL);
	parse_fails(WORDS("dport", "=", ":65536"), 2, NULL);
	parse_fails(WORDS("dport", "=", "-1"), 2, NULL);
	parse_fails(WORDS("dport", "="), 2,
		    "unexpected end of input after 'dport ='; expected a port such as :443");
	parse_fails(WORDS("dport"), 1,
		    "unexpected end of input after 'dport'; expected an operator such as =, "
		    "!=, <, >=");
	parse_fails(WORDS("dport", ":443"), 1,
		    "unexpected ':443' after 'dport'; expected an operator such as =, !=, <, "
		    ">=");
	parse_fails(WORDS("dport", "=", ")"), 2, NULL);
	parse_fails(WORDS("foo"), 0,
		    "unexpected 'foo'; expected a condition such as dport = :443");
	parse_fails(WORDS("sport", "=", ":1", "foo"), 3, NULL);
	parse_fails(WORDS("sport", "=", ":1", "and"), 4,
		    "unexpected end of input after 'and'; expected a condition such as dport "
		    "= :443");
	parse_fails(WORDS("sport", "=", ":1", "or", "or"), 4, NULL);
	parse_fails(WORDS("(", "sport", "=", ":1"), 4,
		    "unexpected end of input after ':1'; expected ')'");
	parse_fails(WORDS("(sport=:1"), 1, NULL);
	parse_fails(WORDS("sport", "=", ":1", ")"), 3,
		    "unexpected ')' without a matching '('");
	parse_fails(WORDS("sport=:1)"), 0, "unexpected ')' without a matching '('");
	parse_fails(WORDS("(", ")"), 1, NULL);
	parse_fails(WORDS("not"), 1, NULL);
	parse_fails(WORDS("src"), 1, NULL);
	parse_fails(WORDS("src", "10.0.0.0/33"), 1,
		    "unexpected '10.0.0.0/33' after 'src'; expected an address such as "
		    "10.0.0.0/8, [::1]:80 or /path");
	parse_fails(WORDS("src", "=", "10.0.0.256"), 2, NULL);
	parse_fails(WORDS("src", "10.0.0"), 1, NULL);
	parse_fails(WORDS("src", "10.0.0.1:99999"), 1, NULL);
	parse_fails(WORDS("src", "[::1"), 1, NULL);
	parse_fails(WORDS("src", "[::1]x"), 1, NULL);
	parse_fails(WORDS("src", "::1/129"), 1, NULL);
	parse_fails(WORDS("src", "nosuchhost"), 1, NULL);
	parse_fails(WORDS("src", ">", "10.0.0.1"), 1, NULL);
	parse_fails(WORDS("dst", "=", "and"), 2, NULL);
	parse_fails(WORDS("dev", "eth0"), 1,
		    "unexpected 'eth0' after 'dev'; expected = or !=");
	parse_fails(WORDS("dev", "="), 2, NULL);
	parse_fails(WORDS("state"), 1,
		    "unexpected end of input after 'state'; expected a state such as "
		    "established or connected");
	parse_fails(WORDS("state", "bogus"), 1, NULL);
	parse_fails(WORDS("exclude", "bogus", "sport", "=", ":1"), 1, NULL);
	parse_fails(WORDS("sport", "=", ":1", "state", "listening"), 3,
		    "'state' must come before the expression");
	/* Long tokens are shortened in messages. */
	parse_fails(WORDS("dport", "=", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"), 2,
		    "unexpected 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' after 'dport ='; "
		    "expected a port such as :443");

	/* A NULL error pointer is allowed. */
	struct nsn_filter *f = NULL;

	ASSERT_EQ(nsn_filter_parse(1, (char *const *)WORDS("foo"), &f, NULL), -EINVAL);
	ASSERT_TRUE(f == NULL);
}

TEST_MAIN(CASE(state_words), CASE(state_groups), CASE(state_filter), CASE(empty_and_null),
	  CASE(port_operators), CASE(port_side_and_spec), CASE(boolean_logic),
	  CASE(glued_tokens), CASE(ipv4_addresses), CASE(ipv6_addresses), CASE(ipv4_mapped),
	  CASE(unix_paths), CASE(devices), CASE(long_chains), CASE(nesting_limit),
	  CASE(parse_errors))
