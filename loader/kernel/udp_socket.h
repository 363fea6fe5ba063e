// kernel/udp_socket.h — the daemon's UDP sockets on ListenPort, one IPv4 and one IPv6 (v6only),
// bound to the same port. Handshake messages (types 1-3) reach them, and data messages
// that arrived as IP fragments (xwg_rx takes every other one before the stack sees it).
// The daemon also sends its own keepalives, staged packets and packets too big for their
// path through them; IPv4 leaves without DF and the kernel fragments what does not fit,
// as for WireGuard's own sends.
#pragma once

#include "loader/device/network.h"
#include "loader/types/ip_prefix.h"
#include "loader/kernel/route_lookup.h"

#include <cstdint>
#include <span>
#include <optional>
#include <vector>

namespace xwg {

class UdpSockets final : public Network {
public:
	UdpSockets() = default;
	~UdpSockets();
	UdpSockets(const UdpSockets &) = delete;
	UdpSockets &operator=(const UdpSockets &) = delete;

	// Binds both sockets to port (0: the kernel picks one, the same for both). IPv6 is
	// skipped when the namespace has none. Throws std::runtime_error; EADDRINUSE is
	// reported as such (errno kept in the message). On failure the old sockets stay.
	void bind(std::uint16_t port, std::uint32_t fwmark) override;
	bool bound() const override { return fd4_ >= 0; }
	void set_fwmark(std::uint32_t fwmark) override;
	std::uint32_t fwmark() const { return fwmark_; }
	void close_all();

	std::uint16_t port() const override { return port_; }
	int fd4() const { return fd4_; }
	int fd6() const { return fd6_; }

	// The underlays (ifindexes) sends must leave through, so that a route through the
	// tunnel (e.g. AllowedIPs 0.0.0.0/0) never carries the tunnel's own packets.
	void set_underlays(std::vector<unsigned> ifindexes) { underlays_ = std::move(ifindexes); }
	const std::vector<unsigned> &underlays() const { return underlays_; }
	// The route to @to as these sockets' packets and the data plane's take it: through
	// an underlay, with the fwmark.
	std::optional<Route> route_to(const IpAddr &to) { return routes_.through_underlays(to, underlays_, fwmark_); }
	RouteLookup &routes() { return routes_; }
	std::optional<Route> route(const IpAddr &to, unsigned ifindex = 0) override;

	// Sends through the underlay and from the source address route_to() picks.
	bool send(const Endpoint &to, std::span<const std::uint8_t> data) override;
	// One datagram from fd (non-blocking); nullopt when none is waiting.
	using Datagram = xwg::Datagram;
	static std::optional<Datagram> receive(int fd);
	// Reads the ICMP errors queued on fd (IPV6_RECVERR); true when one said a datagram
	// was too big for its path (the kernel has recorded the smaller path MTU).
	static bool drain_errors(int fd);

private:
	int fd4_ = -1;
	int fd6_ = -1;
	std::uint16_t port_ = 0;
	std::uint32_t fwmark_ = 0;
	std::vector<unsigned> underlays_;
	RouteLookup routes_;
};

} // namespace xwg
