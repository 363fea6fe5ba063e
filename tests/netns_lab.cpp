// netns_lab.cpp — the netns test lab (netns_lab.h): shell commands, guards, raw frames on
// the underlay and the two-namespace tunnel. Built once as the library xwg_netns_lab, with
// XWG_BINARY naming the xwg binary under test.
#include "netns_lab.h"

#include <sys/file.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace xwg::lab {

std::string quote(const std::string &s)
{
	std::string q = "'";
	for (char c : s)
		q += c == '\'' ? std::string("'\\''") : std::string(1, c);
	return q + "'";
}

Result sh(const std::string &cmd, int timeout_s)
{
	std::string bounded =
		"timeout -k 2 " + std::to_string(timeout_s) + " sh -c " + quote(cmd) + " 2>&1";
	FILE *p = popen(bounded.c_str(), "r");
	if (!p)
		throw std::runtime_error("popen failed: " + cmd);
	std::string out;
	char buf[512];
	while (std::fgets(buf, sizeof(buf), p))
		out += buf;
	int status = pclose(p);
	return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string must(const std::string &cmd, int timeout_s)
{
	auto r = sh(cmd, timeout_s);
	if (r.rc != 0)
		throw std::runtime_error("command failed (" + std::to_string(r.rc) + "): " + cmd +
					 "\n" + r.out);
	return r.out;
}

bool exists(const std::string &path)
{
	return access(path.c_str(), F_OK) == 0;
}

std::string read_file(const std::string &path)
{
	std::ifstream f(path);
	std::stringstream s;
	s << f.rdbuf();
	return s.str();
}

void require_tool(const std::string &name)
{
	if (sh("command -v " + name, 5).rc != 0)
		throw std::runtime_error("required tool not found in PATH: " + name);
}

bool wait_until(const std::function<bool()> &done, std::chrono::milliseconds limit,
		std::chrono::milliseconds step)
{
	auto deadline = Clock::now() + limit;
	for (;;) {
		if (done())
			return true;
		if (Clock::now() >= deadline)
			return false;
		std::this_thread::sleep_for(step);
	}
}

void remove_stale_namespaces(const std::string &prefix)
{
	DIR *d = opendir("/run/netns");
	if (!d)
		return;
	std::vector<std::string> stale;
	while (dirent *e = readdir(d)) {
		std::string n = e->d_name;
		if (n.rfind(prefix, 0) != 0 || n.size() <= prefix.size())
			continue;
		std::size_t end = n.find_first_not_of("0123456789", prefix.size());
		std::string digits = n.substr(prefix.size(),
					      end == std::string::npos ? end : end - prefix.size());
		if (digits.empty())
			continue;
		pid_t pid = static_cast<pid_t>(std::stol(digits));
		if (kill(pid, 0) != 0 && errno == ESRCH)
			stale.push_back(n);
	}
	closedir(d);
	for (auto &n : stale)
		sh("ip netns del " + n);
}

// ---- guards ----------------------------------------------------------------------------

TempDir::TempDir(const std::string &p) : path(p)
{
	sh("rm -rf " + quote(path));
	if (mkdir(path.c_str(), 0700) != 0)
		throw std::runtime_error("mkdir " + path + " failed");
}

TempDir::~TempDir()
{
	sh("rm -rf " + quote(path));
}

Netns::Netns(std::string n) : name(std::move(n))
{
	sh("ip netns del " + name);
	must("ip netns add " + name);
	in("ip link set lo up");
}

Netns::~Netns()
{
	sh("ip netns del " + name);
}

std::string Netns::in(const std::string &cmd, int timeout_s) const
{
	return must(nsenter() + cmd, timeout_s);
}

Result Netns::try_in(const std::string &cmd, int timeout_s) const
{
	return sh(nsenter() + cmd, timeout_s);
}

Child::Child(Child &&o) noexcept : pid(std::exchange(o.pid, -1)) {}

Child &Child::operator=(Child &&o) noexcept
{
	stop();
	pid = std::exchange(o.pid, -1);
	return *this;
}

Child Child::spawn(const std::vector<std::string> &argv, const std::string &log,
		   const std::vector<std::string> &env)
{
	Child c;
	c.pid = fork();
	if (c.pid < 0)
		throw std::runtime_error("fork failed");
	if (c.pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		setpgid(0, 0);
		int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		for (auto &e : env)
			putenv(const_cast<char *>(e.c_str()));
		std::vector<char *> args;
		for (auto &a : argv)
			args.push_back(const_cast<char *>(a.c_str()));
		args.push_back(nullptr);
		execvp(args[0], args.data());
		_exit(127);
	}
	setpgid(c.pid, c.pid);
	return c;
}

bool Child::running() const
{
	return pid > 0 && waitpid(pid, nullptr, WNOHANG) == 0;
}

int Child::wait(std::chrono::milliseconds limit)
{
	int status = 0;
	auto deadline = Clock::now() + limit;
	while (pid > 0) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid) {
			pid = -1;
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		}
		if (Clock::now() >= deadline) {
			stop();
			return -1;
		}
		std::this_thread::sleep_for(20ms);
	}
	return -1;
}

void Child::stop()
{
	if (pid <= 0)
		return;
	kill(-pid, SIGTERM);
	kill(pid, SIGTERM);
	auto deadline = Clock::now() + 3s;
	while (waitpid(pid, nullptr, WNOHANG) == 0) {
		if (Clock::now() > deadline) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, nullptr, 0);
			break;
		}
		std::this_thread::sleep_for(20ms);
	}
	pid = -1;
}

void remove_xwg_traces(const std::string &ifname)
{
	sh("rm -rf /sys/fs/bpf/xwg/" + ifname);
	sh("rm -f /var/run/wireguard/" + ifname + ".sock /run/xwg/" + ifname + ".pid /run/xwg/" +
	   ifname + ".state /run/xwg/" + ifname + ".running /run/xwg/" + ifname + ".lock /run/xwg/" + ifname + ".counters");
}

// ---- xwg and wireguard-go ----------------------------------------------------------------

XwgIface::XwgIface(const Netns &n, std::string binary, std::string name)
	: ns(n), xwg(std::move(binary)), ifname(std::move(name))
{
}

XwgIface::~XwgIface()
{
	if (is_up)
		down();
	remove_xwg_traces(ifname);
	sh("rm -f /run/xwg/" + ifname + ".log");
}

void XwgIface::up(const std::string &conf_path, const std::vector<std::string> &env)
{
	std::string prefix;
	for (auto &e : env)
		prefix += e + " ";
	auto r = sh(prefix + ns.nsenter() + xwg + " up " + conf_path, 60);
	if (r.rc != 0)
		throw std::runtime_error("xwg up " + ifname + " failed (" + std::to_string(r.rc) +
					 "):\n" + r.out + "\nlog:\n" + log());
	is_up = true;
}

Result XwgIface::down()
{
	auto r = sh(ns.nsenter() + xwg + " down " + ifname, 30);
	is_up = false;
	return r;
}

std::string XwgIface::show(const std::string &flags) const
{
	return ns.in(xwg + " show " + ifname + (flags.empty() ? "" : " " + flags));
}

std::string XwgIface::log() const
{
	return read_file("/run/xwg/" + ifname + ".log");
}

nlohmann::json XwgIface::show_json() const
{
	return nlohmann::json::parse(show("--json"));
}

std::map<std::string, std::uint64_t> XwgIface::drops() const
{
	std::map<std::string, std::uint64_t> d;
	const nlohmann::json shown = show_json(); // outlives the loop
	for (auto &[name, n] : shown.at("drops").items())
		d[name] = n.get<std::uint64_t>();
	return d;
}

pid_t XwgIface::daemon_pid() const
{
	long pid = 0;
	std::ifstream("/run/xwg/" + ifname + ".pid") >> pid;
	return static_cast<pid_t>(pid);
}

// By the lock the daemon holds (a killed one may linger as a zombie: kill(pid, 0) lies).
bool XwgIface::daemon_alive() const
{
	const int fd = open(("/run/xwg/" + ifname + ".lock").c_str(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	const bool held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return held;
}

WgGo::WgGo(const Netns &n, std::string name, const std::string &log, const std::string &binary)
	: ns(n), ifname(std::move(name)), log_path(log)
{
	require_tool(binary);
	require_tool("wg");
	sh("rm -f /var/run/wireguard/" + ifname + ".sock");
	proc = Child::spawn({"nsenter", "--net=" + ns.path(), binary, "-f", ifname},
			    log_path, {"WG_PROCESS_FOREGROUND=1"});
	if (!wait_until([&] { return exists(sock()); }, 10s))
		throw std::runtime_error("wireguard-go " + ifname + " did not start:\n" +
					 read_file(log_path));
}

WgGo::~WgGo()
{
	proc.stop();
	sh("rm -f " + sock());
}

void WgGo::set(const std::string &args) const
{
	ns.in("wg set " + ifname + " " + args);
}

std::string WgGo::show(const std::string &what) const
{
	return ns.in("wg show " + ifname + (what.empty() ? "" : " " + what));
}

std::string wg_field(const Netns &ns, const std::string &ifname, const std::string &field)
{
	auto r = ns.try_in("wg show " + ifname + " " + field);
	auto tab = r.out.find('\t');
	if (r.rc != 0 || tab == std::string::npos)
		return "";
	auto end = r.out.find('\n', tab);
	return r.out.substr(tab + 1, end == std::string::npos ? end : end - tab - 1);
}

LinkStats link_stats(const Netns &ns, const std::string &dev)
{
	std::string out = ns.in("ip -s -o link show dev " + dev);
	// "... RX: bytes packets errors ...\    123 4 0 ... \    TX: bytes packets ...\    5 6"
	LinkStats s;
	auto parse = [&](const std::string &tag) -> std::uint64_t {
		auto p = out.find(tag);
		if (p == std::string::npos)
			throw std::runtime_error("no " + tag + " in: " + out);
		p = out.find('\\', p);
		std::istringstream in(out.substr(p + 1));
		std::uint64_t bytes = 0, packets = 0;
		in >> bytes >> packets;
		return packets;
	};
	s.rx_packets = parse("RX:");
	s.tx_packets = parse("TX:");
	return s;
}

// ---- raw frames on the underlay --------------------------------------------------------

Mac parse_mac(const std::string &text)
{
	Mac m{};
	unsigned v[6];
	if (std::sscanf(text.c_str(), "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4],
			&v[5]) != 6)
		throw std::runtime_error("not a MAC address: " + text);
	for (int i = 0; i < 6; ++i)
		m[i] = static_cast<std::uint8_t>(v[i]);
	return m;
}

Mac link_mac(const Netns &ns, const std::string &dev)
{
	auto p = ns.in("ip -o link show dev " + dev);
	auto at = p.find("link/ether ");
	if (at == std::string::npos)
		throw std::runtime_error("no MAC for " + dev + ": " + p);
	return parse_mac(p.substr(at + 11, 17));
}

Bytes udp_frame(const Mac &dst_mac, const Mac &src_mac, const UdpAddr &src, const UdpAddr &dst,
		const Bytes &payload)
{
	return xwgtest::udp_frame(dst_mac, src_mac, xwgtest::addr(src.ip), src.port,
				  xwgtest::addr(dst.ip), dst.port, payload, true);
}

bool parse_udp(const std::uint8_t *f, std::size_t n, Datagram &d)
{
	if (n < 14)
		return false;
	std::uint16_t proto = static_cast<std::uint16_t>(f[12] << 8 | f[13]);
	const std::uint8_t *ip = f + 14, *end = f + n;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	const std::uint8_t *udp;
	if (proto == 0x0800) {
		if (end - ip < 20 || ip[9] != 17)
			return false;
		udp = ip + (ip[0] & 0xf) * 4;
		inet_ntop(AF_INET, ip + 12, a, sizeof(a));
		inet_ntop(AF_INET, ip + 16, b, sizeof(b));
	} else if (proto == 0x86dd) {
		if (end - ip < 40 || ip[6] != 17)
			return false;
		udp = ip + 40;
		inet_ntop(AF_INET6, ip + 8, a, sizeof(a));
		inet_ntop(AF_INET6, ip + 24, b, sizeof(b));
	} else {
		return false;
	}
	if (end - udp < 8)
		return false;
	std::size_t len = static_cast<std::size_t>(udp[4] << 8 | udp[5]);
	if (len < 8 || udp + len > end)
		return false;
	d.src = {a, static_cast<std::uint16_t>(udp[0] << 8 | udp[1])};
	d.dst = {b, static_cast<std::uint16_t>(udp[2] << 8 | udp[3])};
	d.payload.assign(udp + 8, udp + len);
	return true;
}

RawLink::RawLink(const Netns &ns, const std::string &dev)
{
	auto opened = ns.with([&] {
		int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
		int idx = static_cast<int>(if_nametoindex(dev.c_str()));
		return std::pair<int, int>(s, idx);
	});
	fd = opened.first;
	ifindex = opened.second;
	if (fd < 0 || ifindex == 0) {
		if (fd >= 0)
			close(fd);
		throw std::runtime_error("AF_PACKET socket on " + dev + " in " + ns.name);
	}
	sockaddr_ll sll{};
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ifindex;
	if (bind(fd, reinterpret_cast<sockaddr *>(&sll), sizeof(sll)) != 0) {
		close(fd);
		throw std::runtime_error("bind AF_PACKET to " + dev);
	}
	int big = 8 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
}

RawLink::~RawLink()
{
	if (fd >= 0)
		close(fd);
}

void RawLink::drain()
{
	std::uint8_t buf[2048];
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0) {
	}
}

std::vector<Datagram> RawLink::capture(std::chrono::milliseconds limit,
				       const std::function<bool(const Datagram &)> &keep,
				       std::size_t enough)
{
	std::vector<Datagram> got;
	auto deadline = Clock::now() + limit;
	std::vector<std::uint8_t> buf(65536);
	while (got.size() < enough) {
		auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
										  Clock::now());
		if (left.count() <= 0)
			break;
		pollfd p{fd, POLLIN, 0};
		if (poll(&p, 1, static_cast<int>(left.count())) <= 0)
			continue;
		sockaddr_ll from{};
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf.data(), buf.size(), MSG_DONTWAIT,
				     reinterpret_cast<sockaddr *>(&from), &fl);
		if (n <= 0)
			continue;
		Datagram d;
		if (!parse_udp(buf.data(), static_cast<std::size_t>(n), d))
			continue;
		d.outgoing = from.sll_pkttype == PACKET_OUTGOING;
		if (keep(d))
			got.push_back(std::move(d));
	}
	return got;
}

void RawLink::send_frame(const Bytes &frame)
{
	sockaddr_ll to{};
	to.sll_family = AF_PACKET;
	to.sll_ifindex = ifindex;
	to.sll_halen = 6;
	std::memcpy(to.sll_addr, frame.data(), 6);
	for (int attempt = 0;; ++attempt) {
		ssize_t n = sendto(fd, frame.data(), frame.size(), 0,
				   reinterpret_cast<sockaddr *>(&to), sizeof(to));
		if (n == static_cast<ssize_t>(frame.size()))
			return;
		if (attempt > 100)
			throw std::runtime_error(std::string("AF_PACKET send: ") +
						 std::strerror(errno));
		std::this_thread::sleep_for(1ms);
	}
}

// ---- a tunnel between two namespaces ------------------------------------------------------

const char *kind_name(PeerKind k)
{
	return k == PeerKind::xwg ? "xwg" : "wireguard-go";
}

TunnelOptions tunnel_options(PeerKind b, int underlay)
{
	TunnelOptions o;
	o.b = b;
	o.underlay = underlay;
	return o;
}

std::string gen_private()
{
	auto k = must("wg genkey");
	return k.substr(0, k.find('\n'));
}

std::string pub_of(const std::string &priv)
{
	auto k = must("echo " + priv + " | wg pubkey");
	return k.substr(0, k.find('\n'));
}

std::string Tunnel::next_tag()
{
	static int n = 0;
	return std::to_string(n++);
}

std::string Tunnel::xwg_binary()
{
	return XWG_BINARY;
}

Tunnel::Tunnel(TunnelOptions o)
	: opt(std::move(o)), tag(next_tag()), dir("/tmp/xwgE" + PID + "t" + tag),
	  a((remove_stale_namespaces("xwgE"), "xwgE" + PID + "a" + tag)),
	  b("xwgE" + PID + "b" + tag), ua("xu" + PID + "a"), ub("xu" + PID + "b"),
	  if_a("xe" + PID + "a"), if_b((opt.b == PeerKind::xwg ? "xe" : "xg") + PID + "b")
{
	for (auto t : {"wg", "ping", "socat", "sha256sum", "nsenter", "ip"})
		require_tool(t);
	if (opt.routed_mtu && opt.a_full_tunnel)
		throw std::runtime_error("routed_mtu and a_full_tunnel do not combine");
	const std::string ul_mtu =
		opt.underlay_mtu ? " mtu " + std::to_string(opt.underlay_mtu) : "";
	if (opt.routed_mtu) {
		r = std::make_unique<Netns>("xwgE" + PID + "r" + tag);
		ura = "xr" + PID + "a";
		urb = "xr" + PID + "b";
		must("ip link add " + ua + " netns " + a.name + " type veth peer name " + ura +
		     " netns " + r->name);
		must("ip link add " + ub + " netns " + b.name + " type veth peer name " + urb +
		     " netns " + r->name);
		const std::string rb_mtu = " mtu " + std::to_string(opt.routed_mtu);
		r->in("sysctl -qw net.ipv4.ip_forward=1");
		r->in("sysctl -qw net.ipv6.conf.all.forwarding=1");
		r->in("ip addr add 192.0.2.254/24 dev " + ura);
		r->in("ip addr add 2001:db8::fe/64 dev " + ura + " nodad");
		r->in("ip link set " + ura + ul_mtu + " up");
		r->in("ip addr add 198.18.0.1/24 dev " + urb);
		r->in("ip addr add 2001:db8:2::1/64 dev " + urb + " nodad");
		r->in("ip link set " + urb + rb_mtu + " up");
		a.in("ip addr add 192.0.2.1/24 dev " + ua);
		a.in("ip addr add 2001:db8::1/64 dev " + ua + " nodad");
		a.in("ip link set " + ua + ul_mtu + " up");
		a.in("ip route add 198.18.0.0/24 via 192.0.2.254 dev " + ua);
		a.in("ip -6 route add 2001:db8:2::/64 via 2001:db8::fe dev " + ua);
		b.in("ip addr add 198.18.0.2/24 dev " + ub);
		b.in("ip addr add 2001:db8:2::2/64 dev " + ub + " nodad");
		b.in("ip link set " + ub + rb_mtu + " up");
		b.in("ip route add 192.0.2.0/24 via 198.18.0.1 dev " + ub);
		b.in("ip -6 route add 2001:db8::/64 via 2001:db8:2::1 dev " + ub);
	} else {
		// With a_macvlan, the veth end is "xv..." and ua a macvlan on top of it.
		const std::string a_end = opt.a_macvlan ? "xv" + PID + "a" : ua;
		must("ip link add " + a_end + " netns " + a.name + " type veth peer name " + ub +
		     " netns " + b.name);
		if (opt.a_macvlan) {
			a.in("ip link set " + a_end + ul_mtu + " up");
			a.in("ip link add " + ua + " link " + a_end + " type macvlan mode bridge");
		}
		a.in("ip addr add 192.0.2.1/24 dev " + ua);
		a.in("ip addr add 2001:db8::1/64 dev " + ua + " nodad");
		a.in("ip link set " + ua + ul_mtu + " up");
		b.in("ip addr add 192.0.2.2/24 dev " + ub);
		b.in("ip addr add 2001:db8::2/64 dev " + ub + " nodad");
		b.in("ip link set " + ub + ul_mtu + " up");
	}
	if (opt.a_full_tunnel) {
		// B's endpoint is one hop away, behind B's underlay address: on B's
		// loopback, and B answers ARP only for addresses of the asking interface
		// (IPv6 neighbour discovery does that anyway). A reaches it only through
		// its default routes' gateway, never by resolving it on the underlay.
		b.in("sysctl -qw net.ipv4.conf.all.arp_ignore=1");
		b.in("ip addr add 203.0.113.2/32 dev lo");
		b.in("ip addr add 2001:db8:f::2/128 dev lo");
		a.in("ip route add default via 192.0.2.2 dev " + ua);
		a.in("ip -6 route add default via 2001:db8::2 dev " + ua);
	}
	if (opt.before_up)
		opt.before_up(*this);
	key_a = gen_private();
	key_b = gen_private();
	pub_a = pub_of(key_a);
	pub_b = pub_of(key_b);
	up_a();
	up_b();
}

std::string Tunnel::underlay_ip(char side) const
{
	if (side == 'b' && opt.a_full_tunnel)
		return opt.underlay == 6 ? "2001:db8:f::2" : "203.0.113.2";
	if (side == 'b' && opt.routed_mtu)
		return opt.underlay == 6 ? "2001:db8:2::2" : "198.18.0.2";
	return opt.underlay == 6 ? (side == 'a' ? "2001:db8::1" : "2001:db8::2")
				 : (side == 'a' ? "192.0.2.1" : "192.0.2.2");
}

std::string Tunnel::endpoint(char side) const
{
	return opt.underlay == 6 ? "[" + underlay_ip(side) + "]:" + std::to_string(PORT)
				 : underlay_ip(side) + ":" + std::to_string(PORT);
}

std::string Tunnel::overlay(char side, int family)
{
	return family == 6 ? (side == 'a' ? "fd00:77::1" : "fd00:77::2")
			   : (side == 'a' ? "198.51.100.1" : "198.51.100.2");
}

std::string Tunnel::xwg_conf(char side) const
{
	char other = side == 'a' ? 'b' : 'a';
	bool ep = side == 'a' ? opt.a_endpoint : opt.b_endpoint;
	std::string c =
		"[Interface]\nPrivateKey = " + (side == 'a' ? key_a : key_b) +
		"\nListenPort = " + std::to_string(PORT) + "\nAddress = " + overlay(side, 4) +
		"/24" + (opt.overlay6 ? ", " + overlay(side, 6) + "/64" : std::string()) +
		"\nUnderlay = " + (side == 'a' ? ua : ub) + "\n" +
		(opt.mtu ? "MTU = " + std::to_string(opt.mtu) + "\n" : std::string()) +
		(opt.receive_path.empty() ? std::string()
					  : "ReceivePath = " + opt.receive_path + "\n") +
		(side == 'a' ? opt.a_peers_before : std::string()) +
		"\n[Peer]\nPublicKey = " + (side == 'a' ? pub_b : pub_a) + "\nAllowedIPs = " +
		(side == 'a' && opt.a_full_tunnel
			 ? std::string(opt.overlay6 ? "0.0.0.0/0, ::/0" : "0.0.0.0/0")
			 : overlay(other, 4) + "/32" +
				   (opt.overlay6 ? ", " + overlay(other, 6) + "/128"
						 : std::string())) +
		"\n";
	if (ep)
		c += "Endpoint = " + endpoint(other) + "\n";
	if (side == 'a' && opt.a_keepalive)
		c += "PersistentKeepalive = " + std::to_string(opt.a_keepalive) + "\n";
	if (opt.flow_ports)
		c += "FlowPorts = " + std::to_string(opt.flow_ports) + "\n";
	if (side == 'a' && !opt.a_extra_peers.empty())
		c += "\n" + opt.a_extra_peers;
	return c;
}

void Tunnel::up_a()
{
	if (!xwg_a)
		xwg_a = std::make_unique<XwgIface>(a, xwg_binary(), if_a);
	std::string conf = dir.file(if_a + ".conf");
	std::ofstream(conf) << xwg_conf('a');
	xwg_a->up(conf, opt.xwg_env);
}

void Tunnel::up_b()
{
	if (opt.b == PeerKind::xwg) {
		xwg_b = std::make_unique<XwgIface>(b, xwg_binary(), if_b);
		std::string conf = dir.file(if_b + ".conf");
		std::ofstream(conf) << xwg_conf('b');
		xwg_b->up(conf, opt.xwg_env);
		return;
	}
	wggo_b = std::make_unique<WgGo>(b, if_b, dir.file("wggo.log"));
	std::ofstream(dir.file("b.key")) << key_b << "\n";
	wggo_b->set("private-key " + dir.file("b.key") + " listen-port " + std::to_string(PORT) +
		    " peer " + pub_a + " allowed-ips " + overlay('a', 4) + "/32" +
		    (opt.overlay6 ? "," + overlay('a', 6) + "/128" : std::string()) +
		    (opt.b_endpoint ? " endpoint " + endpoint('a') : ""));
	// MTU first: an interface below 1280 bytes takes no IPv6 address.
	b.in("ip link set " + if_b + " mtu " + std::to_string(wggo_mtu()));
	b.in("ip addr add " + overlay('b', 4) + "/24 dev " + if_b);
	if (opt.overlay6)
		b.in("ip addr add " + overlay('b', 6) + "/64 dev " + if_b + " nodad");
	b.in("ip link set " + if_b + " up");
}

unsigned Tunnel::wggo_mtu() const
{
	return opt.b_mtu ? opt.b_mtu : opt.mtu ? opt.mtu : 1420;
}

Result Tunnel::ping(char side, int family, int count, int wait_s) const
{
	char other = side == 'a' ? 'b' : 'a';
	return ns(side).try_in("ping -" + std::to_string(family) + " -n -c " +
				       std::to_string(count) + " -i 0.2 -W " +
				       std::to_string(wait_s) + " " + overlay(other, family),
			       count * 2 + wait_s + 5);
}

std::string Tunnel::diagnostics() const
{
	std::string d;
	d += "--- xwg show " + if_a + "\n" + a.try_in(Tunnel::xwg_binary() + " show " + if_a).out;
	d += "--- xwg log A\n" + (xwg_a ? xwg_a->log() : "");
	if (xwg_b)
		d += "--- xwg show " + if_b + "\n" +
		     b.try_in(Tunnel::xwg_binary() + " show " + if_b).out + "--- xwg log B\n" +
		     xwg_b->log();
	if (wggo_b)
		d += "--- wg show " + if_b + "\n" + b.try_in("wg show " + if_b).out +
		     "--- wireguard-go log\n" + read_file(wggo_b->log_path);
	return d;
}

// ---- bulk transfers ------------------------------------------------------------------------

const Payload &payload(std::size_t bytes)
{
	static TempDir dir("/tmp/xwgP" + PID);
	static std::vector<Payload> made;
	for (auto &p : made)
		if (p.bytes == bytes)
			return p;
	std::string path = dir.file("payload" + std::to_string(bytes));
	must("head -c " + std::to_string(bytes) + " /dev/urandom > " + path, 60);
	auto sum = must("sha256sum " + path, 60);
	made.push_back({path, sum.substr(0, 64), bytes});
	return made.back();
}

std::string tcp_transfer(const Tunnel &t, char from, int family, const Payload &p, int limit_s,
			 int repeat)
{
	static std::atomic<int> port = 5200; // transfers may run in parallel threads
	const std::string port_s = std::to_string(++port);
	char to = from == 'a' ? 'b' : 'a';
	const std::string addr = Tunnel::overlay(to, family);
	const std::string out = t.dir.file("received" + port_s);
	std::string listen = family == 6 ? "TCP6-LISTEN:" + port_s + ",bind=[" + addr + "]"
					 : "TCP4-LISTEN:" + port_s + ",bind=" + addr;
	Child rx = Child::spawn({"nsenter", "--net=" + t.ns(to).path(), "sh", "-c",
				 "socat -u " + listen + ",reuseaddr - | sha256sum > " + out},
				t.dir.file("socat.log"));
	auto listening = [&] {
		auto ss = t.ns(to).try_in("ss -Hltn sport = :" + port_s);
		return ss.out.find(port_s) != std::string::npos;
	};
	if (!wait_until(listening, 5s))
		return "receiver did not listen on port " + port_s;
	// With repeat > 1 the sender reads `repeat` copies of the payload from this pipeline.
	const std::string copies =
		"for i in $(seq " + std::to_string(repeat) + "); do cat " + p.path + "; done";
	std::string source = repeat == 1 ? "FILE:" + p.path : "-";
	std::string feed = repeat > 1 ? copies + " | " : "";
	std::string target =
		family == 6 ? "TCP6:[" + addr + "]:" + port_s : "TCP4:" + addr + ":" + port_s;
	auto r = sh(feed + t.ns(from).nsenter() + "socat -u " + source + " " + target, limit_s);
	if (r.rc != 0)
		return "sender failed (" + std::to_string(r.rc) + "): " + r.out;
	if (rx.wait(30s) != 0)
		return "receiver did not finish";
	std::string expected = p.sha256;
	if (repeat > 1)
		expected = must(copies + " | sha256sum", 120).substr(0, 64);
	std::string got = read_file(out).substr(0, 64);
	if (got != expected)
		return "sha256 mismatch: sent " + expected + " received " + got;
	return "";
}

} // namespace xwg::lab
