// device/device.h — one xwg interface at run time (the daemon's half of WireGuard's device.c,
// send.c and receive.c): the local identity, the peers, the index table, and the glue
// between the handshake library, the timers, the UDP sockets and the data plane's maps.
//
// Single-threaded: the daemon's event loop calls every method. Configuration changes come
// as a new model plus its delta (uapi_protocol.h); apply() does the work that can fail
// first (binding a new port) and changes nothing when it throws.
#pragma once

#include "loader/kernel/dataplane.h"
#include "loader/control/device_config.h"
#include "loader/noise/cookie.h"
#include "loader/noise/handshake.h"
#include "loader/noise/index_table.h"
#include "loader/noise/ratelimiter.h"
#include "loader/device/peer.h"
#include "loader/device/timers.h"
#include "loader/kernel/udp_socket.h"
#include "loader/control/uapi_protocol.h"

#include <functional>
#include <map>
#include <memory>

namespace xwg {

// Adds (true) or removes (false) the route for an allowed IP; may throw on add.
using RouteHook = std::function<void(const Cidr &prefix, bool add)>;

class Device {
public:
	Device(Dataplane &dp, UdpSockets &udp, const TimerSettings &settings, RouteHook routes);
	~Device();
	Device(const Device &) = delete;
	Device &operator=(const Device &) = delete;

	// Moves from config() to `next` (delta = config_diff(config(), next)). Throws
	// UapiError (PORT_IN_USE when the port cannot be bound) with nothing changed.
	void apply(const DeviceConfig &next, const ConfigDelta &delta);
	const DeviceConfig &config() const { return config_; }
	// The tunnel's MTU changed (the daemon checked it): the daemon's sends pad to it.
	void set_mtu(unsigned mtu) { config_.iface.mtu = mtu; }
	PeerRuntime runtime(const WgKey &public_key) const;

	// A datagram from a UDP socket; queue_depth: how many more are waiting.
	void on_datagram(const UdpSockets::Datagram &d, std::size_t queue_depth);
	// One record from the events ring buffer.
	void on_event(const void *data, std::size_t len);
	// Timer tick: turn peer_stats into timer events, run what expired.
	void tick(std::uint64_t now);
	// Routes or addresses changed: look every endpoint's route up again.
	void refresh_routes();
	// Everything off: keypairs out of the maps, peers cleared.
	void shutdown();

private:
	friend class PeerKeypairStore;
	Peer *peer_by_id(std::uint32_t id);
	Peer *add_peer(const PeerConfig &pc);
	void remove_peer(const WgKey &key);
	void set_endpoint(Peer &peer, const Endpoint &ep);
	void write_endpoint(Peer &peer);
	void set_private_key(const std::optional<WgKey> &key);

	// send.c
	void send_initiation(Peer &peer, bool retry);
	void send_keepalive(Peer &peer);
	void send_staged(Peer &peer);
	bool send_data(Peer &peer, std::span<const std::uint8_t> plain);
	bool current_usable(Peer &peer, std::uint64_t now);
	void keep_key_fresh_on_send(Peer &peer, std::uint64_t now);
	// receive.c
	void consume_initiation(const UdpSockets::Datagram &d, std::uint64_t now);
	void consume_response(const UdpSockets::Datagram &d, std::uint64_t now);
	void consume_cookie(const UdpSockets::Datagram &d, std::uint64_t now);
	bool begin_session(Peer &peer, std::uint64_t now);
	void handshake_complete(Peer &peer, std::uint64_t now);
	std::uint32_t new_index(const Peer &peer);
	void refresh_route(Peer &peer);

	Dataplane &dp_;
	UdpSockets &udp_;
	TimerSettings settings_;
	RouteHook routes_;
	DeviceConfig config_;
	noise::Identity identity_;
	bool have_identity_ = false;
	std::unique_ptr<noise::CookieChecker> checker_;
	noise::LoadMonitor load_;
	noise::Ratelimiter ratelimiter_;
	noise::IndexTable indices_;
	CounterSlots slots_;
	PeerIds ids_;
	std::map<WgKey, std::unique_ptr<Peer>> peers_;
	std::vector<Peer *> by_id_;
};

} // namespace xwg
