// device/takeover.cpp — a daemon taking over a running interface (after kill -9, a crash,
// `xwg restart` or an upgrade): the data plane kept forwarding, so the model is rebuilt
// around what the pinned maps hold rather than written into them. See Device::adopt.
#include "loader/device/device.h"

#include <sodium.h>

#include <cstdio>
#include <ctime>
#include <stdexcept>

namespace xwg {

namespace {

// CLOCK_REALTIME of a CLOCK_BOOTTIME instant in the past (a keypair's birth).
timespec realtime_of(std::uint64_t then_ns, std::uint64_t now_ns)
{
	timespec now{};
	clock_gettime(CLOCK_REALTIME, &now);
	const std::uint64_t real_now = static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000ULL +
				       static_cast<std::uint64_t>(now.tv_nsec);
	const std::uint64_t age = now_ns > then_ns ? now_ns - then_ns : 0;
	const std::uint64_t real = real_now > age ? real_now - age : 0;
	return timespec{static_cast<time_t>(real / 1'000'000'000ULL),
			static_cast<long>(real % 1'000'000'000ULL)};
}

} // namespace

std::map<PublicKey, std::uint32_t> Device::peer_ids() const
{
	std::map<PublicKey, std::uint32_t> ids;
	peers_.for_each([&](const Peer &p) { ids[p.public_key] = p.id; });
	return ids;
}

void Device::adopt(const DeviceConfig &config, const Found &found)
{
	if (peers_.size() != 0 || net_.bound())
		throw std::logic_error("Device::adopt on a device in use");
	try {
		net_.bind(config.iface.listen_port, config.iface.fwmark);
	} catch (const std::exception &e) {
		throw std::runtime_error(std::string("binding the running port again: ") + e.what());
	}
	UndoLog unused; // nothing to undo: a failed takeover ends the daemon, not the tunnel
	set_identity(config.iface.private_key, unused);
	config_ = config;
	config_.iface.listen_port = net_.port();

	// Peers at the ids the data plane knows them by. Their slots, current keypairs and
	// counters stay; the endpoint is the slot's (a roam the last daemon never heard of
	// included), else the configured one.
	AllowedIps::Owners before, after;
	for (const PinnedAllowedIp &a : found.allowed_ips) {
		Cidr c{};
		c.addr.family = a.addr_len == 4 ? ip_family_v4 : ip_family_v6;
		std::copy(a.addr.begin(), a.addr.begin() + a.addr_len, c.addr.bytes.begin());
		c.prefix = a.prefixlen;
		before[c] = a.peer_id;
	}
	for (const PeerConfig &pc : config_.peers) {
		const auto id = found.peer_ids.find(pc.public_key);
		if (id == found.peer_ids.end() || !found.peers.count(id->second))
			throw std::runtime_error("peer " + to_base64(pc.public_key) +
						 " has no slot in the running data plane");
		Peer *peer = peers_.adopt(pc.public_key, id->second,
					  [&](std::uint32_t pid) { return make_peer(pid, pc); });
		if (!peer)
			throw std::runtime_error("peer id " + std::to_string(id->second) +
						 " is taken twice in the running state");
		if (!dp_.set_peer_flow_ports(peer->id, pc.flow_ports))
			throw std::runtime_error("cannot set FlowPorts of peer " +
						 to_base64(pc.public_key));
		if (const auto slot = dp_.endpoint(peer->id); slot && slot->ep.family)
			peer->endpoint = Endpoints::address_of(slot->ep);
		else if (pc.endpoint && endpoints_.set(peer->id, *pc.endpoint))
			peer->endpoint = pc.endpoint;
		for (const Cidr &c : pc.allowed_ips)
			after[c] = peer->id;
	}
	// Slots no configured peer has (a change the last daemon did not finish): off.
	for (const auto &[id, slot] : found.peers)
		if (slot.active && !peers_.by_id(id))
			dp_.clear_peer(id);
	allowed_ips_.update(before, after);

	// Sessions: previous, current and next rebuilt from the live keypairs; what was
	// retired already is wiped at the next tick, after a grace period.
	auto live = keypairs_.adopt(found.keypairs,
				    [&](std::uint32_t pid) { return peers_.by_id(pid) != nullptr; });
	const std::uint64_t now = clock_();
	for (auto &[pid, entries] : live) {
		Peer *peer = peers_.by_id(pid);
		peer->keypairs.adopt(std::move(entries), found.peers.at(pid).current_index);
		std::uint64_t newest = 0;
		for (const auto *e : {peer->keypairs.previous(), peer->keypairs.current(),
				      peer->keypairs.next()})
			if (e && e->keypair.birth_ns > newest)
				newest = e->keypair.birth_ns;
		if (newest) {
			peer->last_handshake = realtime_of(newest, now);
			peer->timers.on_session_derived(newest); // keys zeroed 3 × REJECT after it
		}
	}
	// The peers' timestamps (seen_* still zero) become timer events at the first sweep
	// of ticks, at the times they happened: what fell due during the gap runs then.
}

} // namespace xwg
