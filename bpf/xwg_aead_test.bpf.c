// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * xwg_aead_test — test harness for bpf/lib/aead_bpf.h (ChaCha20-Poly1305, RFC 8439), run
 * through BPF_PROG_TEST_RUN by tests/aead_bpf_test.cpp and bench/aead_bench.cpp. Never
 * attached to a device.
 *
 * Each program seals or opens the packet bytes [off, off + len) in place, with the tag
 * at off + len (len = packet length - off - 16), using the key, nonce, AAD and operation
 * the test wrote into .bss before the run:
 *   xwg_aead_test     XDP, the general form (any nonce, AAD): the RFC vectors
 *   xwg_aead_wg       XDP, the WireGuard form the data plane uses (nonce 0 || counter)
 *   xwg_aead_wg_skb   TC, the same on an skb
 * Verdicts: success XDP_TX / TC_ACT_OK, wrong tag XDP_DROP / TC_ACT_SHOT, anything else
 * XDP_ABORTED / TC_ACT_UNSPEC; the AEAD's return value is left in `result`.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "bpf/lib/aead_bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

enum aead_test_op {
	AEAD_TEST_SEAL = 0,
	AEAD_TEST_OPEN = 1,
};

/* Set by the test before each run (the skeleton's bss). */
__u8 key[XWG_AEAD_KEY_LEN];
__u8 aad[XWG_AEAD_MAX_AAD];
__u64 counter;
__u32 nonce0;
__u32 aad_len;
__u32 off;
__u32 op;
/* Written by each run. */
__s32 result;

/* The payload length the packet implies, or -1 when it is too short for off + tag. */
static __always_inline __s64 payload_len(__u32 pkt_len)
{
	if (pkt_len < off + XWG_AEAD_TAG_LEN)
		return -1;
	return (__s64)pkt_len - off - XWG_AEAD_TAG_LEN;
}

static __always_inline int xdp_verdict(int err)
{
	result = err;
	if (err == XWG_AEAD_ERR_AUTH)
		return XDP_DROP;
	return err ? XDP_ABORTED : XDP_TX;
}

SEC("xdp")
int xwg_aead_test(struct xdp_md *ctx)
{
	__s64 len = payload_len(ctx->data_end - ctx->data);

	if (len < 0)
		return xdp_verdict(XWG_AEAD_ERR_BOUNDS);
	if (op == AEAD_TEST_SEAL)
		return xdp_verdict(xwg_aead_seal_xdp_aad(ctx, off, len, key, nonce0, counter,
							 aad, aad_len));
	return xdp_verdict(xwg_aead_open_xdp_aad(ctx, off, len, key, nonce0, counter, aad,
						 aad_len));
}

SEC("xdp")
int xwg_aead_wg(struct xdp_md *ctx)
{
	__s64 len = payload_len(ctx->data_end - ctx->data);

	if (len < 0)
		return xdp_verdict(XWG_AEAD_ERR_BOUNDS);
	if (op == AEAD_TEST_SEAL)
		return xdp_verdict(xwg_aead_seal_xdp(ctx, off, len, key, counter));
	return xdp_verdict(xwg_aead_open_xdp(ctx, off, len, key, counter));
}

SEC("tc")
int xwg_aead_wg_skb(struct __sk_buff *skb)
{
	__s64 len = payload_len(skb->len);
	int err;

	if (len < 0) {
		result = XWG_AEAD_ERR_BOUNDS;
		return TC_ACT_UNSPEC;
	}
	/* What the TX program will do: make the whole payload and tag linear. */
	if (bpf_skb_pull_data(skb, skb->len)) {
		result = XWG_AEAD_ERR_BOUNDS;
		return TC_ACT_UNSPEC;
	}
	if (op == AEAD_TEST_SEAL)
		err = xwg_aead_seal_skb(skb, off, len, key, counter);
	else
		err = xwg_aead_open_skb(skb, off, len, key, counter);
	result = err;
	if (err == XWG_AEAD_ERR_AUTH)
		return TC_ACT_SHOT;
	return err ? TC_ACT_UNSPEC : TC_ACT_OK;
}
