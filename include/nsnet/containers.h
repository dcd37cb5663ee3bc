/* SPDX-License-Identifier: MIT */
/**
 * @file containers.h
 * Narrowing a scan to containers and pods: the filters of nsnetstat's --pod,
 * --k8s-namespace, --container and --runtime, evaluated the same way by the CLI and
 * (for queries) by the collector.
 */
#ifndef NSNET_CONTAINERS_H
#define NSNET_CONTAINERS_H

#include <stdbool.h>
#include <nsnet/model.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Every condition set must hold (NULL: any). */
struct nsn_container_filter {
	const char *pod;           /**< pod name, or "namespace/name" */
	const char *k8s_namespace; /**< the pod's Kubernetes namespace */
	const char *container;     /**< a prefix of the container id, or its exact name */
	const char *runtime;       /**< "containerd", "cri-o", "docker", "podman", "runc" or "crun" */
};

/** The runtime names attribution reports, NULL-terminated. */
extern const char *const nsn_runtime_names[];

/** Whether no condition is set. */
bool nsn_container_filter_empty(const struct nsn_container_filter *f);

/** Whether @p c passes @p f (a NULL filter passes every container, none passes NULL). */
bool nsn_container_match(const struct nsn_container_filter *f, const struct nsn_container *c);

/**
 * Narrow @p scan in place to what @p f selects: in each namespace, the sockets
 * attributed (nsn_sock_containers()) to a matching container; namespaces with neither
 * a matching container nor a matching socket are dropped: moved behind n_netns
 * (n_netns_hidden), freed by nsn_scan_free(). A namespace with a matching container
 * stays even with no socket left (its routes and interfaces are the pod's).
 * @return 0, or -ENOMEM with the scan unchanged.
 */
int nsn_scan_filter_containers(struct nsn_scan *scan, const struct nsn_container_filter *f);

/** The short form of a container id that docker, podman and crictl print (12 characters). */
#define NSN_CONTAINER_SHORT_ID 12

#ifdef __cplusplus
}
#endif
#endif
