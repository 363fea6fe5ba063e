// device/device.cpp — the wiring: configuration changes, the local identity, peers coming
// and going; see device.h. Sending, receiving and the events live in their own files.
#include "loader/device/device.h"

#include <algorithm>
#include <cstring>
#include <set>

namespace xwg {

namespace {

constexpr std::uint64_t NS = 1'000'000'000ULL;

PresharedKey psk_of(const std::optional<PresharedKey> &k)
{
	return k.value_or(PresharedKey{});
}

} // namespace

Device::Device(DataplaneInterface &dp, Network &net, const TimerSettings &settings,
	       RouteHook routes, Clock clock)
	: dp_(dp), net_(net), settings_(settings), clock_(std::move(clock)),
	  keypairs_(dp, indices_), endpoints_(dp, net), allowed_ips_(dp, std::move(routes)),
	  peers_(dp)
{
}

Device::~Device()
{
	shutdown();
}

void Device::apply(const DeviceConfig &next, const ConfigDelta &delta)
{
	// Everything that can fail comes first, so a failure changes nothing.
	std::size_t after = peers_.size() + delta.peers_added.size();
	for (const auto &k : delta.peers_removed)
		after -= peers_.find(k) ? 1 : 0;
	if (after > XWG_MAX_PEERS)
		throw UapiError(UAPI_ERROR_INVALID,
				"too many peers (at most " + std::to_string(XWG_MAX_PEERS) + ")");
	if (delta.listen_port || !net_.bound()) {
		try {
			net_.bind(next.iface.listen_port, next.iface.fwmark);
		} catch (const std::exception &e) {
			throw UapiError(UAPI_ERROR_PORT_IN_USE, e.what());
		}
		if (auto cfg = dp_.config()) {
			cfg->listen_port = net_.port();
			dp_.set_config(*cfg);
		}
	}

	const DeviceConfig old = config_;
	config_ = next;
	config_.iface.listen_port = net_.port();
	if (delta.fwmark) {
		net_.set_fwmark(next.iface.fwmark);
		if (auto cfg = dp_.config()) {
			cfg->fwmark = next.iface.fwmark;
			dp_.set_config(*cfg);
		}
		refresh_routes(); // policy routing may route marked packets differently
	}
	if (delta.private_key || (!have_identity_ && next.iface.private_key))
		set_private_key(next.iface.private_key);

	for (const auto &key : delta.peers_removed) {
		remove_peer(key);
		if (const PeerConfig *pc = old.find_peer(key))
			allowed_ips_.remove(pc->allowed_ips);
	}

	std::set<PublicKey> touched(delta.peers_added.begin(), delta.peers_added.end());
	for (const auto &key : delta.peers_updated) {
		const PeerConfig *before = old.find_peer(key);
		const PeerConfig *now = config_.find_peer(key);
		Peer *peer = peers_.find(key);
		if (!before || !now || !peer)
			continue;
		touched.insert(key);
		allowed_ips_.remove_dropped(before->allowed_ips, now->allowed_ips);
		if (before->preshared_key != now->preshared_key) {
			peer->psk = psk_of(now->preshared_key);
			peer->handshake->set_preshared_key(peer->psk);
		}
		if (now->endpoint && before->endpoint != now->endpoint)
			set_endpoint(*peer, *now->endpoint);
		if (before->persistent_keepalive != now->persistent_keepalive) {
			peer->timers.set_persistent_keepalive(now->persistent_keepalive * NS);
			if (now->persistent_keepalive)
				send_keepalive(*peer);
		}
	}
	for (const auto &key : delta.peers_added)
		if (const PeerConfig *pc = config_.find_peer(key))
			add_peer(*pc);
	for (const auto &pc : config_.peers)
		if (touched.count(pc.public_key))
			if (Peer *peer = peers_.find(pc.public_key))
				allowed_ips_.add(peer->id, pc.allowed_ips);
	// A new peer with a persistent keepalive announces itself at once, as WireGuard does.
	for (const auto &key : delta.peers_added)
		if (const PeerConfig *pc = config_.find_peer(key); pc && pc->persistent_keepalive)
			if (Peer *peer = peers_.find(key))
				send_keepalive(*peer);
}

void Device::set_private_key(const std::optional<PrivateKey> &key)
{
	const std::uint64_t now = clock_();
	if (key && !key->is_zero()) {
		identity_ = noise::Identity::from_private(*key);
		have_identity_ = true;
		checker_ = std::make_unique<noise::CookieChecker>(identity_.public_key, now);
	} else {
		identity_ = noise::Identity{};
		have_identity_ = false;
		checker_.reset();
	}
	// Sessions were made with the old identity: they end, as in WireGuard. Each
	// handshake keeps the newest timestamp it has accepted, so an initiation captured
	// before the change is still refused after a change back.
	peers_.for_each([&](Peer &peer) {
		forget_handshake(peer);
		peer.keypairs.clear();
		peer.handshake->local_identity_changed();
	});
}

void Device::forget_handshake(Peer &peer)
{
	if (peer.handshake_index)
		indices_.remove(peer.handshake_index);
	peer.handshake_index = 0;
}

Peer *Device::add_peer(const PeerConfig &pc)
{
	auto make = [&](std::uint32_t pid) {
		TimerActions actions{
			[this, pid](bool retry) {
				if (Peer *p = peers_.by_id(pid))
					send_initiation(*p, retry);
			},
			[this, pid] {
				if (Peer *p = peers_.by_id(pid))
					send_keepalive(*p);
			},
			[this, pid] {
				if (Peer *p = peers_.by_id(pid))
					p->staged.clear();
			},
			[this, pid] {
				if (Peer *p = peers_.by_id(pid)) {
					p->keypairs.clear();
					forget_handshake(*p);
					p->handshake->clear();
				}
			},
		};
		return std::make_unique<Peer>(pid, identity_, pc.public_key,
					      psk_of(pc.preshared_key), settings_, std::move(actions),
					      keypairs_.store_for(pid));
	};
	Peer *peer = peers_.create(pc.public_key, make);
	if (!peer)
		return nullptr;
	peer->timers.set_persistent_keepalive(pc.persistent_keepalive * NS);
	if (pc.endpoint)
		set_endpoint(*peer, *pc.endpoint);
	return peer;
}

void Device::remove_peer(const PublicKey &key)
{
	Peer *peer = peers_.find(key);
	if (!peer)
		return;
	peer->timers.stop();
	peer->keypairs.clear();
	forget_handshake(*peer);
	peers_.erase(key);
}

void Device::set_endpoint(Peer &peer, const Endpoint &ep)
{
	if (peer.endpoint == ep)
		return;
	peer.endpoint = ep;
	endpoints_.set(peer.id, ep);
}

void Device::refresh_routes()
{
	peers_.for_each([&](Peer &peer) {
		if (auto ep = endpoints_.refresh(peer.id))
			peer.endpoint = *ep;
	});
}

PeerRuntime Device::runtime(const PublicKey &public_key) const
{
	PeerRuntime rt;
	const Peer *peer = peers_.find(public_key);
	if (!peer)
		return rt;
	auto stats = dp_.peer_stats(peer->id);
	rt.rx_bytes = stats.rx_bytes + peer->daemon_rx_bytes;
	rt.tx_bytes = stats.tx_bytes + peer->daemon_tx_bytes;
	rt.last_handshake_sec = peer->last_handshake.tv_sec;
	rt.last_handshake_nsec = peer->last_handshake.tv_nsec;
	rt.endpoint = peer->endpoint;
	return rt;
}

void Device::shutdown()
{
	peers_.for_each([&](Peer &peer) {
		peer.timers.stop();
		peer.keypairs.clear();
	});
	keypairs_.collect();
}

} // namespace xwg
