/* SPDX-License-Identifier: MIT */
/* --pod, --k8s-namespace, --container, --runtime: narrowing a scan to containers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nsnet/containers.h>

#include "internal.h"

const char *const nsn_runtime_names[] = {"containerd", "cri-o", "docker", "podman", "runc", "crun", NULL};

bool nsn_container_filter_empty(const struct nsn_container_filter *f)
{
	return !f || (!f->pod && !f->k8s_namespace && !f->container && !f->runtime);
}

static bool eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static bool pod_match(const char *want, const struct nsn_container *c)
{
	const char *slash = strchr(want, '/');

	if (!slash)
		return eq(want, c->pod_name);
	size_t n = (size_t)(slash - want);
	return c->pod_namespace && strlen(c->pod_namespace) == n &&
	       strncmp(want, c->pod_namespace, n) == 0 && eq(slash + 1, c->pod_name);
}

bool nsn_container_match(const struct nsn_container_filter *f, const struct nsn_container *c)
{
	if (!c)
		return false;
	if (!f)
		return true;
	if (f->runtime && !eq(f->runtime, c->runtime))
		return false;
	if (f->k8s_namespace && !eq(f->k8s_namespace, c->pod_namespace))
		return false;
	if (f->pod && !pod_match(f->pod, c))
		return false;
	if (f->container && f->container[0]) {
		size_t n = strlen(f->container);
		if (strncmp(c->id, f->container, n) != 0 && !eq(f->container, c->name))
			return false;
	}
	return true;
}

#define MAX_OWNERS 16

static bool sock_match(const struct nsn_container_filter *f, const struct nsn_scan *scan,
		       const struct nsn_netns *ns, const struct nsn_sock *s)
{
	const struct nsn_container *cs[MAX_OWNERS];
	size_t n = nsn_sock_containers(scan, ns, s, cs, MAX_OWNERS);

	for (size_t i = 0; i < n; i++)
		if (nsn_container_match(f, cs[i]))
			return true;
	return false;
}

int nsn_scan_filter_containers(struct nsn_scan *scan, const struct nsn_container_filter *f)
{
	size_t kept = 0, n = scan->n_netns;
	struct nsn_netns **dropped;

	if (nsn_container_filter_empty(f))
		return 0;
	/* Dropped namespaces move behind n_netns, not freed: a kept veth may name one as
	 * its peer. */
	dropped = malloc((n ? n : 1) * sizeof(*dropped));
	if (!dropped)
		return -ENOMEM;
	size_t n_dropped = 0;
	for (size_t i = 0; i < n; i++) {
		struct nsn_netns *ns = scan->netns[i];
		bool any = false;
		size_t k = 0;

		for (size_t c = 0; c < ns->n_containers && !any; c++)
			any = nsn_container_match(f, ns->containers[c].c);
		for (size_t s = 0; s < ns->n_socks; s++)
			if (sock_match(f, scan, ns, &ns->socks[s]))
				ns->socks[k++] = ns->socks[s];
		ns->n_socks = k;
		if (any || k > 0)
			scan->netns[kept++] = ns;
		else
			dropped[n_dropped++] = ns;
	}
	memcpy(scan->netns + kept, dropped, n_dropped * sizeof(*dropped));
	free(dropped);
	scan->n_netns = kept;
	scan->n_netns_hidden += n_dropped;
	return 0;
}
