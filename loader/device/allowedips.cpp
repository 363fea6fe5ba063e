// device/allowedips.cpp — allowed IPs into the LPM tries and the routes; see allowedips.h.
#include "loader/device/allowedips.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace xwg {

void AllowedIps::add(std::uint32_t peer_id, const std::vector<Cidr> &prefixes)
{
	for (const auto &c : prefixes) {
		if (!dp_.set_allowed_ip(c.addr.bytes.data(), c.addr.length(), c.prefix, peer_id))
			std::fprintf(stderr, "xwg: writing allowed IP %s failed: %s\n",
				     c.to_string().c_str(), std::strerror(errno));
		if (routes_)
			routes_(c, true);
	}
}

void AllowedIps::remove(const std::vector<Cidr> &prefixes)
{
	for (const auto &c : prefixes) {
		(void)dp_.delete_allowed_ip(c.addr.bytes.data(), c.addr.length(), c.prefix);
		if (routes_)
			routes_(c, false);
	}
}

void AllowedIps::remove_dropped(const std::vector<Cidr> &before, const std::vector<Cidr> &after)
{
	std::vector<Cidr> dropped;
	for (const auto &c : before)
		if (std::find(after.begin(), after.end(), c) == after.end())
			dropped.push_back(c);
	remove(dropped);
}

} // namespace xwg
