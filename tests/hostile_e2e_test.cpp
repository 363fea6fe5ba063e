// hostile_e2e_test.cpp — hostile input against a live xwg tunnel (tests/netns_lab.h): xwg
// in namespace A, the stock wireguard-go in namespace B. From B's underlay, through an
// AF_PACKET socket: real data packets captured there, replayed and bit-flipped; tens of
// thousands of forged datagrams to xwg's listen port over IPv4 and IPv6 (every message
// type, wrong lengths, reserved bits, unknown receiver indexes, zero and exhausted
// counters, random bytes); and wireguard-go itself sending inner sources outside its
// allowed IPs. Required: nothing reaches the tunnel device, each drop is counted under
// its reason in `xwg show`, the daemon stays up, and the tunnel still carries traffic.
#include <catch2/catch.hpp>

#include "netns_lab.h"

#include <random>
#include <set>

using namespace xwg::lab;

namespace {

void put_le32(Bytes &b, std::size_t off, std::uint32_t v)
{
	for (int i = 0; i < 4; ++i)
		b[off + i] = static_cast<std::uint8_t>(v >> (8 * i));
}
void put_le64(Bytes &b, std::size_t off, std::uint64_t v)
{
	for (int i = 0; i < 8; ++i)
		b[off + i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint32_t get_le32(const Bytes &b, std::size_t off)
{
	std::uint32_t v = 0;
	for (int i = 0; i < 4; ++i)
		v |= static_cast<std::uint32_t>(b[off + i]) << (8 * i);
	return v;
}

// Exact lengths of the handshake messages (types 1-3), by WireGuard's wire format.
std::size_t handshake_len(std::uint32_t type)
{
	return type == 1 ? 148 : type == 2 ? 92 : type == 3 ? 64 : 0;
}

// What WireGuard's rules make of a forged message to the listen port whose receiver index
// is unknown: a drop reason, or "" for a handshake-shaped message the daemon gets.
std::string expected_reason(const Bytes &msg)
{
	if (msg.size() < 4)
		return "bad_length";
	std::uint32_t type = get_le32(msg, 0);
	if (type >= 1 && type <= 3)
		return msg.size() == handshake_len(type) ? "" : "bad_length";
	if (type == 4)
		return msg.size() < 32 ? "bad_length" : "unknown_receiver_index";
	return "bad_type";
}

} // namespace

TEST_CASE("hostile input: replays, bit flips, forgeries and spoofed inner sources are "
	  "dropped and counted; the tunnel survives",
	  "[e2e][netns][hostile]")
{
	Tunnel t(tunnel_options(PeerKind::wggo, 4));
	for (int family : {4, 6})
		for (char side : {'a', 'b'})
			REQUIRE(t.ping(side, family, 1, 3).rc == 0);

	// Capture real data packets wireguard-go sends to xwg.
	RawLink link(t.b, t.ub);
	link.drain();
	Child pinger = Child::spawn({"nsenter", "--net=" + t.b.path(), "ping", "-c", "10", "-i",
				     "0.1", "-s", "200", Tunnel::overlay('a', 4)},
				    t.dir.file("ping.log"));
	auto captured = link.capture(4000ms, [](const Datagram &d) {
		return d.outgoing && d.dst.port == 51820 && d.payload.size() > 32 && d.payload[0] == 4;
	}, 10);
	pinger.wait(5s);
	INFO(t.diagnostics());
	REQUIRE(captured.size() >= 5);
	std::set<std::uint32_t> known_index;
	for (auto &c : captured)
		known_index.insert(get_le32(c.payload, 4));

	const auto mac_a = link_mac(t.a, t.ua), mac_b = link_mac(t.b, t.ub);
	const UdpAddr src4{"192.0.2.2", 51820}, dst4{"192.0.2.1", 51820};
	const UdpAddr src6{"2001:db8::2", 51820}, dst6{"2001:db8::1", 51820};
	std::size_t sent = 0, sent6 = 0;
	auto send = [&](const Bytes &msg, bool v6) {
		link.send_frame(udp_frame(mac_a, mac_b, v6 ? src6 : src4, v6 ? dst6 : dst4, msg));
		if (++sent % 64 == 0)
			std::this_thread::sleep_for(1ms); // stay within the veth's XDP ring
		sent6 += v6;
	};

	std::this_thread::sleep_for(300ms);
	const auto rx0 = link_stats(t.a, t.if_a).rx_packets;
	auto drops0 = t.xwg_a->drops();
	std::map<std::string, std::uint64_t> expect;
	std::size_t to_daemon = 0;
	std::mt19937_64 rng(0x5eed);
	auto rnd = [&](std::uint64_t lo, std::uint64_t hi) {
		return std::uniform_int_distribution<std::uint64_t>(lo, hi)(rng);
	};
	auto random_bytes = [&](std::size_t n) {
		Bytes b(n);
		for (auto &x : b)
			x = static_cast<std::uint8_t>(rng());
		return b;
	};

	// Captured packets, over and over: replayed as they were (IPv4) and re-wrapped in IPv6;
	// bit-flipped with their own (seen) counter; bit-flipped under a fresh counter; with
	// the counter zeroed; with an exhausted counter.
	for (const auto &c : captured) {
		const Bytes &m = c.payload;
		for (int i = 0; i < 5; ++i)
			send(m, false);
		for (int i = 0; i < 3; ++i)
			send(m, true);
		expect["replayed"] += 8;
		for (int k = 0; k < 8; ++k) {
			Bytes f = m;
			f[16 + rnd(0, f.size() - 17)] ^= static_cast<std::uint8_t>(1u << rnd(0, 7));
			send(f, k & 1);
			expect["replayed"] += 1;
		}
		for (int k = 0; k < 20; ++k) {
			Bytes f = m;
			put_le64(f, 8, get_le32(m, 8) + 100000 + rnd(0, 1000000));
			f[16 + rnd(0, f.size() - 17)] ^= static_cast<std::uint8_t>(1u << rnd(0, 7));
			send(f, k & 1);
			expect["auth_failed"] += 1;
		}
		for (int k = 0; k < 2; ++k) {
			Bytes f = m;
			put_le64(f, 8, 0);
			send(f, k & 1);
			expect["replayed"] += 1;
			put_le64(f, 8, ~std::uint64_t{0} - rnd(0, 100));
			send(f, k & 1);
			expect["counter_limit"] += 1;
		}
	}
	const std::size_t from_capture = sent;

	// Forged datagrams, half over IPv4 and half over IPv6.
	const std::size_t forged = 24000;
	for (std::size_t i = 0; i < forged; ++i) {
		const bool v6 = i & 1;
		Bytes msg;
		switch (i / 2 % 9) {
		case 0: // data, too short
			msg = random_bytes(rnd(4, 31));
			put_le32(msg, 0, 4);
			break;
		case 1: // data, unknown receiver index
		case 2: // ... with a zero counter
			msg = random_bytes(rnd(32, 1400));
			put_le32(msg, 0, 4);
			{
				std::uint32_t idx;
				do
					idx = static_cast<std::uint32_t>(rng());
				while (known_index.count(idx));
				put_le32(msg, 4, idx);
			}
			if (i / 2 % 9 == 2)
				put_le64(msg, 8, 0);
			break;
		case 3: { // handshake types, wrong lengths
			std::uint32_t type = static_cast<std::uint32_t>(rnd(1, 3));
			std::size_t n;
			do
				n = rnd(4, 300);
			while (n == handshake_len(type));
			msg = random_bytes(n);
			put_le32(msg, 0, type);
			break;
		}
		case 4: { // unknown types
			msg = random_bytes(rnd(4, 200));
			std::uint32_t type = static_cast<std::uint32_t>(rnd(0, 255));
			if (type >= 1 && type <= 4)
				type = 0;
			put_le32(msg, 0, type);
			break;
		}
		case 5: { // known types with reserved bytes set
			std::uint32_t type = static_cast<std::uint32_t>(rnd(1, 4));
			msg = random_bytes(type == 4 ? rnd(32, 200) : handshake_len(type));
			put_le32(msg, 0, type | static_cast<std::uint32_t>(rnd(1, 0xffffff)) << 8);
			break;
		}
		case 6: // shorter than a message header
			msg = random_bytes(rnd(0, 3));
			break;
		case 7: // handshake-shaped, of the exact lengths: for the daemon, which rejects them
			if (i % 4 == 0) {
				std::uint32_t type = static_cast<std::uint32_t>(rnd(1, 3));
				msg = random_bytes(handshake_len(type));
				put_le32(msg, 0, type);
			} else {
				msg = random_bytes(rnd(0, 1400));
			}
			break;
		default: // random bytes
			msg = random_bytes(rnd(0, 1400));
			break;
		}
		if (msg.size() >= 8 && get_le32(msg, 0) == 4 && known_index.count(get_le32(msg, 4)))
			put_le32(msg, 4, get_le32(msg, 4) ^ 0x80000000u);
		std::string reason = expected_reason(msg);
		if (reason.empty())
			++to_daemon;
		else
			expect[reason] += 1;
		send(msg, v6);
	}

	// wireguard-go sends, authenticated, from sources outside its allowed IPs.
	t.b.in("ip addr add 198.51.100.99/32 dev " + t.if_b);
	t.b.in("ip addr add fd00:77::99/128 dev " + t.if_b + " nodad");
	CHECK(t.b.try_in("ping -c 3 -i 0.2 -W 1 -I 198.51.100.99 " + Tunnel::overlay('a', 4)).rc != 0);
	CHECK(t.b.try_in("ping -6 -c 3 -i 0.2 -W 1 -I fd00:77::99 " + Tunnel::overlay('a', 6)).rc != 0);
	expect["inner_src_not_allowed"] += 6;
	// Gone again: a /128 would win IPv6 source selection over fd00:77::2/64 from here on.
	t.b.in("ip addr del 198.51.100.99/32 dev " + t.if_b);
	t.b.in("ip addr del fd00:77::99/128 dev " + t.if_b);

	// The daemon rejects the handshake-shaped ones (bad mac1, unknown index) and counts
	// them as control_invalid; give it a bounded moment to drain its socket.
	expect["control_invalid"] += to_daemon;
	auto drops1 = t.xwg_a->drops();
	for (int i = 0; i < 50 && drops1["control_invalid"] - drops0["control_invalid"] < to_daemon; i++) {
		std::this_thread::sleep_for(100ms);
		drops1 = t.xwg_a->drops();
	}
	std::this_thread::sleep_for(500ms);
	const auto rx1 = link_stats(t.a, t.if_a).rx_packets;
	drops1 = t.xwg_a->drops();
	INFO(sent << " frames (" << sent6 << " over IPv6; " << from_capture << " from "
		  << captured.size() << " captured packets), " << to_daemon
		  << " handshake-shaped for the daemon\n"
		  << t.diagnostics());
	CHECK(sent >= 20000);

	// Nothing reached the tunnel device.
	CHECK(rx1 == rx0);
	// Each drop under its reason, exactly.
	for (const auto &[reason, n] : expect) {
		INFO("drop reason " << reason);
		CHECK(drops1[reason] - drops0[reason] == n);
	}
	// And nothing else (a passive keepalive from wireguard-go is legitimate).
	for (const auto &[reason, n] : drops1)
		if (!expect.count(reason) && reason != "keepalive") {
			INFO("drop reason " << reason);
			CHECK(n == drops0[reason]);
		}

	// The daemon is up, and the tunnel carries traffic.
	CHECK(t.xwg_a->daemon_alive());
	for (int family : {4, 6})
		for (char side : {'a', 'b'}) {
			auto r = t.ping(side, family);
			INFO(r.out);
			CHECK(r.rc == 0);
		}
	CHECK(link_stats(t.a, t.if_a).rx_packets > rx1); // the counter does move for real traffic
	for (char side : {'a', 'b'}) {
		auto err = tcp_transfer(t, side, 4, payload(20'000'000), 60);
		INFO(err);
		CHECK(err.empty());
	}
}
