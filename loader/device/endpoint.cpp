// device/endpoint.cpp — endpoints and their routes; see endpoint.h.
#include "loader/device/endpoint.h"

#include <arpa/inet.h>

#include <cstring>

namespace xwg {

namespace {

// @ep with the route's underlay, source and next hop (only the next hop when @keep_source:
// an endpoint the data plane learned keeps the underlay and local address it came in
// on); cleared where the route names none, so xwg_tx falls back to the kernel's lookup.
xwg_endpoint with_route(xwg_endpoint ep, const std::optional<Route> &route, bool keep_source)
{
	const int family = ep.family;
	const std::size_t len = Endpoints::address_of(ep).addr.length();
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
	ep.path_mtu = route ? route->mtu : 0;
	return ep;
}

bool has_address(const xwg_endpoint &ep)
{
	return ep.family == ip_family_v4 || ep.family == ip_family_v6;
}

} // namespace

Endpoint Endpoints::address_of(const xwg_endpoint &ep)
{
	Endpoint e;
	e.addr.family = ep.family;
	e.port = ntohs(ep.port);
	std::memcpy(e.addr.bytes.data(), ep.addr.v6, e.addr.length());
	return e;
}

bool Endpoints::set(std::uint32_t peer_id, const Endpoint &e)
{
	xwg_endpoint ep{};
	ep.family = static_cast<__u16>(e.addr.family);
	ep.port = htons(e.port);
	std::memcpy(ep.addr.v6, e.addr.bytes.data(), e.addr.length());
	return dp_.set_endpoint(peer_id, with_route(ep, net_.route(e.addr), false)).has_value();
}

bool Endpoints::clear(std::uint32_t peer_id)
{
	return dp_.set_endpoint(peer_id, xwg_endpoint{}).has_value();
}

std::optional<Endpoint> Endpoints::refresh(std::uint32_t peer_id)
{
	// Twice at most: a refusal means a roam came in between, and its route is due too.
	for (int attempt = 0; attempt < 2; ++attempt) {
		const auto now = dp_.endpoint(peer_id);
		if (!now || !has_address(now->ep))
			return std::nullopt;
		const xwg_endpoint &seen = now->ep;
		const Endpoint address = address_of(seen);
		// A learned endpoint (or one resolved before) keeps its underlay; a configured
		// one that had no route yet gets one.
		const bool keep_source = seen.ifindex != 0;
		const xwg_endpoint next =
			with_route(seen, net_.route(address.addr, keep_source ? seen.ifindex : 0),
				   keep_source);
		if (std::memcmp(&next, &seen, sizeof(next)) == 0 ||
		    dp_.set_endpoint_route(peer_id, now->generation, next))
			return address;
	}
	const auto last = dp_.endpoint(peer_id);
	return last && has_address(last->ep) ? std::optional(address_of(last->ep)) : std::nullopt;
}

} // namespace xwg
