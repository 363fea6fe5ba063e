// control/device_config.cpp — the few behaviours of the configuration values.
#include "loader/control/device_config.h"

#include "xwg/protocol.h"

#include <algorithm>

namespace xwg
{

std::string RouteTable::to_string() const
{
	switch (kind) {
	case Kind::automatic:
		return "auto";
	case Kind::off:
		return "off";
	case Kind::number:
		return std::to_string(id);
	}
	return "auto";
}

const char *to_string(ReceivePath p)
{
	switch (p) {
	case ReceivePath::automatic:
		return "auto";
	case ReceivePath::xdp:
		return "xdp";
	case ReceivePath::tc:
		return "tc";
	}
	return "auto";
}

std::optional<std::string> mtu_problem(const DeviceConfig &config, unsigned mtu)
{
	if (mtu == AUTOMATIC_MTU)
		return std::nullopt;
	const std::string m = "MTU " + std::to_string(mtu);
	if (mtu < XWG_MIN_MTU || mtu > XWG_MAX_MTU)
		return m + " is outside what xwg carries (" + std::to_string(XWG_MIN_MTU) + "-" +
		       std::to_string(XWG_MAX_MTU) + ")";
	if (mtu >= XWG_MIN_MTU_IPV6)
		return std::nullopt;
	const std::string below = m + " is below IPv6's minimum of " +
				  std::to_string(XWG_MIN_MTU_IPV6) + ", but ";
	for (const Cidr &a : config.iface.addresses)
		if (a.addr.family == ip_family_v6)
			return below + "Address " + a.to_string() + " is IPv6";
	for (const PeerConfig &p : config.peers)
		for (const Cidr &c : p.allowed_ips)
			if (c.addr.family == ip_family_v6)
				return below + "allowed IP " + c.to_string() + " is IPv6";
	return std::nullopt;
}

bool PeerConfig::add_allowed_ip(const Cidr &prefix)
{
	Cidr canonical = prefix.masked();
	if (std::find(allowed_ips.begin(), allowed_ips.end(), canonical) != allowed_ips.end())
		return false;
	allowed_ips.push_back(canonical);
	return true;
}

PeerConfig *DeviceConfig::find_peer(const PublicKey &public_key)
{
	auto it = std::find_if(peers.begin(), peers.end(),
			       [&](const PeerConfig &p) { return p.public_key == public_key; });
	return it == peers.end() ? nullptr : &*it;
}

const PeerConfig *DeviceConfig::find_peer(const PublicKey &public_key) const
{
	return const_cast<DeviceConfig *>(this)->find_peer(public_key);
}

bool ConfigDelta::empty() const
{
	return !private_key && !listen_port && !fwmark && peers_removed.empty() &&
	       peers_added.empty() && peers_updated.empty();
}

PeerIndex::PeerIndex(const DeviceConfig &config)
{
	for (const PeerConfig &p : config.peers)
		by_key_.emplace(p.public_key, &p);
}

const PeerConfig *PeerIndex::find(const PublicKey &public_key) const
{
	auto it = by_key_.find(public_key);
	return it == by_key_.end() ? nullptr : it->second;
}

ConfigDelta config_diff(const DeviceConfig &before, const DeviceConfig &after,
			const std::set<PublicKey> &recreated)
{
	ConfigDelta d;
	d.private_key = before.iface.private_key != after.iface.private_key;
	d.listen_port = before.iface.listen_port != after.iface.listen_port;
	d.fwmark = before.iface.fwmark != after.iface.fwmark;
	const PeerIndex in_before(before), in_after(after);
	for (const PeerConfig &old : before.peers) {
		const PeerConfig *now = in_after.find(old.public_key);
		if (!now || recreated.count(old.public_key))
			d.peers_removed.push_back(old.public_key);
		else if (!(*now == old))
			d.peers_updated.push_back(old.public_key);
	}
	for (const PeerConfig &now : after.peers)
		if (!in_before.find(now.public_key) || recreated.count(now.public_key))
			d.peers_added.push_back(now.public_key);
	return d;
}

} // namespace xwg
