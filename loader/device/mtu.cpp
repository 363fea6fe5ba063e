// device/mtu.cpp — see mtu.h.
#include "loader/device/mtu.h"

#include "loader/kernel/netdev.h"
#include "xwg/protocol.h"

#include <algorithm>

namespace xwg {

unsigned automatic_mtu(const DeviceConfig &config, RouteLookup &routes,
		       const std::vector<unsigned> &underlays)
{
	unsigned smallest = 0;
	auto consider = [&smallest](unsigned mtu) {
		if (mtu && (!smallest || mtu < smallest))
			smallest = mtu;
	};
	for (const PeerConfig &peer : config.peers)
		if (peer.endpoint)
			if (auto route = routes.through_underlays(peer.endpoint->addr, underlays,
								  config.iface.fwmark))
				consider(path_mtu(*route));
	if (!smallest)
		for (unsigned ifindex : underlays)
			consider(link_mtu(ifindex));
	if (!smallest)
		smallest = XWG_DEFAULT_UNDERLAY_MTU;
	if (smallest <= XWG_MTU_OVERHEAD)
		return 0;
	return std::min<unsigned>(smallest - XWG_MTU_OVERHEAD, XWG_MAX_MTU);
}

} // namespace xwg
