/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * protocol.h — WireGuard's protocol constants, named as in the whitepaper (§6.4) and the
 * Linux implementation's messages.h, grouped by concern. Plain C for BPF and userspace.
 * Times are in seconds unless a name says otherwise; the daemon turns them into
 * durations and the data plane receives them as nanoseconds through the config map,
 * so tests can shorten them.
 */
#ifndef XWG_PROTOCOL_H
#define XWG_PROTOCOL_H

/* _Static_assert for C, static_assert for C++: contract headers are compiled by both. */
#ifdef __cplusplus
#define XWG_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define XWG_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

/* Noise and AEAD sizes (bytes). */
enum xwg_noise_lengths {
	XWG_KEY_LEN = 32,               /* Curve25519 keys, symmetric keys, hashes */
	XWG_HASH_LEN = 32,              /* BLAKE2s-256 */
	XWG_AEAD_TAG_LEN = 16,          /* Poly1305 tag */
	XWG_TIMESTAMP_LEN = 12,         /* TAI64N */
	XWG_COOKIE_LEN = 16,            /* keyed BLAKE2s-128 */
	XWG_COOKIE_NONCE_LEN = 24,      /* XChaCha20-Poly1305 nonce */
};

/* Message types: the first byte of every message, the other three are zero. */
enum xwg_message_type {
	XWG_MSG_INVALID = 0,
	XWG_MSG_HANDSHAKE_INITIATION = 1,
	XWG_MSG_HANDSHAKE_RESPONSE = 2,
	XWG_MSG_HANDSHAKE_COOKIE = 3,
	XWG_MSG_DATA = 4,
};

/* Transport data: plaintext is padded to a multiple of this. */
enum xwg_message_alignments {
	XWG_MESSAGE_PADDING_MULTIPLE = 16,
};

/*
 * The padded length of an inner packet of @len bytes on a tunnel of @mtu: WireGuard's
 * rule (send.c, calculate_skb_padding): the part of the packet beyond whole MTUs is
 * padded to 16, but never past the MTU. One definition for xwg_tx and the daemon.
 */
static inline unsigned int xwg_padded_len(unsigned int len, unsigned int mtu)
{
	unsigned int last_unit, padded;

	if (!mtu)
		return (len + XWG_MESSAGE_PADDING_MULTIPLE - 1) & ~(XWG_MESSAGE_PADDING_MULTIPLE - 1u);
	last_unit = len % mtu;
	padded = (last_unit + XWG_MESSAGE_PADDING_MULTIPLE - 1) & ~(XWG_MESSAGE_PADDING_MULTIPLE - 1u);
	if (padded > mtu)
		padded = mtu;
	return len + (padded - last_unit);
}

/* Address families as the kernel numbers them (AF_INET, AF_INET6), named here so BPF
 * code needs no socket headers. */
enum xwg_address_family {
	XWG_AF_INET = 2,
	XWG_AF_INET6 = 10,
};

/* Timers (seconds). */
enum xwg_timer_seconds {
	XWG_REKEY_AFTER_TIME = 120,
	XWG_REJECT_AFTER_TIME = 180,
	XWG_REKEY_ATTEMPT_TIME = 90,
	XWG_REKEY_TIMEOUT = 5,
	XWG_KEEPALIVE_TIMEOUT = 10,
	XWG_COOKIE_SECRET_MAX_AGE = 120,
	XWG_COOKIE_SECRET_LATENCY = 5,
};

/* Replay protection: a sliding window of this many counters (RFC 6479 style). */
enum xwg_counter_values {
	XWG_COUNTER_BITS_TOTAL = 8192,
	XWG_COUNTER_REDUNDANT_BITS = 64,
	XWG_COUNTER_WINDOW_SIZE = XWG_COUNTER_BITS_TOTAL - XWG_COUNTER_REDUNDANT_BITS,
};

/* Counter limits (messages). */
#define XWG_REKEY_AFTER_MESSAGES (1ULL << 60)
#define XWG_REJECT_AFTER_MESSAGES (~0ULL - XWG_COUNTER_WINDOW_SIZE - 1)

/* Tunnel MTUs (bytes of inner packet). The overhead is the outer IPv6 header (40), UDP
 * (8), the data header (16) and the tag (16): wg-quick's "underlay MTU - 80". An
 * IPv4 outer header is 20 bytes shorter. */
enum xwg_mtu_limits {
	XWG_MIN_MTU = 576,            /* IPv4's minimum datagram every host must accept */
	XWG_MIN_MTU_IPV6 = 1280,      /* IPv6's minimum link MTU: IPv6 overlays need it */
	XWG_MAX_MTU = 9000,           /* the largest inner packet the data plane seals */
	XWG_MTU_OVERHEAD = 80,        /* default MTU = smallest underlay path MTU - this */
	XWG_MTU_OVERHEAD_IPV4 = 60,   /* the same over an IPv4 underlay */
	XWG_DEFAULT_UNDERLAY_MTU = 1500, /* when no route or device says otherwise */
};

/* Implementation limits (not from the specification). */
enum xwg_limits {
	XWG_MAX_PEERS = 65536,
	XWG_MAX_ALLOWED_IPS = 262144,                /* per family, all peers together */
	XWG_MAX_TIMER_HANDSHAKES = XWG_REKEY_ATTEMPT_TIME / XWG_REKEY_TIMEOUT,
	XWG_MAX_QUEUED_INCOMING_HANDSHAKES = 4096,
	XWG_HANDSHAKE_RCVBUF = 4 << 20,            /* socket buffer: ~4096 handshake messages */
	XWG_UNDER_LOAD_RATE = 4096,                /* handshake messages per second beyond which
	                                            * only valid mac2 earns a Diffie-Hellman
	                                            * (65,536 peers rekeying: ~1,100/s) */
	XWG_MAX_STAGED_PACKETS = 128,           /* per peer, while no session exists */
};

#endif /* XWG_PROTOCOL_H */
