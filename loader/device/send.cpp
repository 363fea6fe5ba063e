// device/send.cpp — what the daemon itself sends (Linux send.c): initiations, at most one
// per REKEY_TIMEOUT; keepalives; staged packets (queued while there was no session) and
// packets too big for their path, sealed here and sent through the socket, which
// fragments them. The data plane sends everything else.
#include "loader/device/device.h"

#include "loader/noise/transport.h"

#include <algorithm>

namespace xwg {

void Device::send_initiation(Peer &peer, bool retry)
{
	const std::uint64_t now = clock_();
	if (!retry)
		peer.timers.on_new_handshake_wanted();
	if (!have_identity_ || !peer.endpoint)
		return;
	if (peer.last_initiation_sent_ns &&
	    now - peer.last_initiation_sent_ns < settings_.rekey_timeout_ns)
		return;
	forget_handshake(peer);
	peer.handshake_index = new_index(peer);
	xwg_msg_initiation msg;
	if (peer.handshake->create_initiation(msg, peer.handshake_index) != noise::HandshakeError::ok)
		return;
	auto bytes = std::span(reinterpret_cast<std::uint8_t *>(&msg), sizeof(msg));
	peer.cookie.add_macs(bytes, now);
	peer.last_initiation_sent_ns = now;
	peer.timers.on_any_authenticated_packet_traversal(now);
	peer.timers.on_any_authenticated_packet_sent(now);
	if (net_.send(*peer.endpoint, bytes)) {
		peer.daemon_tx_bytes += sizeof(msg);
		++counters_.initiations_sent;
	}
	peer.timers.on_handshake_initiated(now);
}

// A fresh local index for @peer's next handshake and keypair. With an RX cpumap, the data
// plane decrypts a keypair's packets on CPU index % rx_cpus; each peer gets one CPU (so
// rekeys do not reorder), the two ends of a tunnel get neighbouring ones (so when both
// run on one host, as in a lab, decryption in each direction gets its own CPU) and
// different tunnels spread over the CPUs.
std::uint32_t Device::new_index(const Peer &peer)
{
	const noise::IndexTable::Entry entry{noise::IndexTable::Kind::handshake, peer.id};
	const auto cfg = dp_.config();
	if (!cfg || cfg->rx_cpus < 2 || !have_identity_)
		return indices_.insert(entry);
	const auto &ours = identity_.public_key.bytes, &theirs = peer.public_key.bytes;
	unsigned pair = 0; // the same at both ends
	for (std::size_t i = 0; i < ours.size(); ++i)
		pair += static_cast<unsigned>(ours[i] ^ theirs[i]);
	const unsigned side = std::lexicographical_compare(ours.begin(), ours.end(),
							  theirs.begin(), theirs.end()) ? 0 : 1;
	return indices_.insert(entry, cfg->rx_cpus, (pair + side) % cfg->rx_cpus);
}

bool Device::current_usable(const Peer &peer, std::uint64_t now) const
{
	const auto *cur = peer.keypairs.current();
	return cur && now - cur->keypair.birth_ns < settings_.reject_after_time_ns;
}

bool Device::send_data(Peer &peer, std::span<const std::uint8_t> plain)
{
	const std::uint64_t now = clock_();
	const auto *cur = peer.keypairs.current();
	if (!cur || !peer.endpoint)
		return false;
	std::uint64_t counter = dp_.take_send_counter(cur->counter_slot);
	// REKEY_AFTER_MESSAGES < REJECT_AFTER_MESSAGES (TimerSettings checks): past either,
	// ask for a handshake; past the second, send nothing.
	if (counter >= settings_.rekey_after_messages)
		send_initiation(peer, false);
	if (counter >= settings_.reject_after_messages)
		return false;
	std::vector<std::uint8_t> out(noise::transport_len(plain.size(), config_.iface.mtu));
	std::size_t n = noise::transport_seal(out, cur->keypair.sending, cur->keypair.remote_index,
					      counter, plain, config_.iface.mtu);
	if (n == 0)
		return false;
	if (!plain.empty())
		peer.timers.on_data_sent(now);
	peer.timers.on_any_authenticated_packet_traversal(now);
	peer.timers.on_any_authenticated_packet_sent(now);
	if (!net_.send(*peer.endpoint, std::span(out.data(), n)))
		return false;
	peer.daemon_tx_bytes += n;
	return true;
}

void Device::keep_key_fresh_on_send(Peer &peer, std::uint64_t now)
{
	const auto *cur = peer.keypairs.current();
	if (cur && cur->keypair.initiator &&
	    now - cur->keypair.birth_ns > settings_.rekey_after_time_ns)
		send_initiation(peer, false);
}

void Device::send_staged(Peer &peer)
{
	const std::uint64_t now = clock_();
	if (!current_usable(peer, now)) {
		send_initiation(peer, false);
		return;
	}
	for (const auto &packet : peer.staged)
		send_data(peer, packet);
	peer.staged.clear();
	keep_key_fresh_on_send(peer, now);
}

void Device::send_keepalive(Peer &peer)
{
	if (!peer.staged.empty()) {
		send_staged(peer);
		return;
	}
	if (!current_usable(peer, clock_())) {
		send_initiation(peer, false);
		return;
	}
	send_data(peer, {});
}

} // namespace xwg
