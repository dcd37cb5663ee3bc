/* SPDX-License-Identifier: MIT */
/**
 * @file model.h
 * The record model shared by the gatherer, the CLI, the agent and the collector:
 * namespaces, their sockets and the processes that hold them, their routes, policy
 * rules, interfaces (with addresses, counters and veth peers) and protocol counters.
 *
 * Ownership: a struct nsn_scan owns every namespace, socket, route, link, counter and
 * string reachable from it; nsn_scan_free() releases all of it. Nothing here depends on libnl or libuv.
 */
#ifndef NSNET_MODEL_H
#define NSNET_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Socket protocols, also used as bit positions in nsn_gather_opts.protos. */
enum nsn_proto {
	NSN_PROTO_TCP = 0,
	NSN_PROTO_UDP = 1,
	NSN_PROTO_RAW = 2,
	NSN_PROTO_UNIX = 3,
	NSN_PROTO_MAX
};

#define NSN_PROTO_BIT(p) (1u << (p))
#define NSN_PROTOS_ALL 0xfu

/**
 * Socket states: the kernel's TCP_* numbers, which ss uses for every protocol
 * (UDP and unix sockets report TCP_CLOSE as UNCONN and TCP_ESTABLISHED as ESTAB).
 */
enum nsn_state {
	NSN_SS_UNKNOWN = 0,
	NSN_SS_ESTABLISHED = 1,
	NSN_SS_SYN_SENT = 2,
	NSN_SS_SYN_RECV = 3,
	NSN_SS_FIN_WAIT1 = 4,
	NSN_SS_FIN_WAIT2 = 5,
	NSN_SS_TIME_WAIT = 6,
	NSN_SS_CLOSE = 7,
	NSN_SS_CLOSE_WAIT = 8,
	NSN_SS_LAST_ACK = 9,
	NSN_SS_LISTEN = 10,
	NSN_SS_CLOSING = 11,
	NSN_SS_MAX = 12
};

/** Every state ss asks the kernel for (0xFFF); see nsn_state. */
#define NSN_STATES_ALL ((1u << NSN_SS_MAX) - 1)

/** tcp_info subset shown with --info (times in microseconds / milliseconds as named). */
struct nsn_tcp_info {
	char cong[16];           /**< congestion control algorithm, "" if unknown */
	uint32_t rtt_us;         /**< smoothed RTT */
	uint32_t rttvar_us;      /**< RTT variance */
	uint32_t rto_us;         /**< retransmission timeout */
	uint32_t snd_cwnd;       /**< congestion window, segments */
	uint32_t snd_ssthresh;   /**< slow start threshold, segments */
	uint32_t snd_mss;        /**< sender MSS */
	uint32_t rcv_mss;        /**< receiver MSS */
	uint32_t retrans;        /**< segments currently retransmitted (unacked) */
	uint32_t total_retrans;  /**< retransmits over the connection's life */
	uint32_t last_data_sent_ms; /**< since last data sent */
	uint32_t last_data_recv_ms; /**< since last data received */
	uint32_t last_ack_recv_ms;  /**< since last ACK received */
	uint64_t bytes_acked;    /**< RFC 4898 tcpEStatsAppHCThruOctetsAcked */
	uint64_t bytes_received; /**< RFC 4898 tcpEStatsAppHCThruOctetsReceived */
	uint64_t bytes_sent;     /**< bytes sent, incl. retransmits */
	uint64_t bytes_retrans;  /**< bytes retransmitted */
	uint64_t delivery_rate;  /**< bytes per second */
	uint8_t snd_wscale, rcv_wscale;
};

/** Socket memory (SK_MEMINFO_*), as ss -m prints it in skmem:(...). */
struct nsn_skmem {
	uint32_t rmem_alloc, rcvbuf, wmem_alloc, sndbuf;
	uint32_t fwd_alloc, wmem_queued, optmem, backlog, drops;
};

/** One end point: an IPv4/IPv6 address and port (network byte order is NOT used). */
struct nsn_endpoint {
	uint8_t addr[16]; /**< IPv4 in the first 4 bytes, or IPv6 */
	uint16_t port;    /**< host byte order; for raw sockets the IP protocol number */
};

/** One socket, as sock_diag reported it. */
struct nsn_sock {
	uint8_t proto;  /**< enum nsn_proto */
	uint8_t family; /**< AF_INET, AF_INET6 or AF_UNIX */
	uint8_t state;  /**< enum nsn_state */
	uint8_t type;   /**< SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET or SOCK_RAW */
	int8_t v6only;  /**< IPV6_V6ONLY for AF_INET6: 1, 0, or -1 when not reported */
	uint32_t recv_q, send_q;
	uint32_t uid;   /**< owner uid; UINT32_MAX when not reported */
	uint32_t inode; /**< sockfs inode, 0 for TIME-WAIT and request sockets */
	uint32_t ifindex; /**< SO_BINDTODEVICE, 0 if unbound */
	uint64_t cookie;  /**< kernel socket cookie */
	struct nsn_endpoint local, peer; /**< inet sockets only */
	uint32_t peer_inode;  /**< unix: the peer's inode, 0 if none */
	const char *path;     /**< unix: name, abstract names start with '@'; NULL if unnamed */
	const char *dev;      /**< name of ifindex inside the socket's namespace, or NULL */
	const struct nsn_tcp_info *tcp_info; /**< with NSN_GATHER_INFO, TCP only; else NULL */
	const struct nsn_skmem *skmem;       /**< with NSN_GATHER_INFO; else NULL */
};

/** A next hop of a route: a single-path route has one, a multipath route several. */
struct nsn_nexthop {
	uint8_t gw_family;  /**< AF_INET or AF_INET6 when there is a gateway, else 0 */
	uint8_t gateway[16];
	uint8_t weight;     /**< as ip prints it (rtnh_hops + 1); 0 for a single-path route */
	uint32_t flags;     /**< RTNH_F_* (onlink, linkdown, dead, ...) */
	uint32_t ifindex;   /**< output interface, 0 if none */
	const char *dev;    /**< its name inside the namespace, or NULL */
};

/** One route of any table, as an RTM_NEWROUTE dump reported it. */
struct nsn_route {
	uint8_t family;     /**< AF_INET or AF_INET6 */
	uint8_t type;       /**< RTN_* (unicast, local, broadcast, multicast, blackhole, ...) */
	uint8_t protocol;   /**< RTPROT_* */
	uint8_t scope;      /**< RT_SCOPE_* */
	uint8_t tos;
	uint8_t dst_len, src_len;
	uint8_t pref;       /**< IPv6 router preference (ICMPV6_ROUTER_PREF_*), 0xff if none */
	bool has_dst, has_src, has_prefsrc, has_metric;
	uint32_t table;     /**< RT_TABLE_* or a custom table id */
	uint32_t metric;    /**< RTA_PRIORITY */
	uint32_t flags;     /**< RTM_F_* of the message */
	uint32_t mtu, advmss, hoplimit; /**< RTAX metrics, 0 if unset */
	uint32_t metrics_locked; /**< RTAX_LOCK: bit (1 << RTAX_MTU) etc. for a locked metric */
	int32_t expires;    /**< seconds until the route expires (RTA_CACHEINFO), 0 if it does not */
	uint8_t dst[16], src[16], prefsrc[16];
	bool multipath;     /**< came with RTA_MULTIPATH */
	struct nsn_nexthop *nh;
	size_t n_nh;
};

/** One policy routing rule (ip rule). */
struct nsn_rule {
	uint8_t family;     /**< AF_INET or AF_INET6 */
	uint8_t action;     /**< FR_ACT_* */
	uint8_t src_len, dst_len, tos, protocol;
	bool has_src, has_dst, has_priority, has_fwmark, has_fwmask, invert;
	uint32_t priority, table, fwmark, fwmask, goto_target;
	uint32_t flags;     /**< FIB_RULE_* of the header: IIF/OIF_DETACHED, UNRESOLVED, ... */
	uint8_t src[16], dst[16];
	const char *iif, *oif; /**< NULL if not matched on */
};

/** One interface address (ip addr). */
struct nsn_addr {
	uint8_t family;     /**< AF_INET or AF_INET6 */
	uint8_t prefixlen;
	uint8_t scope;      /**< RT_SCOPE_* */
	bool has_peer, has_broadcast;
	uint32_t flags;     /**< IFA_F_* */
	uint32_t valid_lft, preferred_lft; /**< seconds; UINT32_MAX is forever */
	uint8_t local[16];
	uint8_t peer[16];   /**< point-to-point peer (IFA_ADDRESS when it differs) */
	uint8_t broadcast[16];
	const char *label;  /**< IPv4 label, or NULL */
};

/** The 64-bit interface counters (struct rtnl_link_stats64). */
struct nsn_link_stats {
	uint64_t rx_packets, tx_packets, rx_bytes, tx_bytes;
	uint64_t rx_errors, tx_errors, rx_dropped, tx_dropped;
	uint64_t multicast, collisions;
	uint64_t rx_length_errors, rx_over_errors, rx_crc_errors, rx_frame_errors;
	uint64_t rx_fifo_errors, rx_missed_errors;
	uint64_t tx_aborted_errors, tx_carrier_errors, tx_fifo_errors;
	uint64_t tx_heartbeat_errors, tx_window_errors;
	uint64_t rx_compressed, tx_compressed, rx_nohandler;
};

/** The other end of a veth, resolved across the scanned namespaces. */
struct nsn_link_peer {
	uint32_t ifindex;      /**< the peer's ifindex in its own namespace (IFLA_LINK) */
	int32_t netnsid;       /**< IFLA_LINK_NETNSID as this namespace numbers the peer's, -1 if same */
	const char *name;      /**< NULL until resolved */
	const struct nsn_netns *netns; /**< the peer's namespace, NULL until resolved */
};

/** One network interface with its addresses and counters. */
struct nsn_link {
	uint32_t ifindex;
	const char *name;
	const char *kind;     /**< IFLA_INFO_KIND (veth, bridge, vxlan, ...), NULL for none */
	uint32_t mtu;
	uint32_t flags;       /**< IFF_* as the kernel reports them (incl. LOWER_UP, DORMANT) */
	uint8_t operstate;    /**< IF_OPER_* */
	uint16_t arptype;     /**< ARPHRD_* */
	uint8_t mac_len;
	uint8_t mac[32];
	uint32_t txqlen;
	uint32_t master;      /**< ifindex of the bridge/bond it is enslaved to, 0 if none */
	uint32_t link;        /**< IFLA_LINK: lower device or veth peer ifindex, 0 if none */
	int32_t link_netnsid; /**< IFLA_LINK_NETNSID, -1 if absent (same namespace) */
	const char *qdisc;
	bool has_stats;
	struct nsn_link_stats stats;
	bool has_peer;        /**< a veth: peer below is meaningful */
	struct nsn_link_peer peer;
	struct nsn_addr *addrs;
	size_t n_addrs;
};

/** One protocol counter, named as nstat names it (TcpExtListenOverflows, Ip6InReceives). */
struct nsn_counter {
	const char *name;
	int64_t value;        /**< a few entries are gauges and may be -1 (TcpMaxConn) */
};

/**
 * A container, as its cgroup and its runtime's files (OCI bundle, runc state,
 * containers/storage, kubelet logs) describe it. Strings are NULL where unknown.
 */
struct nsn_container {
	const char *id;            /**< full lowercase hex id */
	const char *runtime;       /**< "containerd", "cri-o", "docker", "podman", "runc" or "crun" */
	const char *name;          /**< container name (the pod's container name for Kubernetes) */
	bool sandbox;              /**< a pod's sandbox (pause) container */
	const char *sandbox_id;    /**< id of its pod's sandbox container */
	const char *pod_uid;       /**< Kubernetes pod UID */
	const char *pod_name;
	const char *pod_namespace;
	const char *bundle;        /**< host path of the config.json that named it, NULL if none */
};

/** A container with processes in a namespace. */
struct nsn_netns_container {
	const struct nsn_container *c;
	pid_t pid;      /**< its lowest pid in this namespace */
	size_t n_pids;  /**< its processes (thread groups) in this namespace */
};

/** What attribution cost: how much came from the cache and how much was read. */
struct nsn_attr_stats {
	size_t processes;    /**< processes looked at */
	size_t cached;       /**< answered from the cache (same pid and start time) */
	size_t cgroup_reads; /**< /proc/<pid>/cgroup files read */
	size_t bundle_reads; /**< runtime files read (config.json, state.json, ...) */
	size_t containers;   /**< distinct containers found */
};

/** A process holding a socket through one of its file descriptors. */
struct nsn_proc_ref {
	pid_t pid;     /**< pid as seen in the gatherer's /proc (the host's pid namespace) */
	int fd;
	char comm[16];
	const struct nsn_container *container; /**< with NSN_GATHER_CONTAINERS, else NULL */
};

/** One network namespace and what was gathered from it. */
struct nsn_netns {
	uint64_t dev;   /**< nsfs device of the namespace file */
	uint64_t inode; /**< namespace inode (what `ip netns identify` and ls -L /proc/X/ns/net show) */
	/** SO_NETNS_COOKIE: unique for the boot and never reused, unlike the inode; 0 when
	 * the kernel lacks it (< 5.14) or the namespace could not be entered */
	uint64_t cookie;
	bool host;      /**< the namespace of PID 1 */
	bool current;   /**< the namespace the gatherer itself runs in */
	char **names;   /**< NULL-terminated list of names: /run/netns/NAME as NAME, other bind mounts by path */
	size_t n_names;
	pid_t pid;      /**< one process living in it (lowest pid), 0 if none (pinned only) */
	size_t n_pids;  /**< how many processes (thread groups) live in it */
	int err;        /**< 0, or -errno of the failure that prevented its dump (-ENOENT: vanished) */
	struct nsn_sock *socks;
	size_t n_socks;
	struct nsn_route *routes;     /**< with NSN_GATHER_ROUTES: every table, kernel order */
	size_t n_routes;
	struct nsn_rule *rules;       /**< with NSN_GATHER_ROUTES */
	size_t n_rules;
	struct nsn_link *links;       /**< with NSN_GATHER_LINKS, by ifindex */
	size_t n_links;
	struct nsn_counter *counters; /**< with NSN_GATHER_COUNTERS: snmp, netstat, snmp6 order */
	size_t n_counters;
	/** With NSN_GATHER_CONTAINERS: the containers with processes in it, by pod
	 * (namespace, name; sandbox first), then container name, then id. */
	struct nsn_netns_container *containers;
	size_t n_containers;
	void *priv;     /**< gatherer-private (candidate paths, arena) */
};

/** The result of one scan. */
/** What a BPF pass did (nsn_scan.bpf); all zero for a netlink scan. */
struct nsn_bpf_stats {
	size_t passes;     /**< program runs: the walk resumes where a full ring stopped it */
	size_t records;    /**< records read */
	size_t dups;       /**< duplicates removed (a socket moved during the lock-free walk) */
	size_t restarts;   /**< hash chains walked again (the walk ended in another chain) */
	size_t capped;     /**< chains cut at the length cap: sockets missed (in warnings) */
	size_t drops;      /**< records lost to a full ring (in warnings) */
	size_t netlink_ns; /**< namespaces dumped with sock_diag instead: private hash tables */
	size_t foreign;    /**< sockets of namespaces outside the scan (not discovered, or not asked for) */
	/** Sockets no process holds (TIME-WAIT, request, orphaned, unaccepted, kernel-owned)
	 * have no cookie until asked for one: each is looked up by its exact tuple (unix: by
	 * inode), as a dump would have made it. */
	size_t cookie_lookups;
	size_t cookie_missing; /**< left with cookie 0: gone by the lookup, another socket answered, or
				not looked up (the namespace could not be entered; its sockets are still reported) */
	double load_ms;    /**< loading and verifying the program, when this scan did it */
	double walk_ms;    /**< the pass itself, incl. reading the ring */
};

struct nsn_scan {
	struct nsn_netns **netns; /**< sorted: host first, then named (by name), then by inode */
	size_t n_netns;
	/** Filtered out (nsn_scan_filter_containers()): kept in netns[n_netns...] until
	 * nsn_scan_free(), as kept veths may still name them as peers. */
	size_t n_netns_hidden;
	char **warnings;          /**< one line each, NULL-terminated */
	size_t n_warnings;
	size_t n_vanished;        /**< namespaces that vanished between discovery and dump */
	size_t n_failed;          /**< namespaces whose dump failed for another reason */
	/** socket inode -> processes. With NSN_GATHER_PROCS every process; else, with
	 * NSN_GATHER_CONTAINERS, only the container processes needed to attribute sockets
	 * (those in the host namespace and in namespaces shared by several containers);
	 * otherwise NULL. */
	struct nsn_procmap *procs;
	struct nsn_container **containers; /**< with NSN_GATHER_CONTAINERS: every container found */
	size_t n_containers;
	struct nsn_attr_stats attr;        /**< with NSN_GATHER_CONTAINERS */
	double attr_ms;
	double discover_ms, dump_ms, procs_ms; /**< where the time went */
	/** Where the sockets came from: "bpf" or "netlink" (static strings). */
	const char *backend;
	struct nsn_bpf_stats bpf; /**< with backend "bpf" */
	/** With NSN_SCOPE_ONE and NSN_GATHER_LINKS: the host's other namespaces, whose
	 * interfaces were dumped only to name the veth peers of the one asked for. Owned
	 * by this scan; NULL otherwise. */
	struct nsn_scan *context;
};

/** ss's spelling of a state for a given protocol ("ESTAB", "UNCONN", "TIME-WAIT", ...). */
const char *nsn_state_name(unsigned state);

/** "tcp", "udp", "raw" or "unix". */
const char *nsn_proto_name(unsigned proto);

/** ss's Netid column: tcp, udp, raw, u_str, u_dgr, u_seq. */
const char *nsn_sock_netid(const struct nsn_sock *s);

/** The best short label of a namespace: its first name, "host", or its inode in decimal. */
const char *nsn_netns_label(const struct nsn_netns *ns, char *buf, size_t len);

/**
 * Processes holding the socket with inode @p inode.
 * @return the number of entries stored at *ret_refs (0 if none or no map); the array
 *         belongs to the map.
 */
size_t nsn_procmap_lookup(const struct nsn_procmap *map, uint32_t inode,
			  const struct nsn_proc_ref **ret_refs);

/**
 * The containers a socket belongs to: those of the processes holding it when the
 * process map knows them (a socket of a hostNetwork pod's process in the host
 * namespace belongs to that pod only); for a socket with no known holder in a
 * container, every container of its namespace, except in the host namespace (host
 * sockets are never copied into the pods that share it). Writes at most @p max
 * distinct pointers (more are not counted).
 * @return how many were written.
 */
size_t nsn_sock_containers(const struct nsn_scan *scan, const struct nsn_netns *ns,
			   const struct nsn_sock *s, const struct nsn_container **ret, size_t max);

/** Free a scan and everything it owns. NULL-safe. */
void nsn_scan_free(struct nsn_scan *scan);

#ifdef __cplusplus
}
#endif
#endif
