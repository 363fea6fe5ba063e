/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * chacha20.h — the ChaCha20 block function and stream cipher of RFC 8439 §2.1–2.4
 * (20 rounds, 256-bit key, 32-bit block counter, 96-bit nonce).
 *
 * Plain C for BPF (clang -target bpf -mcpu=v3) and the host. The block function works on
 * 32-bit words only: with -mcpu=v3 every add/xor/shift is a 32-bit ALU op, and the
 * rounds are written out so the verifier walks straight-line code once instead of a
 * loop ten times. BPF has no rotate instruction; clang turns our rotl into two shifts
 * and an or, the host compiler into one rol.
 *
 * Byte order: ChaCha20 is defined on little-endian words, and both BPF (bpfel, as
 * Makefile.bpf builds it on x86) and the host are little-endian, so words are loaded
 * straight from memory.
 */
#ifndef XWG_BPF_LIB_CHACHA20_H
#define XWG_BPF_LIB_CHACHA20_H

#include <linux/types.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "chacha20.h assumes a little-endian target (bpfel, x86, arm64)"
#endif

enum chacha20_lengths {
	XWG_CHACHA20_KEY_LEN = 32,
	XWG_CHACHA20_NONCE_LEN = 12,
	XWG_CHACHA20_BLOCK_LEN = 64,
};

/*
 * Unaligned 32-bit little-endian access to packet or buffer memory. In BPF a plain word
 * load is one instruction, and the verifier accepts misaligned packet and map-value
 * access on architectures with efficient unaligned access (x86, arm64); clang would split
 * an aligned(1) access into four byte loads. On the host, memcpy is the portable way to
 * say the same thing and compiles to one mov.
 */
static __always_inline __u32 xwg_load32(const void *p)
{
#ifdef __BPF__
	return *(const __u32 *)p;
#else
	__u32 v;

	__builtin_memcpy(&v, p, sizeof(v));
	return v;
#endif
}

static __always_inline void xwg_store32(void *p, __u32 v)
{
#ifdef __BPF__
	*(__u32 *)p = v;
#else
	__builtin_memcpy(p, &v, sizeof(v));
#endif
}

/* The 16-word input state: constants, key, block counter (word 12), nonce. */
struct xwg_chacha20 {
	__u32 s[16];
};

/* Set up the state for @key and the nonce le32(@n0) || le32(@n1) || le32(@n2), with
 * block counter @counter. */
static __always_inline void xwg_chacha20_init(struct xwg_chacha20 *st, const __u8 *key,
					      __u32 counter, __u32 n0, __u32 n1, __u32 n2)
{
	/* "expand 32-byte k" */
	st->s[0] = 0x61707865;
	st->s[1] = 0x3320646e;
	st->s[2] = 0x79622d32;
	st->s[3] = 0x6b206574;
	st->s[4] = xwg_load32(key + 0);
	st->s[5] = xwg_load32(key + 4);
	st->s[6] = xwg_load32(key + 8);
	st->s[7] = xwg_load32(key + 12);
	st->s[8] = xwg_load32(key + 16);
	st->s[9] = xwg_load32(key + 20);
	st->s[10] = xwg_load32(key + 24);
	st->s[11] = xwg_load32(key + 28);
	st->s[12] = counter;
	st->s[13] = n0;
	st->s[14] = n1;
	st->s[15] = n2;
}

#define XWG_ROTL32(v, n) (((v) << (n)) | ((v) >> (32 - (n))))

#define XWG_CHACHA_QR(a, b, c, d)                  \
	do {                                        \
		a += b; d ^= a; d = XWG_ROTL32(d, 16); \
		c += d; b ^= c; b = XWG_ROTL32(b, 12); \
		a += b; d ^= a; d = XWG_ROTL32(d, 8);  \
		c += d; b ^= c; b = XWG_ROTL32(b, 7);  \
	} while (0)

#define XWG_CHACHA_DOUBLE_ROUND()                  \
	do {                                        \
		XWG_CHACHA_QR(x0, x4, x8, x12);     \
		XWG_CHACHA_QR(x1, x5, x9, x13);     \
		XWG_CHACHA_QR(x2, x6, x10, x14);    \
		XWG_CHACHA_QR(x3, x7, x11, x15);    \
		XWG_CHACHA_QR(x0, x5, x10, x15);    \
		XWG_CHACHA_QR(x1, x6, x11, x12);    \
		XWG_CHACHA_QR(x2, x7, x8, x13);     \
		XWG_CHACHA_QR(x3, x4, x9, x14);     \
	} while (0)

/*
 * One keystream block for the state's current counter (RFC 8439 §2.3) into @ks, as
 * sixteen little-endian words. Does not advance the counter.
 *
 * Not inlined: in BPF it is a subprogram with its own frame, so its register spills do
 * not add to every caller's share of the 512-byte stack, and there is one copy of its
 * ~2K instructions per call site's function instead of several. The call costs a few
 * nanoseconds per 64 bytes, here and natively alike.
 */
static __attribute__((noinline)) void xwg_chacha20_block(const struct xwg_chacha20 *st,
							 __u32 ks[16])
{
	__u32 x0 = st->s[0], x1 = st->s[1], x2 = st->s[2], x3 = st->s[3];
	__u32 x4 = st->s[4], x5 = st->s[5], x6 = st->s[6], x7 = st->s[7];
	__u32 x8 = st->s[8], x9 = st->s[9], x10 = st->s[10], x11 = st->s[11];
	__u32 x12 = st->s[12], x13 = st->s[13], x14 = st->s[14], x15 = st->s[15];

	/* Written out rather than looped: the verifier then checks it once, and neither
	 * compiler needs an unroll pragma (gcc warns about clang's). */
	XWG_CHACHA_DOUBLE_ROUND();
	XWG_CHACHA_DOUBLE_ROUND();
	XWG_CHACHA_DOUBLE_ROUND();
	XWG_CHACHA_DOUBLE_ROUND();
	XWG_CHACHA_DOUBLE_ROUND();
	XWG_CHACHA_DOUBLE_ROUND();
	XWG_CHACHA_DOUBLE_ROUND();
	XWG_CHACHA_DOUBLE_ROUND();
	XWG_CHACHA_DOUBLE_ROUND();
	XWG_CHACHA_DOUBLE_ROUND();

	ks[0] = x0 + st->s[0];
	ks[1] = x1 + st->s[1];
	ks[2] = x2 + st->s[2];
	ks[3] = x3 + st->s[3];
	ks[4] = x4 + st->s[4];
	ks[5] = x5 + st->s[5];
	ks[6] = x6 + st->s[6];
	ks[7] = x7 + st->s[7];
	ks[8] = x8 + st->s[8];
	ks[9] = x9 + st->s[9];
	ks[10] = x10 + st->s[10];
	ks[11] = x11 + st->s[11];
	ks[12] = x12 + st->s[12];
	ks[13] = x13 + st->s[13];
	ks[14] = x14 + st->s[14];
	ks[15] = x15 + st->s[15];
}

#ifndef __BPF__
/*
 * Host only: XOR @len bytes of @buf with the keystream starting at the state's counter,
 * advancing it (RFC 8439 §2.4). What the RFC's cipher vectors test; the AEAD has its own
 * packet walk in aead.h.
 */
static inline void xwg_chacha20_xor(struct xwg_chacha20 *st, __u8 *buf, __u32 len)
{
	__u32 ks[16];
	__u32 i;

	while (len) {
		__u32 n = len < 64u ? len : 64u; /* one block */

		xwg_chacha20_block(st, ks);
		st->s[12]++;
		for (i = 0; i < n; i++)
			buf[i] ^= (__u8)(ks[i / 4] >> (8 * (i % 4)));
		buf += n;
		len -= n;
	}
}
#endif

#endif /* XWG_BPF_LIB_CHACHA20_H */
