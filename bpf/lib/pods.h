/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * pods.h — the node's pods (`pods`, written by the CNI plugin xwg-cni): a decrypted packet
 * for one of them goes straight into its veth, with the Ethernet header the bridge would
 * have given it, instead of through the tunnel device, routing and the bridge.
 */
#ifndef XWG_BPF_LIB_PODS_H
#define XWG_BPF_LIB_PODS_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include "bpf/lib/map_defs.h"

/* The pod that owns the destination of the IP packet at @inner (EtherType @proto, network
 * order), or NULL: not a pod of this node, or too short to tell. */
static __always_inline struct xwg_pod *xwg_pod_for_dst(void *inner, void *data_end, __u16 proto)
{
	struct xwg_pod_key key = {};

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = inner;

		if ((void *)(ip + 1) > data_end)
			return NULL;
		key.family = XWG_AF_INET;
		__builtin_memcpy(key.addr, &ip->daddr, 4);
	} else {
		struct ipv6hdr *ip6 = inner;

		if ((void *)(ip6 + 1) > data_end)
			return NULL;
		key.family = XWG_AF_INET6;
		__builtin_memcpy(key.addr, &ip6->daddr, 16);
	}
	return bpf_map_lookup_elem(&pods, &key);
}

#endif /* XWG_BPF_LIB_PODS_H */
