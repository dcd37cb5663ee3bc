/* SPDX-License-Identifier: MIT */
/**
 * @file model.h
 * The record model shared by the gatherer, the CLI, the agent and the collector:
 * namespaces, sockets and the processes that hold them.
 *
 * Ownership: a struct nsn_scan owns every namespace, socket and string reachable from
 * it; nsn_scan_free() releases all of it. Nothing here depends on libnl or libuv.
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

/** A process holding a socket through one of its file descriptors. */
struct nsn_proc_ref {
	pid_t pid;     /**< pid as seen in the gatherer's /proc (the host's pid namespace) */
	int fd;
	char comm[16];
};

/** One network namespace and what was gathered from it. */
struct nsn_netns {
	uint64_t dev;   /**< nsfs device of the namespace file */
	uint64_t inode; /**< namespace inode (what `ip netns identify` and ls -L /proc/X/ns/net show) */
	bool host;      /**< the namespace of PID 1 */
	bool current;   /**< the namespace the gatherer itself runs in */
	char **names;   /**< NULL-terminated list of names: /run/netns/NAME as NAME, other bind mounts by path */
	size_t n_names;
	pid_t pid;      /**< one process living in it (lowest pid), 0 if none (pinned only) */
	size_t n_pids;  /**< how many processes (thread groups) live in it */
	int err;        /**< 0, or -errno of the failure that prevented its dump (-ENOENT: vanished) */
	struct nsn_sock *socks;
	size_t n_socks;
	void *priv;     /**< gatherer-private (candidate paths, arena) */
};

/** The result of one scan. */
struct nsn_scan {
	struct nsn_netns **netns; /**< sorted: host first, then named (by name), then by inode */
	size_t n_netns;
	char **warnings;          /**< one line each, NULL-terminated */
	size_t n_warnings;
	size_t n_vanished;        /**< namespaces that vanished between discovery and dump */
	size_t n_failed;          /**< namespaces whose dump failed for another reason */
	struct nsn_procmap *procs; /**< socket inode -> processes, or NULL without NSN_GATHER_PROCS */
	double discover_ms, dump_ms, procs_ms; /**< where the time went */
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

/** Free a scan and everything it owns. NULL-safe. */
void nsn_scan_free(struct nsn_scan *scan);

#ifdef __cplusplus
}
#endif
#endif
