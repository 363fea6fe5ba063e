// scale_e2e_test.cpp — xwg with 65,536 peers (tests/netns_lab.h): A holds 65,535 peers
// that never speak, each with its own /32 in 198.19.0.0/16, and then the real peer B (xwg)
// last in the list. Required: `xwg up` brings it all up, `wg show dump` lists every peer,
// B and A reach each other through the tunnel, and 1,000 peers are removed and 1,000 added
// live through `wg set` while B's traffic still flows. Times and memory are printed here;
// bench/scale_bench.sh measures them against wireguard-go.
#include <catch2/catch.hpp>

#include "netns_lab.h"

#include "loader/types/keys.h"

#include <sodium.h>

#include <chrono>
#include <sstream>

using namespace xwg::lab;
using namespace std::chrono;

namespace {

std::string random_key()
{
	xwg::PublicKey k;
	randombytes_buf(k.data(), k.size());
	return xwg::to_base64(k);
}

// The allowed IP of extra peer @i: 198.19.i/256.i%256/32.
std::string extra_ip(unsigned i)
{
	return "198.19." + std::to_string(i / 256) + "." + std::to_string(i % 256) + "/32";
}

std::size_t dump_peers(const Tunnel &t)
{
	const std::string dump = t.a.in("wg show " + t.if_a + " dump", 60);
	std::size_t lines = 0;
	for (char c : dump)
		lines += c == '\n';
	return lines ? lines - 1 : 0; // the first line is the interface
}

double seconds_since(steady_clock::time_point start)
{
	return duration<double>(steady_clock::now() - start).count();
}

} // namespace

TEST_CASE("65,536 peers: up, listed, the last one carries traffic, 1,000 change live")
{
	REQUIRE(sodium_init() >= 0);
	require_tool("wg");
	constexpr unsigned kExtra = XWG_MAX_PEERS - 1;
	std::vector<std::string> keys(kExtra);
	std::ostringstream extra;
	for (unsigned i = 0; i < kExtra; ++i) {
		keys[i] = random_key();
		extra << "[Peer]\nPublicKey = " << keys[i] << "\nAllowedIPs = " << extra_ip(i) << "\n";
	}
	TunnelOptions opt = tunnel_options(PeerKind::xwg, 4);
	opt.a_peers_before = extra.str();
	const auto start = steady_clock::now();
	Tunnel t(opt);
	const double up_s = seconds_since(start);
	INFO(t.diagnostics());

	auto started = steady_clock::now();
	CHECK(dump_peers(t) == XWG_MAX_PEERS);
	const double dump_s = seconds_since(started);

	// B is the last peer: traffic both ways.
	CHECK(t.ping('b', 4, 3).rc == 0);
	CHECK(t.ping('a', 4, 3).rc == 0);

	// A full device refuses one more, and changes nothing.
	const Result over = sh(t.a.nsenter() + "wg set " + t.if_a + " peer " + random_key() +
			       " allowed-ips 198.18.200.1/32");
	CHECK(over.rc != 0);
	CHECK(dump_peers(t) == XWG_MAX_PEERS);

	// 1,000 out and 1,000 in, each in one `wg set`.
	std::string remove = "wg set " + t.if_a, add = "wg set " + t.if_a;
	for (unsigned i = 0; i < 1000; ++i) {
		remove += " peer " + keys[i] + " remove";
		add += " peer " + random_key() + " allowed-ips 198.18." + std::to_string(100 + i / 250) +
		       "." + std::to_string(i % 250) + "/32";
	}
	started = steady_clock::now();
	t.a.in(remove, 60);
	const double remove_s = seconds_since(started);
	CHECK(dump_peers(t) == XWG_MAX_PEERS - 1000);
	started = steady_clock::now();
	t.a.in(add, 60);
	const double add_s = seconds_since(started);
	CHECK(dump_peers(t) == XWG_MAX_PEERS);
	CHECK(t.ping('b', 4, 3).rc == 0);

	const pid_t daemon = t.xwg_a->daemon_pid();
	const std::string rss = must("grep VmRSS /proc/" + std::to_string(daemon) + "/status");
	WARN("65,536 peers: up (both sides) " << up_s << " s, wg show dump " << dump_s
					      << " s, remove 1,000 " << remove_s << " s, add 1,000 "
					      << add_s << " s, daemon " << rss);
	CHECK(t.xwg_a->daemon_alive());
}
