// control/uapi_sync.cpp — see uapi_sync.h.
#include "loader/control/uapi_sync.h"

#include <set>
#include <stdexcept>

namespace xwg {

std::vector<PublicKey> uapi_peer_keys(std::string_view get_response)
{
	std::vector<PublicKey> keys;
	bool status_seen = false;
	while (!get_response.empty()) {
		const std::size_t nl = get_response.find('\n');
		const std::string_view line = get_response.substr(0, nl);
		get_response = nl == std::string_view::npos ? std::string_view{}
							    : get_response.substr(nl + 1);
		const std::size_t eq = line.find('=');
		if (eq == std::string_view::npos)
			continue;
		const std::string_view key = line.substr(0, eq), value = line.substr(eq + 1);
		if (key == "public_key") {
			PublicKey k;
			if (from_hex(value, k) != KeyParseError::ok)
				throw std::runtime_error("the daemon sent a malformed public key");
			keys.push_back(k);
		} else if (key == "errno") {
			if (value != "0")
				throw std::runtime_error("the daemon answered errno=" +
							 std::string(value));
			status_seen = true;
		}
	}
	if (!status_seen)
		throw std::runtime_error("the daemon's answer ended early (no errno line)");
	return keys;
}

std::string uapi_sync_request(const DeviceConfig &file, const std::vector<PublicKey> &running)
{
	std::string out = "set=1\n";
	auto line = [&out](std::string_view key, const std::string &value) {
		out.append(key).append("=").append(value).append("\n");
	};
	if (file.iface.private_key)
		line("private_key", to_hex(*file.iface.private_key));
	if (file.iface.listen_port)
		line("listen_port", std::to_string(file.iface.listen_port));
	line("fwmark", std::to_string(file.iface.fwmark));

	std::set<PublicKey> wanted;
	for (const PeerConfig &p : file.peers)
		wanted.insert(p.public_key);
	for (const PublicKey &k : running)
		if (!wanted.count(k)) {
			line("public_key", to_hex(k));
			line("remove", "true");
		}
	for (const PeerConfig &p : file.peers) {
		line("public_key", to_hex(p.public_key));
		line("preshared_key",
		     p.preshared_key ? to_hex(*p.preshared_key) : std::string(KEY_HEX_LEN, '0'));
		if (p.endpoint)
			line("endpoint", p.endpoint->to_string());
		line("persistent_keepalive_interval", std::to_string(p.persistent_keepalive));
		line("xwg_flow_ports", std::to_string(p.flow_ports));
		line("replace_allowed_ips", "true");
		for (const Cidr &c : p.allowed_ips)
			line("allowed_ip", c.to_string());
	}
	return out + "\n";
}

} // namespace xwg
