/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * nexthop.h — where an encrypted packet leaves: always through one of the underlays
 * (config.underlay_ifindex), never through the tunnel or any other device, to the next
 * hop the daemon found for the endpoint or, until it has, the one the kernel's FIB names.
 */
#ifndef XWG_BPF_LIB_NEXTHOP_H
#define XWG_BPF_LIB_NEXTHOP_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "xwg/maps.h"
#include "xwg/drop_reasons.h"

static __always_inline int xwg_is_underlay(const struct xwg_config *cfg, __u32 ifindex)
{
	return ifindex && (ifindex == cfg->underlay_ifindex[0] ||
			   ifindex == cfg->underlay_ifindex[1] ||
			   ifindex == cfg->underlay_ifindex[2] ||
			   ifindex == cfg->underlay_ifindex[3]);
}

/* The underlay to reach @ep: the one it was learned on or the daemon chose, else the one
 * the FIB answers from the first underlay (a FIB lookup needs an input device with
 * forwarding on, so the underlay stands in for one). Else -reason: no route, or one
 * through a device that is no underlay (into the tunnel itself, say). */
static __always_inline int xwg_underlay_for(struct __sk_buff *skb, const struct xwg_endpoint *ep,
					      const struct xwg_config *cfg)
{
	struct bpf_fib_lookup fib = {};

	if (ep->ifindex)
		return xwg_is_underlay(cfg, ep->ifindex) ? (int)ep->ifindex : -XWG_DROP_TX_NOT_UNDERLAY;
	if (!cfg->underlay_ifindex[0])
		return -XWG_DROP_NO_ROUTE;
	fib.family = ep->family;
	fib.ifindex = cfg->underlay_ifindex[0];
	if (ep->family == XWG_AF_INET) {
		fib.ipv4_src = ep->src.v4;
		fib.ipv4_dst = ep->addr.v4;
	} else {
		__builtin_memcpy(fib.ipv6_src, ep->src.v6, 16);
		__builtin_memcpy(fib.ipv6_dst, ep->addr.v6, 16);
	}
	switch (bpf_fib_lookup(skb, &fib, sizeof(fib), BPF_FIB_LOOKUP_OUTPUT)) {
	case BPF_FIB_LKUP_RET_SUCCESS:
	case BPF_FIB_LKUP_RET_NO_NEIGH:
	case BPF_FIB_LKUP_RET_FWD_DISABLED: /* forwarding is off: trust the underlay */
		return xwg_is_underlay(cfg, fib.ifindex) ? (int)fib.ifindex : -XWG_DROP_TX_NOT_UNDERLAY;
	default:
		return -XWG_DROP_NO_ROUTE;
	}
}

/* Out of @ifindex to the endpoint's next hop. With a next hop from the daemon (strictly
 * on that underlay, gateway or on-link) no route lookup happens here: the kernel's
 * lookup for redirect_neigh() is not strict for IPv6 and would follow a more specific
 * route into the tunnel itself (AllowedIPs ::/0 installed as ::/1 + 8000::/1). */
static __always_inline int xwg_send_to_nexthop(const struct xwg_endpoint *ep, __u32 ifindex)
{
	struct bpf_redir_neigh nh = {};

	if (ep->family == XWG_AF_INET) {
		if (!ep->nexthop.v4)
			return bpf_redirect_neigh(ifindex, NULL, 0, 0);
		nh.nh_family = XWG_AF_INET;
		nh.ipv4_nh = ep->nexthop.v4;
	} else {
		const __u32 *w = (const __u32 *)ep->nexthop.v6;

		if (!(w[0] | w[1] | w[2] | w[3]))
			return bpf_redirect_neigh(ifindex, NULL, 0, 0);
		nh.nh_family = XWG_AF_INET6;
		__builtin_memcpy(nh.ipv6_nh, ep->nexthop.v6, 16);
	}
	return bpf_redirect_neigh(ifindex, &nh, sizeof(nh), 0);
}

#endif /* XWG_BPF_LIB_NEXTHOP_H */
