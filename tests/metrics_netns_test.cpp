// metrics_netns_test.cpp — metrics of a live tunnel (tests/netns_lab.h: xwg in namespace A
// against the stock wireguard-go in B), with `MetricsListen = 127.0.0.1:9586` in A's
// [Interface]: after pings and TCP, `xwg show IF --metrics` and GET /metrics (served in
// A's namespace) both pass promtool and carry the byte counts `wg show` reports, the
// handshake's time, the exporter's labels and xwg's own families; a client that connects
// and sends nothing (and one that stops halfway) delays neither a second scrape nor
// `wg show`; `xwg down` closes the endpoint and removes the counters file.
#include <catch2/catch.hpp>

#include "loader/control/metrics.h"
#include "metrics_check.h"
#include "netns_lab.h"
#include "xwg/drop_reasons.h"

#include <ctime>
#include <fstream>
#include <set>
#include <sstream>

using namespace xwg::lab;
using xwgtest::http_body;
using xwgtest::http_exchange;
using xwgtest::http_status;
using xwgtest::metric_samples;
using xwgtest::promtool_check;

namespace {

constexpr unsigned METRICS_PORT = 9586;
const std::string GET = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9586\r\n\r\n";

// The first line of `wg show IF WHAT` split at tabs (after the public key).
std::vector<std::string> wg_line(const Tunnel &t, const std::string &what)
{
	std::istringstream in(t.a.in("wg show " + t.if_a + " " + what));
	std::string key, field;
	std::vector<std::string> out;
	std::getline(in, key, '\t');
	while (in >> field)
		out.push_back(field);
	return out;
}

// A socket connected to the endpoint from inside A's namespace, which sends @text and
// then nothing more.
int stuck_client(const Tunnel &t, const std::string &text)
{
	return t.a.with([&] {
		const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		sockaddr_in a{};
		a.sin_family = AF_INET;
		a.sin_port = htons(METRICS_PORT);
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (fd < 0 || connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof(a)) != 0)
			throw std::runtime_error("connect to the metrics endpoint failed");
		if (!text.empty())
			(void)!send(fd, text.data(), text.size(), MSG_NOSIGNAL);
		return fd;
	});
}

std::string scrape(const Tunnel &t, const std::string &request = GET)
{
	return t.a.with([&] { return http_exchange("127.0.0.1", METRICS_PORT, request, 5s); });
}

// Series names (without labels) in an exposition.
std::set<std::string> families(const std::map<std::string, double> &samples)
{
	std::set<std::string> out;
	for (const auto &[series, v] : samples)
		out.insert(series.substr(0, series.find('{')));
	return out;
}

} // namespace

TEST_CASE("metrics of a live tunnel: xwg show --metrics and GET /metrics", "[metrics][netns][e2e]")
{
	require_tool("promtool");
	Tunnel t(tunnel_options(PeerKind::wggo, 4));
	// A again, now with MetricsListen (the lab writes no such line).
	std::string conf_text = t.xwg_conf('a');
	conf_text.insert(conf_text.find('\n') + 1,
			 "MetricsListen = 127.0.0.1:" + std::to_string(METRICS_PORT) + "\n");
	const std::string conf = t.dir.file(t.if_a + ".conf");
	REQUIRE(t.xwg_a->down().rc == 0);
	std::ofstream(conf) << conf_text;
	t.xwg_a->up(conf, t.opt.xwg_env);
	const std::time_t start = std::time(nullptr);

	auto r = t.ping('a', 4, 5);
	INFO(r.out << t.diagnostics());
	REQUIRE(r.rc == 0);
	REQUIRE(tcp_transfer(t, 'a', 4, payload(1'000'000)).empty());

	// The daemon rewrites its counters file, which `xwg show --metrics` reads, once a
	// second: wait for the handshake to be in it.
	CHECK(wait_until(
		[&] {
			auto c = xwg::device_counters_from_json(
				read_file("/run/xwg/" + t.if_a + ".counters"));
			return c && c->responses_received >= 1;
		},
		3s));
	// wg show's counts just before and just after the two scrapes bound theirs.
	const auto before = wg_line(t, "transfer");
	const std::string shown = t.xwg_a->show("--metrics");
	const std::string reply = scrape(t);
	const auto after = wg_line(t, "transfer");
	const auto handshake = wg_line(t, "latest-handshakes");
	REQUIRE(before.size() == 2);
	REQUIRE(after.size() == 2);
	REQUIRE(handshake.size() == 1);
	REQUIRE(http_status(reply) == 200);
	CHECK(reply.find("Content-Type: text/plain; version=0.0.4") != std::string::npos);
	const std::string served = http_body(reply);

	const std::string peer =
		"{interface=\"" + t.if_a + "\",public_key=\"" + t.pub_b + "\",allowed_ips=\"" +
		Tunnel::overlay('b', 4) + "/32," + Tunnel::overlay('b', 6) + "/128\",remote_ip=\"" +
		t.underlay_ip('b') + "\",remote_port=\"" + std::to_string(Tunnel::PORT) + "\"}";
	const std::string iface = "interface=\"" + t.if_a + "\"";
	std::set<std::string> names[2];
	int i = 0;
	for (const std::string *text : {&shown, &served}) {
		INFO((i == 0 ? "xwg show --metrics" : "GET /metrics") << ":\n" << *text);
		auto check = promtool_check(*text);
		INFO("promtool: " << check.out);
		CHECK(check.rc == 0);
		const auto s = metric_samples(*text);
		names[i++] = families(s);
		REQUIRE(s.count("wireguard_received_bytes_total" + peer));
		const double rx = s.at("wireguard_received_bytes_total" + peer);
		const double tx = s.at("wireguard_sent_bytes_total" + peer);
		CHECK(rx >= std::stod(before[0]));
		CHECK(rx <= std::stod(after[0]));
		CHECK(tx >= std::stod(before[1]));
		CHECK(tx <= std::stod(after[1]));
		CHECK(tx > 1'000'000); // the TCP payload went this way
		CHECK(s.at("wireguard_latest_handshake_seconds" + peer) == std::stod(handshake[0]));
		CHECK(s.at("wireguard_latest_handshake_seconds" + peer) >=
		      static_cast<double>(start - 1));
		CHECK(s.at("xwg_program_packets_total{" + iface + ",program=\"xwg_tx\"}") >= 5);
		CHECK(s.at("xwg_program_packets_total{" + iface + ",program=\"xwg_rx\"}") >= 5);
		CHECK(s.at("xwg_handshakes_sent_total{" + iface + ",message=\"initiation\"}") >= 1);
		CHECK(s.at("xwg_handshakes_received_total{" + iface + ",message=\"response\"}") >=
		      1);
		CHECK(s.at("xwg_handshakes_failed_total{" + iface + ",message=\"initiation\"}") ==
		      0);
		CHECK(s.at("xwg_handshakes_failed_total{" + iface + ",message=\"response\"}") == 0);
		CHECK(s.at("xwg_cookie_replies_sent_total{" + iface + "}") == 0);
		CHECK(s.at("xwg_staged_packets{" + iface + "}") == 0);
		CHECK(s.at("xwg_drops_total{" + iface + ",reason=\"auth_failed\"}") == 0);
		CHECK(s.at("xwg_receive_path_info{" + iface + ",underlay=\"" + t.ua +
			   "\",path=\"xdp native\"}") == 1);
		CHECK(s.at("xwg_tunnel_info{" + iface + ",kind=\"veth\"}") == 1);
		std::size_t reasons = 0;
		for (const auto &[series, v] : s)
			reasons += series.rfind("xwg_drops_total{", 0) == 0;
		CHECK(reasons == XWG_DROP_REASON_MAX);
	}
	CHECK(names[0] == names[1]);

	// Other requests over the wire.
	CHECK(http_status(scrape(t, "GET / HTTP/1.1\r\n\r\n")) == 404);
	CHECK(http_status(scrape(t, "POST /metrics HTTP/1.1\r\n\r\n")) == 405);
	CHECK(http_status(scrape(t, "BREW\r\n\r\n")) == 400);

	// Stuck clients delay nothing.
	const int silent = stuck_client(t, "");
	const int half = stuck_client(t, "GET /metr");
	for (int n = 0; n < 3; ++n) {
		const auto t0 = Clock::now();
		CHECK(http_status(scrape(t)) == 200);
		CHECK(Clock::now() - t0 < 1s);
		const auto t1 = Clock::now();
		auto wg = t.a.try_in("wg show " + t.if_a, 10);
		CHECK(wg.rc == 0);
		CHECK(Clock::now() - t1 < 2s);
		CHECK(t.ping('a', 4, 1).rc == 0);
	}
	close(silent);
	close(half);

	// Down: the endpoint closes, the counters file goes.
	REQUIRE(t.xwg_a->down().rc == 0);
	CHECK(!exists("/run/xwg/" + t.if_a + ".counters"));
	CHECK_THROWS(scrape(t));
}

TEST_CASE("metrics: an endpoint that cannot be bound fails xwg up, which undoes everything",
	  "[metrics][netns]")
{
	Tunnel t(tunnel_options(PeerKind::wggo, 4));
	std::string conf_text = t.xwg_conf('a');
	// Not an address of A's namespace.
	conf_text.insert(conf_text.find('\n') + 1, "MetricsListen = 203.0.113.9:9586\n");
	const std::string conf = t.dir.file(t.if_a + ".conf");
	REQUIRE(t.xwg_a->down().rc == 0);
	std::ofstream(conf) << conf_text;
	auto up = t.a.try_in(Tunnel::xwg_binary() + " up " + conf, 60);
	INFO(up.out);
	CHECK(up.rc != 0);
	CHECK(up.out.find(
		      "MetricsListen 203.0.113.9:9586: bind: Cannot assign requested address") !=
	      std::string::npos);
	CHECK(t.a.try_in("ip link show " + t.if_a).rc != 0);
	CHECK(!exists("/sys/fs/bpf/xwg/" + t.if_a));
	CHECK(!exists("/run/xwg/" + t.if_a + ".pid"));
	CHECK(!exists("/run/xwg/" + t.if_a + ".counters"));
	CHECK(!exists("/var/run/wireguard/" + t.if_a + ".sock"));
}
