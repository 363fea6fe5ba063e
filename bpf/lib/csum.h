/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * csum.h — Internet checksums (RFC 1071) for the headers xwg_tx writes: the outer IPv4
 * header, and the UDP checksum over pseudo-header, header and ciphertext (optional in
 * IPv4, mandatory in IPv6; we always fill it). The payload sum uses bpf_csum_diff() over
 * packet memory in constant-size chunks (512, 64, 4 bytes) so the verifier can bound
 * every access, and a trailing 1-3 bytes are summed as a zero-padded word: padding stops
 * at the MTU, so a message can have any length.
 */
#ifndef XWG_BPF_LIB_CSUM_H
#define XWG_BPF_LIB_CSUM_H

#include <linux/bpf.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/udp.h>
#include "xwg/protocol.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include "xwg/protocol.h"

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

/* The furthest a summed byte may lie in the packet: headers plus the largest message. */
#define XWG_CSUM_MAX_END (128 + XWG_MAX_MTU + 64)

struct xwg_csum_walk {
	struct __sk_buff *skb;
	__u32 at;     /* next byte to sum */
	__u32 end;    /* one past the last */
	__s64 sum;    /* -1 once something was out of bounds */
};

/* Sum @n (a constant multiple of 4) bytes at @p into @w if at least @n are left; the
 * caller has checked @p + @n against the packet's end. */
#define XWG_CSUM_CHUNK(w, p, left, n)                                                  \
	do {                                                                           \
		if ((left) >= (n)) {                                                   \
			if ((void *)((p) + (n)) > end)                                 \
				goto fail;                                             \
			(w)->sum = bpf_csum_diff(NULL, 0, (__be32 *)(p), (n), (w)->sum); \
			(p) += (n);                                                    \
			(left) -= (n);                                                 \
		}                                                                      \
	} while (0)

/* One bpf_loop step: 512 bytes while at least that many are left (bpf_csum_diff's
 * largest), else the rest in one go: 256, 128, ..., 4 bytes, each if it still fits, and
 * the last 1-3 bytes as a word padded with zeroes (RFC 1071's odd byte; every chunk
 * before was a multiple of 4, so the word lines up with the sum). A 1452-byte datagram
 * takes three steps; the 64- and 4-byte steps it took before cost ~0.5 us per packet
 * in bpf_loop calls. Verified once, whatever the length: a loop with a counter in a
 * register would be walked once per length. */
static long xwg_csum_step(__u32 i, void *arg)
{
	struct xwg_csum_walk *w = arg;
	struct __sk_buff *skb = w->skb;
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	__u32 at = w->at, left = w->end - w->at;
	__u8 tail[4] = {};
	__u8 *p;

	(void)i;
	if (w->at >= w->end)
		return 1;
	__asm__ __volatile__("" : "+r"(at)); /* check and use the same register */
	if (at > XWG_CSUM_MAX_END)
		goto fail;
	p = data + at;
	if (left >= 512) {
		if ((void *)(p + 512) > end)
			goto fail;
		w->sum = bpf_csum_diff(NULL, 0, (__be32 *)p, 512, w->sum);
		w->at += 512;
		return w->sum < 0;
	}
	XWG_CSUM_CHUNK(w, p, left, 256);
	XWG_CSUM_CHUNK(w, p, left, 128);
	XWG_CSUM_CHUNK(w, p, left, 64);
	XWG_CSUM_CHUNK(w, p, left, 32);
	XWG_CSUM_CHUNK(w, p, left, 16);
	XWG_CSUM_CHUNK(w, p, left, 8);
	XWG_CSUM_CHUNK(w, p, left, 4);
	if (left) {
		for (int j = 0; j < 3; j++) {
			if ((__u32)j >= left)
				break;
			if ((void *)(p + j + 1) > end)
				goto fail;
			tail[j] = p[j];
		}
		w->sum = bpf_csum_diff(NULL, 0, (__be32 *)tail, 4, w->sum);
	}
	w->at = w->end;
	return 1;
fail:
	w->sum = -1;
	return 1;
}
#undef XWG_CSUM_CHUNK

/* Sum @len bytes of the packet from @off on (any length, at most one jumbo message),
 * starting at @seed; -1 when they are not all in the packet. */
static __always_inline __s64 xwg_csum_packet(struct __sk_buff *skb, __u32 off, __u32 len,
					     __s64 seed)
{
	/* steps: 512-byte ones, then one for the rest */
	enum { MAX_STEPS = XWG_CSUM_MAX_END / 512 + 1 };
	struct xwg_csum_walk w = {.skb = skb, .at = off, .end = off + len, .sum = seed};

	if (len > XWG_CSUM_MAX_END)
		return -1;
	bpf_loop(MAX_STEPS, xwg_csum_step, &w, 0);
	if (w.sum < 0 || w.at != w.end)
		return -1;
	return w.sum;
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

	if (family == XWG_AF_INET) {
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
