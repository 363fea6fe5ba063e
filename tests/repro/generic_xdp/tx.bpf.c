// SPDX-License-Identifier: GPL-2.0
/* tx.bpf.c — send side of the generic-XDP corruption reproducer: TC egress on the
 * sender's NIC (eth1). For IPv4 TCP to cfg.inner_daddr (per cfg.flags):
 *   TX_XFORM: swaps the 32-bit halves of every whole 8-byte word of the TCP payload (the
 *             stand-in for "encrypt"; a permutation of 16-bit words, so the checksum that
 *             the stack completes after TC egress (CHECKSUM_PARTIAL) stays right)
 *   TX_ENCAP: appends a 16-byte trailer "ee ee 11 11 ..." (its 16-bit words sum to
 *             0xffff pairs, so the TCP checksum that is completed later over the whole
 *             skb does not change; TX_NO_TRAILER: none) and inserts
 *             IPv4 (cfg.saddr -> cfg.daddr) | UDP 40000 -> 51820 (csum 0) | 16-byte header
 *             between the Ethernet and the inner IP header — WireGuard's data-message
 *             overhead (32 + 16 + 16 bytes), without crypto.
 * Without TX_ENCAP, transformed frames get IP TOS 4 so the receiver knows them, and
 * TX_PLAIN_TRAILER appends the trailer to the plain frame.
 * The sender must build one segment per skb: TCP always uses (software) GSO whatever the
 * device's features, so guest.sh sets eth1's gso_max_segs to 1; the few multi-segment skbs
 * TCP still builds (segmented only after TC egress) go out plain and untransformed.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <linux/tcp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ENCAP_PORT 51820
#define HDR_LEN 16
#define TRAILER_LEN 16
#define MAX_WORDS 200
#define XFORM_TOS 4 /* marks plain (not encapsulated) transformed frames */

enum { TX_XFORM = 1, TX_ENCAP = 2, TX_NO_TRAILER = 4, TX_PLAIN_TRAILER = 8 };

struct tx_cfg {
	__u32 flags;
	__u32 inner_daddr; /* network order */
	__u32 saddr, daddr; /* outer, network order */
};

enum { T_SEEN, T_OURS, T_ENCAP, T_ERR, T_GSO, T_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tx_cfg);
} tcfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, T_MAX);
	__type(key, __u32);
	__type(value, __u64);
} tcounters SEC(".maps");

static __always_inline void count(__u32 i)
{
	__u64 *v = bpf_map_lookup_elem(&tcounters, &i);

	if (v)
		__sync_fetch_and_add(v, 1);
}

struct encap {
	struct iphdr ip;
	struct udphdr udp;
	__u32 type, idx, ctr_lo, ctr_hi;
};

static __u64 seq;

SEC("tc")
int tx_egress(struct __sk_buff *skb)
{
	void *data, *data_end;
	struct ethhdr *eth;
	struct iphdr *in;
	struct tcphdr *tcp;
	struct tx_cfg *c;
	__u32 zero = 0, pay_off, in_len;

	count(T_SEEN);
	c = bpf_map_lookup_elem(&tcfg, &zero);
	if (!c)
		return TC_ACT_OK;
	if (skb->protocol != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	if (bpf_skb_pull_data(skb, skb->len))
		return TC_ACT_OK;
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	eth = data;
	in = (void *)(eth + 1);
	if ((void *)(in + 1) > data_end || in->ihl != 5 || in->protocol != IPPROTO_TCP ||
	    in->daddr != c->inner_daddr)
		return TC_ACT_OK;
	tcp = (void *)(in + 1);
	if ((void *)(tcp + 1) > data_end)
		return TC_ACT_OK;
	count(T_OURS);
	if (skb->gso_segs > 1 || skb->gso_size) {
		/* TCP builds a multi-segment skb now and then even with gso_max_segs 1
		 * (segmented after TC egress): let it through plain and untransformed;
		 * rx.bpf.c leaves it alone and the stack takes it on eth0. Counted. */
		count(T_GSO);
		return TC_ACT_OK;
	}
	if (!c->flags)
		return TC_ACT_OK;
	pay_off = sizeof(*eth) + sizeof(*in) + tcp->doff * 4;
	in_len = bpf_ntohs(in->tot_len);

	if (c->flags & TX_XFORM) {
		__u64 *p;
		int i;

		if (pay_off > 2048)
			return TC_ACT_SHOT;
		p = data + pay_off;
		for (i = 0; i < MAX_WORDS; i++) {
			__u64 *n = p + 1;

			/* keep clang from re-deriving p from data + offset (the verifier
			 * would lose the range check) */
			asm volatile("" : "+r"(p), "+r"(n));
			if ((void *)n > data_end)
				break;
			*p = (*p >> 32) | (*p << 32);
			p = n;
		}
	}

	if ((c->flags & TX_XFORM) && !(c->flags & TX_ENCAP)) {
		/* plain but transformed: mark it (TOS 4) so that rx.bpf.c only undoes
		 * the transform on frames that had it */
		__u16 old = *(__u16 *)in, new = (old & bpf_htons(0xff00)) | bpf_htons(XFORM_TOS);

		if (bpf_skb_store_bytes(skb, sizeof(*eth), &new, sizeof(new), 0) ||
		    bpf_l3_csum_replace(skb, sizeof(*eth) + 10, old, new, sizeof(new))) {
			count(T_ERR);
			return TC_ACT_SHOT;
		}
	}

	/* the trailer: with TX_ENCAP unless TX_NO_TRAILER; without it only with
	 * TX_PLAIN_TRAILER */
	if ((c->flags & TX_ENCAP) ? !(c->flags & TX_NO_TRAILER) : (c->flags & TX_PLAIN_TRAILER)) {
		__u8 trailer[TRAILER_LEN];
		__u32 len = skb->len, i;

		/* ee ee 11 11 ...: recognisable, and 0xeeee + 0x1111 = 0xffff, so the TCP
		 * checksum the stack completes over the whole skb stays right */
		for (i = 0; i < TRAILER_LEN; i++)
			trailer[i] = (i & 2) ? 0x11 : 0xee;
		if (bpf_skb_change_tail(skb, len + TRAILER_LEN, 0) ||
		    bpf_skb_store_bytes(skb, len, trailer, TRAILER_LEN, 0)) {
			count(T_ERR);
			return TC_ACT_SHOT;
		}
	}

	if (c->flags & TX_ENCAP) {
		struct encap e = {};
		__u32 csum = 0, i, tlen = (c->flags & TX_NO_TRAILER) ? 0 : TRAILER_LEN;
		__u16 *w = (__u16 *)&e.ip;

		if (bpf_skb_adjust_room(skb, sizeof(e), BPF_ADJ_ROOM_MAC, 0)) {
			count(T_ERR);
			return TC_ACT_SHOT;
		}
		e.ip.version = 4;
		e.ip.ihl = 5;
		e.ip.tot_len = bpf_htons(sizeof(e) + in_len + tlen);
		e.ip.id = bpf_htons((__u16)seq);
		e.ip.ttl = 64;
		e.ip.protocol = IPPROTO_UDP;
		e.ip.saddr = c->saddr;
		e.ip.daddr = c->daddr;
		for (i = 0; i < sizeof(e.ip) / 2; i++)
			csum += w[i];
		csum = (csum & 0xffff) + (csum >> 16);
		csum = (csum & 0xffff) + (csum >> 16);
		e.ip.check = (__u16)~csum;
		e.udp.source = bpf_htons(40000);
		e.udp.dest = bpf_htons(ENCAP_PORT);
		e.udp.len = bpf_htons(sizeof(e.udp) + HDR_LEN + in_len + tlen);
		e.type = bpf_htonl(4 << 24);
		e.ctr_lo = (__u32)seq++;
		if (bpf_skb_store_bytes(skb, sizeof(struct ethhdr), &e, sizeof(e), 0)) {
			count(T_ERR);
			return TC_ACT_SHOT;
		}
		count(T_ENCAP);
	}
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
