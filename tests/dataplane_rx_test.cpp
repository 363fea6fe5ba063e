// dataplane_rx_test.cpp — the real xwg_rx object through BPF_PROG_TEST_RUN: packets are
// sealed with libsodium, every verdict, output byte and drop counter is checked.
#include <catch2/catch.hpp>

#include "dataplane_lab.h"

#include <linux/bpf.h>
#include <linux/pkt_cls.h>

using namespace xwgtest;
using namespace xwg::protocol;

namespace {

// What xwg_rx must hand to the tunnel device for @inner: a fresh Ethernet header and
// exactly the inner packet, padding and tag gone.
Bytes delivered(const DataplaneLab &lab, const Bytes &inner)
{
	uint16_t proto = (inner[0] >> 4) == 4 ? ETH_P_IP : ETH_P_IPV6;
	return ethernet(lab.tunnel_mac, lab.hidden_mac, proto, inner);
}

// Runs @frame and checks that it was dropped under @reason, counted exactly once.
void expect_drop(DataplaneLab &lab, const Bytes &frame, xwg_drop_reason reason)
{
	auto before = lab.dp.drops();
	auto r = lab.rx(frame);
	auto after = lab.dp.drops();
	INFO("expected drop " << xwg_drop_reason_name(reason));
	CHECK(r.verdict == XDP_DROP);
	for (int i = 0; i < XWG_DROP_REASON_MAX; i++) {
		INFO("reason " << xwg_drop_reason_name(static_cast<xwg_drop_reason>(i)));
		CHECK(after[i] - before[i] == (i == reason ? 1u : 0u));
	}
}

// Outer and inner address families, every combination.
struct FamilyCase {
	const char *name;
	Addr from, to, inner_src, inner_dst;
};
std::vector<FamilyCase> family_cases(const DataplaneLab &lab)
{
	return {
		{"v4 in v4", lab.peer4, lab.local4, lab.peer_in4, lab.our_in4},
		{"v6 in v4", lab.peer4, lab.local4, lab.peer_in6, lab.our_in6},
		{"v4 in v6", lab.peer6, lab.local6, lab.peer_in4, lab.our_in4},
		{"v6 in v6", lab.peer6, lab.local6, lab.peer_in6, lab.our_in6},
	};
}

} // namespace

TEST_CASE("rx: valid data in every family combination is delivered exactly")
{
	DataplaneLab lab;
	uint64_t counter = 0;
	for (const auto &c : family_cases(lab)) {
		for (size_t len : {0u, 1u, 15u, 16u, 100u, 1372u}) {
			INFO(c.name << ", inner payload " << len);
			Bytes inner = inner_packet(c.inner_src, c.inner_dst, len);
			auto r = lab.rx(lab.data_frame(c.from, c.to, counter++, inner));
			CHECK(r.verdict == XDP_REDIRECT);
			CHECK(r.out == delivered(lab, inner));
		}
	}
	auto kp = lab.dp.keypair(DataplaneLab::kIndex);
	REQUIRE(kp);
	CHECK((kp->flags & XWG_KEYPAIR_CONFIRMED) != 0);
	auto st = lab.dp.peer_stats(DataplaneLab::kPeer);
	CHECK(st.rx_packets == counter);
	CHECK(st.last_rx_data_ns > 0);
	// The daemon's tick reads every peer at once; it must see the same.
	auto all = lab.dp.peer_stats_range(0, DataplaneLab::kPeer + 2);
	REQUIRE(all.size() == DataplaneLab::kPeer + 2);
	CHECK(all[DataplaneLab::kPeer].rx_packets == st.rx_packets);
	CHECK(all[DataplaneLab::kPeer].rx_bytes == st.rx_bytes);
	CHECK(all[DataplaneLab::kPeer].last_rx_data_ns == st.last_rx_data_ns);
	CHECK(all[DataplaneLab::kPeer + 1].rx_packets == 0);
}

// xwg_rx_tc is the same path on TC ingress (drivers without native XDP): skbs in, the
// same frame out, redirected; forgeries dropped and counted the same way.
TEST_CASE("rx tc: valid data in every family combination is delivered exactly")
{
	DataplaneLab lab;
	const int fd = lab.dp.rx_tc_prog_fd();
	uint64_t counter = 0;
	for (const auto &c : family_cases(lab)) {
		for (size_t len : {1u, 15u, 16u, 100u, 1372u}) {
			INFO(c.name << ", inner payload " << len);
			Bytes inner = inner_packet(c.inner_src, c.inner_dst, len);
			auto r = run_prog(fd, lab.data_frame(c.from, c.to, counter++, inner));
			CHECK(r.verdict == TC_ACT_REDIRECT);
			// An inner packet shorter than the outer IP header keeps a few tail
			// bytes (the IP layer trims them by its length field).
			const size_t outer_l3 = c.from.family == AF_INET ? 20 : 40;
			Bytes want = delivered(lab, inner);
			REQUIRE(r.out.size() == sizeof(ethhdr) + std::max(inner.size(), outer_l3));
			CHECK(Bytes(r.out.begin(), r.out.begin() + want.size()) == want);
		}
	}
	auto before = lab.dp.drops();
	Bytes forged = lab.data_frame(lab.peer4, lab.local4, counter++,
				      inner_packet(lab.peer_in4, lab.our_in4, 100));
	forged[forged.size() - 20] ^= 1;
	auto r = run_prog(fd, forged);
	CHECK(r.verdict == TC_ACT_SHOT);
	CHECK(lab.dp.drops()[XWG_DROP_AUTH_FAILED] - before[XWG_DROP_AUTH_FAILED] == 1);
	Bytes other = udp_frame(lab.peer4, 1234, lab.local4, 53, Bytes(64, 0xab));
	r = run_prog(fd, other);
	CHECK(r.verdict == TC_ACT_OK);
	CHECK(r.out == other);
}

// A peer need not pad: an unpadded IPv4 packet shorter than the outer IPv6 header leaves
// fewer bytes after it (only the tag) than TC must keep (found by fuzz/dataplane_fuzz).
TEST_CASE("rx tc: unpadded packets shorter than the outer header are delivered")
{
	DataplaneLab lab;
	uint64_t counter = 0;
	for (size_t len : {20u, 21u, 28u, 39u}) {
		INFO("inner " << len << " bytes, unpadded, under IPv6");
		Bytes inner = ip_packet(lab.peer_in4, lab.our_in4, len);
		Bytes msg = data_message(DataplaneLab::kIndex, counter++, lab.recv_key, inner, false);
		auto r = run_prog(lab.dp.rx_tc_prog_fd(),
				  udp_frame(lab.peer6, DataplaneLab::kPeerPort, lab.local6,
					    DataplaneLab::kPort, msg));
		REQUIRE(r.verdict == TC_ACT_REDIRECT);
		Bytes want = delivered(lab, inner);
		REQUIRE(r.out.size() == sizeof(ethhdr) + sizeof(ipv6hdr));
		CHECK(Bytes(r.out.begin(), r.out.begin() + want.size()) == want);
	}
}

TEST_CASE("rx: frames that are not ours pass untouched")
{
	DataplaneLab lab;
	Bytes payload(64, 0xab);
	std::vector<Bytes> frames = {
		udp_frame(lab.peer4, 1234, lab.local4, 53, payload),             // other port
		udp_frame(lab.peer6, 1234, lab.local6, 51821, payload),          // other port, v6
		ethernet(lab.tunnel_mac, lab.hidden_mac, ETH_P_ARP, Bytes(28, 1)), // ARP
		Bytes(14, 0),                                                     // bare Ethernet header
	};
	// ICMP: an IPv4 packet that is not UDP.
	Bytes icmp = inner_packet(lab.peer4, lab.local4, 32);
	icmp[9] = IPPROTO_ICMP;
	frames.push_back(ethernet(lab.tunnel_mac, lab.hidden_mac, ETH_P_IP, icmp));
	auto before = lab.dp.drops();
	for (const auto &f : frames) {
		auto r = lab.rx(f);
		CHECK(r.verdict == XDP_PASS);
		CHECK(r.out == f);
	}
	CHECK(lab.dp.drops() == before);
}

TEST_CASE("rx: handshake messages of the exact length go to the daemon")
{
	DataplaneLab lab;
	for (auto [type, len] : {std::pair{1, 148}, {2, 92}, {3, 64}}) {
		Bytes msg(len, 0x5a);
		msg[0] = type;
		msg[1] = msg[2] = msg[3] = 0;
		Bytes f = udp_frame(lab.peer4, 40000, lab.local4, DataplaneLab::kPort, msg);
		auto r = lab.rx(f);
		CHECK(r.verdict == XDP_PASS);
		CHECK(r.out == f);
		msg.push_back(0);
		expect_drop(lab, udp_frame(lab.peer4, 40000, lab.local4, DataplaneLab::kPort, msg),
			    XWG_DROP_BAD_LENGTH);
		msg.resize(len - 1);
		expect_drop(lab, udp_frame(lab.peer6, 40000, lab.local6, DataplaneLab::kPort, msg),
			    XWG_DROP_BAD_LENGTH);
	}
}

TEST_CASE("rx: every drop reason is counted once")
{
	DataplaneLab lab;
	Bytes inner = inner_packet(lab.peer_in4, lab.our_in4, 40);
	const uint16_t port = DataplaneLab::kPort;

	SECTION("bad type and reserved bytes")
	{
		Bytes msg(32, 0);
		msg[0] = 5;
		expect_drop(lab, udp_frame(lab.peer4, 1, lab.local4, port, msg), XWG_DROP_BAD_TYPE);
		Bytes m4 = data_message(DataplaneLab::kIndex, 0, lab.recv_key, inner);
		m4[1] = 1;
		expect_drop(lab, udp_frame(lab.peer4, 1, lab.local4, port, m4), XWG_DROP_BAD_TYPE);
	}
	SECTION("too short for a data message")
	{
		Bytes m = data_message(DataplaneLab::kIndex, 0, lab.recv_key, {});
		m.pop_back();
		expect_drop(lab, udp_frame(lab.peer4, 1, lab.local4, port, m), XWG_DROP_BAD_LENGTH);
		expect_drop(lab, udp_frame(lab.peer4, 1, lab.local4, port, Bytes{4, 0}),
			    XWG_DROP_BAD_LENGTH);
	}
	SECTION("UDP length beyond the frame")
	{
		Bytes f = lab.data_frame(lab.peer4, lab.local4, 0, inner);
		f.resize(f.size() - 1);
		expect_drop(lab, f, XWG_DROP_BAD_LENGTH);
	}
	SECTION("unknown receiver index")
	{
		Bytes m = data_message(DataplaneLab::kIndex + 1, 0, lab.recv_key, inner);
		expect_drop(lab, udp_frame(lab.peer4, 1, lab.local4, port, m),
			    XWG_DROP_UNKNOWN_INDEX);
	}
	SECTION("expired keypair")
	{
		lab.install_keypair(boottime_ns() - to_ns(reject_after_time) - 1);
		expect_drop(lab, lab.data_frame(lab.peer4, lab.local4, 0, inner),
			    XWG_DROP_KEYPAIR_EXPIRED);
	}
	SECTION("counter at REJECT_AFTER_MESSAGES")
	{
		expect_drop(lab, lab.data_frame(lab.peer4, lab.local4, XWG_REJECT_AFTER_MESSAGES, inner),
			    XWG_DROP_COUNTER_LIMIT);
	}
	SECTION("authentication failure: wrong key, flipped byte, flipped tag")
	{
		Key wrong = lab.recv_key;
		wrong[0] ^= 1;
		Bytes m = data_message(DataplaneLab::kIndex, 0, wrong, inner);
		expect_drop(lab, udp_frame(lab.peer4, 1, lab.local4, port, m), XWG_DROP_AUTH_FAILED);
		Bytes f = lab.data_frame(lab.peer4, lab.local4, 1, inner);
		f[f.size() - 30] ^= 0x80;
		expect_drop(lab, f, XWG_DROP_AUTH_FAILED);
		Bytes g = lab.data_frame(lab.peer4, lab.local4, 2, inner);
		g.back() ^= 1;
		expect_drop(lab, g, XWG_DROP_AUTH_FAILED);
		// A forged packet must not burn its counter: the genuine one still arrives.
		CHECK(lab.rx(lab.data_frame(lab.peer4, lab.local4, 1, inner)).verdict == XDP_REDIRECT);
	}
	SECTION("inner packet not IP")
	{
		Bytes junk(40, 0x11);
		expect_drop(lab, lab.data_frame(lab.peer4, lab.local4, 0, junk), XWG_DROP_INNER_NOT_IP);
	}
	SECTION("inner length beyond the plaintext")
	{
		Bytes bad = inner;
		bad[3] += 17; // tot_len beyond what padding can explain
		expect_drop(lab, lab.data_frame(lab.peer4, lab.local4, 0, bad, false),
			    XWG_DROP_INNER_LENGTH);
		Bytes v6 = inner_packet(lab.peer_in6, lab.our_in6, 8);
		v6[5] += 40;
		expect_drop(lab, lab.data_frame(lab.peer4, lab.local4, 1, v6), XWG_DROP_INNER_LENGTH);
		// Shorter than an IP header, padding included.
		expect_drop(lab, lab.data_frame(lab.peer4, lab.local4, 2, Bytes(3, 0x45)),
			    XWG_DROP_INNER_LENGTH);
		expect_drop(lab, lab.data_frame(lab.peer4, lab.local4, 3, Bytes(20, 0x60)),
			    XWG_DROP_INNER_LENGTH);
	}
	SECTION("inner source outside the peer's allowed IPs")
	{
		// 203.0.113.0/24 belongs to another peer; 198.18.0.1 to nobody.
		expect_drop(lab,
			    lab.data_frame(lab.peer4, lab.local4, 0,
					   inner_packet(lab.other_in4, lab.our_in4, 10)),
			    XWG_DROP_INNER_SRC_NOT_ALLOWED);
		expect_drop(lab,
			    lab.data_frame(lab.peer4, lab.local4, 1,
					   inner_packet(addr("198.18.0.1"), lab.our_in4, 10)),
			    XWG_DROP_INNER_SRC_NOT_ALLOWED);
		expect_drop(lab,
			    lab.data_frame(lab.peer4, lab.local4, 2,
					   inner_packet(addr("2001:db8:2::1"), lab.our_in6, 10)),
			    XWG_DROP_INNER_SRC_NOT_ALLOWED);
		CHECK(lab.dp.peer_stats(DataplaneLab::kPeer).rx_packets == 0);
	}
	SECTION("keepalive: authenticated, counted, not delivered")
	{
		expect_drop(lab, lab.data_frame(lab.peer4, lab.local4, 0, {}), XWG_DROP_KEEPALIVE);
		auto st = lab.dp.peer_stats(DataplaneLab::kPeer);
		CHECK(st.rx_packets == 1);
		CHECK(st.last_rx_ns > 0);
		CHECK(st.last_rx_data_ns == 0);
	}
	SECTION("replayed")
	{
		Bytes f = lab.data_frame(lab.peer4, lab.local4, 5, inner);
		CHECK(lab.rx(f).verdict == XDP_REDIRECT);
		expect_drop(lab, f, XWG_DROP_REPLAYED);
		expect_drop(lab, f, XWG_DROP_REPLAYED);
	}
}

TEST_CASE("rx: the replay window slides like WireGuard's")
{
	DataplaneLab lab;
	Bytes inner = inner_packet(lab.peer_in4, lab.our_in4, 20);
	auto rx = [&](uint64_t c) {
		return lab.rx(lab.data_frame(lab.peer4, lab.local4, c, inner)).verdict == XDP_REDIRECT;
	};
	const uint64_t W = XWG_REPLAY_WINDOW;
	CHECK(rx(0));
	CHECK(rx(W + 100));   // far ahead
	CHECK(rx(101));       // just inside (W - 1 behind)
	CHECK(rx(100));       // exactly W behind: still inside
	CHECK_FALSE(rx(99));  // just outside
	CHECK_FALSE(rx(0));   // old
	CHECK_FALSE(rx(101)); // replay inside the window
	CHECK(rx(W + 99));
	CHECK(lab.drop_count(XWG_DROP_REPLAYED) == 3);
}

TEST_CASE("rx: roaming moves the endpoint only on an authenticated packet")
{
	DataplaneLab lab;
	Bytes inner = inner_packet(lab.peer_in4, lab.our_in4, 20);
	Addr moved = addr("203.0.113.77");

	// A forged packet from a new address changes nothing.
	Key wrong{};
	Bytes forged = udp_frame(moved, 4444, lab.local4, DataplaneLab::kPort,
				 data_message(DataplaneLab::kIndex, 0, wrong, inner));
	CHECK(lab.rx(forged).verdict == XDP_DROP);
	xwg_endpoint ep = lab.endpoint();
	CHECK(std::memcmp(ep.addr.v6, lab.peer4.bytes.data(), 4) == 0);

	// A genuine one from the new address and port moves it, v4 and then v6.
	CHECK(lab.rx(lab.data_frame(moved, lab.local4, 1, inner, 4444)).verdict == XDP_REDIRECT);
	ep = lab.endpoint();
	CHECK(ep.family == AF_INET);
	CHECK(std::memcmp(&ep.addr.v4, moved.bytes.data(), 4) == 0);
	CHECK(ntohs(ep.port) == 4444);
	CHECK(std::memcmp(&ep.src.v4, lab.local4.bytes.data(), 4) == 0);

	CHECK(lab.rx(lab.data_frame(lab.peer6, lab.local6, 2, inner)).verdict == XDP_REDIRECT);
	ep = lab.endpoint();
	CHECK(ep.family == AF_INET6);
	CHECK(std::memcmp(ep.addr.v6, lab.peer6.bytes.data(), 16) == 0);
	CHECK(std::memcmp(ep.src.v6, lab.local6.bytes.data(), 16) == 0);
}

TEST_CASE("rx: a FlowPorts peer's flow ports are its endpoint, not a roam")
{
	DataplaneLab lab;
	Bytes inner = inner_packet(lab.peer_in4, lab.our_in4, 20);
	REQUIRE(lab.dp.set_peer_flow_ports(DataplaneLab::kPeer, 4));
	const xwg_endpoint before = lab.endpoint();
	REQUIRE(ntohs(before.port) == DataplaneLab::kPeerPort);

	// From ports ListenPort + 1..4 of the same address: nothing moves.
	uint64_t counter = 0;
	for (uint16_t d = 1; d <= 4; d++)
		CHECK(lab.rx(lab.data_frame(lab.peer4, lab.local4, counter++, inner,
					    DataplaneLab::kPeerPort + d))
			      .verdict == XDP_REDIRECT);
	xwg_endpoint ep = lab.endpoint();
	CHECK(ntohs(ep.port) == DataplaneLab::kPeerPort);
	CHECK(std::memcmp(&ep.addr.v4, lab.peer4.bytes.data(), 4) == 0);

	// Beyond them it is a new port, as for any peer.
	CHECK(lab.rx(lab.data_frame(lab.peer4, lab.local4, counter++, inner,
				    DataplaneLab::kPeerPort + 5))
		      .verdict == XDP_REDIRECT);
	CHECK(ntohs(lab.endpoint().port) == DataplaneLab::kPeerPort + 5);

	// A new address from a flow port: the address moves, the port stays its base.
	Addr moved = addr("203.0.113.77");
	CHECK(lab.rx(lab.data_frame(moved, lab.local4, counter++, inner,
				    DataplaneLab::kPeerPort + 7))
		      .verdict == XDP_REDIRECT);
	ep = lab.endpoint();
	CHECK(std::memcmp(&ep.addr.v4, moved.bytes.data(), 4) == 0);
	CHECK(ntohs(ep.port) == DataplaneLab::kPeerPort + 5);

	// Without FlowPorts every port change is a roam.
	REQUIRE(lab.dp.set_peer_flow_ports(DataplaneLab::kPeer, 0));
	CHECK(lab.rx(lab.data_frame(moved, lab.local4, counter++, inner,
				    DataplaneLab::kPeerPort + 6))
		      .verdict == XDP_REDIRECT);
	CHECK(ntohs(lab.endpoint().port) == DataplaneLab::kPeerPort + 6);
}

TEST_CASE("rx: with rx_cpus >= 2 data packets go to another CPU untouched, the rest stays")
{
	DataplaneLab lab;
	auto cfg = lab.dp.config();
	REQUIRE(cfg);
	REQUIRE(lab.dp.enable_rx_cpus({0, 1}, *cfg) == 2);
	CHECK(cfg->rx_cpus == 2);
	REQUIRE(lab.dp.set_config(*cfg));

	Bytes data = lab.data_frame(lab.peer4, lab.local4, 0, inner_packet(lab.peer_in4, lab.our_in4, 64));
	auto r = lab.rx(data);
	CHECK(r.verdict == XDP_REDIRECT);
	CHECK(r.out == data); // the cpumap stage decrypts, not this one
	auto kp = lab.dp.keypair(DataplaneLab::kIndex);
	CHECK((kp->flags & XWG_KEYPAIR_CONFIRMED) == 0);

	Bytes init(148, 0);
	init[0] = 1;
	Bytes hs = udp_frame(lab.peer4, 40000, lab.local4, DataplaneLab::kPort, init);
	CHECK(lab.rx(hs).verdict == XDP_PASS);
	Bytes other = udp_frame(lab.peer4, 1, lab.local4, 53, Bytes(20, 1));
	CHECK(lab.rx(other).verdict == XDP_PASS);

	// The CPU comes from rx_cpu_ids, not from the index itself: CPUs without a cpumap
	// entry mean no hand-off, and the packet is decrypted right here.
	cfg->rx_cpu_ids[0] = cfg->rx_cpu_ids[1] = XWG_MAX_RX_CPUS - 1;
	REQUIRE(lab.dp.set_config(*cfg));
	Bytes data2 = lab.data_frame(lab.peer4, lab.local4, 1, inner_packet(lab.peer_in4, lab.our_in4, 64));
	auto here = lab.rx(data2);
	CHECK(here.verdict == XDP_REDIRECT);
	CHECK(here.out != data2);
	kp = lab.dp.keypair(DataplaneLab::kIndex);
	CHECK((kp->flags & XWG_KEYPAIR_CONFIRMED) != 0);
}
