// route_lookup.h — how the kernel would reach an address: the output interface, the next
// hop (gateway, or the address itself when it is on-link) and the source address, from
// an RTM_GETROUTE request. Naming the output interface makes the lookup strict for both
// families, which is how the daemon and the data plane keep the tunnel's own packets on
// the underlay when AllowedIPs route everything (0.0.0.0/0, ::/0) into the tunnel.
#pragma once

#include "loader/ip_prefix.h"

#include <optional>
#include <vector>

namespace xwg {

struct Route {
	IpAddr src;	      // the kernel's preferred source address (unset when none)
	IpAddr nexthop;	      // the gateway, or the destination itself when on-link
	unsigned ifindex = 0; // output interface
	bool pinned = false;  // found only by naming ifindex: the plain route goes elsewhere
};

// The route to @dst, through interface @oif when non-zero; nullopt when there is none.
std::optional<Route> route_get(const IpAddr &dst, unsigned oif = 0);

// The route to @dst through one of @underlays: the plain route when it uses one, else
// the first underlay with a route when each is named in turn. Without underlays, the
// plain route.
std::optional<Route> underlay_route(const IpAddr &dst, const std::vector<unsigned> &underlays);

} // namespace xwg
