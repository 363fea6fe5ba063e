/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * chacha20.h — the ChaCha20 block function (RFC 8439 §2.3), in C that compiles for BPF
 * (clang -target bpf -mcpu=v3: 32-bit ALU) and for the host. The state is the 16-word
 * input block: constants, key, block counter, nonce. Callers XOR the keystream into
 * their data themselves (bpf/lib/aead.h), because where data lives differs: packet
 * memory in BPF, a buffer on the host.
 */
#ifndef XWG_BPF_LIB_CHACHA20_H
#define XWG_BPF_LIB_CHACHA20_H

#include <linux/types.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

enum {
	XWG_CHACHA20_BLOCK = 64,
	XWG_CHACHA20_WORDS = 16,
	XWG_CHACHA20_COUNTER_WORD = 12,
};

/* Little-endian 32-bit load/store. BPF on x86 and x86 are little-endian and packet and
 * map memory may be read unaligned there; the host build goes through memcpy. */
static __always_inline __u32 xwg_le32_load(const void *p)
{
#ifdef __BPF__
	return *(const __u32 *)p;
#else
	__u32 v;
	__builtin_memcpy(&v, p, sizeof(v));
	return v;
#endif
}

static __always_inline void xwg_le32_store(void *p, __u32 v)
{
#ifdef __BPF__
	*(__u32 *)p = v;
#else
	__builtin_memcpy(p, &v, sizeof(v));
#endif
}

/* The 16-word input block: constants, key, block counter (word 12), nonce. */
struct xwg_chacha20 {
	__u32 state[16];
};

/* "expand 32-byte k" */
static __always_inline void xwg_chacha20_init(struct xwg_chacha20 *c, const __u8 key[32],
					      __u32 counter, __u32 n0, __u32 n1, __u32 n2)
{
	__u32 *st = c->state;

	st[0] = 0x61707865;
	st[1] = 0x3320646e;
	st[2] = 0x79622d32;
	st[3] = 0x6b206574;
	st[4] = xwg_le32_load(key + 0);
	st[5] = xwg_le32_load(key + 4);
	st[6] = xwg_le32_load(key + 8);
	st[7] = xwg_le32_load(key + 12);
	st[8] = xwg_le32_load(key + 16);
	st[9] = xwg_le32_load(key + 20);
	st[10] = xwg_le32_load(key + 24);
	st[11] = xwg_le32_load(key + 28);
	st[12] = counter;
	st[13] = n0;
	st[14] = n1;
	st[15] = n2;
}

#define XWG_ROTL32(v, n) (((v) << (n)) | ((v) >> (32 - (n))))
#define XWG_CHACHA_QR(a, b, c, d)                                                      \
	do {                                                                           \
		a += b; d ^= a; d = XWG_ROTL32(d, 16);                                 \
		c += d; b ^= c; b = XWG_ROTL32(b, 12);                                 \
		a += b; d ^= a; d = XWG_ROTL32(d, 8);                                  \
		c += d; b ^= c; b = XWG_ROTL32(b, 7);                                  \
	} while (0)

/* out = ChaCha20 of the input block with block counter @counter: 20 rounds, then the
 * input added. */
static __always_inline void xwg_chacha20_block_at(const struct xwg_chacha20 *c, __u32 counter,
						  __u32 out[16])
{
	const __u32 *st = c->state;
	__u32 x0 = st[0], x1 = st[1], x2 = st[2], x3 = st[3];
	__u32 x4 = st[4], x5 = st[5], x6 = st[6], x7 = st[7];
	__u32 x8 = st[8], x9 = st[9], x10 = st[10], x11 = st[11];
	__u32 x12 = counter, x13 = st[13], x14 = st[14], x15 = st[15];
	int i;

	/* One double round per iteration: unrolling all ten would make the compiler keep
	 * more words live than BPF has registers, and the spills grow the stack frame. */
#ifdef __clang__
#pragma clang loop unroll(disable)
#endif
	for (i = 0; i < 10; i++) {
		XWG_CHACHA_QR(x0, x4, x8, x12);
		XWG_CHACHA_QR(x1, x5, x9, x13);
		XWG_CHACHA_QR(x2, x6, x10, x14);
		XWG_CHACHA_QR(x3, x7, x11, x15);
		XWG_CHACHA_QR(x0, x5, x10, x15);
		XWG_CHACHA_QR(x1, x6, x11, x12);
		XWG_CHACHA_QR(x2, x7, x8, x13);
		XWG_CHACHA_QR(x3, x4, x9, x14);
	}
#ifdef __BPF__
	/* Read the input words again only now: loaded early they would be live across the
	 * rounds and spilled (BPF has ten registers). */
	__asm__ __volatile__("" : : : "memory");
#endif
	out[0] = x0 + st[0];
	out[1] = x1 + st[1];
	out[2] = x2 + st[2];
	out[3] = x3 + st[3];
	out[4] = x4 + st[4];
	out[5] = x5 + st[5];
	out[6] = x6 + st[6];
	out[7] = x7 + st[7];
	out[8] = x8 + st[8];
	out[9] = x9 + st[9];
	out[10] = x10 + st[10];
	out[11] = x11 + st[11];
	out[12] = x12 + counter;
	out[13] = x13 + st[13];
	out[14] = x14 + st[14];
	out[15] = x15 + st[15];
}

/* The keystream block at the state's own counter. */
static __always_inline void xwg_chacha20_block(const struct xwg_chacha20 *c, __u32 out[16])
{
	xwg_chacha20_block_at(c, c->state[XWG_CHACHA20_COUNTER_WORD], out);
}

#ifndef __BPF__
#include <stddef.h>

/* Host: XOR the keystream into @buf from the state's counter on, advancing it. */
static inline void xwg_chacha20_xor(struct xwg_chacha20 *c, __u8 *buf, size_t len)
{
	__u32 ks[16];

	for (size_t i = 0; i < len; i += XWG_CHACHA20_BLOCK) {
		size_t n = len - i < (size_t)XWG_CHACHA20_BLOCK ? len - i : (size_t)XWG_CHACHA20_BLOCK;

		xwg_chacha20_block(c, ks);
		c->state[XWG_CHACHA20_COUNTER_WORD]++;
		for (size_t j = 0; j < n; j++)
			buf[i + j] ^= (__u8)(ks[j / 4] >> (8 * (j % 4)));
	}
}
#endif

#endif /* XWG_BPF_LIB_CHACHA20_H */
