// daemon_netns_test.cpp — `xwg up/show/down` and stock `wg` against the real daemon and
// data plane, each case in its own network namespace:
//
//   namespace xwgD<pid>: underlay veths xua<pid>/xub<pid> (192.0.2.1/24) and xva<pid>/xvb<pid>
//                        (198.51.100.1/24); tunnels xt<pid>a, xt<pid>b on top of them.
//
// Everything runs through nsenter --net (not `ip netns exec`, which hides bpffs). Each
// wait is bounded; guards take the daemons down, delete the namespace and remove the
// config files on every exit path.
#include <catch2/catch.hpp>

#include "loader/types/keys.h"
#include "netns_lab.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

using namespace xwg;
using xwg::lab::exists;
using xwg::lab::must;
using xwg::lab::Result;
using xwg::lab::sh;

namespace {

const std::string PID = std::to_string(getpid());

// A namespace with two underlay veth pairs; removed (with everything in it) at the end.
struct Lab {
	std::string ns = "xwgD" + PID;
	std::string dir = "/tmp/xwgD" + PID;
	std::string ua = "xua" + PID, ub = "xub" + PID, va = "xva" + PID, vb = "xvb" + PID;
	std::vector<std::string> up_ifaces;

	Lab()
	{
		lab::remove_stale_namespaces("xwgD"); // earlier runs that died before their guards ran
		must("ip netns add " + ns);
		mkdir(dir.c_str(), 0700);
		in("ip link set lo up");
		in("ip link add " + ua + " type veth peer name " + ub);
		in("ip link add " + va + " type veth peer name " + vb);
		for (const auto &d : {ua, ub, va, vb})
			in("ip link set " + d + " up");
		in("ip addr add 192.0.2.1/24 dev " + ua);
		in("ip addr add 198.51.100.1/24 dev " + va);
	}
	~Lab()
	{
		for (const auto &i : up_ifaces)
			sh(nsenter() + XWG_BINARY " down " + i, 20);
		sh("ip netns del " + ns);
		sh("rm -rf " + dir);
		// A failed test must not leave pins or sockets behind either.
		for (const auto &i : up_ifaces) {
			sh("rm -rf /sys/fs/bpf/xwg/" + i);
			sh("rm -f /var/run/wireguard/" + i + ".sock /run/xwg/" + i + ".*");
		}
	}
	std::string nsenter() const { return "nsenter --net=/run/netns/" + ns + " "; }
	std::string in(const std::string &cmd) const { return must(nsenter() + cmd); }
	Result try_in(const std::string &cmd) const { return sh(nsenter() + cmd); }

	std::string write_conf(const std::string &ifname, const std::string &text)
	{
		std::string path = dir + "/" + ifname + ".conf";
		std::ofstream(path) << text;
		return path;
	}
	Result up(const std::string &ifname, const std::string &conf)
	{
		auto r = try_in(XWG_BINARY " up " + conf);
		if (r.rc == 0)
			up_ifaces.push_back(ifname);
		return r;
	}
	Result down(const std::string &ifname)
	{
		auto r = try_in(XWG_BINARY " down " + ifname);
		if (r.rc == 0)
			std::erase(up_ifaces, ifname);
		return r;
	}
	bool link(const std::string &name) const
	{
		return try_in("ip link show dev " + name).rc == 0;
	}
};

std::string pins(const std::string &ifname)
{
	return "/sys/fs/bpf/xwg/" + ifname;
}

// Every trace of an interface is gone.
void check_gone(const Lab &lab, const std::string &ifname, const std::string &underlay)
{
	CHECK_FALSE(lab.link(ifname));
	CHECK_FALSE(lab.link("xwgh-" + ifname));
	CHECK_FALSE(exists(pins(ifname)));
	CHECK_FALSE(exists("/var/run/wireguard/" + ifname + ".sock"));
	CHECK_FALSE(exists("/run/xwg/" + ifname + ".pid"));
	CHECK_FALSE(exists("/run/xwg/" + ifname + ".state"));
	CHECK_FALSE(exists("/run/xwg/" + ifname + ".log"));
	CHECK(lab.in("ip link show dev " + underlay).find("xdp") == std::string::npos);
}

std::string basic_conf(const PrivateKey &priv, unsigned port, const std::string &underlay,
		       const std::string &address, const PublicKey &peer_pub)
{
	return "[Interface]\nPrivateKey = " + to_base64(priv) + "\nListenPort = " +
	       std::to_string(port) + "\nAddress = " + address + "\nUnderlay = " + underlay +
	       "\n\n[Peer]\nPublicKey = " + to_base64(peer_pub) +
	       "\nAllowedIPs = 203.0.113.0/24, 2001:db8:5::/48\nEndpoint = 192.0.2.2:51820\n";
}

} // namespace

TEST_CASE("xwg up builds the tunnel; wg and bpftool see it; xwg down removes every trace",
	  "[daemon][netns]")
{
	Lab lab;
	const std::string ifname = "xt" + PID + "a";
	PrivateKey priv = generate_private_key(), peer_priv = generate_private_key();
	PublicKey pub = public_key_of(priv), peer_pub = public_key_of(peer_priv);
	auto conf = lab.write_conf(ifname, basic_conf(priv, 51820, lab.ua, "192.0.2.201/32, 2001:db8:1::1/64", peer_pub));

	auto r = lab.up(ifname, conf);
	INFO(r.out);
	REQUIRE(r.rc == 0);

	// Devices: the visible end is NOARP, with its addresses, MTU and routes.
	std::string link = lab.in("ip -d link show dev " + ifname);
	CHECK(link.find("NOARP") != std::string::npos);
	CHECK(link.find("mtu 1420") != std::string::npos);
	CHECK(link.find("addrgenmode none") != std::string::npos);
	CHECK(lab.link("xwgh-" + ifname));
	std::string addrs = lab.in("ip addr show dev " + ifname);
	CHECK(addrs.find("192.0.2.201/32") != std::string::npos);
	CHECK(addrs.find("2001:db8:1::1/64") != std::string::npos);
	CHECK(lab.in("ip route show dev " + ifname).find("203.0.113.0/24") != std::string::npos);
	CHECK(lab.in("ip -6 route show dev " + ifname).find("2001:db8:5::/48") != std::string::npos);
	std::string features = lab.in("ethtool -k " + ifname);
	CHECK(features.find("tcp-segmentation-offload: off") != std::string::npos);
	CHECK(features.find("generic-segmentation-offload: off") != std::string::npos);
	CHECK(lab.in("ethtool -k xwgh-" + ifname).find("generic-receive-offload: off") !=
	      std::string::npos);

	// Programs: RX on the underlay, the XDP_PASS program on the visible end, TX on tc.
	std::string net = lab.in("bpftool net show");
	INFO(net);
	CHECK(net.find(lab.ua) != std::string::npos);
	CHECK(net.find("xwgh-" + ifname + "(") != std::string::npos);
	CHECK(net.find("clsact/ingress xwg_tx") != std::string::npos);
	CHECK(lab.in("ip -d link show dev " + lab.ua).find("name xwg_rx") != std::string::npos);
	CHECK(lab.in("ip -d link show dev " + ifname).find("name xwg_tun") != std::string::npos);

	// Pins with readable field names.
	for (const char *map : {"config", "peers", "endpoints", "peer_stats", "keypairs",
				"keypair_slots", "allowed_ips4", "allowed_ips6", "drops", "events",
				"staged"})
		CHECK(exists(pins(ifname) + "/" + map));
	struct stat st{};
	REQUIRE(stat(pins(ifname).c_str(), &st) == 0);
	CHECK((st.st_mode & 0777) == 0700);
	std::string config = must("bpftool map dump pinned " + pins(ifname) + "/config");
	CHECK(config.find("\"listen_port\": 51820") != std::string::npos);
	CHECK(config.find("tunnel_ifindex") != std::string::npos);
	std::string ips = must("bpftool map dump pinned " + pins(ifname) + "/allowed_ips4");
	INFO(ips);
	CHECK(ips.find("\"prefixlen\": 24") != std::string::npos);
	std::string peers = must("bpftool map dump pinned " + pins(ifname) + "/peers");
	CHECK(peers.find("\"active\": 1") != std::string::npos);

	// The UAPI socket, and stock wg reading it.
	REQUIRE(stat(("/var/run/wireguard/" + ifname + ".sock").c_str(), &st) == 0);
	CHECK((st.st_mode & 0777) == 0600);
	std::string show = lab.in("wg show " + ifname);
	INFO(show);
	CHECK(show.find("public key: " + to_base64(pub)) != std::string::npos);
	CHECK(show.find("listening port: 51820") != std::string::npos);
	CHECK(show.find("peer: " + to_base64(peer_pub)) != std::string::npos);
	CHECK(show.find("endpoint: 192.0.2.2:51820") != std::string::npos);
	CHECK(show.find("203.0.113.0/24") != std::string::npos);

	// xwg show adds the data plane's view.
	std::string xshow = lab.in(XWG_BINARY " show " + ifname);
	INFO(xshow);
	CHECK(xshow.find("receive: " + lab.ua + " (xdp native)") != std::string::npos);
	CHECK(xshow.find("drops:") != std::string::npos);
	std::string xjson = lab.in(XWG_BINARY " show all --json");
	CHECK(xjson.find("\"interface\": \"" + ifname + "\"") != std::string::npos);
	CHECK(xjson.find("\"path\": \"xdp native\"") != std::string::npos);

	// Up twice is refused and changes nothing.
	auto again = lab.try_in(XWG_BINARY " up " + conf);
	CHECK(again.rc != 0);
	CHECK(lab.link(ifname));

	r = lab.down(ifname);
	INFO(r.out);
	REQUIRE(r.rc == 0);
	check_gone(lab, ifname, lab.ua);
}

TEST_CASE("wg set and syncconf changes reach the maps at once", "[daemon][netns]")
{
	Lab lab;
	const std::string ifname = "xt" + PID + "a";
	PrivateKey priv = generate_private_key();
	PrivateKey p1 = generate_private_key(), p2 = generate_private_key();
	PublicKey pub1 = public_key_of(p1), pub2 = public_key_of(p2);
	auto conf = lab.write_conf(ifname, basic_conf(priv, 51821, lab.ua, "192.0.2.201/32", pub1));
	auto r = lab.up(ifname, conf);
	INFO(r.out);
	REQUIRE(r.rc == 0);
	auto dump = [&](const char *map) {
		return must("bpftool map dump pinned " + pins(ifname) + "/" + map);
	};

	// Add a peer.
	lab.in("wg set " + ifname + " peer " + to_base64(pub2) +
	       " allowed-ips 198.51.100.128/25,2001:db8:7::/64 endpoint 192.0.2.3:51000");
	std::string ips4 = dump("allowed_ips4");
	CHECK(ips4.find("\"prefixlen\": 25") != std::string::npos);
	CHECK(dump("allowed_ips6").find("\"prefixlen\": 64") != std::string::npos);
	std::string show = lab.in("wg show " + ifname + " allowed-ips");
	CHECK(show.find("198.51.100.128/25") != std::string::npos);
	CHECK(lab.in("ip route show dev " + ifname).find("198.51.100.128/25") != std::string::npos);
	CHECK(lab.in("wg show " + ifname + " endpoints").find("192.0.2.3:51000") != std::string::npos);

	// Change its allowed IPs.
	lab.in("wg set " + ifname + " peer " + to_base64(pub2) + " allowed-ips 198.51.100.64/26");
	ips4 = dump("allowed_ips4");
	CHECK(ips4.find("\"prefixlen\": 26") != std::string::npos);
	CHECK(ips4.find("\"prefixlen\": 25") == std::string::npos);
	CHECK(dump("allowed_ips6").find("\"prefixlen\": 64") == std::string::npos);

	// showconf | syncconf is a no-op; a bad set changes nothing.
	lab.in("wg showconf " + ifname + " > " + lab.dir + "/sync.conf");
	lab.in("wg syncconf " + ifname + " " + lab.dir + "/sync.conf");
	CHECK(lab.in("wg show " + ifname + " peers").find(to_base64(pub2)) != std::string::npos);
	auto bad = lab.try_in("wg set " + ifname + " peer " + to_base64(pub2) + " allowed-ips 300.1.1.1/8");
	CHECK(bad.rc != 0);
	CHECK(dump("allowed_ips4").find("\"prefixlen\": 26") != std::string::npos);

	// Remove it: its prefix leaves the trie and its slot is inactive.
	lab.in("wg set " + ifname + " peer " + to_base64(pub2) + " remove");
	ips4 = dump("allowed_ips4");
	CHECK(ips4.find("\"prefixlen\": 26") == std::string::npos);
	CHECK(ips4.find("\"prefixlen\": 24") != std::string::npos);
	CHECK(lab.in("wg show " + ifname + " peers").find(to_base64(pub2)) == std::string::npos);
	std::string peers = dump("peers");
	CHECK(peers.find("\"active\": 1") != std::string::npos); // the first peer stays

	// A new listen port is bound and lands in the config map.
	lab.in("wg set " + ifname + " listen-port 51829");
	CHECK(dump("config").find("\"listen_port\": 51829") != std::string::npos);
	CHECK(lab.in("ss -uln").find(":51829") != std::string::npos);

	// A fwmark reaches the data plane (it marks the encrypted packets), and 0 clears it.
	CHECK(dump("config").find("\"fwmark\": 0") != std::string::npos);
	lab.in("wg set " + ifname + " fwmark 0x1234");
	CHECK(dump("config").find("\"fwmark\": 4660") != std::string::npos);
	CHECK(lab.in("wg show " + ifname + " fwmark").find("0x1234") != std::string::npos);
	lab.in("wg set " + ifname + " fwmark 0");
	CHECK(dump("config").find("\"fwmark\": 0") != std::string::npos);

	REQUIRE(lab.down(ifname).rc == 0);
	check_gone(lab, ifname, lab.ua);
}

TEST_CASE("a bad config exits non-zero and leaves nothing behind", "[daemon][netns]")
{
	Lab lab;
	const std::string ifname = "xt" + PID + "b";
	PrivateKey priv = generate_private_key();
	PublicKey peer = public_key_of(generate_private_key());

	// Refused by the parser: the message names file, line and key.
	auto conf = lab.write_conf(ifname, "[Interface]\nPrivateKey = nope\n");
	auto r = lab.up(ifname, conf);
	CHECK(r.rc != 0);
	CHECK(r.out.find(ifname + ".conf:2") != std::string::npos);
	check_gone(lab, ifname, lab.ua);

	// Refused during set-up: an underlay that does not exist.
	conf = lab.write_conf(ifname, basic_conf(priv, 51822, "xnope" + PID, "192.0.2.202/32", peer));
	r = lab.up(ifname, conf);
	CHECK(r.rc != 0);
	CHECK(r.out.find("xnope" + PID) != std::string::npos);
	check_gone(lab, ifname, lab.ua);

	// Refused late, after devices, programs and pins exist: the port is taken.
	std::ofstream(lab.dir + "/blocker.py")
		<< "import socket, time\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
		   "s.bind((\"\", 51823))\ntime.sleep(20)\n";
	auto blocker = sh(lab.nsenter() + "python3 " + lab.dir + "/blocker.py >/dev/null 2>&1 & echo $!");
	REQUIRE(blocker.rc == 0);
	std::string blocker_pid = blocker.out.substr(0, blocker.out.find('\n'));
	std::this_thread::sleep_for(std::chrono::milliseconds(300));
	conf = lab.write_conf(ifname, basic_conf(priv, 51823, lab.ua, "192.0.2.202/32", peer));
	r = lab.up(ifname, conf);
	sh("kill " + blocker_pid);
	INFO(r.out);
	CHECK(r.rc != 0);
	CHECK(r.out.find("51823") != std::string::npos);
	check_gone(lab, ifname, lab.ua);
}

TEST_CASE("two interfaces side by side; SIGTERM takes one down cleanly", "[daemon][netns]")
{
	Lab lab;
	const std::string a = "xt" + PID + "a", b = "xt" + PID + "b";
	PrivateKey ka = generate_private_key(), kb = generate_private_key();
	PublicKey peer = public_key_of(generate_private_key());
	auto ca = lab.write_conf(a, basic_conf(ka, 51824, lab.ua, "192.0.2.210/32", peer));
	auto cb = lab.write_conf(b, "[Interface]\nPrivateKey = " + to_base64(kb) +
					    "\nListenPort = 51825\nAddress = 198.51.100.210/32\n"
					    "Underlay = " + lab.va + "\nTable = off\n\n[Peer]\nPublicKey = " +
					    to_base64(public_key_of(generate_private_key())) +
					    "\nAllowedIPs = 203.0.113.0/24\n");
	auto r = lab.up(a, ca);
	INFO(r.out);
	REQUIRE(r.rc == 0);
	r = lab.up(b, cb);
	INFO(r.out);
	REQUIRE(r.rc == 0);
	CHECK(lab.in("wg show " + a + " listen-port").find("51824") != std::string::npos);
	CHECK(lab.in("wg show " + b + " listen-port").find("51825") != std::string::npos);
	CHECK(lab.in("ip route show dev " + b).find("203.0.113.0/24") == std::string::npos); // Table=off
	CHECK(exists(pins(a) + "/peers"));
	CHECK(exists(pins(b) + "/peers"));

	// SIGTERM to a's daemon: a goes, b stays whole.
	std::string pid;
	std::ifstream("/run/xwg/" + a + ".pid") >> pid;
	REQUIRE(!pid.empty());
	sh("kill -TERM " + pid);
	auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
	while (exists("/run/xwg/" + a + ".pid") && std::chrono::steady_clock::now() < deadline)
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
	std::erase(lab.up_ifaces, a);
	check_gone(lab, a, lab.ua);
	CHECK(lab.in("wg show " + b).find("listening port: 51825") != std::string::npos);
	CHECK(lab.in("ip link show dev " + lab.va).find("xdp") != std::string::npos);

	REQUIRE(lab.down(b).rc == 0);
	check_gone(lab, b, lab.va);
	CHECK(lab.try_in(XWG_BINARY " down " + b).rc != 0); // not up any more
}

TEST_CASE("the daemon handshakes with wireguard-go and keeps the session alive",
	  "[daemon][netns][interop]")
{
	// A second namespace for wireguard-go, linked to ours by a veth pair.
	Lab lab;
	const std::string ns_b = "xwgD" + PID + "g", dev_b = "xwg" + PID + "g";
	const std::string ifname = "xt" + PID + "a";
	struct NsGuard {
		std::string ns;
		pid_t wg_go = -1;
		~NsGuard()
		{
			if (wg_go > 0) {
				kill(wg_go, SIGTERM);
				for (int i = 0; i < 100 && waitpid(wg_go, nullptr, WNOHANG) == 0; ++i)
					std::this_thread::sleep_for(std::chrono::milliseconds(20));
				kill(wg_go, SIGKILL);
				waitpid(wg_go, nullptr, 0);
			}
			sh("ip netns del " + ns);
		}
	} guard{ns_b};
	must("ip netns add " + ns_b);
	const std::string in_b = "nsenter --net=/run/netns/" + ns_b + " ";
	lab.in("ip link set " + lab.ub + " netns " + ns_b);
	must(in_b + "ip addr add 192.0.2.2/24 dev " + lab.ub);
	must(in_b + "ip link set " + lab.ub + " up");

	PrivateKey ka = generate_private_key(), kb = generate_private_key();
	PublicKey pa = public_key_of(ka), pb = public_key_of(kb);
	std::ofstream(lab.dir + "/kb") << to_base64(kb) << "\n";

	guard.wg_go = fork();
	REQUIRE(guard.wg_go >= 0);
	if (guard.wg_go == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int fd = open((lab.dir + "/wggo.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(fd, 1);
		dup2(fd, 2);
		execlp("nsenter", "nsenter", ("--net=/run/netns/" + ns_b).c_str(), "wireguard-go",
		       "-f", dev_b.c_str(), nullptr);
		_exit(127);
	}
	bool wg_go_up = false;
	for (int i = 0; i < 100 && !wg_go_up; ++i) {
		wg_go_up = exists("/var/run/wireguard/" + dev_b + ".sock");
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
	}
	REQUIRE(wg_go_up);
	must(in_b + "wg set " + dev_b + " private-key " + lab.dir + "/kb listen-port 51820 peer " +
	     to_base64(pa) + " allowed-ips 198.51.100.1/32");

	// xwg initiates: a persistent keepalive needs a session first.
	auto conf = lab.write_conf(ifname, "[Interface]\nPrivateKey = " + to_base64(ka) +
						   "\nListenPort = 51820\nUnderlay = " + lab.ua +
						   "\nTable = off\n\n[Peer]\nPublicKey = " + to_base64(pb) +
						   "\nAllowedIPs = 198.51.100.2/32\nEndpoint = "
						   "192.0.2.2:51820\nPersistentKeepalive = 1\n");
	auto r = lab.up(ifname, conf);
	INFO(r.out);
	REQUIRE(r.rc == 0);

	// Both sides report the handshake; keepalives (32 bytes each) keep arriving at wg-go.
	auto latest = [&](const std::string &prefix, const std::string &dev) {
		auto out = sh(prefix + "wg show " + dev + " latest-handshakes").out;
		auto tab = out.find('\t');
		return tab == std::string::npos ? 0L : std::stol(out.substr(tab + 1));
	};
	auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
	while ((latest(in_b, dev_b) == 0 || latest(lab.nsenter(), ifname) == 0) &&
	       std::chrono::steady_clock::now() < deadline)
		std::this_thread::sleep_for(std::chrono::milliseconds(100));
	INFO("wireguard-go: " << sh(in_b + "wg show " + dev_b).out);
	INFO("xwg: " << sh(lab.nsenter() + XWG_BINARY " show " + ifname).out);
	CHECK(latest(in_b, dev_b) > 0);
	CHECK(latest(lab.nsenter(), ifname) > 0);
	auto rx_at_b = [&] {
		auto out = sh(in_b + "wg show " + dev_b + " transfer").out;
		auto tab = out.find('\t');
		return tab == std::string::npos ? 0UL : std::stoul(out.substr(tab + 1));
	};
	auto before = rx_at_b();
	std::this_thread::sleep_for(std::chrono::milliseconds(2500));
	CHECK(rx_at_b() >= before + 32);
	// The session's keys are in the data plane's map (current, and maybe the previous
	// one when both sides initiated), shown with field names.
	auto keypairs = must("bpftool map dump pinned " + pins(ifname) + "/keypairs");
	INFO(keypairs);
	CHECK(keypairs.find("Found 0 elements") == std::string::npos);
	CHECK(keypairs.find("remote_index") != std::string::npos);

	REQUIRE(lab.down(ifname).rc == 0);
	check_gone(lab, ifname, lab.ua);
}
