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

/* Which layout the pinned maps have (include/xwg/maps.h: struct xwg_layout). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xwg_layout);
} layout SEC(".maps");

/* Mmapable, so the daemon changes one field (current_index) in place instead of
 * rewriting the whole value, which could undo what a program just wrote. */
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

/* Where each peer's packets go, under a spin lock (bpf/lib/endpoint.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XWG_MAX_PEERS);
	__type(key, __u32);
	__type(value, struct xwg_endpoint_slot);
} endpoints SEC(".maps");

/* Keys and replay windows. An entry is deleted only after its slot in keypair_slots was
 * RETIRED and a kernel grace period passed, so no program holds it any more when its
 * memory goes back to the allocator (which may hand it out again at once). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XWG_MAX_KEYPAIRS);
	__type(key, __u32);
	__type(value, struct xwg_keypair);
} keypairs SEC(".maps");

/* A keypair's state and send counter, mmapped by the daemon (include/xwg/maps.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, XWG_MAX_KEYPAIRS);
	__type(key, __u32);
	__type(value, struct xwg_keypair_slot);
} keypair_slots SEC(".maps");

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

/* Events the daemon must see; packets go to `staged`, so they never crowd these out. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, XWG_EVENTS_RING_BYTES);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, XWG_STAGED_RING_BYTES);
} staged SEC(".maps");

/* Where xwg_rx hands data packets when config.rx_cpus >= 2: each entry runs
 * xwg_rx_cpumap on that CPU, so decryption leaves the CPU that took the frame (in a
 * two-namespace lab, the one that also encrypted it). Filled by the daemon. */
struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__uint(max_entries, XWG_MAX_RX_CPUS);
	__type(key, __u32);
	__type(value, struct bpf_cpumap_val);
} rx_cpumap SEC(".maps");

/* The key reaper's timer (bpf/lib/key_reaper.h). An array: its timer is cancelled when
 * the last user reference (fd or pin) goes, so unpinning at `xwg down` stops it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xwg_key_reaper);
} key_reaper SEC(".maps");

/* The node's pods by address (include/xwg/maps.h); filled by xwg-cni, empty without it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XWG_MAX_PODS);
	__type(key, struct xwg_pod_key);
	__type(value, struct xwg_pod);
} pods SEC(".maps");

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
