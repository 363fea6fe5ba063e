// tunnel_e2e_test.cpp — live tunnels between two network namespaces (tests/netns_lab.h):
// xwg in namespace A against the stock wireguard-go, or against a second xwg, in
// namespace B. Real traffic through the real daemon and data plane: pings and checksummed
// TCP both ways over IPv4 and IPv6 underlays and overlays, either side initiating with
// the first packet staged, rekeying under load, restart, roaming, persistent keepalive,
// and the stock `wg` managing xwg.
#include <catch2/catch.hpp>

#include "netns_lab.h"
#include "xwg/maps.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <ctime>
#include <set>

using namespace xwg::lab;

namespace {

constexpr std::size_t MB20 = 20'000'000;

// Pings and 20 MB of TCP from each side, over both overlay families.
void ping_and_tcp_both_ways(const Tunnel &t)
{
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
}

} // namespace

TEST_CASE("ping and 20 MB TCP both ways, IPv4 and IPv6 overlay, over each underlay",
	  "[e2e][netns][interop]")
{
	auto kind = GENERATE(PeerKind::wggo, PeerKind::xwg);
	int underlay = GENERATE(4, 6);
	DYNAMIC_SECTION("xwg <-> " << kind_name(kind) << " over IPv" << underlay)
	{
		Tunnel t(tunnel_options(kind, underlay));
		ping_and_tcp_both_ways(t);
		// The endpoint each side uses is on the chosen underlay.
		CHECK(wg_field(t.a, t.if_a, "endpoints") == t.endpoint('b'));
	}
}

// The receive path for drivers without native XDP: a TC ingress program on the underlay
// decrypts skbs and redirects them into the tunnel. Forced here (veth has native XDP).
TEST_CASE("ReceivePath = tc: ping and 20 MB TCP both ways over the TC receive path",
	  "[e2e][netns][interop][tc]")
{
	auto kind = GENERATE(PeerKind::wggo, PeerKind::xwg);
	int underlay = GENERATE(4, 6);
	DYNAMIC_SECTION("xwg <-> " << kind_name(kind) << " over IPv" << underlay)
	{
		auto o = tunnel_options(kind, underlay);
		o.receive_path = "tc";
		Tunnel t(o);
		ping_and_tcp_both_ways(t);
		// No XDP on the underlay; show names the TC path; nothing failed to authenticate.
		CHECK(t.a.in("ip -o link show dev " + t.ua).find("xdp") == std::string::npos);
		auto shown = t.xwg_a->show_json();
		REQUIRE(shown["receive"].size() == 1);
		CHECK(shown["receive"][0]["device"] == t.ua);
		CHECK(shown["receive"][0]["path"] == "tc");
		CHECK(!shown["drops"].contains("auth_failed"));
	}
}

// A driver without native XDP (here macvlan, which has none at all): `ReceivePath = auto`
// must receive on TC ingress, never generic XDP, whose bpf_xdp_adjust_tail leaves the skb's
// tail past its data and corrupts TCP streams (tests/repro/generic_xdp).
TEST_CASE("no native XDP on the underlay: auto receives on TC ingress, never generic XDP",
	  "[e2e][netns][interop][tc]")
{
	int underlay = GENERATE(4, 6);
	DYNAMIC_SECTION("macvlan underlay over IPv" << underlay)
	{
		auto o = tunnel_options(PeerKind::wggo, underlay);
		o.a_macvlan = true;
		Tunnel t(o);
		const std::string link = t.a.in("ip -d link show dev " + t.ua);
		INFO(link);
		CHECK(link.find("macvlan") != std::string::npos);
		CHECK(link.find("xdp") == std::string::npos); // neither native nor generic
		auto shown = t.xwg_a->show_json();
		REQUIRE(shown["receive"].size() == 1);
		CHECK(shown["receive"][0]["path"] == "tc");
		ping_and_tcp_both_ways(t);
		CHECK(!t.xwg_a->show_json()["drops"].contains("auth_failed"));
	}
}

TEST_CASE("either side initiates; the very first packet is staged and arrives",
	  "[e2e][netns][interop][staging]")
{
	auto kind = GENERATE(PeerKind::wggo, PeerKind::xwg);
	char initiator = GENERATE('a', 'b');
	int family = GENERATE(4, 6);
	DYNAMIC_SECTION("xwg <-> " << kind_name(kind) << ", " << initiator << " initiates, IPv"
				   << family << " overlay")
	{
		// Only the initiator knows an endpoint: nobody else can start the handshake.
		auto o = tunnel_options(kind, 4);
		o.a_endpoint = initiator == 'a';
		o.b_endpoint = initiator == 'b';
		Tunnel t(o);
		CHECK(wg_field(t.a, t.if_a, "latest-handshakes") == "0");
		// One echo request, nothing before it: it is the packet that starts the handshake.
		auto r = t.ping(initiator, family, 1, 6);
		INFO(r.out << t.diagnostics());
		REQUIRE(r.rc == 0);
		CHECK(wg_field(t.a, t.if_a, "latest-handshakes") != "0");
		if (initiator == 'a' && kind == PeerKind::xwg) {
			// The staged packet went through xwg's staging path.
			CHECK(t.xwg_a->drops()["staged"] >= 1);
		}
		// And the other way at once, on the same session.
		r = t.ping(initiator == 'a' ? 'b' : 'a', family, 1, 3);
		INFO(r.out);
		CHECK(r.rc == 0);
	}
}

TEST_CASE("rekey under load: a transfer spanning several rekeys arrives intact",
	  "[e2e][netns][interop][rekey]")
{
	// xwg rekeys every 2 s (xwg_tx asks at most once per REKEY_TIMEOUT, so that is 1 s);
	// the underlay is shaped to 100 Mbit/s so each 60 MB transfer takes ~5 s.
	auto o = tunnel_options(PeerKind::wggo, 4);
	o.xwg_env = {"XWG_REKEY_AFTER_TIME=2", "XWG_REJECT_AFTER_TIME=8", "XWG_REKEY_TIMEOUT=1"};
	Tunnel t(o);
	t.a.in("tc qdisc add dev " + t.ua + " root tbf rate 100mbit burst 128kb latency 100ms");
	t.b.in("tc qdisc add dev " + t.ub + " root tbf rate 100mbit burst 128kb latency 100ms");
	REQUIRE(t.ping('a', 4, 1, 5).rc == 0);

	std::set<std::string> seen_b, seen_a; // distinct latest-handshake values
	std::atomic<bool> stop{false};
	std::thread sampler([&] {
		while (!stop) {
			seen_b.insert(wg_field(t.b, t.if_b, "latest-handshakes"));
			seen_a.insert(wg_field(t.a, t.if_a, "latest-handshakes"));
			std::this_thread::sleep_for(200ms);
		}
	});
	std::string err_ab = tcp_transfer(t, 'a', 4, payload(MB20), 60, 3);
	std::string err_ba = tcp_transfer(t, 'b', 6, payload(MB20), 60, 3);
	stop = true;
	sampler.join();
	seen_b.erase("");
	seen_b.erase("0");
	seen_a.erase("");
	seen_a.erase("0");
	INFO(err_ab << "\n" << err_ba << "\n" << t.diagnostics());
	CHECK(err_ab.empty());
	CHECK(err_ba.empty());
	// wg show (wireguard-go's side and xwg's) saw fresh handshakes all along.
	CHECK(seen_b.size() >= 4);
	CHECK(seen_a.size() >= 4);
	long last = std::stol(wg_field(t.b, t.if_b, "latest-handshakes"));
	CHECK(time(nullptr) - last <= 4);
}

TEST_CASE("rekey after messages: xwg rekeys after XWG_REKEY_AFTER_MESSAGES, also as responder",
	  "[e2e][netns][interop][rekey]")
{
	auto o = tunnel_options(PeerKind::wggo, 4);
	o.xwg_env = {"XWG_REKEY_AFTER_MESSAGES=2000", "XWG_REKEY_TIMEOUT=1"};
	Tunnel t(o);
	// wireguard-go initiates, so xwg sends with a responder's keypair; wireguard-go
	// itself would not rekey for 120 s.
	REQUIRE(t.ping('b', 4, 1, 5).rc == 0);
	const long first = std::stol(wg_field(t.b, t.if_b, "latest-handshakes"));
	std::this_thread::sleep_for(1100ms); // latest-handshakes counts whole seconds
	std::string err = tcp_transfer(t, 'a', 4, payload(MB20), 30);
	INFO(err << "\n" << t.diagnostics());
	CHECK(err.empty());
	REQUIRE(t.ping('a', 4, 1, 5).rc == 0);
	CHECK(std::stol(wg_field(t.b, t.if_b, "latest-handshakes")) > first);
	// ... and the new handshake is xwg's: it holds a keypair it initiated.
	auto keypairs = t.a.in("bpftool -j map dump pinned /sys/fs/bpf/xwg/" + t.if_a + "/keypairs");
	INFO(keypairs);
	auto dump = nlohmann::json::parse(keypairs);
	bool initiated = false;
	for (const auto &e : dump)
		if (e.contains("formatted"))
			initiated |= (e["formatted"]["value"]["flags"].get<unsigned>() & XWG_KEYPAIR_INITIATOR) != 0;
	CHECK(initiated);
}

TEST_CASE("restart: xwg down and up while wireguard-go keeps running; traffic resumes",
	  "[e2e][netns][interop][restart]")
{
	Tunnel t(tunnel_options(PeerKind::wggo, 4));
	REQUIRE(t.ping('a', 4).rc == 0);
	REQUIRE(t.ping('b', 6).rc == 0);
	auto r = t.xwg_a->down();
	INFO(r.out);
	REQUIRE(r.rc == 0);
	CHECK_FALSE(exists("/sys/fs/bpf/xwg/" + t.if_a));
	t.up_a();
	auto p = t.ping('a', 4, 3, 5);
	INFO(p.out << t.diagnostics());
	REQUIRE(p.rc == 0);
	CHECK(t.ping('b', 4).rc == 0);
	CHECK(t.ping('b', 6).rc == 0);
	auto err = tcp_transfer(t, 'b', 4, payload(MB20));
	INFO(err);
	CHECK(err.empty());
}

TEST_CASE("roaming: the peer moves to a new underlay address and xwg follows",
	  "[e2e][netns][interop][roaming]")
{
	int underlay = GENERATE(4, 6);
	DYNAMIC_SECTION("over IPv" << underlay)
	{
		Tunnel t(tunnel_options(PeerKind::wggo, underlay));
		REQUIRE(t.ping('a', 4).rc == 0);
		REQUIRE(wg_field(t.a, t.if_a, "endpoints") == t.endpoint('b'));
		const std::string old_ip = t.underlay_ip('b');
		const std::string new_ip = underlay == 6 ? "2001:db8::3" : "192.0.2.3";
		const std::string plen = underlay == 6 ? "/64" : "/24";
		// Old address first: deleting an IPv4 primary also deletes its secondaries.
		t.b.in("ip addr del " + old_ip + plen + " dev " + t.ub);
		t.b.in("ip addr add " + new_ip + plen + " dev " + t.ub + (underlay == 6 ? " nodad" : ""));
		// wireguard-go keeps a sticky source address per endpoint and does not drop it on
		// ENETUNREACH; setting its endpoint again clears it (the move, on its side).
		t.wggo_b->set("peer " + t.pub_a + " endpoint " + t.endpoint('a'));
		const std::string new_ep = underlay == 6 ? "[" + new_ip + "]:51820" : new_ip + ":51820";
		// wireguard-go's next authenticated packet comes from the new address.
		auto r = t.ping('b', 4, 3, 3);
		INFO(r.out << t.diagnostics());
		REQUIRE(r.rc == 0); // the replies already went to the new address
		CHECK(wg_field(t.a, t.if_a, "endpoints") == new_ep);
		auto shown = t.xwg_a->show_json();
		CHECK(shown["peers"][0]["endpoint"] == new_ep);
		// And xwg keeps sending there on its own.
		CHECK(t.ping('a', 6).rc == 0);
		auto err = tcp_transfer(t, 'a', 4, payload(MB20), 30);
		INFO(err);
		CHECK(err.empty());
	}
}

// The endpoint sits behind a gateway, so both the daemon's handshakes and the data
// plane's packets must take the underlay's default route, not the more specific halves
// that point into the tunnel.
TEST_CASE("full tunnel: AllowedIPs 0.0.0.0/0, ::/0 with the endpoint behind the default route",
	  "[e2e][netns][interop][routes]")
{
	int underlay = GENERATE(4, 6);
	DYNAMIC_SECTION("over IPv" << underlay)
	{
		TunnelOptions o = tunnel_options(PeerKind::wggo, underlay);
		o.a_full_tunnel = true;
		Tunnel t(o);
		// The halves of each default route point into the tunnel, the default stays.
		auto routes = t.a.in("ip route show") + t.a.in("ip -6 route show");
		INFO(routes);
		CHECK(routes.find("0.0.0.0/1 dev " + t.if_a) != std::string::npos);
		CHECK(routes.find("128.0.0.0/1 dev " + t.if_a) != std::string::npos);
		CHECK(routes.find("::/1 dev " + t.if_a) != std::string::npos);
		CHECK(routes.find("8000::/1 dev " + t.if_a) != std::string::npos);
		// Handshakes and encrypted packets still reach B over the underlay.
		for (int family : {4, 6}) {
			auto r = t.ping('a', family);
			INFO(r.out << t.diagnostics());
			CHECK(r.rc == 0);
		}
		CHECK(t.ping('b', 4).rc == 0);
		CHECK(wg_field(t.a, t.if_a, "endpoints") == t.endpoint('b'));
		auto err = tcp_transfer(t, 'a', 4, payload(MB20), 30);
		INFO(err);
		CHECK(err.empty());

		// The gateway moves: A's default route now goes via another address of B, and
		// the old gateway's neighbour entry is made to point nowhere. The daemon
		// notices the route change and gives the data plane the new next hop.
		const bool v6 = underlay == 6;
		const std::string fam = v6 ? "-6 " : "-4 ";
		const std::string old_gw = v6 ? "2001:db8::2" : "192.0.2.2";
		const std::string new_gw = v6 ? "2001:db8::3" : "192.0.2.3";
		t.b.in("ip addr add " + new_gw + (v6 ? "/64 nodad" : "/24") + " dev " + t.ub);
		t.a.in("ip " + fam + "route replace default via " + new_gw + " dev " + t.ua);
		t.a.in("ip neigh replace " + old_gw + " lladdr 02:00:00:00:00:01 nud permanent dev " +
		       t.ua);
		for (int family : {4, 6}) {
			auto r = t.ping('a', family, 3, 5);
			INFO("after the gateway change: " << r.out << t.diagnostics());
			CHECK(r.rc == 0);
		}
	}
}

TEST_CASE("PersistentKeepalive is sent at the configured interval, both ways",
	  "[e2e][netns][interop][keepalive]")
{
	auto o = tunnel_options(PeerKind::wggo, 4);
	o.a_keepalive = 1;
	Tunnel t(o);
	// wireguard-go started after xwg's first (unanswered) initiation: the retry comes
	// REKEY_TIMEOUT (5 s) later.
	REQUIRE(t.ping('a', 4, 1, 8).rc == 0);
	// xwg -> wireguard-go: type-4 messages of 32 bytes (header + empty payload + tag),
	// counted on wireguard-go's underlay.
	RawLink link(t.b, t.ub);
	std::this_thread::sleep_for(300ms);
	link.drain();
	auto t0 = Clock::now();
	auto seen = link.capture(5000ms, [](const Datagram &d) {
		return !d.outgoing && d.dst.port == 51820 && d.payload.size() == 32 &&
		       d.payload[0] == 4;
	});
	auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
	INFO(seen.size() << " keepalives in " << ms << " ms\n" << t.diagnostics());
	CHECK(seen.size() >= 4);
	CHECK(seen.size() <= 6);

	// wireguard-go -> xwg: counted (and dropped) by xwg_rx as keepalives.
	auto before = t.xwg_a->drops()["keepalive"];
	t.wggo_b->set("peer " + t.pub_a + " persistent-keepalive 1");
	std::this_thread::sleep_for(4500ms);
	auto after = t.xwg_a->drops()["keepalive"];
	INFO("keepalive drops " << before << " -> " << after);
	CHECK(after - before >= 3);
	CHECK(after - before <= 6);
}

TEST_CASE("stock wg reads xwg's interface, and wg set changes take effect on traffic",
	  "[e2e][netns][interop][wg]")
{
	Tunnel t(tunnel_options(PeerKind::wggo, 4));
	REQUIRE(t.ping('a', 4).rc == 0);
	REQUIRE(t.ping('a', 6).rc == 0);
	std::string show = t.a.in("wg show " + t.if_a);
	INFO(show);
	CHECK(show.find("public key: " + t.pub_a) != std::string::npos);
	CHECK(show.find("listening port: 51820") != std::string::npos);
	CHECK(show.find("peer: " + t.pub_b) != std::string::npos);
	CHECK(show.find("endpoint: 192.0.2.2:51820") != std::string::npos);
	CHECK(show.find("allowed ips: 198.51.100.2/32, fd00:77::2/128") != std::string::npos);
	CHECK(show.find("latest handshake:") != std::string::npos);
	CHECK(show.find("transfer:") != std::string::npos);
	CHECK(wg_field(t.a, t.if_a, "latest-handshakes") != "0");

	// Take fd00:77::2/128 away: IPv6 stops both ways, counted under its reasons.
	auto d0 = t.xwg_a->drops();
	t.a.in("wg set " + t.if_a + " peer " + t.pub_b + " allowed-ips 198.51.100.2/32");
	CHECK(t.a.in("wg show " + t.if_a + " allowed-ips").find("fd00:77::2") == std::string::npos);
	CHECK(t.ping('a', 4).rc == 0);
	CHECK(t.ping('a', 6, 2, 1).rc != 0);
	CHECK(t.ping('b', 6, 2, 1).rc != 0);
	auto d1 = t.xwg_a->drops();
	CHECK(d1["no_peer"] >= d0["no_peer"] + 2);
	CHECK(d1["inner_src_not_allowed"] >= d0["inner_src_not_allowed"] + 2);

	// Give it back: IPv6 flows again.
	t.a.in("wg set " + t.if_a + " peer " + t.pub_b + " allowed-ips 198.51.100.2/32,fd00:77::2/128");
	CHECK(t.ping('a', 6).rc == 0);
	CHECK(t.ping('b', 6).rc == 0);

	// Listen port and endpoint changes through wg set, followed by wireguard-go.
	t.a.in("wg set " + t.if_a + " listen-port 51830");
	t.wggo_b->set("peer " + t.pub_a + " endpoint 192.0.2.1:51830");
	CHECK(t.ping('b', 4).rc == 0);
	CHECK(t.ping('a', 4).rc == 0);
	CHECK(wg_field(t.b, t.if_b, "endpoints") == "192.0.2.1:51830");
}

// FlowPorts between two xwg peers (docs/many-cores.md): A's data leaves from ports
// 51821-51824 by inner flow, B steers each port to a CPU, so one peer's flows are
// decrypted on both CPUs of this host; B's endpoint for A stays A's ListenPort; every
// transfer arrives intact and nothing is counted as a replay.
TEST_CASE("FlowPorts: one peer's flows leave from several ports and are decrypted on "
	  "several CPUs",
	  "[e2e][netns]")
{
	require_tool("bpftool");
	REQUIRE(sysconf(_SC_NPROCESSORS_ONLN) >= 2); // the point is more than one CPU
	TunnelOptions o = tunnel_options(PeerKind::xwg, 4);
	o.flow_ports = 4;
	Tunnel t(o);
	REQUIRE(t.ping('a', 4).rc == 0);

	// 16 flows at once (the chance that all hash to ports of one parity, so to one of
	// two CPUs, is 2^-15).
	constexpr int flows = 16;
	std::vector<std::string> errors(flows);
	std::vector<std::thread> senders;
	// On A's underlay: what B's XDP takes never reaches a packet socket on B.
	RawLink link(t.a, t.ua);
	link.drain();
	const Payload &data = payload(4'000'000); // made here: payload() is not thread-safe
	for (int i = 0; i < flows; i++)
		senders.emplace_back([&, i] { errors[i] = tcp_transfer(t, 'a', 4, data); });
	// Every data datagram's source port, over the whole transfer (none kept whole).
	std::set<std::uint16_t> ports;
	link.capture(
		6000ms,
		[&ports](const Datagram &d) {
			if (d.outgoing && d.dst.port == Tunnel::PORT && d.payload.size() > 48 &&
			    d.payload[0] == 4)
				ports.insert(d.src.port);
			return false;
		});
	for (auto &s : senders)
		s.join();
	for (int i = 0; i < flows; i++) {
		INFO("flow " << i << ": " << errors[i] << "\n" << t.diagnostics());
		CHECK(errors[i].empty());
	}

	INFO("source ports of A's data: " << ports.size());
	REQUIRE(!ports.empty());
	CHECK(*ports.begin() >= Tunnel::PORT + 1);
	CHECK(*ports.rbegin() <= Tunnel::PORT + 4);
	CHECK(ports.size() >= 3); // 16 flows over 4 ports: 3 or 4 unless the hash is broken
	std::set<int> parities;
	for (auto p : ports)
		parities.insert(p % 2);
	CHECK(parities.size() == 2);

	// Per CPU, what B decrypted from A (peer_stats is per CPU; A is B's only peer).
	const auto running = nlohmann::json::parse(read_file("/run/xwg/" + t.if_b + ".running"));
	const std::uint32_t id = running.at("peers").at(0).at("id").get<std::uint32_t>();
	std::string key;
	for (int b = 0; b < 4; b++)
		key += " " + std::to_string((id >> (8 * b)) & 0xff);
	const auto stats = nlohmann::json::parse(
		must("bpftool -j map lookup pinned /sys/fs/bpf/xwg/" + t.if_b + "/peer_stats key" + key));
	std::uint64_t total = 0;
	std::vector<std::uint64_t> per_cpu;
	for (const auto &v : stats.at("formatted").at("values")) {
		per_cpu.push_back(v.at("value").at("rx_packets").get<std::uint64_t>());
		total += per_cpu.back();
	}
	INFO("B's rx_packets from A per CPU: " << stats.at("formatted").at("values").dump());
	REQUIRE(total > 10'000);
	int busy = 0;
	for (auto n : per_cpu)
		busy += n * 20 >= total; // at least 5% of the packets
	CHECK(busy >= 2);

	CHECK(wg_field(t.b, t.if_b, "endpoints") == t.endpoint('a'));
	CHECK(t.xwg_b->drops()["replayed"] == 0);
}
