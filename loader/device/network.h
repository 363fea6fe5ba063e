// device/network.h — what the device needs from the network, as an interface: the
// daemon's UDP sockets and the kernel's routes (kernel/udp_socket.h) in the daemon, a
// recording fake in the unit tests (tests/fake_network.h).
#pragma once

#include "loader/kernel/route_lookup.h"
#include "loader/types/ip_prefix.h"

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace xwg {

// One datagram a socket received.
struct Datagram {
	std::vector<std::uint8_t> data;
	Endpoint from;
	IpAddr to;            // the local address it was sent to (unset: unknown)
	unsigned ifindex = 0; // the interface it arrived on (0: unknown)
	std::uint32_t socket_drops = 0; // datagrams the socket dropped so far, full (SO_RXQ_OVFL)
};

class Network {
public:
	virtual ~Network() = default;

	// Binds to @port (0: any) with @fwmark; throws std::runtime_error, nothing changed.
	virtual void bind(std::uint16_t port, std::uint32_t fwmark) = 0;
	virtual bool bound() const = 0;
	virtual std::uint16_t port() const = 0;
	virtual void set_fwmark(std::uint32_t fwmark) = 0;
	// Sends a datagram through an underlay; false when it could not.
	virtual bool send(const Endpoint &to, std::span<const std::uint8_t> data) = 0;
	// The route to @to as the tunnel's packets take it: through an underlay, with the
	// fwmark; through @ifindex when it is given (an endpoint learned on that underlay).
	// Its mtu is the path MTU: the route's metric or learned PMTU, else the device's.
	virtual std::optional<Route> route(const IpAddr &to, unsigned ifindex = 0) = 0;
};

} // namespace xwg
