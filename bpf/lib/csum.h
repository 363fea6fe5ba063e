/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * csum.h — Internet checksums (RFC 1071) for the headers xwg_tx writes: the outer IPv4
 * header, and the UDP checksum over pseudo-header, header and ciphertext (optional in
 * IPv4, mandatory in IPv6; we always fill it). The payload sum uses bpf_csum_diff() over
 * packet memory in constant-size chunks (512, 64, 4 bytes) so the verifier can bound
 * every access; UDP lengths here are multiples of 4 by construction (see xwg_tx).
 */
#ifndef XWG_BPF_LIB_CSUM_H
#define XWG_BPF_LIB_CSUM_H

#include <linux/bpf.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

static __always_inline __u16 xwg_csum_fold(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

static __always_inline __u16 xwg_csum_ipv4_header(const struct iphdr *ip)
{
	const __u16 *w = (const __u16 *)ip;
	__u64 sum = 0;

#pragma unroll
	for (int i = 0; i < (int)(sizeof(*ip) / 2); i++)
		sum += w[i];
	return xwg_csum_fold(sum);
}

struct xwg_pseudo6 {
	__u8 saddr[16];
	__u8 daddr[16];
	__be32 len;
	__be32 next;
};

struct xwg_pseudo4 {
	__be32 saddr;
	__be32 daddr;
	__be16 proto;
	__be16 len;
};

/* Sum @len bytes of the packet from @off on (len a multiple of 4), starting at @seed. */
static __always_inline __s64 xwg_csum_packet(struct __sk_buff *skb, __u32 off, __u32 len,
					     __s64 seed)
{
	__u32 done = 0;

	/* The packet is at most one MTU-sized frame: three 512-byte chunks cover it. */
	for (int i = 0; i < 3; i++) {
		void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
		void *p;

		if (len - done < 512)
			break;
		if (off + done > 2048)
			return -1;
		p = data + off + done;
		if (p + 512 > data_end)
			return -1;
		seed = bpf_csum_diff(NULL, 0, p, 512, seed);
		done += 512;
	}
	for (int i = 0; i < 8; i++) {
		void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
		void *p;

		if (len - done < 64)
			break;
		if (off + done > 2048)
			return -1;
		p = data + off + done;
		if (p + 64 > data_end)
			return -1;
		seed = bpf_csum_diff(NULL, 0, p, 64, seed);
		done += 64;
	}
	for (int i = 0; i < 16; i++) {
		void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
		void *p;

		if (len - done < 4)
			break;
		if (off + done > 2048)
			return -1;
		p = data + off + done;
		if (p + 4 > data_end)
			return -1;
		seed = bpf_csum_diff(NULL, 0, p, 4, seed);
		done += 4;
	}
	return done == len ? seed : -1;
}

/*
 * Fill the UDP checksum of the datagram whose IP header starts at @l3_off (IPv4 without
 * options or IPv6 without extension headers, per @family) and whose UDP length is
 * @udp_len. The checksum field must be zero on entry. Returns 0 or -1.
 */
static __always_inline int xwg_udp_csum_fill(struct __sk_buff *skb, __u16 family, __u32 l3_off,
					     __u32 l3_len, __u32 udp_len)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	__u32 udp_off = l3_off + l3_len;
	__s64 sum;
	__u16 check;

	if (udp_len & 3)
		return -1;
	if (family == 2) {
		struct iphdr *ip = data + l3_off;
		struct xwg_pseudo4 ph;

		if ((void *)(ip + 1) > data_end)
			return -1;
		ph.saddr = ip->saddr;
		ph.daddr = ip->daddr;
		ph.proto = bpf_htons(IPPROTO_UDP);
		ph.len = bpf_htons(udp_len);
		sum = bpf_csum_diff(NULL, 0, (__be32 *)&ph, sizeof(ph), 0);
	} else {
		struct ipv6hdr *ip6 = data + l3_off;
		struct xwg_pseudo6 ph;

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		__builtin_memcpy(ph.saddr, &ip6->saddr, 16);
		__builtin_memcpy(ph.daddr, &ip6->daddr, 16);
		ph.len = bpf_htonl(udp_len);
		ph.next = bpf_htonl(IPPROTO_UDP);
		sum = bpf_csum_diff(NULL, 0, (__be32 *)&ph, sizeof(ph), 0);
	}
	if (sum < 0)
		return -1;
	sum = xwg_csum_packet(skb, udp_off, udp_len, sum);
	if (sum < 0)
		return -1;
	check = xwg_csum_fold((__u64)sum);
	if (check == 0)
		check = 0xffff; /* zero means "no checksum" in UDP */
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	if (udp_off > 128)
		return -1;
	{
		struct udphdr *udp = data + udp_off;

		if ((void *)(udp + 1) > data_end)
			return -1;
		udp->check = check;
	}
	return 0;
}

#endif /* XWG_BPF_LIB_CSUM_H */
