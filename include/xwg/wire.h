/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * wire.h — WireGuard's four message formats exactly as they travel (whitepaper §5.4).
 * Multi-byte integers are little-endian on the wire; x86 and BPF on x86 are little-endian
 * and the structs are packed, so a field can be read directly. The header is one 32-bit
 * little-endian word: type in the low byte, three reserved zero bytes, so a single compare
 * checks both.
 */
#ifndef XWG_WIRE_H
#define XWG_WIRE_H

#include <linux/types.h>
#include "xwg/protocol.h"

struct xwg_msg_header {
	__le32 type; /* enum xwg_message_type in the low byte, reserved zeroes above */
} __attribute__((packed));

/* The MACs over a handshake message: mac1 keyed by the receiver's public key, mac2 by a
 * cookie (zero when the sender has none). */
struct xwg_msg_macs {
	__u8 mac1[XWG_COOKIE_LEN];
	__u8 mac2[XWG_COOKIE_LEN];
} __attribute__((packed));

struct xwg_msg_initiation {
	struct xwg_msg_header header;
	__le32 sender_index;
	__u8 unencrypted_ephemeral[XWG_KEY_LEN];
	__u8 encrypted_static[XWG_KEY_LEN + XWG_AEAD_TAG_LEN];
	__u8 encrypted_timestamp[XWG_TIMESTAMP_LEN + XWG_AEAD_TAG_LEN];
	struct xwg_msg_macs macs;
} __attribute__((packed));

struct xwg_msg_response {
	struct xwg_msg_header header;
	__le32 sender_index;
	__le32 receiver_index;
	__u8 unencrypted_ephemeral[XWG_KEY_LEN];
	__u8 encrypted_nothing[XWG_AEAD_TAG_LEN];
	struct xwg_msg_macs macs;
} __attribute__((packed));

struct xwg_msg_cookie {
	struct xwg_msg_header header;
	__le32 receiver_index;
	__u8 nonce[XWG_COOKIE_NONCE_LEN];
	__u8 encrypted_cookie[XWG_COOKIE_LEN + XWG_AEAD_TAG_LEN];
} __attribute__((packed));

/* Transport data: this header, then the encrypted, padded packet, then the tag. */
struct xwg_msg_data {
	struct xwg_msg_header header;
	__le32 key_idx;  /* the receiver's index for this keypair */
	__le64 counter;  /* the nonce, also the replay-protection counter */
} __attribute__((packed));

/* Sizes fixed by the protocol. */
enum xwg_message_lengths {
	XWG_MSG_INITIATION_LEN = 148,
	XWG_MSG_RESPONSE_LEN = 92,
	XWG_MSG_COOKIE_LEN = 64,
	XWG_MSG_DATA_HEADER_LEN = 16,
	XWG_MSG_DATA_MIN_LEN = XWG_MSG_DATA_HEADER_LEN + XWG_AEAD_TAG_LEN, /* keepalive */
};

XWG_STATIC_ASSERT(sizeof(struct xwg_msg_initiation) == XWG_MSG_INITIATION_LEN, "initiation");
XWG_STATIC_ASSERT(sizeof(struct xwg_msg_response) == XWG_MSG_RESPONSE_LEN, "response");
XWG_STATIC_ASSERT(sizeof(struct xwg_msg_cookie) == XWG_MSG_COOKIE_LEN, "cookie reply");
XWG_STATIC_ASSERT(sizeof(struct xwg_msg_data) == XWG_MSG_DATA_HEADER_LEN, "data header");

/* A message's header word for a given type, as it is on the wire. */
#define XWG_MSG_HEADER(type) ((__u32)(type))

#endif /* XWG_WIRE_H */
