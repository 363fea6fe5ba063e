/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * events.h — telling the daemon something through the `events` ring (include/xwg/maps.h).
 * The ring holds only events, never packets (those go to `staged`). An event that must
 * arrive is resent by its caller when the ring was full: KEYPAIR_CONFIRMED unmarks the
 * keypair, ENDPOINT_CHANGED keeps the slot's generation unreported, HANDSHAKE_NEEDED
 * leaves the rate limit where it was.
 */
#ifndef XWG_BPF_LIB_EVENTS_H
#define XWG_BPF_LIB_EVENTS_H

#include "bpf/lib/map_defs.h"

/* Returns 0 when the ring was full and nothing was sent. @ep may be NULL. */
static __always_inline int xwg_event_emit(__u32 type, __u32 peer_id, __u32 local_index,
					  const struct xwg_endpoint *ep, __u32 generation)
{
	struct xwg_event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);

	if (!ev)
		return 0;
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->peer_id = peer_id;
	ev->local_index = local_index;
	ev->generation = generation;
	if (ep)
		ev->endpoint = *ep;
	bpf_ringbuf_submit(ev, 0);
	return 1;
}

#endif /* XWG_BPF_LIB_EVENTS_H */
