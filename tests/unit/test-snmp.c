/* SPDX-License-Identifier: MIT */
/* Unit tests for agent/lib/snmp.c: /proc/net/{snmp,netstat,snmp6} named as nstat names them. */
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "tap.h"

static const struct nsn_counter *find(const struct nsn_netns *ns, const char *name)
{
	for (size_t i = 0; i < ns->n_counters; i++)
		if (strcmp(ns->counters[i].name, name) == 0)
			return &ns->counters[i];
	return NULL;
}

#define ASSERT_COUNTER(ns, name, want)                                  \
	do {                                                            \
		const struct nsn_counter *c_ = find((ns), (name));      \
		ASSERT_TRUE(c_ != NULL);                                \
		if (c_)                                                 \
			ASSERT_EQ((long long)c_->value, (long long)(want)); \
	} while (0)

TEST(paired_lines)
{
	static const char snmp[] =
		"Ip: Forwarding DefaultTTL InReceives\n"
		"Ip: 2 64 18446744073709551615\n"
		"Tcp: RtoAlgorithm MaxConn ActiveOpens\n"
		"Tcp: 1 -1 84\n"
		"TcpExt: ListenOverflows ListenDrops\n"
		"TcpExt: 3 4\n";
	struct nsn_netns *ns = nsn__netns_new(1, 2);

	ASSERT_EQ(nsn__snmp_parse(snmp, sizeof(snmp) - 1, true, ns), 0);
	ASSERT_EQ(ns->n_counters, (size_t)8);
	ASSERT_STREQ(ns->counters[0].name, "IpForwarding");
	ASSERT_COUNTER(ns, "IpDefaultTTL", 64);
	/* Beyond INT64_MAX wraps, as a 64-bit counter would in nstat's own arithmetic. */
	ASSERT_COUNTER(ns, "IpInReceives", -1);
	ASSERT_COUNTER(ns, "TcpMaxConn", -1);
	ASSERT_COUNTER(ns, "TcpActiveOpens", 84);
	ASSERT_COUNTER(ns, "TcpExtListenOverflows", 3);
	ASSERT_STREQ(ns->counters[7].name, "TcpExtListenDrops");
	nsn__netns_free(ns);
}

TEST(single_lines)
{
	static const char snmp6[] = "Ip6InReceives                   \t2415\n"
				    "Icmp6InMsgs 2\n"
				    "\n"
				    "Udp6InDatagrams 0";
	struct nsn_netns *ns = nsn__netns_new(1, 2);

	ASSERT_EQ(nsn__snmp_parse(snmp6, sizeof(snmp6) - 1, false, ns), 0);
	ASSERT_EQ(ns->n_counters, (size_t)3);
	ASSERT_COUNTER(ns, "Ip6InReceives", 2415);
	ASSERT_COUNTER(ns, "Udp6InDatagrams", 0);
	nsn__netns_free(ns);
}

TEST(interned_names)
{
	static const char a[] = "Udp: InDatagrams\nUdp: 1\n";
	struct nsn_netns *x = nsn__netns_new(1, 2), *y = nsn__netns_new(1, 3);

	ASSERT_EQ(nsn__snmp_parse(a, sizeof(a) - 1, true, x), 0);
	ASSERT_EQ(nsn__snmp_parse(a, sizeof(a) - 1, true, y), 0);
	/* The same few hundred names in every namespace are stored once. */
	ASSERT_TRUE(x->counters[0].name == y->counters[0].name);
	nsn__netns_free(x);
	nsn__netns_free(y);
}

TEST(malformed)
{
	static const char *const bad[] = {
		"Ip: Forwarding DefaultTTL\nIp: 1\n",      /* fewer values than names */
		"Ip: Forwarding\nTcp: 1\n",                /* value line of another prefix */
		"Ip: Forwarding\n",                        /* no value line */
		"Ip: Forwarding\nIp: x\n",                 /* not a number */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct nsn_netns *ns = nsn__netns_new(1, 2);
		ASSERT_EQ(nsn__snmp_parse(bad[i], strlen(bad[i]), true, ns), -EINVAL);
		nsn__netns_free(ns);
	}
	struct nsn_netns *ns = nsn__netns_new(1, 2);
	ASSERT_EQ(nsn__snmp_parse("Ip6InReceives\n", 14, false, ns), -EINVAL);
	nsn__netns_free(ns);
}

TEST_MAIN(CASE(paired_lines), CASE(single_lines), CASE(interned_names), CASE(malformed))
