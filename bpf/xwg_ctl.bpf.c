// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * xwg_ctl — programs the daemon runs through BPF_PROG_TEST_RUN to change state that the
 * data plane's programs also write, so that the change happens under the programs' own
 * lock and by the same code (bpf/lib/endpoint.h), never as a second writer with
 * different rules.
 *
 * xwg_endpoint_ctl: the "packet" is a struct xwg_endpoint_request; the program applies
 * it to the peer's endpoint slot and writes the outcome back into it.
 * xwg_key_reaper_arm: starts the timer that wipes expired keys without the daemon.
 * Neither is ever attached to a device.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "bpf/lib/map_defs.h"
#include "bpf/lib/endpoint.h"
#include "bpf/lib/key_reaper.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

SEC("xdp")
int xwg_endpoint_ctl(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xwg_endpoint_request *in = data;
	struct xwg_endpoint_request r;

	if ((void *)(in + 1) > data_end)
		return XDP_ABORTED;
	r = *in;
	xwg_endpoint_apply(&r);
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	in = data;
	if ((void *)(in + 1) > data_end)
		return XDP_ABORTED;
	*in = r;
	return XDP_PASS;
}

/* xwg_key_reaper_arm: the "packet" is a struct xwg_key_reaper_request; arms the key
 * reaper's timer (bpf/lib/key_reaper.h) with its period and writes the outcome back. The
 * timer keeps this program alive after the daemon closes it. */
SEC("xdp")
int xwg_key_reaper_arm(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xwg_key_reaper_request *r = data;

	if ((void *)(r + 1) > data_end)
		return XDP_ABORTED;
	r->result = xwg_key_reaper_start(r->period_ns);
	return XDP_PASS;
}
