// control/uapi_protocol.cpp — the get/set text of WireGuard's configuration protocol. Parsing is
// strict the way wireguard-go is: exact lowercase keys, no spaces, decimal numbers
// without sign, hex keys of exactly 64 digits, numeric endpoints.
#include "loader/control/uapi_protocol.h"

#include "xwg/maps.h"

#include <algorithm>
#include <set>

namespace xwg
{
namespace
{

constexpr std::string_view GET_REQUEST = "get=1\n\n";
constexpr std::string_view SET_LINE = "set=1\n";

bool starts_with(std::string_view s, std::string_view prefix)
{
	return s.substr(0, prefix.size()) == prefix;
}

[[noreturn]] void invalid(const std::string &message)
{
	throw UapiError(UAPI_ERROR_INVALID, message);
}

template <Key K> K hex_key(std::string_view value, const char *what)
{
	K key;
	if (from_hex(value, key) != KeyParseError::ok)
		invalid(std::string("failed to set ") + what + ": not 64 hex digits");
	return key;
}

std::uint64_t number(std::string_view value, std::uint64_t max, const char *what)
{
	auto n = parse_decimal(value, max);
	if (!n)
		invalid(std::string("failed to parse ") + what + ": \"" + std::string(value) +
			"\"");
	return *n;
}

void expect_true(std::string_view value, const char *what)
{
	if (value != "true")
		invalid(std::string("failed to set ") + what +
			", invalid value: " + std::string(value));
}

void handle_device_line(UapiSetRequest &req, std::string_view key, std::string_view value)
{
	if (key == "private_key")
		req.private_key = hex_key<PrivateKey>(value, "private_key");
	else if (key == "listen_port")
		req.listen_port = static_cast<std::uint16_t>(number(value, 0xffff, "listen_port"));
	else if (key == "fwmark")
		req.fwmark = static_cast<std::uint32_t>(number(value, 0xffffffffu, "fwmark"));
	else if (key == "replace_peers")
		req.replace_peers = (expect_true(value, "replace_peers"), true);
	else
		invalid("invalid UAPI device key: " + std::string(key));
}

void handle_peer_line(UapiPeerChange &peer, std::string_view key, std::string_view value)
{
	if (key == "update_only") {
		expect_true(value, "update_only");
		peer.update_only = true;
	} else if (key == "remove") {
		expect_true(value, "remove");
		peer.remove = true;
	} else if (key == "preshared_key") {
		peer.preshared_key = hex_key<PresharedKey>(value, "preshared_key");
	} else if (key == "endpoint") {
		auto ep = endpoint_parse(value);
		if (!ep)
			invalid("failed to set endpoint " + std::string(value));
		peer.endpoint = ep;
	} else if (key == "persistent_keepalive_interval") {
		peer.persistent_keepalive = static_cast<std::uint16_t>(
		    number(value, 0xffff, "persistent_keepalive_interval"));
	} else if (key == "xwg_flow_ports") {
		// xwg's own key (FlowPorts), sent by `xwg syncconf`; `wg` never sends it.
		peer.flow_ports = static_cast<std::uint16_t>(
		    number(value, XWG_MAX_FLOW_PORTS, "xwg_flow_ports"));
	} else if (key == "replace_allowed_ips") {
		expect_true(value, "replace_allowed_ips");
		// Only what follows survives, as with wireguard-go's immediate RemoveByPeer.
		peer.replace_allowed_ips = true;
		peer.allowed_ips.clear();
	} else if (key == "allowed_ip") {
		auto c = cidr_parse(value);
		if (!c || value.find('/') == std::string_view::npos)
			invalid("failed to set allowed ip: " + std::string(value));
		Cidr canonical = c->masked();
		if (std::find(peer.allowed_ips.begin(), peer.allowed_ips.end(), canonical) ==
		    peer.allowed_ips.end())
			peer.allowed_ips.push_back(canonical);
	} else if (key == "protocol_version") {
		if (value != "1")
			invalid("invalid protocol version: " + std::string(value));
	} else {
		invalid("invalid UAPI peer key: " + std::string(key));
	}
}

} // namespace

UapiFrame uapi_frame(std::string_view buffer)
{
	UapiFrame f;
	if (starts_with(buffer, SET_LINE)) {
		// The body ends at the first empty line; "set=1\n\n" is an empty set.
		std::size_t end = buffer.find("\n\n", SET_LINE.size() - 1);
		if (end == std::string_view::npos)
			return f;
		f.status = UapiFrame::Status::complete;
		f.op = UapiOp::set;
		f.body = buffer.substr(SET_LINE.size(), end + 1 - SET_LINE.size());
		f.consumed = end + 2;
		return f;
	}
	if (starts_with(buffer, GET_REQUEST)) {
		f.status = UapiFrame::Status::complete;
		f.op = UapiOp::get;
		f.consumed = GET_REQUEST.size();
		return f;
	}
	if (starts_with(GET_REQUEST, buffer) || starts_with(SET_LINE, buffer))
		return f;
	f.status = UapiFrame::Status::invalid;
	return f;
}

std::string uapi_get_response(const DeviceConfig &config, const PeerRuntimeLookup &runtime)
{
	std::string out;
	auto line = [&out](std::string_view key, const std::string &value) {
		out.append(key).append("=").append(value).append("\n");
	};
	const InterfaceConfig &ifc = config.iface;
	if (ifc.private_key && !ifc.private_key->is_zero())
		line("private_key", to_hex(*ifc.private_key));
	if (ifc.listen_port)
		line("listen_port", std::to_string(ifc.listen_port));
	if (ifc.fwmark)
		line("fwmark", std::to_string(ifc.fwmark));
	for (const PeerConfig &p : config.peers) {
		PeerRuntime rt = runtime ? runtime(p.public_key) : PeerRuntime{};
		line("public_key", to_hex(p.public_key));
		if (p.preshared_key)
			line("preshared_key", to_hex(*p.preshared_key));
		if (rt.endpoint)
			line("endpoint", rt.endpoint->to_string());
		else if (p.endpoint)
			line("endpoint", p.endpoint->to_string());
		line("persistent_keepalive_interval", std::to_string(p.persistent_keepalive));
		for (const Cidr &c : p.allowed_ips)
			line("allowed_ip", c.to_string());
		line("last_handshake_time_sec", std::to_string(rt.last_handshake_sec));
		line("last_handshake_time_nsec", std::to_string(rt.last_handshake_nsec));
		line("rx_bytes", std::to_string(rt.rx_bytes));
		line("tx_bytes", std::to_string(rt.tx_bytes));
		line("protocol_version", "1");
	}
	return out + uapi_errno_response(0);
}

std::string uapi_errno_response(int code)
{
	return "errno=" + std::to_string(code) + "\n\n";
}

UapiSetRequest uapi_parse_set(std::string_view body)
{
	UapiSetRequest req;
	UapiPeerChange *peer = nullptr;
	while (!body.empty()) {
		std::size_t nl = body.find('\n');
		std::string_view line = body.substr(0, nl);
		body = nl == std::string_view::npos ? std::string_view{} : body.substr(nl + 1);
		if (line.empty())
			break;
		std::size_t eq = line.find('=');
		if (eq == std::string_view::npos)
			throw UapiError(UAPI_ERROR_PROTOCOL,
					"failed to parse line \"" + std::string(line) + "\"");
		std::string_view key = line.substr(0, eq), value = line.substr(eq + 1);
		if (key == "public_key") {
			peer = &req.peers.emplace_back();
			peer->public_key = hex_key<PublicKey>(value, "public_key");
		} else if (peer) {
			handle_peer_line(*peer, key, value);
		} else {
			handle_device_line(req, key, value);
		}
	}
	return req;
}

// Linear in the peers and prefixes involved (a `set` may carry 65,536 peers): peers are
// found through an index, a prefix's owner through a map, and removed peers leave a hole
// until the end.
UapiApplied uapi_apply_set(const DeviceConfig &current, const UapiSetRequest &req)
{
	DeviceConfig next = current;
	std::set<PublicKey> recreated; // existed before, removed, then added again
	const PeerIndex before(current);
	std::map<PublicKey, std::size_t> at; // live peers of `next` by key
	std::vector<bool> gone(next.peers.size(), false);
	for (std::size_t i = 0; i < next.peers.size(); ++i)
		at[next.peers[i].public_key] = i;
	auto drop = [&](std::size_t i) {
		if (before.find(next.peers[i].public_key))
			recreated.insert(next.peers[i].public_key);
		at.erase(next.peers[i].public_key);
		gone[i] = true;
	};

	if (req.private_key)
		next.iface.private_key = req.private_key->is_zero()
					     ? std::nullopt
					     : std::optional<PrivateKey>(*req.private_key);
	if (req.listen_port)
		next.iface.listen_port = *req.listen_port;
	if (req.fwmark)
		next.iface.fwmark = *req.fwmark;

	std::optional<PublicKey> own;
	if (next.iface.private_key)
		own = public_key_of(*next.iface.private_key);
	if (own && req.private_key) // wireguard-go drops a peer that is now ourselves
		if (auto it = at.find(*own); it != at.end())
			drop(it->second);
	if (req.replace_peers)
		for (std::size_t i = 0; i < next.peers.size(); ++i)
			if (!gone[i])
				drop(i);

	// Which peer holds each prefix, built once when the request moves prefixes.
	std::map<Cidr, std::size_t> owner;
	for (std::size_t i = 0; i < next.peers.size(); ++i)
		if (!gone[i])
			for (const Cidr &ip : next.peers[i].allowed_ips)
				owner[ip] = i;

	for (const UapiPeerChange &c : req.peers) {
		if (own && c.public_key == *own)
			continue;
		auto found = at.find(c.public_key);
		std::size_t i;
		if (found == at.end()) {
			if (c.update_only || c.remove)
				continue;
			i = next.peers.size();
			next.peers.emplace_back().public_key = c.public_key;
			gone.push_back(false);
			at[c.public_key] = i;
		} else {
			i = found->second;
		}
		if (c.remove) {
			drop(i);
			continue;
		}
		PeerConfig &p = next.peers[i];
		if (c.preshared_key)
			p.preshared_key = c.preshared_key->is_zero()
					       ? std::nullopt
					       : std::optional<PresharedKey>(*c.preshared_key);
		if (c.endpoint)
			p.endpoint = c.endpoint;
		if (c.persistent_keepalive)
			p.persistent_keepalive = *c.persistent_keepalive;
		if (c.flow_ports)
			p.flow_ports = *c.flow_ports;
		if (c.replace_allowed_ips) {
			for (const Cidr &ip : p.allowed_ips)
				if (auto o = owner.find(ip); o != owner.end() && o->second == i)
					owner.erase(o);
			p.allowed_ips.clear();
		}
		for (const Cidr &ip : c.allowed_ips) {
			// A prefix belongs to one peer: inserting it takes it from the other.
			const Cidr canonical = ip.masked();
			auto [o, fresh] = owner.try_emplace(canonical, i);
			if (!fresh && o->second != i) {
				if (!gone[o->second])
					std::erase(next.peers[o->second].allowed_ips, canonical);
				o->second = i;
			}
			p.add_allowed_ip(canonical);
		}
	}

	// Removed peers leave; a key only counts as recreated if it is there at the end.
	std::vector<PeerConfig> kept;
	kept.reserve(next.peers.size());
	for (std::size_t i = 0; i < next.peers.size(); ++i)
		if (!gone[i])
			kept.push_back(std::move(next.peers[i]));
	next.peers = std::move(kept);
	std::erase_if(recreated, [&](const PublicKey &k) { return !at.count(k); });
	ConfigDelta delta = config_diff(current, next, recreated);
	return UapiApplied{std::move(next), std::move(delta)};
}

} // namespace xwg
