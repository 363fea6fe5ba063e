// systemd_unit_test.cpp — packaging/systemd/xwg@.service, without a systemd PID 1: the unit
// passes `systemd-analyze verify` (and keeps its hardening score), and its own Exec lines,
// read from the file, are run the way systemd runs them, in namespace A of a tunnel lab
// against wireguard-go (tests/netns_lab.h):
//   - ExecStart= in the foreground with NOTIFY_SOCKET set to a datagram socket this test
//     listens on, under the unit's CapabilityBoundingSet= and NoNewPrivileges= (setpriv);
//   - READY=1 comes from the main process (SCM_CREDENTIALS) with MAINPID and STATUS, once
//     routes are in place, and the tunnel carries a ping right then; a set-up that fails
//     exits non-zero and never says READY;
//   - ExecReload= with a changed file: one peer removed, one added, the unchanged one keeps
//     its session (its latest handshake stays, no new one for new traffic); a broken file
//     changes nothing; `wg syncconf IF <(xwg strip FILE)` works too;
//   - stop: ExecStop= lines (none) then KillSignal= to the main process (KillMode=mixed):
//     STOPPING=1 arrives, the daemon exits 0, and nothing of the interface is left;
//   - after kill -9, what systemd runs then (ExecStop=, ExecStopPost=: none) leaves the
//     data plane forwarding for the restarted daemon to take over.
// What is not emulated: the mount namespace (ProtectSystem=, PrivateTmp=, ...), the
// syscall-level restrictions (RestrictAddressFamilies=, ...), UMask= and LimitMEMLOCK=
// (raising it needs CAP_SYS_RESOURCE, which the test machines' root lacks; kernels since
// 5.11 charge BPF memory to the cgroup instead).
#include <catch2/catch.hpp>

#include "netns_lab.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>

using namespace xwg::lab;

namespace {

// ---- the unit file ---------------------------------------------------------------------

// The [Service] section: every "Key=Value", values of repeated keys in order.
using ServiceSection = std::map<std::string, std::vector<std::string>>;

ServiceSection read_service_section(const std::string &path)
{
	std::ifstream f(path);
	if (!f)
		throw std::runtime_error(path + ": cannot read");
	ServiceSection out;
	std::string line, section;
	while (std::getline(f, line)) {
		if (line.empty() || line[0] == '#' || line[0] == ';')
			continue;
		if (line.back() == '\\')
			throw std::runtime_error("continuation lines are not handled here: " +
						 line);
		if (line[0] == '[') {
			section = line;
			continue;
		}
		const auto eq = line.find('=');
		if (section == "[Service]" && eq != std::string::npos)
			out[line.substr(0, eq)].push_back(line.substr(eq + 1));
	}
	return out;
}

std::vector<std::string> values(const ServiceSection &s, const std::string &key)
{
	auto it = s.find(key);
	return it == s.end() ? std::vector<std::string>{} : it->second;
}

std::string value(const ServiceSection &s, const std::string &key, const std::string &fallback)
{
	auto v = values(s, key);
	return v.empty() ? fallback : v.back();
}

std::vector<std::string> split_words(const std::string &text)
{
	std::istringstream in(text);
	std::vector<std::string> words;
	for (std::string w; in >> w;)
		words.push_back(w);
	return words;
}

std::string replace_all(std::string s, const std::string &from, const std::string &to)
{
	for (std::size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size())
		s.replace(at, from.size(), to);
	return s;
}

// How this test runs the unit's commands: the instance name, the directory that stands
// in for /etc/wireguard, and the binary under test for /usr/bin/xwg.
struct Instance {
	std::string ifname, etc_dir;

	// One Exec line as argv, specifiers and paths replaced. Our unit uses no quoting, no
	// $VARIABLES and no prefixes (-, @, +, !): refuse them rather than run them wrongly.
	std::vector<std::string> argv(const std::string &exec_line) const
	{
		std::string s = replace_all(exec_line, "%i", ifname);
		s = replace_all(s, "%I", ifname);
		s = replace_all(s, "/etc/wireguard/", etc_dir + "/");
		s = replace_all(s, "/usr/bin/xwg", XWG_BINARY);
		if (s.find_first_of("%\"'$\\") != std::string::npos || s.empty() ||
		    std::string("-@+!:").find(s[0]) != std::string::npos)
			throw std::runtime_error(
				"Exec line this test cannot run as systemd would: " + exec_line);
		return split_words(s);
	}
};

// "CAP_NET_ADMIN CAP_BPF" -> "-all,+net_admin,+bpf" for setpriv --bounding-set.
std::string setpriv_caps(const std::string &unit_caps)
{
	std::string out = "-all";
	for (std::string cap : split_words(unit_caps)) {
		REQUIRE(cap.starts_with("CAP_"));
		cap = cap.substr(4);
		for (char &c : cap)
			c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
		out += ",+" + cap;
	}
	return out;
}

// The prefix that gives a command what the unit gives its processes (as far as it can
// be had without systemd), inside namespace @ns.
std::vector<std::string> sandbox(const ServiceSection &unit, const Netns &ns)
{
	std::vector<std::string> p{"nsenter", "--net=" + ns.path(), "setpriv", "--inh-caps",
				   "-all"};
	if (auto caps = value(unit, "CapabilityBoundingSet", ""); !caps.empty())
		p.insert(p.end(), {"--bounding-set", setpriv_caps(caps)});
	if (value(unit, "NoNewPrivileges", "no") == "yes")
		p.push_back("--no-new-privs");
	p.push_back("--");
	return p;
}

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string> &b)
{
	a.insert(a.end(), b.begin(), b.end());
	return a;
}

std::string shell_line(const std::vector<std::string> &argv)
{
	std::string s;
	for (const auto &a : argv)
		s += (s.empty() ? "" : " ") + quote(a);
	return s;
}

// ---- the notification socket -------------------------------------------------------------

// What arrived on NOTIFY_SOCKET: the text and the sender's pid (SCM_CREDENTIALS, which
// systemd uses to take messages from the main process only, NotifyAccess=main).
struct Notification {
	std::string text;
	pid_t sender = 0;
	bool has(const std::string &assignment) const
	{
		return ("\n" + text + "\n").find("\n" + assignment + "\n") != std::string::npos;
	}
	std::string field(const std::string &key) const
	{
		const std::string t = "\n" + text + "\n";
		const auto at = t.find("\n" + key + "=");
		if (at == std::string::npos)
			return "";
		const auto start = at + key.size() + 2;
		return t.substr(start, t.find('\n', start) - start);
	}
};

struct NotifySocket {
	std::string path;
	int fd = -1;

	explicit NotifySocket(std::string p) : path(std::move(p))
	{
		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		sockaddr_un sun{};
		sun.sun_family = AF_UNIX;
		REQUIRE(path.size() < sizeof(sun.sun_path));
		std::memcpy(sun.sun_path, path.c_str(), path.size() + 1);
		const int one = 1;
		unlink(path.c_str());
		if (fd < 0 || bind(fd, reinterpret_cast<sockaddr *>(&sun), sizeof(sun)) < 0 ||
		    setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0)
			throw std::runtime_error("notify socket " + path + ": " +
						 std::strerror(errno));
	}
	~NotifySocket()
	{
		close(fd);
		unlink(path.c_str());
	}
	NotifySocket(const NotifySocket &) = delete;
	NotifySocket &operator=(const NotifySocket &) = delete;

	// The next message within @limit, or nullopt.
	std::optional<Notification> next(std::chrono::milliseconds limit)
	{
		pollfd p{fd, POLLIN, 0};
		if (poll(&p, 1, static_cast<int>(limit.count())) != 1)
			return std::nullopt;
		char buf[4096];
		alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
		iovec iov{buf, sizeof(buf)};
		msghdr msg{};
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = control;
		msg.msg_controllen = sizeof(control);
		const ssize_t n = recvmsg(fd, &msg, 0);
		if (n < 0)
			return std::nullopt;
		Notification note{std::string(buf, static_cast<std::size_t>(n)), 0};
		for (cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
				ucred cred;
				std::memcpy(&cred, CMSG_DATA(c), sizeof(cred));
				note.sender = cred.pid;
			}
		return note;
	}

	// Messages until one has @assignment (included), @limit passes, or @sender_alive says
	// the process that would send it is gone.
	std::vector<Notification> until(const std::string &assignment,
					std::chrono::milliseconds limit,
					const std::function<bool()> &sender_alive = {})
	{
		std::vector<Notification> got;
		const auto deadline = Clock::now() + limit;
		while (Clock::now() < deadline) {
			if (sender_alive && !sender_alive()) {
				while (auto n = next(std::chrono::milliseconds(0)))
					got.push_back(*n);
				break;
			}
			auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
				deadline - Clock::now());
			auto n = next(std::min(left, std::chrono::milliseconds(200)));
			if (!n)
				continue;
			got.push_back(*n);
			if (n->has(assignment))
				break;
		}
		return got;
	}
};

bool any_has(const std::vector<Notification> &notes, const std::string &assignment)
{
	for (const auto &n : notes)
		if (n.has(assignment))
			return true;
	return false;
}

// ---- the interface as `wg` sees it -------------------------------------------------------

// `wg show IF FIELD` as public key -> value.
std::map<std::string, std::string> wg_by_peer(const Netns &ns, const std::string &ifname,
					      const std::string &field)
{
	std::map<std::string, std::string> out;
	std::istringstream in(ns.in("wg show " + ifname + " " + field));
	for (std::string line; std::getline(in, line);) {
		const auto tab = line.find('\t');
		if (tab != std::string::npos)
			out[line.substr(0, tab)] = line.substr(tab + 1);
	}
	return out;
}

std::set<std::string> peer_keys(const Netns &ns, const std::string &ifname)
{
	std::set<std::string> keys;
	for (const auto &[k, v] : wg_by_peer(ns, ifname, "allowed-ips"))
		keys.insert(k);
	return keys;
}

const std::string UNIT = XWG_UNIT_FILE;

} // namespace

TEST_CASE("xwg@.service passes systemd-analyze verify and keeps its hardening", "[systemd]")
{
	require_tool("systemd-analyze");
	TempDir dir("/tmp/xwgSv" + PID);
	// Instances are verified through the template; the binary must exist where ExecStart=
	// says, so it points at the one under test. The man pages (Documentation=) come with the
	// package, not with this tree: --man=no.
	const std::string unit = dir.file("xwg@.service");
	must("sed 's#/usr/bin/xwg#" + std::string(XWG_BINARY) + "#g' " + quote(UNIT) + " > " +
	     quote(unit));
	auto verify = sh("cd " + quote(dir.path) + " && systemd-analyze verify --man=no " +
			 quote(dir.file("xwg@wg0.service")));
	INFO(verify.out);
	CHECK(verify.rc == 0);
	CHECK(verify.out.empty()); // unknown keys and bad values are only warnings

	// Verify does look at the commands: one that is not there fails it.
	TempDir broken("/tmp/xwgSw" + PID);
	must("sed 's#/usr/bin/xwg#" + broken.file("missing/xwg") + "#g' " + quote(UNIT) + " > " +
	     quote(broken.file("xwg@.service")));
	auto missing = sh("cd " + quote(broken.path) + " && systemd-analyze verify --man=no " +
			  quote(broken.file("xwg@wg0.service")));
	CHECK(missing.rc != 0);
	CHECK(missing.out.find("missing/xwg") != std::string::npos);

	// systemd's own exposure score (0 best, 100 worst): 44 when this was written; the
	// threshold catches hardening lost by an edit.
	auto security = sh("cd " + quote(dir.path) +
			   " && systemd-analyze security --offline=true --man=no --threshold=50 " +
			   quote(dir.file("xwg@wg0.service")));
	INFO(security.out);
	CHECK(security.rc == 0);
}

TEST_CASE("xwg@.service: the choices the rest of xwg depends on", "[systemd]")
{
	const ServiceSection unit = read_service_section(UNIT);
	CHECK(value(unit, "Type", "") == "notify");
	CHECK(value(unit, "Restart", "") == "on-failure");
	// systemd runs ExecStop= and ExecStopPost= after a crash too, before Restart= starts a
	// daemon that takes the still-forwarding data plane over: a teardown there would cut
	// the tunnel. A clean stop is the daemon's own SIGTERM handling.
	CHECK(values(unit, "ExecStop").empty());
	CHECK(values(unit, "ExecStopPost").empty());
	CHECK(value(unit, "KillSignal", "SIGTERM") == "SIGTERM");
	const auto start = split_words(value(unit, "ExecStart", ""));
	CHECK(std::find(start.begin(), start.end(), "--foreground") != start.end());
	CHECK(std::find(start.begin(), start.end(), "/etc/wireguard/%i.conf") != start.end());
}

TEST_CASE("xwg@.service: start, READY, reload and stop, run as systemd runs them",
	  "[systemd][netns]")
{
	for (auto t : {"setpriv", "wg", "bash"})
		require_tool(t);
	const ServiceSection unit = read_service_section(UNIT);

	// Namespace A gets an extra peer X, to be removed by the reload.
	const std::string key_x = gen_private(), key_y = gen_private();
	const std::string pub_x = pub_of(key_x), pub_y = pub_of(key_y);
	TunnelOptions o = tunnel_options(PeerKind::wggo, 4);
	o.a_extra_peers = "[Peer]\nPublicKey = " + pub_x + "\nAllowedIPs = 198.51.100.66/32\n";
	Tunnel t(o);
	// The lab started A in the background; systemd starts it instead.
	REQUIRE(t.xwg_a->down().rc == 0);
	REQUIRE_FALSE(exists("/run/xwg/" + t.if_a + ".pid"));
	const Instance inst{t.if_a, t.dir.path};
	const std::string conf = t.dir.file(t.if_a + ".conf");
	REQUIRE(exists(conf));
	const auto prefix = sandbox(unit, t.a);

	SECTION("a set-up that fails exits non-zero and never says READY")
	{
		TempDir etc("/tmp/xwgSb" + PID);
		std::ofstream(etc.file(t.if_a + ".conf")) << replace_all(
			t.xwg_conf('a'), "Underlay = " + t.ua, "Underlay = xnosuch0");
		NotifySocket notify(etc.file("notify"));
		const Instance bad{t.if_a, etc.path};
		Child daemon =
			Child::spawn(concat(prefix, bad.argv(value(unit, "ExecStart", ""))),
				     etc.file("daemon.log"), {"NOTIFY_SOCKET=" + notify.path});
		const int rc = daemon.wait(30s);
		const std::string log = read_file(etc.file("daemon.log"));
		INFO(log);
		CHECK(rc == 1);
		CHECK(log.find("xnosuch0") != std::string::npos); // failed where it should
		CHECK_FALSE(any_has(notify.until("READY=1", 500ms), "READY=1"));
		CHECK_FALSE(exists("/run/xwg/" + t.if_a + ".pid"));
	}

	SECTION("start, reload, stop")
	{
		NotifySocket notify(t.dir.file("notify"));
		const std::string log = t.dir.file("daemon.log");
		Child daemon = Child::spawn(concat(prefix, inst.argv(value(unit, "ExecStart", ""))),
					    log, {"NOTIFY_SOCKET=" + notify.path});
		auto diag = [&] {
			return "daemon:\n" + read_file(log) + t.diagnostics();
		};

		// --- start: READY=1 from the main process, once the tunnel works.
		auto notes = notify.until("READY=1", 60s, [&] { return daemon.running(); });
		INFO(diag());
		REQUIRE(any_has(notes, "READY=1"));
		const Notification &ready = notes.back();
		CHECK(notes.size() == 1); // nothing before READY
		CHECK(ready.sender == daemon.pid);
		CHECK(ready.field("MAINPID") == std::to_string(daemon.pid));
		CHECK(ready.field("STATUS").find(t.if_a) != std::string::npos);
		// Set-up finished before READY: the peer's route is there, and the first ping
		// (which makes the handshake) goes through right away.
		CHECK(t.a.in("ip -4 route show dev " + t.if_a).find("198.51.100.2") !=
		      std::string::npos);
		REQUIRE(t.ping('a', 4, 1, 5).rc == 0);
		REQUIRE(daemon.running());
		CHECK(peer_keys(t.a, t.if_a) == std::set<std::string>{t.pub_b, pub_x});

		const std::string handshake_b =
			wg_by_peer(t.a, t.if_a, "latest-handshakes")[t.pub_b];
		REQUIRE(handshake_b != "0");
		// A handshake made after the reload would show another second.
		std::this_thread::sleep_for(1500ms);

		// --- reload: X out, Y in, B unchanged.
		std::string changed = replace_all(t.xwg_conf('a'), o.a_extra_peers, "");
		REQUIRE(changed != t.xwg_conf('a'));
		changed += "\n[Peer]\nPublicKey = " + pub_y + "\nAllowedIPs = 198.51.100.77/32\n";
		std::ofstream(conf) << changed;
		const auto reload = concat(prefix, inst.argv(value(unit, "ExecReload", "")));
		auto r = sh("MAINPID=" + std::to_string(daemon.pid) + " " + shell_line(reload));
		INFO(r.out);
		REQUIRE(r.rc == 0);
		CHECK(peer_keys(t.a, t.if_a) == std::set<std::string>{t.pub_b, pub_y});
		const std::string routes = t.a.in("ip -4 route show dev " + t.if_a);
		CHECK(routes.find("198.51.100.77") != std::string::npos);
		CHECK(routes.find("198.51.100.66") == std::string::npos);
		// B kept its session: traffic flows with no new handshake.
		REQUIRE(t.ping('a', 4, 3, 3).rc == 0);
		CHECK(wg_by_peer(t.a, t.if_a, "latest-handshakes")[t.pub_b] == handshake_b);

		// --- a broken file: the reload fails and nothing changes.
		std::ofstream(conf)
			<< replace_all(changed, "PublicKey = " + pub_y, "PublicKey = not-a-key");
		r = sh(shell_line(reload));
		CHECK(r.rc != 0);
		CHECK(r.out.find("PublicKey") != std::string::npos);
		CHECK(peer_keys(t.a, t.if_a) == std::set<std::string>{t.pub_b, pub_y});

		// --- wg-quick's way: `wg syncconf IF <(xwg strip FILE)`, Y out again.
		std::ofstream(conf) << replace_all(t.xwg_conf('a'), o.a_extra_peers, "");
		r = t.a.try_in("bash -c " +
			       quote("wg syncconf " + t.if_a + " <(" + std::string(XWG_BINARY) +
				     " strip " + conf + ")"));
		INFO(r.out);
		REQUIRE(r.rc == 0);
		CHECK(peer_keys(t.a, t.if_a) == std::set<std::string>{t.pub_b});
		REQUIRE(t.ping('a', 4, 1, 3).rc == 0);
		CHECK(wg_by_peer(t.a, t.if_a, "latest-handshakes")[t.pub_b] == handshake_b);

		// --- stop: ExecStop= (none), then KillSignal= to the main process.
		for (const auto &line : values(unit, "ExecStop"))
			CHECK(sh(shell_line(concat(prefix, inst.argv(line)))).rc == 0);
		REQUIRE(value(unit, "KillSignal", "SIGTERM") == "SIGTERM");
		const pid_t pid = daemon.pid;
		REQUIRE(kill(pid, SIGTERM) == 0);
		CHECK(daemon.wait(30s) == 0);
		CHECK(any_has(notify.until("STOPPING=1", 2s), "STOPPING=1"));
		// Nothing of the interface is left.
		// Devices: only lo and the underlay (the tunnel's two veth ends are gone).
		CHECK(t.a.in("ip -o link show | wc -l") == "2\n");
		CHECK(t.a.try_in("ip link show " + t.if_a).rc != 0);
		CHECK(t.a.in("ip link show " + t.ua).find("xdp") == std::string::npos);
		CHECK_FALSE(exists("/sys/fs/bpf/xwg/" + t.if_a));
		CHECK_FALSE(exists("/var/run/wireguard/" + t.if_a + ".sock"));
		for (auto ext : {".pid", ".state", ".log"})
			CHECK_FALSE(exists("/run/xwg/" + t.if_a + ext));
	}

	// What systemd does when the daemon dies (kill -9, a crash): it runs ExecStop= and
	// ExecStopPost= all the same, kills what is left of the service, and restarts it. None
	// of that may take the data plane down: it keeps forwarding with the session keys it
	// holds, for a restarted daemon to take over.
	SECTION("after a crash, the unit's stop path leaves the data plane forwarding, and the "
		"restarted daemon takes it over")
	{
		NotifySocket notify(t.dir.file("notify"));
		const std::string log = t.dir.file("daemon.log");
		Child daemon = Child::spawn(concat(prefix, inst.argv(value(unit, "ExecStart", ""))),
					    log, {"NOTIFY_SOCKET=" + notify.path});
		const auto notes = notify.until("READY=1", 60s, [&] { return daemon.running(); });
		INFO("daemon:\n" + read_file(log) + t.diagnostics());
		REQUIRE(any_has(notes, "READY=1"));
		REQUIRE(t.ping('a', 4, 1, 5).rc == 0);

		REQUIRE(kill(daemon.pid, SIGKILL) == 0);
		CHECK(daemon.wait(10s) == -1); // killed, not exited
		for (const char *key : {"ExecStop", "ExecStopPost"})
			for (const auto &line : values(unit, key))
				sh(shell_line(concat(prefix, inst.argv(line))));
		CHECK(t.ping('a', 4, 3, 3).rc == 0);
		CHECK(exists("/sys/fs/bpf/xwg/" + t.if_a));

		// Restart=on-failure: systemd runs ExecStart again, which takes the data plane
		// over and is ready again.
		Child again = Child::spawn(concat(prefix, inst.argv(value(unit, "ExecStart", ""))),
					   log + ".2", {"NOTIFY_SOCKET=" + notify.path});
		const auto renotes = notify.until("READY=1", 60s, [&] { return again.running(); });
		INFO("restarted daemon:\n" + read_file(log + ".2"));
		REQUIRE(any_has(renotes, "READY=1"));
		CHECK(renotes.back().field("STATUS").find("took over") != std::string::npos);
		CHECK(t.ping('a', 4, 3, 3).rc == 0);
		REQUIRE(kill(again.pid, SIGKILL) == 0);
		CHECK(again.wait(10s) == -1);

		// `xwg down` still cleans up after the dead daemon.
		CHECK(t.a.try_in(std::string(XWG_BINARY) + " down " + t.if_a).rc == 0);
		CHECK(t.a.in("ip -o link show | wc -l") == "2\n");
		CHECK_FALSE(exists("/sys/fs/bpf/xwg/" + t.if_a));
	}
}
