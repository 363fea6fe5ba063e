// control/config_json.cpp — DeviceConfig as JSON for `xwg show --json`.
#include "loader/control/config_json.h"

namespace xwg
{

static nlohmann::json cidrs(const std::vector<Cidr> &list)
{
	nlohmann::json out = nlohmann::json::array();
	for (const Cidr &c : list)
		out.push_back(c.to_string());
	return out;
}

nlohmann::json config_to_json(const DeviceConfig &config)
{
	const InterfaceConfig &i = config.iface;
	nlohmann::json j;
	j["public_key"] =
	    i.private_key
		? nlohmann::json(to_base64(public_key_of(*i.private_key)))
		: nlohmann::json(nullptr);
	j["listen_port"] = i.listen_port;
	j["fwmark"] = i.fwmark;
	j["addresses"] = cidrs(i.addresses);
	j["mtu"] = i.mtu;
	j["receive_path"] = to_string(i.receive_path);
	j["table"] = i.table.to_string();
	j["underlays"] = i.underlays;
	j["peers"] = nlohmann::json::array();
	for (const PeerConfig &p : config.peers) {
		nlohmann::json pj;
		pj["public_key"] = to_base64(p.public_key);
		pj["preshared_key"] =
		    p.preshared_key ? nlohmann::json("(hidden)") : nlohmann::json(nullptr);
		pj["endpoint"] =
		    p.endpoint ? nlohmann::json(p.endpoint->to_string()) : nlohmann::json(nullptr);
		pj["allowed_ips"] = cidrs(p.allowed_ips);
		pj["persistent_keepalive"] = p.persistent_keepalive;
		pj["flow_ports"] = p.flow_ports;
		j["peers"].push_back(std::move(pj));
	}
	return j;
}

} // namespace xwg
