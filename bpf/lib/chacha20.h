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

#ifdef __clang__
#define XWG_CHACHA_UNROLL _Pragma("unroll")
#else
#define XWG_CHACHA_UNROLL _Pragma("GCC unroll 16")
#endif

#define XWG_ROTL32(v, n) (((v) << (n)) | ((v) >> (32 - (n))))
#define XWG_CHACHA_QR(a, b, c, d)                                                      \
	do {                                                                           \
		a += b; d ^= a; d = XWG_ROTL32(d, 16);                                 \
		c += d; b ^= c; b = XWG_ROTL32(b, 12);                                 \
		a += b; d ^= a; d = XWG_ROTL32(d, 8);                                  \
		c += d; b ^= c; b = XWG_ROTL32(b, 7);                                  \
	} while (0)

#ifdef __BPF__
/*
 * The 20 rounds over x[16] in memory, in BPF assembly. BPF has ten registers and no
 * rotate (a rotate is mov, shift, shift, or), and clang's own allocation of the sixteen
 * words spilled about 180 of the ~370 instructions of a double round. Here a double
 * round is four pairs of quarter rounds, each pair's eight words loaded into r0, r2..r8,
 * r9 the rotate's temporary, r1 = x: columns (0,4,8,12)+(1,5,9,13), (2,6,10,14)+
 * (3,7,11,15), diagonals (0,5,10,15)+(1,6,11,12), (2,7,8,13)+(3,4,9,14): 192 ALU
 * instructions and 64 loads/stores.
 */
#define XWG_CC_ROT(d, n, m) "w9 = w" #d "\n\tw" #d " <<= " #n "\n\tw9 >>= " #m "\n\tw" #d " |= w9\n\t"
#define XWG_CC_QR(a, b, c, d)                                                          \
	"w" #a " += w" #b "\n\tw" #d " ^= w" #a "\n\t" XWG_CC_ROT(d, 16, 16)          \
	"w" #c " += w" #d "\n\tw" #b " ^= w" #c "\n\t" XWG_CC_ROT(b, 12, 20)          \
	"w" #a " += w" #b "\n\tw" #d " ^= w" #a "\n\t" XWG_CC_ROT(d, 8, 24)           \
	"w" #c " += w" #d "\n\tw" #b " ^= w" #c "\n\t" XWG_CC_ROT(b, 7, 25)
/* load word @w (byte offset @o) into r@r, store r@r to it */
#define XWG_CC_LD(r, o) "r" #r " = *(u32 *)(r1 + " #o ")\n\t"
#define XWG_CC_ST(r, o) "*(u32 *)(r1 + " #o ") = r" #r "\n\t"

/* One double round of two blocks at once, x[0..15] and x[16..31], their pair steps
 * interleaved: one block's quarter rounds are a chain of dependent instructions, and
 * its words pass through memory between the column and the diagonal round; the other
 * block's independent work fills those waits. */
#define XWG_CC_PAIR(w0, w1, w2, w3, w4, w5, w6, w7)                                      \
	XWG_CC_LD(0, w0) XWG_CC_LD(2, w1) XWG_CC_LD(3, w2) XWG_CC_LD(4, w3)                  \
	XWG_CC_LD(5, w4) XWG_CC_LD(6, w5) XWG_CC_LD(7, w6) XWG_CC_LD(8, w7)                  \
	XWG_CC_QR(0, 2, 3, 4) XWG_CC_QR(5, 6, 7, 8)                                      \
	XWG_CC_ST(0, w0) XWG_CC_ST(2, w1) XWG_CC_ST(3, w2) XWG_CC_ST(4, w3)                  \
	XWG_CC_ST(5, w4) XWG_CC_ST(6, w5) XWG_CC_ST(7, w6) XWG_CC_ST(8, w7)
/* quarter rounds (a,b,c,d) and (e,f,g,h), as byte offsets of the words */
#define XWG_CC_COLS01 XWG_CC_PAIR(0, 16, 32, 48, 4, 20, 36, 52)
#define XWG_CC_COLS23 XWG_CC_PAIR(8, 24, 40, 56, 12, 28, 44, 60)
#define XWG_CC_DIAG01 XWG_CC_PAIR(0, 20, 40, 60, 4, 24, 44, 48)
#define XWG_CC_DIAG23 XWG_CC_PAIR(8, 28, 32, 52, 12, 16, 36, 56)

static __always_inline void xwg_chacha20_double_round2(__u32 x[32])
{
	__asm__ __volatile__(
		XWG_CC_COLS01 "r1 += 64\n\t" XWG_CC_COLS01 "r1 += -64\n\t"
		XWG_CC_COLS23 "r1 += 64\n\t" XWG_CC_COLS23 "r1 += -64\n\t"
		XWG_CC_DIAG01 "r1 += 64\n\t" XWG_CC_DIAG01 "r1 += -64\n\t"
		XWG_CC_DIAG23 "r1 += 64\n\t" XWG_CC_DIAG23 "r1 += -64\n\t"
		: /* x must be in r1: every other register is clobbered */
		: "r"(x)
		: "r0", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "memory");
}

/* x[0..15], x[16..31] = the 20 rounds of each. */
static __always_inline void xwg_chacha20_rounds2(__u32 x[32])
{
	int i;

#pragma clang loop unroll(disable)
	for (i = 0; i < 10; i++)
		xwg_chacha20_double_round2(x);
}

/* One double round of four blocks x[0..63], their pair steps interleaved as in
 * xwg_chacha20_double_round2: three other blocks' work between a block's store of a
 * word and its reload in the next pair step. */
#define XWG_CC_STEP4(P) P "r1 += 64\n\t" P "r1 += 64\n\t" P "r1 += 64\n\t" P "r1 += -192\n\t"
static __always_inline void xwg_chacha20_double_round4(__u32 x[64])
{
	__asm__ __volatile__(
		XWG_CC_STEP4(XWG_CC_COLS01) XWG_CC_STEP4(XWG_CC_COLS23)
		XWG_CC_STEP4(XWG_CC_DIAG01) XWG_CC_STEP4(XWG_CC_DIAG23)
		: /* x must be in r1: every other register is clobbered */
		: "r"(x)
		: "r0", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "memory");
}

/* x[16k..16k+15] = the 20 rounds of each, k = 0..3. */
static __always_inline void xwg_chacha20_rounds4(__u32 x[64])
{
	int i;

#pragma clang loop unroll(disable)
	for (i = 0; i < 10; i++)
		xwg_chacha20_double_round4(x);
}

static __always_inline void xwg_chacha20_double_round(__u32 x[16])
{
	__asm__ __volatile__(
		XWG_CC_COLS01 XWG_CC_COLS23 XWG_CC_DIAG01 XWG_CC_DIAG23
		: /* x must be in r1: every other register is clobbered */
		: "r"(x)
		: "r0", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "memory");
}

/* x = the 20 rounds of x. */
static __always_inline void xwg_chacha20_rounds(__u32 x[16])
{
	int i;

#pragma clang loop unroll(disable)
	for (i = 0; i < 10; i++)
		xwg_chacha20_double_round(x);
}
#else
static inline void xwg_chacha20_rounds(__u32 x[16])
{
	__u32 x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];
	__u32 x4 = x[4], x5 = x[5], x6 = x[6], x7 = x[7];
	__u32 x8 = x[8], x9 = x[9], x10 = x[10], x11 = x[11];
	__u32 x12 = x[12], x13 = x[13], x14 = x[14], x15 = x[15];

	for (int i = 0; i < 10; i++) {
		XWG_CHACHA_QR(x0, x4, x8, x12);
		XWG_CHACHA_QR(x1, x5, x9, x13);
		XWG_CHACHA_QR(x2, x6, x10, x14);
		XWG_CHACHA_QR(x3, x7, x11, x15);
		XWG_CHACHA_QR(x0, x5, x10, x15);
		XWG_CHACHA_QR(x1, x6, x11, x12);
		XWG_CHACHA_QR(x2, x7, x8, x13);
		XWG_CHACHA_QR(x3, x4, x9, x14);
	}
	x[0] = x0; x[1] = x1; x[2] = x2; x[3] = x3;
	x[4] = x4; x[5] = x5; x[6] = x6; x[7] = x7;
	x[8] = x8; x[9] = x9; x[10] = x10; x[11] = x11;
	x[12] = x12; x[13] = x13; x[14] = x14; x[15] = x15;
}
#endif

#ifndef __BPF__
static inline void xwg_chacha20_rounds2(__u32 x[32])
{
	xwg_chacha20_rounds(x);
	xwg_chacha20_rounds(x + 16);
}

static inline void xwg_chacha20_rounds4(__u32 x[64])
{
	xwg_chacha20_rounds2(x);
	xwg_chacha20_rounds2(x + 32);
}
#endif

/* out = ChaCha20 of the input block with block counter @counter: 20 rounds, then the
 * input added. @out is the working area (stack or map memory in BPF). */
static __always_inline void xwg_chacha20_block_at(const struct xwg_chacha20 *c, __u32 counter,
						  __u32 out[16])
{
	const __u32 *st = c->state;
	int i;

XWG_CHACHA_UNROLL
	for (i = 0; i < 16; i++)
		out[i] = i == XWG_CHACHA20_COUNTER_WORD ? counter : st[i];
	xwg_chacha20_rounds(out);
XWG_CHACHA_UNROLL
	for (i = 0; i < 16; i++)
		out[i] += i == XWG_CHACHA20_COUNTER_WORD ? counter : st[i];
}

/* out[0..15], out[16..31] = the blocks with counters @counter and @counter + 1: in BPF,
 * two blocks cost less than twice one (see xwg_chacha20_double_round2). */
static __always_inline void xwg_chacha20_blocks2(const struct xwg_chacha20 *c, __u32 counter,
						 __u32 out[32])
{
	const __u32 *st = c->state;
	int i;

XWG_CHACHA_UNROLL
	for (i = 0; i < 16; i++) {
		__u32 v = i == XWG_CHACHA20_COUNTER_WORD ? counter : st[i];

		out[i] = v;
		out[16 + i] = i == XWG_CHACHA20_COUNTER_WORD ? counter + 1 : v;
	}
	xwg_chacha20_rounds2(out);
XWG_CHACHA_UNROLL
	for (i = 0; i < 16; i++) {
		__u32 v = i == XWG_CHACHA20_COUNTER_WORD ? counter : st[i];

		out[i] += v;
		out[16 + i] += i == XWG_CHACHA20_COUNTER_WORD ? counter + 1 : v;
	}
}

/* out[16k..16k+15] = the blocks with counters @counter + k, k = 0..3: in BPF, four
 * blocks interleaved cost less than twice two (see xwg_chacha20_double_round4). */
static __always_inline void xwg_chacha20_blocks4(const struct xwg_chacha20 *c, __u32 counter,
						 __u32 out[64])
{
	const __u32 *st = c->state;
	int i, k;

XWG_CHACHA_UNROLL
	for (i = 0; i < 16; i++) {
		__u32 v = st[i];

XWG_CHACHA_UNROLL
		for (k = 0; k < 4; k++)
			out[16 * k + i] = i == XWG_CHACHA20_COUNTER_WORD ? counter + k : v;
	}
	xwg_chacha20_rounds4(out);
XWG_CHACHA_UNROLL
	for (i = 0; i < 16; i++) {
		__u32 v = st[i];

XWG_CHACHA_UNROLL
		for (k = 0; k < 4; k++)
			out[16 * k + i] += i == XWG_CHACHA20_COUNTER_WORD ? counter + k : v;
	}
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
