/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * maps.h — keys and values of the data plane's maps, the contract between the BPF
 * programs and the daemon. The daemon pins every map under /sys/fs/bpf/xwg/<ifname>/
 * by the name given here; values are plain structs with BTF, so
 * `bpftool map dump pinned /sys/fs/bpf/xwg/<ifname>/<map>` prints field names.
 *
 * Ownership, one writer per concept:
 * - the daemon writes config, peers, keypairs and the allowed-IPs tries;
 * - a keypair's state and send counter live in `keypair_slots` (mmapable): the daemon
 *   moves the state (live -> retired -> unused), the TX program and the daemon take
 *   counters from one atomic, and both programs check the state before touching a key;
 * - an endpoint lives in `endpoints` under a spin lock: every write, the daemon's
 *   included, is done by BPF code (bpf/lib/endpoint.h) under that lock, and every reader
 *   copies it under the lock, so no one ever sees half of one;
 * - the programs write counters, replay windows and the two event rings;
 * - the key reaper (`key_reaper`, a BPF timer) zeroes in place the keys of keypairs
 *   3 x REJECT_AFTER_TIME old, under the keypair's lock, and flags them WIPED; their
 *   slots and deletion stay the daemon's.
 *
 * Times are CLOCK_BOOTTIME nanoseconds (bpf_ktime_get_boot_ns()).
 */
#ifndef XWG_MAPS_H
#define XWG_MAPS_H

#include <linux/types.h>
#include <linux/bpf.h>
#include "xwg/protocol.h"

/* Map names as pinned. */
#define XWG_MAP_CONFIG "config"
#define XWG_MAP_PEERS "peers"
#define XWG_MAP_PEER_STATS "peer_stats"
#define XWG_MAP_KEYPAIRS "keypairs"
#define XWG_MAP_KEYPAIR_SLOTS "keypair_slots"
#define XWG_MAP_ENDPOINTS "endpoints"
#define XWG_MAP_ALLOWED_IPS4 "allowed_ips4"
#define XWG_MAP_ALLOWED_IPS6 "allowed_ips6"
#define XWG_MAP_DROPS "drops"
#define XWG_MAP_EVENTS "events"
#define XWG_MAP_STAGED "staged"
#define XWG_MAP_RX_CPUMAP "rx_cpumap"
#define XWG_MAP_LAYOUT "layout"
#define XWG_MAP_KEY_REAPER "key_reaper"
#define XWG_MAP_PODS "pods"

enum xwg_map_sizes {
	XWG_MAX_KEYPAIRS = 3 * XWG_MAX_PEERS,  /* previous, current, next per peer */
	XWG_EVENTS_RING_BYTES = 256 << 10,      /* events the daemon must see (no packets) */
	XWG_STAGED_RING_BYTES = 4 << 20,        /* staged and oversize packets */
	XWG_STAGED_MAX_LEN = XWG_MAX_MTU,       /* largest packet staged whole */
	XWG_MAX_PLAINTEXT = XWG_MAX_MTU,        /* largest padded packet the data plane seals */
	XWG_MAX_RX_CPUS = 64,                   /* rx_cpumap entries: CPU ids 0..63 */
	XWG_RX_CPUMAP_QSIZE = 2048,             /* frames queued per CPU */
	XWG_MAX_PODS = 16384,                   /* `pods` entries: addresses of local pods */
};

/* The one entry of `config` (array, key 0). */
struct xwg_config {
	__u16 listen_port;              /* UDP port, host byte order; 0 = down */
	__u16 mtu;                      /* tunnel MTU: padding never goes beyond it */
	__u32 tunnel_ifindex;           /* hidden veth end: RX redirects here */
	__u8 tunnel_mac[6];             /* visible end's MAC: destination of RX frames */
	__u8 hidden_mac[6];             /* hidden end's MAC: source of RX frames */
	__u32 underlay_ifindex[4];      /* underlays xwg_rx is attached to (0 = unused) */
	__u64 rekey_after_messages;
	__u64 reject_after_messages;
	__u64 rekey_after_time_ns;
	__u64 reject_after_time_ns;
	__u64 rekey_timeout_ns;         /* "handshake needed" events at most this often */
	__u32 rx_cpus;                  /* >= 2: decrypt on rx_cpu_ids[index % rx_cpus] */
	__u32 fwmark;                   /* skb->mark of encrypted packets (0 = leave it) */
	__u16 rx_cpu_ids[XWG_MAX_RX_CPUS]; /* CPUs with an rx_cpumap entry (online ones) */
};

/* The one entry of `layout` (array, key 0): a digest of every map's type, sizes and BTF
 * layout (loader/kernel/map_layout.cpp) and XWG_LAYOUT_EPOCH, written by the daemon that
 * created the maps. A daemon taking over pinned maps (a restart, an upgrade) reads them
 * only when its own digest is the same. This struct never changes. */
struct xwg_layout {
	__u8 digest[32];
};

/* Raise when the meaning of a field changes without its layout changing. */
#define XWG_LAYOUT_EPOCH 1

/* An endpoint as learned or configured; family 0 = unknown. */
struct xwg_endpoint {
	__u16 family;                   /* XWG_AF_INET or XWG_AF_INET6 */
	__be16 port;
	__u32 ifindex;                  /* underlay to send from (0: route lookup) */
	union {
		__be32 v4;
		__u8 v6[16];
	} addr;
	union {                         /* local source address to send from */
		__be32 v4;
		__u8 v6[16];
	} src;
	union {                         /* next hop on ifindex: gateway or addr itself; */
		__be32 v4;              /* all zero = unknown (TX asks the kernel's FIB, */
		__u8 v6[16];            /* as after roaming until the daemon fills it in) */
	} nexthop;
	__u32 path_mtu;                 /* largest outer IP packet the path carries whole
	                                 * (route or device MTU, or the PMTU the kernel
	                                 * learned); larger ones go to the daemon, whose
	                                 * socket fragments them. 0 = unknown: no limit */
};

/* `peers` (array indexed by peer id, 0..XWG_MAX_PEERS-1; id assigned by the daemon). */
struct xwg_peer {
	__u32 active;                   /* 0: slot unused */
	__u32 current_index;            /* local index of the keypair to send with, 0 = none */
	__u64 handshake_wanted_ns;      /* last "handshake needed" event (rate limit) */
	__u32 flow_ports;               /* FlowPorts, between xwg peers only: 0 = off, else
	                                 * xwg_tx sends each inner flow from one of this many
	                                 * ports next to ListenPort (its skb hash picks), and
	                                 * xwg_rx steers by that port (docs/many-cores.md) */
	__u32 pad0;
};

/* FlowPorts' upper bound (include/xwg/maps.h, struct xwg_peer). */
#define XWG_MAX_FLOW_PORTS 64

/* `endpoints` (array indexed by peer id): where a peer's packets go. Written only under
 * `lock` by bpf/lib/endpoint.h: by xwg_rx when an authenticated packet comes from a new
 * address (roaming), and by xwg_endpoint_ctl, which the daemon runs for its own writes. */
struct xwg_endpoint_slot {
	struct bpf_spin_lock lock;
	__u32 generation;               /* +1 whenever the address changes */
	__u32 reported;                 /* the generation the daemon has heard of: while they
	                                 * differ, xwg_rx (re)sends ENDPOINT_CHANGED */
	__u32 pad0;
	struct xwg_endpoint ep;
};

/* `peer_stats` (per-CPU array indexed by peer id): summed/maxed by the reader. */
struct xwg_peer_stats {
	__u64 rx_bytes;                 /* decrypted payload bytes delivered or keepalive */
	__u64 tx_bytes;                 /* plaintext bytes encrypted */
	__u64 rx_packets;
	__u64 tx_packets;
	__u64 last_rx_ns;               /* any authenticated packet */
	__u64 last_rx_data_ns;          /* authenticated non-keepalive */
	__u64 last_tx_ns;               /* any data packet sent by the data plane */
};

enum xwg_keypair_flags {
	XWG_KEYPAIR_INITIATOR = 1 << 0, /* we initiated: we rekey after REKEY_AFTER_TIME */
	XWG_KEYPAIR_CONFIRMED = 1 << 1, /* a data packet was received with it */
	XWG_KEYPAIR_WIPED = 1 << 2,     /* keys zeroed by the key reaper (xwg_key_reaper):
	                                 * 3 x REJECT_AFTER_TIME old; the daemon retires it */
};

/* RFC 6479 style sliding window of counters (see bpf/lib/replay.h), sized as WireGuard's
 * (include/xwg/protocol.h): a ring of XWG_REPLAY_WORDS u64 words (a power of two), one
 * word of which is always being recycled, so XWG_REPLAY_WINDOW counters behind the
 * greatest one are remembered. */
enum xwg_replay_sizes {
	XWG_REPLAY_WORDS = XWG_COUNTER_BITS_TOTAL / 64,
	XWG_REPLAY_WINDOW = XWG_COUNTER_WINDOW_SIZE,
};

struct xwg_replay {
	__u64 greatest;                 /* highest counter accepted + 1 (0: none yet) */
	__u64 bitmap[XWG_REPLAY_WORDS];
};

/* A keypair's life, kept in its slot of `keypair_slots` and changed only by the daemon:
 * UNUSED -> LIVE (installed) -> RETIRED (no program may start using it) -> after a kernel
 * grace period (every program that saw it LIVE has finished): keys wiped, entry deleted,
 * slot UNUSED and free for another keypair. Both programs use a keypair only when its
 * slot says LIVE for its local index. */
enum xwg_keypair_state {
	XWG_KEYPAIR_UNUSED = 0,
	XWG_KEYPAIR_LIVE = 1,
	XWG_KEYPAIR_RETIRED = 2,
};

/* `keypair_slots` (mmapable array, one slot per keypair that may be live). */
struct xwg_keypair_slot {
	__u64 send_counter;             /* the next counter to send with, taken atomically */
	__u32 state;                    /* enum xwg_keypair_state */
	__u32 local_index;              /* the keypair the slot belongs to */
};

/* `keypairs` (hash keyed by the local index peers put in data packets to us). */
struct xwg_keypair {
	__u8 recv_key[XWG_KEY_LEN];
	__u8 send_key[XWG_KEY_LEN];
	__u32 peer_id;
	__u32 remote_index;             /* index to put in packets we send */
	__u32 counter_slot;             /* entry of `keypair_slots` */
	__u32 flags;                    /* enum xwg_keypair_flags */
	__u64 birth_ns;
	struct bpf_spin_lock lock;      /* guards replay */
	__u32 pad0;
	struct xwg_replay replay;
};

/* `allowed_ips4` / `allowed_ips6` (LPM tries): value = peer id. */
struct xwg_lpm4_key {
	__u32 prefixlen;
	__u8 addr[4];
};
struct xwg_lpm6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

/* `events` ring buffer (and `staged`, for the two packet types): a header, then
 * type-specific data. */
enum xwg_event_type {
	XWG_EVENT_HANDSHAKE_NEEDED = 1, /* data to send, no usable keypair */
	XWG_EVENT_REKEY_NEEDED = 2,     /* REKEY_AFTER_MESSAGES, or initiator's REKEY_AFTER_TIME */
	XWG_EVENT_ENDPOINT_CHANGED = 3, /* authenticated packet from a new address; resent
	                                 * until it fits the ring (xwg_endpoint_slot) */
	XWG_EVENT_KEYPAIR_CONFIRMED = 4,/* first data received with a (responder's) keypair */
	XWG_EVENT_STAGED_PACKET = 5,    /* an inner packet waiting for a session */
	XWG_EVENT_OVERSIZE_PACKET = 6,  /* an inner packet whose sealed datagram exceeds the
	                                 * path MTU: the daemon sends it, fragmented */
};

struct xwg_event {
	__u32 type;                     /* enum xwg_event_type */
	__u32 peer_id;
	__u32 local_index;              /* KEYPAIR_CONFIRMED, REKEY_NEEDED */
	__u32 len;                      /* STAGED/OVERSIZE_PACKET: bytes of data[] used */
	__u32 generation;               /* ENDPOINT_CHANGED: the slot's generation */
	__u32 pad0;
	struct xwg_endpoint endpoint;   /* ENDPOINT_CHANGED */
};

/* What the daemon asks xwg_endpoint_ctl to do (BPF_PROG_TEST_RUN, the request as the
 * packet; the program writes the outcome back into it). */
enum xwg_endpoint_op {
	XWG_ENDPOINT_SET = 1,           /* a new address (configured, or a handshake's source) */
	XWG_ENDPOINT_SET_ROUTE = 2,     /* underlay, source, next hop, path MTU for the address
	                                 * of @generation; refused if it changed meanwhile */
};

struct xwg_endpoint_request {
	__u32 op;                       /* enum xwg_endpoint_op */
	__u32 peer_id;
	__u32 generation;               /* in: the generation meant; out: the slot's */
	__u32 result;                   /* out: 1 done, 0 refused */
	struct xwg_endpoint ep;         /* in: the new value; out: the slot's, afterwards */
};

/* `key_reaper` (array, one entry): a BPF timer that wipes keys 3 x REJECT_AFTER_TIME
 * after their birth, as WireGuard does, whether or not a daemon runs (bpf/lib/key_reaper.h).
 * The daemon arms it once at set-up (xwg_key_reaper_arm); from then on it re-arms itself,
 * walking `keypair_slots` a chunk at a time, one pass per period_ns, and lives as long as
 * the maps stay pinned. The rest is for people: `bpftool map dump pinned .../key_reaper`
 * shows that it runs and what it costs. */
struct xwg_key_reaper {
	struct bpf_timer timer;
	__u64 period_ns;                /* one pass over every slot */
	__u64 runs;                     /* chunks walked so far */
	__u64 passes;                   /* passes completed */
	__u64 last_run_ns;              /* CLOCK_BOOTTIME start of the last chunk */
	__u64 last_pass_ns;             /* CPU time of the last complete pass, all chunks */
	__u64 last_pass_visited;        /* keypairs the last complete pass looked at */
	__u64 pass_ns;                  /* the same for the pass under way */
	__u64 pass_visited;
	__u64 wiped;                    /* keypairs wiped so far */
	__u32 next_chunk;
	__u32 pad0;
};

/* What the daemon asks xwg_key_reaper_arm (BPF_PROG_TEST_RUN, the request as the packet;
 * the program writes the outcome back into it). Arming an armed reaper only sets its
 * period and callback, so a daemon that takes over pinned maps may arm it again. */
struct xwg_key_reaper_request {
	__u64 period_ns;                /* in: one pass over all slots (at least a ns per chunk) */
	__s32 result;                   /* out: 0 armed, else -errno of the timer helpers */
	__u32 pad0;
};
/* BPF_PROG_TEST_RUN of XDP takes no "packet" shorter than an Ethernet header. */
XWG_STATIC_ASSERT(sizeof(struct xwg_key_reaper_request) >= 14, "test-run input too short");

struct xwg_staged_packet {
	struct xwg_event event;
	__u8 data[XWG_STAGED_MAX_LEN];
};

/* `pods` (hash), written by the CNI plugin xwg-cni: the addresses of the pods on this
 * node. xwg_rx delivers a decrypted packet for one of them straight into its veth
 * (skipping bridge, routing and tunnel device); the pod's own TX program (xwg_pod_tx)
 * finds nothing here and needs nothing. Key: one address, IPv4 in the first 4 bytes. */
struct xwg_pod_key {
	__u32 family;                   /* XWG_AF_INET or XWG_AF_INET6 */
	__u8 addr[16];
};

struct xwg_pod {
	__u32 host_ifindex;             /* the pod veth's end on the node: redirect here */
	__u8 pod_mac[6];                /* the pod's own interface: destination MAC */
	__u8 host_mac[6];               /* the node's end: source MAC */
	__u64 owner;                    /* which ADD made it (container id and interface,
	                                 * hashed): what DEL removes, even without a result */
	__u32 flags;                    /* enum xwg_pod_flags */
	__u32 pad0;
};

enum xwg_pod_flags {
	XWG_POD_OWN_CLSACT = 1 << 0,    /* xwg-cni created the veth's clsact: DEL removes it */
};

#endif /* XWG_MAPS_H */
