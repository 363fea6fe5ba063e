/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * key_reaper.h — no session key outlives WireGuard's limit, even without a daemon.
 * WireGuard wipes a peer's keys 3 x REJECT_AFTER_TIME after the last handshake
 * (zero_key_material, Linux timers.c). The daemon does that too (loader/device/keypair.cpp),
 * but a killed daemon leaves the programs running on pinned maps and the keys in them.
 * So a BPF timer in `key_reaper` zeroes, in place, the keys of every keypair born
 * 3 x REJECT_AFTER_TIME ago or earlier, and flags it XWG_KEYPAIR_WIPED. It never deletes
 * an entry or touches a slot: that stays the daemon's.
 *
 * How it walks: through `keypair_slots`, XWG_KEY_REAPER_CHUNK slots per firing, so one
 * pass over all XWG_MAX_KEYPAIRS slots takes period_ns and a keypair is wiped at most
 * period_ns after it comes of age. Every keypair in `keypairs` has a slot that names it
 * (the daemon marks the slot before it writes the entry, and frees the slot only after
 * deleting the entry), so the slots lead to all of them. Walking `keypairs` itself with
 * bpf_for_each_map_elem would visit all 262,144 hash buckets in one go: measured on 6.18,
 * 4 ms in softirq with no keypair at all and 19 ms with 196,608, every period, a stall of
 * the CPU's packet processing. A chunk of 2048 slots costs ~20 us with no keypair and
 * ~0.45 ms when all are in use (tests/key_reaper_test.cpp; README, "State shared with
 * the programs").
 *
 * Why zeroing in place is safe for the programs: xwg_rx (rx_data) and xwg_tx refuse a
 * keypair whose age is REJECT_AFTER_TIME or more before they read a key, by the same
 * unsigned age computed here. A keypair of 3 x that age is unusable by construction, so
 * no program can be using the keys that go; and a program that read a key before
 * REJECT_AFTER_TIME finished long ago (programs run for microseconds).
 *
 * Why under the keypair's lock, and why birth_ns 0 is left alone: the daemon wipes an
 * entry (a BPF_F_LOCK update to all zeros, birth_ns included) and then deletes it, and
 * the hash map may hand the memory to the next keypair at once while this walk still
 * holds a pointer to it. Holding the lock while we check the age and zero the keys keeps
 * the daemon's wipe, and so the deletion, after us; an entry the daemon already wiped
 * (birth_ns 0) or that became a fresh keypair (young) fails the check.
 *
 * The timer lives in an array map: the kernel cancels it when the map loses its last
 * user reference (fds and pins), not when programs let go. It holds a reference to the
 * program that set its callback, so it outlives the daemon's fds while the pins stay,
 * and stops when `xwg down` removes them.
 */
#ifndef XWG_BPF_LIB_KEY_REAPER_H
#define XWG_BPF_LIB_KEY_REAPER_H

#include <linux/errno.h>
#include <linux/time.h>

#include "bpf/lib/map_defs.h"

enum {
	XWG_KEY_REAPER_CHUNK = 2048,  /* slots per firing */
	XWG_KEY_REAPER_CHUNKS = XWG_MAX_KEYPAIRS / XWG_KEY_REAPER_CHUNK, /* firings per pass */
};
XWG_STATIC_ASSERT(XWG_MAX_KEYPAIRS % XWG_KEY_REAPER_CHUNK == 0, "whole chunks");

struct key_reaper_walk {
	__u64 now;
	__u64 limit;     /* 3 x REJECT_AFTER_TIME */
	__u32 first;     /* first slot of this chunk */
	__u32 visited;
	__u32 wiped;
};

/* Is @kp (read under its lock, or as a first look without it) due for wiping? */
static __always_inline int key_reaper_due(const struct xwg_keypair *kp,
					  const struct key_reaper_walk *w)
{
	/* The programs' own age, unsigned: a birth in the future is as unusable to them. */
	return kp->birth_ns != 0 && !(kp->flags & XWG_KEYPAIR_WIPED) &&
	       w->now - kp->birth_ns >= w->limit;
}

/* bpf_loop callback: slot @i of the chunk. */
static long key_reaper_slot(__u32 i, struct key_reaper_walk *w)
{
	__u32 n = w->first + i, index;
	struct xwg_keypair_slot *slot = bpf_map_lookup_elem(&keypair_slots, &n);
	struct xwg_keypair *kp;
	int wiped = 0;

	if (!slot)
		return 1; /* past the last slot */
	if (*(volatile __u32 *)&slot->state == XWG_KEYPAIR_UNUSED)
		return 0;
	index = *(volatile __u32 *)&slot->local_index;
	kp = bpf_map_lookup_elem(&keypairs, &index);
	if (!kp || kp->counter_slot != n)
		return 0;
	w->visited++;
	if (!key_reaper_due(kp, w)) /* most keypairs: no lock */
		return 0;
	bpf_spin_lock(&kp->lock);
	if (key_reaper_due(kp, w)) {
		__builtin_memset(kp->recv_key, 0, sizeof(kp->recv_key));
		__builtin_memset(kp->send_key, 0, sizeof(kp->send_key));
		kp->flags |= XWG_KEYPAIR_WIPED;
		wiped = 1;
	}
	bpf_spin_unlock(&kp->lock);
	w->wiped += wiped;
	return 0;
}

/* The timer's callback: one chunk, then the next one a chunk's share of the period later. */
static int key_reaper_fire(void *map, __u32 *key, struct xwg_key_reaper *r)
{
	struct key_reaper_walk w = {};
	struct xwg_config *cfg = xwg_config_get();
	__u64 reject, start;
	__u32 chunk;

	(void)map;
	(void)key;
	start = bpf_ktime_get_boot_ns();
	chunk = r->next_chunk;
	if (chunk >= XWG_KEY_REAPER_CHUNKS)
		chunk = 0;
	/* No config yet (or a zero limit, which would wipe everything): wait for one. A
	 * limit beyond 64 bits is never reached. */
	reject = cfg ? cfg->reject_after_time_ns : 0;
	if (reject && reject <= ~0ULL / 3) {
		w.now = start;
		w.limit = 3 * reject;
		w.first = chunk * XWG_KEY_REAPER_CHUNK;
		bpf_loop(XWG_KEY_REAPER_CHUNK, key_reaper_slot, &w, 0);
	}
	if (chunk == 0) { /* a pass begins: the last one's totals go on show */
		r->last_pass_visited = r->pass_visited;
		r->last_pass_ns = r->pass_ns;
		r->pass_visited = 0;
		r->pass_ns = 0;
	}
	r->runs++;
	r->last_run_ns = start;
	r->pass_visited += w.visited;
	r->pass_ns += bpf_ktime_get_boot_ns() - start;
	r->wiped += w.wiped;
	if (chunk + 1 == XWG_KEY_REAPER_CHUNKS)
		r->passes++;
	r->next_chunk = chunk + 1 == XWG_KEY_REAPER_CHUNKS ? 0 : chunk + 1;
	bpf_timer_start(&r->timer, r->period_ns / XWG_KEY_REAPER_CHUNKS, 0);
	return 0;
}

/* Arms the reaper (or re-arms it: an initialised timer only gets the new period and
 * callback). 0, or the timer helpers' -errno. */
static __always_inline int xwg_key_reaper_start(__u64 period_ns)
{
	__u32 zero = 0;
	struct xwg_key_reaper *r = bpf_map_lookup_elem(&key_reaper, &zero);
	long err;

	if (!r)
		return -ENOENT;
	if (period_ns < XWG_KEY_REAPER_CHUNKS)
		return -EINVAL;
	err = bpf_timer_init(&r->timer, &key_reaper, CLOCK_BOOTTIME);
	if (err && err != -EBUSY) /* armed before, by us or a daemon before us */
		return err;
	r->period_ns = period_ns;
	err = bpf_timer_set_callback(&r->timer, key_reaper_fire);
	if (err)
		return err;
	return bpf_timer_start(&r->timer, period_ns / XWG_KEY_REAPER_CHUNKS, 0);
}

#endif /* XWG_BPF_LIB_KEY_REAPER_H */
