// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * xwg_tx — TC ingress (clsact) on the hidden end of the tunnel device: the transmit half
 * of the data plane. The path itself is bpf/lib/send.h, shared with xwg_pod_tx.
 */
#include "bpf/lib/send.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

SEC("tc")
int xwg_tx(struct __sk_buff *skb)
{
	return xwg_send(skb, XWG_FROM_TUNNEL);
}
