// running_state_test.cpp — the running state file (control/running_state.h): what a daemon
// taking over reads back is what the last one wrote, and a damaged file is refused with
// a reason rather than half read.
#include <catch2/catch.hpp>

#include "loader/control/running_state.h"

using namespace xwg;

namespace {

RunningState sample()
{
	RunningState s;
	InterfaceConfig &i = s.config.iface;
	i.private_key = generate_private_key();
	i.listen_port = 51820;
	i.fwmark = 0x42;
	i.mtu = 1380;
	i.table.kind = RouteTable::Kind::number;
	i.table.id = 1234;
	i.underlays = {"eth0", "eth1"};
	i.receive_path = ReceivePath::tc;
	i.addresses = {*cidr_parse("198.51.100.1/24"), *cidr_parse("fd00:77::1/64")};
	for (std::uint32_t n = 0; n < 3; ++n) {
		PeerConfig p;
		p.public_key = public_key_of(generate_private_key());
		if (n == 1) {
			PresharedKey psk{};
			psk.data()[0] = 7;
			p.preshared_key = psk;
			p.endpoint = *endpoint_parse("[2001:db8::2]:51821");
		}
		if (n == 2)
			p.endpoint = *endpoint_parse("192.0.2.2:51820");
		p.add_allowed_ip(*cidr_parse("198.51.100." + std::to_string(10 + n) + "/32"));
		p.add_allowed_ip(*cidr_parse("2001:db8:" + std::to_string(n) + "::/48"));
		p.persistent_keepalive = static_cast<std::uint16_t>(25 * n);
		p.flow_ports = static_cast<std::uint16_t>(4 * n);
		s.peer_ids[p.public_key] = 100 + 7 * n;
		s.config.peers.push_back(p);
	}
	return s;
}

} // namespace

TEST_CASE("running state: what is written is read back whole")
{
	const RunningState s = sample();
	CHECK(running_state_from_json(running_state_to_json(s)) == s);
	RunningState keyless = s;
	keyless.config.iface.private_key.reset();
	CHECK(running_state_from_json(running_state_to_json(keyless)) == keyless);
}

TEST_CASE("running state: damaged files are refused with a reason")
{
	std::string text = running_state_to_json(sample());
	CHECK_THROWS_WITH(running_state_from_json(""), Catch::Contains("not a running state"));
	CHECK_THROWS_WITH(running_state_from_json(text.substr(0, text.size() / 2)),
			  Catch::Contains("not a running state"));
	std::string no_id = text;
	no_id.erase(no_id.find("\"id\""), std::string("\"id\":100,").size());
	CHECK_THROWS_WITH(running_state_from_json(no_id), Catch::Contains("has no id"));
	std::string bad_key = text;
	bad_key.replace(bad_key.find("\"public_key\":\"") + 14, 4, "!!!!");
	CHECK_THROWS_WITH(running_state_from_json(bad_key), Catch::Contains("bad public key"));
}
