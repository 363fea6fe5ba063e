// device/allowedips.cpp — allowed IPs into the LPM tries and the routes; see allowedips.h.
#include "loader/device/allowedips.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <system_error>
#include <vector>

namespace xwg {

namespace {

// One prefix written or deleted, and how to put it back.
struct Done {
	Cidr prefix;
	std::optional<std::uint32_t> owner; // the peer it led to before, none: it was new
	bool routed = false;                // its route was added
};

} // namespace

void AllowedIps::update(const Owners &before, const Owners &after)
{
	auto write = [&](const Cidr &c, std::uint32_t peer_id) {
		return dp_.set_allowed_ip(c.addr.bytes.data(), c.addr.length(), c.prefix, peer_id);
	};
	// A prefix that is not there any more is gone, as asked.
	auto erase = [&](const Cidr &c) {
		return dp_.delete_allowed_ip(c.addr.bytes.data(), c.addr.length(), c.prefix) ||
		       errno == ENOENT;
	};
	std::vector<Done> done;
	std::vector<Cidr> unrouted;
	try {
		for (const auto &[c, peer_id] : after) {
			const auto was = before.find(c);
			if (was != before.end() && was->second == peer_id)
				continue;
			if (!write(c, peer_id))
				throw std::system_error(errno, std::generic_category(),
							"writing allowed IP " + c.to_string());
			done.push_back({c, was == before.end() ? std::nullopt
							       : std::optional(was->second)});
			if (was != before.end() || !routes_)
				continue;
			try {
				routes_(c, true);
			} catch (...) {
				routes_(c, false);
				throw;
			}
			done.back().routed = true;
		}
		for (const auto &[c, peer_id] : before) {
			if (after.count(c))
				continue;
			if (!erase(c))
				throw std::system_error(errno, std::generic_category(),
							"deleting allowed IP " + c.to_string());
			done.push_back({c, peer_id});
			unrouted.push_back(c);
		}
	} catch (...) {
		for (auto d = done.rbegin(); d != done.rend(); ++d) {
			if (d->routed)
				routes_(d->prefix, false);
			if (d->owner ? !write(d->prefix, *d->owner) : !erase(d->prefix))
				std::fprintf(stderr, "xwg: putting allowed IP %s back failed: %s\n",
					     d->prefix.to_string().c_str(), std::strerror(errno));
		}
		throw;
	}
	// Nothing can fail any more: the routes of the prefixes that lead nowhere go last.
	if (routes_)
		for (const Cidr &c : unrouted)
			routes_(c, false);
}

} // namespace xwg
