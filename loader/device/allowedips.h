// device/allowedips.h — cryptokey routing as the daemon keeps it (Linux allowedips.c's
// role): each peer's allowed IPs in the data plane's LPM tries, which both programs
// consult, plus the kernel route to each prefix through the tunnel (wg-quick's job,
// through the RouteHook).
#pragma once

#include "loader/device/dataplane_interface.h"
#include "loader/types/ip_prefix.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace xwg {

// Adds (true) or removes (false) the route for an allowed IP; may throw on add.
using RouteHook = std::function<void(const Cidr &prefix, bool add)>;

class AllowedIps {
public:
	AllowedIps(DataplaneInterface &dp, RouteHook routes)
		: dp_(dp), routes_(std::move(routes))
	{
	}

	// @prefixes now lead to @peer_id (a prefix another peer had moves to this one).
	void add(std::uint32_t peer_id, const std::vector<Cidr> &prefixes);
	// @prefixes lead nowhere any more.
	void remove(const std::vector<Cidr> &prefixes);
	// What was in @before and is not in @after leads nowhere any more.
	void remove_dropped(const std::vector<Cidr> &before, const std::vector<Cidr> &after);

private:
	DataplaneInterface &dp_;
	RouteHook routes_;
};

} // namespace xwg
