// dataplane_tx_test.cpp — the real xwg_tx object through BPF_PROG_TEST_RUN: its output
// is opened with libsodium, headers and checksums are checked, and packets without a
// session land in the events ring.
#include <catch2/catch.hpp>

#include "dataplane_lab.h"

#include <bpf/libbpf.h>

#include <atomic>
#include <map>
#include <thread>

using namespace xwgtest;
using namespace xwg::protocol;
using namespace std::chrono_literals;

namespace {

struct Sent {
	Bytes frame;
	uint64_t counter = 0;
	uint32_t receiver = 0;
	uint16_t sport = 0;
	Bytes plaintext;
};

// Checks the outer headers xwg_tx wrote for @lab's peer and opens the message. The source
// port is ListenPort, or within [@sport_lo, @sport_hi] for a FlowPorts peer.
Sent open_sent(const DataplaneLab &lab, const RunResult &r, int outer_family,
	       uint16_t sport_lo = DataplaneLab::kPort, uint16_t sport_hi = DataplaneLab::kPort)
{
	Sent s;
	s.frame = r.out;
	REQUIRE(r.verdict == TC_ACT_REDIRECT);
	const auto *eth = reinterpret_cast<const ethhdr *>(r.out.data());
	size_t l4;
	if (outer_family == AF_INET) {
		REQUIRE(ntohs(eth->h_proto) == ETH_P_IP);
		const auto *ip = reinterpret_cast<const iphdr *>(r.out.data() + sizeof(ethhdr));
		CHECK(ip->version == 4);
		CHECK(ip->protocol == IPPROTO_UDP);
		CHECK(ntohs(ip->tot_len) == r.out.size() - sizeof(ethhdr));
		CHECK(csum_fold(csum_add(0, reinterpret_cast<const uint8_t *>(ip), 20)) == 0);
		CHECK(std::memcmp(&ip->saddr, lab.local4.bytes.data(), 4) == 0);
		CHECK(std::memcmp(&ip->daddr, lab.peer4.bytes.data(), 4) == 0);
		l4 = sizeof(ethhdr) + sizeof(iphdr);
	} else {
		REQUIRE(ntohs(eth->h_proto) == ETH_P_IPV6);
		const auto *ip6 = reinterpret_cast<const ipv6hdr *>(r.out.data() + sizeof(ethhdr));
		CHECK(ip6->version == 6);
		CHECK(ip6->nexthdr == IPPROTO_UDP);
		CHECK(ntohs(ip6->payload_len) == r.out.size() - sizeof(ethhdr) - sizeof(ipv6hdr));
		CHECK(std::memcmp(&ip6->saddr, lab.local6.bytes.data(), 16) == 0);
		CHECK(std::memcmp(&ip6->daddr, lab.peer6.bytes.data(), 16) == 0);
		l4 = sizeof(ethhdr) + sizeof(ipv6hdr);
	}
	const auto *uh = reinterpret_cast<const udphdr *>(r.out.data() + l4);
	s.sport = ntohs(uh->source);
	CHECK(s.sport >= sport_lo);
	CHECK(s.sport <= sport_hi);
	CHECK(ntohs(uh->dest) == DataplaneLab::kPeerPort);
	CHECK(ntohs(uh->len) == r.out.size() - l4);
	CHECK(uh->check != 0);
	CHECK(udp_checksum_ok(r.out));
	Bytes msg(r.out.begin() + l4 + sizeof(udphdr), r.out.end());
	REQUIRE(msg.size() >= 32);
	const auto *h = reinterpret_cast<const xwg_msg_data *>(msg.data());
	CHECK(h->header.type == XWG_MSG_DATA);
	s.counter = h->counter;
	s.receiver = h->key_idx;
	REQUIRE(open_data_message(msg, lab.send_key, s.plaintext));
	return s;
}

Bytes padded(const Bytes &inner, size_t mtu = 1420)
{
	Bytes p = inner;
	size_t len = (inner.size() + 15) & ~size_t(15);
	p.resize(std::min(len, std::max(mtu, inner.size())), 0);
	return p;
}

} // namespace

TEST_CASE("tx: output decrypts to the padded inner packet, every family combination")
{
	DataplaneLab lab;
	uint64_t expect_counter = 0;
	for (int outer : {AF_INET, AF_INET6}) {
		if (outer == AF_INET)
			lab.set_endpoint(lab.peer4, lab.local4);
		else
			lab.set_endpoint(lab.peer6, lab.local6);
		for (bool inner6 : {false, true}) {
			for (size_t len : {0u, 1u, 13u, 100u, 1000u, 1392u - 28u}) {
				INFO("outer " << (outer == AF_INET ? "v4" : "v6") << " inner "
					      << (inner6 ? "v6" : "v4") << " payload " << len);
				Bytes inner = inner6 ? inner_packet(lab.our_in6, lab.peer_in6, len)
						     : inner_packet(lab.our_in4, lab.peer_in4, len);
				auto s = open_sent(lab, lab.tx(tunnel_frame(inner)), outer);
				CHECK(s.counter == expect_counter++);
				CHECK(s.receiver == DataplaneLab::kRemoteIndex);
				CHECK(s.plaintext == padded(inner));
			}
		}
	}
	auto st = lab.dp.peer_stats(DataplaneLab::kPeer);
	CHECK(st.tx_packets == expect_counter);
	CHECK(st.last_tx_ns > 0);
}

TEST_CASE("tx: FlowPorts sends each inner flow from its own port next to ListenPort")
{
	DataplaneLab lab;
	constexpr uint16_t lo = DataplaneLab::kPort + 1, hi = DataplaneLab::kPort + 4;
	REQUIRE(lab.dp.set_peer_flow_ports(DataplaneLab::kPeer, 4));
	std::map<uint16_t, int> used;
	for (int flow = 0; flow < 32; flow++) {
		// Flows differ by their inner source address; each is sent twice.
		Addr src = lab.our_in4;
		src.bytes[3] = static_cast<uint8_t>(10 + flow);
		Bytes inner = inner_packet(src, lab.peer_in4, 100);
		auto a = open_sent(lab, lab.tx(tunnel_frame(inner)), AF_INET, lo, hi);
		auto b = open_sent(lab, lab.tx(tunnel_frame(inner)), AF_INET, lo, hi);
		CHECK(a.sport == b.sport);
		CHECK(a.plaintext == padded(inner));
		used[a.sport]++;
	}
	// 32 flows over 4 ports: all four taken (the chance of missing one is ~1e-3 for a
	// uniform hash; the kernel's flow hash is deterministic for these packets).
	CHECK(used.size() == 4);

	// Off again: ListenPort, as toward any stock peer.
	REQUIRE(lab.dp.set_peer_flow_ports(DataplaneLab::kPeer, 0));
	open_sent(lab, lab.tx(tunnel_frame(inner_packet(lab.our_in4, lab.peer_in4, 10))), AF_INET);
	// Near the top of the port range the ports go below ListenPort instead.
	auto cfg = lab.dp.config();
	REQUIRE(cfg);
	cfg->listen_port = 65534;
	REQUIRE(lab.dp.set_config(*cfg));
	REQUIRE(lab.dp.set_peer_flow_ports(DataplaneLab::kPeer, 4));
	for (int flow = 0; flow < 8; flow++) {
		Addr src = lab.our_in4;
		src.bytes[3] = static_cast<uint8_t>(50 + flow);
		auto s = open_sent(lab, lab.tx(tunnel_frame(inner_packet(src, lab.peer_in4, 10))),
				   AF_INET, 65530, 65535);
		CHECK(s.sport != 65534);
	}
}

TEST_CASE("tx: padding stops at the MTU")
{
	DataplaneLab lab;
	Bytes inner = inner_packet(lab.our_in4, lab.peer_in4, 1420 - 28);
	REQUIRE(inner.size() == 1420);
	auto s = open_sent(lab, lab.tx(tunnel_frame(inner)), AF_INET);
	CHECK(s.plaintext == inner); // 1420 is not a multiple of 16, and stays 1420
}

TEST_CASE("tx: counters strictly increase, shared with the daemon's atomic")
{
	DataplaneLab lab;
	Bytes inner = inner_packet(lab.our_in4, lab.peer_in4, 64);
	std::vector<uint64_t> seen;
	for (int i = 0; i < 30; i++) {
		if (i % 3 == 0)
			seen.push_back(lab.dp.take_send_counter(DataplaneLab::kSlot));
		seen.push_back(open_sent(lab, lab.tx(tunnel_frame(inner)), AF_INET).counter);
	}
	for (size_t i = 0; i < seen.size(); i++)
		CHECK(seen[i] == i);
}

TEST_CASE("tx: no keypair stages the packet and asks for a handshake once")
{
	DataplaneLab lab;
	Events events(lab.dp);
	lab.remove_keypair();
	Bytes inner = inner_packet(lab.our_in4, lab.peer_in4, 77);

	auto before = lab.drop_count(XWG_DROP_STAGED);
	CHECK(lab.tx(tunnel_frame(inner)).verdict == TC_ACT_SHOT);
	CHECK(lab.tx(tunnel_frame(inner)).verdict == TC_ACT_SHOT);
	CHECK(lab.drop_count(XWG_DROP_STAGED) == before + 2);

	auto recs = events.take();
	int handshakes = 0, staged = 0;
	for (const auto &rec : recs) {
		const auto &ev = event_of(rec);
		CHECK(ev.peer_id == DataplaneLab::kPeer);
		if (ev.type == XWG_EVENT_HANDSHAKE_NEEDED)
			handshakes++;
		if (ev.type == XWG_EVENT_STAGED_PACKET) {
			staged++;
			REQUIRE(ev.len == inner.size());
			const auto *sp = reinterpret_cast<const xwg_staged_packet *>(rec.data());
			CHECK(Bytes(sp->data, sp->data + ev.len) == inner);
		}
	}
	CHECK(handshakes == 1);
	CHECK(staged == 2);
}

TEST_CASE("tx: an expired keypair stages too; an old initiator keypair asks for a rekey")
{
	DataplaneLab lab;
	Events events(lab.dp);
	Bytes inner = inner_packet(lab.our_in4, lab.peer_in4, 10);

	lab.install_keypair(boottime_ns() - to_ns(rekey_after_time + 1s));
	open_sent(lab, lab.tx(tunnel_frame(inner)), AF_INET);
	auto recs = events.take();
	REQUIRE(recs.size() == 1);
	CHECK(event_of(recs[0]).type == XWG_EVENT_REKEY_NEEDED);
	CHECK(event_of(recs[0]).local_index == DataplaneLab::kIndex);

	lab.install_keypair(boottime_ns() - to_ns(reject_after_time));
	CHECK(lab.tx(tunnel_frame(inner)).verdict == TC_ACT_SHOT);
	CHECK(lab.drop_count(XWG_DROP_STAGED) == 1);

	// The responder never rekeys on time: its keypair just sends.
	lab.install_keypair(boottime_ns() - to_ns(rekey_after_time + 1s), 0);
	events.take();
	open_sent(lab, lab.tx(tunnel_frame(inner)), AF_INET);
	for (const auto &rec : events.take())
		CHECK(event_of(rec).type != XWG_EVENT_REKEY_NEEDED);
}

TEST_CASE("tx: counter limits")
{
	DataplaneLab lab;
	Bytes inner = inner_packet(lab.our_in4, lab.peer_in4, 10);
	lab.dp.reset_send_counter(DataplaneLab::kSlot, XWG_REJECT_AFTER_MESSAGES);
	CHECK(lab.tx(tunnel_frame(inner)).verdict == TC_ACT_SHOT);
	CHECK(lab.drop_count(XWG_DROP_STAGED) == 1);
}

TEST_CASE("tx: the configured fwmark marks encrypted packets; without one the mark stays")
{
	DataplaneLab lab;
	Bytes inner = inner_packet(lab.our_in4, lab.peer_in4, 10);
	__sk_buff skb{};
	skb.mark = 7;
	open_sent(lab, lab.tx(tunnel_frame(inner), &skb), AF_INET);
	CHECK(skb.mark == 7);

	auto cfg = lab.dp.config();
	REQUIRE(cfg);
	cfg->fwmark = 0x1234;
	REQUIRE(lab.dp.set_config(*cfg));
	skb = __sk_buff{};
	open_sent(lab, lab.tx(tunnel_frame(inner), &skb), AF_INET);
	CHECK(skb.mark == 0x1234);
}

TEST_CASE("tx: both sides rekey after REKEY_AFTER_MESSAGES, from the configured limit")
{
	auto flags = GENERATE(0u, static_cast<unsigned>(XWG_KEYPAIR_INITIATOR));
	DYNAMIC_SECTION((flags ? "initiator" : "responder") << " keypair")
	{
		DataplaneLab lab;
		auto cfg = lab.dp.config();
		REQUIRE(cfg);
		cfg->rekey_after_messages = 5;
		REQUIRE(lab.dp.set_config(*cfg));
		Events events(lab.dp);
		Bytes inner = inner_packet(lab.our_in4, lab.peer_in4, 10);
		lab.install_keypair(boottime_ns(), flags);

		lab.dp.reset_send_counter(DataplaneLab::kSlot, 4);
		open_sent(lab, lab.tx(tunnel_frame(inner)), AF_INET);
		CHECK(events.take().empty());
		// Counter 5 is still sent, and asks for a new handshake.
		open_sent(lab, lab.tx(tunnel_frame(inner)), AF_INET);
		auto recs = events.take();
		REQUIRE(recs.size() == 1);
		CHECK(event_of(recs[0]).type == XWG_EVENT_REKEY_NEEDED);
		CHECK(event_of(recs[0]).local_index == DataplaneLab::kIndex);
	}
}

TEST_CASE("tx: drops without a peer, without an endpoint, for non-IP")
{
	DataplaneLab lab;
	auto r = lab.tx(tunnel_frame(inner_packet(lab.our_in4, addr("198.18.5.5"), 10)));
	CHECK(r.verdict == TC_ACT_SHOT);
	CHECK(lab.drop_count(XWG_DROP_NO_PEER) == 1);

	Mac a{2, 0, 0, 0, 0, 1};
	r = lab.tx(ethernet(a, a, ETH_P_ARP, Bytes(28, 0)));
	CHECK(r.verdict == TC_ACT_SHOT);
	CHECK(lab.drop_count(XWG_DROP_TX_NOT_IP) == 1);

	REQUIRE(lab.dp.set_endpoint(DataplaneLab::kPeer, xwg_endpoint{}));
	r = lab.tx(tunnel_frame(inner_packet(lab.our_in4, lab.peer_in4, 10)));
	CHECK(r.verdict == TC_ACT_SHOT);
	CHECK(lab.drop_count(XWG_DROP_NO_ENDPOINT) == 1);
}

TEST_CASE("tx then rx: a packet sealed by xwg_tx is delivered by xwg_rx")
{
	// Two labs sharing keys: A's send key is B's receive key.
	DataplaneLab a, b;
	b.recv_key = a.send_key;
	b.install_keypair(boottime_ns());
	auto inner = inner_packet(b.peer_in4, b.our_in4, 300);
	auto out = a.tx(tunnel_frame(inner));
	REQUIRE(out.verdict == TC_ACT_REDIRECT);
	// Deliver to B: fix the receiver index to B's local index.
	Bytes frame = out.out;
	auto *h = reinterpret_cast<xwg_msg_data *>(frame.data() + sizeof(ethhdr) + sizeof(iphdr) +
						   sizeof(udphdr));
	CHECK(h->key_idx == DataplaneLab::kRemoteIndex);
	h->key_idx = DataplaneLab::kIndex;
	auto *uh = reinterpret_cast<udphdr *>(frame.data() + sizeof(ethhdr) + sizeof(iphdr));
	uh->dest = htons(DataplaneLab::kPort);
	auto r = b.rx(frame);
	CHECK(r.verdict == XDP_REDIRECT);
	CHECK(Bytes(r.out.begin() + sizeof(ethhdr), r.out.end()) == inner);
}

TEST_CASE("retiring a keypair never leaves a usable entry with a known (zero) key")
{
	// The daemon retires keypairs while packets flow: a race between install/delete
	// and both programs must never accept a packet sealed with the zero key nor seal
	// one with it.
	DataplaneLab lab;
	std::atomic<bool> stop{false};
	std::atomic<int> sent_live{0};
	Key zero{};
	std::thread rotate([&] {
		while (!stop) {
			lab.install_keypair(boottime_ns());
			// Live until a packet went out with it (at most ~2 ms), then retired while
			// packets keep coming: marked, a grace period, wiped.
			const int before = sent_live.load();
			for (int i = 0; i < 2000 && !stop && sent_live.load() == before; i++)
				std::this_thread::yield();
			lab.remove_keypair();
		}
	});
	Bytes inner = inner_packet(lab.peer_in4, lab.our_in4, 64);
	Bytes out_frame = tunnel_frame(inner_packet(lab.our_in4, lab.peer_in4, 64));
	int delivered = 0, sealed_with_zero = 0, sent = 0;
	for (uint64_t c = 0; c < 20000; c++) {
		Bytes forged = udp_frame(lab.peer4, DataplaneLab::kPeerPort, lab.local4, DataplaneLab::kPort,
					 data_message(DataplaneLab::kIndex, c, zero, inner));
		if (lab.rx(forged).verdict == XDP_REDIRECT)
			delivered++;
		auto t = lab.tx(out_frame);
		if (t.verdict != TC_ACT_REDIRECT)
			continue;
		sent++;
		sent_live++;
		Bytes msg(t.out.begin() + sizeof(ethhdr) + sizeof(iphdr) + sizeof(udphdr), t.out.end());
		Bytes plain;
		if (open_data_message(msg, zero, plain))
			sealed_with_zero++;
	}
	stop = true;
	rotate.join();
	INFO(sent << " packets sent during the race");
	CHECK(delivered == 0);
	CHECK(sealed_with_zero == 0);
	CHECK(sent > 0);
}
