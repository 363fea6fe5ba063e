// dataplane_state_test.cpp — the state the daemon and the programs share, each concept
// with one owner (include/xwg/maps.h), through the real objects and BPF_PROG_TEST_RUN:
// - a keypair being retired is never used, however young the host's clock;
// - an endpoint is never read half old, half new, and the daemon's route never
//   overwrites a roam that came in between;
// - a roam reaches the daemon even when the events ring was full at the time;
// - an encrypted packet only ever leaves through an underlay.
#include <catch2/catch.hpp>

#include "dataplane_lab.h"

#include <net/if.h>

#include <atomic>
#include <thread>

using namespace xwgtest;

namespace {

xwg_endpoint endpoint_v4(const Addr &to, const Addr &from, uint16_t port, uint32_t ifindex)
{
	xwg_endpoint ep{};
	ep.family = AF_INET;
	ep.port = htons(port);
	ep.ifindex = ifindex;
	std::memcpy(&ep.addr.v4, to.bytes.data(), 4);
	std::memcpy(&ep.src.v4, from.bytes.data(), 4);
	return ep;
}

xwg_endpoint endpoint_v6(const Addr &to, const Addr &from, uint16_t port, uint32_t ifindex)
{
	xwg_endpoint ep{};
	ep.family = AF_INET6;
	ep.port = htons(port);
	ep.ifindex = ifindex;
	std::memcpy(ep.addr.v6, to.bytes.data(), 16);
	std::memcpy(ep.src.v6, from.bytes.data(), 16);
	return ep;
}

void run(const std::string &cmd)
{
	if (std::system(cmd.c_str()) != 0)
		throw std::runtime_error("failed: " + cmd);
}

} // namespace

TEST_CASE("a retired keypair is never used, even on a host booted a moment ago")
{
	DataplaneLab lab;
	// A clock this young: "now - birth" of any entry stays below REJECT_AFTER_TIME, so
	// only the keypair's state can keep its keys out of use.
	auto cfg = lab.dp.config();
	REQUIRE(cfg);
	cfg->reject_after_time_ns = ~0ULL / 2;
	REQUIRE(lab.dp.set_config(*cfg));
	lab.install_keypair(0);
	const Bytes inner = inner_packet(lab.peer_in4, lab.our_in4, 40);
	const Bytes out = tunnel_frame(inner_packet(lab.our_in4, lab.peer_in4, 40));
	REQUIRE(lab.rx(lab.data_frame(lab.peer4, lab.local4, 0, inner)).verdict == XDP_REDIRECT);
	REQUIRE(lab.tx(out).verdict == TC_ACT_REDIRECT);

	lab.dp.retire_keypair(DataplaneLab::kSlot);
	// Marked, not yet wiped: neither program touches it any more.
	CHECK(lab.rx(lab.data_frame(lab.peer4, lab.local4, 1, inner)).verdict == XDP_DROP);
	CHECK(lab.drop_count(XWG_DROP_KEYPAIR_RETIRED) == 1);
	CHECK(lab.tx(out).verdict == TC_ACT_SHOT);
	CHECK(lab.drop_count(XWG_DROP_STAGED) == 1);

	// A wipe while the slot is live is refused; after the grace period it goes through.
	lab.install_keypair(0);
	CHECK_FALSE(lab.dp.wipe_keypair(DataplaneLab::kIndex, DataplaneLab::kSlot));
	lab.remove_keypair();
	CHECK_FALSE(lab.dp.keypair(DataplaneLab::kIndex).has_value());
	CHECK(lab.dp.keypair_slot(DataplaneLab::kSlot)->state == XWG_KEYPAIR_UNUSED);
	// The zero key opens nothing: the entry is gone, not merely zeroed.
	Key zero{};
	Bytes forged = udp_frame(lab.peer4, DataplaneLab::kPeerPort, lab.local4, DataplaneLab::kPort,
				 data_message(DataplaneLab::kIndex, 2, zero, inner));
	CHECK(lab.rx(forged).verdict == XDP_DROP);
	CHECK(lab.drop_count(XWG_DROP_UNKNOWN_INDEX) == 1);
}

TEST_CASE("a keypair whose slot belongs to another keypair is not used")
{
	DataplaneLab lab;
	lab.install_keypair(boottime_ns());
	const Bytes inner = inner_packet(lab.peer_in4, lab.our_in4, 40);
	REQUIRE(lab.rx(lab.data_frame(lab.peer4, lab.local4, 0, inner)).verdict == XDP_REDIRECT);
	// The slot handed to another local index (as if reused while an entry lingered).
	auto kp = lab.dp.keypair(DataplaneLab::kIndex);
	REQUIRE(kp);
	lab.dp.retire_keypair(DataplaneLab::kSlot);
	REQUIRE(lab.dp.grace_period());
	REQUIRE(lab.dp.install_keypair(0x55667788, DataplaneLab::kSlot, *kp));
	// The old entry still names the slot, which now says LIVE for another index.
	CHECK(lab.rx(lab.data_frame(lab.peer4, lab.local4, 1, inner)).verdict == XDP_DROP);
	CHECK(lab.drop_count(XWG_DROP_KEYPAIR_RETIRED) == 1);
}

TEST_CASE("the daemon's route never overwrites a roam that came in between")
{
	DataplaneLab lab;
	const Bytes inner = inner_packet(lab.peer_in4, lab.our_in4, 20);
	auto before = lab.dp.endpoint(DataplaneLab::kPeer);
	REQUIRE(before);
	// The peer roams (xwg_rx moves the address) while the daemon looks its route up.
	const Addr moved = addr("203.0.113.77");
	REQUIRE(lab.rx(lab.data_frame(moved, lab.local4, 0, inner, 4444)).verdict == XDP_REDIRECT);
	xwg_endpoint route = before->ep;
	std::memcpy(&route.nexthop.v4, lab.peer4.bytes.data(), 4);
	CHECK_FALSE(lab.dp.set_endpoint_route(DataplaneLab::kPeer, before->generation, route));
	xwg_endpoint now = lab.endpoint();
	CHECK(std::memcmp(&now.addr.v4, moved.bytes.data(), 4) == 0);
	CHECK(ntohs(now.port) == 4444);
	CHECK(now.nexthop.v4 == 0);
	// For the current generation it goes in, and only the route part.
	auto cur = lab.dp.endpoint(DataplaneLab::kPeer);
	REQUIRE(cur);
	CHECK(cur->generation != before->generation);
	xwg_endpoint r2 = cur->ep;
	std::memcpy(&r2.nexthop.v4, lab.peer4.bytes.data(), 4);
	r2.path_mtu = 1400;
	r2.port = htons(1); // ignored: the address is the data plane's
	CHECK(lab.dp.set_endpoint_route(DataplaneLab::kPeer, cur->generation, r2));
	now = lab.endpoint();
	CHECK(ntohs(now.port) == 4444);
	CHECK(now.path_mtu == 1400);
	CHECK(std::memcmp(&now.nexthop.v4, lab.peer4.bytes.data(), 4) == 0);
}

TEST_CASE("xwg_tx never sends to half of one endpoint and half of another")
{
	DataplaneLab lab;
	const uint32_t ul = DataplaneLab::kUnderlayIfindex;
	const xwg_endpoint a = endpoint_v4(lab.peer4, lab.local4, 1111, ul);
	const xwg_endpoint b = endpoint_v6(lab.peer6, lab.local6, 2222, ul);
	REQUIRE(lab.dp.set_endpoint(DataplaneLab::kPeer, a));
	std::atomic<bool> stop{false};
	std::atomic<int> writes{0};
	std::thread writer([&] {
		while (!stop) {
			lab.dp.set_endpoint(DataplaneLab::kPeer, (writes++ & 1) ? b : a);
		}
	});
	const Bytes frame = tunnel_frame(inner_packet(lab.our_in4, lab.peer_in4, 64));
	int v4 = 0, v6 = 0, torn = 0;
	for (int i = 0; i < 20000; i++) {
		auto r = lab.tx(frame);
		if (r.verdict != TC_ACT_REDIRECT)
			continue;
		const auto *eth = reinterpret_cast<const ethhdr *>(r.out.data());
		if (ntohs(eth->h_proto) == ETH_P_IP) {
			const auto *ip = reinterpret_cast<const iphdr *>(eth + 1);
			const auto *uh = reinterpret_cast<const udphdr *>(ip + 1);
			const bool ok = ip->daddr == a.addr.v4 && ip->saddr == a.src.v4 &&
					uh->dest == a.port;
			ok ? v4++ : torn++;
		} else {
			const auto *ip6 = reinterpret_cast<const ipv6hdr *>(eth + 1);
			const auto *uh = reinterpret_cast<const udphdr *>(ip6 + 1);
			const bool ok = std::memcmp(&ip6->daddr, b.addr.v6, 16) == 0 &&
					std::memcmp(&ip6->saddr, b.src.v6, 16) == 0 &&
					uh->dest == b.port;
			ok ? v6++ : torn++;
		}
	}
	stop = true;
	writer.join();
	INFO(v4 << " to A, " << v6 << " to B, " << writes.load() << " endpoint writes");
	CHECK(torn == 0);
	CHECK(v4 > 0);
	CHECK(v6 > 0);
}

TEST_CASE("a roam reaches the daemon even when the events ring was full")
{
	DataplaneLab lab;
	Events ring(lab.dp, false);
	const Bytes inner = inner_packet(lab.peer_in4, lab.our_in4, 20);
	const Addr a = addr("203.0.113.10"), b = addr("203.0.113.11");
	// Roam back and forth until the ring has no room for another event.
	uint64_t counter = 0;
	const size_t fill = XWG_EVENTS_RING_BYTES / sizeof(xwg_event) + 100;
	for (size_t i = 0; i < fill; i++)
		REQUIRE(lab.rx(lab.data_frame(i & 1 ? b : a, lab.local4, counter++, inner)).verdict ==
			XDP_REDIRECT);
	const auto last = lab.dp.endpoint(DataplaneLab::kPeer);
	REQUIRE(last);
	auto seen = ring.take();
	REQUIRE(!seen.empty());
	CHECK(seen.size() < fill); // some were lost: the ring was full
	CHECK(event_of(seen.back()).generation != last->generation);

	// The next authenticated packet (no roam this time) sends the latest one again.
	const Addr &final_addr = (fill - 1) & 1 ? b : a;
	REQUIRE(lab.rx(lab.data_frame(final_addr, lab.local4, counter++, inner)).verdict ==
		XDP_REDIRECT);
	seen = ring.take();
	REQUIRE(seen.size() == 1);
	const xwg_event &ev = event_of(seen[0]);
	CHECK(ev.type == XWG_EVENT_ENDPOINT_CHANGED);
	CHECK(ev.generation == last->generation);
	CHECK(std::memcmp(&ev.endpoint.addr.v4, final_addr.bytes.data(), 4) == 0);
	// Once heard, no more.
	REQUIRE(lab.rx(lab.data_frame(final_addr, lab.local4, counter++, inner)).verdict ==
		XDP_REDIRECT);
	CHECK(ring.take().empty());
}

TEST_CASE("xwg_tx sends only through an underlay, whatever the routes say")
{
	private_loopback(); // this process's own network namespace
	run("ip link add xwgst-ul type veth peer name xwgst-ulp");
	run("ip link add xwgst-tun type veth peer name xwgst-tunp");
	for (const char *dev : {"xwgst-ul", "xwgst-ulp", "xwgst-tun", "xwgst-tunp"})
		run(std::string("ip link set ") + dev + " up");
	run("ip addr add 192.0.2.1/24 dev xwgst-ul");
	run("ip -6 addr add 2001:db8:1::1/64 dev xwgst-ul nodad");
	const int ul = static_cast<int>(if_nametoindex("xwgst-ul"));
	const int tun = static_cast<int>(if_nametoindex("xwgst-tun"));
	REQUIRE(ul > 0);
	REQUIRE(tun > 0);

	DataplaneLab lab;
	auto cfg = lab.dp.config();
	REQUIRE(cfg);
	cfg->underlay_ifindex[0] = static_cast<__u32>(ul);
	REQUIRE(lab.dp.set_config(*cfg));
	const Bytes frame = tunnel_frame(inner_packet(lab.our_in4, lab.peer_in4, 64));
	auto not_underlay = [&] { return lab.drop_count(XWG_DROP_TX_NOT_UNDERLAY); };
	run("ip route add 198.51.100.0/24 dev xwgst-tun");
	run("ip -6 route add 2001:db8:ff::/64 dev xwgst-tun");

	for (int family : {AF_INET, AF_INET6}) {
		INFO((family == AF_INET ? "IPv4" : "IPv6") << " endpoint");
		const std::string net = family == AF_INET ? "198.51.100.0/24" : "2001:db8:ff::/64";
		// As learned before the daemon filled in a route: no underlay named.
		const xwg_endpoint learned =
			family == AF_INET ? endpoint_v4(lab.peer4, addr("192.0.2.1"), 51821, 0)
					  : endpoint_v6(lab.peer6, addr("2001:db8:1::1"), 51821, 0);
		REQUIRE(lab.dp.set_endpoint(DataplaneLab::kPeer, learned));

		// An endpoint that names a device which is no underlay: dropped.
		xwg_endpoint named = learned;
		named.ifindex = static_cast<__u32>(tun);
		REQUIRE(lab.dp.set_endpoint(DataplaneLab::kPeer, named));
		const auto n = not_underlay();
		CHECK(lab.tx(frame).verdict == TC_ACT_SHOT);
		CHECK(not_underlay() == n + 1);

		// Through the underlay it goes, named or found by the FIB (which the kernel
		// answers for the underlay as output device, so it never names another).
		run("ip route replace " + net + " dev xwgst-ul");
		xwg_endpoint through = learned;
		through.ifindex = static_cast<__u32>(ul);
		REQUIRE(lab.dp.set_endpoint(DataplaneLab::kPeer, through));
		CHECK(lab.tx(frame).verdict == TC_ACT_REDIRECT);
		REQUIRE(lab.dp.set_endpoint(DataplaneLab::kPeer, learned));
		CHECK(lab.tx(frame).verdict == TC_ACT_REDIRECT);
		CHECK(not_underlay() == n + 1);
	}
}
