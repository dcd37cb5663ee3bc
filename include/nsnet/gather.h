/* SPDX-License-Identifier: MIT */
/**
 * @file gather.h
 * The gatherer: discover every network namespace of the host, enter each on a
 * dedicated thread and dump its sockets over NETLINK_SOCK_DIAG, and on request its
 * routes, rules and interfaces over rtnetlink (libnl-route-3) and its protocol
 * counters from /proc/thread-self/net.
 *
 * Threads: nsn_gather() starts and joins its own worker threads; setns(2) is only
 * ever called on them. It never prints and never exits; problems with individual
 * namespaces are recorded in nsn_scan.warnings and counted.
 */
#ifndef NSNET_GATHER_H
#define NSNET_GATHER_H

#include <stdbool.h>
#include <stddef.h>
#include <nsnet/model.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Which namespaces to gather. */
enum nsn_scope {
	NSN_SCOPE_CURRENT = 0, /**< only the caller's own namespace (no privileges needed) */
	NSN_SCOPE_ALL,         /**< every namespace of the host */
	NSN_SCOPE_ONE,         /**< the one named by nsn_gather_opts.target */
};

/** Flags for nsn_gather_opts.flags. */
enum {
	NSN_GATHER_PROCS = 1u << 0, /**< map sockets to processes (one /proc pass) */
	NSN_GATHER_INFO = 1u << 1,  /**< tcp_info, congestion algorithm and socket memory */
	NSN_GATHER_ROUTES = 1u << 2, /**< routes of every table and policy rules (rtnetlink) */
	NSN_GATHER_LINKS = 1u << 3,  /**< interfaces, addresses, 64-bit counters, veth peers */
	NSN_GATHER_COUNTERS = 1u << 4, /**< /proc/thread-self/net/{snmp,netstat,snmp6} */
	NSN_GATHER_NO_SOCKS = 1u << 5, /**< skip the sock_diag dump (e.g. routes only) */
	NSN_GATHER_CONTAINERS = 1u << 6, /**< container and pod of every process (cgroup, runtime files) */
};

/**
 * What attribution learned, kept between scans: process (pid, start time) -> container,
 * container id -> names. Give the same cache to successive nsn_gather() calls (the
 * agent, nsnetstat -c) and unchanged processes and containers are not read again.
 * Not thread-safe: one nsn_gather() at a time per cache.
 */
struct nsn_cache;
struct nsn_cache *nsn_cache_new(void);
void nsn_cache_free(struct nsn_cache *cache);

struct nsn_gather_opts;

/** Where sockets come from (--backend). */
enum nsn_backend {
	NSN_BACKEND_AUTO = 0, /**< BPF for every namespace where it is available, else netlink */
	NSN_BACKEND_NETLINK,  /**< setns + sock_diag, namespace by namespace */
	NSN_BACKEND_BPF,      /**< one BPF pass over the host's socket tables (agent/lib/bpf/) */
};

/** "auto", "netlink" or "bpf". */
const char *nsn_backend_name(enum nsn_backend b);
/** Parse one of those names: 0, or -EINVAL. */
int nsn_backend_parse(const char *name, enum nsn_backend *ret);

/**
 * A loaded BPF socket walker (agent/lib/bpfwalk.c), kept between scans: the agent and
 * nsnetstat -c load it once. Not thread-safe: one nsn_gather() at a time per walker.
 */
struct nsn_bpf;

/** Whether this build has the BPF backend (clang, bpftool and libbpf at configure time). */
bool nsn_bpf_built(void);

/**
 * Check what the BPF backend needs -- kernel >= 6.2, BTF at /sys/kernel/btf/vmlinux,
 * CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN) -- then load the program and have the
 * kernel verify it.
 * @return 0 and the walker in *ret, or -errno with one line saying why in @p why
 *         (e.g. "kernel 5.15 is older than 6.2"); -ENOTSUP in a netlink-only build.
 */
int nsn_bpf_open(struct nsn_bpf **ret, char *why, size_t why_len);
void nsn_bpf_close(struct nsn_bpf *bpf);

/**
 * Settle @p want for a scan of @p opts: with NSN_BACKEND_BPF, or with NSN_BACKEND_AUTO
 * for NSN_SCOPE_ALL without NSN_GATHER_INFO, load a walker into *ret_bpf (NULL
 * otherwise: netlink). AUTO never fails: when BPF cannot be used it leaves *ret_bpf
 * NULL and says why in @p why (empty when netlink was simply the better choice: one
 * namespace, or tcp_info asked for). BPF fails with -errno and the reason in @p why.
 */
int nsn_backend_open(enum nsn_backend want, const struct nsn_gather_opts *opts, struct nsn_bpf **ret_bpf,
		     char *why, size_t why_len);

/** Progress report, called on the caller's thread about every 100 ms while dumping. */
typedef void (*nsn_progress_fn)(size_t done, size_t total, double elapsed_ms, void *userdata);

struct nsn_gather_opts {
	enum nsn_scope scope;
	const char *target;  /**< NSN_SCOPE_ONE: a name in /run/netns, a path, or a pid */
	unsigned protos;     /**< NSN_PROTO_BIT() mask; 0 means all */
	unsigned families;   /**< bit 0: IPv4, bit 1: IPv6; 0 means both (unix is unaffected) */
	unsigned states;     /**< nsn_state bit mask asked of the kernel; 0 means NSN_STATES_ALL */
	unsigned flags;      /**< NSN_GATHER_* */
	unsigned threads;    /**< worker threads; 0 means one per online CPU */
	/** Where the host's file system is (a DaemonSet mounts it at /host): /proc, /run,
	 * /var/run, /var/log/pods, /var/lib/... are read below it. NULL or "/" means "/".
	 * proc_root and run_root, when set, win over it. */
	const char *host_root;
	const char *proc_root; /**< where /proc is; NULL means "<host_root>/proc" */
	const char *run_root;  /**< prefix of /run and /var/run; NULL means host_root */
	struct nsn_cache *cache; /**< NULL: a private cache for this scan only */
	nsn_progress_fn progress;
	void *progress_userdata;
	/** Sockets from this loaded walker (nsn_backend_open()) where it can: TCP, UDP and
	 * UNIX of every namespace in one pass; RAW sockets, tcp_info (NSN_GATHER_INFO) and
	 * namespaces with private hash tables still come from sock_diag. NULL: sock_diag. */
	struct nsn_bpf *bpf;
	/** Test hook: sleep this long between discovery and dump (0: none). */
	unsigned pause_after_discovery_ms;
};

#define NSN_FAMILY_V4 1u
#define NSN_FAMILY_V6 2u

/**
 * Discover namespaces per @p opts and dump them.
 *
 * @return 0 and a new scan in *ret_scan (free with nsn_scan_free()), or -errno:
 *         -EPERM when the caller lacks the privilege to enter namespaces, -ENOENT when
 *         NSN_SCOPE_ONE names nothing, -ENOMEM. Failures of single namespaces are
 *         not errors: they are counted and described in the scan's warnings.
 */
int nsn_gather(const struct nsn_gather_opts *opts, struct nsn_scan **ret_scan);

/**
 * Check the effective capabilities needed for @p scope.
 * @return 0, or -EPERM with the name of the first missing capability in *ret_missing
 *         (a static string, e.g. "CAP_SYS_ADMIN").
 */
int nsn_gather_check_caps(enum nsn_scope scope, const char **ret_missing);

/**
 * Narrow a scan gathered (or decoded) with broader options to what nsn_gather() would
 * have reported with @p opts: sockets of the protocols, families (inet sockets only)
 * and states asked for (none with NSN_GATHER_NO_SOCKS), tcp_info and socket memory
 * only with NSN_GATHER_INFO, and routes and rules, links, counters and containers
 * only with their flags. Scope, target and the process map are left alone. Works in
 * place (hidden namespaces included) and cannot fail; nothing is freed before
 * nsn_scan_free().
 */
void nsn_scan_select(struct nsn_scan *scan, const struct nsn_gather_opts *opts);

/**
 * Keep only the namespace(s) @p target names: a name (`ip netns` name, or the path of
 * another nsfs bind mount; "/run/netns/NAME" also matches NAME) or an inode in decimal.
 * The others move behind n_netns (n_netns_hidden), as kept veths may name them.
 * @return 0, -ENOENT when nothing matched (then no namespace is left visible), or
 *         -ENOMEM with the scan unchanged.
 */
int nsn_scan_select_netns(struct nsn_scan *scan, const char *target);

#ifdef __cplusplus
}
#endif
#endif
