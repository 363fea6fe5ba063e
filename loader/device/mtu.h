// device/mtu.h — the tunnel MTU when the configuration leaves it out, by wg-quick's rule: the
// path MTU towards the peers' endpoints (or of the underlay), minus the tunnel's overhead.
#pragma once

#include "loader/control/device_config.h"
#include "loader/kernel/route_lookup.h"

#include <vector>

namespace xwg {

// The smallest path MTU (route MTU metric, learned path MTU, else the output device's
// MTU) among the routes through @underlays to the configured peers' endpoints; without
// any, the smallest MTU of the underlays themselves; XWG_DEFAULT_UNDERLAY_MTU when nothing
// says. Minus XWG_MTU_OVERHEAD (room for an IPv6 outer header), capped to XWG_MAX_MTU.
// wg-quick takes the largest of its endpoints' MTUs; the smallest never makes a peer
// behind a narrower path rely on fragmentation.
unsigned automatic_mtu(const DeviceConfig &config, RouteLookup &routes,
		       const std::vector<unsigned> &underlays);

} // namespace xwg
