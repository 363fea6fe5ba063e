// device_apply_test.cpp — a configuration change is all or nothing (Device::apply over the
// fake data plane, routes and network). Each change below is tried with the 1st, 2nd, ...
// write (or route) of one kind failing until it goes through: every failed try throws
// UapiError with a non-zero errno and leaves the model, the peers and their ids, the maps
// (allowed IPs, peer slots, endpoints, config), the routes and the socket as they were;
// then the change works. Runs in device_test (with device_test.cpp).
#include <catch2/catch.hpp>

#include "fake_dataplane.h"
#include "loader/device/device.h"

#include <initializer_list>
#include <set>
#include <string>
#include <vector>

using namespace xwg;
using namespace xwgtest;

namespace {

PeerConfig peer_config(const PublicKey &key, std::initializer_list<const char *> allowed_ips,
		       const char *address = nullptr)
{
	PeerConfig pc;
	pc.public_key = key;
	for (const char *text : allowed_ips) {
		auto c = cidr_parse(text);
		REQUIRE(c);
		pc.add_allowed_ip(*c);
	}
	if (address) {
		pc.endpoint = endpoint_parse(address);
		REQUIRE(pc.endpoint);
	}
	return pc;
}

template <class T> std::string bytes_of(const T &v)
{
	return std::string(reinterpret_cast<const char *>(&v), sizeof(v));
}

// One device over fakes, and the keys of the peers a test uses.
struct Rig {
	static constexpr std::uint32_t SLOTS = 8; // peer ids a test looks at

	std::uint64_t now = 1000 * 1'000'000'000ULL;
	FakeDataplane dp;
	FakeNetwork net{*endpoint_parse("192.0.2.1:51820")};
	FakeRoutes routes{dp};
	Device device{dp, net, TimerSettings{}, routes.hook(), [this] { return now; }};
	std::vector<PublicKey> keys;

	explicit Rig(std::size_t peers)
	{
		for (std::size_t i = 0; i < peers; ++i)
			keys.push_back(public_key_of(generate_private_key()));
	}

	DeviceConfig base() const
	{
		DeviceConfig c;
		c.iface.private_key = generate_private_key();
		c.iface.listen_port = 51820;
		return c;
	}
	void apply(const DeviceConfig &next, const std::set<PublicKey> &recreated = {})
	{
		device.apply(next, config_diff(device.config(), next, recreated));
	}
	std::optional<std::uint32_t> id_of(std::size_t i) const
	{
		const Peer *p = device.peer(keys.at(i));
		return p ? std::optional(p->id) : std::nullopt;
	}

	// Everything a failed change must leave as it was. Endpoint generations are left out:
	// putting an address back counts as a new one.
	struct State {
		DeviceConfig config;
		std::vector<std::optional<std::uint32_t>> ids;
		std::vector<const Peer *> objects;
		decltype(FakeDataplane::allowed) allowed;
		std::set<Cidr> routes;
		std::vector<std::string> slots, endpoints, stats;
		std::string dp_config;
		std::uint16_t port;
		std::uint32_t fwmark;
	};
	State state() const
	{
		State s{device.config(), {}, {}, dp.allowed, routes.routes, {}, {}, {},
			bytes_of(dp.cfg), net.port(), net.fwmark};
		for (std::size_t i = 0; i < keys.size(); ++i) {
			s.ids.push_back(id_of(i));
			s.objects.push_back(device.peer(keys[i]));
		}
		for (std::uint32_t id = 0; id < SLOTS; ++id) {
			s.slots.push_back(bytes_of(dp.peers[id]));
			s.endpoints.push_back(bytes_of(dp.endpoints[id].ep));
			s.stats.push_back(bytes_of(dp.stats[id]));
		}
		return s;
	}
	void check_unchanged(const State &was) const
	{
		const State now = state();
		CHECK(now.config == was.config);
		CHECK(now.ids == was.ids);
		CHECK(now.objects == was.objects); // the same peers, not new ones
		CHECK(now.allowed == was.allowed);
		CHECK(now.routes == was.routes);
		CHECK(now.slots == was.slots);
		CHECK(now.endpoints == was.endpoints);
		CHECK(now.stats == was.stats);
		CHECK(now.dp_config == was.dp_config);
		CHECK(now.port == was.port);
		CHECK(now.fwmark == was.fwmark);
	}

	// Applies @next with the nth call of @call failing, n = 1, 2, ... until it goes
	// through; each failure must answer @code and change nothing. Returns how many failed.
	int fail_each(const DeviceConfig &next, Call call, int code,
		      const std::set<PublicKey> &recreated = {})
	{
		const State was = state();
		for (int n = 1; n < 100; ++n) {
			INFO("call " << static_cast<int>(call) << " failing at " << n);
			dp.fail(call, n);
			try {
				apply(next, recreated);
			} catch (const UapiError &e) {
				CHECK(e.code() == code);
				check_unchanged(was);
				continue;
			}
			dp.clear();
			return n - 1;
		}
		FAIL("the change never went through");
		return -1;
	}
};

std::uint32_t lpm_owner(const Rig &rig, const char *text)
{
	const Cidr c = *cidr_parse(text);
	std::vector<std::uint8_t> addr(c.addr.bytes.begin(), c.addr.bytes.begin() +
							       static_cast<long>(c.addr.length()));
	auto it = rig.dp.allowed.find({addr, c.prefix});
	return it == rig.dp.allowed.end() ? ~0u : it->second;
}

} // namespace

TEST_CASE("apply: a failing write or route among several new peers changes nothing")
{
	struct Case {
		Call call;
		int failures; // how many such calls the change makes
		int code;
	};
	const Case c = GENERATE(Case{Call::set_allowed_ip, 6, -ENOMEM},
				Case{Call::route_add, 6, UAPI_ERROR_IO},
				Case{Call::set_endpoint, 2, -ENOMEM},
				Case{Call::set_peer, 3, -ENOMEM});
	Rig rig(4);
	DeviceConfig first = rig.base();
	first.peers.push_back(peer_config(rig.keys[0], {"10.0.1.0/24"}, "198.51.100.1:1"));
	rig.apply(first);

	DeviceConfig next = first;
	next.peers.push_back(peer_config(rig.keys[1], {"10.0.2.0/24", "10.0.3.0/24", "fd00:2::/64"},
					 "198.51.100.2:2"));
	next.peers.push_back(peer_config(rig.keys[2], {"10.0.4.0/24", "10.0.5.0/24"},
					 "[2001:db8::3]:3"));
	next.peers.push_back(peer_config(rig.keys[3], {"10.0.6.0/24"}));
	CHECK(rig.fail_each(next, c.call, c.code) == c.failures);

	// The change went through whole, and the new peers got the lowest ids, as if the
	// failed tries had never been.
	CHECK(rig.device.config() == next);
	CHECK(rig.dp.allowed.size() == 7);
	CHECK(rig.routes.routes.size() == 7);
	for (std::uint32_t i = 0; i < 4; ++i) {
		REQUIRE(rig.id_of(i) == i);
		CHECK(rig.dp.peers[i].active == 1);
	}
	CHECK(lpm_owner(rig, "fd00:2::/64") == 1);
	CHECK(lpm_owner(rig, "10.0.5.0/24") == 2);
	CHECK(Endpoints::address_of(rig.dp.endpoints[2].ep).to_string() == "[2001:db8::3]:3");
	CHECK(rig.dp.endpoints[3].ep.family == 0);
}

TEST_CASE("apply: a failure while a peer's allowed IPs change brings the old ones back")
{
	const Call call = GENERATE(Call::set_allowed_ip, Call::delete_allowed_ip, Call::route_add,
				   Call::set_endpoint);
	Rig rig(2);
	DeviceConfig first = rig.base();
	first.peers.push_back(
		peer_config(rig.keys[0], {"10.0.1.0/24", "10.0.2.0/24"}, "198.51.100.1:1"));
	first.peers.push_back(peer_config(rig.keys[1], {"10.0.3.0/24"}));
	rig.apply(first);

	// 10.0.1.0/24 moves from the first peer to the second, which drops 10.0.3.0/24; the
	// first gets 10.0.4.0/24 and a new endpoint.
	DeviceConfig next = first;
	next.peers = {peer_config(rig.keys[0], {"10.0.2.0/24", "10.0.4.0/24"}, "198.51.100.9:9"),
		      peer_config(rig.keys[1], {"10.0.1.0/24"})};
	const int code = call == Call::route_add ? UAPI_ERROR_IO : -ENOMEM;
	const int failures = call == Call::set_allowed_ip ? 2 : 1;
	CHECK(rig.fail_each(next, call, code) == failures);

	CHECK(lpm_owner(rig, "10.0.1.0/24") == 1);
	CHECK(lpm_owner(rig, "10.0.2.0/24") == 0);
	CHECK(lpm_owner(rig, "10.0.4.0/24") == 0);
	CHECK(rig.dp.allowed.size() == 3);
	CHECK(rig.routes.routes == std::set<Cidr>{*cidr_parse("10.0.1.0/24"),
						  *cidr_parse("10.0.2.0/24"),
						  *cidr_parse("10.0.4.0/24")});
	CHECK(Endpoints::address_of(rig.dp.endpoints[0].ep).to_string() == "198.51.100.9:9");
}

TEST_CASE("apply: a failure after a peer removal in the same change keeps the peer")
{
	const Call call = GENERATE(Call::set_allowed_ip, Call::delete_allowed_ip, Call::route_add,
				   Call::set_peer);
	Rig rig(4);
	DeviceConfig first = rig.base();
	first.peers.push_back(peer_config(rig.keys[0], {"10.0.1.0/24"}, "198.51.100.1:1"));
	first.peers.push_back(peer_config(rig.keys[1], {"10.0.2.0/24", "10.0.7.0/24"},
					  "198.51.100.2:2"));
	first.peers.push_back(peer_config(rig.keys[2], {"10.0.3.0/24"}));
	rig.apply(first);
	rig.dp.stats[1].rx_bytes = 1234; // its counters survive a failed change

	// The second peer goes (10.0.7.0/24 moves to the third), a fourth comes.
	DeviceConfig next = first;
	next.peers.erase(next.peers.begin() + 1);
	next.peers[1].add_allowed_ip(*cidr_parse("10.0.7.0/24"));
	next.peers.push_back(peer_config(rig.keys[3], {"10.0.4.0/24", "10.0.5.0/24"}));
	const int code = call == Call::route_add ? UAPI_ERROR_IO : -ENOMEM;
	rig.fail_each(next, call, code);

	// Now it is gone: its slot inactive, its prefix out of the tries and the routes; the
	// new peer did not get its id (removed peers keep theirs until the change commits).
	CHECK(rig.device.peer(rig.keys[1]) == nullptr);
	CHECK(rig.dp.peers[1].active == 0);
	CHECK(lpm_owner(rig, "10.0.2.0/24") == ~0u);
	CHECK(lpm_owner(rig, "10.0.7.0/24") == 2);
	CHECK(rig.routes.routes.count(*cidr_parse("10.0.2.0/24")) == 0);
	CHECK(rig.routes.routes.count(*cidr_parse("10.0.7.0/24")) == 1);
	CHECK(rig.id_of(3) == 3u);
	CHECK(rig.dp.allowed.size() == 5);
	CHECK(rig.routes.routes.size() == 5);
}

TEST_CASE("apply: peers removed and added again start over under their ids, or not at all")
{
	Rig rig(3);
	DeviceConfig first = rig.base();
	first.peers.push_back(peer_config(rig.keys[0], {"10.0.1.0/24"}, "198.51.100.1:1"));
	first.peers.push_back(peer_config(rig.keys[1], {"10.0.2.0/24"}));
	rig.apply(first);
	rig.dp.stats[0].rx_bytes = 1234;
	rig.dp.peers[0].current_index = 77; // as if it had a session

	// wg setconf: both again (the second without its prefix), and a third.
	DeviceConfig next = first;
	next.peers[1].allowed_ips.clear();
	next.peers.push_back(peer_config(rig.keys[2], {"10.0.3.0/24"}, "198.51.100.3:3"));
	const std::set<PublicKey> recreated{rig.keys[0], rig.keys[1]};
	CHECK(rig.fail_each(next, Call::set_allowed_ip, -ENOMEM, recreated) == 1);

	CHECK(rig.device.config() == next);
	CHECK(rig.id_of(0) == 0u);
	CHECK(rig.id_of(1) == 1u);
	CHECK(rig.id_of(2) == 2u);
	CHECK(rig.dp.stats[0].rx_bytes == 0);
	CHECK(rig.dp.peers[0].current_index == 0);
	CHECK(rig.dp.peers[0].active == 1);
	CHECK(Endpoints::address_of(rig.dp.endpoints[0].ep).to_string() == "198.51.100.1:1");
	CHECK(lpm_owner(rig, "10.0.2.0/24") == ~0u);
	CHECK(rig.routes.routes.size() == 2);
}

TEST_CASE("apply: a new port and fwmark are undone with the rest")
{
	Rig rig(1);
	DeviceConfig first = rig.base();
	rig.apply(first);
	REQUIRE(rig.net.port() == 51820);
	REQUIRE(rig.dp.cfg.listen_port == 51820);

	DeviceConfig next = first;
	next.iface.listen_port = 51999;
	next.iface.fwmark = 0x42;
	next.iface.private_key = generate_private_key();
	next.peers.push_back(peer_config(rig.keys[0], {"10.0.1.0/24"}));
	CHECK(rig.fail_each(next, Call::set_allowed_ip, -ENOMEM) == 1);
	CHECK(rig.net.port() == 51999);
	CHECK(rig.net.fwmark == 0x42);
	CHECK(rig.dp.cfg.listen_port == 51999);
	CHECK(rig.dp.cfg.fwmark == 0x42);

	// A port in use is refused before anything else is touched.
	DeviceConfig busy = rig.device.config();
	busy.iface.listen_port = 52000;
	busy.peers = {peer_config(rig.keys[0], {"10.0.9.0/24"})};
	rig.net.busy_port = 52000;
	const Rig::State was = rig.state();
	try {
		rig.apply(busy);
		FAIL("a busy port was bound");
	} catch (const UapiError &e) {
		CHECK(e.code() == UAPI_ERROR_PORT_IN_USE);
	}
	rig.check_unchanged(was);
	// So is a data-plane config that cannot be written, after binding: the old port back.
	rig.net.busy_port = 0;
	CHECK(rig.fail_each(busy, Call::set_config, -ENOMEM) == 1);
	CHECK(rig.net.port() == 52000);
}
