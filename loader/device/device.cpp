// device/device.cpp — the wiring: configuration changes, the local identity, peers coming
// and going; see device.h. Sending, receiving and the events live in their own files.
#include "loader/device/device.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <new>
#include <set>
#include <system_error>

namespace xwg {

namespace {

constexpr std::uint64_t NS = 1'000'000'000ULL;

PresharedKey psk_of(const std::optional<PresharedKey> &k)
{
	return k.value_or(PresharedKey{});
}

// A data-plane call that failed, with its errno, for apply() to undo and report.
[[noreturn]] void throw_errno(const std::string &what)
{
	throw std::system_error(errno, std::generic_category(), what);
}

void log_errno(const char *what)
{
	std::fprintf(stderr, "xwg: %s failed: %s\n", what, std::strerror(errno));
}

// A failed step as the UAPI client hears of it (errno=N, as WireGuard answers): a
// UapiError as thrown, out of memory as -ENOMEM, anything else (a map write, a socket,
// a route) as -EIO. Call from a catch block.
[[noreturn]] void rethrow_as_uapi_error()
{
	try {
		throw;
	} catch (const UapiError &) {
		throw;
	} catch (const std::bad_alloc &e) {
		throw UapiError(-ENOMEM, e.what());
	} catch (const std::system_error &e) {
		throw UapiError(e.code().value() == ENOMEM ? -ENOMEM : UAPI_ERROR_IO, e.what());
	} catch (const std::exception &e) {
		throw UapiError(UAPI_ERROR_IO, e.what());
	}
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
	if (!detached_)
		shutdown();
}

// A change comes in two halves. First every step that can fail, each leaving its undo
// step: the sockets and the data plane's config, the local key pair (memory only), new
// peers with their slots and endpoints, the endpoints of changed peers, and last the
// allowed IPs and routes (all or nothing by themselves). When one fails, the undo steps
// run newest first and the client gets the errno. Then what cannot be undone and cannot
// fail: removed peers go with their sessions (as in WireGuard), a peer removed and added
// again starts over under its id, sessions made with an old key end, keepalives go out.
// So a failure never has to bring a removed peer back; the price is that removed peers
// hold their ids until then, and ids must suffice for the old and the new peers at once.
void Device::apply(const DeviceConfig &next, const ConfigDelta &delta)
{
	const std::set<PublicKey> removed(delta.peers_removed.begin(), delta.peers_removed.end());
	const std::set<PublicKey> added(delta.peers_added.begin(), delta.peers_added.end());
	const std::set<PublicKey> updated(delta.peers_updated.begin(), delta.peers_updated.end());
	std::size_t fresh = 0, gone = 0;
	for (const auto &k : added)
		fresh += peers_.find(k) ? 0 : 1;
	for (const auto &k : removed)
		gone += peers_.find(k) && !added.count(k) ? 1 : 0;
	const std::string most = " (at most " + std::to_string(XWG_MAX_PEERS) + ")";
	if (peers_.size() + fresh - gone > XWG_MAX_PEERS)
		throw UapiError(UAPI_ERROR_INVALID, "too many peers" + most);
	if (peers_.size() + fresh > XWG_MAX_PEERS)
		throw UapiError(UAPI_ERROR_INVALID,
				"too many peers until the removed ones are gone" + most +
					": remove them in a set of their own first");

	// The old configuration of each peer the change touches, and where its prefixes led.
	std::map<PublicKey, const PeerConfig *> was;
	AllowedIps::Owners before, after;
	for (const PeerConfig &pc : config_.peers) {
		const PublicKey &k = pc.public_key;
		if (!removed.count(k) && !added.count(k) && !updated.count(k))
			continue;
		if (const Peer *peer = peers_.find(k)) {
			was[k] = &pc;
			for (const Cidr &c : pc.allowed_ips)
				before[c] = peer->id;
		}
	}

	const bool new_identity = delta.private_key || (!have_identity_ && next.iface.private_key);
	std::vector<std::pair<Peer *, const PeerConfig *>> created, changed;
	std::vector<const PeerConfig *> renewed;
	UndoLog undo;
	try {
		apply_sockets(next, delta, undo);
		if (new_identity)
			set_identity(next.iface.private_key, undo);
		for (const PeerConfig &pc : next.peers) {
			const bool is_added = added.count(pc.public_key) != 0;
			if (!is_added && !updated.count(pc.public_key))
				continue;
			Peer *peer = peers_.find(pc.public_key);
			const auto old = was.find(pc.public_key);
			if (is_added && !peer) {
				peer = &add_peer(pc, undo);
				created.push_back({peer, &pc});
			} else if (is_added) {
				write_endpoint(*peer, pc.endpoint, undo);
				renewed.push_back(&pc);
			} else if (peer && old != was.end()) {
				if (pc.endpoint && pc.endpoint != old->second->endpoint)
					write_endpoint(*peer, pc.endpoint, undo);
				changed.push_back({peer, &pc});
			} else {
				continue;
			}
			for (const Cidr &c : pc.allowed_ips)
				after[c] = peer->id;
		}
		allowed_ips_.update(before, after);
	} catch (...) {
		for (auto step = undo.rbegin(); step != undo.rend(); ++step)
			(*step)();
		rethrow_as_uapi_error();
	}

	// Nothing below fails: a data-plane write it cannot make is logged (what that leaves
	// behind is the slot or the counters of a peer that is gone or starts over).
	const DeviceConfig old = std::move(config_); // `was` points into its peers, still
	config_ = next;
	config_.iface.listen_port = net_.port();
	for (const auto &key : delta.peers_removed)
		if (!added.count(key))
			remove_peer(key);
	std::set<std::uint32_t> started; // peers that have no session made with an old key
	for (const auto &[peer, pc] : created)
		started.insert(peer->id);
	for (const PeerConfig *pc : renewed) {
		renew_peer(*pc);
		started.insert(peers_.find(pc->public_key)->id);
	}
	// Sessions were made with the old identity: they end, as in WireGuard. Each
	// handshake keeps the newest timestamp it has accepted, so an initiation captured
	// before the change is still refused after a change back.
	if (new_identity)
		peers_.for_each([&](Peer &peer) {
			if (started.count(peer.id))
				return;
			end_sessions(peer);
			peer.handshake->local_identity_changed();
		});
	for (const auto &[peer, now] : changed) {
		const PeerConfig &then = *was.at(now->public_key);
		if (then.preshared_key != now->preshared_key) {
			peer->psk = psk_of(now->preshared_key);
			peer->handshake->set_preshared_key(peer->psk);
		}
		if (then.flow_ports != now->flow_ports &&
		    !dp_.set_peer_flow_ports(peer->id, now->flow_ports))
			log_errno("setting FlowPorts");
		if (then.persistent_keepalive != now->persistent_keepalive) {
			peer->timers.set_persistent_keepalive(now->persistent_keepalive * NS);
			if (now->persistent_keepalive)
				send_keepalive(*peer);
		}
	}
	// A new peer with a persistent keepalive announces itself at once, as WireGuard does.
	for (const auto &[peer, pc] : created)
		if (pc->persistent_keepalive)
			send_keepalive(*peer);
	for (const PeerConfig *pc : renewed)
		if (pc->persistent_keepalive)
			send_keepalive(*peers_.find(pc->public_key));
	if (delta.fwmark)
		refresh_routes(); // policy routing may route marked packets differently
}

// The UDP sockets and the data plane's copy of their port and fwmark. A new port comes
// first of all, as the likeliest failure (PORT_IN_USE); its undo binds the old one again.
void Device::apply_sockets(const DeviceConfig &next, const ConfigDelta &delta, UndoLog &undo)
{
	const bool bind = delta.listen_port || !net_.bound();
	if (!bind && !delta.fwmark)
		return;
	if (bind) {
		const bool was_bound = net_.bound();
		const std::uint16_t port = net_.port();
		const std::uint32_t mark = config_.iface.fwmark;
		try {
			net_.bind(next.iface.listen_port, next.iface.fwmark);
		} catch (const std::exception &e) {
			throw UapiError(UAPI_ERROR_PORT_IN_USE, e.what());
		}
		auto bind_again = [this, port, mark] {
			try {
				net_.bind(port, mark);
			} catch (const std::exception &e) {
				std::fprintf(stderr, "xwg: binding port %u again: %s\n", port,
					     e.what());
			}
		};
		if (was_bound)
			undo.push_back(bind_again);
	}
	if (delta.fwmark) {
		net_.set_fwmark(next.iface.fwmark);
		undo.push_back([this, mark = config_.iface.fwmark] { net_.set_fwmark(mark); });
	}
	const auto cfg = dp_.config();
	if (!cfg)
		throw_errno("reading the data plane's config");
	xwg_config now = *cfg;
	now.listen_port = net_.port();
	if (delta.fwmark)
		now.fwmark = next.iface.fwmark;
	if (!dp_.set_config(now))
		throw_errno("writing the data plane's config");
	undo.push_back([this, then = *cfg] {
		if (!dp_.set_config(then))
			log_errno("putting the data plane's config back");
	});
}

// The local key pair and the cookie checker made from it: memory only, undone by putting
// the old ones back. The sessions made with the old key end when apply() commits.
void Device::set_identity(const std::optional<PrivateKey> &key, UndoLog &undo)
{
	struct Saved {
		noise::Identity identity;
		bool have;
		std::unique_ptr<noise::CookieChecker> checker;
	};
	auto saved = std::make_shared<Saved>(Saved{identity_, have_identity_, std::move(checker_)});
	undo.push_back([this, saved] {
		identity_ = saved->identity;
		have_identity_ = saved->have;
		checker_ = std::move(saved->checker);
	});
	if (key && !key->is_zero()) {
		identity_ = noise::Identity::from_private(*key);
		have_identity_ = true;
		checker_ = std::make_unique<noise::CookieChecker>(identity_.public_key, clock_());
	} else {
		identity_ = noise::Identity{};
		have_identity_ = false;
	}
}

void Device::forget_handshake(Peer &peer)
{
	if (peer.handshake_index)
		indices_.remove(peer.handshake_index);
	peer.handshake_index = 0;
}

void Device::end_sessions(Peer &peer)
{
	forget_handshake(peer);
	peer.keypairs.clear();
}

std::unique_ptr<Peer> Device::make_peer(std::uint32_t pid, const PeerConfig &pc)
{
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
			++counters_.handshakes_abandoned;
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
	auto peer = std::make_unique<Peer>(pid, identity_, pc.public_key, psk_of(pc.preshared_key),
					   settings_, std::move(actions), keypairs_.store_for(pid));
	peer->timers.set_persistent_keepalive(pc.persistent_keepalive * NS);
	return peer;
}

// A new peer: an id, its slot in the data plane, its endpoint. Undone by removing it (it
// has no session yet).
Peer &Device::add_peer(const PeerConfig &pc, UndoLog &undo)
{
	Peer *peer = peers_.create(pc.public_key,
				   [&](std::uint32_t pid) { return make_peer(pid, pc); });
	if (!peer)
		throw_errno("adding peer " + to_base64(pc.public_key));
	undo.push_back([this, key = pc.public_key] { remove_peer(key); });
	if (!dp_.set_peer_flow_ports(peer->id, pc.flow_ports))
		throw_errno("setting FlowPorts of peer " + to_base64(pc.public_key));
	write_endpoint(*peer, pc.endpoint, undo);
	return *peer;
}

// A peer removed and added again in one change starts over as a new one would (sessions,
// timers, counters) under its id, so the allowed IPs and the endpoint written for it stay.
void Device::renew_peer(const PeerConfig &pc)
{
	Peer *old = peers_.find(pc.public_key);
	if (!old)
		return;
	old->timers.stop();
	end_sessions(*old);
	Peer *peer = peers_.renew(pc.public_key,
				  [&](std::uint32_t pid) { return make_peer(pid, pc); });
	peer->endpoint = pc.endpoint;
	xwg_peer slot{};
	slot.active = 1;
	slot.flow_ports = pc.flow_ports;
	if (!dp_.set_peer(peer->id, slot) || !dp_.reset_peer_stats(peer->id))
		log_errno("resetting the slot of a peer added again");
}

void Device::remove_peer(const PublicKey &key)
{
	Peer *peer = peers_.find(key);
	if (!peer)
		return;
	peer->timers.stop();
	end_sessions(*peer);
	peers_.erase(key);
}

// @ep (none: no address) as @peer's endpoint, undone by writing the slot's old contents
// back.
void Device::write_endpoint(Peer &peer, const std::optional<Endpoint> &ep, UndoLog &undo)
{
	if (peer.endpoint == ep)
		return;
	const auto slot = dp_.endpoint(peer.id);
	if (!slot)
		throw_errno("reading the endpoint of peer " + std::to_string(peer.id));
	if (!(ep ? endpoints_.set(peer.id, *ep) : endpoints_.clear(peer.id)))
		throw_errno("writing endpoint " + (ep ? ep->to_string() : std::string("(none)")));
	undo.push_back([this, &peer, then = peer.endpoint, ep_then = slot->ep] {
		peer.endpoint = then;
		if (!dp_.set_endpoint(peer.id, ep_then))
			log_errno("putting an endpoint back");
	});
	peer.endpoint = ep;
}

// A handshake's source: the address we answer and send to from now on.
void Device::set_endpoint(Peer &peer, const Endpoint &ep)
{
	if (peer.endpoint == ep)
		return;
	peer.endpoint = ep;
	if (!endpoints_.set(peer.id, ep))
		std::fprintf(stderr, "xwg: writing endpoint %s failed: %s\n",
			     ep.to_string().c_str(), std::strerror(errno));
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

DeviceCounters Device::counters() const
{
	DeviceCounters c = counters_;
	peers_.for_each([&](const Peer &p) { c.staged_packets += p.staged.size(); });
	return c;
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
