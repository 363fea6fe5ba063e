// device/device.h — one xwg interface at run time: the small thing that wires WireGuard's
// concepts together (Linux device.c). It owns the local identity and the index table,
// and hands the rest to one piece per concept:
//
//   peer.h        the peers and their slots in the data plane
//   keypair.h     sessions: rotation per peer, install/retire/wipe in the data plane
//   endpoint.h    where each peer's packets go, with the kernel's route
//   allowedips.h  cryptokey routing: the LPM tries and the routes
//   timers.h      WireGuard's per-peer timers
//   send.cpp      initiations, keepalives, staged and oversize packets (send.c)
//   receive.cpp   handshake and cookie messages, the under-load policy (receive.c)
//   events.cpp    the data plane's events ring and the tick that turns its per-peer
//                 timestamps into timer events
//
// It reaches the data plane and the network through interfaces (dataplane_interface.h,
// network.h) and reads time from a clock it is given, so all of it is unit-tested with
// fakes (tests/device_test.cpp).
//
// Single-threaded: the daemon's event loop calls every method. Configuration changes come
// as a new model plus its delta (control/uapi_protocol.h) and are all or nothing: apply()
// does every step that can fail first (port, data-plane config, new peers, endpoints,
// allowed IPs and routes), undoes them newest first when one fails, and only then does
// what cannot be undone (ending sessions, removing peers).
#pragma once

#include "loader/control/device_config.h"
#include "loader/control/uapi_protocol.h"
#include "loader/device/allowedips.h"
#include "loader/device/dataplane_interface.h"
#include "loader/device/device_counters.h"
#include "loader/device/endpoint.h"
#include "loader/device/keypair.h"
#include "loader/device/network.h"
#include "loader/device/peer.h"
#include "loader/device/timers.h"
#include "loader/noise/cookie.h"
#include "loader/noise/handshake.h"
#include "loader/noise/index_table.h"
#include "loader/noise/ratelimiter.h"

#include <functional>
#include <map>
#include <memory>
#include <span>
#include <vector>

namespace xwg {

// Ticks over which the tick reads every peer's stats once (the daemon ticks every 100 ms).
inline constexpr std::uint32_t XWG_STATS_SWEEP_TICKS = 10;

// CLOCK_BOOTTIME in nanoseconds, as the data plane counts (noise::boottime_ns).
using Clock = std::function<std::uint64_t()>;

class Device {
public:
	Device(DataplaneInterface &dp, Network &net, const TimerSettings &settings,
	       RouteHook routes, Clock clock);
	~Device();
	Device(const Device &) = delete;
	Device &operator=(const Device &) = delete;

	// Moves from config() to `next` (delta = config_diff(config(), next)). Throws
	// UapiError with nothing changed (the model, the peers, the maps, the routes):
	// PORT_IN_USE when the port cannot be bound, INVALID for too many peers, -ENOMEM or
	// IO when a map write, the sockets or a route failed.
	void apply(const DeviceConfig &next, const ConfigDelta &delta);
	const DeviceConfig &config() const { return config_; }
	// The tunnel's MTU changed (the daemon checked it): the daemon's sends pad to it.
	void set_mtu(unsigned mtu) { config_.iface.mtu = mtu; }
	PeerRuntime runtime(const PublicKey &public_key) const;

	// A datagram from a UDP socket; queue_depth: how many arrived with it (the load the
	// handshake path is under, noise::LoadMonitor).
	void on_datagram(const Datagram &d, std::size_t queue_depth);
	// One record from the events ring or the staged ring.
	void on_event(const void *data, std::size_t len);
	// Timer tick: turn peer_stats into timer events, run what expired, wipe retired keys.
	void tick(std::uint64_t now);
	// Routes or addresses changed: look every endpoint's route up again.
	void refresh_routes();
	// Everything off: keypairs retired and wiped, peers' timers stopped.
	void shutdown();

	// What a daemon taking over a running interface finds: the peer ids from the running
	// state file (control/running_state.h), the rest in the pinned maps.
	struct Found {
		std::map<PublicKey, std::uint32_t> peer_ids;
		std::map<std::uint32_t, xwg_peer> peers; // active slots, by id
		std::vector<PinnedKeypair> keypairs;
		std::vector<PinnedAllowedIp> allowed_ips;
	};
	// Instead of a first apply(): takes over @config as the data plane runs it (takeover.cpp).
	// Peers keep their ids, sessions, counters, replay windows and endpoints (a roam
	// included); allowed IPs are made to match @config; the timers start from the
	// peers' stats at the first ticks. Throws std::runtime_error when the sockets cannot
	// be bound or @found does not fit @config.
	void adopt(const DeviceConfig &config, const Found &found);
	// Stop serving without touching the data plane (a restart hands it to the next
	// daemon): nothing is retired at destruction.
	void detach() { detached_ = true; }

	// Every peer's id in the data plane (for the running state file).
	std::map<PublicKey, std::uint32_t> peer_ids() const;

	// For tests and `xwg show`: the peer with this key, if any.
	const Peer *peer(const PublicKey &public_key) const { return peers_.find(public_key); }
	// Handshake and cookie counts since start, and the packets staged now (metrics).
	DeviceCounters counters() const;

private:
	// apply()'s steps that can fail: each records how to undo itself in @undo, which
	// apply() runs newest first when a later step fails. An undo step does not throw.
	using UndoLog = std::vector<std::function<void()>>;
	void apply_sockets(const DeviceConfig &next, const ConfigDelta &delta, UndoLog &undo);
	void set_identity(const std::optional<PrivateKey> &key, UndoLog &undo);
	Peer &add_peer(const PeerConfig &pc, UndoLog &undo);
	void write_endpoint(Peer &peer, const std::optional<Endpoint> &ep, UndoLog &undo);
	// apply()'s steps that cannot be undone, once nothing can fail any more (remove_peer
	// also undoes add_peer: a new peer has no session to lose).
	void end_sessions(Peer &peer);
	void renew_peer(const PeerConfig &pc);
	void remove_peer(const PublicKey &key);

	std::unique_ptr<Peer> make_peer(std::uint32_t id, const PeerConfig &pc);
	void set_endpoint(Peer &peer, const Endpoint &ep);
	void forget_handshake(Peer &peer);

	// send.cpp
	void send_initiation(Peer &peer, bool retry);
	void send_keepalive(Peer &peer);
	void send_staged(Peer &peer);
	bool send_data(Peer &peer, std::span<const std::uint8_t> plain);
	bool current_usable(const Peer &peer, std::uint64_t now) const;
	void keep_key_fresh_on_send(Peer &peer, std::uint64_t now);
	std::uint32_t new_index(const Peer &peer);
	// receive.cpp
	void consume_initiation(const Datagram &d, std::uint64_t now);
	void consume_response(const Datagram &d, std::uint64_t now);
	void consume_cookie(const Datagram &d, std::uint64_t now);
	bool begin_session(Peer &peer, std::uint64_t now);
	void handshake_complete(Peer &peer, std::uint64_t now);
	// events.cpp
	void on_stats(Peer &peer, const PeerStats &stats, std::uint64_t now);

	DataplaneInterface &dp_;
	Network &net_;
	TimerSettings settings_;
	Clock clock_;
	DeviceConfig config_;
	noise::Identity identity_;
	bool have_identity_ = false;
	std::unique_ptr<noise::CookieChecker> checker_;
	noise::LoadMonitor load_;
	noise::Ratelimiter ratelimiter_;
	noise::IndexTable indices_;
	std::uint32_t stats_cursor_ = 0; // the next peer id whose stats the tick reads
	DeviceCounters counters_;	 // staged_packets is counted when asked
	Keypairs keypairs_;
	Endpoints endpoints_;
	AllowedIps allowed_ips_;
	Peers peers_;
	bool detached_ = false;
};

} // namespace xwg
