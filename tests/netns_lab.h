// netns_lab.h — building blocks for tests that run real tunnels between network
// namespaces: bounded shell commands, and guards (RAII) for namespaces, child processes,
// xwg interfaces, wireguard-go instances and scratch directories, so every exit path
// cleans up. Enter namespaces with nsenter --net (never `ip netns exec`: it remounts
// /sys and hides bpffs). Defined in netns_lab.cpp (the library xwg_netns_lab, which knows
// the xwg binary); raw frames are built with packet.h.
#pragma once

#include "packet.h"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sched.h>
#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace xwg::lab {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using xwgtest::Bytes;
using xwgtest::Mac;

// This process's pid as text: names made with it are unique to this run.
inline const std::string PID = std::to_string(getpid());

struct Result {
	int rc;
	std::string out; // stdout and stderr
};

// Single-quotes a string for sh.
std::string quote(const std::string &s);

// Runs a shell command line bounded by timeout(1) (SIGKILL 2 s after the TERM).
Result sh(const std::string &cmd, int timeout_s = 30);

// sh() that throws, with the output, unless the command exits 0; returns the output.
std::string must(const std::string &cmd, int timeout_s = 30);

// Whether @path exists.
bool exists(const std::string &path);

// The contents of a file ("" if it cannot be read).
std::string read_file(const std::string &path);

// A tool the test needs: missing means a loud failure, not a skip.
void require_tool(const std::string &name);

// Polls `done` every `step` until it holds or `limit` passes; returns its last value.
bool wait_until(const std::function<bool()> &done, std::chrono::milliseconds limit,
		std::chrono::milliseconds step = 50ms);

// Deletes namespaces named PREFIX<pid>[suffix] whose pid is gone (earlier runs that died
// before their guards ran).
void remove_stale_namespaces(const std::string &prefix);

// A scratch directory, removed with everything in it.
struct TempDir {
	std::string path;
	explicit TempDir(const std::string &p);
	~TempDir();
	TempDir(const TempDir &) = delete;
	TempDir &operator=(const TempDir &) = delete;
	std::string file(const std::string &name) const { return path + "/" + name; }
};

// A network namespace with lo up; deleted (with its devices) by the guard.
struct Netns {
	std::string name;
	explicit Netns(std::string n);
	~Netns();
	Netns(const Netns &) = delete;
	Netns &operator=(const Netns &) = delete;

	std::string path() const { return "/run/netns/" + name; }
	// The command prefix that runs what follows inside the namespace.
	std::string nsenter() const { return "nsenter --net=" + path() + " "; }
	// must() / sh() of @cmd inside the namespace.
	std::string in(const std::string &cmd, int timeout_s = 30) const;
	Result try_in(const std::string &cmd, int timeout_s = 30) const;
	// Runs fn with this thread inside the namespace (sockets made there stay there).
	template <typename F> auto with(F &&fn) const
	{
		using R = decltype(fn());
		R result{};
		std::exception_ptr error;
		std::thread t([&] {
			int fd = open(path().c_str(), O_RDONLY | O_CLOEXEC);
			if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
				if (fd >= 0)
					close(fd);
				error = std::make_exception_ptr(
					std::runtime_error("setns " + name));
				return;
			}
			close(fd);
			try {
				result = fn();
			} catch (...) {
				error = std::current_exception();
			}
		});
		t.join();
		if (error)
			std::rethrow_exception(error);
		return result;
	}
};

// A child process that dies with us (PR_SET_PDEATHSIG) and is killed and reaped
// (bounded) when the guard goes.
struct Child {
	pid_t pid = -1;
	Child() = default;
	Child(const Child &) = delete;
	Child &operator=(const Child &) = delete;
	Child(Child &&o) noexcept;
	Child &operator=(Child &&o) noexcept;
	~Child() { stop(); }

	// argv[0] is looked up in PATH; stdout/stderr go to `log`; env is KEY=VALUE.
	static Child spawn(const std::vector<std::string> &argv, const std::string &log,
			   const std::vector<std::string> &env = {});
	// Whether it has not exited yet.
	bool running() const;
	// Waits (bounded) for the exit; returns the exit status or -1 (then it is killed).
	int wait(std::chrono::milliseconds limit);
	// TERM to its process group, KILL after 3 s, and reaps it.
	void stop();
};

// Removes what an xwg interface leaves behind, should its daemon have died.
void remove_xwg_traces(const std::string &ifname);

// An xwg interface brought up with `xwg up FILE.conf` in a namespace; `xwg down` (and
// removal of any leftovers) when the guard goes.
struct XwgIface {
	const Netns &ns;
	std::string xwg; // path of the xwg binary
	std::string ifname;
	bool is_up = false;

	XwgIface(const Netns &n, std::string binary, std::string name);
	~XwgIface();
	XwgIface(const XwgIface &) = delete;
	XwgIface &operator=(const XwgIface &) = delete;

	// env: "XWG_REKEY_AFTER_TIME=3" ...; throws with the output on failure.
	void up(const std::string &conf_path, const std::vector<std::string> &env = {});
	// `xwg down IF`, whatever it says.
	Result down();
	// `xwg show IF [flags]`.
	std::string show(const std::string &flags = "") const;
	// The daemon's log, /run/xwg/IF.log.
	std::string log() const;
	// `xwg show IF --json`.
	nlohmann::json show_json() const;
	// Drop counters by reason name (those not shown are zero).
	std::map<std::string, std::uint64_t> drops() const;
	// The daemon's pid from /run/xwg/IF.pid, 0 if none.
	pid_t daemon_pid() const;
	bool daemon_alive() const;
};

// The stock wireguard-go in a namespace, in the foreground, configured with `wg`. Its
// interface name must be unique system-wide (the UAPI sockets share /var/run/wireguard).
struct WgGo {
	const Netns &ns;
	std::string ifname;
	std::string log_path;
	Child proc;

	// @binary: Debian's wireguard-go by default, or another build (benchmarks).
	WgGo(const Netns &n, std::string name, const std::string &log,
	     const std::string &binary = "wireguard-go");
	~WgGo();
	WgGo(const WgGo &) = delete;
	WgGo &operator=(const WgGo &) = delete;

	std::string sock() const { return "/var/run/wireguard/" + ifname + ".sock"; }
	// `wg set IF args`, throwing on failure.
	void set(const std::string &args) const;
	// `wg show IF [what]`.
	std::string show(const std::string &what = "") const;
};

// Value of the first line of `wg show IF FIELD` output (tab-separated, after the key);
// "" if none.
std::string wg_field(const Netns &ns, const std::string &ifname, const std::string &field);

// rx/tx packet counters of a device in a namespace (`ip -s`; /sys shows the host's).
struct LinkStats {
	std::uint64_t rx_packets = 0, tx_packets = 0;
};
LinkStats link_stats(const Netns &ns, const std::string &dev);

// ---- raw frames on the underlay --------------------------------------------------------

// "02:00:5e:00:53:01" as bytes; throws if it is not a MAC address.
Mac parse_mac(const std::string &text);

// The MAC address of a device in a namespace.
Mac link_mac(const Netns &ns, const std::string &dev);

// One end of a UDP datagram: an IP literal ("192.0.2.1" or "2001:db8::1") and a port.
struct UdpAddr {
	std::string ip;
	std::uint16_t port;
};

// A UDP datagram wrapped in Ethernet + IPv4 (DF set) / IPv6 with correct checksums
// (packet.h's udp_frame).
Bytes udp_frame(const Mac &dst_mac, const Mac &src_mac, const UdpAddr &src, const UdpAddr &dst,
		const Bytes &payload);

// A UDP datagram seen on a link: addresses and payload.
struct Datagram {
	UdpAddr src, dst;
	Bytes payload;
	bool outgoing = false; // sent by this namespace (PACKET_OUTGOING)
};

// Parses Ethernet + IPv4 (any IHL) / IPv6 (no extension headers) + UDP.
bool parse_udp(const std::uint8_t *f, std::size_t n, Datagram &d);

// An AF_PACKET socket on one device of a namespace: sees every frame in and out of it,
// and sends raw frames out of it.
struct RawLink {
	int fd = -1;
	int ifindex = 0;
	RawLink(const Netns &ns, const std::string &dev);
	~RawLink();
	RawLink(const RawLink &) = delete;
	RawLink &operator=(const RawLink &) = delete;

	// Discards what is queued.
	void drain();
	// Collects UDP datagrams for `limit` or until `enough` says so.
	std::vector<Datagram> capture(std::chrono::milliseconds limit,
				      const std::function<bool(const Datagram &)> &keep,
				      std::size_t enough = SIZE_MAX);
	// Sends one Ethernet frame out of the device (retrying while its queue is full).
	void send_frame(const Bytes &frame);
};

// ---- a tunnel between two namespaces ------------------------------------------------------
//
//   namespace A (xwg)            underlay veth               namespace B (xwg or wireguard-go)
//   xwg IF_A  198.51.100.1/24     192.0.2.1/24  <-->  192.0.2.2/24     IF_B 198.51.100.2/24
//             fd00:77::1/64       2001:db8::1/64      2001:db8::2/64        fd00:77::2/64
//
// Each side allows exactly the other's /32 and /128. Listen port 51820 on both.
//
// With TunnelOptions::routed_mtu, A and B sit on two links joined by a router namespace R
// (forwarding on for IPv4 and IPv6; its connected routes lead back to both, so its ICMP
// errors reach A and B):
//
//   A  ua 192.0.2.1/24      <-->  192.0.2.254/24   R   198.18.0.1/24  <-->  ub 198.18.0.2/24  B
//         2001:db8::1/64    A–R   2001:db8::fe/64      2001:db8:2::1/64 R–B   2001:db8:2::2/64
//
// A routes 198.18.0.0/24 and 2001:db8:2::/64 via R, B routes 192.0.2.0/24 and
// 2001:db8::/64 via R. The A–R link has underlay_mtu, the R–B link routed_mtu.

enum class PeerKind { xwg, wggo };
// "xwg" or "wireguard-go".
const char *kind_name(PeerKind k);

struct Tunnel;

struct TunnelOptions {
	PeerKind b = PeerKind::wggo;
	int underlay = 4;		  // endpoints over IPv4 or IPv6
	bool a_endpoint = true;		  // A knows B's endpoint (else B must initiate)
	bool b_endpoint = true;		  // B knows A's endpoint
	unsigned a_keepalive = 0;	  // PersistentKeepalive of A toward B
	std::vector<std::string> xwg_env; // XWG_REKEY_AFTER_TIME=... for the xwg sides
	// A routes everything through the tunnel (AllowedIPs 0.0.0.0/0, ::/0) and reaches B's
	// endpoint (203.0.113.2, 2001:db8:f::2) only through its default route.
	bool a_full_tunnel = false;
	// Packet sizes; the defaults keep the lab as it always was.
	unsigned mtu = 0;	   // `MTU =` in the xwg configs (0: no line, xwg's default)
	unsigned b_mtu = 0;	   // wireguard-go's interface MTU (0: `mtu` if set, else 1420)
	unsigned underlay_mtu = 0; // MTU of the underlay veth (the A–R one when routed); 0: 1500
	bool overlay6 = true;	   // IPv6 overlay addresses and allowed IPs (false: IPv4 only)
	unsigned routed_mtu = 0;   // > 0: A–R–B through a router namespace, R–B at this MTU
	// Runs once the underlay is built, before either side comes up (extra routes, ...).
	std::function<void(const Tunnel &)> before_up;
	std::string a_extra_peers; // more [Peer] sections, appended to A's xwg config
	std::string a_peers_before; // more [Peer] sections in A's config, before B's
	std::string receive_path;  // `ReceivePath =` in the xwg configs (empty: no line, auto)
	// A's underlay is a macvlan on its veth end: a device without native XDP, as the
	// drivers that make xwg receive on TC ingress (not with routed_mtu).
	bool a_macvlan = false;
	unsigned flow_ports = 0; // `FlowPorts =` toward the other side in the xwg configs
};

// The default options with peer B of kind @b and endpoints over IPv@underlay.
TunnelOptions tunnel_options(PeerKind b, int underlay);

// A new private key and the public key of one (base64, by `wg`).
std::string gen_private();
std::string pub_of(const std::string &priv);

// The tunnel drawn above, both sides up when the constructor returns; the guards take
// everything down again (daemons, wireguard-go, namespaces with their devices, files).
struct Tunnel {
	static constexpr std::uint16_t PORT = 51820;
	TunnelOptions opt;
	std::string tag; // unique per tunnel in this process
	TempDir dir;
	Netns a, b;
	std::unique_ptr<Netns> r; // the router, with routed_mtu only
	std::string ua, ub, if_a, if_b;
	std::string ura, urb; // R's ends of the A–R and R–B links (routed_mtu only)
	std::string key_a, key_b, pub_a, pub_b;
	std::unique_ptr<XwgIface> xwg_a, xwg_b;
	std::unique_ptr<WgGo> wggo_b;

	// "0", "1", ...: a new one per call.
	static std::string next_tag();
	// Path of the xwg binary under test.
	static std::string xwg_binary();

	explicit Tunnel(TunnelOptions o);

	// Underlay address of side 'a' or 'b', in the family of opt.underlay.
	std::string underlay_ip(char side) const;
	// ADDR:PORT or [ADDR]:PORT of that side's listen socket.
	std::string endpoint(char side) const;
	// Overlay (tunnel) address of a side in IPv@family.
	static std::string overlay(char side, int family);
	const Netns &ns(char side) const { return side == 'a' ? a : b; }
	const std::string &ifname(char side) const { return side == 'a' ? if_a : if_b; }

	// The xwg configuration file of a side.
	std::string xwg_conf(char side) const;
	// (Re)starts side A's xwg with xwg_conf('a').
	void up_a();
	// Starts side B: xwg, or wireguard-go configured with `wg` and `ip`.
	void up_b();
	// MTU of wireguard-go's interface.
	unsigned wggo_mtu() const;

	// ping from `side` to the other side's overlay address; true if all replies came.
	Result ping(char side, int family, int count = 3, int wait_s = 3) const;

	// Everything the daemons and wireguard-go said, for failure messages.
	std::string diagnostics() const;
};

// A payload file of `bytes` random bytes and its sha256, made once per size per process.
struct Payload {
	std::string path, sha256;
	std::size_t bytes;
};
const Payload &payload(std::size_t bytes);

// TCP from one side to the other's overlay address: `repeat` copies of the payload, sent
// with socat; the receiver hashes what arrives. Returns "" on success, else what failed.
std::string tcp_transfer(const Tunnel &t, char from, int family, const Payload &p,
			 int limit_s = 120, int repeat = 1);

} // namespace xwg::lab
