// config_fuzz.cpp — libFuzzer target for the wg-quick file parser (loader/control/config_file.h).
// Properties: any text gives either a ConfigError (any other exception escapes and is a
// crash) or a configuration that keeps the model's rules (a non-zero private key, unique
// non-zero peer keys, canonical allowed IPs that belong to one peer each, never an
// all-zero preshared key, an MTU that can work), and that configuration written back as
// a wg-quick file parses to the same thing; so does the file SaveConfig would write
// (control/wg_quick_save.h), wg-quick's hooks, DNS and SaveConfig included.
//
// Host names in Endpoint are resolved with getaddrinfo: the target runs in a network
// namespace of its own, so such lookups fail fast (or come from /etc/hosts) and nothing
// is ever sent.
#include "fuzz_util.h"
#include "loader/control/config_file.h"
#include "loader/control/wg_quick_save.h"

#include <cstdint>
#include <string>

using namespace xwg;

namespace {

std::string join(const std::vector<Cidr> &list)
{
	std::string out;
	for (const Cidr &c : list)
		out += (out.empty() ? "" : ", ") + c.to_string();
	return out;
}

// The configuration as a wg-quick file, one key per line.
std::string to_wg_quick(const DeviceConfig &c)
{
	const InterfaceConfig &i = c.iface;
	std::string s = "[Interface]\n";
	if (i.private_key)
		s += "PrivateKey = " + to_base64(*i.private_key) + "\n";
	s += "ListenPort = " + std::to_string(i.listen_port) + "\n";
	s += "FwMark = " + std::to_string(i.fwmark) + "\n";
	if (!i.addresses.empty())
		s += "Address = " + join(i.addresses) + "\n";
	if (i.mtu != AUTOMATIC_MTU)
		s += "MTU = " + std::to_string(i.mtu) + "\n";
	s += "Table = " + i.table.to_string() + "\n";
	for (const std::string &u : i.underlays)
		s += "Underlay = " + u + "\n";
	s += std::string("ReceivePath = ") + to_string(i.receive_path) + "\n";
	for (const PeerConfig &p : c.peers) {
		s += "[Peer]\nPublicKey = " + to_base64(p.public_key) + "\n";
		if (p.preshared_key)
			s += "PresharedKey = " + to_base64(*p.preshared_key) + "\n";
		if (!p.allowed_ips.empty())
			s += "AllowedIPs = " + join(p.allowed_ips) + "\n";
		if (p.endpoint)
			s += "Endpoint = " + p.endpoint->to_string() + "\n";
		s += "PersistentKeepalive = " + std::to_string(p.persistent_keepalive) + "\n";
	}
	return s;
}

void check_model(const DeviceConfig &c)
{
	xwgfuzz::check_config_rules(c);
	FUZZ_CHECK(c.iface.private_key, "a parsed configuration has a private key");
	FUZZ_CHECK(!mtu_problem(c, c.iface.mtu), "a parsed MTU can carry the configuration");
	for (const PeerConfig &p : c.peers)
		FUZZ_CHECK(!p.public_key.is_zero(), "no peer has the all-zero key");
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
	xwgfuzz::isolate_network();
	return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
	std::string_view text(reinterpret_cast<const char *>(data), size);
	ParsedConfig parsed;
	try {
		parsed = config_parse(text, "fuzz.conf");
	} catch (const ConfigError &) {
		return 0;
	}
	check_model(parsed.config);
	const std::string again = to_wg_quick(parsed.config);
	ParsedConfig reparsed;
	try {
		reparsed = config_parse(again, "again.conf");
	} catch (const ConfigError &e) {
		std::fprintf(stderr, "%s\n---\n%s---\n", e.what(), again.c_str());
		FUZZ_CHECK(false, "a parsed configuration, written back, parses again");
	}
	FUZZ_CHECK(reparsed.config == parsed.config, "writing back and parsing is the identity");
	FUZZ_CHECK(reparsed.warnings.empty(), "what xwg writes back gives no warnings");

	const std::string saved = wg_quick_file_text(parsed.config, parsed.wg_quick);
	ParsedConfig restored;
	try {
		restored = config_parse(saved, "saved.conf");
	} catch (const ConfigError &e) {
		std::fprintf(stderr, "%s\n---\n%s---\n", e.what(), saved.c_str());
		FUZZ_CHECK(false, "SaveConfig's file parses again");
	}
	FUZZ_CHECK(restored.config == parsed.config, "SaveConfig keeps the configuration");
	FUZZ_CHECK(restored.wg_quick == parsed.wg_quick,
		   "SaveConfig keeps hooks, DNS and SaveConfig");
	return 0;
}
