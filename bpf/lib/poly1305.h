/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * poly1305.h — the Poly1305 one-time authenticator (RFC 8439 §2.5) with five 26-bit limbs
 * and 64-bit products (the "donna-32" layout), so BPF needs no 128-bit arithmetic. Plain
 * C for BPF and the host. Blocks are 16 bytes given as four little-endian words, which
 * lets BPF callers read them with aligned or packet loads as their memory allows.
 */
#ifndef XWG_BPF_LIB_POLY1305_H
#define XWG_BPF_LIB_POLY1305_H

#include "bpf/lib/chacha20.h"

#define XWG_POLY1305_MASK26 0x3ffffffu
#define XWG_POLY1305_HIBIT (1u << 24) /* 2^128 in limb 4: a full 16-byte block */

struct xwg_poly1305 {
	__u32 r[5];
	__u32 h[5];
	__u32 pad[4];
};

/* @key: the 32-byte one-time key (r || s) as eight little-endian words. */
static __always_inline void xwg_poly1305_init(struct xwg_poly1305 *st, const __u32 key[8])
{
	__u32 t0 = key[0], t1 = key[1], t2 = key[2], t3 = key[3];

	/* r with the clamping of §2.5.1, split into 26-bit limbs */
	st->r[0] = t0 & 0x3ffffff;
	st->r[1] = ((t0 >> 26) | (t1 << 6)) & 0x3ffff03;
	st->r[2] = ((t1 >> 20) | (t2 << 12)) & 0x3ffc0ff;
	st->r[3] = ((t2 >> 14) | (t3 << 18)) & 0x3f03fff;
	st->r[4] = (t3 >> 8) & 0x00fffff;
	st->h[0] = st->h[1] = st->h[2] = st->h[3] = st->h[4] = 0;
	st->pad[0] = key[4];
	st->pad[1] = key[5];
	st->pad[2] = key[6];
	st->pad[3] = key[7];
}

/* h = (h + m + hibit) * r mod 2^130 - 5 for one 16-byte block m = t0..t3. */
static __always_inline void xwg_poly1305_block(struct xwg_poly1305 *st, __u32 t0, __u32 t1,
					       __u32 t2, __u32 t3, __u32 hibit)
{
	const __u32 r0 = st->r[0], r1 = st->r[1], r2 = st->r[2], r3 = st->r[3], r4 = st->r[4];
	const __u32 s1 = r1 * 5, s2 = r2 * 5, s3 = r3 * 5, s4 = r4 * 5;
	__u32 h0 = st->h[0], h1 = st->h[1], h2 = st->h[2], h3 = st->h[3], h4 = st->h[4];
	__u64 d0, d1, d2, d3, d4;
	__u32 c;

	h0 += t0 & XWG_POLY1305_MASK26;
	h1 += ((t0 >> 26) | (t1 << 6)) & XWG_POLY1305_MASK26;
	h2 += ((t1 >> 20) | (t2 << 12)) & XWG_POLY1305_MASK26;
	h3 += ((t2 >> 14) | (t3 << 18)) & XWG_POLY1305_MASK26;
	h4 += (t3 >> 8) | hibit;

	d0 = (__u64)h0 * r0 + (__u64)h1 * s4 + (__u64)h2 * s3 + (__u64)h3 * s2 + (__u64)h4 * s1;
	d1 = (__u64)h0 * r1 + (__u64)h1 * r0 + (__u64)h2 * s4 + (__u64)h3 * s3 + (__u64)h4 * s2;
	d2 = (__u64)h0 * r2 + (__u64)h1 * r1 + (__u64)h2 * r0 + (__u64)h3 * s4 + (__u64)h4 * s3;
	d3 = (__u64)h0 * r3 + (__u64)h1 * r2 + (__u64)h2 * r1 + (__u64)h3 * r0 + (__u64)h4 * s4;
	d4 = (__u64)h0 * r4 + (__u64)h1 * r3 + (__u64)h2 * r2 + (__u64)h3 * r1 + (__u64)h4 * r0;

	c = (__u32)(d0 >> 26);
	h0 = (__u32)d0 & XWG_POLY1305_MASK26;
	d1 += c;
	c = (__u32)(d1 >> 26);
	h1 = (__u32)d1 & XWG_POLY1305_MASK26;
	d2 += c;
	c = (__u32)(d2 >> 26);
	h2 = (__u32)d2 & XWG_POLY1305_MASK26;
	d3 += c;
	c = (__u32)(d3 >> 26);
	h3 = (__u32)d3 & XWG_POLY1305_MASK26;
	d4 += c;
	c = (__u32)(d4 >> 26);
	h4 = (__u32)d4 & XWG_POLY1305_MASK26;
	h0 += c * 5;
	c = h0 >> 26;
	h0 &= XWG_POLY1305_MASK26;
	h1 += c;

	st->h[0] = h0;
	st->h[1] = h1;
	st->h[2] = h2;
	st->h[3] = h3;
	st->h[4] = h4;
}

/* The tag: h fully reduced mod 2^130 - 5, plus s, as four little-endian words. */
static __always_inline void xwg_poly1305_final(const struct xwg_poly1305 *st, __u32 tag[4])
{
	__u32 h0 = st->h[0], h1 = st->h[1], h2 = st->h[2], h3 = st->h[3], h4 = st->h[4];
	__u32 g0, g1, g2, g3, g4, c, mask;
	__u64 f;

	c = h1 >> 26; h1 &= XWG_POLY1305_MASK26; h2 += c;
	c = h2 >> 26; h2 &= XWG_POLY1305_MASK26; h3 += c;
	c = h3 >> 26; h3 &= XWG_POLY1305_MASK26; h4 += c;
	c = h4 >> 26; h4 &= XWG_POLY1305_MASK26; h0 += c * 5;
	c = h0 >> 26; h0 &= XWG_POLY1305_MASK26; h1 += c;

	/* g = h + 5 - 2^130: if it does not go negative, h >= p and g is the result */
	g0 = h0 + 5; c = g0 >> 26; g0 &= XWG_POLY1305_MASK26;
	g1 = h1 + c; c = g1 >> 26; g1 &= XWG_POLY1305_MASK26;
	g2 = h2 + c; c = g2 >> 26; g2 &= XWG_POLY1305_MASK26;
	g3 = h3 + c; c = g3 >> 26; g3 &= XWG_POLY1305_MASK26;
	g4 = h4 + c - (1u << 26);

	mask = (g4 >> 31) - 1; /* all ones when g4 did not borrow */
	h0 = (h0 & ~mask) | (g0 & mask);
	h1 = (h1 & ~mask) | (g1 & mask);
	h2 = (h2 & ~mask) | (g2 & mask);
	h3 = (h3 & ~mask) | (g3 & mask);
	h4 = (h4 & ~mask) | (g4 & mask);

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
#include <stddef.h>

/* Host: the one-shot MAC of @len bytes with the 32-byte one-time @key (§2.5). A last
 * partial block gets its 0x01 byte right after the data instead of at 2^128. */
static inline void xwg_poly1305_mac(__u8 tag[16], const __u8 *msg, size_t len, const __u8 key[32])
{
	struct xwg_poly1305 st;
	__u32 k[8], t[4];

	for (int i = 0; i < 8; i++)
		k[i] = xwg_le32_load(key + 4 * i);
	xwg_poly1305_init(&st, k);
	for (size_t i = 0; i < len; i += 16) {
		__u8 blk[16] = {0};
		size_t n = len - i < 16 ? len - i : 16;
		__u32 hibit = XWG_POLY1305_HIBIT;

		__builtin_memcpy(blk, msg + i, n);
		if (n < 16) {
			blk[n] = 1;
			hibit = 0;
		}
		xwg_poly1305_block(&st, xwg_le32_load(blk), xwg_le32_load(blk + 4),
				   xwg_le32_load(blk + 8), xwg_le32_load(blk + 12), hibit);
	}
	xwg_poly1305_final(&st, t);
	for (int i = 0; i < 4; i++)
		xwg_le32_store(tag + 4 * i, t[i]);
}
#endif

#endif /* XWG_BPF_LIB_POLY1305_H */
