/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * drop.h — counting a dropped packet under its reason (include/xwg/drop_reasons.h) in
 * the per-CPU `drops` map: silent on the wire, never silent to the operator.
 */
#ifndef XWG_BPF_LIB_DROP_H
#define XWG_BPF_LIB_DROP_H

#include "bpf/lib/map_defs.h"

/* Returns @verdict, so callers can `return xwg_drop(reason, verdict)`. */
static __always_inline int xwg_drop(enum xwg_drop_reason reason, int verdict)
{
	__u32 key = reason;
	__u64 *n = bpf_map_lookup_elem(&drops, &key);

	if (n)
		*n += 1;
	return verdict;
}

#endif /* XWG_BPF_LIB_DROP_H */
