// flood_bench.cpp — a handshake flood against xwg and against wireguard-go, measured in one
// run. A victim namespace runs the implementation under test; an attacker namespace on the
// same link sends initiations with a valid mac1 (anyone who knows the victim's public key
// can make one) and random contents from 16 addresses, at a fixed rate for a fixed time.
// Printed per implementation: initiations sent, cookie replies received (the share of the
// flood turned away without a Diffie-Hellman), handshake responses (there must be none:
// the contents are random), and the victim's CPU.
//   flood_bench [RATE] [SECONDS]   (default 20000 a second for 10 s; root)
// wireguard-go-modern (../shared/tools, or $XWG_WGGO_MODERN) is measured when present.
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

#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

using namespace xwg::lab;
using namespace std::chrono;

namespace {

constexpr int kSources = 16;

struct Row {
	std::string name;
	std::uint64_t sent = 0, cookies = 0, responses = 0;
	double cpu = 0;
	std::string note;
};

double cpu_seconds(pid_t pid)
{
	std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
	std::string line;
	std::getline(f, line);
	const auto paren = line.rfind(')');
	if (paren == std::string::npos || paren + 2 > line.size())
		throw std::runtime_error("no process " + std::to_string(pid));
	std::istringstream rest(line.substr(paren + 2));
	std::string field;
	unsigned long long ticks = 0;
	for (int i = 3; i <= 15 && rest >> field; ++i)
		if (i == 14 || i == 15)
			ticks += std::stoull(field);
	return double(ticks) / double(sysconf(_SC_CLK_TCK));
}

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
			inet_pton(AF_INET, ("192.0.2." + std::to_string(10 + i)).c_str(), &sin.sin_addr);
			if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr *>(&sin), sizeof(sin)) == 0)
				fds.push_back(fd);
			else if (fd >= 0)
				close(fd);
		}
	}).join();
	return fds;
}

// Floods 192.0.2.1:51820 with initiations for @victim_public; counts what comes back.
void flood(Row &row, const Netns &attacker, const std::string &victim_public, pid_t victim,
	   int rate, int seconds)
{
	const std::vector<int> fds = attacker_sockets(attacker);
	if (fds.size() != kSources)
		throw std::runtime_error("attacker sockets");
	xwg::PublicKey pub;
	if (xwg::from_base64(victim_public, pub) != xwg::KeyParseError::ok)
		throw std::runtime_error("victim key");
	xwg::noise::CookieMaker maker(pub);
	sockaddr_in to{};
	to.sin_family = AF_INET;
	to.sin_port = htons(51820);
	inet_pton(AF_INET, "192.0.2.1", &to.sin_addr);
	std::uint8_t in[256];
	auto drain = [&] {
		for (int fd : fds)
			for (ssize_t n; (n = recv(fd, in, sizeof(in), 0)) > 0;) {
				row.cookies += n == XWG_MSG_COOKIE_LEN && in[0] == XWG_MSG_HANDSHAKE_COOKIE;
				row.responses += in[0] == XWG_MSG_HANDSHAKE_RESPONSE;
			}
	};
	const double cpu_before = cpu_seconds(victim);
	const auto start = steady_clock::now();
	const int per_tick = rate / 100;
	xwg_msg_initiation msg;
	for (int tick = 0; tick < seconds * 100; ++tick) {
		for (int i = 0; i < per_tick; ++i) {
			randombytes_buf(&msg, sizeof(msg));
			msg.header.type = XWG_MSG_HEADER(XWG_MSG_HANDSHAKE_INITIATION);
			maker.add_macs(std::span(reinterpret_cast<std::uint8_t *>(&msg), sizeof(msg)),
				       xwg::noise::boottime_ns());
			if (sendto(fds[i % kSources], &msg, sizeof(msg), 0,
				   reinterpret_cast<sockaddr *>(&to), sizeof(to)) == sizeof(msg))
				row.sent++;
		}
		drain();
		std::this_thread::sleep_until(start + milliseconds(10 * (tick + 1)));
	}
	const auto end = steady_clock::now() + milliseconds(500);
	while (steady_clock::now() < end)
		drain();
	row.cpu = (cpu_seconds(victim) - cpu_before) / (seconds + 0.5);
	for (int fd : fds)
		close(fd);
}

} // namespace

int main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	const int rate = argc > 1 ? std::atoi(argv[1]) : 20000;
	const int seconds = argc > 2 ? std::atoi(argv[2]) : 10;
	std::string modern = "/work/shared/tools/wireguard-go-modern";
	if (const char *e = std::getenv("XWG_WGGO_MODERN"))
		modern = e;

	TempDir dir("/tmp/xwgfb" + PID);
	Netns victim("xfbv" + PID), attacker("xfbc" + PID);
	const std::string vl = "xfbv" + PID.substr(0, 6), cl = "xfbc" + PID.substr(0, 6);
	must("ip link add " + vl + " netns " + victim.name + " type veth peer name " + cl +
	     " netns " + attacker.name);
	victim.in("ip link set lo up");
	victim.in("ip addr add 192.0.2.1/24 dev " + vl);
	victim.in("ip link set " + vl + " up");
	attacker.in("ip link set lo up");
	for (int i = 0; i < kSources; ++i)
		attacker.in("ip addr add 192.0.2." + std::to_string(10 + i) + "/24 dev " + cl);
	attacker.in("ip link set " + cl + " up");

	std::vector<Row> rows;
	{ // xwg
		Row row;
		row.name = "xwg";
		const std::string ifname = "xfb0" + PID.substr(0, 6);
		const std::string key = gen_private(), conf = dir.file(ifname + ".conf");
		std::ofstream(conf) << "[Interface]\nPrivateKey = " << key
				    << "\nListenPort = 51820\nAddress = 198.51.100.1/24\nUnderlay = " << vl
				    << "\n\n[Peer]\nPublicKey = " << pub_of(gen_private())
				    << "\nAllowedIPs = 198.51.100.2/32\n";
		XwgIface x(victim, Tunnel::xwg_binary(), ifname);
		x.up(conf);
		flood(row, attacker, pub_of(key), x.daemon_pid(), rate, seconds);
		rows.push_back(row);
	}
	for (const std::string &binary : {std::string("wireguard-go"), modern}) {
		Row row;
		row.name = binary == "wireguard-go" ? "wireguard-go (Debian)" : "wireguard-go (modern)";
		if (sh("command -v " + binary, 5).rc != 0) {
			row.note = "missing: " + binary;
			rows.push_back(row);
			continue;
		}
		const std::string key = gen_private(), keyfile = dir.file("wg.key");
		std::ofstream(keyfile) << key << "\n";
		WgGo w(victim, "xfbg" + PID.substr(0, 6), dir.file("wggo.log"), binary);
		w.set("private-key " + keyfile + " listen-port 51820 peer " + pub_of(gen_private()) +
		      " allowed-ips 198.51.100.2/32");
		victim.in("ip link set " + w.ifname + " up");
		flood(row, attacker, pub_of(key), w.proc.pid, rate, seconds);
		rows.push_back(row);
	}

	std::printf("\nhandshake flood: %d initiations/s with valid mac1 from %d addresses for %d s, "
		    "%u CPUs\n\n", rate, kSources, seconds, std::thread::hardware_concurrency());
	std::printf("%-24s | %10s | %10s | %9s | %9s | %10s\n", "victim", "sent", "cookies",
		    "cookies %", "responses", "victim CPU");
	std::printf("%-24s-|-%10s-|-%10s-|-%9s-|-%9s-|-%10s\n", "------------------------",
		    "----------", "----------", "---------", "---------", "----------");
	for (const Row &r : rows) {
		if (!r.note.empty()) {
			std::printf("%-24s | %s\n", r.name.c_str(), r.note.c_str());
			continue;
		}
		std::printf("%-24s | %10llu | %10llu | %8.1f%% | %9llu | %9.0f%%\n", r.name.c_str(),
			    (unsigned long long)r.sent, (unsigned long long)r.cookies,
			    r.sent ? 100.0 * double(r.cookies) / double(r.sent) : 0.0,
			    (unsigned long long)r.responses, 100 * r.cpu);
	}
	std::printf("\ntarget: >= 95%% of the flood answered with cookies or rate-limited; the "
		    "rest cost a Diffie-Hellman (xwg: the first second, until load is seen)\n");
	return 0;
}
