/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * aead_bpf.h — the BPF driver of aead.h: ChaCha20-Poly1305 in place over an XDP frame, an
 * skb (after bpf_skb_pull_data() made the bytes linear) or a per-CPU buffer ("mem", for
 * messages that are not in one linear piece of packet memory). @key is 32 bytes of map
 * value or stack; the data is @len bytes at @off, the tag at @off + @len. 0 on success,
 * else a negative enum xwg_aead_error:
 *   int xwg_aead_{seal,open}_{xdp,skb}(ctx, off, len, key, counter)
 *   int xwg_aead_open_mem(NULL, off, len, key, counter)    (the bytes: xwg_aead_mem_get())
 *   int xwg_aead_{seal,open}_xdp_aad(ctx, off, len, key, nonce0, counter, aad, aad_len)
 *                                   (aad: XWG_AEAD_MAX_AAD readable bytes)
 * with off <= XWG_AEAD_MAX_OFF and len <= XWG_AEAD_MAX_LEN. The flavours differ only in
 * where the bytes are (xwg_aead_span_xdp/skb/mem) and in their scratch slot; one
 * xwg_aead_run() does the rest, and another flavour or form is a one-line wrapper.
 *
 * How it stays verifiable and inside the 512-byte stack (which counts the whole call
 * chain): bpf_loop() (Linux 5.17+) calls one callback per four 64-byte chunks, which
 * bounds-checks its chunks against the data/end pair it gets from the caller's stack, so
 * the verifier checks it once whatever the length; the tail (< 64 bytes) is a bounded
 * loop. The per-message state (cipher state, four keystream blocks, MAC block: ~500
 * bytes) lives in a per-CPU scratch map, not on the stack, and the block functions are
 * subprograms (aead.h), so the AEAD adds about 200 bytes to its caller's chain. The hot
 * parts, the ChaCha20 rounds (four blocks interleaved, two for a message's last one or
 * two blocks) and four Poly1305 blocks at a time, are BPF assembly (chacha20.h,
 * poly1305.h) that keeps the working words in registers.
 */
#ifndef XWG_BPF_LIB_AEAD_BPF_H
#define XWG_BPF_LIB_AEAD_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "bpf/lib/aead.h"

/*
 * The state of one message lives in a per-CPU scratch map, not on the stack: the cipher
 * state, four keystream blocks and a MAC input block are 500 bytes, and the stack limit
 * counts every frame of the call chain. One slot per flavour: XDP and TC run in softirq
 * context and never interrupt themselves on a CPU.
 */
struct xwg_aead_scratch {
	struct xwg_aead a;
	__u32 ks[64];  /* four keystream blocks */
	__u32 buf[16]; /* the tail's ciphertext, zero-padded */
	__u32 off;
	__u32 len;
	__u32 err;
	__u32 pad0;
};

enum { XWG_AEAD_SLOT_XDP = 0, XWG_AEAD_SLOT_SKB = 1, XWG_AEAD_SLOT_MEM = 2 };

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, struct xwg_aead_scratch);
} xwg_aead_scratch SEC(".maps");

/*
 * The "mem" flavour's per-CPU buffer: for messages that do not sit in one linear piece of
 * packet memory (multi-buffer XDP: jumbo frames, and the daemon's reassembled datagrams),
 * which the caller copies in with bpf_xdp_load_bytes() and back out with
 * bpf_xdp_store_bytes(). Offsets are bounded by XWG_AEAD_MAX_OFF + XWG_AEAD_MAX_LEN
 * before every access, and the buffer has room for the widest access past such an offset
 * (four 64-byte blocks), which is what the verifier checks for map memory; the data/end
 * comparisons keep the logic honest.
 */
struct xwg_aead_mem {
	__u8 bytes[XWG_AEAD_MAX_OFF + XWG_AEAD_MAX_LEN + 4 * XWG_CHACHA20_BLOCK];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xwg_aead_mem);
} xwg_aead_mem SEC(".maps");

static __always_inline struct xwg_aead_mem *xwg_aead_mem_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&xwg_aead_mem, &zero);
}

/* Where a message's bytes are: packet data up to data_end (the verifier checks every
 * access against it) or the per-CPU buffer; and the scratch slot to use. */
struct xwg_aead_span {
	void *data;
	void *end;
	__u32 slot;
};

static __always_inline struct xwg_aead_span xwg_aead_span_xdp(struct xdp_md *ctx)
{
	return (struct xwg_aead_span){(void *)(long)ctx->data, (void *)(long)ctx->data_end,
				    XWG_AEAD_SLOT_XDP};
}

static __always_inline struct xwg_aead_span xwg_aead_span_skb(struct __sk_buff *skb)
{
	return (struct xwg_aead_span){(void *)(long)skb->data, (void *)(long)skb->data_end,
				    XWG_AEAD_SLOT_SKB};
}

/* data is NULL if the buffer cannot be had (xwg_aead_run() fails then). */
static __always_inline struct xwg_aead_span xwg_aead_span_mem(void)
{
	struct xwg_aead_mem *m = xwg_aead_mem_get();

	if (!m)
		return (struct xwg_aead_span){NULL, NULL, XWG_AEAD_SLOT_MEM};
	return (struct xwg_aead_span){m->bytes, m->bytes + sizeof(m->bytes), XWG_AEAD_SLOT_MEM};
}

/* A request with any nonce and AAD (the RFC vectors, the AEAD test program). */
struct xwg_aead_job {
	__u32 off;
	__u32 len;
	__u32 nonce[3];
	__u32 aad_len;
	__u32 seal; /* 1 seal, 0 open */
	const __u8 *key;
	const __u8 *aad;
};

/* What a bpf_loop callback gets (on the caller's stack): the state and the bytes. */
struct xwg_aead_loop {
	struct xwg_aead_scratch *st;
	void *data;
	void *end;
};

/* Key the message (block 0 keys Poly1305) and MAC the AAD. */
static __noinline __attribute__((unused)) void xwg_aead_start(struct xwg_aead_scratch *st,
							      const struct xwg_aead_job *job)
{
	xwg_aead_begin(&st->a, st->ks, job->key, job->nonce[0], job->nonce[1], job->nonce[2]);
	/* The AAD, zero-padded to 16; bytes past aad_len are masked off. Without AAD the
	 * pointer is NULL, which tells an older verifier (6.1), one that has lost track of
	 * aad_len == 0 on the caller's stack, that the loop below never runs. */
	if (!job->aad)
		return;
	for (__u32 b = 0; b < XWG_AEAD_MAX_AAD / 16; b++) {
		if (b * 16 >= job->aad_len)
			break;
		for (__u32 k = 0; k < 4; k++) {
			__u32 at = b * 16 + k * 4, w = xwg_le32_load(job->aad + at);

			if (at >= job->aad_len)
				w = 0;
			else if (job->aad_len - at < 4)
				w &= (1u << (8 * (job->aad_len - at))) - 1;
			st->a.m[k] = w;
		}
		xwg_aead_mac16(&st->a);
	}
}

/* Full 64-byte chunks 4i .. 4i + 3 (those there are): four keystream blocks per call. */
static __always_inline long xwg_aead_chunk(__u32 i, struct xwg_aead_loop *l, int mode)
{
	struct xwg_aead_scratch *st = l->st;
	void *end = l->end;
	__u32 at = st->off + i * (4 * XWG_CHACHA20_BLOCK);
	__u32 nfull = st->len / XWG_CHACHA20_BLOCK;
	__u8 *p;

	if (at > XWG_AEAD_MAX_OFF + XWG_AEAD_MAX_LEN)
		goto fail;
	p = l->data + at;
	if ((void *)(p + XWG_CHACHA20_BLOCK) > end)
		goto fail;
	/* the blocks this step and the tail need: two blocks cost less than four */
	if (mode != XWG_AEAD_MAC) {
		if ((st->len + XWG_CHACHA20_BLOCK - 1) / XWG_CHACHA20_BLOCK - 4 * i > 2)
			xwg_aead_keystream4(&st->a, 1 + 4 * i, st->ks);
		else
			xwg_aead_keystream2(&st->a, 1 + 4 * i, st->ks);
	}
XWG_UNROLL
	for (int k = 0; k < 4; k++) {
		if (k && 4 * i + k >= nfull)
			return 0;
		if ((void *)(p + (k + 1) * XWG_CHACHA20_BLOCK) > end)
			goto fail;
		xwg_aead_step64(&st->a, p + k * XWG_CHACHA20_BLOCK, st->ks + k * XWG_CHACHA20_WORDS,
				mode);
	}
	return 0;
fail:
	st->err = 1;
	return 1;
}

static __attribute__((unused)) long xwg_aead_mac_cb(__u32 i, void *l)
{
	return xwg_aead_chunk(i, l, XWG_AEAD_MAC);
}

static __attribute__((unused)) long xwg_aead_xor_cb(__u32 i, void *l)
{
	return xwg_aead_chunk(i, l, XWG_AEAD_XOR);
}

static __attribute__((unused)) long xwg_aead_seal_cb(__u32 i, void *l)
{
	return xwg_aead_chunk(i, l, XWG_AEAD_SEAL);
}

/* The last len % 64 bytes: whole words, then bytes, through a bounded loop; the
 * ciphertext collects in st->buf, zero-padded, and is MACed from there. */
static __noinline __attribute__((unused)) int xwg_aead_tail(const struct xwg_aead_loop *l,
							    int mode)
{
	struct xwg_aead_scratch *st = l->st;
	void *end = l->end;
	__u32 rem = st->len & (XWG_CHACHA20_BLOCK - 1);
	__u32 at = st->off + (st->len - rem);
	__u32 words = rem / 4;
	__u32 nchunks = st->len / XWG_CHACHA20_BLOCK;
	/* unless nchunks % 4 == 0 the last call left this block in ks[16 * (nchunks % 4)..] */
	__u32 ko = (nchunks & 3) * XWG_CHACHA20_WORDS;
	__u8 *p, *buf = (__u8 *)st->buf, *ks;
	__u32 j;

	if (!rem)
		return 0;
	__asm__ __volatile__("" : "+r"(at)); /* check and use the same register */
	if (at > XWG_AEAD_MAX_OFF + XWG_AEAD_MAX_LEN)
		return -1;
	p = l->data + at;
	if (mode != XWG_AEAD_MAC && !ko)
		xwg_aead_keystream(&st->a, 1 + nchunks, st->ks);
	ks = (__u8 *)st->ks + 4 * ko;
	__builtin_memset(st->buf, 0, sizeof(st->buf));
	for (j = 0; j < XWG_CHACHA20_WORDS; j++) {
		__u32 w, ct;

		if (j >= words)
			break;
		if ((void *)(p + 4 * j + 4) > end)
			return -1;
		w = ct = xwg_le32_load(p + 4 * j);
		if (mode != XWG_AEAD_MAC) {
			w ^= st->ks[ko + j];
			xwg_le32_store(p + 4 * j, w);
			if (mode == XWG_AEAD_SEAL)
				ct = w;
		}
		st->buf[j] = ct;
	}
	for (j = words * 4; j < words * 4 + 3; j++) {
		__u8 v;

		if (j >= rem || j >= XWG_CHACHA20_BLOCK)
			break;
		if ((void *)(p + j + 1) > end)
			return -1;
		v = p[j];
		if (mode != XWG_AEAD_MAC) {
			__u8 x = v ^ ks[j];

			p[j] = x;
			if (mode == XWG_AEAD_SEAL)
				v = x;
		}
		buf[j] = v;
	}
	if (mode == XWG_AEAD_XOR)
		return 0;
	for (j = 0; j < 4; j++) {
		if (j * 16 >= rem)
			break;
		st->a.m[0] = st->buf[4 * j];
		st->a.m[1] = st->buf[4 * j + 1];
		st->a.m[2] = st->buf[4 * j + 2];
		st->a.m[3] = st->buf[4 * j + 3];
		xwg_aead_mac16(&st->a);
	}
	return 0;
}

/* Seal or open per @job the bytes [data, end) hold, with scratch slot @slot (see the top
 * of this file). */
static __noinline __attribute__((unused)) int xwg_aead_run(void *data, void *end, __u32 slot,
							   const struct xwg_aead_job *job)
{
	struct xwg_aead_loop l = {.data = data, .end = end};
	__u32 nchunks, tag_at;
	struct xwg_aead_scratch *st;
	int ret = XWG_AEAD_ERR_BOUNDS;
	__u8 *p;

	if (!data || job->len > XWG_AEAD_MAX_LEN || job->off > XWG_AEAD_MAX_OFF ||
	    job->aad_len > XWG_AEAD_MAX_AAD)
		return XWG_AEAD_ERR_BOUNDS;
	st = bpf_map_lookup_elem(&xwg_aead_scratch, &slot);
	if (!st)
		return XWG_AEAD_ERR_BOUNDS;
	st->off = job->off;
	st->len = job->len;
	st->err = 0;
	l.st = st;
	xwg_aead_start(st, job);
	nchunks = (job->len / XWG_CHACHA20_BLOCK + 3) / 4; /* groups of four chunks */
	if (job->seal) {
		bpf_loop(nchunks, xwg_aead_seal_cb, &l, 0);
		if (st->err || xwg_aead_tail(&l, XWG_AEAD_SEAL))
			goto out;
	} else {
		bpf_loop(nchunks, xwg_aead_mac_cb, &l, 0);
		if (st->err || xwg_aead_tail(&l, XWG_AEAD_MAC))
			goto out;
	}
	xwg_aead_finish(&st->a, job->aad_len, st->len);
	tag_at = job->off + job->len;
	__asm__ __volatile__("" : "+r"(tag_at)); /* check and use the same register */
	if (tag_at > XWG_AEAD_MAX_OFF + XWG_AEAD_MAX_LEN)
		goto out;
	p = l.data + tag_at;
	if ((void *)(p + XWG_AEAD_TAG_LEN) > l.end)
		goto out;
	if (job->seal) {
		xwg_le32_store(p, st->a.tag[0]);
		xwg_le32_store(p + 4, st->a.tag[1]);
		xwg_le32_store(p + 8, st->a.tag[2]);
		xwg_le32_store(p + 12, st->a.tag[3]);
		ret = 0;
		goto out;
	}
	st->a.m[0] = xwg_le32_load(p);
	st->a.m[1] = xwg_le32_load(p + 4);
	st->a.m[2] = xwg_le32_load(p + 8);
	st->a.m[3] = xwg_le32_load(p + 12);
	if (!xwg_aead_tag_equal(st->a.tag, st->a.m)) {
		ret = XWG_AEAD_ERR_AUTH;
		goto out;
	}
	bpf_loop(nchunks, xwg_aead_xor_cb, &l, 0);
	if (st->err || xwg_aead_tail(&l, XWG_AEAD_XOR))
		goto out;
	ret = 0;
out:
	/* do not leave the key schedule, the Poly1305 key or keystream in the scratch slot */
	__builtin_memset(&st->a.chacha, 0, sizeof(st->a.chacha));
	__builtin_memset(&st->a.poly, 0, sizeof(st->a.poly));
	__builtin_memset(st->ks, 0, sizeof(st->ks));
	return ret;
}

/* Seal (@seal = 1) or open the message in @span with nonce le32(@nonce0) || le64(@counter). */
static __always_inline int xwg_aead_request(struct xwg_aead_span span, __u32 seal, __u32 off,
					    __u32 len, const __u8 *key, __u32 nonce0,
					    __u64 counter, const __u8 *aad, __u32 aad_len)
{
	struct xwg_aead_job job = {.off = off, .len = len, .key = key, .seal = seal,
				   .aad = aad, .aad_len = aad_len,
				   .nonce = {nonce0, (__u32)counter, (__u32)(counter >> 32)}};

	return xwg_aead_run(span.data, span.end, span.slot, &job);
}

/* The WireGuard form: nonce 0 || le64(counter), no AAD. */
static __always_inline int xwg_aead_seal_xdp(struct xdp_md *ctx, __u32 off, __u32 len,
					     const __u8 *key, __u64 counter)
{
	return xwg_aead_request(xwg_aead_span_xdp(ctx), 1, off, len, key, 0, counter, NULL, 0);
}

static __always_inline int xwg_aead_open_xdp(struct xdp_md *ctx, __u32 off, __u32 len,
					     const __u8 *key, __u64 counter)
{
	return xwg_aead_request(xwg_aead_span_xdp(ctx), 0, off, len, key, 0, counter, NULL, 0);
}

static __always_inline int xwg_aead_seal_skb(struct __sk_buff *skb, __u32 off, __u32 len,
					     const __u8 *key, __u64 counter)
{
	return xwg_aead_request(xwg_aead_span_skb(skb), 1, off, len, key, 0, counter, NULL, 0);
}

static __always_inline int xwg_aead_open_skb(struct __sk_buff *skb, __u32 off, __u32 len,
					     const __u8 *key, __u64 counter)
{
	return xwg_aead_request(xwg_aead_span_skb(skb), 0, off, len, key, 0, counter, NULL, 0);
}

/* mem: @ctx is unused; the bytes are in xwg_aead_mem_get()->bytes. */
static __always_inline int xwg_aead_open_mem(void *ctx, __u32 off, __u32 len, const __u8 *key,
					     __u64 counter)
{
	(void)ctx;
	return xwg_aead_request(xwg_aead_span_mem(), 0, off, len, key, 0, counter, NULL, 0);
}

/* Any nonce le32(nonce0) || le64(counter), with AAD (<= XWG_AEAD_MAX_AAD bytes). */
static __always_inline int xwg_aead_seal_xdp_aad(struct xdp_md *ctx, __u32 off, __u32 len,
						 const __u8 *key, __u32 nonce0, __u64 counter,
						 const __u8 *aad, __u32 aad_len)
{
	return xwg_aead_request(xwg_aead_span_xdp(ctx), 1, off, len, key, nonce0, counter, aad,
				aad_len);
}

static __always_inline int xwg_aead_open_xdp_aad(struct xdp_md *ctx, __u32 off, __u32 len,
						 const __u8 *key, __u32 nonce0, __u64 counter,
						 const __u8 *aad, __u32 aad_len)
{
	return xwg_aead_request(xwg_aead_span_xdp(ctx), 0, off, len, key, nonce0, counter, aad,
				aad_len);
}

#endif /* XWG_BPF_LIB_AEAD_BPF_H */
