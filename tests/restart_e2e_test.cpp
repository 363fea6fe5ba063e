// restart_e2e_test.cpp — the data plane outlives its daemon, and the next daemon takes it
// over (loader/device/daemon.h): after `kill -9` and `xwg up`, after `xwg restart`, and
// after an upgrade (the program file replaced, then `xwg restart`), a ping every 10 ms
// loses nothing and a TCP stream running across the gap arrives intact, against the
// stock wireguard-go. A handshake that fell due during the gap happens right after it.
// Maps of another layout are refused and left running; `xwg up` on a live interface
// changes nothing. Each case prints what the restart cost.
#include <catch2/catch.hpp>

#include "netns_lab.h"

#include "xwg/maps.h"

#include <bpf/bpf.h>
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <regex>

using namespace xwg::lab;

namespace {

constexpr std::size_t MB10 = 10'000'000;

// A ping every 10 ms from A to B's overlay address, in the background.
struct PingStream {
	std::string log;
	Child proc;
	PingStream(const Tunnel &t, int count)
		: log(t.dir.file("ping" + std::to_string(count) + ".log"))
	{
		proc = Child::spawn({"nsenter", "--net=" + t.a.path(), "ping", "-n", "-i", "0.01", "-W",
				     "2", "-c", std::to_string(count), Tunnel::overlay('b', 4)},
				    log);
	}
	// Waits for the end; {sent, received} from ping's summary ({0, 0}: none).
	std::pair<int, int> finish()
	{
		proc.wait(60s);
		std::smatch m;
		const std::string out = read_file(log);
		if (!std::regex_search(out, m, std::regex(R"((\d+) packets transmitted, (\d+) received)")))
			return {0, 0};
		return {std::stoi(m[1]), std::stoi(m[2])};
	}
};

// MB10 of TCP from A to B, fed slowly (100 kB every 40 ms, ~4 s) so that it runs across
// a restart; the receiver hashes what arrives.
struct TcpStream {
	const Tunnel &t;
	const Payload &p;
	std::string out;
	Child rx, tx;
	explicit TcpStream(const Tunnel &tun) : t(tun), p(payload(MB10)), out(t.dir.file("tcp.sha"))
	{
		const std::string port = "5300", addr = Tunnel::overlay('b', 4);
		rx = Child::spawn({"nsenter", "--net=" + t.b.path(), "sh", "-c",
				   "socat -u TCP4-LISTEN:" + port + ",bind=" + addr +
					   ",reuseaddr - | sha256sum > " + out},
				  t.dir.file("socat-rx.log"));
		REQUIRE(wait_until([&] {
			return t.b.try_in("ss -Hltn sport = :" + port).out.find(port) != std::string::npos;
		}, 5s));
		tx = Child::spawn({"nsenter", "--net=" + t.a.path(), "sh", "-c",
				   "for i in $(seq 0 99); do dd if=" + p.path +
					   " bs=100000 skip=$i count=1 status=none; sleep 0.04; done"
					   " | socat -u - TCP4:" + addr + ":" + port},
				  t.dir.file("socat-tx.log"));
	}
	// "" when everything arrived intact, else what went wrong.
	std::string finish()
	{
		if (tx.wait(60s) != 0)
			return "sender failed: " + read_file(t.dir.file("socat-tx.log"));
		if (rx.wait(30s) != 0)
			return "receiver did not finish";
		const std::string got = read_file(out).substr(0, 64);
		return got == p.sha256 ? "" : "sha256 mismatch: sent " + p.sha256 + " received " + got;
	}
};

// wireguard-go's latest handshake with A (unix seconds, 0: none).
long latest_handshake(const Tunnel &t)
{
	const std::string v = wg_field(t.b, t.if_b, "latest-handshakes");
	return v.empty() ? 0 : std::stol(v);
}

std::string xwg_up(const Tunnel &t, const std::string &binary = Tunnel::xwg_binary(),
		   const std::string &env = "")
{
	return env + t.a.nsenter() + binary + " up " + t.dir.file(t.if_a + ".conf");
}

// The daemon's age in the process table: a zombie (killed, not reaped) shows 'Z'.
char process_state(pid_t pid)
{
	const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
	const auto paren = stat.rfind(')');
	return paren == std::string::npos || paren + 2 >= stat.size() ? '-' : stat[paren + 2];
}

} // namespace

TEST_CASE("kill -9 and xwg up: the next daemon takes over, no ping lost, TCP intact",
	  "[e2e][netns][interop][restart]")
{
	Tunnel t(tunnel_options(PeerKind::wggo, 4));
	REQUIRE(t.ping('a', 4).rc == 0);
	const long handshake = latest_handshake(t);
	REQUIRE(handshake > 0);

	PingStream ping(t, 500);
	TcpStream tcp(t);
	std::this_thread::sleep_for(1s);
	const pid_t old = t.xwg_a->daemon_pid();
	REQUIRE(old > 0);
	REQUIRE(kill(old, SIGKILL) == 0);
	REQUIRE(wait_until([&] { return !t.xwg_a->daemon_alive(); }, 5s));
	// Nobody reaps it here (its parent, `xwg up`, is gone): it may linger as a zombie,
	// and kill(pid, 0) would call it alive. The lock says it is not.
	INFO("killed daemon's state: " << process_state(old));
	std::this_thread::sleep_for(500ms); // a gap with no daemon at all
	const auto began = Clock::now();
	auto r = sh(xwg_up(t), 60);
	const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began);
	INFO(r.out << "\nlog:\n" << t.xwg_a->log() << t.diagnostics());
	REQUIRE(r.rc == 0);
	CHECK(r.out.find("took over") != std::string::npos);
	CHECK(t.xwg_a->daemon_pid() != old);

	const auto [sent, received] = ping.finish();
	const std::string tcp_error = tcp.finish();
	std::printf("restart after kill -9: xwg up took over in %lld ms; pings %d sent, %d "
		    "received\n",
		    static_cast<long long>(took.count()), sent, received);
	INFO(read_file(ping.log));
	CHECK(sent == 500);
	CHECK(received == sent);
	INFO(tcp_error);
	CHECK(tcp_error.empty());
	// The same session carried on: no new handshake was needed.
	CHECK(latest_handshake(t) == handshake);
	// The new daemon serves: `wg` works, and the counters went on from where they were.
	CHECK(t.a.in("wg show " + t.if_a + " transfer").find(t.pub_b) != std::string::npos);
	CHECK(t.ping('b', 6).rc == 0);
	// `xwg down` still removes everything.
	REQUIRE(t.xwg_a->down().rc == 0);
	CHECK_FALSE(exists("/sys/fs/bpf/xwg/" + t.if_a));
	CHECK(t.a.try_in("ip link show dev " + t.if_a).rc != 0);
}

TEST_CASE("xwg restart, and an upgrade: the program file replaced, then xwg restart",
	  "[e2e][netns][interop][restart]")
{
	auto o = tunnel_options(PeerKind::wggo, 4);
	Tunnel t(o);
	// Run A from a copy of the binary, so the test can replace it as a package would.
	const std::string bin = t.dir.file("xwg");
	must("cp " + Tunnel::xwg_binary() + " " + bin);
	REQUIRE(t.xwg_a->down().rc == 0);
	t.xwg_a->xwg = bin;
	t.up_a();
	REQUIRE(t.ping('a', 4).rc == 0);
	const long handshake = latest_handshake(t);

	for (const bool upgrade : {false, true}) {
		INFO((upgrade ? "upgrade" : "restart"));
		const pid_t pid = t.xwg_a->daemon_pid();
		if (upgrade) {
			must("cp " + Tunnel::xwg_binary() + " " + bin + ".new && mv " + bin + ".new " +
			     bin);
			CHECK(read_file("/proc/" + std::to_string(pid) + "/maps").find("(deleted)") !=
			      std::string::npos);
		}
		PingStream ping(t, 300);
		TcpStream tcp(t);
		std::this_thread::sleep_for(1s);
		auto r = sh(t.a.nsenter() + bin + " restart " + t.if_a, 60);
		INFO(r.out << "\nlog:\n" << t.xwg_a->log() << t.diagnostics());
		REQUIRE(r.rc == 0);
		std::printf("%s", r.out.c_str());
		CHECK(t.xwg_a->daemon_pid() == pid); // the same process, a new program
		CHECK(t.xwg_a->daemon_alive());
		// It runs the program file as it is now.
		CHECK(read_file("/proc/" + std::to_string(pid) + "/maps").find(bin + " (deleted)") ==
		      std::string::npos);
		const auto [sent, received] = ping.finish();
		const std::string tcp_error = tcp.finish();
		std::printf("%s: pings %d sent, %d received\n", upgrade ? "upgrade" : "restart", sent,
			    received);
		INFO(read_file(ping.log));
		CHECK(sent == 300);
		CHECK(received == sent);
		INFO(tcp_error);
		CHECK(tcp_error.empty());
		CHECK(latest_handshake(t) == handshake);
	}
	CHECK(t.xwg_a->log().find("took over") != std::string::npos);
}

TEST_CASE("a handshake due during the gap happens right after it",
	  "[e2e][netns][interop][restart]")
{
	auto o = tunnel_options(PeerKind::wggo, 4);
	o.b_endpoint = false; // only A initiates, so only A's timers can rekey
	o.xwg_env = {"XWG_REKEY_AFTER_TIME=4"};
	Tunnel t(o);
	REQUIRE(t.ping('a', 4).rc == 0);
	const long handshake = latest_handshake(t);
	REQUIRE(handshake > 0);

	REQUIRE(kill(t.xwg_a->daemon_pid(), SIGKILL) == 0);
	REQUIRE(wait_until([&] { return !t.xwg_a->daemon_alive(); }, 5s));
	// Traffic goes on without a daemon while the session passes REKEY_AFTER_TIME.
	PingStream ping(t, 600);
	std::this_thread::sleep_for(6s);
	CHECK(latest_handshake(t) == handshake);
	auto r = sh(xwg_up(t, Tunnel::xwg_binary(), "XWG_REKEY_AFTER_TIME=4 "), 60);
	INFO(r.out << "\nlog:\n" << t.xwg_a->log() << t.diagnostics());
	REQUIRE(r.rc == 0);
	const auto began = Clock::now();
	CHECK(wait_until([&] { return latest_handshake(t) > handshake; }, 10s));
	std::printf("the handshake due during the gap came %lld ms after the take-over\n",
		    static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
						   Clock::now() - began)
						   .count()));
	const auto [sent, received] = ping.finish();
	INFO(read_file(ping.log));
	CHECK(received == sent);
}

TEST_CASE("maps of another layout are refused and keep running; xwg up on a live "
	  "interface changes nothing",
	  "[e2e][netns][interop][restart]")
{
	Tunnel t(tunnel_options(PeerKind::wggo, 4));
	REQUIRE(t.ping('a', 4).rc == 0);

	// A second `xwg up` of a running interface: says so, touches nothing.
	const pid_t pid = t.xwg_a->daemon_pid();
	auto r = sh(xwg_up(t), 60);
	INFO(r.out);
	CHECK(r.rc != 0);
	CHECK(r.out.find("is running") != std::string::npos);
	CHECK(t.xwg_a->daemon_pid() == pid);
	CHECK(t.xwg_a->daemon_alive());
	CHECK(t.ping('a', 4).rc == 0);

	// Pins that record another layout (as an older or newer xwg's would): refused.
	const std::string layout = "/sys/fs/bpf/xwg/" + t.if_a + "/layout";
	std::string zeros;
	for (int i = 0; i < 32; ++i)
		zeros += " 0";
	REQUIRE(kill(pid, SIGKILL) == 0);
	REQUIRE(wait_until([&] { return !t.xwg_a->daemon_alive(); }, 5s));
	must("bpftool map update pinned " + layout + " key 0 0 0 0 value" + zeros);
	r = sh(xwg_up(t), 60);
	INFO(r.out);
	CHECK(r.rc != 0);
	CHECK(r.out.find("cannot take it over") != std::string::npos);
	CHECK(r.out.find("xwg down " + t.if_a) != std::string::npos);
	CHECK_FALSE(t.xwg_a->daemon_alive());
	// Nothing was touched: the tunnel still forwards with its session.
	CHECK(t.ping('a', 4).rc == 0);
	CHECK(t.ping('b', 6).rc == 0);
	// The clean restart it offers works. `xwg down` without a daemon ends the sessions
	// as the daemon would: slots retired, then keys zeroed (read through fds held across
	// the unpinning, as a pod's program would hold them).
	const std::string pins = "/sys/fs/bpf/xwg/" + t.if_a + "/";
	const int keypairs = bpf_obj_get((pins + XWG_MAP_KEYPAIRS).c_str());
	const int slots = bpf_obj_get((pins + XWG_MAP_KEYPAIR_SLOTS).c_str());
	REQUIRE(keypairs >= 0);
	REQUIRE(slots >= 0);
	r = t.xwg_a->down();
	INFO(r.out);
	REQUIRE(r.rc == 0);
	std::uint32_t key = 0, next = 0, seen = 0;
	bool first = true;
	while (bpf_map_get_next_key(keypairs, first ? nullptr : &key, &next) == 0) {
		first = false;
		key = next;
		xwg_keypair kp{};
		REQUIRE(bpf_map_lookup_elem(keypairs, &key, &kp) == 0);
		xwg_keypair_slot slot{};
		REQUIRE(bpf_map_lookup_elem(slots, &kp.counter_slot, &slot) == 0);
		CHECK(slot.state == XWG_KEYPAIR_RETIRED);
		const xwg_keypair zero{};
		CHECK(std::memcmp(kp.send_key, zero.send_key, sizeof(kp.send_key)) == 0);
		CHECK(std::memcmp(kp.recv_key, zero.recv_key, sizeof(kp.recv_key)) == 0);
		++seen;
	}
	CHECK(seen >= 1);
	close(keypairs);
	close(slots);
	CHECK_FALSE(exists("/sys/fs/bpf/xwg/" + t.if_a));
	t.up_a();
	auto p = t.ping('a', 4, 3, 5);
	INFO(p.out << t.diagnostics());
	CHECK(p.rc == 0);
}
