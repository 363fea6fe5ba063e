/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * poly1305.h — the Poly1305 one-time authenticator of RFC 8439 §2.5.
 *
 * Plain C for BPF and the host. The accumulator and r are kept in five 26-bit limbs
 * ("donna-32"): every product of two limbs fits in 64 bits, so a block costs 25 64-bit
 * multiplications and no 128-bit arithmetic, which BPF does not have. The final
 * reduction and the comparison against p = 2^130 - 5 are branch-free.
 *
 * The message is fed 16 bytes at a time from any memory, plus the "high bit" (2^128, or
 * 0 for a short final block that the caller already padded with 0x01), so the packet
 * code in aead.h can MAC packet bytes where they are.
 */
#ifndef XWG_BPF_LIB_POLY1305_H
#define XWG_BPF_LIB_POLY1305_H

#include "bpf/lib/chacha20.h" /* xwg_load32, xwg_store32, __always_inline */

enum poly1305_lengths {
	XWG_POLY1305_KEY_LEN = 32,
	XWG_POLY1305_BLOCK_LEN = 16,
	XWG_POLY1305_TAG_LEN = 16,
};

#define XWG_POLY1305_LIMB 0x3ffffffu
/* 2^128 in the top limb: bit 128 - 4 * 26. */
#define XWG_POLY1305_HIBIT (1u << 24)

struct xwg_poly1305 {
	__u32 r[5];	/* clamped r, 26-bit limbs */
	__u32 s[4];	/* 5 * r[1..4], for the wrap-around terms of the product */
	__u32 h[5];	/* accumulator, 26-bit limbs (each may carry a few extra bits) */
	__u32 pad[4];	/* s of the RFC, added at the end */
};

/* Start with the 32-byte one-time key: r (clamped, §2.5) and s. */
static __always_inline void xwg_poly1305_init(struct xwg_poly1305 *st, const __u8 *key)
{
	__u32 t0 = xwg_load32(key + 0), t1 = xwg_load32(key + 4);
	__u32 t2 = xwg_load32(key + 8), t3 = xwg_load32(key + 12);

	/* The clamp (r &= 0x0ffffffc0ffffffc0ffffffc0fffffff) folded into the limb masks. */
	st->r[0] = t0 & 0x3ffffff;
	st->r[1] = ((t0 >> 26) | (t1 << 6)) & 0x3ffff03;
	st->r[2] = ((t1 >> 20) | (t2 << 12)) & 0x3ffc0ff;
	st->r[3] = ((t2 >> 14) | (t3 << 18)) & 0x3f03fff;
	st->r[4] = (t3 >> 8) & 0x00fffff;
	st->s[0] = st->r[1] * 5;
	st->s[1] = st->r[2] * 5;
	st->s[2] = st->r[3] * 5;
	st->s[3] = st->r[4] * 5;
	st->h[0] = 0;
	st->h[1] = 0;
	st->h[2] = 0;
	st->h[3] = 0;
	st->h[4] = 0;
	st->pad[0] = xwg_load32(key + 16);
	st->pad[1] = xwg_load32(key + 20);
	st->pad[2] = xwg_load32(key + 24);
	st->pad[3] = xwg_load32(key + 28);
}

/*
 * h = (h + m) * r mod 2^130 - 5 for one 16-byte block at @m (+ @hibit), read as four
 * little-endian words from any memory (packet, stack). Leaves h partially reduced
 * (limbs below 2^26 + a little), which the next block tolerates.
 *
 * Not inlined, like xwg_chacha20_block(): its 64-bit temporaries would otherwise spill
 * into every caller's frame, and BPF's 512-byte stack counts the whole call chain.
 */
static __attribute__((noinline)) void xwg_poly1305_block(struct xwg_poly1305 *st,
							 const void *m, __u32 hibit)
{
	const __u8 *b = (const __u8 *)m;
	__u32 m0 = xwg_load32(b), m1 = xwg_load32(b + 4);
	__u32 m2 = xwg_load32(b + 8), m3 = xwg_load32(b + 12);
	__u64 r0 = st->r[0], r1 = st->r[1], r2 = st->r[2], r3 = st->r[3], r4 = st->r[4];
	__u64 s1 = st->s[0], s2 = st->s[1], s3 = st->s[2], s4 = st->s[3];
	__u64 h0, h1, h2, h3, h4, d0, d1, d2, d3, d4;
	__u32 c;

	h0 = st->h[0] + (m0 & XWG_POLY1305_LIMB);
	h1 = st->h[1] + (((m0 >> 26) | (m1 << 6)) & XWG_POLY1305_LIMB);
	h2 = st->h[2] + (((m1 >> 20) | (m2 << 12)) & XWG_POLY1305_LIMB);
	h3 = st->h[3] + (((m2 >> 14) | (m3 << 18)) & XWG_POLY1305_LIMB);
	h4 = st->h[4] + ((m3 >> 8) | hibit);

	d0 = h0 * r0 + h1 * s4 + h2 * s3 + h3 * s2 + h4 * s1;
	d1 = h0 * r1 + h1 * r0 + h2 * s4 + h3 * s3 + h4 * s2;
	d2 = h0 * r2 + h1 * r1 + h2 * r0 + h3 * s4 + h4 * s3;
	d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s4;
	d4 = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0;

	/* Carry through the limbs; what leaves the top re-enters at the bottom times 5,
	 * because 2^130 = 5 (mod p). */
	c = (__u32)(d0 >> 26);
	h0 = (__u32)d0 & XWG_POLY1305_LIMB;
	d1 += c;
	c = (__u32)(d1 >> 26);
	st->h[1] = (__u32)d1 & XWG_POLY1305_LIMB;
	d2 += c;
	c = (__u32)(d2 >> 26);
	st->h[2] = (__u32)d2 & XWG_POLY1305_LIMB;
	d3 += c;
	c = (__u32)(d3 >> 26);
	st->h[3] = (__u32)d3 & XWG_POLY1305_LIMB;
	d4 += c;
	c = (__u32)(d4 >> 26);
	st->h[4] = (__u32)d4 & XWG_POLY1305_LIMB;
	h0 += c * 5;
	st->h[0] = (__u32)h0 & XWG_POLY1305_LIMB;
	st->h[1] += (__u32)(h0 >> 26);
}

/* The tag (h + s) mod 2^128 as four little-endian words, after full reduction mod p. */
static __always_inline void xwg_poly1305_final(const struct xwg_poly1305 *st, __u32 tag[4])
{
	__u32 h0 = st->h[0], h1 = st->h[1], h2 = st->h[2], h3 = st->h[3], h4 = st->h[4];
	__u32 g0, g1, g2, g3, g4, c, mask;
	__u64 f;

	c = h1 >> 26; h1 &= XWG_POLY1305_LIMB;
	h2 += c; c = h2 >> 26; h2 &= XWG_POLY1305_LIMB;
	h3 += c; c = h3 >> 26; h3 &= XWG_POLY1305_LIMB;
	h4 += c; c = h4 >> 26; h4 &= XWG_POLY1305_LIMB;
	h0 += c * 5; c = h0 >> 26; h0 &= XWG_POLY1305_LIMB;
	h1 += c;

	/* g = h + 5 - 2^130; if it did not borrow, h >= p and g is the reduced value. */
	g0 = h0 + 5; c = g0 >> 26; g0 &= XWG_POLY1305_LIMB;
	g1 = h1 + c; c = g1 >> 26; g1 &= XWG_POLY1305_LIMB;
	g2 = h2 + c; c = g2 >> 26; g2 &= XWG_POLY1305_LIMB;
	g3 = h3 + c; c = g3 >> 26; g3 &= XWG_POLY1305_LIMB;
	g4 = h4 + c - (1u << 26);

	mask = (g4 >> 31) - 1; /* all ones when g4 did not go negative: take g */
	h0 = (h0 & ~mask) | (g0 & mask);
	h1 = (h1 & ~mask) | (g1 & mask);
	h2 = (h2 & ~mask) | (g2 & mask);
	h3 = (h3 & ~mask) | (g3 & mask);
	h4 = (h4 & ~mask) | (g4 & mask);

	/* Repack 5 x 26 bits into 4 x 32 (mod 2^128) and add s with carries. */
	h0 = h0 | (h1 << 26);
	h1 = (h1 >> 6) | (h2 << 20);
	h2 = (h2 >> 12) | (h3 << 14);
	h3 = (h3 >> 18) | (h4 << 8);

	f = (__u64)h0 + st->pad[0];
	tag[0] = (__u32)f;
	f = (__u64)h1 + st->pad[1] + (f >> 32);
	tag[1] = (__u32)f;
	f = (__u64)h2 + st->pad[2] + (f >> 32);
	tag[2] = (__u32)f;
	f = (__u64)h3 + st->pad[3] + (f >> 32);
	tag[3] = (__u32)f;
}

#ifndef __BPF__
/* Host only: the tag of a whole message (RFC 8439 §2.5), for the RFC's vectors. */
static inline void xwg_poly1305_mac(__u8 tag[16], const __u8 *msg, __u32 len, const __u8 *key)
{
	struct xwg_poly1305 st;
	__u32 t[4];

	xwg_poly1305_init(&st, key);
	for (; len >= 16; msg += 16, len -= 16)
		xwg_poly1305_block(&st, msg, XWG_POLY1305_HIBIT);
	if (len) {
		/* A short last block gets a 1 byte after the message instead of 2^128. */
		__u8 last[16] = { 0 };

		__builtin_memcpy(last, msg, len);
		last[len] = 1;
		xwg_poly1305_block(&st, last, 0);
	}
	xwg_poly1305_final(&st, t);
	__builtin_memcpy(tag, t, 16);
}
#endif

#endif /* XWG_BPF_LIB_POLY1305_H */
