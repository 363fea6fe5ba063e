/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * endpoint.h — roaming: after a packet from a peer has been authenticated, its outer
 * source becomes the peer's endpoint (whitepaper §2.1). Only authenticated packets may
 * move an endpoint, so the caller runs this after the AEAD and the replay commit.
 */
#ifndef XWG_BPF_LIB_ENDPOINT_H
#define XWG_BPF_LIB_ENDPOINT_H

#include "xwg/maps.h"
#include "bpf/lib/parse.h"

static __always_inline int xwg_addr6_eq(const __u8 *a, const __u8 *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3])) == 0;
}

/* Does @ep already name the sender and the local address it reached? */
static __always_inline int xwg_endpoint_matches(const struct xwg_endpoint *ep,
						const struct xwg_outer *o)
{
	if (ep->family != o->family || ep->port != o->sport)
		return 0;
	if (o->family == 2)
		return ep->addr.v4 == *(const __be32 *)o->saddr &&
		       ep->src.v4 == *(const __be32 *)o->daddr;
	return xwg_addr6_eq(ep->addr.v6, o->saddr) && xwg_addr6_eq(ep->src.v6, o->daddr);
}

static __always_inline void xwg_endpoint_from_outer(struct xwg_endpoint *ep,
						    const struct xwg_outer *o, __u32 ifindex)
{
	ep->family = o->family;
	ep->port = o->sport;
	ep->ifindex = ifindex;
	__builtin_memcpy(ep->addr.v6, o->saddr, 16);
	__builtin_memcpy(ep->src.v6, o->daddr, 16);
}

#endif /* XWG_BPF_LIB_ENDPOINT_H */
