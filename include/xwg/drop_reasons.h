/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * drop_reasons.h — every reason the data plane drops a packet. Numbers are part of the
 * contract with the pinned `drops` map (per-CPU u64 counters indexed by reason): never
 * renumber, retire an entry as XWG_DROP_UNUSED_<n> instead. Userspace names them with
 * xwg_drop_reason_name() (loader/drop_names.cpp), a switch without default so the compiler
 * flags a reason that has no name.
 */
#ifndef XWG_DROP_REASONS_H
#define XWG_DROP_REASONS_H

enum xwg_drop_reason {
	/* RX (xwg_rx, XDP on the underlay) */
	XWG_DROP_BAD_LENGTH = 0,              /* message length wrong for its type */
	XWG_DROP_BAD_TYPE = 1,                /* unknown type or reserved bytes set */
	XWG_DROP_UNKNOWN_INDEX = 2,           /* no keypair has this receiver index */
	XWG_DROP_KEYPAIR_EXPIRED = 3,         /* older than REJECT_AFTER_TIME */
	XWG_DROP_COUNTER_LIMIT = 4,           /* counter >= REJECT_AFTER_MESSAGES */
	XWG_DROP_REPLAYED = 5,                /* counter seen already or left the window */
	XWG_DROP_AUTH_FAILED = 6,             /* Poly1305 tag mismatch */
	XWG_DROP_INNER_NOT_IP = 7,            /* decrypted payload is not IPv4/IPv6 */
	XWG_DROP_INNER_LENGTH = 8,            /* inner total length beyond the plaintext */
	XWG_DROP_INNER_SRC_NOT_ALLOWED = 9,   /* inner source outside the peer's allowed IPs */
	XWG_DROP_KEEPALIVE = 10,              /* authenticated empty payload: counted, no error */
	XWG_DROP_FRAME_TOO_BIG = 11,          /* larger than XWG_MAX_MTU allows */
	/* TX (xwg_tx, TC ingress on the hidden end of the tunnel device) */
	XWG_DROP_TX_NOT_IP = 12,              /* not IPv4/IPv6 */
	XWG_DROP_NO_PEER = 13,                /* destination matches no peer's allowed IPs */
	XWG_DROP_STAGED = 14,                 /* no usable keypair: queued for the daemon */
	XWG_DROP_STAGE_FULL = 15,             /* no keypair and the staging ring is full */
	XWG_DROP_NO_ENDPOINT = 16,            /* peer has no known endpoint */
	XWG_DROP_NO_ROUTE = 17,               /* no route/neighbour to the endpoint */
	XWG_DROP_KEYPAIR_EXHAUSTED = 18,      /* REJECT_AFTER_MESSAGES/TIME reached on send */
	XWG_DROP_HEADROOM = 19,               /* could not grow the packet for the headers */
	XWG_DROP_RX_REDIRECT_FAILED = 20,     /* tunnel device refused the decrypted frame */
	/* The daemon (handshake messages XDP passed on to its socket); only it writes these
	 * entries, so its read-modify-write never races the programs' increments. */
	XWG_DROP_CONTROL_INVALID = 21,        /* handshake/cookie message rejected (mac1, keys,
	                                       * timestamp, index), or a datagram it cannot use */
	XWG_DROP_CONTROL_RATELIMITED = 22,    /* valid handshake over the per-source limit */
	/* TX again: not lost, handed on. */
	XWG_DROP_TX_TO_DAEMON_OVERSIZE = 23,  /* outer packet larger than the path: the daemon
	                                       * seals it and its socket sends it fragmented */
	/* The daemon's path for data messages that reached its socket (outer fragments the
	 * kernel reassembled): written by the daemon only. */
	XWG_DROP_FRAGMENT_RATELIMITED = 24,   /* over the reassembled-datagram rate limit */
	XWG_DROP_FRAGMENT_NOT_UNDERLAY = 25,  /* arrived on an interface that is no underlay */
	/* Both programs. */
	XWG_DROP_KEYPAIR_RETIRED = 26,        /* the keypair is being retired (its slot is not
	                                       * live): its keys may already be wiped */
	/* TX. */
	XWG_DROP_TX_NOT_UNDERLAY = 27,        /* the route to the endpoint leaves through a
	                                       * device that is no underlay (the tunnel) */
	XWG_DROP_REASON_MAX,
};

#ifndef __BPF__
#ifdef __cplusplus
extern "C" {
#endif
/* Userspace only: the stable name of a reason ("auth_failed"), "unknown" for others. */
const char *xwg_drop_reason_name(enum xwg_drop_reason reason);
#ifdef __cplusplus
}
#endif
#endif /* !__BPF__ */

#endif /* XWG_DROP_REASONS_H */
