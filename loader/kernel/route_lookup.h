// kernel/route_lookup.h — how the kernel would reach an address: the output interface, the next
// hop (gateway, or the address itself when it is on-link) and the source address, from
// RTM_GETROUTE requests. Naming the output interface makes the lookup strict for both
// families, which is how the daemon and the data plane keep the tunnel's own packets on
// the underlay when AllowedIPs route everything (0.0.0.0/0, ::/0) into the tunnel.
#pragma once

#include "loader/types/ip_prefix.h"

#include <cstdint>
#include <optional>
#include <vector>

struct nl_sock;

namespace xwg {

struct Route {
	IpAddr src;           // the kernel's preferred source address (unset when none)
	IpAddr nexthop;       // the gateway, or the destination itself when on-link; unset
	                      // when the route names none xwg can use (e.g. an IPv6 gateway
	                      // for IPv4)
	unsigned ifindex = 0; // output interface
	unsigned mtu = 0;     // the route's MTU metric or a learned path MTU; 0: none (the
	                      // output interface's MTU applies)
	bool pinned = false;  // found only by naming ifindex: the plain route goes elsewhere
};

// One netlink socket, in the network namespace it was made in.
class RouteLookup {
public:
	RouteLookup(); // throws std::runtime_error
	~RouteLookup();
	RouteLookup(const RouteLookup &) = delete;
	RouteLookup &operator=(const RouteLookup &) = delete;

	// The route to @dst for packets marked @mark, through interface @oif when non-zero
	// (and then only a route of a routing table through it: none when the kernel would
	// merely assume @dst is on that link); nullopt when there is none.
	std::optional<Route> get(const IpAddr &dst, unsigned oif = 0, std::uint32_t mark = 0);

	// The route to @dst through one of @underlays: the plain route when it uses one, else
	// the first underlay with a route when each is named in turn. Without underlays, the
	// plain route.
	std::optional<Route> through_underlays(const IpAddr &dst, const std::vector<unsigned> &underlays,
					       std::uint32_t mark = 0);

private:
	void reconnect();
	nl_sock *sock_ = nullptr;
};

// The largest IP packet @route carries whole: its MTU metric (or learned path MTU), else
// its output interface's MTU; 0 when neither is known.
unsigned path_mtu(const Route &route);

// Notices route and address changes (rtnetlink multicast groups), so the endpoints'
// routes can be looked up again. Non-blocking; poll fd().
class RouteWatch {
public:
	RouteWatch(); // throws std::runtime_error
	~RouteWatch();
	RouteWatch(const RouteWatch &) = delete;
	RouteWatch &operator=(const RouteWatch &) = delete;

	int fd() const;
	// Reads every pending notification; true when there was any (or the socket
	// overflowed, which may have hidden some).
	bool drain();

private:
	nl_sock *sock_ = nullptr;
};

} // namespace xwg
