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

/* Implementation limits (not from the specification). */
enum xwg_limits {
	XWG_MAX_PEERS = 1024,
	XWG_MAX_ALLOWED_IPS = 65536,
	XWG_MAX_TIMER_HANDSHAKES = XWG_REKEY_ATTEMPT_TIME / XWG_REKEY_TIMEOUT,
	XWG_MAX_QUEUED_INCOMING_HANDSHAKES = 4096,
	XWG_MAX_STAGED_PACKETS = 128,           /* per peer, while no session exists */
};

#endif /* XWG_PROTOCOL_H */
