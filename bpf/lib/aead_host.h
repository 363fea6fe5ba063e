/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * aead_host.h — the host driver of aead.h: ChaCha20-Poly1305 over a plain buffer, for the
 * unit tests (against RFC 8439 vectors and libsodium) and the bench, which thereby check
 * the same block code the BPF programs run.
 *
 *   xwg_aead_seal(buf, len, aad, aad_len, key, nonce0, counter)  buf: len + 16 bytes
 *   xwg_aead_open(buf, len, aad, aad_len, key, nonce0, counter)
 * xwg_chacha20_xor() and xwg_poly1305_mac() cover the RFC's separate vectors.
 */
#ifndef XWG_BPF_LIB_AEAD_HOST_H
#define XWG_BPF_LIB_AEAD_HOST_H

#include "bpf/lib/aead.h"

#include <stddef.h>

/* MAC @len bytes of @p zero-padded to 16. */
static inline void xwg_aead_mac_buf(struct xwg_aead *a, const __u8 *p, size_t len)
{
	for (size_t i = 0; i < len; i += 16) {
		__u8 blk[16] = {0};
		size_t n = len - i < 16 ? len - i : 16;

		__builtin_memcpy(blk, p + i, n);
		for (int k = 0; k < 4; k++)
			a->m[k] = xwg_le32_load(blk + 4 * k);
		xwg_aead_mac16(a);
	}
}

/* One pass over the @len bytes of @buf: the full 64-byte blocks through xwg_aead_step64(),
 * the rest through a copy, whose padding the keystream may overwrite. */
static inline void xwg_aead_pass(struct xwg_aead *a, __u8 *buf, __u32 len, int mode)
{
	__u32 ks[XWG_CHACHA20_WORDS] = {0};
	__u32 i;

	for (i = 0; len - i >= XWG_CHACHA20_BLOCK; i += XWG_CHACHA20_BLOCK) {
		if (mode != XWG_AEAD_MAC)
			xwg_aead_keystream(a, 1 + i / XWG_CHACHA20_BLOCK, ks);
		xwg_aead_step64(a, buf + i, ks, mode);
	}
	if (i == len)
		return;
	if (mode != XWG_AEAD_MAC) {
		__u8 blk[XWG_CHACHA20_BLOCK] = {0};

		__builtin_memcpy(blk, buf + i, len - i);
		xwg_aead_keystream(a, 1 + i / XWG_CHACHA20_BLOCK, ks);
		xwg_aead_xor64(blk, ks);
		__builtin_memcpy(buf + i, blk, len - i);
	}
	if (mode != XWG_AEAD_XOR)
		xwg_aead_mac_buf(a, buf + i, len - i);
}

/* Forget the message's key schedule. */
static inline void xwg_aead_wipe(struct xwg_aead *a)
{
	__builtin_memset(a, 0, sizeof(*a));
	__asm__ __volatile__("" : : "r"(a) : "memory");
}

/* Encrypt @len bytes of @buf in place and write the tag right after them. The nonce is
 * le32(@nonce0) || le64(@counter); WireGuard's has nonce0 = 0. Returns 0. */
static inline int xwg_aead_seal(__u8 *buf, __u32 len, const __u8 *aad, __u32 aad_len,
				const __u8 *key, __u32 nonce0, __u64 counter)
{
	struct xwg_aead a;
	__u32 ks[XWG_CHACHA20_WORDS];

	xwg_aead_begin(&a, ks, key, nonce0, (__u32)counter, (__u32)(counter >> 32));
	xwg_aead_mac_buf(&a, aad, aad_len);
	xwg_aead_pass(&a, buf, len, XWG_AEAD_SEAL);
	xwg_aead_finish(&a, aad_len, len);
	for (int k = 0; k < 4; k++)
		xwg_le32_store(buf + len + 4 * k, a.tag[k]);
	xwg_aead_wipe(&a);
	return 0;
}

/* Check the tag after @len bytes of ciphertext in @buf, then decrypt in place. Returns 0,
 * or XWG_AEAD_ERR_AUTH with @buf untouched. */
static inline int xwg_aead_open(__u8 *buf, __u32 len, const __u8 *aad, __u32 aad_len,
				const __u8 *key, __u32 nonce0, __u64 counter)
{
	struct xwg_aead a;
	__u32 want[4], ks[XWG_CHACHA20_WORDS];
	int ok;

	xwg_aead_begin(&a, ks, key, nonce0, (__u32)counter, (__u32)(counter >> 32));
	xwg_aead_mac_buf(&a, aad, aad_len);
	xwg_aead_pass(&a, buf, len, XWG_AEAD_MAC);
	xwg_aead_finish(&a, aad_len, len);
	for (int k = 0; k < 4; k++)
		want[k] = xwg_le32_load(buf + len + 4 * k);
	ok = xwg_aead_tag_equal(a.tag, want);
	if (ok)
		xwg_aead_pass(&a, buf, len, XWG_AEAD_XOR);
	xwg_aead_wipe(&a);
	return ok ? 0 : XWG_AEAD_ERR_AUTH;
}

#endif /* XWG_BPF_LIB_AEAD_HOST_H */
