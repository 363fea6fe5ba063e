/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * allowedips.h — cryptokey routing (whitepaper §2): the `allowed_ips4`/`allowed_ips6`
 * tries map an address to the one peer that owns it. TX sends a packet to the owner of
 * its destination; RX delivers a decrypted packet only if its source belongs to the peer
 * whose key opened it.
 */
#ifndef XWG_BPF_LIB_ALLOWEDIPS_H
#define XWG_BPF_LIB_ALLOWEDIPS_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include "bpf/lib/map_defs.h"

static __always_inline __u32 *xwg_allowedips_v4(const void *addr)
{
	struct xwg_lpm4_key key = {.prefixlen = 32};

	__builtin_memcpy(key.addr, addr, 4);
	return bpf_map_lookup_elem(&allowed_ips4, &key);
}

static __always_inline __u32 *xwg_allowedips_v6(const void *addr)
{
	struct xwg_lpm6_key key = {.prefixlen = 128};

	__builtin_memcpy(key.addr, addr, 16);
	return bpf_map_lookup_elem(&allowed_ips6, &key);
}

/* TX: the peer id owning the destination of the IP packet behind the Ethernet header of
 * @skb, or -reason; sets *inner_len (the IP packet's own length). */
static __always_inline int xwg_allowedips_dst_peer(struct __sk_buff *skb, __u32 *inner_len)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	__u32 *peer_id;

	if ((void *)(ip + 1) > data_end)
		return -XWG_DROP_TX_NOT_IP;
	if (ip->version == 4 && skb->protocol == bpf_htons(ETH_P_IP)) {
		*inner_len = bpf_ntohs(ip->tot_len);
		if (*inner_len < sizeof(*ip)) /* would seal as a keepalive */
			return -XWG_DROP_TX_NOT_IP;
		peer_id = xwg_allowedips_v4(&ip->daddr);
	} else if (ip->version == 6 && skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)ip;

		if ((void *)(ip6 + 1) > data_end)
			return -XWG_DROP_TX_NOT_IP;
		*inner_len = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
		peer_id = xwg_allowedips_v6(&ip6->daddr);
	} else {
		return -XWG_DROP_TX_NOT_IP;
	}
	if (*inner_len > skb->len - sizeof(struct ethhdr))
		return -XWG_DROP_TX_NOT_IP;
	if (!peer_id)
		return -XWG_DROP_NO_PEER;
	return *peer_id;
}

/* RX: 0 if the decrypted IP packet at @inner (@plain_len bytes of plaintext) comes from
 * inside @peer_id's allowed IPs, else -reason; sets *inner_len and *proto (the EtherType
 * to deliver it with). */
static __always_inline int xwg_allowedips_src_allowed(void *inner, void *data_end, __u32 peer_id,
						      __u32 *inner_len, __u16 *proto,
						      __u32 plain_len)
{
	struct iphdr *ip = inner;
	__u32 *owner;

	if ((void *)inner + 1 > data_end)
		return -XWG_DROP_INNER_NOT_IP;
	if (ip->version == 4) {
		__u32 len;

		if (plain_len < sizeof(*ip) || (void *)(ip + 1) > data_end)
			return -XWG_DROP_INNER_LENGTH;
		len = bpf_ntohs(ip->tot_len);
		if (len < sizeof(*ip) || len > plain_len)
			return -XWG_DROP_INNER_LENGTH;
		owner = xwg_allowedips_v4(&ip->saddr);
		*inner_len = len;
		*proto = bpf_htons(ETH_P_IP);
	} else if (ip->version == 6) {
		struct ipv6hdr *ip6 = inner;
		__u32 len;

		if (plain_len < sizeof(*ip6) || (void *)(ip6 + 1) > data_end)
			return -XWG_DROP_INNER_LENGTH;
		len = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
		if (len > plain_len)
			return -XWG_DROP_INNER_LENGTH;
		owner = xwg_allowedips_v6(&ip6->saddr);
		*inner_len = len;
		*proto = bpf_htons(ETH_P_IPV6);
	} else {
		return -XWG_DROP_INNER_NOT_IP;
	}
	if (!owner || *owner != peer_id)
		return -XWG_DROP_INNER_SRC_NOT_ALLOWED;
	return 0;
}

#endif /* XWG_BPF_LIB_ALLOWEDIPS_H */
