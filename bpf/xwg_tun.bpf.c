// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * xwg_tun — XDP on the visible end of the tunnel device. It only passes frames on: a veth
 * accepts frames that xwg_rx redirects into its peer only while an XDP program is
 * attached to it (or GRO is on), so this program is what lets decrypted packets in.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

SEC("xdp.frags") /* multi-buffer aware: a jumbo tunnel MTU needs it */
int xwg_tun(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}
