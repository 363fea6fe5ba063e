// device/device.cpp — peers, handshakes over the UDP sockets, sessions into the maps, timers from
// peer_stats; see device.h. The send/receive halves follow Linux's send.c and receive.c.
#include "loader/device/device.h"

#include "loader/noise/transport.h"
#include "loader/kernel/route_lookup.h"

#include <arpa/inet.h>
#include <sodium.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <set>

namespace xwg {

namespace {

constexpr std::uint64_t NS = 1'000'000'000ULL;

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

PublicKey to_public(const WgKey &k)
{
	PublicKey p;
	std::memcpy(p.data(), k.bytes.data(), KEY_LEN);
	return p;
}

WgKey to_wgkey(const PublicKey &k)
{
	WgKey w;
	std::memcpy(w.bytes.data(), k.data(), KEY_LEN);
	return w;
}

PresharedKey to_psk(const std::optional<WgKey> &k)
{
	PresharedKey p;
	if (k)
		std::memcpy(p.data(), k->bytes.data(), KEY_LEN);
	return p;
}

void add_prefix(Dataplane &dp, const Cidr &c, std::uint32_t peer_id)
{
	if (!dp.set_allowed_ip(c.addr.bytes.data(), c.addr.length(),
			       c.prefix, peer_id))
		std::fprintf(stderr, "xwg: writing allowed IP %s failed: %s\n",
			     c.to_string().c_str(), std::strerror(errno));
}

void delete_prefix(Dataplane &dp, const Cidr &c)
{
	(void)dp.delete_allowed_ip(c.addr.bytes.data(), c.addr.length(),
				   c.prefix);
}

} // namespace

// The `keypairs` map and peers.current_index for one peer; erasing also frees the index
// and the counter slot.
class PeerKeypairStore final : public KeypairStore {
public:
	PeerKeypairStore(Device &d, std::uint32_t peer_id) : d_(d), peer_id_(peer_id) {}

	bool install(const noise::Keypair &kp, std::uint32_t slot) override
	{
		xwg_keypair value;
		noise::to_map_value(kp, peer_id_, slot, value);
		d_.dp_.reset_send_counter(slot, 0);
		bool ok = d_.dp_.set_keypair(kp.local_index, value);
		sodium_memzero(&value, sizeof(value));
		return ok;
	}
	void erase(std::uint32_t local_index, std::uint32_t slot) override
	{
		d_.dp_.delete_keypair(local_index);
		d_.indices_.remove(local_index);
		d_.slots_.give_back(slot);
	}
	void set_current(std::uint32_t local_index) override
	{
		d_.dp_.set_peer_current(peer_id_, local_index);
	}

private:
	Device &d_;
	std::uint32_t peer_id_;
};

Device::Device(Dataplane &dp, UdpSockets &udp, const TimerSettings &settings, RouteHook routes)
	: dp_(dp), udp_(udp), settings_(settings), routes_(std::move(routes)),
	  slots_(XWG_MAX_KEYPAIRS), ids_(XWG_MAX_PEERS), by_id_(XWG_MAX_PEERS, nullptr)
{
}

Device::~Device()
{
	shutdown();
}

Peer *Device::peer_by_id(std::uint32_t id)
{
	return id < by_id_.size() ? by_id_[id] : nullptr;
}

// ---- configuration ---------------------------------------------------------------------

void Device::apply(const DeviceConfig &next, const ConfigDelta &delta)
{
	// Everything that can fail comes first, so a failure changes nothing.
	std::size_t after = peers_.size() + delta.peers_added.size();
	for (const auto &k : delta.peers_removed)
		after -= peers_.count(k);
	if (after > XWG_MAX_PEERS)
		throw UapiError(UAPI_ERROR_INVALID,
				"too many peers (at most " + std::to_string(XWG_MAX_PEERS) + ")");
	if (delta.listen_port || udp_.fd4() < 0) {
		try {
			udp_.bind(next.iface.listen_port, next.iface.fwmark);
		} catch (const std::exception &e) {
			throw UapiError(UAPI_ERROR_PORT_IN_USE, e.what());
		}
		if (auto cfg = dp_.config()) {
			cfg->listen_port = udp_.port();
			dp_.set_config(*cfg);
		}
	}

	const DeviceConfig old = config_;
	config_ = next;
	config_.iface.listen_port = udp_.port();
	if (delta.fwmark) {
		udp_.set_fwmark(next.iface.fwmark);
		if (auto cfg = dp_.config()) {
			cfg->fwmark = next.iface.fwmark;
			dp_.set_config(*cfg);
		}
		refresh_routes(); // policy routing may route marked packets differently
	}
	if (delta.private_key || (!have_identity_ && next.iface.private_key))
		set_private_key(next.iface.private_key);

	for (const auto &key : delta.peers_removed)
		remove_peer(key);
	if (!delta.peers_removed.empty())
		for (const auto &pc : old.peers)
			if (std::find(delta.peers_removed.begin(), delta.peers_removed.end(),
				      pc.public_key) != delta.peers_removed.end())
				for (const auto &c : pc.allowed_ips) {
					delete_prefix(dp_, c);
					if (routes_)
						routes_(c, false);
				}

	std::set<WgKey> touched(delta.peers_added.begin(), delta.peers_added.end());
	for (const auto &key : delta.peers_updated) {
		const PeerConfig *before = old.find_peer(key);
		const PeerConfig *now = config_.find_peer(key);
		auto it = peers_.find(key);
		if (!before || !now || it == peers_.end())
			continue;
		touched.insert(key);
		Peer &peer = *it->second;
		for (const auto &c : before->allowed_ips)
			if (std::find(now->allowed_ips.begin(), now->allowed_ips.end(), c) ==
			    now->allowed_ips.end()) {
				delete_prefix(dp_, c);
				if (routes_)
					routes_(c, false);
			}
		if (before->preshared_key != now->preshared_key) {
			peer.psk = to_psk(now->preshared_key);
			peer.handshake->set_preshared_key(peer.psk);
		}
		if (now->endpoint && before->endpoint != now->endpoint)
			set_endpoint(peer, *now->endpoint);
		if (before->persistent_keepalive != now->persistent_keepalive) {
			peer.timers.set_persistent_keepalive(now->persistent_keepalive * NS);
			if (now->persistent_keepalive)
				send_keepalive(peer);
		}
	}
	for (const auto &key : delta.peers_added)
		if (const PeerConfig *pc = config_.find_peer(key))
			add_peer(*pc);
	for (const auto &pc : config_.peers) {
		if (!touched.count(pc.public_key))
			continue;
		Peer *peer = peers_.count(pc.public_key) ? peers_[pc.public_key].get() : nullptr;
		if (!peer)
			continue;
		for (const auto &c : pc.allowed_ips) {
			add_prefix(dp_, c, peer->id);
			if (routes_)
				routes_(c, true);
		}
	}
	// A new peer with a persistent keepalive announces itself at once, as WireGuard does.
	for (const auto &key : delta.peers_added)
		if (const PeerConfig *pc = config_.find_peer(key); pc && pc->persistent_keepalive)
			if (auto it = peers_.find(key); it != peers_.end())
				send_keepalive(*it->second);
}

void Device::set_private_key(const std::optional<WgKey> &key)
{
	const std::uint64_t now = noise::boottime_ns();
	if (key && !key->is_zero()) {
		PrivateKey priv;
		std::memcpy(priv.data(), key->bytes.data(), KEY_LEN);
		identity_ = noise::Identity::from_private(priv);
		have_identity_ = true;
		checker_ = std::make_unique<noise::CookieChecker>(identity_.public_key, now);
	} else {
		identity_ = noise::Identity{};
		have_identity_ = false;
		checker_.reset();
	}
	// Sessions were made with the old identity: they end, as in WireGuard.
	for (auto &[k, peer] : peers_) {
		if (peer->handshake_index)
			indices_.remove(peer->handshake_index);
		peer->handshake_index = 0;
		peer->keypairs.clear();
		peer->reset_handshake(identity_);
	}
}

Peer *Device::add_peer(const PeerConfig &pc)
{
	auto id = ids_.take();
	if (!id)
		return nullptr;
	const std::uint32_t pid = *id;
	TimerActions actions{
		[this, pid](bool retry) {
			if (Peer *p = peer_by_id(pid))
				send_initiation(*p, retry);
		},
		[this, pid] {
			if (Peer *p = peer_by_id(pid))
				send_keepalive(*p);
		},
		[this, pid] {
			if (Peer *p = peer_by_id(pid))
				p->staged.clear();
		},
		[this, pid] {
			if (Peer *p = peer_by_id(pid)) {
				p->keypairs.clear();
				if (p->handshake_index)
					indices_.remove(p->handshake_index);
				p->handshake_index = 0;
				p->handshake->clear();
			}
		},
	};
	auto peer = std::make_unique<Peer>(pid, identity_, to_public(pc.public_key),
					   to_psk(pc.preshared_key), settings_, std::move(actions),
					   std::make_unique<PeerKeypairStore>(*this, pid));
	peer->timers.set_persistent_keepalive(pc.persistent_keepalive * NS);
	dp_.reset_peer_stats(pid);
	xwg_peer value{};
	value.active = 1;
	dp_.set_peer(pid, value);
	Peer *raw = peer.get();
	by_id_[pid] = raw;
	peers_[pc.public_key] = std::move(peer);
	if (pc.endpoint)
		set_endpoint(*raw, *pc.endpoint);
	return raw;
}

void Device::remove_peer(const WgKey &key)
{
	auto it = peers_.find(key);
	if (it == peers_.end())
		return;
	Peer &peer = *it->second;
	peer.timers.stop();
	peer.keypairs.clear();
	if (peer.handshake_index)
		indices_.remove(peer.handshake_index);
	dp_.clear_peer(peer.id);
	by_id_[peer.id] = nullptr;
	ids_.give_back(peer.id);
	peers_.erase(it);
}

void Device::set_endpoint(Peer &peer, const Endpoint &ep)
{
	if (peer.endpoint == ep)
		return;
	peer.endpoint = ep;
	write_endpoint(peer);
}

namespace {

// The address and port of an endpoint in the peers map (or an event).
Endpoint endpoint_of(const xwg_endpoint &ep)
{
	Endpoint e;
	e.addr.family = ep.family;
	e.port = ntohs(ep.port);
	std::memcpy(e.addr.bytes.data(), ep.addr.v6, e.addr.length());
	return e;
}

// @ep with the route's underlay, source and next hop (only the next hop when @keep_source:
// an endpoint the data plane learned keeps the underlay and local address it came in
// on); cleared where the route names none, so xwg_tx falls back to the kernel's lookup.
xwg_endpoint with_route(xwg_endpoint ep, const std::optional<Route> &route, bool keep_source)
{
	const int family = ep.family;
	const std::size_t len = endpoint_of(ep).addr.length();
	std::memset(&ep.nexthop, 0, sizeof(ep.nexthop));
	if (!keep_source) {
		ep.ifindex = route ? route->ifindex : 0;
		std::memset(&ep.src, 0, sizeof(ep.src));
		if (route && route->src.family == family)
			std::memcpy(ep.src.v6, route->src.bytes.data(), len);
	}
	if (route && route->nexthop.family == family)
		std::memcpy(ep.nexthop.v6, route->nexthop.bytes.data(), len);
	// Outer packets larger than this go to the daemon, whose socket fragments them.
	ep.path_mtu = route ? path_mtu(*route) : 0;
	return ep;
}

} // namespace

// The data plane sends through the underlay, next hop and source address the kernel's
// route to this destination (strictly through an underlay, with the fwmark) names.
void Device::write_endpoint(Peer &peer)
{
	if (!peer.endpoint)
		return;
	const Endpoint &e = *peer.endpoint;
	xwg_endpoint ep{};
	ep.family = static_cast<__u16>(e.addr.family);
	ep.port = htons(e.port);
	std::memcpy(ep.addr.v6, e.addr.bytes.data(), e.addr.length());
	dp_.set_peer_endpoint(peer.id, with_route(ep, udp_.route_to(e.addr), false));
}

// Looks the route of the endpoint in the peers map up again and updates it where it
// changed: after roaming (no next hop yet) and whenever routes or addresses change.
void Device::refresh_route(Peer &peer)
{
	const auto p = dp_.peer(peer.id);
	if (!p || (p->endpoint.family != ip_family_v4 && p->endpoint.family != ip_family_v6))
		return;
	const xwg_endpoint &seen = p->endpoint;
	const IpAddr addr = endpoint_of(seen).addr;
	// A learned endpoint (or one resolved before) keeps its underlay; a configured one
	// that had no route yet gets one.
	const bool keep_source = seen.ifindex != 0;
	auto route = keep_source ? udp_.routes().get(addr, seen.ifindex, udp_.fwmark())
				 : udp_.route_to(addr);
	const xwg_endpoint next = with_route(seen, route, keep_source);
	if (std::memcmp(&next, &seen, sizeof(next)) != 0)
		dp_.set_peer_route(peer.id, seen, next);
}

void Device::refresh_routes()
{
	for (Peer *peer : by_id_)
		if (peer)
			refresh_route(*peer);
}

PeerRuntime Device::runtime(const WgKey &public_key) const
{
	PeerRuntime rt;
	auto it = peers_.find(public_key);
	if (it == peers_.end())
		return rt;
	const Peer &peer = *it->second;
	auto stats = dp_.peer_stats(peer.id);
	rt.rx_bytes = stats.rx_bytes + peer.daemon_rx_bytes;
	rt.tx_bytes = stats.tx_bytes + peer.daemon_tx_bytes;
	rt.last_handshake_sec = peer.last_handshake.tv_sec;
	rt.last_handshake_nsec = peer.last_handshake.tv_nsec;
	rt.endpoint = peer.endpoint;
	return rt;
}

void Device::shutdown()
{
	for (auto &[k, peer] : peers_) {
		peer->timers.stop();
		peer->keypairs.clear();
	}
}

// ---- send ------------------------------------------------------------------------------

// A new initiation at most every REKEY_TIMEOUT (retries come from the timer at that pace).
void Device::send_initiation(Peer &peer, bool retry)
{
	const std::uint64_t now = noise::boottime_ns();
	if (!retry)
		peer.timers.on_new_handshake_wanted();
	if (!have_identity_ || !peer.endpoint)
		return;
	if (peer.last_initiation_sent_ns &&
	    now - peer.last_initiation_sent_ns < settings_.rekey_timeout_ns)
		return;
	if (peer.handshake_index)
		indices_.remove(peer.handshake_index);
	peer.handshake_index = new_index(peer);
	xwg_msg_initiation msg;
	if (peer.handshake->create_initiation(msg, peer.handshake_index) != noise::HandshakeError::ok)
		return;
	auto bytes = std::span(reinterpret_cast<std::uint8_t *>(&msg), sizeof(msg));
	peer.cookie.add_macs(bytes, now);
	peer.last_initiation_sent_ns = now;
	peer.timers.on_any_authenticated_packet_traversal(now);
	peer.timers.on_any_authenticated_packet_sent(now);
	if (udp_.send(*peer.endpoint, bytes))
		peer.daemon_tx_bytes += sizeof(msg);
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

bool Device::current_usable(Peer &peer, std::uint64_t now)
{
	const auto *cur = peer.keypairs.current();
	return cur && now - cur->keypair.birth_ns < settings_.reject_after_time_ns;
}

bool Device::send_data(Peer &peer, std::span<const std::uint8_t> plain)
{
	const std::uint64_t now = noise::boottime_ns();
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
	if (!udp_.send(*peer.endpoint, std::span(out.data(), n)))
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
	const std::uint64_t now = noise::boottime_ns();
	if (!current_usable(peer, now)) {
		send_initiation(peer, false);
		return;
	}
	while (!peer.staged.empty()) {
		send_data(peer, peer.staged.front());
		peer.staged.pop_front();
	}
	keep_key_fresh_on_send(peer, now);
}

void Device::send_keepalive(Peer &peer)
{
	if (!peer.staged.empty()) {
		send_staged(peer);
		return;
	}
	if (!current_usable(peer, noise::boottime_ns())) {
		send_initiation(peer, false);
		return;
	}
	send_data(peer, {});
}

// ---- receive ---------------------------------------------------------------------------

void Device::on_datagram(const UdpSockets::Datagram &d, std::size_t queue_depth)
{
	if (!have_identity_ || !checker_)
		return;
	if (d.data.size() < 4)
		return dp_.count_drop(XWG_DROP_CONTROL_INVALID);
	const std::uint64_t now = noise::boottime_ns();
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
			udp_.send(d.from, std::span(reinterpret_cast<const std::uint8_t *>(&reply),
						    sizeof(reply)));
			return;
		}
		if (mac != noise::MacCheck::valid_mac1 && mac != noise::MacCheck::valid_cookie)
			return dp_.count_drop(XWG_DROP_CONTROL_INVALID);
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

void Device::consume_initiation(const UdpSockets::Datagram &d, std::uint64_t now)
{
	Peer *found = nullptr;
	noise::PeerLookup lookup = [&](const PublicKey &k) -> noise::Handshake * {
		auto it = peers_.find(to_wgkey(k));
		if (it == peers_.end())
			return nullptr;
		found = it->second.get();
		return found->handshake.get();
	};
	auto r = noise::Handshake::consume_initiation(identity_, d.data, lookup, now);
	if (r.error != noise::HandshakeError::ok || !found)
		return dp_.count_drop(XWG_DROP_CONTROL_INVALID);
	Peer &peer = *found;
	peer.daemon_rx_bytes += d.data.size();
	set_endpoint(peer, d.from);
	peer.timers.on_any_authenticated_packet_received(now);
	peer.timers.on_any_authenticated_packet_traversal(now);

	if (peer.handshake_index)
		indices_.remove(peer.handshake_index);
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
	if (udp_.send(*peer.endpoint, bytes))
		peer.daemon_tx_bytes += sizeof(resp);
}

void Device::consume_response(const UdpSockets::Datagram &d, std::uint64_t now)
{
	const std::uint32_t receiver = read_le32(d.data, 8);
	auto entry = indices_.lookup(receiver);
	if (!entry || entry->kind != noise::IndexTable::Kind::handshake)
		return dp_.count_drop(XWG_DROP_CONTROL_INVALID);
	Peer *peer = peer_by_id(entry->peer_id);
	if (!peer || peer->handshake_index != receiver)
		return dp_.count_drop(XWG_DROP_CONTROL_INVALID);
	if (peer->handshake->consume_response(d.data) != noise::HandshakeError::ok)
		return dp_.count_drop(XWG_DROP_CONTROL_INVALID);
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

void Device::consume_cookie(const UdpSockets::Datagram &d, std::uint64_t now)
{
	auto entry = indices_.lookup(read_le32(d.data, 4));
	Peer *peer = entry ? peer_by_id(entry->peer_id) : nullptr;
	if (!peer || peer->cookie.consume_reply(d.data, now) != noise::CookieError::ok)
		dp_.count_drop(XWG_DROP_CONTROL_INVALID);
}

bool Device::begin_session(Peer &peer, std::uint64_t now)
{
	noise::Keypair kp;
	if (peer.handshake->begin_session(kp, now) != noise::HandshakeError::ok)
		return false;
	auto slot = slots_.take();
	if (!slot) {
		std::fprintf(stderr, "xwg: no free send counter slot; session dropped\n");
		indices_.remove(kp.local_index);
		peer.handshake_index = 0;
		return false;
	}
	indices_.replace(kp.local_index, {noise::IndexTable::Kind::keypair, peer.id});
	peer.handshake_index = 0;
	if (!peer.keypairs.add(kp, *slot)) {
		std::fprintf(stderr, "xwg: writing keypair %08x failed: %s\n", kp.local_index,
			     std::strerror(errno));
		slots_.give_back(*slot);
		indices_.remove(kp.local_index);
		return false;
	}
	peer.sent_lastminute_handshake = false;
	peer.timers.on_session_derived(now);
	return true;
}

void Device::handshake_complete(Peer &peer, std::uint64_t now)
{
	peer.timers.on_handshake_complete(now);
	clock_gettime(CLOCK_REALTIME, &peer.last_handshake);
}

// ---- data-plane events and the tick ----------------------------------------------------

void Device::on_event(const void *data, std::size_t len)
{
	if (len < sizeof(xwg_event))
		return;
	xwg_event ev;
	std::memcpy(&ev, data, sizeof(ev));
	Peer *peer = peer_by_id(ev.peer_id);
	if (!peer)
		return;
	const std::uint64_t now = noise::boottime_ns();
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
	case XWG_EVENT_ENDPOINT_CHANGED: {
		const Endpoint ep = endpoint_of(ev.endpoint);
		if (ep.addr.family != ip_family_v4 && ep.addr.family != ip_family_v6)
			break;
		peer->endpoint = ep; // the data plane wrote the map itself, without a next hop
		refresh_route(*peer);
		break;
	}
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
			peer->staged.pop_front();
		peer->staged.emplace_back(bytes, bytes + n);
		send_staged(*peer);
		break;
	}
	default:
		break;
	}
}

void Device::tick(std::uint64_t now)
{
	enum Kind { sent, received, received_data };
	std::uint32_t below = 0;
	for (const Peer *peer : by_id_)
		if (peer)
			below = std::max(below, peer->id + 1);
	const auto all_stats = dp_.peer_stats_below(below);
	for (Peer *peer : by_id_) {
		if (!peer)
			continue;
		const auto &stats = all_stats[peer->id];
		std::vector<std::pair<std::uint64_t, Kind>> events;
		if (stats.last_tx_ns > peer->seen_tx_ns)
			events.push_back({stats.last_tx_ns, sent});
		if (stats.last_rx_ns > peer->seen_rx_ns)
			events.push_back({stats.last_rx_ns, received});
		if (stats.last_rx_data_ns > peer->seen_rx_data_ns)
			events.push_back({stats.last_rx_data_ns, received_data});
		peer->seen_tx_ns = std::max<std::uint64_t>(peer->seen_tx_ns, stats.last_tx_ns);
		peer->seen_rx_ns = std::max<std::uint64_t>(peer->seen_rx_ns, stats.last_rx_ns);
		peer->seen_rx_data_ns = std::max<std::uint64_t>(peer->seen_rx_data_ns, stats.last_rx_data_ns);
		std::sort(events.begin(), events.end());
		for (auto [t, kind] : events) {
			switch (kind) {
			case sent:
				peer->timers.on_data_sent(t);
				peer->timers.on_any_authenticated_packet_sent(t);
				peer->timers.on_any_authenticated_packet_traversal(t);
				break;
			case received:
				peer->timers.on_any_authenticated_packet_received(t);
				peer->timers.on_any_authenticated_packet_traversal(t);
				break;
			case received_data: {
				peer->timers.on_data_received(t);
				// Initiator's keys near REJECT_AFTER_TIME: renew before they die.
				const auto *cur = peer->keypairs.current();
				if (cur && cur->keypair.initiator && !peer->sent_lastminute_handshake &&
				    now - cur->keypair.birth_ns >
					    settings_.reject_after_time_ns -
						    settings_.keepalive_timeout_ns -
						    settings_.rekey_timeout_ns) {
					peer->sent_lastminute_handshake = true;
					send_initiation(*peer, false);
				}
				break;
			}
			}
		}
		peer->timers.run_expired(now);
	}
}

} // namespace xwg
