/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * flow_ports.h — FlowPorts, between two xwg peers that both set it (docs/many-cores.md):
 * each inner flow leaves from its own outer UDP source port, one of the peer's
 * flow_ports ports next to ListenPort, picked by the inner packet's skb hash. The
 * receiver's RSS and cpumap then spread the flows over CPUs, each flow staying on one
 * CPU and so in order. Ports are in host byte order here.
 */
#ifndef XWG_BPF_LIB_FLOW_PORTS_H
#define XWG_BPF_LIB_FLOW_PORTS_H

#include "xwg/maps.h"

/* The source port for a packet whose inner flow hashes to @hash: @listen_port without
 * FlowPorts (@n = 0), else @listen_port + 1 + hash % n, or as far below it where that
 * would pass 65535. */
static __always_inline __u16 xwg_flow_port(__u16 listen_port, __u32 n, __u32 hash)
{
	__u32 off;

	if (!n || n > XWG_MAX_FLOW_PORTS)
		return listen_port;
	off = 1 + hash % n;
	if ((__u32)listen_port + off > 65535)
		return (__u16)(listen_port - off);
	return (__u16)(listen_port + off);
}

/* May a peer whose packets come from @base send from @port, with @n flow ports? */
static __always_inline int xwg_flow_port_of(__u16 base, __u16 port, __u32 n)
{
	__u32 d = port > base ? port - base : base - port;

	return d == 0 || (n && n <= XWG_MAX_FLOW_PORTS && d <= n);
}

#endif /* XWG_BPF_LIB_FLOW_PORTS_H */
