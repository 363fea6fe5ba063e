/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * map_defs.h — the data plane's maps, declared once (BTF style) for both programs. The
 * layouts are in include/xwg/maps.h; the daemon pins the maps by these names under
 * /sys/fs/bpf/xwg/<ifname>/ and shares them between xwg_rx and xwg_tx.
 */
#ifndef XWG_BPF_LIB_MAP_DEFS_H
#define XWG_BPF_LIB_MAP_DEFS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "xwg/maps.h"
#include "xwg/drop_reasons.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xwg_config);
} config SEC(".maps");

/* Mmapable, so the daemon changes one field (current_index, endpoint) in place instead
 * of rewriting the whole value, which could undo an endpoint xwg_rx just learned. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, XWG_MAX_PEERS);
	__type(key, __u32);
	__type(value, struct xwg_peer);
} peers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XWG_MAX_PEERS);
	__type(key, __u32);
	__type(value, struct xwg_peer_stats);
} peer_stats SEC(".maps");

/* Not preallocated: a replaced or deleted element is freed only after an RCU grace
 * period, so a program holding a keypair never sees its memory reused for another
 * (whose key with this one's counter slot could repeat a nonce). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XWG_MAX_KEYPAIRS);
	__type(key, __u32);
	__type(value, struct xwg_keypair);
} keypairs SEC(".maps");

/* One u64 per keypair slot, mmapped by the daemon: the shared send counter. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, XWG_MAX_KEYPAIRS);
	__type(key, __u32);
	__type(value, __u64);
} send_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XWG_MAX_ALLOWED_IPS);
	__type(key, struct xwg_lpm4_key);
	__type(value, __u32);
} allowed_ips4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XWG_MAX_ALLOWED_IPS);
	__type(key, struct xwg_lpm6_key);
	__type(value, __u32);
} allowed_ips6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XWG_DROP_REASON_MAX);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, XWG_EVENTS_RING_BYTES);
} events SEC(".maps");

/* Where xwg_rx hands data packets when config.rx_cpus >= 2: each entry runs
 * xwg_rx_cpumap on that CPU, so decryption leaves the CPU that took the frame (in a
 * two-namespace lab, the one that also encrypted it). Filled by the daemon. */
struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__uint(max_entries, XWG_MAX_RX_CPUS);
	__type(key, __u32);
	__type(value, struct bpf_cpumap_val);
} rx_cpumap SEC(".maps");

/* Count a drop under its reason; returns @verdict so callers can `return xwg_drop(...)`. */
static __always_inline int xwg_drop(enum xwg_drop_reason reason, int verdict)
{
	__u32 key = reason;
	__u64 *n = bpf_map_lookup_elem(&drops, &key);

	if (n)
		*n += 1;
	return verdict;
}

/* Tell the daemon something through the events ring. Returns 0 when the ring was full
 * and the event is lost (callers that need it delivered retry later). @ep may be NULL. */
static __always_inline int xwg_event_emit(__u32 type, __u32 peer_id, __u32 local_index,
					  const struct xwg_endpoint *ep)
{
	struct xwg_event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);

	if (!ev)
		return 0;
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->peer_id = peer_id;
	ev->local_index = local_index;
	if (ep)
		ev->endpoint = *ep;
	bpf_ringbuf_submit(ev, 0);
	return 1;
}

static __always_inline struct xwg_config *xwg_config_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&config, &zero);
}

static __always_inline struct xwg_peer_stats *xwg_peer_stats_get(__u32 peer_id)
{
	return bpf_map_lookup_elem(&peer_stats, &peer_id);
}

#endif /* XWG_BPF_LIB_MAP_DEFS_H */
