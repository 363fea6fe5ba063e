// mtu_e2e_test.cpp — every packet size WireGuard carries, xwg carries (tests/netns_lab.h).
// xwg in namespace A, the stock wireguard-go in namespace B (its MTU set with
// `ip link set mtu`), over IPv4 and IPv6 underlays. In every case: DF pings of exactly the
// tunnel MTU both ways and 4 MiB of checksummed TCP both ways, over the IPv4 and (where the
// MTU allows it) IPv6 overlay. The cases:
//   - explicit MTUs (1450, 1418, 1421, 1280 over a 1500-byte underlay, 1500 over 1600):
//     some of them make outer packets larger than the underlay, so they leave fragmented;
//   - IPv4-only overlays below IPv6's minimum (576, 1000);
//   - jumbo frames (8920 over a 9000-byte underlay);
//   - the default MTU: the smallest MTU of the routes/devices toward the peers' endpoints
//     (a route's `mtu` wins over its device's), or the underlay device's without
//     endpoints, minus 80;
//   - a router between the two with a smaller MTU on the far link: it fragments outer
//     IPv4 (xwg sends it without DF, as WireGuard does) and answers outer IPv6 with Packet
//     Too Big;
//   - MTUs xwg must refuse, with a clear error and nothing changed.
// On failure the messages carry `xwg show --json` (drop counters by reason), the logs and
// the router's counters.
#include <catch2/catch.hpp>

#include "netns_lab.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <regex>
#include <tuple>

using namespace xwg::lab;

namespace {

constexpr std::size_t MB4 = 4u << 20;
constexpr int TCP_LIMIT_S = 30; // 4 MiB takes well under a second here

// Bytes of ICMP echo payload that make an echo request of exactly `mtu` bytes.
unsigned echo_payload(int family, unsigned mtu)
{
	return mtu - (family == 6 ? 48 : 28);
}

// A device's MTU, from `ip -j link show`; 0 if it cannot be read.
unsigned link_mtu(const Netns &ns, const std::string &dev)
{
	auto r = ns.try_in("ip -j link show dev " + dev);
	if (r.rc != 0)
		return 0;
	auto j = nlohmann::json::parse(r.out, nullptr, false);
	if (j.is_discarded() || !j.is_array() || j.empty() || !j[0].contains("mtu"))
		return 0;
	return j[0]["mtu"].get<unsigned>();
}

// A counter from /proc/net/snmp ("Ip", "FragCreates") or /proc/net/snmp6 ("", "Icmp6...")
// as the namespace sees it.
std::uint64_t snmp(const Netns &ns, const std::string &group, const std::string &name)
{
	if (group.empty()) {
		auto out = ns.try_in("cat /proc/net/snmp6").out;
		std::istringstream in(out);
		std::string k;
		std::uint64_t v;
		while (in >> k >> v)
			if (k == name)
				return v;
		return 0;
	}
	auto out = ns.try_in("cat /proc/net/snmp").out;
	std::istringstream in(out);
	std::string head, values;
	while (std::getline(in, head) && std::getline(in, values)) {
		if (head.rfind(group + ":", 0) != 0)
			continue;
		std::istringstream h(head), v(values);
		std::string key, val;
		while (h >> key && v >> val)
			if (key == name)
				return std::stoull(val);
	}
	return 0;
}

std::string router_counters(const Netns &r)
{
	std::string d = "--- router " + r.name + ": Ip FragCreates " +
			std::to_string(snmp(r, "Ip", "FragCreates")) + ", FragFails " +
			std::to_string(snmp(r, "Ip", "FragFails")) + ", Icmp OutDestUnreachs " +
			std::to_string(snmp(r, "Icmp", "OutDestUnreachs")) + ", Icmp6OutPktTooBigs " +
			std::to_string(snmp(r, "", "Icmp6OutPktTooBigs")) + ", Ip6FragCreates " +
			std::to_string(snmp(r, "", "Ip6FragCreates")) + "\n";
	d += r.try_in("ip -s link").out;
	return d;
}

// Everything that explains a failure: `xwg show --json` (drop counters by reason), the
// daemon's and wireguard-go's logs, the devices' MTUs and the router's counters.
std::string diag(const Tunnel &t)
{
	std::string d = "--- xwg show " + t.if_a + " --json\n" +
			t.a.try_in(Tunnel::xwg_binary() + " show " + t.if_a + " --json").out + "\n";
	d += t.diagnostics();
	// The route (and any path MTU learned) toward B's endpoint, as A's kernel sees it.
	d += "--- A: " + t.a.try_in("ip -o link").out +
	     t.a.try_in(std::string(t.opt.underlay == 6 ? "ip -6" : "ip -4") + " route get " +
			t.underlay_ip('b')).out;
	d += "--- B: " + t.b.try_in("ip -o link").out;
	if (t.r)
		d += router_counters(*t.r);
	return d;
}

// CHECK(ok) with `what` always, and the (slow to gather) diagnostics only when it fails.
#define CHECK_OR_DIAG(ok, t, what)                                                        \
	do {                                                                               \
		const bool ok_ = (ok);                                                     \
		INFO(what);                                                                \
		if (ok_) {                                                                 \
			CHECK(ok_);                                                        \
		} else {                                                                   \
			INFO(diag(t));                                                     \
			CHECK(ok_);                                                        \
		}                                                                          \
	} while (0)

// `received` out of ping's summary line, -1 if there is none.
int ping_received(const std::string &out)
{
	std::smatch m;
	static const std::regex re("([0-9]+) packets transmitted, ([0-9]+) received");
	if (!std::regex_search(out, m, re))
		return -1;
	return std::stoi(m[2].str());
}

// `count` echo requests of exactly `mtu` bytes with DF (-M do: never fragmented, not
// even by the sender) from `side` to the other side's overlay address.
Result df_ping(const Tunnel &t, char side, int family, unsigned mtu, int count = 3, int wait_s = 3)
{
	char other = side == 'a' ? 'b' : 'a';
	return t.ns(side).try_in("ping -" + std::to_string(family) + " -n -M do -s " +
				 std::to_string(echo_payload(family, mtu)) + " -c " +
				 std::to_string(count) + " -i 0.2 -W " + std::to_string(wait_s) +
				 " " + Tunnel::overlay(other, family),
				 count + wait_s + 10);
}

struct PathCheck {
	unsigned mtu;                 // the tunnel MTU on both ends
	bool overlay6 = true;         // also over the IPv6 overlay
	char first = 'a';             // who sends the first packet (knows an endpoint)
	bool learn_path = false;      // the first full-size packets may be lost while the
				      // path MTU is learned (Packet Too Big)
};

// DF pings of exactly the MTU both ways and 4 MiB of TCP both ways, per overlay family.
void check_path(const Tunnel &t, const PathCheck &c)
{
	std::vector<int> families{4};
	if (c.overlay6)
		families.push_back(6);
	// The handshake, with a small packet.
	{
		auto r = t.ping(c.first, 4, 1, 6);
		if (r.rc != 0) {
			INFO("handshake ping from " << c.first << ":\n" << r.out << diag(t));
			REQUIRE(r.rc == 0);
		}
	}
	if (c.learn_path) {
		// Full-size packets from A until one gets through (the first ones may end in
		// Packet Too Big); bounded.
		for (int family : families) {
			std::string tries;
			bool through = wait_until([&] {
				auto r = df_ping(t, 'a', family, c.mtu, 1, 1);
				tries += r.out;
				return ping_received(r.out) == 1;
			}, 10s, 200ms);
			CHECK_OR_DIAG(through, t,
				      "full-size pings over the IPv" << family << " overlay while the "
				      "path MTU is learned:\n" << tries);
		}
	}
	std::map<std::pair<int, char>, bool> ping_ok;
	for (int family : families)
		for (char side : {'a', 'b'}) {
			const int count = 3;
			auto r = df_ping(t, side, family, c.mtu, count);
			bool ok = ping_received(r.out) == count;
			ping_ok[{family, side}] = ok;
			CHECK_OR_DIAG(ok, t,
				      "DF ping of " << c.mtu << " bytes (-s " << echo_payload(family, c.mtu)
						    << ") over the IPv" << family << " overlay from " << side
						    << ": " << count << " replies required\n" << r.out);
		}
	for (int family : families)
		for (char side : {'a', 'b'}) {
			INFO("4 MiB TCP over the IPv" << family << " overlay from " << side << " (MSS "
						       << c.mtu - (family == 6 ? 60 : 40) << ")");
			if (!ping_ok[{family, 'a'}] || !ping_ok[{family, 'b'}]) {
				// Full-size packets do not pass one way or the other: TCP would only
				// stall until the limit.
				FAIL_CHECK("not run: full-size DF pings over the IPv" << family
					   << " overlay failed, so TCP would stall");
				continue;
			}
			auto err = tcp_transfer(t, side, family, payload(MB4), TCP_LIMIT_S);
			CHECK_OR_DIAG(err.empty(), t, err);
		}
}

// Both tunnel devices have the MTU the case expects.
void check_device_mtus(const Tunnel &t, unsigned xwg_mtu)
{
	const unsigned a = link_mtu(t.a, t.if_a), b = link_mtu(t.b, t.if_b);
	CHECK_OR_DIAG(a == xwg_mtu, t, "xwg's " << t.if_a << " has MTU " << a << ", expected " << xwg_mtu);
	CHECK_OR_DIAG(b == t.wggo_mtu(), t,
		      "wireguard-go's " << t.if_b << " has MTU " << b << ", expected " << t.wggo_mtu());
}

// `xwg show` reports the MTU: a line `mtu: N` in the text, a field "mtu" in the JSON.
void check_show_mtu(const Tunnel &t, unsigned mtu)
{
	auto text = t.a.try_in(Tunnel::xwg_binary() + " show " + t.if_a);
	bool line = false;
	std::istringstream in(text.out);
	for (std::string l; std::getline(in, l);) {
		auto b = l.find_first_not_of(" \t");
		auto e = l.find_last_not_of(" \t\r");
		if (b != std::string::npos && l.substr(b, e - b + 1) == "mtu: " + std::to_string(mtu))
			line = true;
	}
	INFO("xwg show:\n" << text.out);
	CHECK(line);
	auto shown = t.a.try_in(Tunnel::xwg_binary() + " show " + t.if_a + " --json");
	auto j = nlohmann::json::parse(shown.out, nullptr, false);
	INFO("xwg show --json:\n" << shown.out);
	CHECK_FALSE(j.is_discarded());
	CHECK(j.contains("mtu"));
	if (!j.is_discarded() && j.contains("mtu"))
		CHECK(j["mtu"] == mtu);
}

std::string lower(std::string s)
{
	std::transform(s.begin(), s.end(), s.begin(),
		       [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
	return s;
}

} // namespace

TEST_CASE("explicit MTU: full-size packets both ways, IPv4 and IPv6 overlay",
	  "[e2e][netns][interop][mtu]")
{
	// Outer packet = MTU + 60 (IPv4 underlay) or + 80 (IPv6): 1450 over 1500 leaves
	// fragmented on both, 1421 only over IPv6 (1501), 1418 just fits (padding stops at
	// the MTU), 1500 over 1600 fits.
	auto [mtu, underlay_mtu] = GENERATE(table<unsigned, unsigned>(
	    {{1450, 1500}, {1418, 1500}, {1421, 1500}, {1280, 1500}, {1500, 1600}}));
	int underlay = GENERATE(4, 6);
	DYNAMIC_SECTION("MTU " << mtu << " over a " << underlay_mtu << "-byte IPv" << underlay
			       << " underlay")
	{
		auto o = tunnel_options(PeerKind::wggo, underlay);
		o.mtu = mtu;
		o.underlay_mtu = underlay_mtu;
		Tunnel t(o);
		check_device_mtus(t, mtu);
		check_path(t, {mtu});
	}
}

TEST_CASE("IPv4-only overlay below IPv6's minimum MTU", "[e2e][netns][interop][mtu]")
{
	unsigned mtu = GENERATE(576u, 1000u);
	int underlay = GENERATE(4, 6);
	DYNAMIC_SECTION("MTU " << mtu << " over an IPv" << underlay << " underlay")
	{
		auto o = tunnel_options(PeerKind::wggo, underlay);
		o.mtu = mtu;
		o.overlay6 = false;
		Tunnel t(o);
		check_device_mtus(t, mtu);
		check_path(t, {mtu, false});
	}
}

TEST_CASE("jumbo frames: MTU 8920 over a 9000-byte underlay", "[e2e][netns][interop][mtu]")
{
	int underlay = GENERATE(4, 6);
	// XDP in fragments (veth takes multi-buffer XDP), and the TC receive path.
	std::string path = GENERATE(std::string(""), std::string("tc"));
	DYNAMIC_SECTION("over IPv" << underlay << (path.empty() ? "" : ", ReceivePath = " + path))
	{
		auto o = tunnel_options(PeerKind::wggo, underlay);
		o.mtu = 8920;
		o.underlay_mtu = 9000;
		o.receive_path = path;
		Tunnel t(o);
		check_device_mtus(t, 8920);
		check_path(t, {8920});
	}
}

TEST_CASE("default MTU: the path toward the endpoints minus 80", "[e2e][netns][interop][mtu]")
{
	int underlay = GENERATE(4, 6);
	unsigned underlay_mtu = GENERATE(1400u, 9000u);
	DYNAMIC_SECTION(underlay_mtu << "-byte underlay: " << underlay_mtu - 80)
	{
		const unsigned mtu = underlay_mtu - 80;
		auto o = tunnel_options(PeerKind::wggo, underlay);
		o.underlay_mtu = underlay_mtu;
		o.b_mtu = mtu;
		Tunnel t(o);
		check_device_mtus(t, mtu);
		check_show_mtu(t, mtu);
		check_path(t, {mtu});
	}
	SECTION("a route's mtu wins over its device's: route mtu 1400 on a 1500-byte device: 1320")
	{
		auto o = tunnel_options(PeerKind::wggo, underlay);
		o.b_mtu = 1320;
		o.before_up = [](const Tunnel &t) {
			if (t.opt.underlay == 6)
				t.a.in("ip -6 route add 2001:db8::2/128 dev " + t.ua + " mtu 1400");
			else
				t.a.in("ip route add 192.0.2.2/32 dev " + t.ua + " mtu 1400");
		};
		Tunnel t(o);
		check_device_mtus(t, 1320);
		check_show_mtu(t, 1320);
		check_path(t, {1320});
	}
	SECTION("the smallest path among the peers' endpoints: a second peer behind mtu 1380: 1300")
	{
		// A second peer (never answering) whose endpoint is reached through a route
		// with mtu 1380; B's path is 1500.
		auto o = tunnel_options(PeerKind::wggo, underlay);
		o.b_mtu = 1300;
		const bool v6 = underlay == 6;
		o.a_extra_peers = "[Peer]\nPublicKey = " + pub_of(gen_private()) +
				  "\nAllowedIPs = 198.51.100.77/32\nEndpoint = " +
				  (v6 ? "[2001:db8:77::7]:51820" : "203.0.113.77:51820") + "\n";
		o.before_up = [](const Tunnel &t) {
			if (t.opt.underlay == 6)
				t.a.in("ip -6 route add 2001:db8:77::/64 via 2001:db8::2 dev " + t.ua +
				       " mtu 1380");
			else
				t.a.in("ip route add 203.0.113.0/24 via 192.0.2.2 dev " + t.ua + " mtu 1380");
		};
		Tunnel t(o);
		check_device_mtus(t, 1300);
		check_show_mtu(t, 1300);
		check_path(t, {1300});
	}
	SECTION("no endpoint: the underlay device's MTU (1400): 1320")
	{
		auto o = tunnel_options(PeerKind::wggo, underlay);
		o.underlay_mtu = 1400;
		o.b_mtu = 1320;
		o.a_endpoint = false; // wireguard-go initiates
		Tunnel t(o);
		check_device_mtus(t, 1320);
		check_show_mtu(t, 1320);
		check_path(t, {1320, true, 'b'});
	}
}

// `ip link set IF mtu N` is how WireGuard users change a running tunnel's MTU: the daemon
// follows it (hidden end, data plane, its own padding) or puts back one that cannot work.
TEST_CASE("ip link set mtu on a running interface is followed, or refused",
	  "[e2e][netns][interop][mtu]")
{
	auto o = tunnel_options(PeerKind::wggo, 4);
	o.mtu = 1420;
	o.b_mtu = 1380;
	Tunnel t(o);
	// The hidden end (xwgh-IF) follows: it is where the daemon applies the change.
	const std::string hidden = "xwgh-" + t.if_a;
	t.a.in("ip link set dev " + t.if_a + " mtu 1380");
	CHECK(wait_until([&] { return link_mtu(t.a, hidden) == 1380; }, 5s));
	check_show_mtu(t, 1380);
	check_path(t, {1380});
	// Below IPv6's minimum while the tunnel has IPv6: put back.
	t.a.in("ip link set dev " + t.if_a + " mtu 1000");
	CHECK(wait_until([&] { return link_mtu(t.a, t.if_a) == 1380; }, 5s));
	check_show_mtu(t, 1380);
}

TEST_CASE("routed underlay: a router with a smaller MTU on the far link",
	  "[e2e][netns][interop][mtu][routed]")
{
	// A (xwg) –1500– R –1400– B (wireguard-go), both tunnels at 1420: the default from
	// A's 1500-byte link, as wg-quick would pick it. Outer packets from A are 1480
	// (IPv4) or 1500 (IPv6) bytes: R fragments the IPv4 ones (no DF) and answers the
	// IPv6 ones with Packet Too Big, after which A sends them fragmented. B's own link
	// is 1400 bytes: wireguard-go's socket fragments its outer packets itself.
	int underlay = GENERATE(4, 6);
	DYNAMIC_SECTION("over IPv" << underlay)
	{
		auto o = tunnel_options(PeerKind::wggo, underlay);
		o.routed_mtu = 1400;
		o.b_mtu = 1420;
		Tunnel t(o);
		check_device_mtus(t, 1420);
		check_show_mtu(t, 1420);
		const auto frag0 = snmp(*t.r, "Ip", "FragCreates");
		const auto fail0 = snmp(*t.r, "Ip", "FragFails");
		const auto ptb0 = snmp(*t.r, "", "Icmp6OutPktTooBigs");
		// The first full-size packets may be lost while the path MTU is learned: over IPv6
		// always, over IPv4 only for a sender that sets DF (wireguard-go does; xwg must
		// not, checked below).
		check_path(t, {1420, true, 'a', true});
		const auto frag = snmp(*t.r, "Ip", "FragCreates") - frag0;
		const auto fail = snmp(*t.r, "Ip", "FragFails") - fail0;
		const auto ptb = snmp(*t.r, "", "Icmp6OutPktTooBigs") - ptb0;
		INFO("router: " << frag << " IPv4 fragments made, " << fail
				<< " IPv4 packets it could not fragment (DF), " << ptb
				<< " Packet Too Big sent");
		if (underlay == 4) {
			// xwg's outer IPv4 packets carry no DF: the router fragmented them.
			CHECK_OR_DIAG(frag > 0, t, "the router fragmented outer IPv4 packets");
			CHECK_OR_DIAG(fail == 0, t, "no outer IPv4 packet with DF at the router");
		} else {
			// The path really was narrower than A's link.
			CHECK_OR_DIAG(ptb > 0, t, "the router sent Packet Too Big");
		}
	}
}

namespace {

// Two namespaces joined by a veth (192.0.2.1 / 192.0.2.2, 2001:db8::1 / ::2), with
// nothing else, for `xwg up` attempts that must fail.
struct Bare {
	TempDir dir;
	Netns a, b;
	std::string ua, ub, ifname;
	XwgIface xwg; // brings down whatever came up by mistake
	explicit Bare(int n, unsigned underlay_mtu = 0)
	    : dir("/tmp/xwgM" + PID + "x" + std::to_string(n)),
	      a((remove_stale_namespaces("xwgM"), "xwgM" + PID + "a" + std::to_string(n))),
	      b("xwgM" + PID + "b" + std::to_string(n)), ua("xm" + PID + "a"), ub("xm" + PID + "b"),
	      ifname("xm" + PID + "i"), xwg(a, Tunnel::xwg_binary(), ifname)
	{
		must("ip link add " + ua + " netns " + a.name + " type veth peer name " + ub +
		     " netns " + b.name);
		for (auto [ns, dev, ip4, ip6] : {std::tuple{&a, ua, "192.0.2.1", "2001:db8::1"},
						 std::tuple{&b, ub, "192.0.2.2", "2001:db8::2"}}) {
			ns->in("ip link set " + dev + " addrgenmode none");
			ns->in("ip addr add " + std::string(ip4) + "/24 dev " + dev);
			ns->in("ip addr add " + std::string(ip6) + "/64 dev " + dev + " nodad");
			ns->in("ip link set " + dev + " up" +
			       (underlay_mtu ? " mtu " + std::to_string(underlay_mtu) : ""));
		}
	}
	// What `xwg up` could leave behind in A.
	std::string state() const
	{
		return a.in("ip -o link show") + a.in("ip -o addr show") +
		       a.in("ip -4 route show table all") + a.in("ip -6 route show table all");
	}
	std::string conf(const std::string &mtu_line, bool address6) const
	{
		auto key = gen_private();
		auto peer = pub_of(gen_private());
		return "[Interface]\nPrivateKey = " + key + "\nListenPort = 51820\nAddress = 198.51.100.1/24" +
		       (address6 ? ", fd00:77::1/64" : "") + "\nUnderlay = " + ua + "\n" + mtu_line +
		       "\n\n[Peer]\nPublicKey = " + peer +
		       "\nAllowedIPs = 198.51.100.2/32\nEndpoint = 192.0.2.2:51820\n";
	}
};

} // namespace

TEST_CASE("MTUs xwg refuses: a clear error, nothing changed", "[e2e][netns][mtu][errors]")
{
	struct Bad {
		const char *what;
		const char *mtu_line;
		bool address6;
		unsigned underlay_mtu = 0;
	};
	auto bad = GENERATE(Bad{"MTU = 500 (below 576)", "MTU = 500", false},
			    Bad{"MTU = 9500 (above 9000)", "MTU = 9500", false},
			    Bad{"MTU = 1000 with an IPv6 Address", "MTU = 1000", true},
			    // Beyond the brief's list: the automatic MTU falls below IPv6's minimum.
			    Bad{"no MTU, a 1300-byte underlay (1220) and an IPv6 Address", "", true, 1300});
	DYNAMIC_SECTION("xwg up with " << bad.what)
	{
		static int n = 0;
		Bare lab(n++, bad.underlay_mtu);
		const std::string before = lab.state();
		const std::string conf = lab.dir.file(lab.ifname + ".conf");
		std::ofstream(conf) << lab.conf(bad.mtu_line, bad.address6);
		const auto t0 = Clock::now();
		auto r = lab.a.try_in(Tunnel::xwg_binary() + " up " + conf, 90);
		const auto took = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - t0);
		if (r.rc == 0)
			lab.xwg.is_up = true; // the guard takes it down again
		INFO("xwg up (" << r.rc << ", " << took.count() << " s):\n" << r.out << "\nconfig:\n"
				<< read_file(conf) << "\nlog:\n" << lab.xwg.log());
		CHECK(r.rc != 0);
		CHECK(lower(r.out).find("mtu") != std::string::npos);
		// A configuration error is found at once, not after a start-up timeout.
		CHECK(took < 15s);
		// Nothing left: no device (either veth end), no pins, no UAPI socket, no XDP, no
		// daemon, no address or route.
		CHECK(lab.state() == before);
		CHECK_FALSE(lab.a.try_in("ip link show dev " + lab.ifname).rc == 0);
		CHECK_FALSE(exists("/sys/fs/bpf/xwg/" + lab.ifname));
		CHECK_FALSE(exists("/var/run/wireguard/" + lab.ifname + ".sock"));
		CHECK_FALSE(lab.xwg.daemon_alive());
		CHECK(lab.a.in("ip -o link show dev " + lab.ua).find("xdp") == std::string::npos);
	}
}

TEST_CASE("MTU 1000 on a running interface: IPv6 allowed IPs are refused, nothing changed",
	  "[e2e][netns][interop][mtu][errors]")
{
	auto o = tunnel_options(PeerKind::wggo, 4);
	o.mtu = 1000;
	o.overlay6 = false;
	Tunnel t(o);
	const std::string before = t.a.in("wg show " + t.if_a + " allowed-ips");
	auto r = t.a.try_in("wg set " + t.if_a + " peer " + t.pub_b + " allowed-ips 2001:db8:1::/64");
	INFO("wg set (" << r.rc << "):\n" << r.out << "\nlog:\n" << t.xwg_a->log());
	CHECK(r.rc != 0);
	CHECK(t.a.in("wg show " + t.if_a + " allowed-ips") == before);
	// Adding it next to the IPv4 one is refused just the same.
	r = t.a.try_in("wg set " + t.if_a + " peer " + t.pub_b +
		       " allowed-ips 198.51.100.2/32,2001:db8:1::/64");
	INFO("wg set (" << r.rc << "):\n" << r.out);
	CHECK(r.rc != 0);
	CHECK(t.a.in("wg show " + t.if_a + " allowed-ips") == before);
	CHECK(t.a.try_in("ip -6 route show dev " + t.if_a).out.find("2001:db8:1::") ==
	      std::string::npos);
	// And the tunnel still works at its MTU.
	check_device_mtus(t, 1000);
	check_path(t, {1000, false});
}
