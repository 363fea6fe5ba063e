// control/running_state.cpp — see running_state.h. JSON through nlohmann::json; keys in
// base64, prefixes and endpoints in their usual text forms.
#include "loader/control/running_state.h"

#include <nlohmann/json.hpp>

#include <stdexcept>

namespace xwg {

namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string &what)
{
	throw std::runtime_error("running state: " + what);
}

template <Key K> K key_from(const json &j, const char *what)
{
	K key{};
	if (!j.is_string() || from_base64(j.get<std::string>(), key) != KeyParseError::ok)
		bad(std::string("bad ") + what);
	return key;
}

Cidr cidr_from(const json &j)
{
	auto c = j.is_string() ? cidr_parse(j.get<std::string>()) : std::nullopt;
	if (!c)
		bad("bad prefix " + j.dump());
	return *c;
}

RouteTable table_from(const std::string &s)
{
	RouteTable t;
	if (s == "auto")
		return t;
	if (s == "off") {
		t.kind = RouteTable::Kind::off;
		return t;
	}
	try {
		t.kind = RouteTable::Kind::number;
		t.id = static_cast<std::uint32_t>(std::stoul(s));
	} catch (const std::exception &) {
		bad("bad table " + s);
	}
	return t;
}

ReceivePath receive_path_from(const std::string &s)
{
	for (ReceivePath p : {ReceivePath::automatic, ReceivePath::xdp, ReceivePath::tc})
		if (s == to_string(p))
			return p;
	bad("bad receive path " + s);
}

} // namespace

// Written by hand rather than through nlohmann::json: it is rewritten after every change,
// and with 65,536 peers building the json objects took ~300 ms against ~30 ms. Nothing in
// it needs escaping: keys are base64, prefixes and endpoints numeric, device names
// checked against wg-quick's character set.
std::string running_state_to_json(const RunningState &state)
{
	const InterfaceConfig &i = state.config.iface;
	std::string out;
	out.reserve(256 + state.config.peers.size() * 200);
	auto str = [&](const std::string &v) {
		out += '"';
		out += v;
		out += '"';
	};
	auto list = [&](const auto &items, auto &&text) {
		out += '[';
		bool first = true;
		for (const auto &item : items) {
			if (!first)
				out += ',';
			first = false;
			str(text(item));
		}
		out += ']';
	};
	auto cidr_text = [](const Cidr &c) { return c.to_string(); };
	out += "{\"interface\":{\"listen_port\":" + std::to_string(i.listen_port) +
	       ",\"fwmark\":" + std::to_string(i.fwmark) + ",\"mtu\":" + std::to_string(i.mtu) +
	       ",\"table\":";
	str(i.table.to_string());
	out += ",\"underlays\":";
	list(i.underlays, [](const std::string &u) { return u; });
	out += ",\"receive_path\":";
	str(to_string(i.receive_path));
	out += ",\"addresses\":";
	list(i.addresses, cidr_text);
	if (i.private_key) {
		out += ",\"private_key\":";
		str(to_base64(*i.private_key));
	}
	out += "},\"peers\":[";
	bool first = true;
	for (const PeerConfig &p : state.config.peers) {
		out += first ? "{" : ",{";
		first = false;
		out += "\"public_key\":";
		str(to_base64(p.public_key));
		out += ",\"persistent_keepalive\":" + std::to_string(p.persistent_keepalive);
		if (p.flow_ports)
			out += ",\"flow_ports\":" + std::to_string(p.flow_ports);
		if (const auto id = state.peer_ids.find(p.public_key); id != state.peer_ids.end())
			out += ",\"id\":" + std::to_string(id->second);
		if (p.preshared_key) {
			out += ",\"preshared_key\":";
			str(to_base64(*p.preshared_key));
		}
		if (p.endpoint) {
			out += ",\"endpoint\":";
			str(p.endpoint->to_string());
		}
		out += ",\"allowed_ips\":";
		list(p.allowed_ips, cidr_text);
		out += '}';
	}
	out += "]}\n";
	return out;
}

RunningState running_state_from_json(std::string_view text)
{
	const json doc = json::parse(text, nullptr, false);
	if (doc.is_discarded() || !doc.is_object() || !doc.contains("interface") ||
	    !doc.contains("peers"))
		bad("not a running state document");
	RunningState s;
	try {
		const json &i = doc.at("interface");
		InterfaceConfig &iface = s.config.iface;
		if (i.contains("private_key"))
			iface.private_key = key_from<PrivateKey>(i["private_key"], "private key");
		iface.listen_port = i.at("listen_port").get<std::uint16_t>();
		iface.fwmark = i.at("fwmark").get<std::uint32_t>();
		iface.mtu = i.at("mtu").get<unsigned>();
		iface.table = table_from(i.at("table").get<std::string>());
		iface.underlays = i.at("underlays").get<std::vector<std::string>>();
		iface.receive_path = receive_path_from(i.at("receive_path").get<std::string>());
		for (const json &a : i.at("addresses"))
			iface.addresses.push_back(cidr_from(a));
		for (const json &p : doc.at("peers")) {
			PeerConfig pc;
			pc.public_key = key_from<PublicKey>(p.at("public_key"), "public key");
			if (p.contains("preshared_key"))
				pc.preshared_key = key_from<PresharedKey>(p["preshared_key"], "preshared key");
			if (p.contains("endpoint")) {
				auto ep = endpoint_parse(p["endpoint"].get<std::string>());
				if (!ep)
					bad("bad endpoint " + p["endpoint"].dump());
				pc.endpoint = *ep;
			}
			for (const json &a : p.at("allowed_ips"))
				pc.allowed_ips.push_back(cidr_from(a));
			pc.persistent_keepalive = p.at("persistent_keepalive").get<std::uint16_t>();
			pc.flow_ports = p.value("flow_ports", std::uint16_t{0});
			if (!p.contains("id"))
				bad("peer " + to_base64(pc.public_key) + " has no id");
			s.peer_ids[pc.public_key] = p["id"].get<std::uint32_t>();
			s.config.peers.push_back(std::move(pc));
		}
	} catch (const json::exception &e) {
		bad(e.what());
	}
	return s;
}

} // namespace xwg
