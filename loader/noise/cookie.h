// noise/cookie.h — WireGuard's DoS defence (whitepaper §5.3, §5.4.4, §5.4.7).
//
// Every handshake message ends in mac1 (keyed by the receiver's public key: proves the
// sender knows whom it talks to) and mac2 (keyed by a cookie the receiver handed out, or
// zero). A responder under load answers a message without a valid mac2 with a cookie
// reply instead of doing Curve25519 work; the cookie is a MAC of the sender's address
// under a secret that rotates every two minutes, sent encrypted with XChaCha20-Poly1305.
//
// CookieChecker is the responder's side (one per interface), CookieMaker the initiator's
// (one per peer). LoadMonitor is the "under load" policy the daemon feeds.
#pragma once

#include "loader/types/keys.h"
#include "loader/noise/blake2s_kdf.h"
#include "xwg/wire.h"

#include <array>
#include <cstdint>

namespace xwg::noise {

using Cookie = std::array<std::uint8_t, XWG_COOKIE_LEN>;

enum class MacCheck {
	valid_mac1,      // mac1 good; mac2 not asked for
	valid_cookie,    // mac1 and mac2 good
	bad_mac1,        // drop silently
	bad_mac2,        // mac1 good, but under load and mac2 missing or wrong: send a cookie
	wrong_length,    // too short to carry MACs
};
const char *to_string(MacCheck c);

enum class CookieError {
	ok,
	wrong_length,    // not a 64-byte cookie reply
	wrong_type,
	no_mac1_sent,    // we sent nothing this reply could answer
	decrypt_failed,  // not for our last mac1, or not from the peer
};
const char *to_string(CookieError e);

class CookieChecker
{
public:
	explicit CookieChecker(const PublicKey &local_public, std::uint64_t now_ns);
	~CookieChecker();
	// Checks the MACs of a whole handshake message (MACs are its last 32 bytes). `source`
	// is the sender's address and port in any fixed encoding. mac2 is only checked when
	// `check_cookie` (under load).
	MacCheck validate(Bytes message, Bytes source, bool check_cookie, std::uint64_t now_ns);
	// Builds the cookie reply for `message` (whose mac1 was valid) from `source`;
	// `receiver_index` is the message's sender index.
	void create_reply(xwg_msg_cookie &out, Bytes message, std::uint32_t receiver_index,
			  Bytes source, std::uint64_t now_ns);

private:
	Cookie cookie_for(Bytes source, std::uint64_t now_ns);

	std::uint8_t mac1_key_[HASH_LEN];
	std::uint8_t cookie_key_[HASH_LEN];
	std::uint8_t secret_[HASH_LEN];
	std::uint64_t secret_birth_ns_;
};

class CookieMaker
{
public:
	explicit CookieMaker(const PublicKey &remote_public);
	~CookieMaker();
	// Fills mac1 and mac2 (zero unless a cookie younger than COOKIE_SECRET_MAX_AGE -
	// COOKIE_SECRET_LATENCY is held) of a whole outgoing handshake message.
	void add_macs(std::span<std::uint8_t> message, std::uint64_t now_ns);
	CookieError consume_reply(Bytes packet, std::uint64_t now_ns);
	bool has_fresh_cookie(std::uint64_t now_ns) const;

private:
	std::uint8_t mac1_key_[HASH_LEN];
	std::uint8_t cookie_key_[HASH_LEN];
	Cookie cookie_{};
	std::uint64_t cookie_birth_ns_ = 0;
	bool have_cookie_ = false;
	std::uint8_t last_mac1_[XWG_COOKIE_LEN] = {};
	bool have_last_mac1_ = false;
};

// The "under load" decision. The daemon reports the depth of its queue of handshake
// messages waiting for Curve25519 work each time it takes one; load is declared when the
// queue is at least `queue_threshold` deep or more than `rate_threshold` handshake messages
// arrived in the last second (0: rate ignored), and lasts `hold_ns` after the last time
// either held, so an attacker cannot toggle it per packet.
struct LoadPolicy {
	std::size_t queue_threshold = XWG_MAX_QUEUED_INCOMING_HANDSHAKES / 8;
	std::uint64_t rate_threshold = XWG_UNDER_LOAD_RATE; // messages per second; 0: off
	std::uint64_t hold_ns = 1000000000ULL;
};

class LoadMonitor
{
public:
	explicit LoadMonitor(LoadPolicy policy = {}) : policy_(policy) {}
	// Call once per handshake message received; true when mac2 must be checked.
	bool under_load(std::size_t queue_depth, std::uint64_t now_ns);

private:
	LoadPolicy policy_;
	std::uint64_t last_under_load_ns_ = 0;
	bool ever_ = false;
	std::uint64_t window_start_ns_ = 0;
	std::uint64_t window_count_ = 0;
};

} // namespace xwg::noise
