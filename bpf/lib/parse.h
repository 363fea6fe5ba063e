/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * parse.h — header parsing shared by the programs: where the outer UDP datagram starts
 * in an XDP frame, and the inner IP packet's length and addresses. Each helper takes the
 * packet bounds and returns a pointer or NULL, so the caller keeps the verifier's view
 * of the bounds.
 */
#ifndef XWG_BPF_LIB_PARSE_H
#define XWG_BPF_LIB_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include "xwg/protocol.h"

/* IPv4 flags and fragment offset bits other than DF: a fragment. */
#define XWG_IP_FRAG_MASK 0x3fff

/* The outer addresses of a datagram, as the roaming logic compares them. */
struct xwg_outer {
	__u16 family;
	__be16 sport;
	__u8 saddr[16];
	__u8 daddr[16];
};

/*
 * Find the UDP header of an unfragmented IPv4 or IPv6 (no extension headers) datagram
 * behind Ethernet; *family is XWG_AF_INET or XWG_AF_INET6. Returns NULL for anything else: the
 * caller passes it on untouched. Cheap on purpose: it runs for every frame.
 */
static __always_inline struct udphdr *xwg_parse_udp(void *data, void *data_end, __u16 *family)
{
	struct ethhdr *eth = data;
	struct udphdr *udp;

	if ((void *)(eth + 1) > data_end)
		return NULL;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_UDP)
			return NULL;
		/* Only what the IP layer would take as IPv4: version 4, no options, whole. */
		if (ip->version != 4 || ip->ihl != 5 || (ip->frag_off & bpf_htons(XWG_IP_FRAG_MASK)))
			return NULL;
		udp = (void *)(ip + 1);
		*family = XWG_AF_INET;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end || ip6->version != 6 || ip6->nexthdr != IPPROTO_UDP)
			return NULL;
		udp = (void *)(ip6 + 1);
		*family = XWG_AF_INET6;
	} else {
		return NULL;
	}
	if ((void *)(udp + 1) > data_end)
		return NULL;
	return udp;
}

/* Copy the addresses and source port of the datagram whose UDP header xwg_parse_udp
 * found: the IP addresses sit right before it. */
static __always_inline void xwg_outer_read(const struct udphdr *udp, __u16 family,
					   struct xwg_outer *outer)
{
	outer->family = family;
	outer->sport = udp->source;
	if (family == XWG_AF_INET) {
		const struct iphdr *ip = (const void *)udp - sizeof(*ip);

		__builtin_memcpy(outer->saddr, &ip->saddr, 4);
		__builtin_memcpy(outer->daddr, &ip->daddr, 4);
	} else {
		const struct ipv6hdr *ip6 = (const void *)udp - sizeof(*ip6);

		__builtin_memcpy(outer->saddr, &ip6->saddr, 16);
		__builtin_memcpy(outer->daddr, &ip6->daddr, 16);
	}
}

#endif /* XWG_BPF_LIB_PARSE_H */
