// device/events.cpp — what the data plane tells the daemon: records from the events ring
// (a handshake is needed, a keypair was confirmed, a peer roamed) and from the staged
// ring (packets waiting for a session or too big for their path), and the tick, which
// turns the per-peer timestamps in peer_stats into WireGuard's timer events, runs the
// timers that expired and wipes the keypairs retired since the last tick.
#include "loader/device/device.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace xwg {

void Device::on_event(const void *data, std::size_t len)
{
	if (len < sizeof(xwg_event))
		return;
	xwg_event ev;
	std::memcpy(&ev, data, sizeof(ev));
	Peer *peer = peers_.by_id(ev.peer_id);
	if (!peer)
		return;
	const std::uint64_t now = clock_();
	switch (ev.type) {
	case XWG_EVENT_HANDSHAKE_NEEDED: {
		// The data plane may have asked just before a keypair became current (a
		// responder's first reply races its confirmation): then there is nothing to
		// do, and a second handshake would only replace a fresh session.
		const auto *cur = peer->keypairs.current();
		const bool about_current = ev.local_index == 0 ||
					   (cur && cur->keypair.local_index == ev.local_index);
		if (!about_current || (ev.local_index == 0 && current_usable(*peer, now)))
			break;
		send_initiation(*peer, false);
		break;
	}
	case XWG_EVENT_REKEY_NEEDED:
		// Either side rekeys after REKEY_AFTER_MESSAGES; only the initiator after
		// REKEY_AFTER_TIME (the data plane checks which one applies).
		if (const auto *cur = peer->keypairs.current(); cur && cur->keypair.local_index == ev.local_index)
			send_initiation(*peer, false);
		break;
	case XWG_EVENT_ENDPOINT_CHANGED:
		// The data plane moved the address itself, without a next hop: find it.
		if (auto ep = endpoints_.refresh(peer->id))
			peer->endpoint = *ep;
		break;
	case XWG_EVENT_KEYPAIR_CONFIRMED:
		if (peer->keypairs.confirm(ev.local_index)) {
			handshake_complete(*peer, now);
			send_staged(*peer);
		}
		break;
	case XWG_EVENT_STAGED_PACKET:   // no session yet: sent once there is one
	case XWG_EVENT_OVERSIZE_PACKET: { // too big for the path: sent now, fragmented
		std::size_t n = std::min<std::size_t>(ev.len, XWG_STAGED_MAX_LEN);
		if (len < sizeof(xwg_event) + n)
			break;
		const auto *bytes = static_cast<const std::uint8_t *>(data) + sizeof(xwg_event);
		if (peer->staged.size() >= XWG_MAX_STAGED_PACKETS)
			peer->staged.erase(peer->staged.begin());
		peer->staged.emplace_back(bytes, bytes + n);
		send_staged(*peer);
		break;
	}
	default:
		break;
	}
}

// The data plane's timestamps since the last tick, in order, as timer events.
void Device::on_stats(Peer &peer, const PeerStats &stats, std::uint64_t now)
{
	enum Kind { sent, received, received_data };
	std::vector<std::pair<std::uint64_t, Kind>> events;
	if (stats.last_tx_ns > peer.seen_tx_ns)
		events.push_back({stats.last_tx_ns, sent});
	if (stats.last_rx_ns > peer.seen_rx_ns)
		events.push_back({stats.last_rx_ns, received});
	if (stats.last_rx_data_ns > peer.seen_rx_data_ns)
		events.push_back({stats.last_rx_data_ns, received_data});
	peer.seen_tx_ns = std::max<std::uint64_t>(peer.seen_tx_ns, stats.last_tx_ns);
	peer.seen_rx_ns = std::max<std::uint64_t>(peer.seen_rx_ns, stats.last_rx_ns);
	peer.seen_rx_data_ns = std::max<std::uint64_t>(peer.seen_rx_data_ns, stats.last_rx_data_ns);
	std::sort(events.begin(), events.end());
	for (auto [t, kind] : events) {
		switch (kind) {
		case sent:
			peer.timers.on_data_sent(t);
			peer.timers.on_any_authenticated_packet_sent(t);
			peer.timers.on_any_authenticated_packet_traversal(t);
			break;
		case received:
			peer.timers.on_any_authenticated_packet_received(t);
			peer.timers.on_any_authenticated_packet_traversal(t);
			break;
		case received_data: {
			peer.timers.on_data_received(t);
			// Initiator's keys near REJECT_AFTER_TIME: renew before they die.
			const auto *cur = peer.keypairs.current();
			if (cur && cur->keypair.initiator && !peer.sent_lastminute_handshake &&
			    now - cur->keypair.birth_ns >
				    settings_.reject_after_time_ns - settings_.keepalive_timeout_ns -
					    settings_.rekey_timeout_ns) {
				peer.sent_lastminute_handshake = true;
				send_initiation(peer, false);
			}
			break;
		}
		}
	}
}

// Each tick reads the stats of a slice of the peers, so that each peer's are read once
// per XWG_STATS_SWEEP_TICKS ticks (a second): with 65,536 peers, reading them all every
// tick cost a fifth of a CPU. The timers themselves run every tick.
void Device::tick(std::uint64_t now)
{
	const std::uint32_t bound = peers_.id_bound();
	const std::uint32_t slice = (bound + XWG_STATS_SWEEP_TICKS - 1) / XWG_STATS_SWEEP_TICKS;
	if (stats_cursor_ >= bound)
		stats_cursor_ = 0;
	const auto stats = dp_.peer_stats_range(stats_cursor_, slice);
	// What the key reaper wipes in the data plane, the daemon retires (keypair.h).
	const std::uint64_t wiped_after = settings_.reject_after_time_ns <= UINT64_MAX / 3
						  ? 3 * settings_.reject_after_time_ns
						  : UINT64_MAX;
	for (std::uint32_t i = 0; i < stats.size(); ++i)
		if (Peer *peer = peers_.by_id(stats_cursor_ + i)) {
			on_stats(*peer, stats[i], now);
			peer->keypairs.expire(now, wiped_after);
		}
	stats_cursor_ += slice;
	peers_.for_each([&](Peer &peer) { peer.timers.run_expired(now); });
	keypairs_.collect(now);
}

} // namespace xwg
