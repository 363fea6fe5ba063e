/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * endpoint.h — a peer's endpoint, the one place that writes it. Every endpoint lives in
 * its slot of `endpoints` (include/xwg/maps.h) and is only read or written under the
 * slot's spin lock, so no reader ever sees half of an old and half of a new one:
 * - xwg_tx copies it before sending (xwg_endpoint_read);
 * - xwg_rx moves it after an authenticated packet from a new address (roaming,
 *   whitepaper §2.1: only authenticated packets may move an endpoint) and tells the
 *   daemon, again and again until the event fits the ring (xwg_endpoint_roam);
 * - the daemon's writes run here too, through xwg_endpoint_ctl (xwg_endpoint_apply).
 */
#ifndef XWG_BPF_LIB_ENDPOINT_H
#define XWG_BPF_LIB_ENDPOINT_H

#include "xwg/maps.h"
#include "bpf/lib/events.h"
#include "bpf/lib/map_defs.h"
#include "bpf/lib/parse.h"
#include "bpf/lib/flow_ports.h"

static __always_inline int xwg_addr6_eq(const __u8 *a, const __u8 *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3])) == 0;
}

/* The FlowPorts setting of peer @peer_id (0: off). */
static __always_inline __u32 xwg_peer_flow_ports(__u32 peer_id)
{
	struct xwg_peer *p = bpf_map_lookup_elem(&peers, &peer_id);

	return p ? p->flow_ports : 0;
}

/* Does @ep already name the sender of @o and the local address it reached? With
 * @flow_ports, any of the ports a FlowPorts peer sends its flows from is its port
 * (bpf/lib/flow_ports.h). */
static __always_inline int xwg_endpoint_matches(const struct xwg_endpoint *ep,
						const struct xwg_outer *o, __u32 flow_ports)
{
	if (ep->family != o->family ||
	    !xwg_flow_port_of(bpf_ntohs(ep->port), bpf_ntohs(o->sport), flow_ports))
		return 0;
	if (o->family == XWG_AF_INET)
		return ep->addr.v4 == *(const __be32 *)o->saddr &&
		       ep->src.v4 == *(const __be32 *)o->daddr;
	return xwg_addr6_eq(ep->addr.v6, o->saddr) && xwg_addr6_eq(ep->src.v6, o->daddr);
}

static __always_inline struct xwg_endpoint_slot *xwg_endpoint_slot(__u32 peer_id)
{
	return bpf_map_lookup_elem(&endpoints, &peer_id);
}

/* A consistent copy of @peer_id's endpoint; 0 when there is none (family 0). */
static __always_inline int xwg_endpoint_read(__u32 peer_id, struct xwg_endpoint *out)
{
	struct xwg_endpoint_slot *s = xwg_endpoint_slot(peer_id);

	if (!s)
		return 0;
	bpf_spin_lock(&s->lock);
	*out = s->ep;
	bpf_spin_unlock(&s->lock);
	return out->family != 0;
}

/* The daemon has heard of @generation (or a later one). */
static __always_inline void xwg_endpoint_mark_reported(struct xwg_endpoint_slot *s,
						       __u32 generation)
{
	bpf_spin_lock(&s->lock);
	if ((__s32)(generation - s->reported) > 0)
		s->reported = generation;
	bpf_spin_unlock(&s->lock);
}

/* After an authenticated packet from @peer_id with outer addresses @o, arrived on
 * @ifindex: the endpoint becomes its source if it moved, and the daemon hears of every
 * generation it has not heard of yet (the ring may have been full last time). */
static __always_inline void xwg_endpoint_roam(__u32 peer_id, const struct xwg_outer *o,
					      __u32 ifindex, __u32 flow_ports)
{
	struct xwg_endpoint_slot *s = xwg_endpoint_slot(peer_id);
	struct xwg_endpoint ep;
	__u32 generation;

	if (!s)
		return;
	/* Unlocked first look, the common case: nothing moved, nothing owed. A torn read
	 * here only sends us to the locked path, which looks again. */
	if (xwg_endpoint_matches(&s->ep, o, flow_ports) &&
	    *(volatile __u32 *)&s->generation == *(volatile __u32 *)&s->reported)
		return;
	bpf_spin_lock(&s->lock);
	if (!xwg_endpoint_matches(&s->ep, o, flow_ports)) {
		/* A FlowPorts peer that moved to a new address from one of its flow ports
		 * keeps its port: replies go to its ListenPort, where its daemon listens. */
		if (s->ep.family != o->family ||
		    !xwg_flow_port_of(bpf_ntohs(s->ep.port), bpf_ntohs(o->sport), flow_ports))
			s->ep.port = o->sport;
		s->ep.family = o->family;
		s->ep.ifindex = ifindex;
		__builtin_memcpy(s->ep.addr.v6, o->saddr, 16);
		__builtin_memcpy(s->ep.src.v6, o->daddr, 16);
		/* The daemon finds the next hop and path MTU; until then TX asks the FIB. */
		__builtin_memset(s->ep.nexthop.v6, 0, 16);
		s->ep.path_mtu = 0;
		s->generation++;
	}
	ep = s->ep;
	generation = s->generation;
	bpf_spin_unlock(&s->lock);
	if (generation != s->reported &&
	    xwg_event_emit(XWG_EVENT_ENDPOINT_CHANGED, peer_id, 0, &ep, generation))
		xwg_endpoint_mark_reported(s, generation);
}

/* The daemon's request @r (include/xwg/maps.h, on the stack); fills in its outcome. */
static __always_inline void xwg_endpoint_apply(struct xwg_endpoint_request *r)
{
	struct xwg_endpoint_slot *s = xwg_endpoint_slot(r->peer_id);
	struct xwg_endpoint *ep = &r->ep;

	r->result = 0;
	if (!s)
		return;
	bpf_spin_lock(&s->lock);
	switch (r->op) {
	case XWG_ENDPOINT_SET:
		/* The daemon knows this address: nothing to report. */
		s->ep = *ep;
		s->generation++;
		s->reported = s->generation;
		r->result = 1;
		break;
	case XWG_ENDPOINT_SET_ROUTE:
		if (s->generation != r->generation)
			break;
		s->ep.ifindex = ep->ifindex;
		__builtin_memcpy(s->ep.src.v6, ep->src.v6, 16);
		__builtin_memcpy(s->ep.nexthop.v6, ep->nexthop.v6, 16);
		s->ep.path_mtu = ep->path_mtu;
		r->result = 1;
		break;
	default:
		break;
	}
	*ep = s->ep;
	r->generation = s->generation;
	bpf_spin_unlock(&s->lock);
}

#endif /* XWG_BPF_LIB_ENDPOINT_H */
