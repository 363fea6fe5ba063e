/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * aead.h — ChaCha20-Poly1305 (RFC 8439 §2.8) sealed and opened in place, over packet
 * memory in BPF and over a buffer on the host, built from the same block functions
 * (chacha20.h, poly1305.h).
 *
 * Layout: the plaintext/ciphertext is the @len bytes at @off and the 16-byte tag follows
 * at @off + @len. The nonce is le32(nonce0) || le64(counter); WireGuard's has nonce0 = 0
 * and its message counter. Opening computes the tag first, compares it in constant time,
 * and only then decrypts: a failed open leaves the bytes as they were.
 *
 * BPF (XDP ctx, or an skb after bpf_skb_pull_data() made the bytes linear). @key is 32
 * bytes of map value or stack. 0 on success, else a negative enum xwg_aead_error:
 *   int xwg_aead_{seal,open}_{xdp,skb}(ctx, off, len, key, counter)
 *   int xwg_aead_{seal,open}_{xdp,skb}_aad(ctx, off, len, key, nonce0, counter, aad,
 *                                          aad_len)   (aad: XWG_AEAD_MAX_AAD readable bytes)
 * with off <= XWG_AEAD_MAX_OFF and len <= XWG_AEAD_MAX_LEN.
 *
 * Host (a buffer of len + 16 bytes): xwg_aead_seal/xwg_aead_open(buf, len, aad, aad_len,
 * key, nonce0, counter); xwg_chacha20_xor() and xwg_poly1305_mac() for the RFC's
 * separate vectors.
 *
 * How the BPF side stays verifiable and inside the 512-byte stack (which counts the whole
 * call chain): bpf_loop() (Linux 5.17+) calls one callback per four 64-byte chunks, which
 * re-derives data/data_end from the ctx and bounds-checks its chunks, so the verifier
 * checks it once whatever the length; the tail (< 64 bytes) is a bounded loop. The
 * per-message state (cipher state, four keystream blocks, MAC block: ~500 bytes) lives in
 * a per-CPU scratch map, not on the stack, and the block functions are subprograms, so
 * the AEAD adds about 200 bytes to its caller's chain. The hot parts, the ChaCha20
 * rounds (four blocks interleaved, two for a message's last one or two blocks) and four
 * Poly1305 blocks at a time, are BPF assembly (chacha20.h, poly1305.h) that keeps the
 * working words in registers.
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

/* The cipher state of one message: the ChaCha20 input block and the Poly1305 state. */
struct xwg_aead {
	struct xwg_chacha20 chacha;
	struct xwg_poly1305 poly;
};

/* Key the message: block 0 of the keystream is the Poly1305 key (§2.6). */
static __always_inline void xwg_aead_begin(struct xwg_aead *a, __u32 block0[16], const __u8 *key,
					   __u32 n0, __u32 n1, __u32 n2)
{
	xwg_chacha20_init(&a->chacha, key, 0, n0, n1, n2);
	xwg_chacha20_block_at(&a->chacha, 0, block0);
	xwg_poly1305_init(&a->poly, block0);
}

/* The last MAC block: le64(aad_len) || le64(data_len). */
static __always_inline void xwg_aead_lengths(struct xwg_aead *a, __u32 aad_len, __u32 len)
{
	xwg_poly1305_block(&a->poly, aad_len, 0, len, 0, XWG_POLY1305_HIBIT);
}

/* Tag comparison in constant time: no early exit, no data-dependent branch. */
static __always_inline int xwg_aead_tag_equal(const __u32 a[4], const __u32 b[4])
{
	__u32 diff = (a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]);

	return diff == 0;
}

/* MAC @len bytes of AAD, zero-padded to 16 (§2.8). @aad must have XWG_AEAD_MAX_AAD
 * readable bytes in BPF; len <= XWG_AEAD_MAX_AAD. */
static __always_inline void xwg_aead_mac_aad(struct xwg_aead *a, const __u8 *aad, __u32 len)
{
XWG_UNROLL
	for (int b = 0; b < XWG_AEAD_MAX_AAD / 16; b++) {
		__u32 t[4];

		if ((__u32)b * 16 >= len)
			break;
XWG_UNROLL
		for (int k = 0; k < 4; k++) {
			__u32 at = b * 16 + k * 4;
			__u32 w = 0;

			if (at + 4 <= len) {
				w = xwg_le32_load(aad + at);
			} else {
XWG_UNROLL
				for (int j = 0; j < 3; j++)
					if (at + j < len)
						w |= (__u32)aad[at + j] << (8 * j);
			}
			t[k] = w;
		}
		xwg_poly1305_block(&a->poly, t[0], t[1], t[2], t[3], XWG_POLY1305_HIBIT);
	}
}

/* WireGuard's nonce words for a counter. */
#define XWG_AEAD_NONCE_WG(counter) 0, (__u32)(counter), (__u32)((__u64)(counter) >> 32)

#ifndef __BPF__
/* ------------------------------------------------------------------ host driver */
#include <stddef.h>

/* MAC @len bytes of @p zero-padded to 16. */
static inline void xwg_aead_mac_buf(struct xwg_aead *a, const __u8 *p, size_t len)
{
	for (size_t i = 0; i < len; i += 16) {
		__u8 blk[16] = {0};
		size_t n = len - i < 16 ? len - i : 16;

		__builtin_memcpy(blk, p + i, n);
		xwg_poly1305_block(&a->poly, xwg_le32_load(blk), xwg_le32_load(blk + 4),
				   xwg_le32_load(blk + 8), xwg_le32_load(blk + 12),
				   XWG_POLY1305_HIBIT);
	}
}

/* XOR the keystream from block 1 on into @p. */
static inline void xwg_aead_xor_buf(const struct xwg_aead *a, __u8 *p, size_t len)
{
	__u32 ks[16];

	for (size_t i = 0; i < len; i += 64) {
		size_t n = len - i < 64 ? len - i : 64;

		xwg_chacha20_block_at(&a->chacha, (__u32)(1 + i / 64), ks);
		if (n == 64) {
			for (int k = 0; k < 16; k++)
				xwg_le32_store(p + i + 4 * k, xwg_le32_load(p + i + 4 * k) ^ ks[k]);
		} else {
			for (size_t j = 0; j < n; j++)
				p[i + j] ^= (__u8)(ks[j / 4] >> (8 * (j % 4)));
		}
	}
}

/* Encrypt @len bytes of @buf in place and write the tag right after them. The nonce is
 * le32(@nonce0) || le64(@counter); WireGuard's has nonce0 = 0. Returns 0. */
static inline int xwg_aead_seal(__u8 *buf, __u32 len, const __u8 *aad, __u32 aad_len,
				const __u8 *key, __u32 nonce0, __u64 counter)
{
	struct xwg_aead a;
	__u32 t[4], ks[16];

	xwg_aead_begin(&a, ks, key, nonce0, (__u32)counter, (__u32)(counter >> 32));
	xwg_aead_mac_buf(&a, aad, aad_len);
	xwg_aead_xor_buf(&a, buf, len);
	xwg_aead_mac_buf(&a, buf, len);
	xwg_aead_lengths(&a, aad_len, len);
	xwg_poly1305_final(&a.poly, t);
	for (int k = 0; k < 4; k++)
		xwg_le32_store(buf + len + 4 * k, t[k]);
	__builtin_memset(&a, 0, sizeof(a));
	__asm__ __volatile__("" : : "r"(&a) : "memory");
	return 0;
}

/* Check the tag after @len bytes of ciphertext in @buf, then decrypt in place. Returns 0,
 * or XWG_AEAD_ERR_AUTH with @buf untouched. */
static inline int xwg_aead_open(__u8 *buf, __u32 len, const __u8 *aad, __u32 aad_len,
				const __u8 *key, __u32 nonce0, __u64 counter)
{
	struct xwg_aead a;
	__u32 t[4], want[4], ks[16];
	int ok;

	xwg_aead_begin(&a, ks, key, nonce0, (__u32)counter, (__u32)(counter >> 32));
	xwg_aead_mac_buf(&a, aad, aad_len);
	xwg_aead_mac_buf(&a, buf, len);
	xwg_aead_lengths(&a, aad_len, len);
	xwg_poly1305_final(&a.poly, t);
	for (int k = 0; k < 4; k++)
		want[k] = xwg_le32_load(buf + len + 4 * k);
	ok = xwg_aead_tag_equal(t, want);
	if (ok)
		xwg_aead_xor_buf(&a, buf, len);
	__builtin_memset(&a, 0, sizeof(a));
	__asm__ __volatile__("" : : "r"(&a) : "memory");
	return ok ? 0 : XWG_AEAD_ERR_AUTH;
}

#else /* __BPF__ */
/* ------------------------------------------------------------------ BPF driver */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/*
 * The state of one message lives in a per-CPU scratch map, not on the stack: the cipher
 * state, a keystream block and a MAC input block are 200 bytes, and the stack limit
 * counts every frame of the call chain. One slot per program type: XDP and TC run in
 * softirq context and never interrupt themselves on a CPU.
 */
struct xwg_aead_scratch {
	struct xwg_aead a;
	__u32 ks[64]; /* four keystream blocks */
	__u32 m[4];   /* next block to MAC */
	__u32 buf[16]; /* the tail's ciphertext, zero-padded */
	__u32 tag[4];
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

/* What a bpf_loop callback gets (on the caller's stack). */
struct xwg_aead_loop {
	void *ctx;
	struct xwg_aead_scratch *st;
};

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

enum xwg_aead_mode {
	XWG_AEAD_MAC = 1,  /* MAC the ciphertext */
	XWG_AEAD_XOR = 2,  /* apply the keystream */
	XWG_AEAD_SEAL = 3, /* XOR, then MAC the resulting ciphertext */
};

/* The two block functions as subprograms: their register pressure spills into their
 * own frames, and the verifier checks each body once per call site, not per use. */
static __noinline __attribute__((unused)) void xwg_aead_keystream(struct xwg_aead_scratch *st,
								  __u32 counter)
{
	xwg_chacha20_block_at(&st->a.chacha, counter, st->ks);
}

/* The keystream blocks @counter and @counter + 1 into ks[0..15], ks[16..31]. */
static __noinline __attribute__((unused)) void xwg_aead_keystream2(struct xwg_aead_scratch *st,
								   __u32 counter)
{
	xwg_chacha20_blocks2(&st->a.chacha, counter, st->ks);
}

/* The keystream blocks @counter + k into ks[16k..16k+15], k = 0..3. */
static __noinline __attribute__((unused)) void xwg_aead_keystream4(struct xwg_aead_scratch *st,
								   __u32 counter)
{
	xwg_chacha20_blocks4(&st->a.chacha, counter, st->ks);
}

/* MAC the 64 bytes at @p (bounds checked by the caller). */
static __noinline __attribute__((unused)) void xwg_aead_mac64(struct xwg_poly1305 *poly,
							      const __u8 *p)
{
	xwg_poly1305_blocks4(poly, p);
}

/* XOR the 64 bytes at @p with the keystream block at @ks. */
static __always_inline void xwg_aead_xor64(__u8 *p, const __u32 *ks)
{
XWG_UNROLL
	for (int k = 0; k < 16; k++)
		xwg_le32_store(p + 4 * k, xwg_le32_load(p + 4 * k) ^ ks[k]);
}

static __noinline __attribute__((unused)) void xwg_aead_mac_m(struct xwg_aead_scratch *st)
{
	xwg_poly1305_block(&st->a.poly, st->m[0], st->m[1], st->m[2], st->m[3], XWG_POLY1305_HIBIT);
}

/* Key the message (block 0 keys Poly1305) and MAC the AAD. */
static __noinline __attribute__((unused)) void xwg_aead_start(struct xwg_aead_scratch *st,
							      const struct xwg_aead_job *job)
{
	xwg_chacha20_init(&st->a.chacha, job->key, 0, job->nonce[0], job->nonce[1], job->nonce[2]);
	xwg_aead_keystream(st, 0);
	xwg_poly1305_init(&st->a.poly, st->ks);
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
			st->m[k] = w;
		}
		xwg_aead_mac_m(st);
	}
}

/* The lengths block and the tag, into st->tag. */
static __noinline __attribute__((unused)) void xwg_aead_finish(struct xwg_aead_scratch *st,
							       __u32 aad_len)
{
	xwg_aead_lengths(&st->a, aad_len, st->len);
	xwg_poly1305_final(&st->a.poly, st->tag);
}

/* BOUNDS(ctx, data, end) sets the memory an instance works on: packet data for the XDP
 * and skb instances, a per-CPU buffer for the "mem" one (see xwg_aead_mem_bounds). */
#define XWG_AEAD_DEFINE(NAME, CTX_T, SLOT, BOUNDS)                                        \
/* Full 64-byte chunks 4i .. 4i + 3 (those there are): four keystream blocks per call. */ \
static __always_inline long xwg_aead_##NAME##_chunk(__u32 i, struct xwg_aead_loop *l, int mode) \
{                                                                                         \
	CTX_T *c = l->ctx;                                                                \
	struct xwg_aead_scratch *st = l->st;                                              \
	void *data, *end;                                                                 \
	__u32 at = st->off + i * (4 * XWG_CHACHA20_BLOCK);                                \
	__u32 nfull = st->len / XWG_CHACHA20_BLOCK;                                       \
	__u8 *p;                                                                          \
                                                                                          \
	BOUNDS(c, data, end);                                                             \
	if (at > XWG_AEAD_MAX_OFF + XWG_AEAD_MAX_LEN)                                     \
		goto fail;                                                                \
	p = data + at;                                                                    \
	if ((void *)(p + XWG_CHACHA20_BLOCK) > end)                                       \
		goto fail;                                                                \
	/* the blocks this step and the tail need: two blocks cost less than four */     \
	if (mode != XWG_AEAD_MAC) {                                                       \
		if ((st->len + XWG_CHACHA20_BLOCK - 1) / XWG_CHACHA20_BLOCK - 4 * i > 2)  \
			xwg_aead_keystream4(st, 1 + 4 * i);                               \
		else                                                                      \
			xwg_aead_keystream2(st, 1 + 4 * i);                               \
	}                                                                                 \
XWG_UNROLL                                                                                \
	for (int k = 0; k < 4; k++) {                                                     \
		if (k && 4 * i + k >= nfull)                                              \
			return 0;                                                         \
		if ((void *)(p + (k + 1) * XWG_CHACHA20_BLOCK) > end)                     \
			goto fail;                                                        \
		if (mode != XWG_AEAD_MAC)                                                 \
			xwg_aead_xor64(p + k * XWG_CHACHA20_BLOCK,                        \
				       st->ks + k * XWG_CHACHA20_WORDS);                  \
		if (mode != XWG_AEAD_XOR)                                                 \
			xwg_aead_mac64(&st->a.poly, p + k * XWG_CHACHA20_BLOCK);          \
	}                                                                                 \
	return 0;                                                                         \
fail:                                                                                     \
	st->err = 1;                                                                      \
	return 1;                                                                         \
}                                                                                         \
static __attribute__((unused)) long xwg_aead_##NAME##_mac_cb(__u32 i, void *arg)          \
{                                                                                         \
	return xwg_aead_##NAME##_chunk(i, arg, XWG_AEAD_MAC);                             \
}                                                                                         \
static __attribute__((unused)) long xwg_aead_##NAME##_xor_cb(__u32 i, void *arg)          \
{                                                                                         \
	return xwg_aead_##NAME##_chunk(i, arg, XWG_AEAD_XOR);                             \
}                                                                                         \
static __attribute__((unused)) long xwg_aead_##NAME##_seal_cb(__u32 i, void *arg)         \
{                                                                                         \
	return xwg_aead_##NAME##_chunk(i, arg, XWG_AEAD_SEAL);                            \
}                                                                                         \
                                                                                          \
/* The last len % 64 bytes: whole words, then bytes, through a bounded loop; the       \
 * ciphertext collects in st->buf, zero-padded, and is MACed from there. */               \
static __noinline __attribute__((unused)) int                                             \
xwg_aead_##NAME##_tail(CTX_T *c, struct xwg_aead_scratch *st, int mode)                   \
{                                                                                         \
	void *data, *end;                                                                 \
	__u32 rem = st->len & (XWG_CHACHA20_BLOCK - 1);                                   \
	__u32 at = st->off + (st->len - rem);                                             \
	__u32 words = rem / 4;                                                            \
	__u32 nchunks = st->len / XWG_CHACHA20_BLOCK;                                     \
	/* unless nchunks % 4 == 0 the last call left this block in ks[16 * (nchunks % 4)..] */ \
	__u32 ko = (nchunks & 3) * XWG_CHACHA20_WORDS;                                    \
	__u8 *p, *buf = (__u8 *)st->buf, *ks;                                             \
	__u32 j;                                                                          \
                                                                                          \
	if (!rem)                                                                         \
		return 0;                                                                 \
	BOUNDS(c, data, end);                                                             \
	__asm__ __volatile__("" : "+r"(at)); /* check and use the same register */        \
	if (at > XWG_AEAD_MAX_OFF + XWG_AEAD_MAX_LEN)                                     \
		return -1;                                                                \
	p = data + at;                                                                    \
	if (mode != XWG_AEAD_MAC && !ko)                                                  \
		xwg_aead_keystream(st, 1 + nchunks);                                      \
	ks = (__u8 *)st->ks + 4 * ko;                                                     \
	__builtin_memset(st->buf, 0, sizeof(st->buf));                                    \
	for (j = 0; j < XWG_CHACHA20_WORDS; j++) {                                        \
		__u32 w, ct;                                                              \
		if (j >= words)                                                           \
			break;                                                            \
		if ((void *)(p + 4 * j + 4) > end)                                        \
			return -1;                                                        \
		w = ct = xwg_le32_load(p + 4 * j);                                        \
		if (mode != XWG_AEAD_MAC) {                                               \
			w ^= st->ks[ko + j];                                              \
			xwg_le32_store(p + 4 * j, w);                                     \
			if (mode == XWG_AEAD_SEAL)                                        \
				ct = w;                                                   \
		}                                                                         \
		st->buf[j] = ct;                                                          \
	}                                                                                 \
	for (j = words * 4; j < words * 4 + 3; j++) {                                     \
		__u8 v;                                                                   \
		if (j >= rem || j >= XWG_CHACHA20_BLOCK)                                  \
			break;                                                            \
		if ((void *)(p + j + 1) > end)                                            \
			return -1;                                                        \
		v = p[j];                                                                 \
		if (mode != XWG_AEAD_MAC) {                                               \
			__u8 x = v ^ ks[j];                                               \
			p[j] = x;                                                         \
			if (mode == XWG_AEAD_SEAL)                                        \
				v = x;                                                    \
		}                                                                         \
		buf[j] = v;                                                               \
	}                                                                                 \
	if (mode == XWG_AEAD_XOR)                                                         \
		return 0;                                                                 \
	for (j = 0; j < 4; j++) {                                                         \
		if (j * 16 >= rem)                                                        \
			break;                                                            \
		st->m[0] = st->buf[4 * j];                                                \
		st->m[1] = st->buf[4 * j + 1];                                            \
		st->m[2] = st->buf[4 * j + 2];                                            \
		st->m[3] = st->buf[4 * j + 3];                                            \
		xwg_aead_mac_m(st);                                                       \
	}                                                                                 \
	return 0;                                                                         \
}                                                                                         \
                                                                                          \
/* Seal or open per @job; see the top of this file. */                                   \
static __noinline __attribute__((unused)) int                                             \
xwg_aead_run_##NAME(CTX_T *ctx, const struct xwg_aead_job *job)                           \
{                                                                                         \
	__u32 slot = SLOT, nchunks, tag_at;                                               \
	struct xwg_aead_scratch *st;                                                      \
	struct xwg_aead_loop l;                                                           \
	void *data, *end;                                                                 \
	int ret = XWG_AEAD_ERR_BOUNDS;                                                    \
	__u8 *p;                                                                          \
                                                                                          \
	if (job->len > XWG_AEAD_MAX_LEN || job->off > XWG_AEAD_MAX_OFF ||                 \
	    job->aad_len > XWG_AEAD_MAX_AAD)                                              \
		return XWG_AEAD_ERR_BOUNDS;                                               \
	st = bpf_map_lookup_elem(&xwg_aead_scratch, &slot);                               \
	if (!st)                                                                          \
		return XWG_AEAD_ERR_BOUNDS;                                               \
	st->off = job->off;                                                               \
	st->len = job->len;                                                               \
	st->err = 0;                                                                      \
	l.ctx = ctx;                                                                      \
	l.st = st;                                                                        \
	xwg_aead_start(st, job);                                                          \
	nchunks = (job->len / XWG_CHACHA20_BLOCK + 3) / 4; /* groups of four chunks */    \
	if (job->seal) {                                                                  \
		bpf_loop(nchunks, xwg_aead_##NAME##_seal_cb, &l, 0);                      \
		if (st->err || xwg_aead_##NAME##_tail(ctx, st, XWG_AEAD_SEAL))            \
			goto out;                                                         \
	} else {                                                                          \
		bpf_loop(nchunks, xwg_aead_##NAME##_mac_cb, &l, 0);                       \
		if (st->err || xwg_aead_##NAME##_tail(ctx, st, XWG_AEAD_MAC))             \
			goto out;                                                         \
	}                                                                                 \
	xwg_aead_finish(st, job->aad_len);                                                \
	BOUNDS(ctx, data, end);                                                           \
	tag_at = job->off + job->len;                                                     \
	__asm__ __volatile__("" : "+r"(tag_at)); /* check and use the same register */    \
	if (tag_at > XWG_AEAD_MAX_OFF + XWG_AEAD_MAX_LEN)                                 \
		goto out;                                                                 \
	p = data + tag_at;                                                                \
	if ((void *)(p + XWG_AEAD_TAG_LEN) > end)                                       \
		goto out;                                                                 \
	if (job->seal) {                                                                  \
		xwg_le32_store(p, st->tag[0]);                                            \
		xwg_le32_store(p + 4, st->tag[1]);                                        \
		xwg_le32_store(p + 8, st->tag[2]);                                        \
		xwg_le32_store(p + 12, st->tag[3]);                                       \
		ret = 0;                                                                  \
		goto out;                                                                 \
	}                                                                                 \
	st->m[0] = xwg_le32_load(p);                                                      \
	st->m[1] = xwg_le32_load(p + 4);                                                  \
	st->m[2] = xwg_le32_load(p + 8);                                                  \
	st->m[3] = xwg_le32_load(p + 12);                                                 \
	if (!xwg_aead_tag_equal(st->tag, st->m)) {                                        \
		ret = XWG_AEAD_ERR_AUTH;                                                  \
		goto out;                                                                 \
	}                                                                                 \
	bpf_loop(nchunks, xwg_aead_##NAME##_xor_cb, &l, 0);                               \
	if (st->err || xwg_aead_##NAME##_tail(ctx, st, XWG_AEAD_XOR))                     \
		goto out;                                                                 \
	ret = 0;                                                                          \
out:                                                                                      \
	/* do not leave the key schedule in the scratch slot */                           \
	__builtin_memset(&st->a, 0, sizeof(st->a));                                       \
	__builtin_memset(st->ks, 0, sizeof(st->ks));                                      \
	return ret;                                                                       \
}                                                                                         \
                                                                                          \
static __always_inline __attribute__((unused)) int                                        \
xwg_aead_seal_##NAME(CTX_T *ctx, __u32 off, __u32 len, const __u8 *key, __u64 counter)     \
{                                                                                         \
	struct xwg_aead_job job = {.off = off, .len = len, .key = key, .seal = 1,         \
				   .nonce = {XWG_AEAD_NONCE_WG(counter)}};                \
	return xwg_aead_run_##NAME(ctx, &job);                                            \
}                                                                                         \
static __always_inline __attribute__((unused)) int                                        \
xwg_aead_open_##NAME(CTX_T *ctx, __u32 off, __u32 len, const __u8 *key, __u64 counter)     \
{                                                                                         \
	struct xwg_aead_job job = {.off = off, .len = len, .key = key, .seal = 0,         \
				   .nonce = {XWG_AEAD_NONCE_WG(counter)}};                \
	return xwg_aead_run_##NAME(ctx, &job);                                            \
}                                                                                         \
/* Any nonce le32(nonce0) || le64(counter), with AAD (<= XWG_AEAD_MAX_AAD bytes). */       \
static __always_inline __attribute__((unused)) int                                        \
xwg_aead_seal_##NAME##_aad(CTX_T *ctx, __u32 off, __u32 len, const __u8 *key, __u32 nonce0, \
			   __u64 counter, const __u8 *aad, __u32 aad_len)                 \
{                                                                                         \
	struct xwg_aead_job job = {.off = off, .len = len, .key = key, .seal = 1,         \
				   .aad = aad, .aad_len = aad_len,                        \
				   .nonce = {nonce0, (__u32)counter, (__u32)(counter >> 32)}}; \
	return xwg_aead_run_##NAME(ctx, &job);                                            \
}                                                                                         \
static __always_inline __attribute__((unused)) int                                        \
xwg_aead_open_##NAME##_aad(CTX_T *ctx, __u32 off, __u32 len, const __u8 *key, __u32 nonce0, \
			   __u64 counter, const __u8 *aad, __u32 aad_len)                 \
{                                                                                         \
	struct xwg_aead_job job = {.off = off, .len = len, .key = key, .seal = 0,         \
				   .aad = aad, .aad_len = aad_len,                        \
				   .nonce = {nonce0, (__u32)counter, (__u32)(counter >> 32)}}; \
	return xwg_aead_run_##NAME(ctx, &job);                                            \
}

/* Packet data, bounded by the ctx's data_end: the verifier checks every access. */
#define XWG_AEAD_PACKET_BOUNDS(c, data, end)                                              \
	do {                                                                              \
		data = (void *)(long)(c)->data;                                           \
		end = (void *)(long)(c)->data_end;                                        \
	} while (0)

XWG_AEAD_DEFINE(xdp, struct xdp_md, XWG_AEAD_SLOT_XDP, XWG_AEAD_PACKET_BOUNDS)
XWG_AEAD_DEFINE(skb, struct __sk_buff, XWG_AEAD_SLOT_SKB, XWG_AEAD_PACKET_BOUNDS)

/*
 * The "mem" instance works on a per-CPU buffer instead of the packet: for messages that
 * do not sit in one linear piece of packet memory (multi-buffer XDP: jumbo frames, and
 * the daemon's reassembled datagrams), which the caller copies in with
 * bpf_xdp_load_bytes() and back out with bpf_xdp_store_bytes(). Offsets are bounded by
 * XWG_AEAD_MAX_OFF + XWG_AEAD_MAX_LEN before every access, and the buffer has room for
 * the widest access past such an offset (four 64-byte blocks), which is what the
 * verifier checks for map memory; the data/end comparisons keep the logic honest.
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

#define XWG_AEAD_MEM_BOUNDS(c, data, end)                                                 \
	do {                                                                              \
		struct xwg_aead_mem *m_ = xwg_aead_mem_get();                             \
                                                                                          \
		(void)(c);                                                                \
		data = m_ ? (void *)m_->bytes : NULL;                                     \
		end = m_ ? (void *)m_->bytes + sizeof(m_->bytes) : NULL;                  \
	} while (0)

XWG_AEAD_DEFINE(mem, void, XWG_AEAD_SLOT_MEM, XWG_AEAD_MEM_BOUNDS)

#endif /* __BPF__ */
#endif /* XWG_BPF_LIB_AEAD_H */
