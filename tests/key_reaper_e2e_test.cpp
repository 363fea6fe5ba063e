// key_reaper_e2e_test.cpp — no session key outlives WireGuard's limit, even without a
// daemon: xwg (namespace A) against wireguard-go (B) with shortened timers, a few
// handshakes and traffic, then `kill -9` of xwg's daemon. The data plane keeps the pinned
// maps; the key reaper (bpf/lib/key_reaper.h) must zero every key in them within one
// period of 3 x REJECT_AFTER_TIME, read here straight from the pinned `keypairs` map.
// Then `xwg down` removes the pins and the reaper stops: its program and maps are freed.
#include <catch2/catch.hpp>

#include "bpf_ids.h"
#include "netns_lab.h"

#include <map>
#include <set>
#include "xwg/maps.h"

#include <bpf/bpf.h>
#include <signal.h>
#include <time.h>

#include <fstream>
#include <vector>

using namespace xwg::lab;

namespace {

constexpr std::uint64_t kSecond = 1'000'000'000ULL;
constexpr std::uint64_t kReject = 3 * kSecond;	     // XWG_REJECT_AFTER_TIME=3
constexpr std::uint64_t kReaperPeriod = 5 * kSecond; // XWG_KEY_REAPER_PERIOD_NS

std::uint64_t boottime_ns()
{
	timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return std::uint64_t(ts.tv_sec) * kSecond + ts.tv_nsec;
}

// Gone, or a zombie (nothing reaps it here): either way it runs no more.
bool process_dead(pid_t pid)
{
	std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
	std::string line;
	if (!std::getline(stat, line))
		return true;
	auto paren = line.rfind(')');
	return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

// A pinned map of the interface, opened through the bpf syscall.
struct PinnedMap {
	int fd;
	explicit PinnedMap(const std::string &path) : fd(bpf_obj_get(path.c_str()))
	{
		if (fd < 0)
			throw std::runtime_error("bpf_obj_get " + path + ": " +
						 std::strerror(errno));
	}
	~PinnedMap() { close(fd); }
	PinnedMap(const PinnedMap &) = delete;
	PinnedMap &operator=(const PinnedMap &) = delete;
};

std::map<std::uint32_t, xwg_keypair> all_keypairs_by_index(const PinnedMap &m)
{
	std::map<std::uint32_t, xwg_keypair> out;
	std::uint32_t key = 0, next = 0;
	std::uint32_t *prev = nullptr;
	while (bpf_map_get_next_key(m.fd, prev, &next) == 0) {
		xwg_keypair kp;
		if (bpf_map_lookup_elem(m.fd, &next, &kp) == 0)
			out[next] = kp;
		key = next;
		prev = &key;
	}
	return out;
}

std::vector<xwg_keypair> all_keypairs(const PinnedMap &m)
{
	std::vector<xwg_keypair> out;
	for (const auto &[index, kp] : all_keypairs_by_index(m))
		out.push_back(kp);
	return out;
}

bool keys_zero(const xwg_keypair &kp)
{
	for (std::size_t i = 0; i < sizeof(kp.recv_key); ++i)
		if (kp.recv_key[i] || kp.send_key[i])
			return false;
	return true;
}

xwg_key_reaper reaper_state(const PinnedMap &m)
{
	std::uint32_t zero = 0;
	xwg_key_reaper r{};
	REQUIRE(bpf_map_lookup_elem(m.fd, &zero, &r) == 0);
	return r;
}

} // namespace

TEST_CASE("kill -9 of the daemon: every key in the pinned maps is wiped after 3 x "
	  "REJECT_AFTER_TIME",
	  "[e2e][netns][reaper]")
{
	auto o = tunnel_options(PeerKind::wggo, 4);
	o.xwg_env = {"XWG_REKEY_AFTER_TIME=1", "XWG_REJECT_AFTER_TIME=3", "XWG_REKEY_TIMEOUT=0.5"};
	Tunnel t(o);
	// Traffic for a few seconds: a handshake, then rekeys (xwg initiates every second
	// while it sends), so more than one keypair sits in the map.
	auto r = t.ping('a', 4, 1, 5);
	INFO(r.out << t.diagnostics());
	REQUIRE(r.rc == 0);
	t.a.in("ping -c 15 -i 0.2 -W 1 " + Tunnel::overlay('b', 4) + " >/dev/null || true", 30);

	const std::string pins = "/sys/fs/bpf/xwg/" + t.if_a + "/";
	std::uint32_t keypairs_id = 0, reaper_id = 0, prog_id = 0;
	std::uint64_t newest = 0, runs_at_kill = 0;
	{
		PinnedMap keypairs(pins + XWG_MAP_KEYPAIRS), reaper(pins + XWG_MAP_KEY_REAPER);
		keypairs_id = xwgtest::bpf_map_id_of(keypairs.fd);
		reaper_id = xwgtest::bpf_map_id_of(reaper.fd);
		prog_id = xwgtest::bpf_prog_using_map("xwg_key_reaper_arm", reaper_id);
		REQUIRE(prog_id != 0);

		// Killed first, so that no keypair comes after the ones looked at here.
		const pid_t daemon = t.xwg_a->daemon_pid();
		REQUIRE(daemon > 0);
		REQUIRE(kill(daemon, SIGKILL) == 0);
		REQUIRE(wait_until([&] { return process_dead(daemon); }, 5s));
		runs_at_kill = reaper_state(reaper).runs;

		const auto before = all_keypairs(keypairs);
		INFO(t.diagnostics());
		REQUIRE(before.size() >= 2);
		for (const auto &kp : before) {
			CHECK_FALSE(keys_zero(kp)); // young: the reaper leaves them alone
			newest = std::max<std::uint64_t>(newest, kp.birth_ns);
		}

		// Every key zero once the newest keypair is 3 x REJECT_AFTER_TIME old, within
		// one pass of the reaper (plus a second of slack for this shared host).
		const std::uint64_t due = newest + 3 * kReject;
		const std::uint64_t bound = due + kReaperPeriod + kSecond;
		std::vector<xwg_keypair> after;
		bool all_wiped = false;
		while (!all_wiped && boottime_ns() < bound) {
			std::this_thread::sleep_for(100ms);
			after = all_keypairs(keypairs);
			all_wiped = !after.empty();
			for (const auto &kp : after)
				all_wiped = all_wiped && keys_zero(kp) &&
					    (kp.flags & XWG_KEYPAIR_WIPED);
		}
		const std::uint64_t seen = boottime_ns();
		WARN("keys of "
		     << before.size() << " keypairs zero "
		     << (std::int64_t(seen) - std::int64_t(due)) / 1000000
		     << " ms after the newest one's 3 x REJECT_AFTER_TIME (polled every 100 ms)");
		CHECK(all_wiped);
		CHECK(after.size() == before.size()); // wiped in place; deleting is the daemon's
		for (const auto &kp : after) {
			CHECK(keys_zero(kp));
			CHECK((kp.flags & XWG_KEYPAIR_WIPED));
		}
		// The timer kept running on its own after the daemon's fds closed.
		CHECK(reaper_state(reaper).runs > runs_at_kill);
		CHECK(reaper_state(reaper).wiped >= before.size());
	} // our own fds on the maps closed

	// `xwg down` cleans up after the dead daemon; with the pins gone the reaper stops and
	// its program and maps are freed (asynchronously: a bounded wait).
	auto down = t.xwg_a->down();
	INFO(down.out);
	CHECK(down.rc == 0);
	CHECK_FALSE(exists(pins));
	CHECK(wait_until(
		[&] {
			return !xwgtest::bpf_prog_id_exists(prog_id) &&
			       !xwgtest::bpf_map_id_exists(reaper_id) &&
			       !xwgtest::bpf_map_id_exists(keypairs_id);
		},
		10s, 100ms));
}

TEST_CASE("xwg down of a running daemon stops the key reaper: nothing of it is left",
	  "[e2e][netns][reaper]")
{
	Tunnel t(tunnel_options(PeerKind::wggo, 4));
	REQUIRE(t.ping('a', 4, 1, 5).rc == 0);
	std::uint32_t reaper_id = 0, prog_id = 0;
	{
		PinnedMap reaper("/sys/fs/bpf/xwg/" + t.if_a + "/" XWG_MAP_KEY_REAPER);
		reaper_id = xwgtest::bpf_map_id_of(reaper.fd);
		prog_id = xwgtest::bpf_prog_using_map("xwg_key_reaper_arm", reaper_id);
		REQUIRE(prog_id != 0);
		// Armed with the daemon's period and running.
		const auto first = reaper_state(reaper);
		CHECK(first.period_ns == kReaperPeriod);
		CHECK(wait_until([&] { return reaper_state(reaper).runs > first.runs; }, 2s));
	}
	auto down = t.xwg_a->down();
	INFO(down.out);
	CHECK(down.rc == 0);
	CHECK(wait_until(
		[&] {
			return !xwgtest::bpf_prog_id_exists(prog_id) &&
			       !xwgtest::bpf_map_id_exists(reaper_id);
		},
		10s, 100ms));
}

TEST_CASE("a daemon taking over after the reaper wiped the keys collects them and "
	  "handshakes anew",
	  "[e2e][netns][reaper][restart]")
{
	auto o = tunnel_options(PeerKind::wggo, 4);
	o.xwg_env = {"XWG_REKEY_AFTER_TIME=1", "XWG_REJECT_AFTER_TIME=3", "XWG_REKEY_TIMEOUT=0.5"};
	Tunnel t(o);
	auto r = t.ping('a', 4, 1, 5);
	INFO(r.out << t.diagnostics());
	REQUIRE(r.rc == 0);
	const std::string pins = "/sys/fs/bpf/xwg/" + t.if_a + "/";
	const pid_t daemon = t.xwg_a->daemon_pid();
	REQUIRE(kill(daemon, SIGKILL) == 0);
	REQUIRE(wait_until([&] { return process_dead(daemon); }, 5s));
	std::set<std::uint32_t> wiped_indices;
	{
		PinnedMap keypairs(pins + XWG_MAP_KEYPAIRS);
		// All wiped: 3 x 3 s after the newest, within a reaper pass (bounded).
		REQUIRE(wait_until(
			[&] {
				const auto all = all_keypairs(keypairs);
				for (const auto &kp : all)
					if (!(kp.flags & XWG_KEYPAIR_WIPED))
						return false;
				return !all.empty();
			},
			20s, 200ms));
		for (const auto &[index, kp] : all_keypairs_by_index(keypairs))
			wiped_indices.insert(index);
	}
	REQUIRE(!wiped_indices.empty());

	// The next daemon takes over: the wiped keypairs are retired and collected, and a
	// new handshake carries the traffic.
	t.up_a();
	const auto state = nlohmann::json::parse(read_file("/run/xwg/" + t.if_a + ".state"));
	CHECK(state.value("took_over", false));
	auto p = t.ping('a', 4, 3, 5);
	INFO(p.out << t.diagnostics());
	CHECK(p.rc == 0);
	PinnedMap keypairs(pins + XWG_MAP_KEYPAIRS);
	CHECK(wait_until(
		[&] {
			for (const auto &[index, kp] : all_keypairs_by_index(keypairs))
				if (wiped_indices.count(index))
					return false;
			return true;
		},
		5s, 100ms));
}
