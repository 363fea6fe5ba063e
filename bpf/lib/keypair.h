/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * keypair.h — may a program use this keypair's keys? Only while its slot in
 * `keypair_slots` says LIVE for this local index (include/xwg/maps.h: the daemon retires
 * a keypair by marking it, waits for a kernel grace period, and only then wipes the keys).
 * The age limit (REJECT_AFTER_TIME) is checked on top of that by the callers.
 */
#ifndef XWG_BPF_LIB_KEYPAIR_H
#define XWG_BPF_LIB_KEYPAIR_H

#include "bpf/lib/map_defs.h"

/* The slot of the live keypair @kp (local index @local_index), or NULL. */
static __always_inline struct xwg_keypair_slot *xwg_keypair_live(const struct xwg_keypair *kp,
								  __u32 local_index)
{
	__u32 key = kp->counter_slot;
	struct xwg_keypair_slot *slot = bpf_map_lookup_elem(&keypair_slots, &key);

	if (!slot)
		return NULL;
	if (*(volatile __u32 *)&slot->state != XWG_KEYPAIR_LIVE ||
	    *(volatile __u32 *)&slot->local_index != local_index)
		return NULL;
	return slot;
}

#endif /* XWG_BPF_LIB_KEYPAIR_H */
