// uapi_netns_test.cpp — the real daemon's UAPI socket under clients that never read, in
// the two-namespace lab of tests/netns_lab.h (xwg in A, wireguard-go in B). A carries
// 1000 more peers, so a "get=1" answer (~300 KB) is more than a socket buffer holds and a
// client that does not read really leaves the daemon with output it cannot send. With
// five such clients connected, `wg show` answers within a second and the tunnel's first
// handshake completes meanwhile; the daemon drops them after its idle timeout.
#include <catch2/catch.hpp>

#include "loader/control/uapi_server.h"
#include "loader/types/keys.h"
#include "netns_lab.h"
#include "uapi_client.h"

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

using namespace xwg::lab;
using xwgtest::UapiClient;

namespace {

constexpr int EXTRA_PEERS = 1000;
constexpr int STUCK_CLIENTS = 5;

// [Peer] sections with fresh keys and two allowed IPs each (198.18.0.0/15, fd00:99::/64).
std::string extra_peers(int count)
{
	std::string text;
	for (int i = 0; i < count; ++i) {
		const xwg::PublicKey pub = xwg::public_key_of(xwg::generate_private_key());
		text += "[Peer]\nPublicKey = " + xwg::to_base64(pub) + "\nAllowedIPs = 198.18." +
			std::to_string(i / 256) + "." + std::to_string(i % 256) +
			"/32, fd00:99::" + std::to_string(i + 1) + "/128\n\n";
	}
	return text;
}

// The latest-handshake time `wg show` gives for one peer ("" if it is not listed).
std::string latest_handshake(const Tunnel &t, const std::string &pub)
{
	const std::string out = t.a.in("wg show " + t.if_a + " latest-handshakes");
	const auto at = out.find(pub + "\t");
	if (at == std::string::npos)
		return "";
	const auto from = at + pub.size() + 1;
	return out.substr(from, out.find('\n', from) - from);
}

} // namespace

TEST_CASE("five clients that never read stall neither wg show nor a handshake", "[uapi][netns]")
{
	TunnelOptions o = tunnel_options(PeerKind::wggo, 4);
	o.a_extra_peers = extra_peers(EXTRA_PEERS);
	Tunnel t(o);
	const std::string sock = xwg::UapiServer::socket_path(t.if_a);
	REQUIRE(latest_handshake(t, t.pub_b) == "0"); // nothing sent yet

	// What a client that reads gets.
	std::size_t whole = 0;
	{
		UapiClient reader(sock);
		REQUIRE(reader.send_all("get=1\n\n"));
		const std::string answer = reader.read_answer(std::chrono::seconds(5));
		REQUIRE(answer.ends_with("errno=0\n\n"));
		whole = answer.size();
	}

	// Five clients ask and never read; right away, `wg show` and a ping that needs the
	// tunnel's first handshake.
	std::vector<std::unique_ptr<UapiClient>> stuck;
	for (int i = 0; i < STUCK_CLIENTS; ++i) {
		stuck.push_back(std::make_unique<UapiClient>(sock));
		REQUIRE(stuck.back()->send_all("get=1\n\n"));
	}
	auto ping = std::async(std::launch::async, [&] { return t.ping('a', 4, 1, 1); });
	const auto t0 = Clock::now();
	const Result show = t.a.try_in("wg show " + t.if_a, 10);
	const auto show_ms =
		std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
	WARN("wg show with " << STUCK_CLIENTS << " stuck clients: " << show_ms << " ms");
	REQUIRE(show.rc == 0);
	CHECK(show.out.find("peer: " + t.pub_b) != std::string::npos);
	CHECK(show_ms < 1000);
	const Result pinged = ping.get();
	INFO(pinged.out << t.diagnostics());
	CHECK(pinged.rc == 0);
	CHECK(latest_handshake(t, t.pub_b) != "0");

	// The five were really stuck: part of an answer waits in each socket, the daemon holds
	// the rest.
	for (const auto &c : stuck) {
		CHECK(c->readable(std::chrono::milliseconds(0)));
		CHECK(c->queued() < whole);
		CHECK_FALSE(c->hung_up(std::chrono::milliseconds(0)));
	}

	// After the idle timeout (10 s without progress) the daemon lets them go and serves on.
	for (const auto &c : stuck)
		CHECK(c->hung_up(std::chrono::seconds(20)));
	CHECK(t.xwg_a->daemon_alive());
	CHECK(t.a.try_in("wg show " + t.if_a + " listen-port").out == "51820\n");
}
