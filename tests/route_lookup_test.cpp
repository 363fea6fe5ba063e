// route_lookup_test.cpp — RouteLookup and RouteWatch against a real routing table: a
// namespace with an "underlay" (r0, default routes via a gateway) and a stand-in tunnel
// (r1, carrying the halves of both default routes, as AllowedIPs 0.0.0.0/0, ::/0 do).
#include "loader/kernel/route_lookup.h"

#include "netns_lab.h"

#include <catch2/catch.hpp>
#include <net/if.h>
#include <unistd.h>

using namespace xwg;
using namespace xwg::lab;

namespace {

IpAddr ip(const char *text)
{
	auto a = ip_addr_parse(text);
	REQUIRE(a);
	return *a;
}

struct RouteLab {
	Netns ns{(remove_stale_namespaces("xwgR"), "xwgR" + std::to_string(getpid()))};
	unsigned r0 = 0, r1 = 0;

	RouteLab()
	{
		ns.in("ip link add r0 type veth peer name r0p");
		ns.in("ip link add r1 type veth peer name r1p");
		for (const char *dev : {"r0", "r0p", "r1", "r1p"})
			ns.in(std::string("ip link set ") + dev + " up");
		ns.in("ip addr add 192.0.2.1/24 dev r0");
		ns.in("ip addr add 198.51.100.1/24 dev r1");
		ns.in("ip addr add 2001:db8:1::1/64 dev r0 nodad");
		ns.in("ip addr add 2001:db8:2::1/64 dev r1 nodad");
		ns.in("ip route add default via 192.0.2.254 dev r0");
		ns.in("ip -6 route add default via 2001:db8:1::ff dev r0");
		for (const char *half : {"0.0.0.0/1", "128.0.0.0/1", "::/1", "8000::/1"})
			ns.in(std::string("ip route add ") + half + " dev r1");
		r0 = ns.with([] { return if_nametoindex("r0"); });
		r1 = ns.with([] { return if_nametoindex("r1"); });
		REQUIRE(r0 != 0);
		REQUIRE(r1 != 0);
	}
};

} // namespace

TEST_CASE("route lookup: gateway through the underlay, not the more specific tunnel halves",
	  "[routes][netns]")
{
	RouteLab lab;
	lab.ns.with([&] {
		RouteLookup rl;
		for (const char *dst : {"203.0.113.9", "2001:db8:f::2"}) {
			INFO(dst);
			auto plain = rl.get(ip(dst));
			REQUIRE(plain);
			CHECK(plain->ifindex == lab.r1); // the tunnel's half wins a plain lookup
			CHECK(plain->nexthop == ip(dst));

			auto r = rl.through_underlays(ip(dst), {lab.r0});
			REQUIRE(r);
			CHECK(r->ifindex == lab.r0);
			CHECK(r->pinned);
			const bool v4 = ip(dst).family == ip_family_v4;
			CHECK(r->nexthop == ip(v4 ? "192.0.2.254" : "2001:db8:1::ff"));
			CHECK(r->src == ip(v4 ? "192.0.2.1" : "2001:db8:1::1"));
		}
		// On-link: the destination is its own next hop; a plain route through an
		// underlay is not "pinned".
		auto on_link = rl.through_underlays(ip("192.0.2.77"), {lab.r0});
		REQUIRE(on_link);
		CHECK(on_link->nexthop == ip("192.0.2.77"));
		CHECK_FALSE(on_link->pinned);
		return 0;
	});
}

TEST_CASE("route lookup: no route through the underlay means none, not an assumed link",
	  "[routes][netns]")
{
	RouteLab lab;
	lab.ns.in("ip route del default via 192.0.2.254 dev r0");
	lab.ns.in("ip -6 route del default via 2001:db8:1::ff dev r0");
	lab.ns.with([&] {
		RouteLookup rl;
		// IPv4 answers an RTA_OIF request without a route by assuming the link: refused.
		CHECK_FALSE(rl.get(ip("203.0.113.9"), lab.r0));
		CHECK_FALSE(rl.get(ip("2001:db8:f::2"), lab.r0));
		CHECK_FALSE(rl.through_underlays(ip("203.0.113.9"), {lab.r0}));
		CHECK_FALSE(rl.get(ip("192.0.2.9"), 9999)); // no such interface
		return 0;
	});
}

TEST_CASE("route lookup: the fwmark selects policy routes", "[routes][netns]")
{
	RouteLab lab;
	lab.ns.in("ip rule add fwmark 0x55 table 100");
	lab.ns.in("ip route add 203.0.113.0/24 via 192.0.2.253 dev r0 table 100");
	lab.ns.with([&] {
		RouteLookup rl;
		auto unmarked = rl.get(ip("203.0.113.9"), lab.r0);
		auto marked = rl.get(ip("203.0.113.9"), lab.r0, 0x55);
		REQUIRE(unmarked);
		REQUIRE(marked);
		CHECK(unmarked->nexthop == ip("192.0.2.254"));
		CHECK(marked->nexthop == ip("192.0.2.253"));
		return 0;
	});
}

TEST_CASE("route watch: notices route and address changes", "[routes][netns]")
{
	RouteLab lab;
	auto watch = lab.ns.with([] { return std::make_shared<RouteWatch>(); });
	CHECK_FALSE(watch->drain());
	lab.ns.in("ip route replace default via 192.0.2.253 dev r0");
	CHECK(watch->drain());
	CHECK_FALSE(watch->drain());
	lab.ns.in("ip addr add 192.0.2.5/24 dev r0");
	CHECK(watch->drain());
}
