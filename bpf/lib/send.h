/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * send.h — the transmit path (whitepaper §5.4.6): allowed IPs -> peer -> current keypair
 * -> counter -> pad, encrypt, tag -> outer IP/UDP/type-4 header -> out of the underlay
 * with bpf_redirect_neigh(). Without a usable keypair the packet is copied to the daemon
 * (staged ring) and dropped as "staged"; the daemon sends it once the handshake is done.
 *
 * Two programs run it: xwg_tx on the tunnel device's hidden end, whose visible end has
 * TSO/GSO/SG/tx-checksum off, so every packet is a finished, MTU-sized IPv4 or IPv6 packet
 * behind an Ethernet header; and xwg_pod_tx on a pod veth's node end (the CNI plugin
 * xwg-cni turns the same offloads off on the pod's end).
 */
#ifndef XWG_BPF_LIB_SEND_H
#define XWG_BPF_LIB_SEND_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "xwg/wire.h"
#include "bpf/lib/map_defs.h"
#include "bpf/lib/drop.h"
#include "bpf/lib/events.h"
#include "bpf/lib/keypair.h"
#include "bpf/lib/endpoint.h"
#include "bpf/lib/allowedips.h"
#include "bpf/lib/nexthop.h"
#include "bpf/lib/csum.h"
#include "bpf/lib/flow_ports.h"
#include "bpf/lib/aead_bpf.h"

/* Where the packet came from: decides what happens to one this path cannot send. */
enum xwg_send_origin {
	XWG_FROM_TUNNEL, /* the tunnel device: dropped and counted */
	XWG_FROM_POD,    /* a pod's veth: left to the normal path (TC_ACT_OK) */
};

/* A packet this path will not send: from a pod it goes on unencrypted, uncounted (it
 * is not lost); from the tunnel device it is dropped under @reason. */
static __always_inline int send_refused(enum xwg_send_origin origin, enum xwg_drop_reason reason)
{
	return origin == XWG_FROM_POD ? TC_ACT_OK : xwg_drop(reason, TC_ACT_SHOT);
}

#define OUTER_TTL 64

/* Tell the daemon, at most once per rekey_timeout per peer (and again with the next
 * packet when the ring was full). */
static __always_inline void want_handshake(struct xwg_peer *peer, __u32 peer_id, __u32 type,
					   __u32 local_index, const struct xwg_config *cfg,
					   __u64 now)
{
	if (peer->handshake_wanted_ns && now - peer->handshake_wanted_ns < cfg->rekey_timeout_ns)
		return;
	if (xwg_event_emit(type, peer_id, local_index, NULL, 0))
		peer->handshake_wanted_ns = now;
}

/* Copy the inner packet to the daemon (the `staged` ring) as an event of @type (STAGED_PACKET: it sends it
 * once a session exists; OVERSIZE_PACKET: it seals it and its socket sends it
 * fragmented) and drop it here, counted under @reason. */
static __always_inline int to_daemon(struct __sk_buff *skb, __u32 peer_id, __u32 inner_len,
				     __u32 type, enum xwg_drop_reason reason)
{
	struct xwg_staged_packet *sp;
	__u64 len;

	if (inner_len > XWG_STAGED_MAX_LEN || inner_len == 0)
		return xwg_drop(XWG_DROP_STAGE_FULL, TC_ACT_SHOT);

	sp = bpf_ringbuf_reserve(&staged, sizeof(*sp), 0);
	if (!sp)
		return xwg_drop(XWG_DROP_STAGE_FULL, TC_ACT_SHOT);
	sp->event.type = type;
	sp->event.peer_id = peer_id;
	sp->event.local_index = 0;
	sp->event.len = inner_len;
	/* Bound the length again as 1 + [0, MAX - 1] on a 64-bit register: 6.1's verifier
	 * loses the 32-bit check above and learns nothing from "!= 0". */
	len = (__u64)inner_len - 1;
	__asm__ __volatile__("" : "+r"(len));
	if (len >= XWG_STAGED_MAX_LEN) {
		bpf_ringbuf_discard(sp, 0);
		return xwg_drop(XWG_DROP_STAGE_FULL, TC_ACT_SHOT);
	}
	len += 1;
	if (bpf_skb_load_bytes(skb, sizeof(struct ethhdr), sp->data, len)) {
		bpf_ringbuf_discard(sp, 0);
		return xwg_drop(XWG_DROP_STAGE_FULL, TC_ACT_SHOT);
	}
	bpf_ringbuf_submit(sp, 0);
	return xwg_drop(reason, TC_ACT_SHOT);
}

/* Zero @len (< 16) bytes at @off: the padding after the inner packet. */
static __always_inline int zero_padding(struct __sk_buff *skb, __u32 off, __u32 len)
{
	static const __u8 zeroes[XWG_MESSAGE_PADDING_MULTIPLE];

	__u64 n;

	if (len == 0)
		return 0;
	/* As 1 + [0, 14] on a 64-bit register, so 6.1's verifier sees len >= 1. */
	n = (__u64)len - 1;
	__asm__ __volatile__("" : "+r"(n));
	if (n >= sizeof(zeroes) - 1)
		return -1;
	return bpf_skb_store_bytes(skb, off, zeroes, n + 1, 0);
}

/* Write outer IP + UDP + type-4 header in front of the ciphertext at @l3. */
static __always_inline int write_outer(struct __sk_buff *skb, const struct xwg_endpoint *ep,
				       const struct xwg_keypair *kp, __u64 counter,
				       __u32 msg_len, __u16 sport)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct udphdr *udp;
	struct xwg_msg_data *hdr;
	__u32 udp_len = sizeof(*udp) + msg_len;

	if (ep->family == XWG_AF_INET) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end)
			return -1;
		eth->h_proto = bpf_htons(ETH_P_IP);
		ip->version = 4;
		ip->ihl = 5;
		ip->tos = 0;
		ip->tot_len = bpf_htons(sizeof(*ip) + udp_len);
		/* No DF, as WireGuard sends: a router before a narrower link fragments the
		 * packet instead of dropping it. Fragments are reassembled by (source,
		 * destination, protocol, id), so the id must differ between packets in flight:
		 * the message counter, offset by the peer's index, does for 65536 packets. */
		ip->id = bpf_htons((__u16)(counter + kp->remote_index));
		ip->frag_off = 0;
		ip->ttl = OUTER_TTL;
		ip->protocol = IPPROTO_UDP;
		ip->check = 0;
		ip->saddr = ep->src.v4;
		ip->daddr = ep->addr.v4;
		ip->check = xwg_csum_ipv4_header(ip);
		udp = (void *)(ip + 1);
	} else {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		eth->h_proto = bpf_htons(ETH_P_IPV6);
		*(__be32 *)ip6 = bpf_htonl(0x60000000);
		ip6->payload_len = bpf_htons(udp_len);
		ip6->nexthdr = IPPROTO_UDP;
		ip6->hop_limit = OUTER_TTL;
		__builtin_memcpy(&ip6->saddr, ep->src.v6, 16);
		__builtin_memcpy(&ip6->daddr, ep->addr.v6, 16);
		udp = (void *)(ip6 + 1);
	}
	hdr = (void *)(udp + 1);
	if ((void *)(hdr + 1) > data_end)
		return -1;
	udp->source = bpf_htons(sport);
	udp->dest = ep->port;
	udp->len = bpf_htons(udp_len);
	udp->check = 0;
	hdr->header.type = XWG_MSG_HEADER(XWG_MSG_DATA);
	hdr->key_idx = kp->remote_index;
	hdr->counter = counter;
	return 0;
}

/*
 * Encrypt the packet behind @skb's Ethernet header for the peer whose allowed IPs hold
 * its destination and send it out of the underlay; returns the TC verdict.
 *
 * From the tunnel device every packet is the tunnel's: what cannot go is dropped and
 * counted (or staged for the daemon). From a pod (xwg_pod_tx) only what this path can
 * finish is taken: anything else (no peer, no session yet, larger than the tunnel MTU,
 * a GSO packet) goes on unencrypted with TC_ACT_OK, to the bridge or the node's routing,
 * which sends it through the tunnel device (and its xwg_tx) when it is a peer's.
 */
static __always_inline int xwg_send(struct __sk_buff *skb, enum xwg_send_origin origin)
{
	struct xwg_config *cfg = xwg_config_get();
	__u32 inner_len = 0, padded, outer_l3_len, msg_len, local_index;
	struct xwg_endpoint ep;
	struct xwg_peer *peer;
	struct xwg_keypair *kp;
	struct xwg_keypair_slot *ks;
	__u64 counter, now, age;
	struct xwg_peer_stats *st;
	int peer_id, grow, ifindex;
	__u16 sport;
	__u64 flags;

	if (!cfg)
		return origin == XWG_FROM_POD ? TC_ACT_OK : TC_ACT_SHOT;
	/* A pod's veth may hand over a GSO super-packet: the kernel path segments it. */
	if (origin == XWG_FROM_POD && skb->gso_segs > 1)
		return TC_ACT_OK;
	if (bpf_skb_pull_data(skb, skb->len))
		return send_refused(origin, XWG_DROP_FRAME_TOO_BIG);
	peer_id = xwg_allowedips_dst_peer(skb, &inner_len);
	if (peer_id < 0)
		return send_refused(origin, -peer_id);
	peer = bpf_map_lookup_elem(&peers, &peer_id);
	if (!peer || !peer->active)
		return send_refused(origin, XWG_DROP_NO_PEER);
	/* Larger than the tunnel carries: the tunnel device's MTU check (frag-needed, Packet
	 * Too Big) is the kernel's, on the normal path. */
	if (origin == XWG_FROM_POD && inner_len > cfg->mtu)
		return TC_ACT_OK;

	now = bpf_ktime_get_boot_ns();
	local_index = peer->current_index;
	kp = local_index ? bpf_map_lookup_elem(&keypairs, &local_index) : NULL;
	ks = kp ? xwg_keypair_live(kp, local_index) : NULL;
	age = kp ? now - kp->birth_ns : 0;
	if (!ks || age >= cfg->reject_after_time_ns) {
		if (origin == XWG_FROM_POD) /* xwg_tx stages it and asks for the handshake */
			return TC_ACT_OK;
		want_handshake(peer, peer_id, XWG_EVENT_HANDSHAKE_NEEDED, 0, cfg, now);
		return to_daemon(skb, peer_id, inner_len, XWG_EVENT_STAGED_PACKET,
				 XWG_DROP_STAGED);
	}
	if (!xwg_endpoint_read(peer_id, &ep) ||
	    (ep.family != XWG_AF_INET && ep.family != XWG_AF_INET6))
		return send_refused(origin, XWG_DROP_NO_ENDPOINT);
	/* Only ever out of an underlay: decided before a counter or any work is spent. */
	ifindex = xwg_underlay_for(skb, &ep, cfg);
	if (ifindex < 0)
		return send_refused(origin, -ifindex);

	/* The inner flow's port, while the skb still holds the inner packet to hash. */
	sport = xwg_flow_port(cfg->listen_port, peer->flow_ports,
			      peer->flow_ports ? bpf_get_hash_recalc(skb) : 0);

	/* Pad to 16, never beyond the MTU (WireGuard's rule, include/xwg/protocol.h). */
	padded = xwg_padded_len(inner_len, cfg->mtu);
	if (padded > XWG_MAX_PLAINTEXT)
		return send_refused(origin, XWG_DROP_FRAME_TOO_BIG);
	outer_l3_len = ep.family == XWG_AF_INET ? sizeof(struct iphdr) : sizeof(struct ipv6hdr);
	msg_len = sizeof(struct xwg_msg_data) + padded + XWG_AEAD_TAG_LEN;
	/* Larger than the path carries whole: the daemon's socket sends it, and the
	 * kernel fragments it as it does for WireGuard's own UDP sends. */
	if (ep.path_mtu && outer_l3_len + sizeof(struct udphdr) + msg_len > ep.path_mtu) {
		if (origin == XWG_FROM_POD)
			return TC_ACT_OK;
		return to_daemon(skb, peer_id, inner_len, XWG_EVENT_OVERSIZE_PACKET,
				 XWG_DROP_TX_TO_DAEMON_OVERSIZE);
	}

	counter = __sync_fetch_and_add(&ks->send_counter, 1);
	if (counter >= cfg->reject_after_messages) {
		want_handshake(peer, peer_id, XWG_EVENT_HANDSHAKE_NEEDED, local_index, cfg, now);
		if (origin == XWG_FROM_POD)
			return TC_ACT_OK;
		return to_daemon(skb, peer_id, inner_len, XWG_EVENT_STAGED_PACKET,
				 XWG_DROP_STAGED);
	}
	/* Either side after REKEY_AFTER_MESSAGES, only the initiator after REKEY_AFTER_TIME. */
	if (counter >= cfg->rekey_after_messages ||
	    ((kp->flags & XWG_KEYPAIR_INITIATOR) && age >= cfg->rekey_after_time_ns))
		want_handshake(peer, peer_id, XWG_EVENT_REKEY_NEEDED, local_index, cfg, now);

	/* Room for the padding and the tag at the end ... */
	if (bpf_skb_change_tail(skb, sizeof(struct ethhdr) + padded + XWG_AEAD_TAG_LEN, 0))
		return xwg_drop(XWG_DROP_HEADROOM, TC_ACT_SHOT);
	if (padded > inner_len && zero_padding(skb, sizeof(struct ethhdr) + inner_len,
					       padded - inner_len))
		return xwg_drop(XWG_DROP_HEADROOM, TC_ACT_SHOT);

	/* ... and for outer IP, UDP and the type-4 header at the front. */
	grow = outer_l3_len + sizeof(struct udphdr) + sizeof(struct xwg_msg_data);
	flags = BPF_F_ADJ_ROOM_ENCAP_L4_UDP | (ep.family == XWG_AF_INET ?
		BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 : BPF_F_ADJ_ROOM_ENCAP_L3_IPV6);
	if (bpf_skb_adjust_room(skb, grow, BPF_ADJ_ROOM_MAC, flags))
		return xwg_drop(XWG_DROP_HEADROOM, TC_ACT_SHOT);

	if (xwg_aead_seal_skb(skb, sizeof(struct ethhdr) + grow, padded, kp->send_key, counter))
		return xwg_drop(XWG_DROP_FRAME_TOO_BIG, TC_ACT_SHOT);
	if (write_outer(skb, &ep, kp, counter, msg_len, sport))
		return xwg_drop(XWG_DROP_HEADROOM, TC_ACT_SHOT);
	if (xwg_udp_csum_fill(skb, ep.family, sizeof(struct ethhdr), outer_l3_len,
			      sizeof(struct udphdr) + msg_len))
		return xwg_drop(XWG_DROP_FRAME_TOO_BIG, TC_ACT_SHOT);

	st = xwg_peer_stats_get(peer_id);
	if (st) {
		st->tx_bytes += msg_len;
		st->tx_packets++;
		st->last_tx_ns = now;
	}
	if (cfg->fwmark)
		skb->mark = cfg->fwmark;
	return xwg_send_to_nexthop(&ep, ifindex);
}

#endif /* XWG_BPF_LIB_SEND_H */
