/* SPDX-License-Identifier: MIT */
/* Unit tests for agent/lib/format.c: end points written exactly as ss -n writes them. */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdbool.h>
#include <sys/socket.h>

#include <nsnet/format.h>

#include "tap.h"

static struct nsn_sock sock(unsigned proto, int family, const char *local, uint16_t lport,
			    const char *peer, uint16_t pport)
{
	struct nsn_sock s = {.proto = (uint8_t)proto, .family = (uint8_t)family,
			     .state = NSN_SS_LISTEN, .v6only = -1};

	ASSERT_EQ(inet_pton(family, local, s.local.addr), 1);
	ASSERT_EQ(inet_pton(family, peer, s.peer.addr), 1);
	s.local.port = lport;
	s.peer.port = pport;
	return s;
}

/* Local and peer column of one socket, numeric. */
#define ASSERT_ENDPOINTS(s, want_local, want_peer)                                       \
	do {                                                                             \
		char ep_buf_[NSN_FMT_ENDPOINT_LEN];                                           \
		ASSERT_STREQ(nsn_fmt_endpoint(ep_buf_, sizeof(ep_buf_), &(s), &(s).local, true),    \
			     want_local);                                                \
		ASSERT_STREQ(nsn_fmt_endpoint(ep_buf_, sizeof(ep_buf_), &(s), &(s).peer, true),     \
			     want_peer);                                                 \
	} while (0)

TEST(ipv4)
{
	struct nsn_sock s = sock(NSN_PROTO_TCP, AF_INET, "127.0.0.1", 80, "10.1.2.3", 51000);

	ASSERT_ENDPOINTS(s, "127.0.0.1:80", "10.1.2.3:51000");
	s = sock(NSN_PROTO_TCP, AF_INET, "0.0.0.0", 22, "0.0.0.0", 0);
	ASSERT_ENDPOINTS(s, "0.0.0.0:22", "0.0.0.0:*");
	s = sock(NSN_PROTO_UDP, AF_INET, "255.255.255.255", 65535, "0.0.0.0", 0);
	ASSERT_ENDPOINTS(s, "255.255.255.255:65535", "0.0.0.0:*");
}

TEST(ipv6)
{
	struct nsn_sock s = sock(NSN_PROTO_TCP, AF_INET6, "::1", 80, "::1", 40000);

	ASSERT_ENDPOINTS(s, "[::1]:80", "[::1]:40000");
	s = sock(NSN_PROTO_TCP, AF_INET6, "fd00::1:2", 443, "2001:db8::5", 1);
	ASSERT_ENDPOINTS(s, "[fd00::1:2]:443", "[2001:db8::5]:1");
	/* v4-mapped addresses keep their IPv6 spelling, bracketed. */
	s = sock(NSN_PROTO_TCP, AF_INET6, "::ffff:127.0.0.1", 80, "::ffff:10.0.0.2", 5000);
	ASSERT_ENDPOINTS(s, "[::ffff:127.0.0.1]:80", "[::ffff:10.0.0.2]:5000");
}

TEST(ipv6_wildcard)
{
	struct nsn_sock s = sock(NSN_PROTO_TCP, AF_INET6, "::", 80, "::", 0);

	/* Dual-stack (v6only 0 or not reported): "*". */
	s.v6only = 0;
	ASSERT_ENDPOINTS(s, "*:80", "*:*");
	s.v6only = -1;
	ASSERT_ENDPOINTS(s, "*:80", "*:*");
	/* v6only: "[::]". */
	s.v6only = 1;
	ASSERT_ENDPOINTS(s, "[::]:80", "[::]:*");
}

TEST(port_zero)
{
	struct nsn_sock s = sock(NSN_PROTO_UDP, AF_INET, "0.0.0.0", 0, "0.0.0.0", 0);

	ASSERT_ENDPOINTS(s, "0.0.0.0:*", "0.0.0.0:*");
	s = sock(NSN_PROTO_UDP, AF_INET6, "::", 0, "::", 0);
	ASSERT_ENDPOINTS(s, "*:*", "*:*");
	s.v6only = 1;
	ASSERT_ENDPOINTS(s, "[::]:*", "[::]:*");

	/* Also with service names on. */
	char b[NSN_FMT_ENDPOINT_LEN];

	ASSERT_STREQ(nsn_fmt_endpoint(b, sizeof(b), &s, &s.local, false), "[::]:*");
}

TEST(bound_device)
{
	struct nsn_sock s = sock(NSN_PROTO_TCP, AF_INET, "0.0.0.0", 9000, "0.0.0.0", 0);

	s.dev = "lo";
	s.ifindex = 1;
	/* ss writes the device on the local address only. */
	ASSERT_ENDPOINTS(s, "0.0.0.0%lo:9000", "0.0.0.0:*");

	s = sock(NSN_PROTO_TCP, AF_INET6, "::", 9000, "::", 0);
	s.dev = "eth0";
	s.ifindex = 2;
	ASSERT_ENDPOINTS(s, "*%eth0:9000", "*:*");
	s.v6only = 1;
	ASSERT_ENDPOINTS(s, "[::]%eth0:9000", "[::]:*");

	s = sock(NSN_PROTO_UDP, AF_INET6, "fe80::1", 0, "::", 0);
	s.v6only = 1;
	s.dev = "veth-a";
	ASSERT_ENDPOINTS(s, "[fe80::1]%veth-a:*", "[::]:*");

	/* An index without a resolved name, as iproute2 names it. */
	s = sock(NSN_PROTO_TCP, AF_INET, "10.0.0.1", 80, "0.0.0.0", 0);
	s.ifindex = 7;
	ASSERT_ENDPOINTS(s, "10.0.0.1%if7:80", "0.0.0.0:*");
}

TEST(raw)
{
	/* The port of a raw socket is the IP protocol: always a number. */
	struct nsn_sock s = sock(NSN_PROTO_RAW, AF_INET, "0.0.0.0", 1, "0.0.0.0", 0);
	char b[NSN_FMT_ENDPOINT_LEN];

	ASSERT_ENDPOINTS(s, "0.0.0.0:1", "0.0.0.0:*");
	ASSERT_STREQ(nsn_fmt_endpoint(b, sizeof(b), &s, &s.local, false), "0.0.0.0:1");
	s = sock(NSN_PROTO_RAW, AF_INET6, "::", 58, "::", 0);
	ASSERT_ENDPOINTS(s, "*:58", "*:*");
	ASSERT_STREQ(nsn_fmt_endpoint(b, sizeof(b), &s, &s.local, false), "*:58");
	/* 22 is ssh for tcp, but not for raw. */
	s = sock(NSN_PROTO_RAW, AF_INET, "127.0.0.1", 22, "0.0.0.0", 0);
	ASSERT_STREQ(nsn_fmt_endpoint(b, sizeof(b), &s, &s.local, false), "127.0.0.1:22");
}

TEST(services)
{
	struct nsn_sock s = sock(NSN_PROTO_TCP, AF_INET, "127.0.0.1", 22, "127.0.0.1", 0);
	char b[NSN_FMT_ENDPOINT_LEN], want[NSN_FMT_ENDPOINT_LEN];
	struct servent *se;

	ASSERT_STREQ(nsn_fmt_endpoint(b, sizeof(b), &s, &s.local, true), "127.0.0.1:22");
	se = getservbyport(htons(22), "tcp");
	snprintf(want, sizeof(want), "127.0.0.1:%s", se ? se->s_name : "22");
	ASSERT_STREQ(nsn_fmt_endpoint(b, sizeof(b), &s, &s.local, false), want);
	/* Cached: the same answer again, and many times over quickly. */
	for (int i = 0; i < 100000; i++)
		nsn_fmt_endpoint(b, sizeof(b), &s, &s.local, false);
	ASSERT_STREQ(b, want);

	s = sock(NSN_PROTO_UDP, AF_INET6, "::1", 53, "::", 0);
	se = getservbyport(htons(53), "udp");
	snprintf(want, sizeof(want), "[::1]:%s", se ? se->s_name : "53");
	ASSERT_STREQ(nsn_fmt_endpoint(b, sizeof(b), &s, &s.local, false), want);
	ASSERT_STREQ(nsn_fmt_endpoint(b, sizeof(b), &s, &s.local, true), "[::1]:53");

	/* Ports without a service stay numbers, and so do ports in the ephemeral range
	 * (ss does not name those); 65534 is outside both on usual systems, 65000 is
	 * inside the default ephemeral range. Check only what this system agrees with. */
	if (!getservbyport(htons(65534), "tcp")) {
		s = sock(NSN_PROTO_TCP, AF_INET, "10.0.0.1", 65534, "0.0.0.0", 0);
		ASSERT_STREQ(nsn_fmt_endpoint(b, sizeof(b), &s, &s.local, false),
			     "10.0.0.1:65534");
	}
	/* Many distinct ports: the cache grows without losing entries. */
	for (unsigned p = 1; p < 3000; p++) {
		s = sock(p % 2 ? NSN_PROTO_TCP : NSN_PROTO_UDP, AF_INET, "1.2.3.4", (uint16_t)p,
			 "0.0.0.0", 0);
		nsn_fmt_endpoint(b, sizeof(b), &s, &s.local, false);
	}
	s = sock(NSN_PROTO_TCP, AF_INET, "127.0.0.1", 22, "127.0.0.1", 0);
	se = getservbyport(htons(22), "tcp");
	snprintf(want, sizeof(want), "127.0.0.1:%s", se ? se->s_name : "22");
	ASSERT_STREQ(nsn_fmt_endpoint(b, sizeof(b), &s, &s.local, false), want);
}

TEST(truncation)
{
	struct nsn_sock s = sock(NSN_PROTO_TCP, AF_INET6, "fd00::1:2:3:4", 443, "::", 0);
	char b[8];

	ASSERT_STREQ(nsn_fmt_endpoint(b, sizeof(b), &s, &s.local, true), "[fd00::");
	ASSERT_TRUE(nsn_fmt_endpoint(b, 0, &s, &s.local, true) == b);
	/* The longest form fits NSN_FMT_ENDPOINT_LEN. */
	char big[NSN_FMT_ENDPOINT_LEN];

	s = sock(NSN_PROTO_TCP, AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
		 65535, "::", 0);
	s.dev = "abcdefghijklmno";
	s.v6only = 1;
	ASSERT_STREQ(nsn_fmt_endpoint(big, sizeof(big), &s, &s.local, true),
		     "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]%abcdefghijklmno:65535");
}

TEST(fmt_addr)
{
	uint8_t a4[4] = {192, 168, 0, 1}, a6[16] = {0};
	char b[INET6_ADDRSTRLEN];

	ASSERT_STREQ(nsn_fmt_addr(b, sizeof(b), AF_INET, a4), "192.168.0.1");
	a6[15] = 1;
	ASSERT_STREQ(nsn_fmt_addr(b, sizeof(b), AF_INET6, a6), "::1");
	a6[10] = a6[11] = 0xff;
	a6[12] = 10;
	ASSERT_STREQ(nsn_fmt_addr(b, sizeof(b), AF_INET6, a6), "::ffff:10.0.0.1");
	ASSERT_STREQ(nsn_fmt_addr(b, sizeof(b), AF_UNIX, a6), "?");
	ASSERT_STREQ(nsn_fmt_addr(b, 3, AF_INET, a4), "?");
}

TEST(unix_path)
{
	struct nsn_sock s = {.proto = NSN_PROTO_UNIX, .family = AF_UNIX};

	ASSERT_STREQ(nsn_fmt_unix_path(&s), "*");
	s.path = "/run/dbus/system_bus_socket";
	ASSERT_STREQ(nsn_fmt_unix_path(&s), "/run/dbus/system_bus_socket");
	s.path = "@/tmp/.X11-unix/X0";
	ASSERT_STREQ(nsn_fmt_unix_path(&s), "@/tmp/.X11-unix/X0");
	ASSERT_STREQ(nsn_fmt_unix_path(NULL), "*");
}

TEST_MAIN(CASE(ipv4), CASE(ipv6), CASE(ipv6_wildcard), CASE(port_zero), CASE(bound_device),
	  CASE(raw), CASE(services), CASE(truncation), CASE(fmt_addr), CASE(unix_path))
