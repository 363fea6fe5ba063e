// device/device_counters.h — what the daemon itself counts about its handshakes, for
// metrics (control/metrics.h): the data plane counts packets and drops in its maps, but
// handshake and cookie messages are the daemon's alone. Device-wide totals since the
// daemon started, plus one gauge.
#pragma once

#include <compare>
#include <cstdint>

namespace xwg {

struct DeviceCounters {
	// Handshake messages that left through the socket (a retransmitted initiation counts
	// again).
	std::uint64_t initiations_sent = 0;
	std::uint64_t responses_sent = 0;
	// Handshake messages accepted: mac1 (or the cookie's mac2) valid and the Noise step
	// done.
	std::uint64_t initiations_received = 0;
	std::uint64_t responses_received = 0;
	// Handshake messages refused: bad mac1, unknown peer or index, not decryptable,
	// replayed timestamp. Rate-limited and cookie-answered ones are not failures (they
	// are counted as the drop control_ratelimited and as cookie replies sent).
	std::uint64_t initiations_failed = 0;
	std::uint64_t responses_failed = 0;
	// Handshakes given up after REKEY_ATTEMPT_TIME without an answer (staged packets
	// dropped).
	std::uint64_t handshakes_abandoned = 0;
	// Cookie replies sent while under load, and accepted from peers.
	std::uint64_t cookie_replies_sent = 0;
	std::uint64_t cookie_replies_received = 0;
	// Gauge: inner packets waiting in the daemon for a session, all peers together.
	std::uint64_t staged_packets = 0;

	auto operator<=>(const DeviceCounters &) const = default;
};

} // namespace xwg
