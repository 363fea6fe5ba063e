// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * xwg_pod_tx — TC ingress (clsact) on a pod veth's node end, attached by the CNI plugin
 * xwg-cni: a packet from the pod to a remote node's pod (a peer's allowed IPs) is
 * encrypted right here and leaves through the underlay, skipping the bridge, the routing
 * table and the tunnel device. Everything else, and whatever the fast path cannot finish,
 * goes on as if this program were not there (bpf/lib/send.h, XWG_FROM_POD).
 */
#include "bpf/lib/send.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

SEC("tc")
int xwg_pod_tx(struct __sk_buff *skb)
{
	return xwg_send(skb, XWG_FROM_POD);
}
