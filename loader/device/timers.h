// device/timers.h — WireGuard's per-peer timer state machine (whitepaper §6, Linux timers.c,
// wireguard-go timers.go), as a pure object with an explicit clock so tests drive it with
// fake time.
//
// Five timers, each a deadline or nothing:
//   retransmit_handshake  REKEY_TIMEOUT + jitter after an initiation: send another, or give
//                         up after MAX_TIMER_HANDSHAKES tries and drop what is staged.
//   send_keepalive        KEEPALIVE_TIMEOUT after data arrived, unless we sent anything
//                         authenticated meanwhile: send an empty data message.
//   new_handshake         KEEPALIVE_TIMEOUT + REKEY_TIMEOUT + jitter after we sent data,
//                         unless anything authenticated arrived meanwhile: the peer is gone
//                         or lost our keys, so start a new handshake.
//   zero_key_material     3 × REJECT_AFTER_TIME after the last session was derived: wipe
//                         every keypair and the handshake.
//   persistent_keepalive  the configured interval after any authenticated packet passed
//                         either way: send a keepalive (NAT and firewall state).
//
// Callers report what happened through the on_* hooks (they never arm timers themselves)
// and call run_expired() with the time now; it calls back into Actions for what is due.
#pragma once

#include "loader/types/protocol_times.h"
#include "xwg/protocol.h"

#include <cstdint>
#include <functional>
#include <optional>

namespace xwg {

// Protocol times in nanoseconds (the data plane's config takes them so); defaults are the
// specification's (types/protocol_times.h), tests shorten them.
struct TimerSettings {
	std::uint64_t rekey_after_time_ns = protocol::to_ns(protocol::rekey_after_time);
	std::uint64_t reject_after_time_ns = protocol::to_ns(protocol::reject_after_time);
	std::uint64_t rekey_attempt_time_ns = protocol::to_ns(protocol::rekey_attempt_time);
	std::uint64_t rekey_timeout_ns = protocol::to_ns(protocol::rekey_timeout);
	std::uint64_t keepalive_timeout_ns = protocol::to_ns(protocol::keepalive_timeout);
	// Upper bound of the random extra delay on initiations.
	std::uint64_t jitter_max_ns = protocol::to_ns(protocol::rekey_timeout_jitter_max);
	std::uint64_t rekey_after_messages = XWG_REKEY_AFTER_MESSAGES;
	std::uint64_t reject_after_messages = XWG_REJECT_AFTER_MESSAGES;

	// REKEY_ATTEMPT_TIME / REKEY_TIMEOUT: initiations tried before giving up.
	unsigned max_handshake_attempts() const;
	// Reads XWG_REKEY_AFTER_TIME, XWG_REJECT_AFTER_TIME, XWG_REKEY_ATTEMPT_TIME,
	// XWG_REKEY_TIMEOUT, XWG_KEEPALIVE_TIMEOUT (seconds, fractional allowed) and
	// XWG_REKEY_AFTER_MESSAGES, XWG_REJECT_AFTER_MESSAGES (packets, at most
	// WireGuard's own values). Throws std::invalid_argument naming a variable that is
	// not a positive number in range.
	static TimerSettings from_environment();
};

// What the timers ask the peer to do. Each is called from run_expired().
struct TimerActions {
	std::function<void(bool retry)> send_initiation;
	std::function<void()> send_keepalive;
	std::function<void()> give_up;            // drop staged packets, the handshake failed
	std::function<void()> zero_key_material;
};

class Timers {
public:
	// jitter: a random delay in [0, jitter_max_ns]; empty for a built-in random source.
	explicit Timers(const TimerSettings &settings, TimerActions actions,
			std::function<std::uint64_t()> jitter = {});

	void set_persistent_keepalive(std::uint64_t interval_ns) { persistent_interval_ns_ = interval_ns; }

	// --- events ----------------------------------------------------------------------
	// After a data packet (not a keepalive) was sent.
	void on_data_sent(std::uint64_t now);
	// After a data packet (not a keepalive) was received and authenticated.
	void on_data_received(std::uint64_t now);
	// After any authenticated packet (data, keepalive, handshake) was sent.
	void on_any_authenticated_packet_sent(std::uint64_t now);
	// After any authenticated packet was received.
	void on_any_authenticated_packet_received(std::uint64_t now);
	// After any authenticated packet passed in either direction.
	void on_any_authenticated_packet_traversal(std::uint64_t now);
	// After an initiation was sent (first or retry).
	void on_handshake_initiated(std::uint64_t now);
	// After a handshake completed: response consumed, or first data with the responder's
	// keypair. Stops retransmissions and resets the attempt count.
	void on_handshake_complete(std::uint64_t now);
	// After transport keys were derived (either role).
	void on_session_derived(std::uint64_t now);
	// A handshake wanted for a new reason (not a retry): the attempt count starts over.
	void on_new_handshake_wanted() { handshake_attempts_ = 0; }
	// Everything off (peer removed, interface down, keys zeroed).
	void stop();

	// --- expiry ----------------------------------------------------------------------
	// Runs every handler whose deadline is <= now.
	void run_expired(std::uint64_t now);
	// The earliest deadline, if any timer is armed.
	std::optional<std::uint64_t> next_deadline() const;

	unsigned handshake_attempts() const { return handshake_attempts_; }
	bool retransmit_pending() const { return retransmit_handshake_.has_value(); }
	bool keepalive_pending() const { return send_keepalive_.has_value(); }
	bool new_handshake_pending() const { return new_handshake_.has_value(); }
	bool zero_key_material_pending() const { return zero_key_material_.has_value(); }
	bool persistent_keepalive_pending() const { return persistent_keepalive_.has_value(); }

private:
	void expired_retransmit_handshake(std::uint64_t now);
	void expired_send_keepalive(std::uint64_t now);
	void expired_new_handshake(std::uint64_t now);
	void expired_zero_key_material(std::uint64_t now);
	void expired_persistent_keepalive(std::uint64_t now);
	std::uint64_t jitter();

	TimerSettings settings_;
	TimerActions actions_;
	std::function<std::uint64_t()> jitter_;
	std::uint64_t persistent_interval_ns_ = 0;

	std::optional<std::uint64_t> retransmit_handshake_;
	std::optional<std::uint64_t> send_keepalive_;
	std::optional<std::uint64_t> new_handshake_;
	std::optional<std::uint64_t> zero_key_material_;
	std::optional<std::uint64_t> persistent_keepalive_;
	unsigned handshake_attempts_ = 0;
	bool need_another_keepalive_ = false;
};

} // namespace xwg
