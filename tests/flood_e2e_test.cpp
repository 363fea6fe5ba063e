// flood_e2e_test.cpp — a handshake flood against a live xwg (tests/netns_lab.h). xwg in
// namespace A, a second xwg as the real peer B behind router R, and an attacker namespace
// C also behind R. C sends 20,000 initiations a second from 16 addresses, each with a
// valid mac1 (anyone who knows A's public key can make one) and random contents.
// Required, as WireGuard's cookie mechanism promises:
// - at least 95% of the flood is answered with a cookie reply or rate-limited, and at
//   most 5% costs A a Diffie-Hellman (those show as control_invalid drops: the random
//   static key does not decrypt);
// - A's daemon stays below one CPU;
// - B completes a handshake and passes traffic within 10 s while the flood goes on;
// - A's metrics (xwg show --metrics) count the cookie replies and refused initiations.
#include <catch2/catch.hpp>

#include "metrics_check.h"
#include "netns_lab.h"

#include "loader/noise/cookie.h"
#include "loader/noise/keypair.h"
#include "loader/types/keys.h"
#include "xwg/wire.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <sodium.h>
#include <sys/socket.h>

#include <atomic>
#include <fstream>
#include <thread>

using namespace xwg::lab;
using namespace std::chrono;

namespace {

constexpr int kSources = 16;
constexpr int kRate = 20000;    // initiations a second
constexpr int kSeconds = 12;

// UDP sockets bound to the attacker's addresses, made inside its namespace.
std::vector<int> attacker_sockets(const Netns &c)
{
	std::vector<int> fds;
	std::thread([&] {
		const int ns = open(c.path().c_str(), O_RDONLY | O_CLOEXEC);
		if (ns < 0 || setns(ns, CLONE_NEWNET) != 0)
			return;
		close(ns);
		for (int i = 0; i < kSources; ++i) {
			int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
			sockaddr_in sin{};
			sin.sin_family = AF_INET;
			inet_pton(AF_INET, ("198.18.9." + std::to_string(10 + i)).c_str(), &sin.sin_addr);
			if (fd < 0 || bind(fd, reinterpret_cast<sockaddr *>(&sin), sizeof(sin)) != 0) {
				if (fd >= 0)
					close(fd);
				continue;
			}
			fds.push_back(fd);
		}
	}).join(); // the thread's namespace dies with it; the sockets stay in C
	return fds;
}

// User plus system CPU time of a process, in seconds.
double cpu_seconds(pid_t pid)
{
	std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
	std::string line;
	std::getline(f, line);
	std::istringstream rest(line.substr(line.rfind(')') + 2));
	std::string field;
	unsigned long long utime = 0, stime = 0;
	for (int i = 3; i <= 15 && rest >> field; ++i) {
		if (i == 14)
			utime = std::stoull(field);
		if (i == 15)
			stime = std::stoull(field);
	}
	return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

struct FloodResult {
	std::uint64_t sent = 0, cookies = 0, responses = 0;
};

} // namespace

TEST_CASE("handshake flood: cookies, not Diffie-Hellman; a real peer still gets through")
{
	require_tool("ping");
	std::unique_ptr<Netns> attacker;
	TunnelOptions opt = tunnel_options(PeerKind::xwg, 4);
	opt.routed_mtu = 1500;
	opt.a_endpoint = false; // B starts the session, during the flood
	opt.before_up = [&](const Tunnel &t) {
		attacker = std::make_unique<Netns>("xwgfc" + PID + "-" + t.tag);
		const std::string rc = "xfr" + t.tag + "-" + PID.substr(0, 5), cc = "xfc" + t.tag;
		must("ip link add " + rc + " netns " + t.r->name + " type veth peer name " + cc +
		     " netns " + attacker->name);
		t.r->in("ip addr add 198.18.9.1/24 dev " + rc);
		t.r->in("ip link set " + rc + " up");
		attacker->in("ip link set lo up");
		attacker->in("ip link set " + cc + " up");
		for (int i = 0; i < kSources; ++i)
			attacker->in("ip addr add 198.18.9." + std::to_string(10 + i) + "/24 dev " + cc);
		attacker->in("ip route add default via 198.18.9.1");
		t.a.in("ip route add 198.18.9.0/24 via 192.0.2.254");
	};
	Tunnel t(opt);
	INFO(t.diagnostics());

	const std::vector<int> fds = attacker_sockets(*attacker);
	REQUIRE(fds.size() == kSources);
	xwg::PublicKey a_pub;
	REQUIRE(xwg::from_base64(t.pub_a, a_pub) == xwg::KeyParseError::ok);
	xwg::noise::CookieMaker maker(a_pub);
	sockaddr_in to{};
	to.sin_family = AF_INET;
	to.sin_port = htons(Tunnel::PORT);
	inet_pton(AF_INET, t.underlay_ip('a').c_str(), &to.sin_addr);

	const pid_t daemon = t.xwg_a->daemon_pid();
	REQUIRE(daemon > 0);
	const auto drops_before = t.xwg_a->drops();
	const double cpu_before = cpu_seconds(daemon);

	FloodResult flood;
	std::atomic<bool> flooding{true};
	std::thread sender([&] {
		xwg_msg_initiation msg;
		std::uint8_t in[256];
		const auto start = steady_clock::now();
		const int per_tick = kRate / 100; // every 10 ms
		for (int tick = 0; tick < kSeconds * 100; ++tick) {
			for (int i = 0; i < per_tick; ++i) {
				randombytes_buf(&msg, sizeof(msg));
				msg.header.type = XWG_MSG_HEADER(XWG_MSG_HANDSHAKE_INITIATION);
				maker.add_macs(std::span(reinterpret_cast<std::uint8_t *>(&msg), sizeof(msg)),
					       xwg::noise::boottime_ns());
				if (sendto(fds[i % kSources], &msg, sizeof(msg), 0,
					   reinterpret_cast<sockaddr *>(&to), sizeof(to)) == sizeof(msg))
					flood.sent++;
			}
			for (int fd : fds)
				for (ssize_t n; (n = recv(fd, in, sizeof(in), 0)) > 0;) {
					flood.cookies += n == XWG_MSG_COOKIE_LEN && in[0] == XWG_MSG_HANDSHAKE_COOKIE;
					flood.responses += in[0] == XWG_MSG_HANDSHAKE_RESPONSE;
				}
			std::this_thread::sleep_until(start + milliseconds(10 * (tick + 1)));
		}
		// Replies still on their way.
		const auto end = steady_clock::now() + milliseconds(500);
		while (steady_clock::now() < end)
			for (int fd : fds)
				for (ssize_t n; (n = recv(fd, in, sizeof(in), 0)) > 0;)
					flood.cookies += n == XWG_MSG_COOKIE_LEN && in[0] == XWG_MSG_HANDSHAKE_COOKIE;
		flooding = false;
	});

	// The real peer, once the flood is on: B pings A until a reply comes back.
	std::this_thread::sleep_for(seconds(2));
	const auto b_start = steady_clock::now();
	bool b_through = false;
	while (!b_through && flooding && steady_clock::now() - b_start < seconds(15))
		b_through = t.ping('b', 4, 1, 1).rc == 0;
	const double b_seconds = duration<double>(steady_clock::now() - b_start).count();
	sender.join();
	for (int fd : fds)
		close(fd);
	const double cpu = (cpu_seconds(daemon) - cpu_before) / (kSeconds + 0.5);
	const auto drops_after = t.xwg_a->drops();
	auto delta = [&](const char *reason) {
		auto b = drops_before.count(reason) ? drops_before.at(reason) : 0;
		return drops_after.count(reason) ? drops_after.at(reason) - b : 0;
	};
	const std::uint64_t dh = delta("control_invalid"), limited = delta("control_ratelimited");
	const double answered = double(flood.cookies + limited) / double(flood.sent);
	WARN("flood: " << flood.sent << " initiations, " << flood.cookies << " cookie replies, "
		       << limited << " rate-limited, " << dh << " Diffie-Hellman'd, "
		       << flood.responses << " responses; answered " << answered * 100
		       << "%; daemon CPU " << cpu * 100 << "%; real peer through after "
		       << b_seconds << " s");
	CHECK(flood.sent >= std::uint64_t(kRate) * kSeconds * 9 / 10);
	CHECK(answered >= 0.95);
	CHECK(double(dh) <= 0.05 * double(flood.sent));
	CHECK(flood.responses == 0);
	CHECK(cpu < 1.0);
	CHECK(b_through);
	CHECK(b_seconds <= 10.0);
	CHECK(t.xwg_a->daemon_alive());

	// The daemon's counters as the metrics report them (its counters file is rewritten
	// once a second). Some cookie replies may not have reached C.
	std::this_thread::sleep_for(milliseconds(1100));
	const std::string text = t.xwg_a->show("--metrics");
	const auto check = xwgtest::promtool_check(text);
	INFO(text << "\npromtool: " << check.out);
	CHECK(check.rc == 0);
	const auto m = xwgtest::metric_samples(text);
	const std::string iface = "{interface=\"" + t.if_a + "\"";
	CHECK(m.at("xwg_cookie_replies_sent_total" + iface + "}") >= double(flood.cookies));
	CHECK(m.at("xwg_handshakes_failed_total" + iface + ",message=\"initiation\"}") >= double(dh));
	CHECK(m.at("xwg_handshakes_received_total" + iface + ",message=\"initiation\"}") +
		      m.at("xwg_handshakes_received_total" + iface + ",message=\"response\"}") >=
	      1);
}
