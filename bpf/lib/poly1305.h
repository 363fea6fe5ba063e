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
	__u32 s[4]; /* 5 * r[1..4] */
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
	st->s[0] = st->r[1] * 5;
	st->s[1] = st->r[2] * 5;
	st->s[2] = st->r[3] * 5;
	st->s[3] = st->r[4] * 5;
	st->pad[0] = key[4];
	st->pad[1] = key[5];
	st->pad[2] = key[6];
	st->pad[3] = key[7];
}

/* h = (h + m + hibit) * r mod 2^130 - 5 for one 16-byte block m = t0..t3, h in h0..h4
 * (lvalues), r and 5r read from @st. */
#define XWG_POLY1305_STEP(st, h0, h1, h2, h3, h4, t0, t1, t2, t3, hibit)                  \
	do {                                                                           \
		__u64 d0, d1, d2, d3, d4;                                              \
		__u32 c_;                                                              \
		h0 += (t0) & XWG_POLY1305_MASK26;                                      \
		h1 += (((t0) >> 26) | ((t1) << 6)) & XWG_POLY1305_MASK26;              \
		h2 += (((t1) >> 20) | ((t2) << 12)) & XWG_POLY1305_MASK26;             \
		h3 += (((t2) >> 14) | ((t3) << 18)) & XWG_POLY1305_MASK26;             \
		h4 += ((t3) >> 8) | (hibit);                                           \
		d0 = (__u64)h0 * (st)->r[0] + (__u64)h1 * (st)->s[3] +                 \
		     (__u64)h2 * (st)->s[2] + (__u64)h3 * (st)->s[1] +                 \
		     (__u64)h4 * (st)->s[0];                                           \
		d1 = (__u64)h0 * (st)->r[1] + (__u64)h1 * (st)->r[0] +                 \
		     (__u64)h2 * (st)->s[3] + (__u64)h3 * (st)->s[2] +                 \
		     (__u64)h4 * (st)->s[1];                                           \
		d2 = (__u64)h0 * (st)->r[2] + (__u64)h1 * (st)->r[1] +                 \
		     (__u64)h2 * (st)->r[0] + (__u64)h3 * (st)->s[3] +                 \
		     (__u64)h4 * (st)->s[2];                                           \
		d3 = (__u64)h0 * (st)->r[3] + (__u64)h1 * (st)->r[2] +                 \
		     (__u64)h2 * (st)->r[1] + (__u64)h3 * (st)->r[0] +                 \
		     (__u64)h4 * (st)->s[3];                                           \
		d4 = (__u64)h0 * (st)->r[4] + (__u64)h1 * (st)->r[3] +                 \
		     (__u64)h2 * (st)->r[2] + (__u64)h3 * (st)->r[1] +                 \
		     (__u64)h4 * (st)->r[0];                                           \
		c_ = (__u32)(d0 >> 26); h0 = (__u32)d0 & XWG_POLY1305_MASK26;          \
		d1 += c_;                                                              \
		c_ = (__u32)(d1 >> 26); h1 = (__u32)d1 & XWG_POLY1305_MASK26;          \
		d2 += c_;                                                              \
		c_ = (__u32)(d2 >> 26); h2 = (__u32)d2 & XWG_POLY1305_MASK26;          \
		d3 += c_;                                                              \
		c_ = (__u32)(d3 >> 26); h3 = (__u32)d3 & XWG_POLY1305_MASK26;          \
		d4 += c_;                                                              \
		c_ = (__u32)(d4 >> 26); h4 = (__u32)d4 & XWG_POLY1305_MASK26;          \
		h0 += c_ * 5;                                                          \
		c_ = h0 >> 26; h0 &= XWG_POLY1305_MASK26; h1 += c_;                    \
	} while (0)

/* h = (h + m + hibit) * r mod 2^130 - 5 for one 16-byte block m = t0..t3. */
static __always_inline void xwg_poly1305_block(struct xwg_poly1305 *st, __u32 t0, __u32 t1,
					       __u32 t2, __u32 t3, __u32 hibit)
{
	__u32 h0 = st->h[0], h1 = st->h[1], h2 = st->h[2], h3 = st->h[3], h4 = st->h[4];

	XWG_POLY1305_STEP(st, h0, h1, h2, h3, h4, t0, t1, t2, t3, hibit);
	st->h[0] = h0;
	st->h[1] = h1;
	st->h[2] = h2;
	st->h[3] = h3;
	st->h[4] = h4;
}

#ifdef __BPF__
/*
 * One full block in BPF assembly, the message at @m + o0..o3, with h0..h4 in r3..r7
 * and @st = %[st]: the message limbs added to h, then d0..d4 one at a time, each a sum
 * of five products of an h limb (register) and an r or 5r limb (loaded), r9 the sum, r8
 * the product, r0 the carry into the next d. The new h0..h3 wait in st->h while the
 * old ones are still needed. Offsets in struct xwg_poly1305: r 0..16, h 20..36, s (5r1..
 * 5r4) 56..68. Clang's own allocation of this spilled some 30 words per block.
 */
_Static_assert(__builtin_offsetof(struct xwg_poly1305, h) == 20 &&
		       __builtin_offsetof(struct xwg_poly1305, s) == 56,
	       "xwg_poly1305 layout: the assembly below uses these offsets");
#define XWG_P_MUL(o, h) "r8 = *(u32 *)(%[st] + " #o ")\n\tr8 *= r" #h "\n\tr9 += r8\n\t"
#define XWG_P_D(c0, c1, c2, c3, c4)                                                     \
	"r9 = *(u32 *)(%[st] + " #c0 ")\n\tr9 *= r3\n\t"                                  \
	XWG_P_MUL(c1, 4) XWG_P_MUL(c2, 5) XWG_P_MUL(c3, 6) XWG_P_MUL(c4, 7)
/* d += carry; carry = d >> 26; h_k = d & mask */
#define XWG_P_CARRY(hk)                                                                 \
	"r9 += r0\n\tr0 = r9\n\tr0 >>= 26\n\tw9 &= 0x3ffffff\n\t*(u32 *)(%[st] + " #hk ") = r9\n\t"
#define XWG_P_BLOCK(o0, o1, o2, o3)                                                     \
	"r8 = *(u32 *)(%[m] + " #o0 ")\n\tw9 = w8\n\tw9 &= 0x3ffffff\n\tw3 += w9\n\t"    \
	"w8 >>= 26\n\tr9 = *(u32 *)(%[m] + " #o1 ")\n\t"                                  \
	"w0 = w9\n\tw0 <<= 6\n\tw0 |= w8\n\tw0 &= 0x3ffffff\n\tw4 += w0\n\t"              \
	"w9 >>= 20\n\tr8 = *(u32 *)(%[m] + " #o2 ")\n\t"                                  \
	"w0 = w8\n\tw0 <<= 12\n\tw0 |= w9\n\tw0 &= 0x3ffffff\n\tw5 += w0\n\t"             \
	"w8 >>= 14\n\tr9 = *(u32 *)(%[m] + " #o3 ")\n\t"                                  \
	"w0 = w9\n\tw0 <<= 18\n\tw0 |= w8\n\tw0 &= 0x3ffffff\n\tw6 += w0\n\t"             \
	"w9 >>= 8\n\tw9 |= 0x1000000\n\tw7 += w9\n\t"                                     \
	XWG_P_D(0, 68, 64, 60, 56) "r0 = 0\n\t" XWG_P_CARRY(20)                            \
	XWG_P_D(4, 0, 68, 64, 60) XWG_P_CARRY(24)                                         \
	XWG_P_D(8, 4, 0, 68, 64) XWG_P_CARRY(28)                                          \
	XWG_P_D(12, 8, 4, 0, 68) XWG_P_CARRY(32)                                          \
	XWG_P_D(16, 12, 8, 4, 0)                                                          \
	"r9 += r0\n\tr0 = r9\n\tr0 >>= 26\n\tw9 &= 0x3ffffff\n\tw7 = w9\n\t"              \
	"w0 *= 5\n\tr3 = *(u32 *)(%[st] + 20)\n\tw3 += w0\n\t"                            \
	"w0 = w3\n\tw0 >>= 26\n\tw3 &= 0x3ffffff\n\t"                                     \
	"r4 = *(u32 *)(%[st] + 24)\n\tw4 += w0\n\t"                                       \
	"r5 = *(u32 *)(%[st] + 28)\n\tr6 = *(u32 *)(%[st] + 32)\n\t"

/* Four full blocks, the 64 bytes at @p (packet memory, checked by the caller). */
static __always_inline void xwg_poly1305_blocks4(struct xwg_poly1305 *st, const __u8 *p)
{
	__asm__ __volatile__(
		"r3 = *(u32 *)(%[st] + 20)\n\tr4 = *(u32 *)(%[st] + 24)\n\t"
		"r5 = *(u32 *)(%[st] + 28)\n\tr6 = *(u32 *)(%[st] + 32)\n\t"
		"r7 = *(u32 *)(%[st] + 36)\n\t"
		XWG_P_BLOCK(0, 4, 8, 12) XWG_P_BLOCK(16, 20, 24, 28)
		XWG_P_BLOCK(32, 36, 40, 44) XWG_P_BLOCK(48, 52, 56, 60)
		"*(u32 *)(%[st] + 20) = r3\n\t*(u32 *)(%[st] + 24) = r4\n\t"
		"*(u32 *)(%[st] + 28) = r5\n\t*(u32 *)(%[st] + 32) = r6\n\t"
		"*(u32 *)(%[st] + 36) = r7\n\t"
		:
		: [st] "r"(st), [m] "r"(p)
		: "r0", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "memory");
}
#else
/* Four full blocks, the 64 bytes at @p. */
static inline void xwg_poly1305_blocks4(struct xwg_poly1305 *st, const __u8 *p)
{
	for (int b = 0; b < 4; b++)
		xwg_poly1305_block(st, xwg_le32_load(p + 16 * b), xwg_le32_load(p + 16 * b + 4),
				   xwg_le32_load(p + 16 * b + 8), xwg_le32_load(p + 16 * b + 12),
				   XWG_POLY1305_HIBIT);
}
#endif

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
