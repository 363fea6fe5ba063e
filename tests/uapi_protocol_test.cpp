// uapi_protocol_test.cpp — the UAPI text protocol (loader/uapi_protocol.h): framing,
// the get answer, set parsing with each error code and message, and set semantics as
// wireguard-go implements them (replace_peers, remove, update_only, replace_allowed_ips,
// allowed IPs moving between peers), plus atomicity and round trips.
#include <catch2/catch.hpp>

#include "loader/control/config_file.h"
#include "loader/control/uapi_protocol.h"

#include <string>

#include "sample_keys.h"

using namespace xwg;

namespace
{

using namespace sample_keys;

const std::string CONFIG = std::string("[Interface]\nPrivateKey = ") + PRIV1 +
			   "\nListenPort = 51820\nFwMark = 7\nAddress = 192.0.2.1/24\n"
			   "[Peer]\nPublicKey = " +
			   PUB2 + "\nPresharedKey = " + PSK +
			   "\nAllowedIPs = 192.0.2.0/25, 2001:db8::/64\n"
			   "Endpoint = 203.0.113.5:51820\nPersistentKeepalive = 25\n"
			   "[Peer]\nPublicKey = " +
			   PUB3 + "\nAllowedIPs = 198.51.100.0/24\nEndpoint = [2001:db8::9]:4500\n";

DeviceConfig sample()
{
	return config_parse(CONFIG, "wg0.conf").config;
}

UapiApplied set(const DeviceConfig &cfg, const std::string &body)
{
	return uapi_apply_set(cfg, uapi_parse_set(body));
}

std::pair<int, std::string> error_of(const std::string &body)
{
	try {
		uapi_parse_set(body);
	} catch (const UapiError &e) {
		return {e.code(), e.what()};
	}
	return {0, ""};
}

std::vector<std::string> b64s(const std::vector<PublicKey> &keys)
{
	std::vector<std::string> out;
	for (const PublicKey &k : keys)
		out.push_back(to_base64(k));
	return out;
}

} // namespace

TEST_CASE("framing finds whole requests")
{
	using S = UapiFrame::Status;
	CHECK(uapi_frame("").status == S::incomplete);
	CHECK(uapi_frame("ge").status == S::incomplete);
	CHECK(uapi_frame("get=1\n").status == S::incomplete);
	UapiFrame g = uapi_frame("get=1\n\nset=1\n");
	CHECK(g.status == S::complete);
	CHECK(g.op == UapiOp::get);
	CHECK(g.consumed == 7);
	CHECK(uapi_frame("get=1\nx").status == S::invalid);
	CHECK(uapi_frame("hello\n").status == S::invalid);
	CHECK(uapi_frame("get=2\n\n").status == S::invalid);

	CHECK(uapi_frame("set=1\n").status == S::incomplete);
	CHECK(uapi_frame("set=1\nlisten_port=1\n").status == S::incomplete);
	UapiFrame e = uapi_frame("set=1\n\n");
	CHECK(e.status == S::complete);
	CHECK(e.op == UapiOp::set);
	CHECK(e.body.empty());
	CHECK(e.consumed == 7);
	std::string two = "set=1\nlisten_port=1\nfwmark=2\n\nget=1\n\n";
	UapiFrame s = uapi_frame(two);
	CHECK(s.status == S::complete);
	CHECK(s.body == "listen_port=1\nfwmark=2\n");
	CHECK(s.consumed == two.size() - 7);
	CHECK(uapi_frame(std::string_view(two).substr(s.consumed)).op == UapiOp::get);
}

TEST_CASE("get answers in the protocol's format")
{
	DeviceConfig cfg = sample();
	auto runtime = [](const PublicKey &k) {
		PeerRuntime rt;
		if (k == key(PUB2)) {
			rt.last_handshake_sec = 1700000000;
			rt.last_handshake_nsec = 123;
			rt.rx_bytes = 1000;
			rt.tx_bytes = 2000;
			rt.endpoint = endpoint_parse("198.18.0.1:9999");
		}
		return rt;
	};
	std::string expect = "private_key=" + hex(PRIV1) +
			     "\n"
			     "listen_port=51820\n"
			     "fwmark=7\n"
			     "public_key=" +
			     hex(PUB2) +
			     "\n"
			     "preshared_key=" +
			     hex(PSK) +
			     "\n"
			     "endpoint=198.18.0.1:9999\n"
			     "persistent_keepalive_interval=25\n"
			     "allowed_ip=192.0.2.0/25\n"
			     "allowed_ip=2001:db8::/64\n"
			     "last_handshake_time_sec=1700000000\n"
			     "last_handshake_time_nsec=123\n"
			     "rx_bytes=1000\n"
			     "tx_bytes=2000\n"
			     "protocol_version=1\n"
			     "public_key=" +
			     hex(PUB3) +
			     "\n"
			     "endpoint=[2001:db8::9]:4500\n"
			     "persistent_keepalive_interval=0\n"
			     "allowed_ip=198.51.100.0/24\n"
			     "last_handshake_time_sec=0\n"
			     "last_handshake_time_nsec=0\n"
			     "rx_bytes=0\n"
			     "tx_bytes=0\n"
			     "protocol_version=1\n"
			     "errno=0\n\n";
	CHECK(uapi_get_response(cfg, runtime) == expect);
	// Nothing configured: only the status.
	CHECK(uapi_get_response(DeviceConfig{}) == "errno=0\n\n");
	CHECK(uapi_errno_response(UAPI_ERROR_INVALID) == "errno=-22\n\n");
}

TEST_CASE("round trip: config file -> get text -> set on an empty model")
{
	DeviceConfig cfg = sample();
	std::string get = uapi_get_response(cfg);
	// A get answer is valid set input once the read-only keys are gone.
	std::string body;
	for (std::size_t pos = 0; pos < get.size();) {
		std::size_t nl = get.find('\n', pos);
		std::string line = get.substr(pos, nl - pos);
		pos = nl + 1;
		if (line.rfind("last_handshake", 0) == 0 || line.rfind("rx_bytes", 0) == 0 ||
		    line.rfind("tx_bytes", 0) == 0 || line.rfind("errno", 0) == 0)
			continue;
		body += line + "\n";
	}
	UapiApplied a = set(DeviceConfig{}, body);
	// The UAPI does not carry wg-quick's own settings.
	a.config.iface.addresses = cfg.iface.addresses;
	CHECK(a.config == cfg);
	CHECK(b64s(a.delta.peers_added) == std::vector<std::string>{PUB2, PUB3});
	CHECK(a.delta.private_key);
	CHECK(a.delta.listen_port);
	CHECK(a.delta.fwmark);
	CHECK(a.delta.peers_removed.empty());
	CHECK(a.delta.peers_updated.empty());
}

TEST_CASE("set: each malformed line gives wireguard-go's code")
{
	const std::string peer = "public_key=" + hex(PUB2) + "\n";
	struct Row {
		std::string body;
		int code;
		std::string message;
	};
	const Row rows[] = {
	    {"listen_port\n", UAPI_ERROR_PROTOCOL, "failed to parse line \"listen_port\""},
	    {"frob=1\n", UAPI_ERROR_INVALID, "invalid UAPI device key: frob"},
	    {"allowed_ip=10.0.0.0/8\n", UAPI_ERROR_INVALID, "invalid UAPI device key: allowed_ip"},
	    {"private_key=1234\n", UAPI_ERROR_INVALID,
	     "failed to set private_key: not 64 hex digits"},
	    {"listen_port=65536\n", UAPI_ERROR_INVALID, "failed to parse listen_port: \"65536\""},
	    {"listen_port=-1\n", UAPI_ERROR_INVALID, "failed to parse listen_port: \"-1\""},
	    {"listen_port=\n", UAPI_ERROR_INVALID, "failed to parse listen_port: \"\""},
	    {"fwmark=4294967296\n", UAPI_ERROR_INVALID, "failed to parse fwmark: \"4294967296\""},
	    {"replace_peers=false\n", UAPI_ERROR_INVALID,
	     "failed to set replace_peers, invalid value: false"},
	    {"public_key=zz\n", UAPI_ERROR_INVALID, "failed to set public_key: not 64 hex digits"},
	    {peer + "listen_port=1\n", UAPI_ERROR_INVALID, "invalid UAPI peer key: listen_port"},
	    {peer + "remove=1\n", UAPI_ERROR_INVALID, "failed to set remove, invalid value: 1"},
	    {peer + "xwg_flow_ports=65\n", UAPI_ERROR_INVALID,
	     "failed to parse xwg_flow_ports: \"65\""},
	    {peer + "update_only=yes\n", UAPI_ERROR_INVALID,
	     "failed to set update_only, invalid value: yes"},
	    {peer + "replace_allowed_ips=\n", UAPI_ERROR_INVALID,
	     "failed to set replace_allowed_ips, invalid value: "},
	    {peer + "preshared_key=" + std::string(66, '0') + "\n", UAPI_ERROR_INVALID,
	     "failed to set preshared_key: not 64 hex digits"},
	    {peer + "endpoint=203.0.113.5\n", UAPI_ERROR_INVALID,
	     "failed to set endpoint 203.0.113.5"},
	    {peer + "endpoint=example.com:1\n", UAPI_ERROR_INVALID,
	     "failed to set endpoint example.com:1"},
	    {peer + "endpoint=2001:db8::1:1\n", UAPI_ERROR_INVALID,
	     "failed to set endpoint 2001:db8::1:1"},
	    {peer + "persistent_keepalive_interval=65536\n", UAPI_ERROR_INVALID,
	     "failed to parse persistent_keepalive_interval: \"65536\""},
	    {peer + "allowed_ip=10.0.0.0\n", UAPI_ERROR_INVALID,
	     "failed to set allowed ip: 10.0.0.0"},
	    {peer + "allowed_ip=10.0.0.0/33\n", UAPI_ERROR_INVALID,
	     "failed to set allowed ip: 10.0.0.0/33"},
	    {peer + "protocol_version=2\n", UAPI_ERROR_INVALID, "invalid protocol version: 2"},
	    {peer + "Endpoint=203.0.113.5:1\n", UAPI_ERROR_INVALID,
	     "invalid UAPI peer key: Endpoint"},
	};
	for (const Row &row : rows) {
		INFO(row.body);
		CHECK(error_of(row.body) == std::pair{row.code, row.message});
	}
}

TEST_CASE("set: a request with one bad line changes nothing")
{
	const DeviceConfig before = sample();
	DeviceConfig live = before;
	std::string body = "listen_port=1\nreplace_peers=true\npublic_key=" + hex(PUB1) +
			   "\nallowed_ip=10.0.0.0/8\nallowed_ip=10.0.0.0/99\n";
	// The daemon's sequence: parse; only on success apply to a copy and swap.
	int code = 0;
	try {
		live = uapi_apply_set(live, uapi_parse_set(body)).config;
	} catch (const UapiError &e) {
		code = e.code();
	}
	CHECK(code == UAPI_ERROR_INVALID);
	CHECK(live == before);
	// Applying never touches its input.
	UapiApplied a = set(live, "replace_peers=true\n");
	CHECK(live == before);
	CHECK(a.config.peers.empty());
}

TEST_CASE("set: peers, allowed IPs and the delta follow wireguard-go")
{
	const DeviceConfig base = sample();
	const std::string p1 = "public_key=" + hex(PUB1) + "\n";
	const std::string p2 = "public_key=" + hex(PUB2) + "\n";
	const std::string p3 = "public_key=" + hex(PUB3) + "\n";
	const std::string p4 = "public_key=" + hex(PUB4) + "\n";

	SECTION("empty set changes nothing")
	{
		UapiApplied a = set(base, "");
		CHECK(a.config == base);
		CHECK(a.delta.empty());
	}
	SECTION("a new peer is added, an existing one updated")
	{
		UapiApplied a = set(base, p4 + "allowed_ip=10.0.0.1/8\n" + p2 +
					      "persistent_keepalive_interval=0\n");
		REQUIRE(a.config.peers.size() == 3);
		CHECK(a.config.peers[2].allowed_ips[0].to_string() == "10.0.0.0/8");
		CHECK(a.config.find_peer(key(PUB2))->persistent_keepalive == 0);
		CHECK(b64s(a.delta.peers_added) == std::vector<std::string>{PUB4});
		CHECK(b64s(a.delta.peers_updated) == std::vector<std::string>{PUB2});
		CHECK(a.delta.peers_removed.empty());
		CHECK_FALSE(a.delta.listen_port);
	}
	SECTION("xwg_flow_ports (xwg's FlowPorts) is set, kept by wg's keys, never in a get")
	{
		UapiApplied a = set(base, p2 + "xwg_flow_ports=4\n");
		CHECK(a.config.find_peer(key(PUB2))->flow_ports == 4);
		CHECK(b64s(a.delta.peers_updated) == std::vector<std::string>{PUB2});
		UapiApplied b = set(a.config, p2 + "persistent_keepalive_interval=5\n");
		CHECK(b.config.find_peer(key(PUB2))->flow_ports == 4);
		CHECK(uapi_get_response(b.config).find("flow") == std::string::npos);
	}
	SECTION("remove=true removes; for an unknown peer it does nothing")
	{
		UapiApplied a = set(base, p2 + "remove=true\n" + p4 + "remove=true\n");
		REQUIRE(a.config.peers.size() == 1);
		CHECK(a.config.peers[0].public_key == key(PUB3));
		CHECK(b64s(a.delta.peers_removed) == std::vector<std::string>{PUB2});
		CHECK(a.delta.peers_added.empty());
	}
	SECTION("update_only changes existing peers and creates none")
	{
		UapiApplied a = set(base, p4 + "update_only=true\nallowed_ip=10.0.0.0/8\n" + p3 +
					      "update_only=true\nendpoint=192.0.2.9:7\n");
		REQUIRE(a.config.peers.size() == 2);
		CHECK(a.config.find_peer(key(PUB3))->endpoint->to_string() == "192.0.2.9:7");
		CHECK(b64s(a.delta.peers_updated) == std::vector<std::string>{PUB3});
		CHECK(a.delta.peers_added.empty());
	}
	SECTION("replace_peers: re-added peers count as removed and added")
	{
		UapiApplied a = set(base, "replace_peers=true\n" + p3 +
					      "allowed_ip=198.51.100.0/24\n"
					      "endpoint=[2001:db8::9]:4500\n");
		REQUIRE(a.config.peers.size() == 1);
		CHECK(a.config.peers[0] == base.peers[1]); // same config, new sessions
		CHECK(b64s(a.delta.peers_removed) == std::vector<std::string>{PUB2, PUB3});
		CHECK(b64s(a.delta.peers_added) == std::vector<std::string>{PUB3});
	}
	SECTION("allowed_ip adds; replace_allowed_ips keeps only what follows it")
	{
		UapiApplied a = set(base, p2 + "allowed_ip=10.1.0.0/16\n");
		CHECK(a.config.find_peer(key(PUB2))->allowed_ips.size() == 3);
		a = set(base, p2 + "allowed_ip=10.1.0.0/16\nreplace_allowed_ips=true\n"
				   "allowed_ip=10.2.0.0/16\nallowed_ip=10.2.3.4/16\n");
		auto &ips = a.config.find_peer(key(PUB2))->allowed_ips;
		REQUIRE(ips.size() == 1);
		CHECK(ips[0].to_string() == "10.2.0.0/16");
		a = set(base, p2 + "replace_allowed_ips=true\n");
		CHECK(a.config.find_peer(key(PUB2))->allowed_ips.empty());
	}
	SECTION("an allowed IP moves from one peer to another")
	{
		UapiApplied a = set(base, p3 + "allowed_ip=192.0.2.1/25\n");
		CHECK(a.config.find_peer(key(PUB2))->allowed_ips.size() == 1);
		CHECK(a.config.find_peer(key(PUB3))->allowed_ips.size() == 2);
		CHECK(b64s(a.delta.peers_updated) == std::vector<std::string>{PUB2, PUB3});
	}
	SECTION("zero keys clear the private and preshared keys")
	{
		std::string zero(64, '0');
		UapiApplied a =
		    set(base, "private_key=" + zero + "\n" + p2 + "preshared_key=" + zero + "\n");
		CHECK_FALSE(a.config.iface.private_key);
		CHECK_FALSE(a.config.find_peer(key(PUB2))->preshared_key);
		CHECK(a.delta.private_key);
		CHECK(uapi_get_response(a.config).find("preshared_key") == std::string::npos);
	}
	SECTION("a peer with our own public key is ignored, and dropped by a new private key")
	{
		UapiApplied a = set(base, p1 + "allowed_ip=10.0.0.0/8\n");
		CHECK(a.config.peers.size() == 2); // PUB1 is PRIV1's public key
		CHECK(a.delta.empty());
		DeviceConfig keyless = base;
		keyless.iface.private_key.reset();
		a = set(keyless, p1);
		REQUIRE(a.config.peers.size() == 3);
		a = set(a.config, "private_key=" + hex(PRIV1) + "\n");
		CHECK(a.config.peers.size() == 2);
		CHECK(b64s(a.delta.peers_removed) == std::vector<std::string>{PUB1});
	}
	SECTION("device fields")
	{
		UapiApplied a = set(base, "listen_port=0\nfwmark=0\n");
		CHECK(a.config.iface.listen_port == 0);
		CHECK(a.config.iface.fwmark == 0);
		CHECK(a.delta.listen_port);
		CHECK(a.delta.fwmark);
		CHECK_FALSE(a.delta.private_key);
	}
	SECTION("the body stops at the first empty line")
	{
		UapiApplied a = set(base, "listen_port=1\n\nlisten_port=2\n");
		CHECK(a.config.iface.listen_port == 1);
	}
}
