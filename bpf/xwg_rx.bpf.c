// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * xwg_rx — the receive half of the data plane, on each underlay: XDP (xwg_rx) where the
 * driver has native XDP, else TC ingress (xwg_rx_tc); the daemon also runs the same path
 * (xwg_rx_reassembled) over data messages the kernel reassembled from IP fragments.
 *
 * Frames that are not UDP to our listen port leave untouched (XDP_PASS) after a few
 * instructions. Handshake messages (types 1-3) with their exact lengths go on to the
 * daemon's UDP socket. Transport data (type 4) is authenticated, decrypted in place,
 * checked against the replay window and the peer's allowed IPs, stripped of its outer
 * headers and redirected into the tunnel device; everything else is dropped and counted
 * under its reason (include/xwg/drop_reasons.h). A keypair is used only while its slot
 * says LIVE (bpf/lib/keypair.h). Timers and roaming are reported to the daemon through
 * per-peer timestamps and the events ring; the endpoint moves under its lock
 * (bpf/lib/endpoint.h).
 *
 * With config.rx_cpus >= 2, xwg_rx only classifies and hands data packets to CPU
 * (receiver index % rx_cpus) through rx_cpumap, whose xwg_rx_cpumap does the rest: one
 * CPU per keypair, so a peer's packets stay in order, and the daemon chooses indices so
 * that the two ends of a tunnel on one host decrypt on different CPUs.
 *
 * Messages larger than a frame's linear part (multi-buffer XDP: jumbo frames) are
 * decrypted through a per-CPU copy; see rx_open_xdp().
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "xwg/wire.h"
#include "bpf/lib/map_defs.h"
#include "bpf/lib/drop.h"
#include "bpf/lib/events.h"
#include "bpf/lib/parse.h"
#include "bpf/lib/keypair.h"
#include "bpf/lib/endpoint.h"
#include "bpf/lib/allowedips.h"
#include "bpf/lib/replay.h"
#include "bpf/lib/aead_bpf.h"
#include "bpf/lib/csum.h"
#include "bpf/lib/pods.h"
#include "bpf/lib/flow_ports.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* The FlowPorts of the peer whose keypair has local index @index; 0 for none or off. */
static __always_inline __u32 rx_flow_ports(__u32 index)
{
	struct xwg_keypair *kp = bpf_map_lookup_elem(&keypairs, &index);

	return kp ? xwg_peer_flow_ports(kp->peer_id) : 0;
}

/* Account an authenticated packet to its peer; roam when its source moved. */
static __always_inline void peer_received(struct xwg_keypair *kp, const struct xwg_outer *outer,
					  __u32 ifindex, __u32 msg_len, __u64 now, int is_data)
{
	struct xwg_peer_stats *st = xwg_peer_stats_get(kp->peer_id);

	if (st) {
		st->rx_bytes += msg_len;
		st->rx_packets++;
		st->last_rx_ns = now;
		if (is_data)
			st->last_rx_data_ns = now;
	}
	xwg_endpoint_roam(kp->peer_id, outer, ifindex, xwg_peer_flow_ports(kp->peer_id));
}

/*
 * The same receive path serves two hooks: XDP (xwg_rx and friends, on drivers with
 * native XDP) and TC ingress (xwg_rx_tc, for every other driver: skbs, never generic
 * XDP). Functions take the context as void * and the hook as a constant, so each program
 * is compiled with only its own hook's helpers.
 */
enum rx_hook {
	RX_XDP,
	RX_TC,
};

static __always_inline void *rx_data_start(void *ctx, enum rx_hook hook)
{
	if (hook == RX_XDP)
		return (void *)(long)((struct xdp_md *)ctx)->data;
	return (void *)(long)((struct __sk_buff *)ctx)->data;
}

static __always_inline void *rx_data_end(void *ctx, enum rx_hook hook)
{
	if (hook == RX_XDP)
		return (void *)(long)((struct xdp_md *)ctx)->data_end;
	return (void *)(long)((struct __sk_buff *)ctx)->data_end;
}

/* The whole frame's length, fragments included. */
static __always_inline __u32 rx_frame_len(void *ctx, enum rx_hook hook)
{
	if (hook == RX_XDP)
		return (__u32)bpf_xdp_get_buff_len(ctx);
	return ((struct __sk_buff *)ctx)->len;
}

static __always_inline __u32 rx_ingress_ifindex(void *ctx, enum rx_hook hook)
{
	if (hook == RX_XDP)
		return ((struct xdp_md *)ctx)->ingress_ifindex;
	return ((struct __sk_buff *)ctx)->ingress_ifindex;
}

/* Verdicts: let the frame go on to the stack, or drop it. */
static __always_inline int rx_pass(enum rx_hook hook)
{
	return hook == RX_XDP ? XDP_PASS : TC_ACT_OK;
}

static __always_inline int rx_dropped(enum rx_hook hook)
{
	return hook == RX_XDP ? XDP_DROP : TC_ACT_SHOT;
}

/*
 * XDP: authenticate and decrypt the @plain_len bytes at @plain_off (the tag follows). In
 * place when the message sits in the frame's linear part; otherwise (multi-buffer XDP:
 * jumbo frames, or a reassembled datagram the daemon runs through xwg_rx_reassembled)
 * through a per-CPU copy: bpf_xdp_load_bytes() in, the AEAD over the copy, the plaintext
 * back with bpf_xdp_store_bytes(). 0, or a negative enum xwg_aead_error.
 */
static __always_inline int rx_open_xdp(struct xdp_md *ctx, __u32 plain_off, __u32 plain_len,
				       const __u8 *key, __u64 counter)
{
	long linear = (long)ctx->data_end - (long)ctx->data;
	struct xwg_aead_mem *m;
	__u64 n;
	int err;

	if ((long)plain_off + plain_len + XWG_AEAD_TAG_LEN <= linear)
		return xwg_aead_open_xdp(ctx, plain_off, plain_len, key, counter);
	m = xwg_aead_mem_get();
	if (!m || plain_len == 0 || plain_len > XWG_AEAD_MAX_LEN)
		return XWG_AEAD_ERR_BOUNDS;
	/* Lengths as 1 + [0, max - 1] on 64-bit registers: what 6.1's verifier can bound. */
	n = (__u64)plain_len + XWG_AEAD_TAG_LEN - 1;
	__asm__ __volatile__("" : "+r"(n));
	if (n >= XWG_AEAD_MAX_LEN + XWG_AEAD_TAG_LEN)
		return XWG_AEAD_ERR_BOUNDS;
	if (bpf_xdp_load_bytes(ctx, plain_off, m->bytes, n + 1))
		return XWG_AEAD_ERR_BOUNDS;
	err = xwg_aead_open_mem(NULL, 0, plain_len, key, counter);
	if (err)
		return err;
	n = (__u64)plain_len - 1;
	__asm__ __volatile__("" : "+r"(n));
	if (n >= XWG_AEAD_MAX_LEN)
		return XWG_AEAD_ERR_BOUNDS;
	if (bpf_xdp_store_bytes(ctx, plain_off, m->bytes, n + 1))
		return XWG_AEAD_ERR_BOUNDS;
	return 0;
}

/* One's-complement @a - @b of two 32-bit partial sums. */
static __always_inline __u32 rx_csum_sub(__u32 a, __u32 b)
{
	__u64 t = (__u64)a + (__u32)~b;

	return (__u32)((t & 0xffffffff) + (t >> 32));
}

/*
 * TC: the same in place over the (linear) skb. A driver may have summed the whole packet
 * into skb->csum (CHECKSUM_COMPLETE, which bpf_csum_update() accepts); decrypting in place
 * would leave that sum stale, so it is moved by the difference between ciphertext and
 * plaintext. (A CHECKSUM_UNNECESSARY verdict about the outer UDP is dropped by
 * bpf_skb_adjust_room() when the outer headers go, so the stack checks the inner packet.)
 */
static __always_inline int rx_open_skb(struct __sk_buff *skb, __u32 plain_off, __u32 plain_len,
				       const __u8 *key, __u64 counter)
{
	int complete = bpf_csum_update(skb, 0) >= 0;
	__s64 before = 0, after;
	int err;

	if (complete) {
		before = xwg_csum_packet(skb, plain_off, plain_len, 0);
		if (before < 0)
			return XWG_AEAD_ERR_BOUNDS;
	}
	err = xwg_aead_open_skb(skb, plain_off, plain_len, key, counter);
	if (err || !complete)
		return err;
	after = xwg_csum_packet(skb, plain_off, plain_len, 0);
	if (after < 0)
		return XWG_AEAD_ERR_BOUNDS;
	bpf_csum_update(skb, rx_csum_sub((__u32)after, (__u32)before));
	return 0;
}

/*
 * TC: leave Ethernet + the inner packet of @inner_len bytes at @plain_off. The tail
 * cannot simply be cut: bpf_skb_change_tail() refuses skbs marked as encapsulated (as
 * a sender's tunnel offload leaves them, xwg_tx's own included, when they cross a veth),
 * and a frame longer than the tunnel's MTU would be dropped by the veth. So the inner
 * packet moves (through the per-CPU buffer) to where it must end up, and one
 * bpf_skb_adjust_room() removes everything between the Ethernet header and it.
 * adjust_room keeps at least the outer IP header's length after the Ethernet header, so
 * an inner packet shorter than that keeps a few bytes of tail, which the IP layer trims
 * by its length field, as it trims Ethernet padding. Usually the packet moves back over
 * the padding and tag; when they are fewer than those few bytes (a peer need not pad:
 * a 20-byte IPv4 packet under an IPv6 header), it moves forward instead. skb->protocol
 * is set again from the new Ethernet header when the veth delivers the frame.
 */
static __always_inline int rx_strip_skb(struct __sk_buff *skb, __u32 plain_off, __u32 inner_len)
{
	__u32 outer_l3 = plain_off - sizeof(struct ethhdr) - sizeof(struct udphdr) -
			 sizeof(struct xwg_msg_data);
	__u32 keep = inner_len < outer_l3 ? outer_l3 - inner_len : 0;
	struct xwg_aead_mem *m;
	__u32 to;
	__u64 n;

	if (skb->len < plain_off + inner_len)
		return -1;
	to = skb->len - inner_len - keep; /* where the inner packet starts before the cut */
	if (to != plain_off) {
		m = xwg_aead_mem_get();
		if (!m)
			return -1;
		n = (__u64)inner_len - 1; /* 1 + [0, max - 1]: what 6.1's verifier bounds */
		__asm__ __volatile__("" : "+r"(n));
		if (n >= XWG_AEAD_MAX_LEN)
			return -1;
		if (bpf_skb_load_bytes(skb, plain_off, m->bytes, n + 1) ||
		    bpf_skb_store_bytes(skb, to, m->bytes, n + 1, 0))
			return -1;
	}
	return bpf_skb_adjust_room(skb, -(__s32)(to - sizeof(struct ethhdr)),
				   BPF_ADJ_ROOM_MAC, 0) ? -1 : 0;
}

/* Strip the outer headers, padding and tag, leaving Ethernet + the inner packet of
 * @inner_len bytes, and send it into the tunnel device (the hidden end of the veth), or
 * into the veth of the local pod it is for (bpf/lib/pods.h): the pod's end of that veth
 * has GRO on (xwg-cni), which lets it take redirected XDP frames. */
static __always_inline int rx_deliver(void *ctx, enum rx_hook hook, struct xwg_config *cfg,
				      __u32 plain_off, __u32 inner_len, __u16 proto)
{
	void *data, *data_end;
	struct xwg_pod *pod;
	struct ethhdr *eth;

	if (hook == RX_XDP) {
		long frame_len;

		if (bpf_xdp_adjust_head(ctx, (int)(plain_off - sizeof(struct ethhdr))))
			return xwg_drop(XWG_DROP_RX_REDIRECT_FAILED, XDP_DROP);
		frame_len = bpf_xdp_get_buff_len(ctx); /* linear part and fragments */
		if (bpf_xdp_adjust_tail(ctx, (int)(sizeof(struct ethhdr) + inner_len) -
						     (int)frame_len))
			return xwg_drop(XWG_DROP_RX_REDIRECT_FAILED, XDP_DROP);
	} else {
		if (rx_strip_skb(ctx, plain_off, inner_len))
			return xwg_drop(XWG_DROP_RX_REDIRECT_FAILED, TC_ACT_SHOT);
	}
	data = rx_data_start(ctx, hook);
	data_end = rx_data_end(ctx, hook);
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return xwg_drop(XWG_DROP_RX_REDIRECT_FAILED, rx_dropped(hook));
	eth->h_proto = proto;
	pod = xwg_pod_for_dst(eth + 1, data_end, proto);
	if (pod) {
		__builtin_memcpy(eth->h_dest, pod->pod_mac, ETH_ALEN);
		__builtin_memcpy(eth->h_source, pod->host_mac, ETH_ALEN);
		return bpf_redirect(pod->host_ifindex, 0);
	}
	__builtin_memcpy(eth->h_dest, cfg->tunnel_mac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, cfg->hidden_mac, ETH_ALEN);
	return bpf_redirect(cfg->tunnel_ifindex, 0);
}

static __always_inline int rx_data(void *ctx, enum rx_hook hook, struct xwg_config *cfg,
				   __u32 msg_off, __u32 msg_len, const struct xwg_outer *outer)
{
	void *data = rx_data_start(ctx, hook);
	void *data_end = rx_data_end(ctx, hook);
	struct xwg_msg_data *hdr = data + msg_off;
	__u32 plain_off = msg_off + sizeof(*hdr);
	__u32 plain_len, inner_len = 0, index, ifindex = rx_ingress_ifindex(ctx, hook);
	const int drop = rx_dropped(hook);
	struct xwg_keypair *kp;
	__u16 proto = 0;
	__u64 counter, now;
	int fresh, first_use = 0, err;

	if (msg_len < XWG_MSG_DATA_MIN_LEN)
		return xwg_drop(XWG_DROP_BAD_LENGTH, drop);
	if ((void *)(hdr + 1) > data_end)
		return xwg_drop(XWG_DROP_BAD_LENGTH, drop);
	index = hdr->key_idx;
	counter = hdr->counter;
	plain_len = msg_len - XWG_MSG_DATA_MIN_LEN;

	kp = bpf_map_lookup_elem(&keypairs, &index);
	if (!kp)
		return xwg_drop(XWG_DROP_UNKNOWN_INDEX, drop);
	/* Keys of a keypair being retired may already be wiped: never used. */
	if (!xwg_keypair_live(kp, index))
		return xwg_drop(XWG_DROP_KEYPAIR_RETIRED, drop);
	now = bpf_ktime_get_boot_ns();
	if (now - kp->birth_ns >= cfg->reject_after_time_ns)
		return xwg_drop(XWG_DROP_KEYPAIR_EXPIRED, drop);
	if (counter >= cfg->reject_after_messages)
		return xwg_drop(XWG_DROP_COUNTER_LIMIT, drop);
	if (!xwg_replay_check(&kp->replay, counter))
		return xwg_drop(XWG_DROP_REPLAYED, drop);

	if (hook == RX_XDP)
		err = rx_open_xdp(ctx, plain_off, plain_len, kp->recv_key, counter);
	else
		err = rx_open_skb(ctx, plain_off, plain_len, kp->recv_key, counter);
	if (err)
		return xwg_drop(err == XWG_AEAD_ERR_AUTH ? XWG_DROP_AUTH_FAILED : XWG_DROP_BAD_LENGTH,
				drop);

	bpf_spin_lock(&kp->lock);
	fresh = xwg_replay_commit(&kp->replay, counter);
	if (fresh && !(kp->flags & XWG_KEYPAIR_CONFIRMED)) {
		kp->flags |= XWG_KEYPAIR_CONFIRMED;
		first_use = 1;
	}
	bpf_spin_unlock(&kp->lock);
	if (!fresh)
		return xwg_drop(XWG_DROP_REPLAYED, drop);
	/* The responder switches keys on this event: if the ring is full, unmark the
	 * keypair so the next packet tries again. */
	if (first_use && !xwg_event_emit(XWG_EVENT_KEYPAIR_CONFIRMED, kp->peer_id, index, NULL, 0)) {
		bpf_spin_lock(&kp->lock);
		kp->flags &= ~XWG_KEYPAIR_CONFIRMED;
		bpf_spin_unlock(&kp->lock);
	}

	if (plain_len == 0) {
		peer_received(kp, outer, ifindex, msg_len, now, 0);
		return xwg_drop(XWG_DROP_KEEPALIVE, drop);
	}

	data = rx_data_start(ctx, hook);
	data_end = rx_data_end(ctx, hook);
	if (plain_off > 128) /* bounds the offset for the verifier: headers end by then */
		return xwg_drop(XWG_DROP_BAD_LENGTH, drop);
	err = xwg_allowedips_src_allowed(data + plain_off, data_end, kp->peer_id, &inner_len,
					 &proto, plain_len);
	if (err)
		return xwg_drop(-err, drop);
	/* Counted only now: an unauthorised inner packet must not look like traffic. */
	peer_received(kp, outer, ifindex, msg_len, now, 1);
	return rx_deliver(ctx, hook, cfg, plain_off, inner_len, proto);
}

enum rx_stage {
	RX_ON_NIC,    /* xwg_rx: may hand data packets to another CPU */
	RX_ON_CPU,    /* xwg_rx_cpumap, xwg_rx_reassembled, xwg_rx_tc: decrypt here */
};

/* Ethernet + IPv4 (no options) or IPv6 (no extensions) + UDP + a data header: what must
 * be linear to classify a frame. */
#define RX_HEADERS_MAX (sizeof(struct ethhdr) + sizeof(struct ipv6hdr) + sizeof(struct udphdr) + \
			sizeof(struct xwg_msg_data))

static __always_inline int rx_frame(void *ctx, enum rx_hook hook, enum rx_stage stage)
{
	void *data = rx_data_start(ctx, hook);
	void *data_end = rx_data_end(ctx, hook);
	const int drop = rx_dropped(hook);
	struct xwg_outer outer = {};
	struct xwg_config *cfg;
	struct udphdr *udp;
	__u32 msg_off, msg_len, type;
	__u16 family = 0;
	void *msg;

	udp = xwg_parse_udp(data, data_end, &family);
	if (!udp)
		return rx_pass(hook);
	cfg = xwg_config_get();
	if (!cfg || udp->dest != bpf_htons(cfg->listen_port) || !cfg->listen_port)
		return rx_pass(hook);

	msg = udp + 1;
	msg_len = bpf_ntohs(udp->len);
	if (msg_len < sizeof(*udp) + sizeof(struct xwg_msg_header))
		return xwg_drop(XWG_DROP_BAD_LENGTH, drop);
	msg_len -= sizeof(*udp);
	/* Ethernet + IPv4 (no options) or IPv6 (no extensions) + UDP: a constant per family. */
	msg_off = sizeof(struct ethhdr) + sizeof(*udp) +
		  (family == XWG_AF_INET ? sizeof(struct iphdr) : sizeof(struct ipv6hdr));
	/* The message may go on in fragments past the linear part (xdp.frags, or an skb's
	 * paged data); its header is always in the linear part. */
	if (msg_off + msg_len > rx_frame_len(ctx, hook) || msg + sizeof(__u32) > data_end)
		return xwg_drop(XWG_DROP_BAD_LENGTH, drop);
	type = *(__u32 *)msg;

	switch (type) {
	case XWG_MSG_HEADER(XWG_MSG_DATA):
		break;
	case XWG_MSG_HEADER(XWG_MSG_HANDSHAKE_INITIATION):
		return msg_len == XWG_MSG_INITIATION_LEN ? rx_pass(hook) :
			xwg_drop(XWG_DROP_BAD_LENGTH, drop);
	case XWG_MSG_HEADER(XWG_MSG_HANDSHAKE_RESPONSE):
		return msg_len == XWG_MSG_RESPONSE_LEN ? rx_pass(hook) :
			xwg_drop(XWG_DROP_BAD_LENGTH, drop);
	case XWG_MSG_HEADER(XWG_MSG_HANDSHAKE_COOKIE):
		return msg_len == XWG_MSG_COOKIE_LEN ? rx_pass(hook) :
			xwg_drop(XWG_DROP_BAD_LENGTH, drop);
	default:
		return xwg_drop(XWG_DROP_BAD_TYPE, drop);
	}

	if (hook == RX_XDP && stage == RX_ON_NIC && cfg->rx_cpus >= 2) {
		const struct xwg_msg_data *hdr = msg;
		__u32 cpu;
		long verdict;

		/* One CPU per keypair, so a peer's packets are decrypted in the order they
		 * came, as TCP wants them. The daemon picks the CPU through the index it
		 * gives out (loader/device.cpp, new_index()); others' indices spread. A
		 * FlowPorts peer sends each inner flow from its own port: one CPU per flow
		 * then, in order within each. */
		if ((void *)(hdr + 1) > data_end)
			return xwg_drop(XWG_DROP_BAD_LENGTH, XDP_DROP);
		cpu = hdr->key_idx;
		if (rx_flow_ports(cpu))
			cpu += bpf_ntohs(udp->source);
		cpu %= cfg->rx_cpus;
		if (cpu >= XWG_MAX_RX_CPUS)
			goto here;
		cpu = cfg->rx_cpu_ids[cpu];
		/* XDP_PASS back when the entry is missing: then decrypt right here */
		verdict = bpf_redirect_map(&rx_cpumap, cpu, XDP_PASS);
		if (verdict == XDP_REDIRECT)
			return XDP_REDIRECT;
	}
here:
	xwg_outer_read(udp, family, &outer);
	if (hook == RX_TC) {
		/* The AEAD works on linear packet memory: pull the whole skb in (a no-op when
		 * the driver built it linear). */
		if (bpf_skb_pull_data(ctx, ((struct __sk_buff *)ctx)->len))
			return xwg_drop(XWG_DROP_BAD_LENGTH, TC_ACT_SHOT);
	}
	return rx_data(ctx, hook, cfg, msg_off, msg_len, &outer);
}

/* Every XDP program here is multi-buffer aware (xdp.frags, Linux 5.18+): an underlay with
 * an MTU beyond a page (jumbo frames) accepts only such programs, and their frames arrive
 * as a linear part plus fragments. */
SEC("xdp.frags")
int xwg_rx(struct xdp_md *ctx)
{
	return rx_frame(ctx, RX_XDP, RX_ON_NIC);
}

/* The same path, run by the cpumap kthread of the CPU xwg_rx chose. */
SEC("xdp.frags/cpumap")
int xwg_rx_cpumap(struct xdp_md *ctx)
{
	return rx_frame(ctx, RX_XDP, RX_ON_CPU);
}

/* The same path again, never handing off to another CPU: the daemon runs it through
 * BPF_PROG_TEST_RUN over data messages that reached its UDP socket, which XDP could not
 * take because they arrived as IP fragments (the kernel reassembled them). A verdict of
 * XDP_REDIRECT leaves the decrypted frame in the run's output, which the daemon delivers
 * into the tunnel device; state (keypair, replay window, counters, roaming) is the one
 * the other programs use. */
SEC("xdp.frags")
int xwg_rx_reassembled(struct xdp_md *ctx)
{
	return rx_frame(ctx, RX_XDP, RX_ON_CPU);
}

/* The receive path on TC ingress of an underlay whose driver has no native XDP at its MTU
 * (generic XDP is never used: see README, "Drivers and receive paths"). skbs all the
 * way: the decrypted packet is redirected into the tunnel device like XDP's. */
SEC("tc")
int xwg_rx_tc(struct __sk_buff *skb)
{
	/* Classification reads the headers: make sure they are linear (usually they are). */
	if ((long)skb->data_end - (long)skb->data < (long)RX_HEADERS_MAX &&
	    bpf_skb_pull_data(skb, skb->len < RX_HEADERS_MAX ? skb->len : RX_HEADERS_MAX))
		return TC_ACT_OK;
	return rx_frame(skb, RX_TC, RX_ON_CPU);
}
