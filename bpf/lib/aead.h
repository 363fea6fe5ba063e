/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * aead.h — ChaCha20-Poly1305 (RFC 8439 §2.8) sealed and opened in place: the part both
 * builds share, from the block functions of chacha20.h and poly1305.h. Where the bytes
 * live differs, so each build includes its driver, which includes this file:
 *   aead_bpf.h   BPF: packet memory (XDP, skb) or a per-CPU buffer, walked by bpf_loop()
 *   aead_host.h  host: a plain buffer (the unit tests, the bench)
 *
 * Layout: the plaintext/ciphertext is @len bytes and the 16-byte tag follows it. The nonce
 * is le32(nonce0) || le64(counter); WireGuard's has nonce0 = 0 and its message counter.
 * Opening computes the tag first, compares it in constant time, and only then decrypts:
 * a failed open leaves the bytes as they were.
 *
 * A message is one pass (or, to open, two) over its 64-byte blocks: keystream blocks
 * from counter 1 on, then xwg_aead_step64() per block, which XORs the keystream in and/or
 * feeds the ciphertext to Poly1305 (enum xwg_aead_mode); the drivers handle the last
 * partial block, xwg_aead_finish() MACs the lengths and yields the tag, and
 * xwg_aead_tag_equal() compares. Functions marked XWG_AEAD_SUBPROG are BPF subprograms:
 * their register pressure spills into their own frames, and the verifier checks each
 * body per call site, not per use; on the host they are plain inline functions.
 */
#ifndef XWG_BPF_LIB_AEAD_H
#define XWG_BPF_LIB_AEAD_H

#include "xwg/protocol.h" /* XWG_AEAD_TAG_LEN */
#include "bpf/lib/chacha20.h"
#include "bpf/lib/poly1305.h"

#ifdef __clang__
#define XWG_UNROLL _Pragma("unroll")
#else
#define XWG_UNROLL _Pragma("GCC unroll 16")
#endif

#ifdef __BPF__
#define XWG_AEAD_SUBPROG __attribute__((noinline, unused))
#else
#define XWG_AEAD_SUBPROG inline
#endif

enum {
	XWG_AEAD_KEY_LEN = 32,
	XWG_AEAD_NONCE_LEN = 12,
	XWG_AEAD_MAX_AAD = 64,   /* BPF: AAD bytes supported */
	XWG_AEAD_MAX_LEN = 9216, /* BPF: data bytes, beyond a 9000-byte jumbo packet */
	XWG_AEAD_MAX_OFF = 512,  /* BPF: offset of the data in the packet */
};

enum xwg_aead_error {
	XWG_AEAD_ERR_AUTH = -1,   /* the tag does not match: forged or corrupted */
	XWG_AEAD_ERR_BOUNDS = -2, /* off/len/aad_len out of range or past data_end */
};

/* What a pass over the message does with each block. */
enum xwg_aead_mode {
	XWG_AEAD_MAC = 1,  /* MAC the ciphertext (open, first pass) */
	XWG_AEAD_XOR = 2,  /* apply the keystream (open, second pass) */
	XWG_AEAD_SEAL = 3, /* XOR, then MAC the resulting ciphertext */
};

/* The state of one message: the ChaCha20 input block, the Poly1305 state, the next
 * 16-byte block to MAC (as four little-endian words) and, at the end, the tag. */
struct xwg_aead {
	struct xwg_chacha20 chacha;
	struct xwg_poly1305 poly;
	__u32 m[4];
	__u32 tag[4];
};

/* The keystream block @counter into out[0..15]. */
static XWG_AEAD_SUBPROG void xwg_aead_keystream(const struct xwg_aead *a, __u32 counter,
						__u32 *out)
{
	xwg_chacha20_block_at(&a->chacha, counter, out);
}

/* The keystream blocks @counter and @counter + 1 into out[0..15], out[16..31]. */
static XWG_AEAD_SUBPROG void xwg_aead_keystream2(const struct xwg_aead *a, __u32 counter,
						 __u32 *out)
{
	xwg_chacha20_blocks2(&a->chacha, counter, out);
}

/* The keystream blocks @counter + k into out[16k..16k+15], k = 0..3. */
static XWG_AEAD_SUBPROG void xwg_aead_keystream4(const struct xwg_aead *a, __u32 counter,
						 __u32 *out)
{
	xwg_chacha20_blocks4(&a->chacha, counter, out);
}

/* MAC the block in a->m. */
static XWG_AEAD_SUBPROG void xwg_aead_mac16(struct xwg_aead *a)
{
	xwg_poly1305_block(&a->poly, a->m[0], a->m[1], a->m[2], a->m[3], XWG_POLY1305_HIBIT);
}

/* MAC the 64 bytes at @p (in BPF, bounds checked by the caller). */
static XWG_AEAD_SUBPROG void xwg_aead_mac64(struct xwg_aead *a, const __u8 *p)
{
	xwg_poly1305_blocks4(&a->poly, p);
}

/* XOR the 64 bytes at @p with the keystream block @ks. */
static __always_inline void xwg_aead_xor64(__u8 *p, const __u32 *ks)
{
XWG_UNROLL
	for (int k = 0; k < 16; k++)
		xwg_le32_store(p + 4 * k, xwg_le32_load(p + 4 * k) ^ ks[k]);
}

/* One full 64-byte block of the message at @p, with its keystream block @ks (unused for
 * XWG_AEAD_MAC): @mode says whether to XOR, MAC, or XOR and then MAC. */
static __always_inline void xwg_aead_step64(struct xwg_aead *a, __u8 *p, const __u32 *ks,
					    int mode)
{
	if (mode != XWG_AEAD_MAC)
		xwg_aead_xor64(p, ks);
	if (mode != XWG_AEAD_XOR)
		xwg_aead_mac64(a, p);
}

/* Key the message: block 0 of the keystream, left in @block0, is the Poly1305 key (§2.6). */
static __always_inline void xwg_aead_begin(struct xwg_aead *a, __u32 *block0, const __u8 *key,
					   __u32 n0, __u32 n1, __u32 n2)
{
	xwg_chacha20_init(&a->chacha, key, 0, n0, n1, n2);
	xwg_aead_keystream(a, 0, block0);
	xwg_poly1305_init(&a->poly, block0);
}

/* The last MAC block, le64(aad_len) || le64(len), and the tag into a->tag. */
static XWG_AEAD_SUBPROG void xwg_aead_finish(struct xwg_aead *a, __u32 aad_len, __u32 len)
{
	xwg_poly1305_block(&a->poly, aad_len, 0, len, 0, XWG_POLY1305_HIBIT);
	xwg_poly1305_final(&a->poly, a->tag);
}

/* Tag comparison in constant time: no early exit, no data-dependent branch. */
static __always_inline int xwg_aead_tag_equal(const __u32 *a, const __u32 *b)
{
	__u32 diff = (a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]);

	return diff == 0;
}

#endif /* XWG_BPF_LIB_AEAD_H */
