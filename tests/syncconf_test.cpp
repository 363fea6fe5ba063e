// syncconf_test.cpp — `xwg strip` (config_strip.h) and the request behind `xwg syncconf`
// (uapi_sync.h): what strip keeps and removes, the exact request text, and, through the
// daemon's own UAPI model (uapi_parse_set + uapi_apply_set), that the request turns the
// running configuration into the file's while an unchanged peer is not touched.
#include <catch2/catch.hpp>

#include "loader/control/config_file.h"
#include "loader/control/config_strip.h"
#include "loader/control/uapi_protocol.h"
#include "loader/control/uapi_sync.h"

#include <algorithm>
#include <string>

#include "sample_keys.h"

using namespace xwg;
using namespace xwg::sample_keys;

namespace {

// A server's file with everything wg-quick and xwg add around what `wg` reads.
std::string full_file()
{
	return std::string("# a server\n"
			   "[Interface]\n"
			   "PrivateKey = ") +
	       PRIV1 +
	       "\n"
	       "Address = 198.51.100.1/24, fd00:77::1/64   # both families\n"
	       "address = 203.0.113.1/24\n"
	       "ListenPort = 51820\n"
	       "FwMark = 0x42\n"
	       "MTU = 1420\n"
	       "Table = off\n"
	       "DNS = 192.0.2.53\n"
	       "PreUp = echo pre-up\n"
	       "PostUp = iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE\n"
	       "PreDown = echo pre-down\n"
	       "PostDown = iptables -t nat -D POSTROUTING -o eth0 -j MASQUERADE\n"
	       "SaveConfig = false\n"
	       "Underlay = eth0\n"
	       "ReceivePath = auto\n"
	       "\n"
	       "[Peer]\n"
	       "PublicKey = " +
	       PUB2 +
	       "\n"
	       "AllowedIPs = 198.51.100.2/32\n"
	       "Endpoint = 192.0.2.2:51820\n"
	       "FlowPorts = 4\n";
}

// Peer sections for the sync tests.
std::string peer(const char *pub, const std::string &allowed, const std::string &extra = "")
{
	return std::string("\n[Peer]\nPublicKey = ") + pub + "\nAllowedIPs = " + allowed + "\n" +
	       extra;
}

DeviceConfig parse(const std::string &text)
{
	return config_parse(text, "wg0.conf").config;
}

// What the daemon holds after applying @request to @running (its UAPI model).
UapiApplied applied_by(const DeviceConfig &running, const std::string &request)
{
	REQUIRE(request.starts_with("set=1\n"));
	REQUIRE(request.ends_with("\n\n"));
	return uapi_apply_set(running, uapi_parse_set(request.substr(6)));
}

bool contains(const std::vector<PublicKey> &keys, const char *pub)
{
	return std::find(keys.begin(), keys.end(), key(pub)) != keys.end();
}

} // namespace

TEST_CASE("strip keeps what wg reads, comments and layout included")
{
	const std::string stripped = config_strip(full_file(), "wg0.conf");
	CHECK(stripped == std::string("# a server\n"
				      "[Interface]\n"
				      "PrivateKey = ") +
				  PRIV1 +
				  "\n"
				  "ListenPort = 51820\n"
				  "FwMark = 0x42\n"
				  "\n"
				  "[Peer]\n"
				  "PublicKey = " +
				  PUB2 +
				  "\n"
				  "AllowedIPs = 198.51.100.2/32\n"
				  "Endpoint = 192.0.2.2:51820\n");
	// What is left is the same device for `wg`: keys, port, mark, peers (without
	// xwg's FlowPorts, which `wg` refuses).
	const DeviceConfig before = parse(full_file()), after = parse(stripped);
	CHECK(after.iface.private_key == before.iface.private_key);
	CHECK(after.iface.listen_port == 51820);
	CHECK(after.iface.fwmark == 0x42);
	REQUIRE(before.peers.size() == 1);
	CHECK(before.peers[0].flow_ports == 4);
	PeerConfig wg_view = before.peers[0];
	wg_view.flow_ports = 0;
	CHECK(after.peers == std::vector<PeerConfig>{wg_view});
	CHECK(after.iface.addresses.empty());
	CHECK(after.iface.underlays.empty());
}

TEST_CASE("strip: keys in any case, a missing final newline, [Peer] untouched")
{
	const std::string text =
		std::string("[interface]\n  privatekey=") + PRIV1 +
		"\n\tMTU=1280\nADDRESS = 198.51.100.1/32\n[PEER]\npublickey = " + PUB2 +
		"\nallowedips = 198.51.100.2/32";
	CHECK(config_strip(text, "wg0.conf") == std::string("[interface]\n  privatekey=") + PRIV1 +
							"\n[PEER]\npublickey = " + PUB2 +
							"\nallowedips = 198.51.100.2/32\n");
	CHECK(xwg_peer_key("flowports"));
	CHECK_FALSE(xwg_peer_key("PersistentKeepalive"));
	CHECK(wg_interface_key("fwmark"));
	CHECK(wg_interface_key("LISTENPORT"));
	CHECK_FALSE(wg_interface_key("Address"));
	CHECK_FALSE(wg_interface_key("PrivateKeyX"));
}

TEST_CASE("strip refuses what xwg up refuses, with the line")
{
	CHECK_THROWS_WITH(config_strip("[Interface]\nPrivateKey = nope\n", "wg0.conf"),
			  Catch::Contains("wg0.conf:2") && Catch::Contains("PrivateKey"));
	CHECK_THROWS_WITH(config_strip(std::string("[Interface]\nPrivateKey = ") + PRIV1 +
					       "\nAdress = 198.51.100.1/24\n",
				       "wg0.conf"),
			  Catch::Contains("wg0.conf:3") && Catch::Contains("unknown key"));
	CHECK_THROWS_AS(config_strip("", "wg0.conf"), ConfigError);
}

TEST_CASE("the peers of a get answer; errors are refused")
{
	const std::string get = "private_key=" + hex(PRIV1) +
				"\nlisten_port=51820\npublic_key=" + hex(PUB2) +
				"\nendpoint=192.0.2.2:51820\nallowed_ip=198.51.100.2/32\n" +
				"public_key=" + hex(PUB3) + "\nprotocol_version=1\nerrno=0\n\n";
	const auto keys = uapi_peer_keys(get);
	REQUIRE(keys.size() == 2);
	CHECK(keys[0] == key(PUB2));
	CHECK(keys[1] == key(PUB3));
	CHECK(uapi_peer_keys("errno=0\n\n").empty());
	CHECK_THROWS_WITH(uapi_peer_keys("errno=-22\n\n"), Catch::Contains("errno=-22"));
	CHECK_THROWS_WITH(uapi_peer_keys("public_key=" + hex(PUB2) + "\n"),
			  Catch::Contains("ended early"));
	CHECK_THROWS_WITH(uapi_peer_keys("public_key=zz\nerrno=0\n\n"),
			  Catch::Contains("malformed"));
}

TEST_CASE("the sync request, line by line")
{
	const DeviceConfig file =
		parse(std::string("[Interface]\nPrivateKey = ") + PRIV1 + "\nListenPort = 51820\n" +
		      peer(PUB2, "198.51.100.2/32, fd00:77::2/128",
			   std::string("Endpoint = 192.0.2.2:51820\nPersistentKeepalive = 25\n") +
				   "PresharedKey = " + PSK + "\nFlowPorts = 4\n") +
		      peer(PUB3, "198.51.100.3/32"));
	const std::string request = uapi_sync_request(file, {key(PUB4), key(PUB2)});
	// clang-format off
	CHECK(request == "set=1\n"
			 "private_key=" + hex(PRIV1) + "\n"
			 "listen_port=51820\n"
			 "fwmark=0\n"
			 "public_key=" + hex(PUB4) + "\n"
			 "remove=true\n"
			 "public_key=" + hex(PUB2) + "\n"
			 "preshared_key=" + to_hex(key<PresharedKey>(PSK)) + "\n"
			 "endpoint=192.0.2.2:51820\n"
			 "persistent_keepalive_interval=25\n"
			 "xwg_flow_ports=4\n"
			 "replace_allowed_ips=true\n"
			 "allowed_ip=198.51.100.2/32\n"
			 "allowed_ip=fd00:77::2/128\n"
			 "public_key=" + hex(PUB3) + "\n"
			 "preshared_key=" + std::string(64, '0') + "\n"
			 "persistent_keepalive_interval=0\n"
			 "xwg_flow_ports=0\n"
			 "replace_allowed_ips=true\n"
			 "allowed_ip=198.51.100.3/32\n"
			 "\n");
	// clang-format on

	// No private key and no ListenPort: the running ones stay.
	CHECK(uapi_sync_request(DeviceConfig{}, {}) == "set=1\nfwmark=0\n\n");
}

TEST_CASE("sync: removed, added, changed and unchanged peers, through the daemon's model")
{
	const std::string head = std::string("[Interface]\nPrivateKey = ") + PRIV1 +
				 "\nListenPort = 51820\nFwMark = 7\n";
	const DeviceConfig running =
		parse(head + peer(PUB2, "198.51.100.2/32", "Endpoint = 192.0.2.2:51820\n") +
		      peer(PUB3, "198.51.100.3/32") + peer(PUB4, "198.51.100.4/32"));
	// PUB2 as it was, PUB3 gone, PUB4 with another prefix (taken from PUB3), a new PUB1
	// (the interface's own key: ignored, as by wireguard-go) and no fwmark any more.
	const DeviceConfig file =
		parse(std::string("[Interface]\nPrivateKey = ") + PRIV1 + "\nListenPort = 51820\n" +
		      peer(PUB4, "198.51.100.3/32") +
		      peer(PUB2, "198.51.100.2/32", "Endpoint = 192.0.2.2:51820\n"));

	std::vector<PublicKey> keys;
	for (const PeerConfig &p : running.peers)
		keys.push_back(p.public_key);
	const UapiApplied applied = applied_by(running, uapi_sync_request(file, keys));

	CHECK(applied.delta.peers_removed == std::vector<PublicKey>{key(PUB3)});
	CHECK(applied.delta.peers_added.empty());
	CHECK(applied.delta.peers_updated == std::vector<PublicKey>{key(PUB4)});
	CHECK_FALSE(contains(applied.delta.peers_updated, PUB2)); // keeps its sessions
	CHECK(applied.delta.fwmark);
	CHECK_FALSE(applied.delta.listen_port);
	CHECK_FALSE(applied.delta.private_key);
	REQUIRE(applied.config.peers.size() == 2);
	CHECK(*applied.config.find_peer(key(PUB2)) == *file.find_peer(key(PUB2)));
	CHECK(*applied.config.find_peer(key(PUB4)) == *file.find_peer(key(PUB4)));
	CHECK(applied.config.iface.fwmark == 0);

	// Applying the same file again changes nothing at all.
	std::vector<PublicKey> now;
	for (const PeerConfig &p : applied.config.peers)
		now.push_back(p.public_key);
	CHECK(applied_by(applied.config, uapi_sync_request(file, now)).delta.empty());
}

TEST_CASE("sync: a peer's preshared key and keepalive go when the file drops them")
{
	const std::string head = std::string("[Interface]\nPrivateKey = ") + PRIV1 + "\n";
	const DeviceConfig running = parse(
		head + peer(PUB2, "198.51.100.2/32",
			    std::string("PresharedKey = ") + PSK + "\nPersistentKeepalive = 5\n"));
	const DeviceConfig file = parse(head + peer(PUB2, "198.51.100.2/32"));
	const UapiApplied applied = applied_by(running, uapi_sync_request(file, {key(PUB2)}));
	CHECK(applied.delta.peers_updated == std::vector<PublicKey>{key(PUB2)});
	CHECK(applied.delta.peers_removed.empty());
	CHECK(applied.config.peers == file.peers);
}
