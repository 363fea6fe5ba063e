// SPDX-License-Identifier: GPL-2.0
/* rx.bpf.c — receive side of the generic-XDP corruption reproducer (no crypto).
 *
 * Attached to the receiving NIC (eth0). For IPv4 frames that tx.bpf.c built, i.e.
 *   eth | IPv4 | UDP dport 51820 | 16-byte dummy header | inner IPv4+TCP | 16-byte trailer
 * it (per cfg.flags)
 *   RX_XFORM:   undoes the sender's payload transform in place (every 8-byte word of the
 *               TCP payload has its 32-bit halves swapped; the stand-in for "decrypt in place")
 *   RX_STRIP:   strips outer IPv4/UDP/dummy header with bpf_xdp_adjust_head and the trailer
 *               with bpf_xdp_adjust_tail (RX_NO_TAIL: no adjust_tail; the sender then adds
 *               no trailer), and writes a new Ethernet header
 *   RX_TRIM:    without RX_STRIP: trims a plain frame to Ethernet + IP tot_len with
 *               bpf_xdp_adjust_tail (the sender appended a trailer to the plain frame)
 *   RX_REDIRECT: bpf_redirect()s the inner frame into cfg.ifindex (a veth end), with
 *               dst MAC cfg.dmac; otherwise XDP_PASS
 *   RX_CORRUPT: (control) flips one payload byte of every cfg.corrupt_every-th data frame
 *               without fixing the TCP checksum: shows whether TCP verifies the checksum
 * Without RX_STRIP it expects plain TCP to cfg.inner_daddr (the sender did not encapsulate;
 * with RX_XFORM only frames with IP TOS 4, the ones tx.bpf.c transformed).
 * Everything else: XDP_PASS untouched.
 * Two entry points with the same body: rx_xdp (SEC "xdp") and rx_frags (SEC "xdp.frags"),
 * because 6.9+ generic XDP prepares the skb differently for frags-aware programs
 * (skb_cow_data_for_xdp into the per-CPU system page_pool vs pskb_expand_head+linearize).
 * pass_xdp: XDP_PASS, for the veth peer end (veth needs it to accept redirects).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ENCAP_PORT 51820
#define HDR_LEN 16     /* dummy header after UDP */
#define TRAILER_LEN 16 /* dummy trailer after the inner packet */
#define MAX_WORDS 200  /* 8-byte payload words transformed (inner MTU <= 1600) */
#define XFORM_TOS 4    /* tx.bpf.c's mark on plain transformed frames */

enum { RX_XFORM = 1, RX_STRIP = 2, RX_REDIRECT = 4, RX_CORRUPT = 8, RX_NO_TAIL = 16, RX_TRIM = 32 };

struct rx_cfg {
	__u32 flags;
	__u32 ifindex;
	__u32 inner_daddr; /* network order */
	__u32 corrupt_every;
	__u8 dmac[6];
	__u8 smac[6];
};

enum { C_SEEN, C_OURS, C_XFORMED, C_STRIPPED, C_REDIRECTED, C_PASSED, C_CORRUPTED, C_ERR, C_NONLINEAR, C_TAILED, C_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rx_cfg);
} cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, C_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 i)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &i);

	if (v)
		__sync_fetch_and_add(v, 1);
}

/* Swap the 32-bit halves of every whole 8-byte word from payload to data_end: a
 * permutation of 16-bit words, so the TCP checksum stays valid either way. */
static __always_inline int xform(struct xdp_md *ctx, __u32 off)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 *p;
	int i;

	if (off > 2048)
		return -1;
	p = data + off;
	for (i = 0; i < MAX_WORDS; i++) {
		__u64 *n = p + 1;

		/* keep clang from re-deriving p from data + off (the verifier would
		 * lose the range check) */
		asm volatile("" : "+r"(p), "+r"(n));
		if ((void *)n > data_end)
			break;
		*p = (*p >> 32) | (*p << 32);
		p = n;
	}
	return 0;
}

static __always_inline int rx(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip, *in;
	struct udphdr *udp;
	struct tcphdr *tcp;
	struct rx_cfg *c;
	__u32 zero = 0, in_off, pay_off, in_len;
	int strip;

	count(C_SEEN);
	c = bpf_map_lookup_elem(&cfg, &zero);
	if (!c)
		return XDP_PASS;
	strip = c->flags & RX_STRIP;
	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->ihl != 5)
		return XDP_PASS;
	if (strip) {
		if (ip->protocol != IPPROTO_UDP)
			return XDP_PASS;
		udp = (void *)(ip + 1);
		if ((void *)(udp + 1) > data_end || udp->dest != bpf_htons(ENCAP_PORT))
			return XDP_PASS;
		in_off = sizeof(*eth) + sizeof(*ip) + sizeof(*udp) + HDR_LEN;
	} else {
		in_off = sizeof(*eth);
	}
	in = data + in_off;
	if ((void *)(in + 1) > data_end || in->ihl != 5 || in->protocol != IPPROTO_TCP ||
	    in->daddr != c->inner_daddr)
		return XDP_PASS;
	/* plain frames: only those tx.bpf.c handled (TOS 4) when transforming */
	if (!strip && (c->flags & RX_XFORM) && in->tos != XFORM_TOS)
		return XDP_PASS;
	tcp = (void *)(in + 1);
	if ((void *)(tcp + 1) > data_end)
		return XDP_PASS;
	count(C_OURS);
	if (bpf_xdp_get_buff_len(ctx) > (__u64)(data_end - data))
		count(C_NONLINEAR);
	pay_off = in_off + sizeof(*in) + tcp->doff * 4;
	in_len = bpf_ntohs(in->tot_len);
	if (in_len > 9000) {
		count(C_ERR);
		return XDP_PASS;
	}

	if (c->flags & RX_XFORM) {
		if (xform(ctx, pay_off) < 0) {
			count(C_ERR);
			return XDP_DROP;
		}
		count(C_XFORMED);
	}

	if ((c->flags & RX_CORRUPT) && c->corrupt_every &&
	    in_len > sizeof(*in) + sizeof(*tcp) + 64 &&
	    bpf_get_prandom_u32() % c->corrupt_every == 0) {
		__u8 *b;

		data = (void *)(long)ctx->data;
		data_end = (void *)(long)ctx->data_end;
		if (pay_off > 200)
			return XDP_PASS;
		b = data + pay_off;
		if ((void *)(b + 1) <= data_end) {
			*b ^= 0x01;
			count(C_CORRUPTED);
		}
	}

	if (strip) {
		if (bpf_xdp_adjust_head(ctx, in_off - sizeof(struct ethhdr))) {
			count(C_ERR);
			return XDP_DROP;
		}
		count(C_STRIPPED);
	}
	if (strip ? !(c->flags & RX_NO_TAIL) : (c->flags & RX_TRIM)) {
		long want;

		data = (void *)(long)ctx->data;
		data_end = (void *)(long)ctx->data_end;
		want = data_end - data;
		asm volatile("" : "+r"(want)); /* no 32-bit pointer arithmetic, please */
		want = (long)(sizeof(struct ethhdr) + in_len) - want;
		if (want && bpf_xdp_adjust_tail(ctx, (int)want)) {
			count(C_ERR);
			return XDP_DROP;
		}
		if (want)
			count(C_TAILED);
	}

	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (strip || (c->flags & RX_REDIRECT)) {
		/* redirect: dmac = the veth peer's MAC; pass: dmac = eth0's own MAC */
		__builtin_memcpy(eth->h_dest, c->dmac, ETH_ALEN);
		__builtin_memcpy(eth->h_source, c->smac, ETH_ALEN);
		eth->h_proto = bpf_htons(ETH_P_IP);
	}
	if (c->flags & RX_REDIRECT) {
		count(C_REDIRECTED);
		return bpf_redirect(c->ifindex, 0);
	}
	count(C_PASSED);
	return XDP_PASS;
}

SEC("xdp")
int rx_xdp(struct xdp_md *ctx)
{
	return rx(ctx);
}

SEC("xdp.frags")
int rx_frags(struct xdp_md *ctx)
{
	return rx(ctx);
}

SEC("xdp")
int pass_xdp(struct xdp_md *ctx __attribute__((unused)))
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
