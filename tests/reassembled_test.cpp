// reassembled_test.cpp — the daemon's path for data messages that reached its UDP socket
// (outer IP fragments the kernel reassembled): ReassembledReceiver over the real xwg_rx
// object. It decrypts with the data plane's own state (a counter XDP took is a replay
// here, and the other way round), delivers into the device through a packet socket, takes
// datagrams only from underlays, and a token bucket bounds it. Runs in a network
// namespace of its own (loopback stands in for the tunnel's hidden end).
#include <catch2/catch.hpp>

#include "dataplane_lab.h"
#include "reassembled_lab.h"

#include <linux/if_packet.h>

using namespace xwgtest;

namespace {

// Frames the packet socket puts on loopback, as a listener on it sees them.
struct LoopbackTap {
	int fd;
	explicit LoopbackTap(unsigned lo)
	{
		fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL));
		sockaddr_ll sll{};
		sll.sll_family = AF_PACKET;
		sll.sll_protocol = htons(ETH_P_ALL);
		sll.sll_ifindex = static_cast<int>(lo);
		if (fd < 0 || bind(fd, reinterpret_cast<sockaddr *>(&sll), sizeof(sll)) < 0)
			throw std::runtime_error(std::string("packet tap: ") +
						 std::strerror(errno));
	}
	~LoopbackTap() { close(fd); }
	// The next frame carrying @inner after the Ethernet header, if one came.
	bool saw(const Bytes &inner)
	{
		std::vector<uint8_t> buf(65536);
		for (int i = 0; i < 64; i++) {
			ssize_t n = recv(fd, buf.data(), buf.size(), 0);
			if (n < 0)
				return false;
			if (static_cast<size_t>(n) == sizeof(ethhdr) + inner.size() &&
			    std::equal(inner.begin(), inner.end(), buf.begin() + sizeof(ethhdr)))
				return true;
		}
		return false;
	}
};

} // namespace

TEST_CASE("reassembled: decrypted with the data plane's state and delivered, 1420 and jumbo")
{
	const unsigned lo = private_loopback();
	DataplaneLab lab;
	LoopbackTap tap(lo);
	xwg::ReassembledReceiver rr(lab.dp, lo, {lo}, 1000000);
	const uint64_t now = boottime_ns();

	for (size_t len : {1420u, 8920u}) {
		INFO("inner packet of " << len << " bytes");
		Bytes inner = inner_packet(lab.peer_in4, lab.our_in4, len - 28);
		const uint64_t counter = len;
		const auto before = lab.dp.peer_stats(DataplaneLab::kPeer);
		rr.receive(reassembled_datagram(lab, counter, inner, lo), DataplaneLab::kPort, now);
		CHECK(rr.stats().delivered == (len == 1420 ? 1u : 2u));
		CHECK(tap.saw(inner));
		CHECK(lab.dp.peer_stats(DataplaneLab::kPeer).rx_packets == before.rx_packets + 1);
		// One replay window: the same counter again, through XDP or this path, is a replay.
		auto drops = lab.dp.drops();
		rr.receive(reassembled_datagram(lab, counter, inner, lo), DataplaneLab::kPort, now);
		CHECK(lab.dp.drops()[XWG_DROP_REPLAYED] == drops[XWG_DROP_REPLAYED] + 1);
		auto r = lab.rx(lab.data_frame(lab.peer4, lab.local4, counter, inner));
		CHECK(r.verdict == XDP_DROP);
		CHECK(lab.dp.drops()[XWG_DROP_REPLAYED] == drops[XWG_DROP_REPLAYED] + 2);
	}
	// And a counter XDP took first is a replay here.
	Bytes inner = inner_packet(lab.peer_in4, lab.our_in4, 100);
	REQUIRE(lab.rx(lab.data_frame(lab.peer4, lab.local4, 9000, inner)).verdict == XDP_REDIRECT);
	auto drops = lab.dp.drops();
	rr.receive(reassembled_datagram(lab, 9000, inner, lo), DataplaneLab::kPort, now);
	CHECK(lab.dp.drops()[XWG_DROP_REPLAYED] == drops[XWG_DROP_REPLAYED] + 1);
	CHECK(rr.stats().delivered == 2);
}

TEST_CASE("reassembled: forgeries dropped as auth_failed, other interfaces refused, rate bounded")
{
	const unsigned lo = private_loopback();
	DataplaneLab lab;
	const uint64_t now = boottime_ns();
	Bytes inner = inner_packet(lab.peer_in4, lab.our_in4, 1000);

	SECTION("a flipped bit fails authentication and is not delivered")
	{
		xwg::ReassembledReceiver rr(lab.dp, lo, {lo}, 1000000);
		auto d = reassembled_datagram(lab, 1, inner, lo);
		d.data[d.data.size() - 30] ^= 0x10;
		auto drops = lab.dp.drops();
		rr.receive(d, DataplaneLab::kPort, now);
		CHECK(lab.dp.drops()[XWG_DROP_AUTH_FAILED] == drops[XWG_DROP_AUTH_FAILED] + 1);
		CHECK(rr.stats().delivered == 0);
	}
	SECTION("a datagram that came in on no underlay is refused before any work")
	{
		xwg::ReassembledReceiver rr(lab.dp, lo, {lo + 100}, 1000000);
		auto drops = lab.dp.drops();
		rr.receive(reassembled_datagram(lab, 1, inner, lo), DataplaneLab::kPort, now);
		CHECK(lab.dp.drops()[XWG_DROP_FRAGMENT_NOT_UNDERLAY] ==
		      drops[XWG_DROP_FRAGMENT_NOT_UNDERLAY] + 1);
		CHECK(rr.stats().delivered == 0);
	}
	SECTION("the token bucket: a tenth of a second's worth at once, then the rate")
	{
		xwg::ReassembledReceiver rr(lab.dp, lo, {lo}, 100); // 10 at once, 100/s
		auto drops = lab.dp.drops();
		for (uint64_t c = 0; c < 50; c++)
			rr.receive(reassembled_datagram(lab, 100 + c, inner, lo),
				   DataplaneLab::kPort, now);
		CHECK(rr.stats().delivered == 10);
		CHECK(lab.dp.drops()[XWG_DROP_FRAGMENT_RATELIMITED] ==
		      drops[XWG_DROP_FRAGMENT_RATELIMITED] + 40);
		// 50 ms later: 5 more tokens.
		for (uint64_t c = 0; c < 10; c++)
			rr.receive(reassembled_datagram(lab, 200 + c, inner, lo),
				   DataplaneLab::kPort, now + 50'000'000);
		CHECK(rr.stats().delivered == 15);
	}
}
