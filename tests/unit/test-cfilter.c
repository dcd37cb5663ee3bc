/* SPDX-License-Identifier: MIT */
/* --pod/--k8s-namespace/--container/--runtime (cfilter.c) and the per-socket
 * attribution rule (nsn_sock_containers), on scans built by hand. */
#include <stdlib.h>
#include <string.h>

#include <nsnet/containers.h>

#include "internal.h"
#include "tap.h"

#define ID_API "3f1a9c0b7d2e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c"
#define ID_PAUSE "aa11bb22cc33dd44ee55ff6600778899aabbccddeeff00112233445566778899"
#define ID_DB "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const struct nsn_container api = {
	.id = ID_API, .runtime = "containerd", .name = "api", .sandbox_id = ID_PAUSE,
	.pod_uid = "5b0a0c3e-1f2d-4e5f-8a9b-0c1d2e3f4a5b", .pod_name = "api-7f9c",
	.pod_namespace = "payments"};
static const struct nsn_container pause_ = {
	.id = ID_PAUSE, .runtime = "containerd", .sandbox = true, .sandbox_id = ID_PAUSE,
	.pod_uid = "5b0a0c3e-1f2d-4e5f-8a9b-0c1d2e3f4a5b", .pod_name = "api-7f9c",
	.pod_namespace = "payments"};
static const struct nsn_container db = {.id = ID_DB, .runtime = "podman", .name = "db"};

TEST(match_each_condition)
{
	struct nsn_container_filter f = {0};

	ASSERT_TRUE(nsn_container_filter_empty(&f));
	ASSERT_TRUE(nsn_container_filter_empty(NULL));
	ASSERT_TRUE(nsn_container_match(&f, &api));
	ASSERT_TRUE(!nsn_container_match(&f, NULL));
	ASSERT_TRUE(nsn_container_match(NULL, &api));

	f.pod = "api-7f9c";
	ASSERT_TRUE(!nsn_container_filter_empty(&f));
	ASSERT_TRUE(nsn_container_match(&f, &api));
	ASSERT_TRUE(nsn_container_match(&f, &pause_));
	ASSERT_TRUE(!nsn_container_match(&f, &db));
	f.pod = "payments/api-7f9c";
	ASSERT_TRUE(nsn_container_match(&f, &api));
	f.pod = "other/api-7f9c";
	ASSERT_TRUE(!nsn_container_match(&f, &api));
	f.pod = "payments/";
	ASSERT_TRUE(!nsn_container_match(&f, &api));
	f.pod = "api-7f9";
	ASSERT_TRUE(!nsn_container_match(&f, &api)); /* pod names match whole */

	f = (struct nsn_container_filter){.k8s_namespace = "payments"};
	ASSERT_TRUE(nsn_container_match(&f, &api));
	ASSERT_TRUE(!nsn_container_match(&f, &db));

	f = (struct nsn_container_filter){.container = "3f1a9c0b7d2e"};
	ASSERT_TRUE(nsn_container_match(&f, &api));
	ASSERT_TRUE(!nsn_container_match(&f, &pause_));
	f.container = ID_API;
	ASSERT_TRUE(nsn_container_match(&f, &api));
	f.container = "db"; /* an exact name */
	ASSERT_TRUE(nsn_container_match(&f, &db));
	ASSERT_TRUE(!nsn_container_match(&f, &api));
	f.container = "d"; /* not a name, not an id prefix of db */
	ASSERT_TRUE(!nsn_container_match(&f, &db));

	f = (struct nsn_container_filter){.runtime = "podman"};
	ASSERT_TRUE(nsn_container_match(&f, &db));
	ASSERT_TRUE(!nsn_container_match(&f, &api));

	/* every condition must hold */
	f = (struct nsn_container_filter){.runtime = "containerd", .k8s_namespace = "payments", .container = "api"};
	ASSERT_TRUE(nsn_container_match(&f, &api));
	f.runtime = "cri-o";
	ASSERT_TRUE(!nsn_container_match(&f, &api));
}

TEST(runtime_names)
{
	size_t n = 0;

	while (nsn_runtime_names[n])
		n++;
	ASSERT_EQ(n, 6);
	ASSERT_STREQ(nsn_runtime_names[0], "containerd");
	ASSERT_STREQ(nsn_runtime_names[4], "runc");
}

/* A namespace with @n sockets on ports 1..n and the given containers. */
static struct nsn_netns *mkns(uint64_t ino, bool host, size_t n, const struct nsn_container *c0,
			      const struct nsn_container *c1)
{
	struct nsn_netns *ns = nsn__netns_new(4, ino);

	ns->host = host;
	for (size_t i = 0; i < n; i++) {
		struct nsn_sock *s = nsn__netns_push_sock(ns);
		s->proto = NSN_PROTO_TCP;
		s->family = 2;
		s->local.port = (uint16_t)(i + 1);
		s->inode = 0; /* no holder known */
	}
	ns->containers = calloc(2, sizeof(*ns->containers));
	if (c0)
		ns->containers[ns->n_containers++] = (struct nsn_netns_container){c0, 10, 1};
	if (c1)
		ns->containers[ns->n_containers++] = (struct nsn_netns_container){c1, 11, 1};
	return ns;
}

TEST(sock_attribution_rule)
{
	struct nsn_scan scan = {0};
	struct nsn_netns *host = mkns(1, true, 2, &api, NULL); /* a hostNetwork pod lives here */
	struct nsn_netns *pod = mkns(2, false, 1, &pause_, &api);
	const struct nsn_container *cs[4];

	scan.netns = calloc(2, sizeof(*scan.netns));
	scan.netns[0] = host;
	scan.netns[1] = pod;
	scan.n_netns = 2;
	/* Host sockets with no known holder belong to no pod. */
	ASSERT_EQ(nsn_sock_containers(&scan, host, &host->socks[0], cs, 4), 0);
	/* In a pod's namespace, an ownerless socket (TIME-WAIT) belongs to its containers. */
	ASSERT_EQ(nsn_sock_containers(&scan, pod, &pod->socks[0], cs, 4), 2);
	ASSERT_EQ(nsn_sock_containers(&scan, pod, &pod->socks[0], cs, 1), 1);

	/* --pod keeps the pod's namespace; the host namespace (whose hostNetwork pod
	 * matches) stays, but none of its unattributed sockets do. */
	struct nsn_container_filter f = {.pod = "api-7f9c"};
	ASSERT_EQ(nsn_scan_filter_containers(&scan, &f), 0);
	ASSERT_EQ(scan.n_netns, 2);
	ASSERT_EQ(host->n_socks, 0);
	ASSERT_EQ(pod->n_socks, 1);

	/* --runtime podman: nothing left; both move behind n_netns and are still freed. */
	f = (struct nsn_container_filter){.runtime = "podman"};
	ASSERT_EQ(nsn_scan_filter_containers(&scan, &f), 0);
	ASSERT_EQ(scan.n_netns, 0);
	ASSERT_EQ(scan.n_netns_hidden, 2);
	nsn__netns_free(scan.netns[0]);
	nsn__netns_free(scan.netns[1]);
	free(scan.netns);
}

TEST_MAIN(CASE(match_each_condition), CASE(runtime_names), CASE(sock_attribution_rule))
