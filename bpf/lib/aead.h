/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * aead.h — ChaCha20-Poly1305 (RFC 8439 §2.8) sealed and opened in place, over packet
 * memory in BPF and over a plain buffer on the host, with WireGuard's nonce.
 *
 * Layout: the plaintext/ciphertext is the @len bytes at @off, the 16-byte tag follows it
 * at @off + @len. The nonce is le32(nonce0) || le64(counter); WireGuard's is nonce0 = 0
 * with its 64-bit message counter. AAD is optional (WireGuard has none; the RFC vectors
 * use it).
 *
 * BPF API (XDP ctx, or an skb after bpf_skb_pull_data() made [off, off + len + 16)
 * linear). @key is 32 bytes and may point into a map value. Return 0 on success, a
 * negative enum xwg_aead_error otherwise:
 *
 *   int xwg_aead_seal_xdp(struct xdp_md *ctx, __u32 off, __u32 len, const __u8 *key,
 *                         __u64 counter);
 *   int xwg_aead_open_xdp(struct xdp_md *ctx, __u32 off, __u32 len, const __u8 *key,
 *                         __u64 counter);
 *   int xwg_aead_seal_skb(struct __sk_buff *skb, ...same...);
 *   int xwg_aead_open_skb(struct __sk_buff *skb, ...same...);
 *   int xwg_aead_{seal,open}_{xdp,skb}_aad(ctx, off, len, key, nonce0, counter, aad,
 *                                          aad_len);
 *       the general RFC 8439 form. @aad may point to a map value or the stack; it must be
 *       readable up to aad_len rounded up to 16 bytes (bytes past aad_len are ignored),
 *       and aad_len <= XWG_AEAD_MAX_AAD.
 *
 * Seal encrypts in place and writes the tag at off + len (the caller made room for it).
 * Open computes the tag over the ciphertext first, compares it with the packet's in
 * constant time, and only then decrypts in place; on any failure the packet bytes are
 * unchanged. Open leaves the tag bytes as they were. off + len + 16 must not exceed
 * XWG_AEAD_MAX_PKT_OFF.
 *
 * Host API (same contract on a buffer of len + 16 bytes, any aad_len):
 *   int xwg_aead_seal(__u8 *buf, __u32 len, const __u8 *aad, __u32 aad_len,
 *                     const __u8 *key, __u32 nonce0, __u64 counter);
 *   int xwg_aead_open(...same...);
 *
 * How the BPF side stays verifiable: the packet is walked with bpf_loop (kernel >= 5.17),
 * one 64-byte ChaCha20 block per iteration; the callback re-derives data/data_end from
 * the ctx and checks its block against them, so the verifier checks the callback once
 * whatever the length (bounded for-loops over the packet would be checked once per
 * iteration). The last, partial block is handled in 16-byte steps that may read up to 15
 * bytes past the payload: the tag lives there, so they are always in the packet, and the
 * keystream is masked so those bytes are written back unchanged. Words are loaded and
 * stored 32 bits at a time (the verifier allows misaligned packet access on x86/arm64).
 * The block functions are subprograms (noinline) so the call chain stays well inside the
 * 512-byte stack: about 170 bytes in the caller's frame (struct xwg_aead_walk), under 100
 * in the callback's, under 140 in the block function's.
 */
#ifndef XWG_BPF_LIB_AEAD_H
#define XWG_BPF_LIB_AEAD_H

#include "xwg/protocol.h" /* XWG_AEAD_TAG_LEN */
#include "bpf/lib/chacha20.h"
#include "bpf/lib/poly1305.h"

#ifdef __BPF__
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#endif

enum xwg_aead_error {
	XWG_AEAD_ERR_AUTH = -1,		/* the tag does not match: forged or corrupted */
	XWG_AEAD_ERR_BOUNDS = -2,	/* off/len/aad_len out of range or past data_end */
};

enum xwg_aead_lengths {
	XWG_AEAD_KEY_LEN = 32,	/* the tag's length, XWG_AEAD_TAG_LEN, is in xwg/protocol.h */
};

#ifdef __BPF__
/* Largest AAD the BPF forms take; a bound the verifier needs, and plenty for the tests
 * (WireGuard itself uses none). */
#define XWG_AEAD_MAX_AAD 64u
#else
#define XWG_AEAD_MAX_AAD 0x40000000u
#endif
/* Largest off + len + tag the BPF forms accept: keeps packet offsets far below the
 * verifier's 64 KiB limit; the linear part of an XDP or skb frame is smaller anyway. */
#define XWG_AEAD_MAX_PKT_OFF 0x7fffu

struct xwg_aead {
	struct xwg_chacha20 chacha;	/* s[12] is the next block to use */
	struct xwg_poly1305 poly;
};

/* Key both halves: block 0 gives the Poly1305 key (§2.6), data starts at block 1. Not
 * inlined, so its keystream buffer is not part of the caller's frame during the walk. */
static __attribute__((noinline)) void xwg_aead_init(struct xwg_aead *a, const __u8 *key,
						    __u32 nonce0, __u64 counter)
{
	__u32 ks[16];

	xwg_chacha20_init(&a->chacha, key, 0, nonce0, (__u32)counter, (__u32)(counter >> 32));
	xwg_chacha20_block(&a->chacha, ks);
	xwg_poly1305_init(&a->poly, (const __u8 *)ks);
	a->chacha.s[12] = 1;
}

/* The first @n bytes of a word as a mask (n < 0 counts as 0, n > 4 as 4). */
static __always_inline __u32 xwg_aead_mask(__s32 n)
{
	if (n >= 4)
		return 0xffffffffu;
	if (n <= 0)
		return 0;
	return (1u << (8 * n)) - 1;
}

/* MAC one 16-byte step at @p of which @n bytes count (the rest reads as zeros: the
 * AEAD pads AAD and ciphertext to 16 bytes with zeros, §2.8). */
static __always_inline void xwg_aead_mac16(struct xwg_aead *a, const __u8 *p, __s32 n)
{
	__u32 m[4];

	if (n >= 16) {
		xwg_poly1305_block(&a->poly, p, XWG_POLY1305_HIBIT);
		return;
	}
	m[0] = xwg_load32(p) & xwg_aead_mask(n);
	m[1] = xwg_load32(p + 4) & xwg_aead_mask(n - 4);
	m[2] = xwg_load32(p + 8) & xwg_aead_mask(n - 8);
	m[3] = xwg_load32(p + 12) & xwg_aead_mask(n - 12);
	xwg_poly1305_block(&a->poly, m, XWG_POLY1305_HIBIT);
}

/* The lengths block that ends the MAC input (two little-endian 64-bit lengths), then
 * the tag. */
static __always_inline void xwg_aead_tag(struct xwg_aead *a, __u32 aad_len, __u32 len,
					 __u32 tag[4])
{
	__u32 m[4] = { aad_len, 0, len, 0 };

	xwg_poly1305_block(&a->poly, m, XWG_POLY1305_HIBIT);
	xwg_poly1305_final(&a->poly, tag);
}

/* What one step of the walk does to its (up to) 64 bytes. */
enum xwg_aead_pass {
	XWG_AEAD_PASS_SEAL,	/* encrypt, then MAC the ciphertext */
	XWG_AEAD_PASS_MAC,	/* MAC the ciphertext only (open, before the tag check) */
	XWG_AEAD_PASS_XOR,	/* decrypt only (open, after the tag check) */
};

/*
 * One step over the @n (>= 1) bytes left at @p, at most 64 of them. Bytes up to
 * roundup(min(n, 64), 16) are read, and must lie below @end (the tag guarantees that for
 * a well-formed packet). @pass is a constant after inlining. 0, or XWG_AEAD_ERR_BOUNDS.
 */
static __always_inline int xwg_aead_step(struct xwg_aead *a, __u8 *p, const __u8 *end, __u32 n,
					 int pass)
{
	__u32 ks[16];
	__u32 i, k;

	if (pass != XWG_AEAD_PASS_MAC) {
		xwg_chacha20_block(&a->chacha, ks);
		a->chacha.s[12]++;
	}

	if (n >= 64) {
		if (p + 64 > end)
			return XWG_AEAD_ERR_BOUNDS;
		if (pass != XWG_AEAD_PASS_MAC)
			for (i = 0; i < 16; i++)
				xwg_store32(p + 4 * i, xwg_load32(p + 4 * i) ^ ks[i]);
		/* MAC the ciphertext where it is: just written (seal) or as received (open). */
		if (pass != XWG_AEAD_PASS_XOR)
			for (i = 0; i < 4; i++)
				xwg_poly1305_block(&a->poly, p + 16 * i, XWG_POLY1305_HIBIT);
		return 0;
	}

	/* The short last block, 16 bytes at a time; bytes past n keep their value. */
	for (k = 0; k < 4; k++) {
		__s32 left = (__s32)n - 16 * (__s32)k;
		__u8 *q = p + 16 * k;

		if (left <= 0)
			break;
		if (q + 16 > end)
			return XWG_AEAD_ERR_BOUNDS;
		if (pass != XWG_AEAD_PASS_MAC) {
			for (i = 0; i < 4; i++) {
				__u32 m = xwg_aead_mask(left - 4 * (__s32)i);

				xwg_store32(q + 4 * i, xwg_load32(q + 4 * i) ^ (ks[4 * k + i] & m));
			}
		}
		/* Seal MACs what it just wrote, open what was there: both the ciphertext. */
		if (pass != XWG_AEAD_PASS_XOR)
			xwg_aead_mac16(a, q, left);
	}
	return 0;
}

#ifdef __BPF__

/* The walk's state, in the caller's frame; bpf_loop hands callbacks a pointer to it. */
struct xwg_aead_walk {
	struct xwg_aead a;
	void *ctx;	/* struct xdp_md * or struct __sk_buff *, see the callbacks */
	__u32 off;
	__u32 len;
	__s32 err;
};

static __always_inline void *xwg_aead_data(void *ctx, int skb, void **end)
{
	if (skb) {
		struct __sk_buff *s = ctx;

		*end = (void *)(long)s->data_end;
		return (void *)(long)s->data;
	}
	struct xdp_md *x = ctx;

	*end = (void *)(long)x->data_end;
	return (void *)(long)x->data;
}

/* bpf_loop body: 64-byte block @i. Returns 1 (stop) when done or on error. */
static __always_inline long xwg_aead_walk_step(__u32 i, struct xwg_aead_walk *w, int pass,
					       int skb)
{
	void *end, *data = xwg_aead_data(w->ctx, skb, &end);
	__u32 pos = i * 64, len = w->len, at;
	int err;

	/* Re-check what the caller checked: the verifier may see the callback with widened
	 * state, and the packet pointer needs a bounded offset. */
	if (len > XWG_AEAD_MAX_PKT_OFF || pos >= len)
		return 1;
	at = w->off + pos;
	if (at > XWG_AEAD_MAX_PKT_OFF) {
		w->err = XWG_AEAD_ERR_BOUNDS;
		return 1;
	}
	err = xwg_aead_step(&w->a, (__u8 *)data + at, end, len - pos, pass);
	if (err) {
		w->err = err;
		return 1;
	}
	return 0;
}

/* One callback per (pass, ctx type): the pass and the ctx field offsets must be
 * constants for the verifier. */
static long xwg_aead_seal_xdp_cb(__u32 i, void *w)
{
	return xwg_aead_walk_step(i, w, XWG_AEAD_PASS_SEAL, 0);
}

static long xwg_aead_mac_xdp_cb(__u32 i, void *w)
{
	return xwg_aead_walk_step(i, w, XWG_AEAD_PASS_MAC, 0);
}

static long xwg_aead_xor_xdp_cb(__u32 i, void *w)
{
	return xwg_aead_walk_step(i, w, XWG_AEAD_PASS_XOR, 0);
}

static long xwg_aead_seal_skb_cb(__u32 i, void *w)
{
	return xwg_aead_walk_step(i, w, XWG_AEAD_PASS_SEAL, 1);
}

static long xwg_aead_mac_skb_cb(__u32 i, void *w)
{
	return xwg_aead_walk_step(i, w, XWG_AEAD_PASS_MAC, 1);
}

static long xwg_aead_xor_skb_cb(__u32 i, void *w)
{
	return xwg_aead_walk_step(i, w, XWG_AEAD_PASS_XOR, 1);
}

/* Run @pass over all blocks of the payload. */
static __always_inline int xwg_aead_walk(struct xwg_aead_walk *w, int pass, int skb)
{
	void *cb;

	if (skb)
		cb = pass == XWG_AEAD_PASS_SEAL ? xwg_aead_seal_skb_cb :
		     pass == XWG_AEAD_PASS_MAC ? xwg_aead_mac_skb_cb : xwg_aead_xor_skb_cb;
	else
		cb = pass == XWG_AEAD_PASS_SEAL ? xwg_aead_seal_xdp_cb :
		     pass == XWG_AEAD_PASS_MAC ? xwg_aead_mac_xdp_cb : xwg_aead_xor_xdp_cb;
	w->err = 0;
	bpf_loop((w->len + 63) / 64, cb, w, 0);
	return w->err;
}

/* Common start: bounds, keys, AAD. */
static __always_inline int xwg_aead_begin(struct xwg_aead_walk *w, void *ctx, __u32 off,
					  __u32 len, const __u8 *key, __u32 nonce0,
					  __u64 counter, const __u8 *aad, __u32 aad_len)
{
	__u32 k;

	if (off > XWG_AEAD_MAX_PKT_OFF || len > XWG_AEAD_MAX_PKT_OFF ||
	    off + len > XWG_AEAD_MAX_PKT_OFF - XWG_AEAD_TAG_LEN || aad_len > XWG_AEAD_MAX_AAD)
		return XWG_AEAD_ERR_BOUNDS;
	w->ctx = ctx;
	w->off = off;
	w->len = len;
	xwg_aead_init(&w->a, key, nonce0, counter);
	for (k = 0; k < XWG_AEAD_MAX_AAD / 16; k++) {
		if (16 * k >= aad_len)
			break;
		xwg_aead_mac16(&w->a, aad + 16 * k, (__s32)(aad_len - 16 * k));
	}
	return 0;
}

/* Where the tag goes: off + len, checked against data_end. */
static __always_inline __u8 *xwg_aead_tag_ptr(struct xwg_aead_walk *w, int skb)
{
	void *end, *data = xwg_aead_data(w->ctx, skb, &end);
	__u8 *t;
	__u32 at = w->off + w->len;

	if (at > XWG_AEAD_MAX_PKT_OFF)
		return 0;
	t = (__u8 *)data + at;
	if (t + XWG_AEAD_TAG_LEN > (__u8 *)end)
		return 0;
	return t;
}

static __always_inline int xwg_aead_seal_ctx(void *ctx, int skb, __u32 off, __u32 len,
					     const __u8 *key, __u32 nonce0, __u64 counter,
					     const __u8 *aad, __u32 aad_len)
{
	struct xwg_aead_walk w;
	__u32 tag[4];
	__u8 *t;
	int err;

	err = xwg_aead_begin(&w, ctx, off, len, key, nonce0, counter, aad, aad_len);
	if (err)
		return err;
	/* Check the tag's room first, so a short packet is refused before any byte changes. */
	if (!xwg_aead_tag_ptr(&w, skb))
		return XWG_AEAD_ERR_BOUNDS;
	err = xwg_aead_walk(&w, XWG_AEAD_PASS_SEAL, skb);
	if (err)
		return err;
	xwg_aead_tag(&w.a, aad_len, len, tag);
	t = xwg_aead_tag_ptr(&w, skb);
	if (!t)
		return XWG_AEAD_ERR_BOUNDS;
	xwg_store32(t, tag[0]);
	xwg_store32(t + 4, tag[1]);
	xwg_store32(t + 8, tag[2]);
	xwg_store32(t + 12, tag[3]);
	return 0;
}

static __always_inline int xwg_aead_open_ctx(void *ctx, int skb, __u32 off, __u32 len,
					     const __u8 *key, __u32 nonce0, __u64 counter,
					     const __u8 *aad, __u32 aad_len)
{
	struct xwg_aead_walk w;
	__u32 tag[4], diff;
	__u8 *t;
	int err;

	err = xwg_aead_begin(&w, ctx, off, len, key, nonce0, counter, aad, aad_len);
	if (err)
		return err;
	if (!xwg_aead_tag_ptr(&w, skb))
		return XWG_AEAD_ERR_BOUNDS;
	err = xwg_aead_walk(&w, XWG_AEAD_PASS_MAC, skb);
	if (err)
		return err;
	xwg_aead_tag(&w.a, aad_len, len, tag);
	t = xwg_aead_tag_ptr(&w, skb);
	if (!t)
		return XWG_AEAD_ERR_BOUNDS;
	/* Constant time: fold every difference together, decide once. */
	diff = (xwg_load32(t) ^ tag[0]) | (xwg_load32(t + 4) ^ tag[1]) |
	       (xwg_load32(t + 8) ^ tag[2]) | (xwg_load32(t + 12) ^ tag[3]);
	if (diff)
		return XWG_AEAD_ERR_AUTH;
	w.a.chacha.s[12] = 1;
	return xwg_aead_walk(&w, XWG_AEAD_PASS_XOR, skb);
}

static __always_inline int xwg_aead_seal_xdp(struct xdp_md *ctx, __u32 off, __u32 len,
					     const __u8 *key, __u64 counter)
{
	return xwg_aead_seal_ctx(ctx, 0, off, len, key, 0, counter, 0, 0);
}

static __always_inline int xwg_aead_open_xdp(struct xdp_md *ctx, __u32 off, __u32 len,
					     const __u8 *key, __u64 counter)
{
	return xwg_aead_open_ctx(ctx, 0, off, len, key, 0, counter, 0, 0);
}

static __always_inline int xwg_aead_seal_skb(struct __sk_buff *skb, __u32 off, __u32 len,
					     const __u8 *key, __u64 counter)
{
	return xwg_aead_seal_ctx(skb, 1, off, len, key, 0, counter, 0, 0);
}

static __always_inline int xwg_aead_open_skb(struct __sk_buff *skb, __u32 off, __u32 len,
					     const __u8 *key, __u64 counter)
{
	return xwg_aead_open_ctx(skb, 1, off, len, key, 0, counter, 0, 0);
}

static __always_inline int xwg_aead_seal_xdp_aad(struct xdp_md *ctx, __u32 off, __u32 len,
						 const __u8 *key, __u32 nonce0, __u64 counter,
						 const __u8 *aad, __u32 aad_len)
{
	return xwg_aead_seal_ctx(ctx, 0, off, len, key, nonce0, counter, aad, aad_len);
}

static __always_inline int xwg_aead_open_xdp_aad(struct xdp_md *ctx, __u32 off, __u32 len,
						 const __u8 *key, __u32 nonce0, __u64 counter,
						 const __u8 *aad, __u32 aad_len)
{
	return xwg_aead_open_ctx(ctx, 0, off, len, key, nonce0, counter, aad, aad_len);
}

static __always_inline int xwg_aead_seal_skb_aad(struct __sk_buff *skb, __u32 off, __u32 len,
						 const __u8 *key, __u32 nonce0, __u64 counter,
						 const __u8 *aad, __u32 aad_len)
{
	return xwg_aead_seal_ctx(skb, 1, off, len, key, nonce0, counter, aad, aad_len);
}

static __always_inline int xwg_aead_open_skb_aad(struct __sk_buff *skb, __u32 off, __u32 len,
						 const __u8 *key, __u32 nonce0, __u64 counter,
						 const __u8 *aad, __u32 aad_len)
{
	return xwg_aead_open_ctx(skb, 1, off, len, key, nonce0, counter, aad, aad_len);
}

#else /* host */

/* MAC the AAD, any length: whole 16-byte steps in place, the rest from a padded copy. */
static inline void xwg_aead_mac_aad(struct xwg_aead *a, const __u8 *aad, __u32 aad_len)
{
	__u8 last[16] = { 0 };

	for (; aad_len >= 16; aad += 16, aad_len -= 16)
		xwg_aead_mac16(a, aad, 16);
	if (aad_len) {
		__builtin_memcpy(last, aad, aad_len);
		xwg_aead_mac16(a, last, (__s32)aad_len);
	}
}

static inline int xwg_aead_walk_buf(struct xwg_aead *a, __u8 *buf, __u32 len, int pass)
{
	const __u8 *end = buf + len + XWG_AEAD_TAG_LEN;
	__u32 pos;

	for (pos = 0; pos < len; pos += 64)
		if (xwg_aead_step(a, buf + pos, end, len - pos, pass))
			return XWG_AEAD_ERR_BOUNDS;
	return 0;
}

static inline int xwg_aead_seal(__u8 *buf, __u32 len, const __u8 *aad, __u32 aad_len,
				const __u8 *key, __u32 nonce0, __u64 counter)
{
	struct xwg_aead a;
	__u32 tag[4];

	xwg_aead_init(&a, key, nonce0, counter);
	xwg_aead_mac_aad(&a, aad, aad_len);
	xwg_aead_walk_buf(&a, buf, len, XWG_AEAD_PASS_SEAL);
	xwg_aead_tag(&a, aad_len, len, tag);
	__builtin_memcpy(buf + len, tag, sizeof(tag));
	return 0;
}

static inline int xwg_aead_open(__u8 *buf, __u32 len, const __u8 *aad, __u32 aad_len,
				const __u8 *key, __u32 nonce0, __u64 counter)
{
	struct xwg_aead a;
	__u32 tag[4], diff;
	const __u8 *t = buf + len;

	xwg_aead_init(&a, key, nonce0, counter);
	xwg_aead_mac_aad(&a, aad, aad_len);
	xwg_aead_walk_buf(&a, buf, len, XWG_AEAD_PASS_MAC);
	xwg_aead_tag(&a, aad_len, len, tag);
	diff = (xwg_load32(t) ^ tag[0]) | (xwg_load32(t + 4) ^ tag[1]) |
	       (xwg_load32(t + 8) ^ tag[2]) | (xwg_load32(t + 12) ^ tag[3]);
	if (diff)
		return XWG_AEAD_ERR_AUTH;
	a.chacha.s[12] = 1;
	return xwg_aead_walk_buf(&a, buf, len, XWG_AEAD_PASS_XOR);
}

#endif /* __BPF__ */

#endif /* XWG_BPF_LIB_AEAD_H */
