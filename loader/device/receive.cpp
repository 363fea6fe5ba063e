// device/receive.cpp — handshake and cookie messages that reach the daemon's sockets
// (Linux receive.c's handshake half): the mac1/mac2 and under-load policy, then the
// Noise step, and a session into the data plane when a handshake completes. Data
// messages belong to the data plane.
#include "loader/device/device.h"

#include <cstring>
#include <ctime>

namespace xwg {

namespace {

std::uint32_t read_le32(const std::vector<std::uint8_t> &d, std::size_t off)
{
	return static_cast<std::uint32_t>(d[off]) | static_cast<std::uint32_t>(d[off + 1]) << 8 |
	       static_cast<std::uint32_t>(d[off + 2]) << 16 |
	       static_cast<std::uint32_t>(d[off + 3]) << 24;
}

// The sender's address and port in a fixed encoding, for cookies.
std::vector<std::uint8_t> source_bytes(const Endpoint &ep)
{
	std::vector<std::uint8_t> out(ep.addr.bytes.begin(), ep.addr.bytes.end());
	out.push_back(static_cast<std::uint8_t>(ep.port >> 8));
	out.push_back(static_cast<std::uint8_t>(ep.port));
	return out;
}

noise::Bytes address_bytes(const Endpoint &ep)
{
	return noise::Bytes(ep.addr.bytes.data(), ep.addr.length());
}

} // namespace

void Device::on_datagram(const Datagram &d, std::size_t queue_depth)
{
	if (!have_identity_ || !checker_)
		return;
	if (d.data.size() < 4)
		return dp_.count_drop(XWG_DROP_CONTROL_INVALID);
	const std::uint64_t now = clock_();
	const std::uint32_t type = read_le32(d.data, 0);
	const bool handshake = (type == XWG_MSG_HANDSHAKE_INITIATION &&
				d.data.size() == XWG_MSG_INITIATION_LEN) ||
			       (type == XWG_MSG_HANDSHAKE_RESPONSE &&
				d.data.size() == XWG_MSG_RESPONSE_LEN);
	if (handshake) {
		bool under_load = load_.under_load(queue_depth, now);
		auto src = source_bytes(d.from);
		auto mac = checker_->validate(d.data, src, under_load, now);
		if (mac == noise::MacCheck::bad_mac2) {
			xwg_msg_cookie reply;
			checker_->create_reply(reply, d.data, read_le32(d.data, 4), src, now);
			if (net_.send(d.from, std::span(reinterpret_cast<const std::uint8_t *>(&reply),
							sizeof(reply))))
				++counters_.cookie_replies_sent;
			return;
		}
		if (mac != noise::MacCheck::valid_mac1 && mac != noise::MacCheck::valid_cookie) {
			++(type == XWG_MSG_HANDSHAKE_INITIATION ? counters_.initiations_failed
								: counters_.responses_failed);
			return dp_.count_drop(XWG_DROP_CONTROL_INVALID);
		}
		if (under_load && !ratelimiter_.allow(address_bytes(d.from), now))
			return dp_.count_drop(XWG_DROP_CONTROL_RATELIMITED);
		if (type == XWG_MSG_HANDSHAKE_INITIATION)
			consume_initiation(d, now);
		else
			consume_response(d, now);
	} else if (type == XWG_MSG_HANDSHAKE_COOKIE && d.data.size() == XWG_MSG_COOKIE_LEN) {
		consume_cookie(d, now);
	} else {
		// Data messages belong to xwg_rx; one reaching the socket was not for an
		// underlay we are attached to. Counted and dropped, like anything else here.
		dp_.count_drop(XWG_DROP_CONTROL_INVALID);
	}
}

void Device::consume_initiation(const Datagram &d, std::uint64_t now)
{
	Peer *found = nullptr;
	noise::PeerLookup lookup = [&](const PublicKey &k) -> noise::Handshake * {
		found = peers_.find(k);
		return found ? found->handshake.get() : nullptr;
	};
	auto r = noise::Handshake::consume_initiation(identity_, d.data, lookup, now);
	if (r.error != noise::HandshakeError::ok || !found) {
		++counters_.initiations_failed;
		return dp_.count_drop(XWG_DROP_CONTROL_INVALID);
	}
	++counters_.initiations_received;
	Peer &peer = *found;
	peer.daemon_rx_bytes += d.data.size();
	set_endpoint(peer, d.from);
	peer.timers.on_any_authenticated_packet_received(now);
	peer.timers.on_any_authenticated_packet_traversal(now);

	forget_handshake(peer);
	peer.handshake_index = new_index(peer);
	xwg_msg_response resp;
	if (peer.handshake->create_response(resp, peer.handshake_index) != noise::HandshakeError::ok)
		return;
	auto bytes = std::span(reinterpret_cast<std::uint8_t *>(&resp), sizeof(resp));
	peer.cookie.add_macs(bytes, now);
	peer.timers.on_any_authenticated_packet_traversal(now);
	peer.timers.on_any_authenticated_packet_sent(now);
	if (!begin_session(peer, now))
		return;
	if (net_.send(*peer.endpoint, bytes)) {
		peer.daemon_tx_bytes += sizeof(resp);
		++counters_.responses_sent;
	}
}

void Device::consume_response(const Datagram &d, std::uint64_t now)
{
	const std::uint32_t receiver = read_le32(d.data, 8);
	auto entry = indices_.lookup(receiver);
	Peer *peer = entry && entry->kind == noise::IndexTable::Kind::handshake
			     ? peers_.by_id(entry->peer_id)
			     : nullptr;
	if (!peer || peer->handshake_index != receiver ||
	    peer->handshake->consume_response(d.data) != noise::HandshakeError::ok) {
		++counters_.responses_failed;
		return dp_.count_drop(XWG_DROP_CONTROL_INVALID);
	}
	++counters_.responses_received;
	peer->daemon_rx_bytes += d.data.size();
	set_endpoint(*peer, d.from);
	peer->timers.on_any_authenticated_packet_received(now);
	peer->timers.on_any_authenticated_packet_traversal(now);
	if (!begin_session(*peer, now))
		return;
	handshake_complete(*peer, now);
	// The responder waits for data with the new keys: staged packets, else a keepalive.
	send_keepalive(*peer);
}

void Device::consume_cookie(const Datagram &d, std::uint64_t now)
{
	auto entry = indices_.lookup(read_le32(d.data, 4));
	Peer *peer = entry ? peers_.by_id(entry->peer_id) : nullptr;
	if (!peer || peer->cookie.consume_reply(d.data, now) != noise::CookieError::ok)
		return dp_.count_drop(XWG_DROP_CONTROL_INVALID);
	++counters_.cookie_replies_received;
}

// The handshake's index becomes the keypair's; the keypair goes into the data plane.
bool Device::begin_session(Peer &peer, std::uint64_t now)
{
	noise::Keypair kp;
	if (peer.handshake->begin_session(kp, now) != noise::HandshakeError::ok)
		return false;
	peer.handshake_index = 0;
	if (!peer.keypairs.add(kp)) {
		indices_.remove(kp.local_index);
		return false;
	}
	indices_.replace(kp.local_index, {noise::IndexTable::Kind::keypair, peer.id});
	peer.sent_lastminute_handshake = false;
	peer.timers.on_session_derived(now);
	return true;
}

void Device::handshake_complete(Peer &peer, std::uint64_t now)
{
	peer.timers.on_handshake_complete(now);
	clock_gettime(CLOCK_REALTIME, &peer.last_handshake);
}

} // namespace xwg
