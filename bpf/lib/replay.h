/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * replay.h — WireGuard's replay protection: a sliding window over the 64-bit counters of
 * one keypair, after RFC 6479 ("IPsec Anti-Replay Algorithm without Bit Shifting"). The
 * bitmap is a ring of words; when the greatest counter moves forward we clear the words
 * it skips instead of shifting bits.
 *
 * Two steps, as the receive path needs them:
 *   xwg_replay_check()  — before authentication: could this counter be fresh? Reads only.
 *   xwg_replay_commit() — after authentication: record it, and fail if another CPU
 *                         recorded the same counter meanwhile. Call it with the keypair's
 *                         spin lock held (it calls no helper, so that is allowed).
 * Plain C for BPF and the host (the host build is what the unit tests check against a
 * naive model).
 */
#ifndef XWG_BPF_LIB_REPLAY_H
#define XWG_BPF_LIB_REPLAY_H

#include "xwg/maps.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/* May @counter still be accepted? False when it is older than the window or its bit is
 * already set. */
static __always_inline int xwg_replay_check(const struct xwg_replay *r, __u64 counter)
{
	__u64 next = counter + 1; /* "greatest" is stored one past, so 0 means empty */

	if (next + XWG_REPLAY_WINDOW < r->greatest)
		return 0;
	if (next > r->greatest)
		return 1;
	return !(r->bitmap[(next >> 6) & (XWG_REPLAY_WORDS - 1)] & (1ULL << (next & 63)));
}

/* Record @counter as received; returns 1 when it was fresh, 0 when it is a replay or
 * too old (nothing changes then). */
static __always_inline int xwg_replay_commit(struct xwg_replay *r, __u64 counter)
{
	__u64 next = counter + 1;
	__u64 index = next >> 6;
	__u64 bit = 1ULL << (next & 63);
	__u64 *word;

	if (next + XWG_REPLAY_WINDOW < r->greatest)
		return 0;
	if (next > r->greatest) {
		__u64 current = r->greatest >> 6;
		__u64 skip = index - current;
		__u32 i;

		if (skip > XWG_REPLAY_WORDS)
			skip = XWG_REPLAY_WORDS;
		for (i = 1; i <= XWG_REPLAY_WORDS; i++) {
			if (i > skip)
				break;
			r->bitmap[(current + i) & (XWG_REPLAY_WORDS - 1)] = 0;
		}
		r->greatest = next;
	}
	word = &r->bitmap[index & (XWG_REPLAY_WORDS - 1)];
	if (*word & bit)
		return 0;
	*word |= bit;
	return 1;
}

#endif /* XWG_BPF_LIB_REPLAY_H */
