// config_file_test.cpp — the wg-quick parser (loader/config_file.h) and the key codec:
// a full file in wg's own format, then one row per malformed input with the exact
// message it must give.
#include <catch2/catch.hpp>

#include "loader/control/config_file.h"
#include "loader/control/config_json.h"

#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "sample_keys.h"

using namespace xwg;

namespace
{

using namespace sample_keys;

std::string error_of(const std::string &text, const std::string &file = "wg0.conf")
{
	try {
		config_parse(text, file);
	} catch (const ConfigError &e) {
		return e.what();
	}
	return "(no error)";
}

std::string iface(const std::string &extra = "")
{
	return std::string("[Interface]\nPrivateKey = ") + PRIV1 + "\n" + extra;
}

} // namespace

TEST_CASE("key codec: base64 as strict as wg, hex both ways")
{
	using E = KeyParseError;
	PublicKey k;
	REQUIRE(from_base64(PUB1, k) == E::ok);
	CHECK(to_base64(k) == PUB1);
	PublicKey back;
	REQUIRE(from_hex(to_hex(k), back) == E::ok);
	CHECK(back == k);
	CHECK(to_hex(k).size() == 64);
	REQUIRE(from_hex(std::string(64, 'F'), back) == E::ok);
	CHECK(back.bytes[0] == 0xff);
	CHECK(to_base64(public_key_of(key<PrivateKey>(PRIV1))) == PUB1);

	// A failed decode leaves the key as it was.
	const PublicKey before = k;
	std::string s = PUB1;
	CHECK(from_base64(s.substr(0, 43), k) == E::wrong_length);	// no padding
	CHECK(from_base64(s + "=", k) == E::wrong_length);		// too long
	CHECK(from_base64(s.substr(0, 42) + "==", k) == E::bad_base64); // 31 bytes
	CHECK(from_base64(s.substr(0, 42) + "!=", k) == E::bad_base64); // alphabet
	CHECK(from_base64(s.substr(0, 42) + "x=", k) == E::bad_base64); // trailing bits set
	CHECK(from_base64(" " + s.substr(1), k) == E::bad_base64);	// space
	CHECK(from_hex(std::string(63, '0'), k) == E::bad_hex);
	CHECK(from_hex(std::string(63, '0') + "g", k) == E::bad_hex);
	CHECK(k == before);
	PresharedKey psk = key<PresharedKey>(PSK);
	REQUIRE(from_hex(std::string(64, '0'), psk) == E::ok);
	CHECK(psk.is_zero());
}

TEST_CASE("a config in wg-quick's format parses into the model")
{
	std::string text = std::string("# written like wg showconf + wg-quick\n"
				       "[Interface]\n"
				       "PrivateKey = ") +
			   PRIV1 +
			   "\n"
			   "ListenPort = 51820\n"
			   "FwMark = 0x1234\n"
			   "Address = 192.0.2.1/24, 2001:db8::1/64\n"
			   "address = 198.51.100.7\n"
			   "MTU = 1380\n"
			   "Table = off\n"
			   "Underlay = eth0, eth1\n"
			   "DNS = 192.0.2.53\n"
			   "PostUp = echo up\n"
			   "\n"
			   "[Peer]\n"
			   "PublicKey = " +
			   PUB2 +
			   "\n"
			   "PresharedKey = " +
			   PSK +
			   "\n"
			   "AllowedIPs = 192.0.2.77/24, 2001:db8:1::/48 # masked to 192.0.2.0/24\n"
			   "Endpoint = 203.0.113.5:51820\n"
			   "PersistentKeepalive = 25\n"
			   "FlowPorts = 8\n"
			   "\r\n"
			   "[peer]\n"
			   "publickey=" +
			   PUB3 +
			   "\r\n"
			   "ALLOWEDIPS = 198.18.0.0/15\n"
			   "AllowedIPs = 198.18.0.1/15\n" // the same prefix once masked
			   "Endpoint = [2001:db8::9]:4500\n"
			   "PersistentKeepalive = off\n";
	ParsedConfig p = config_parse(text, "wg0.conf");
	const InterfaceConfig &i = p.config.iface;
	CHECK(to_base64(*i.private_key) == PRIV1);
	CHECK(i.listen_port == 51820);
	CHECK(i.fwmark == 0x1234);
	REQUIRE(i.addresses.size() == 3);
	CHECK(i.addresses[0].to_string() == "192.0.2.1/24");
	CHECK(i.addresses[1].to_string() == "2001:db8::1/64");
	CHECK(i.addresses[2].to_string() == "198.51.100.7/32");
	CHECK(i.mtu == 1380);
	CHECK(i.table.kind == RouteTable::Kind::off);
	CHECK(i.underlays == std::vector<std::string>{"eth0", "eth1"});

	REQUIRE(p.config.peers.size() == 2);
	const PeerConfig &a = p.config.peers[0];
	CHECK(to_base64(a.public_key) == PUB2);
	CHECK(to_base64(*a.preshared_key) == PSK);
	REQUIRE(a.allowed_ips.size() == 2);
	CHECK(a.allowed_ips[0].to_string() == "192.0.2.0/24");
	CHECK(a.allowed_ips[1].to_string() == "2001:db8:1::/48");
	CHECK(a.endpoint->to_string() == "203.0.113.5:51820");
	CHECK(a.persistent_keepalive == 25);
	CHECK(a.flow_ports == 8);
	const PeerConfig &b = p.config.peers[1];
	CHECK(b.allowed_ips.size() == 1);
	CHECK(b.allowed_ips[0].to_string() == "198.18.0.0/15");
	CHECK(b.endpoint->to_string() == "[2001:db8::9]:4500");
	CHECK_FALSE(b.preshared_key);
	CHECK(b.persistent_keepalive == 0);
	CHECK(b.flow_ports == 0);

	// wg-quick's own keys are kept, not warned about.
	CHECK(p.warnings.empty());
	CHECK(p.wg_quick.dns_servers == std::vector<std::string>{"192.0.2.53"});
	CHECK(p.wg_quick.post_up == std::vector<std::string>{"echo up"});
	CHECK_FALSE(p.wg_quick.save_config);
}

TEST_CASE("wg-quick's keys: hooks in order, DNS split as wg-quick splits it, SaveConfig")
{
	ParsedConfig p = config_parse(
		iface("PreUp = echo a, b >> /tmp/x\n"
		      "postup = nft add rule inet t c oifname \"%i\" masquerade # a comment\n"
		      "PostUp =\n"
		      "PreUp = echo   second  \n"
		      "PreDown = iptables -D FORWARD -i %i -j ACCEPT; true\n"
		      "POSTDOWN = echo 'x=y'\n"
		      "DNS = 192.0.2.53,2001:db8::53, example.com,,corp.example\tfe80::1%eth0\n"
		      "DNS = 10.0.0.1\n"
		      "DNS =\n"
		      "SaveConfig = True\n"),
		"wg0.conf");
	const WgQuickSettings &w = p.wg_quick;
	CHECK(w.pre_up == std::vector<std::string>{"echo a, b >> /tmp/x", "echo   second"});
	CHECK(w.post_up ==
	      std::vector<std::string>{"nft add rule inet t c oifname \"%i\" masquerade", ""});
	CHECK(w.pre_down == std::vector<std::string>{"iptables -D FORWARD -i %i -j ACCEPT; true"});
	CHECK(w.post_down == std::vector<std::string>{"echo 'x=y'"});
	CHECK(w.dns_servers ==
	      std::vector<std::string>{"192.0.2.53", "2001:db8::53", "fe80::1%eth0", "10.0.0.1"});
	CHECK(w.dns_search == std::vector<std::string>{"example.com", "corp.example"});
	CHECK(w.save_config);
	CHECK(p.warnings.empty());
	CHECK_FALSE(config_parse(iface("SaveConfig = FALSE\n"), "x").wg_quick.save_config);
	CHECK(config_parse(iface(), "x").wg_quick == WgQuickSettings{});
}

TEST_CASE("MTU: any value 576-9000 for IPv4, 1280-9000 with IPv6; ReceivePath")
{
	for (unsigned mtu : {576u, 1000u, 1279u})
		CHECK(config_parse(iface("MTU = " + std::to_string(mtu) + "\nAddress = 192.0.2.1/24\n"),
				   "x")
			      .config.iface.mtu == mtu);
	for (unsigned mtu : {1280u, 1418u, 1421u, 1450u, 8920u, 9000u})
		CHECK(config_parse(iface("MTU = " + std::to_string(mtu) +
					 "\nAddress = 192.0.2.1/24, 2001:db8::1/64\n"),
				   "x")
			      .config.iface.mtu == mtu);
	CHECK(config_parse(iface(), "x").config.iface.receive_path == ReceivePath::automatic);
	CHECK(config_parse(iface("ReceivePath = TC\n"), "x").config.iface.receive_path ==
	      ReceivePath::tc);
	CHECK(config_parse(iface("ReceivePath = xdp\n"), "x").config.iface.receive_path ==
	      ReceivePath::xdp);
	CHECK_THROWS_WITH(config_parse(iface("ReceivePath = generic\n"), "wg0.conf"),
			  "wg0.conf:3: ReceivePath: \"generic\" is not a receive path (auto, xdp or tc)");
}

TEST_CASE("defaults: MTU automatic, Table auto, no port, no peers")
{
	ParsedConfig p = config_parse(iface(), "x.conf");
	CHECK(p.config.iface.mtu == AUTOMATIC_MTU);
	CHECK(p.config.iface.table.kind == RouteTable::Kind::automatic);
	CHECK(p.config.iface.listen_port == 0);
	CHECK(p.config.iface.fwmark == 0);
	CHECK(p.config.peers.empty());
	CHECK(p.warnings.empty());
	CHECK(config_parse(iface("Table = 1234\n"), "x").config.iface.table.to_string() == "1234");
	CHECK(config_parse(iface("FwMark = off\n"), "x").config.iface.fwmark == 0);
	CHECK(config_parse(iface("FwMark = 4294967295\n"), "x").config.iface.fwmark == 0xffffffffu);
	// An all-zero preshared key means none, as in wg.
	std::string zero_psk = iface() + "[Peer]\nPublicKey = " + PUB2 +
			       "\nPresharedKey = " + to_base64(PresharedKey{}) + "\n";
	CHECK_FALSE(config_parse(zero_psk, "x").config.peers[0].preshared_key);
}

TEST_CASE("every malformed input is an error naming file, line and key")
{
	const std::string peer2 = std::string("[Peer]\nPublicKey = ") + PUB2 + "\n";
	struct Row {
		std::string text;
		std::string message;
	};
	const Row rows[] = {
		{"", "wg0.conf: no [Interface] section"},
		{"# only a comment\n", "wg0.conf: no [Interface] section"},
		{"PrivateKey = " + std::string(PRIV1) + "\n",
		 "wg0.conf:1: PrivateKey: outside of any section"},
		{"Frobnicate = 1\n", "wg0.conf:1: Frobnicate: outside of any section"},
		{"[Interface]\n[Wat]\n",
		 "wg0.conf:2: unknown section \"[Wat]\" (expected [Interface] or [Peer])"},
		{"[Interface]\n", "wg0.conf:1: PrivateKey: missing from [Interface]"},
		{iface("garbage line\n"), "wg0.conf:3: \"garbage line\" is not \"Key = Value\""},
		{iface("Frobnicate = 1\n"), "wg0.conf:3: Frobnicate: unknown key in [Interface]"},
		{iface("PublicKey = x\n"),
		 "wg0.conf:3: PublicKey: belongs in [Peer], not [Interface]"},
		{iface(peer2 + "ListenPort = 1\n"),
		 "wg0.conf:5: ListenPort: belongs in [Interface], not [Peer]"},
		{iface("[Interface]\n"),
		 "wg0.conf:3: second [Interface] section (the first is on line 1)"},
		{"[Interface]\nPrivateKey = abc\n",
		 "wg0.conf:2: PrivateKey: not a valid key (44 base64 characters ending in '=')"},
		{"[Interface]\nPrivateKey = " + std::string(PRIV1).substr(0, 40) + "\n",
		 "wg0.conf:2: PrivateKey: key is 30 bytes, expected 32"},
		{"[Interface]\nPrivateKey = " + std::string(PRIV1) + "AAAA\n",
		 "wg0.conf:2: PrivateKey: not a valid key (44 base64 characters ending in '=')"},
		{"[Interface]\nPrivateKey = " + to_base64(PrivateKey{}) + "\n",
		 "wg0.conf:2: PrivateKey: the all-zero key is not a private key"},
		{"[Interface]\nPrivateKey =\n", "wg0.conf:2: PrivateKey: empty value"},
		{iface("PrivateKey = " + std::string(PRIV1) + "\n"),
		 "wg0.conf:3: PrivateKey: already set on line 2"},
		{iface("ListenPort = 70000\n"),
		 "wg0.conf:3: ListenPort: \"70000\" is not a port (0-65535)"},
		{iface("ListenPort = -1\n"),
		 "wg0.conf:3: ListenPort: \"-1\" is not a port (0-65535)"},
		{iface("ListenPort = 51820x\n"),
		 "wg0.conf:3: ListenPort: \"51820x\" is not a port (0-65535)"},
		{iface("FwMark = 0xfffffffff\n"),
		 "wg0.conf:3: FwMark: \"0xfffffffff\" is not a fwmark (off, or 0-4294967295)"},
		{iface("FwMark = 4294967296\n"),
		 "wg0.conf:3: FwMark: \"4294967296\" is not a fwmark (off, or 0-4294967295)"},
		{iface("MTU = 575\n"),
		 "wg0.conf:3: MTU: \"575\" is not an MTU xwg carries (576-9000)"},
		{iface("MTU = 9001\n"),
		 "wg0.conf:3: MTU: \"9001\" is not an MTU xwg carries (576-9000)"},
		{iface("MTU = 1279\nAddress = 192.0.2.1/24, 2001:db8::1/64\n"),
		 "wg0.conf:3: MTU: MTU 1279 is below IPv6's minimum of 1280, but Address "
		 "2001:db8::1/64 is IPv6"},
		{iface("MTU = 1000\n") + "[Peer]\nPublicKey = " + PUB2 +
			 "\nAllowedIPs = 192.0.2.0/24, 2001:db8::/32\n",
		 "wg0.conf:3: MTU: MTU 1000 is below IPv6's minimum of 1280, but allowed IP "
		 "2001:db8::/32 is IPv6"},
		{iface("Table = main\n"),
		 "wg0.conf:3: Table: \"main\" is not a table (auto, off or 1-4294967295)"},
		{iface("Address = 192.0.2.1/33\n"),
		 "wg0.conf:3: Address: \"192.0.2.1/33\" is not an address (e.g. 192.0.2.1/24)"},
		{iface("Address = 192.0.2.1/24,,192.0.2.2\n"),
		 "wg0.conf:3: Address: empty entry in the list"},
		{iface("Underlay = eth0, this-name-is-too-long\n"),
		 "wg0.conf:3: Underlay: \"this-name-is-too-long\" is not an interface name"},
		{iface("[Peer]\nEndpoint = 192.0.2.1:1\n"),
		 "wg0.conf:3: PublicKey: missing from [Peer]"},
		{iface(peer2 + peer2), "wg0.conf:6: PublicKey: the same peer is already on line 3"},
		{iface(peer2 + "PublicKey = " + PUB3 + "\n"),
		 "wg0.conf:5: PublicKey: already set on line 4"},
		{iface("[Peer]\nPublicKey = " + to_base64(PublicKey{}) + "\n"),
		 "wg0.conf:4: PublicKey: the all-zero key is not a public key"},
		{iface(peer2 + "PresharedKey = no!pe\n"),
		 "wg0.conf:5: PresharedKey: not a valid key (44 base64 characters ending in '=')"},
		{iface(peer2 + "AllowedIPs = 10.0.0.0/8, 2001:db8::/129\n"),
		 "wg0.conf:5: AllowedIPs: \"2001:db8::/129\" is not an IP prefix (e.g. "
		 "192.0.2.0/24)"},
		{iface(peer2 + "AllowedIPs = 10.1.2.3/\n"),
		 "wg0.conf:5: AllowedIPs: \"10.1.2.3/\" is not an IP prefix (e.g. 192.0.2.0/24)"},
		{iface(peer2 + "AllowedIPs = 10.0.0.0/8\n[Peer]\nPublicKey = " + PUB3 +
		       "\nAllowedIPs = 10.0.0.1/8\n"),
		 "wg0.conf:8: AllowedIPs: 10.0.0.0/8 already belongs to the peer on line 3"},
		{iface(peer2 + "Endpoint = 192.0.2.1\n"),
		 "wg0.conf:5: Endpoint: \"192.0.2.1\" is not HOST:PORT or [IPv6]:PORT"},
		{iface(peer2 + "Endpoint = 192.0.2.1:65536\n"),
		 "wg0.conf:5: Endpoint: \"192.0.2.1:65536\": \"65536\" is not a port (0-65535)"},
		{iface(peer2 + "Endpoint = 2001:db8::1:51820\n"),
		 "wg0.conf:5: Endpoint: \"2001:db8::1:51820\" is not HOST:PORT or [IPv6]:PORT"},
		{iface(peer2 + "Endpoint = [2001:db8::1:51820\n"),
		 "wg0.conf:5: Endpoint: \"[2001:db8::1:51820\" is not HOST:PORT or [IPv6]:PORT"},
		{iface(peer2 + "PersistentKeepalive = 65536\n"),
		 "wg0.conf:5: PersistentKeepalive: \"65536\" is not a keepalive interval (off, or "
		 "0-65535 seconds)"},
		{iface(peer2 + "FlowPorts = 65\n"),
		 "wg0.conf:5: FlowPorts: \"65\" is not a number of flow ports (0 = off, 1-64)"},
		{iface("FlowPorts = 4\n"), "wg0.conf:3: FlowPorts: belongs in [Peer], not [Interface]"},
		{iface(peer2 + "Frobnicate = 1\n"),
		 "wg0.conf:5: Frobnicate: unknown key in [Peer]"},
		{iface("SaveConfig = yes\n"),
		 "wg0.conf:3: SaveConfig: \"yes\" is neither true nor false"},
		{iface("SaveConfig =\n"), "wg0.conf:3: SaveConfig: empty value"},
		{iface("SaveConfig = true\nSaveConfig = false\n"),
		 "wg0.conf:4: SaveConfig: already set on line 3"},
		{iface("DNS = 1.2.3\n"), "wg0.conf:3: DNS: \"1.2.3\" is not a name server address"},
		{iface("DNS = 192.0.2.1:53\n"),
		 "wg0.conf:3: DNS: \"192.0.2.1:53\" is not a name server address"},
		{iface("DNS = fe80::1%\n"),
		 "wg0.conf:3: DNS: \"fe80::1%\" is not a name server address"},
		{iface("DNS = 192.0.2.1, ex;ample.com\n"),
		 "wg0.conf:3: DNS: \"ex;ample.com\" is neither an address nor a search domain"},
		{iface(peer2 + "PostUp = true\n"),
		 "wg0.conf:5: PostUp: belongs in [Interface], not [Peer]"},
		{iface(peer2 + "DNS = 192.0.2.53\n"),
		 "wg0.conf:5: DNS: belongs in [Interface], not [Peer]"},
		{iface(std::string("PreUp = echo a\0b\n", 17)),
		 "wg0.conf:3: PreUp: a NUL byte cannot be passed to bash"},
	};
	for (const Row &row : rows) {
		INFO(row.text);
		CHECK(error_of(row.text) == row.message);
	}
	// The file name is the one given.
	CHECK(error_of(iface("MTU = x\n"), "/etc/wireguard/tun9.conf") ==
	      "/etc/wireguard/tun9.conf:3: MTU: \"x\" is not an MTU xwg carries (576-9000)");
}

TEST_CASE("endpoint host names go through the resolver")
{
	ParsedConfig p = config_parse(
	    iface("[Peer]\nPublicKey = " + std::string(PUB2) + "\nEndpoint = localhost:51820\n"),
	    "x.conf");
	REQUIRE(p.config.peers[0].endpoint);
	CHECK(p.config.peers[0].endpoint->port == 51820);
	std::string err = error_of(iface("[Peer]\nPublicKey = " + std::string(PUB2) +
					 "\nEndpoint = no-such-host.invalid:1\n"));
	CHECK_THAT(err, Catch::StartsWith("wg0.conf:5: Endpoint: cannot resolve "
					  "\"no-such-host.invalid\": "));
}

TEST_CASE("config_load reads a file and reports a missing one")
{
	std::string path = "/tmp/xwg-config-test-" + std::to_string(getpid()) + ".conf";
	FILE *f = fopen(path.c_str(), "w");
	REQUIRE(f);
	std::string text = iface("ListenPort = 99999\n");
	fwrite(text.data(), 1, text.size(), f);
	fclose(f);
	std::string err;
	try {
		config_load(path);
	} catch (const ConfigError &e) {
		err = e.what();
	}
	remove(path.c_str());
	CHECK(err == path.substr(5) + ":3: ListenPort: \"99999\" is not a port (0-65535)");
	// SaveConfig needs the file itself: config_load keeps its absolute, resolved path.
	const std::string dir = "/tmp/xwg-config-test-" + std::to_string(getpid()) + ".d";
	REQUIRE(mkdir(dir.c_str(), 0700) == 0);
	std::ofstream(dir + "/real.conf") << iface();
	REQUIRE(symlink("real.conf", (dir + "/wg7.conf").c_str()) == 0);
	const std::string loaded = config_load(dir + "/wg7.conf").path;
	char *real_dir = realpath(dir.c_str(), nullptr);
	CHECK(loaded == std::string(real_dir) + "/real.conf");
	std::free(real_dir);
	CHECK(config_parse(iface(), "x.conf").path.empty());
	unlink((dir + "/wg7.conf").c_str());
	unlink((dir + "/real.conf").c_str());
	rmdir(dir.c_str());
	CHECK_THROWS_WITH(config_load("/nonexistent/wg9.conf"),
			  "wg9.conf: cannot open /nonexistent/wg9.conf: No such file or directory");
}

TEST_CASE("interface names follow wg-quick")
{
	CHECK(interface_name_valid("wg0"));
	CHECK(interface_name_valid("a_b=c+d.e-f"));
	CHECK(interface_name_valid("abcdefghijklmno"));	       // 15
	CHECK_FALSE(interface_name_valid("abcdefghijklmnop")); // 16
	CHECK_FALSE(interface_name_valid(""));
	CHECK_FALSE(interface_name_valid("wg 0"));
	CHECK_FALSE(interface_name_valid("wg/0"));
	CHECK_FALSE(interface_name_valid(".."));
	CHECK(interface_name_from_path("/etc/wireguard/wg0.conf") == "wg0");
	CHECK(interface_name_from_path("tun.x.conf") == "tun.x");
	CHECK_THROWS_WITH(interface_name_from_path("/etc/wg0.cfg"),
			  "/etc/wg0.cfg: the file name must be IFNAME.conf");
	CHECK_THROWS_WITH(interface_name_from_path("/x/a-very-long-name0.conf"),
			  "/x/a-very-long-name0.conf: \"a-very-long-name0\" is not a valid "
			  "interface name (1-15 of a-z A-Z 0-9 _ = + . -)");
}

TEST_CASE("config as JSON shows no secrets")
{
	std::string text = iface("ListenPort = 51820\nAddress = 192.0.2.1/24\n") +
			   "[Peer]\nPublicKey = " + PUB2 + "\nPresharedKey = " + PSK +
			   "\nAllowedIPs = 192.0.2.0/24\n";
	nlohmann::json j = config_to_json(config_parse(text, "x.conf").config);
	CHECK(j["public_key"] == PUB1);
	CHECK(j["listen_port"] == 51820);
	CHECK(j["addresses"] == nlohmann::json::array({"192.0.2.1/24"}));
	CHECK(j["mtu"] == AUTOMATIC_MTU);
	CHECK(j["table"] == "auto");
	CHECK(j["peers"][0]["public_key"] == PUB2);
	CHECK(j["peers"][0]["preshared_key"] == "(hidden)");
	CHECK(j["peers"][0]["endpoint"].is_null());
	CHECK(j["peers"][0]["allowed_ips"] == nlohmann::json::array({"192.0.2.0/24"}));
	std::string dump = j.dump();
	CHECK(dump.find(PRIV1) == std::string::npos);
	CHECK(dump.find(PSK) == std::string::npos);
}
