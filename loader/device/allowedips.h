// device/allowedips.h — cryptokey routing as the daemon keeps it (Linux allowedips.c's
// role): each peer's allowed IPs in the data plane's LPM tries, which both programs
// consult, plus the kernel route to each prefix through the tunnel (wg-quick's job,
// through the RouteHook). A change is all or nothing: update() moves the tries and the
// routes from one assignment to the next, or throws with both as they were.
#pragma once

#include "loader/device/dataplane_interface.h"
#include "loader/types/ip_prefix.h"

#include <cstdint>
#include <functional>
#include <map>

namespace xwg {

// Adds (true) or removes (false) the kernel route to an allowed IP through the tunnel.
// An add that fails throws (std::exception, with the reason) and may leave part of its
// work behind (a /0 goes in as two halves), which a remove of the same prefix takes out;
// a remove never fails.
using RouteHook = std::function<void(const Cidr &prefix, bool add)>;

class AllowedIps {
public:
	// The peer id each prefix leads to.
	using Owners = std::map<Cidr, std::uint32_t>;

	AllowedIps(DataplaneInterface &dp, RouteHook routes)
		: dp_(dp), routes_(std::move(routes))
	{
	}

	// Moves from @before to @after, two assignments of the same peers (those a change
	// touches; a prefix of any other peer is in neither). A prefix whose peer changed is
	// written, one that is new also gets its route, and one only in @before leaves the
	// tries, then its route goes. When a write or a route fails, what was done is undone
	// and it throws (std::system_error for a write, the RouteHook's exception for a route).
	void update(const Owners &before, const Owners &after);

private:
	DataplaneInterface &dp_;
	RouteHook routes_;
};

} // namespace xwg
