// noise_interop_test.cpp — xwg's handshake code against the real wireguard-go, with no data
// plane: wireguard-go runs in one network namespace, configured with `wg`; this process
// talks to it over UDP from another namespace.
//
//   namespace xwgA<pid>: veth xva<pid> 192.0.2.1/24, our UDP socket on port 51000
//   namespace xwgB<pid>: veth xvb<pid> 192.0.2.2/24, wireguard-go on xwgg<pid>, port 51820,
//                        tunnel address 198.51.100.2/24; our tunnel address is 198.51.100.1
//
// Both directions: we initiate and exchange an ICMP echo through the tunnel; wireguard-go
// initiates (a ping in its namespace) and its first data packet decrypts with our keys.
// Every wait is bounded, and every resource has a guard that removes it on every exit
// path; wireguard-go also dies with us (PR_SET_PDEATHSIG) if we are killed.
#include <catch2/catch.hpp>

#include "netns_lab.h"

#include "loader/types/keys.h"
#include "loader/noise/cookie.h"
#include "loader/noise/handshake.h"
#include "loader/noise/transport.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace xwg;
using namespace xwg::noise;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::uint16_t OUR_PORT = 51000;
constexpr std::uint16_t WG_PORT = 51820;
const char *const OUR_UNDERLAY = "192.0.2.1";
const char *const WG_UNDERLAY = "192.0.2.2";
const char *const OUR_TUNNEL = "198.51.100.1";
const char *const WG_TUNNEL = "198.51.100.2";

// Shell commands bounded by timeout(1): run() throws on failure, run_quiet() is for
// cleanup. Both through the shared lab helpers.
void run(const std::string &cmd)
{
	xwg::lab::must(cmd, 10);
}

void run_quiet(const std::string &cmd)
{
	(void)xwg::lab::sh(cmd, 10);
}

struct NetnsGuard {
	std::string name;
	~NetnsGuard()
	{
		if (!name.empty())
			run_quiet("ip netns del " + name);
	}
};

struct FileGuard {
	std::string path;
	~FileGuard()
	{
		if (!path.empty())
			unlink(path.c_str());
	}
};

struct FdGuard {
	int fd = -1;
	~FdGuard()
	{
		if (fd >= 0)
			close(fd);
	}
};

// An ICMP echo inside a decrypted IPv4 packet (no IP options, as ping sends them).
struct Echo {
	std::string src, dst;
	int type = 0; // 8 request, 0 reply
	int id = 0;
};
std::optional<Echo> icmp_echo(const std::uint8_t *ip, std::size_t len)
{
	if (len < 28 || ip[9] != IPPROTO_ICMP)
		return std::nullopt;
	char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &ip[12], src, sizeof(src));
	inet_ntop(AF_INET, &ip[16], dst, sizeof(dst));
	return Echo{src, dst, ip[20], ip[24] << 8 | ip[25]};
}

std::uint16_t inet_checksum(const std::uint8_t *p, std::size_t n)
{
	std::uint32_t sum = 0;
	for (std::size_t i = 0; i + 1 < n; i += 2)
		sum += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += static_cast<std::uint32_t>(p[n - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return static_cast<std::uint16_t>(~sum);
}

// IPv4 + ICMP echo (type 8 request, 0 reply), 16 bytes of payload.
std::vector<std::uint8_t> icmp_echo(const char *src, const char *dst, std::uint8_t type,
				    std::uint16_t id, std::uint16_t seq)
{
	std::vector<std::uint8_t> p(20 + 8 + 16, 0);
	p[0] = 0x45;
	p[2] = static_cast<std::uint8_t>(p.size() >> 8);
	p[3] = static_cast<std::uint8_t>(p.size());
	p[8] = 64;
	p[9] = IPPROTO_ICMP;
	inet_pton(AF_INET, src, &p[12]);
	inet_pton(AF_INET, dst, &p[16]);
	std::uint16_t c = inet_checksum(p.data(), 20);
	p[10] = static_cast<std::uint8_t>(c >> 8);
	p[11] = static_cast<std::uint8_t>(c);
	std::uint8_t *icmp = &p[20];
	icmp[0] = type;
	icmp[4] = static_cast<std::uint8_t>(id >> 8);
	icmp[5] = static_cast<std::uint8_t>(id);
	icmp[6] = static_cast<std::uint8_t>(seq >> 8);
	icmp[7] = static_cast<std::uint8_t>(seq);
	std::memcpy(icmp + 8, "xwg interop test", 16);
	c = inet_checksum(icmp, 24);
	icmp[2] = static_cast<std::uint8_t>(c >> 8);
	icmp[3] = static_cast<std::uint8_t>(c);
	return p;
}

// The lab: two namespaces, a veth between them, wireguard-go configured in the second.
struct Lab {
	std::string id = std::to_string(getpid());
	std::string ns_a = "xwgA" + id, ns_b = "xwgB" + id;
	std::string wg_if = "xwgg" + id;
	std::string log = "/tmp/xwg-interop-" + id + ".log";

	Identity ours = Identity::from_private(generate_private_key());
	PrivateKey wg_private = generate_private_key();
	PublicKey wg_public = public_key_of(wg_private);

	// Guards, declared in creation order so they are removed in reverse.
	FileGuard log_guard{log};
	NetnsGuard a, b;
	FileGuard key_file;
	xwg::lab::Child wireguard_go;
	FileGuard uapi_socket;
	FdGuard sock;

	Lab()
	{
		xwg::lab::remove_stale_namespaces("xwgA");
		xwg::lab::remove_stale_namespaces("xwgB");
		unlink(log.c_str());
		run("ip netns add " + ns_a);
		a.name = ns_a;
		run("ip netns add " + ns_b);
		b.name = ns_b;
		run("ip -n " + ns_a + " link add xva" + id + " type veth peer name xvb" + id +
		    " netns " + ns_b);
		run("ip -n " + ns_a + " addr add " + OUR_UNDERLAY + "/24 dev xva" + id);
		run("ip -n " + ns_b + " addr add " + WG_UNDERLAY + "/24 dev xvb" + id);
		run("ip -n " + ns_a + " link set xva" + id + " up");
		run("ip -n " + ns_b + " link set xvb" + id + " up");
		run("ip -n " + ns_a + " link set lo up");
		run("ip -n " + ns_b + " link set lo up");

		// wireguard-go, in the foreground so its pid is ours to stop.
		uapi_socket.path = "/var/run/wireguard/" + wg_if + ".sock";
		wireguard_go = xwg::lab::Child::spawn({"ip", "netns", "exec", ns_b, "wireguard-go", "-f", wg_if},
						      log, {"LOG_LEVEL=debug"});
		wait_for_socket();

		key_file.path = "/tmp/xwg-interop-" + id + ".key";
		{
			int fd = open(key_file.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
			REQUIRE(fd >= 0);
			std::string k = to_base64(wg_private) + "\n";
			REQUIRE(write(fd, k.data(), k.size()) == static_cast<ssize_t>(k.size()));
			close(fd);
		}
		run("wg set " + wg_if + " private-key " + key_file.path + " listen-port " +
		    std::to_string(WG_PORT) + " peer " + to_base64(ours.public_key) +
		    " allowed-ips " + OUR_TUNNEL + "/32 endpoint " + OUR_UNDERLAY + ":" +
		    std::to_string(OUR_PORT));
		run("ip -n " + ns_b + " addr add " + WG_TUNNEL + "/24 dev " + wg_if);
		run("ip -n " + ns_b + " link set " + wg_if + " up");

		open_socket();
	}

	void wait_for_socket()
	{
		auto deadline = Clock::now() + std::chrono::seconds(5);
		struct stat st;
		while (stat(uapi_socket.path.c_str(), &st) != 0) {
			if (Clock::now() > deadline || !wireguard_go.running())
				FAIL("wireguard-go did not create " << uapi_socket.path << "\n"
								    << xwg::lab::read_file(log));
			std::this_thread::sleep_for(std::chrono::milliseconds(20));
		}
	}

	// A socket created in a namespace stays there; only the creating thread enters it.
	static int socket_in(const std::string &ns, int type, int proto)
	{
		int fd = -1;
		std::string err;
		std::thread t([&] {
			int nsfd = open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
			if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) != 0) {
				err = std::string("setns: ") + std::strerror(errno);
				if (nsfd >= 0)
					close(nsfd);
				return;
			}
			close(nsfd);
			fd = socket(AF_INET, type | SOCK_CLOEXEC, proto);
			if (fd < 0)
				err = std::string("socket: ") + std::strerror(errno);
		});
		t.join();
		if (!err.empty())
			FAIL(err);
		return fd;
	}

	void open_socket()
	{
		sock.fd = socket_in(ns_a, SOCK_DGRAM, 0);
		sockaddr_in sa{};
		sa.sin_family = AF_INET;
		sa.sin_port = htons(OUR_PORT);
		inet_pton(AF_INET, OUR_UNDERLAY, &sa.sin_addr);
		if (bind(sock.fd, reinterpret_cast<sockaddr *>(&sa), sizeof(sa)) != 0)
			FAIL("bind: " << std::strerror(errno));
	}

	// A ping from wireguard-go's namespace into the tunnel: an ICMP echo request sent on
	// a raw socket there (the kernel adds the IP header).
	void ping_from_b(std::uint16_t id, std::uint16_t seq)
	{
		FdGuard raw{socket_in(ns_b, SOCK_RAW, IPPROTO_ICMP)};
		auto pkt = icmp_echo(WG_TUNNEL, OUR_TUNNEL, 8, id, seq);
		sockaddr_in sa{};
		sa.sin_family = AF_INET;
		inet_pton(AF_INET, OUR_TUNNEL, &sa.sin_addr);
		REQUIRE(sendto(raw.fd, pkt.data() + 20, pkt.size() - 20, 0,
			       reinterpret_cast<sockaddr *>(&sa), sizeof(sa)) ==
			static_cast<ssize_t>(pkt.size() - 20));
	}

	void send(Bytes pkt)
	{
		sockaddr_in sa{};
		sa.sin_family = AF_INET;
		sa.sin_port = htons(WG_PORT);
		inet_pton(AF_INET, WG_UNDERLAY, &sa.sin_addr);
		REQUIRE(sendto(sock.fd, pkt.data(), pkt.size(), 0, reinterpret_cast<sockaddr *>(&sa),
			       sizeof(sa)) == static_cast<ssize_t>(pkt.size()));
	}

	// One datagram, or empty after `timeout`.
	std::vector<std::uint8_t> recv(std::chrono::milliseconds timeout, sockaddr_in *from = nullptr)
	{
		pollfd p{sock.fd, POLLIN, 0};
		if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0)
			return {};
		std::vector<std::uint8_t> buf(2048);
		sockaddr_in sa{};
		socklen_t len = sizeof(sa);
		ssize_t n = recvfrom(sock.fd, buf.data(), buf.size(), 0,
				     reinterpret_cast<sockaddr *>(&sa), &len);
		if (n < 0)
			return {};
		buf.resize(static_cast<std::size_t>(n));
		if (from)
			*from = sa;
		return buf;
	}

	std::string wg_show() const
	{
		FILE *p = popen(("timeout 5 wg show " + wg_if + " 2>&1").c_str(), "r");
		std::string out;
		char buf[256];
		while (p && std::fgets(buf, sizeof(buf), p))
			out += buf;
		if (p)
			pclose(p);
		return out;
	}
};

std::uint8_t type_of(const std::vector<std::uint8_t> &pkt)
{
	return pkt.empty() ? 0 : pkt[0];
}

} // namespace

TEST_CASE("xwg initiates to wireguard-go; an ICMP echo crosses the tunnel both ways",
	  "[interop][netns]")
{
	Lab lab;
	Handshake hs(lab.ours, lab.wg_public);
	CookieMaker macs(lab.wg_public);
	const std::uint32_t our_index = 0x1a2b3c4d;

	// Initiate; resend once a second for up to five tries.
	std::vector<std::uint8_t> resp;
	for (int attempt = 0; attempt < 5 && type_of(resp) != XWG_MSG_HANDSHAKE_RESPONSE;
	     ++attempt) {
		xwg_msg_initiation init;
		REQUIRE(hs.create_initiation(init, our_index) == HandshakeError::ok);
		macs.add_macs(std::span(reinterpret_cast<std::uint8_t *>(&init), sizeof(init)),
			      boottime_ns());
		lab.send(Bytes(reinterpret_cast<const std::uint8_t *>(&init), sizeof(init)));
		auto deadline = Clock::now() + std::chrono::seconds(1);
		while (Clock::now() < deadline && type_of(resp) != XWG_MSG_HANDSHAKE_RESPONSE)
			resp = lab.recv(std::chrono::milliseconds(200));
	}
	INFO("wireguard-go log:\n" << xwg::lab::read_file(lab.log));
	REQUIRE(type_of(resp) == XWG_MSG_HANDSHAKE_RESPONSE);

	// Its MACs are for us.
	CookieChecker checker(lab.ours.public_key, boottime_ns());
	CHECK(checker.validate(resp, Bytes(), false, boottime_ns()) == MacCheck::valid_mac1);
	REQUIRE(hs.consume_response(resp) == HandshakeError::ok);
	Keypair kp;
	REQUIRE(hs.begin_session(kp, boottime_ns()) == HandshakeError::ok);
	CHECK(kp.local_index == our_index);
	CHECK(kp.initiator);

	// Echo request through the tunnel, counter 0.
	auto ping = icmp_echo(OUR_TUNNEL, WG_TUNNEL, 8, 0x4242, 1);
	std::uint8_t pkt[256];
	auto n = transport_seal(pkt, kp.sending, kp.remote_index, 0, ping);
	REQUIRE(n > 0);
	lab.send(Bytes(pkt, n));

	// The reply: a data packet to our index that decrypts to an echo reply.
	bool got_reply = false;
	int data_packets = 0;
	auto deadline = Clock::now() + std::chrono::seconds(5);
	while (!got_reply && Clock::now() < deadline) {
		auto in = lab.recv(std::chrono::milliseconds(200));
		if (type_of(in) != XWG_MSG_DATA)
			continue;
		++data_packets;
		std::uint8_t plain[2048];
		auto o = transport_open(plain, kp.receiving, in);
		REQUIRE(o.error == TransportError::ok);
		CHECK(o.receiver_index == our_index);
		auto echo = icmp_echo(plain, o.len);
		if (!echo)
			continue;
		CHECK(echo->src == WG_TUNNEL);
		CHECK(echo->dst == OUR_TUNNEL);
		CHECK(echo->type == 0);      // echo reply
		CHECK(echo->id == 0x4242);   // our id
		CHECK(std::memcmp(&plain[28], "xwg interop test", 16) == 0);
		got_reply = true;
	}
	INFO("wg show:\n" << lab.wg_show());
	CHECK(data_packets >= 1);
	CHECK(got_reply);
	std::printf("interop (xwg initiates): handshake ok, echo reply decrypted after %d data "
		    "packet(s)\n",
		    data_packets);
}

TEST_CASE("wireguard-go initiates to xwg; its first data packet decrypts with our keys",
	  "[interop][netns]")
{
	Lab lab;
	Handshake hs(lab.ours, lab.wg_public);
	CookieChecker checker(lab.ours.public_key, boottime_ns());
	CookieMaker macs(lab.wg_public);
	PeerLookup lookup = [&](const PublicKey &k) -> Handshake * {
		return k == lab.wg_public ? &hs : nullptr;
	};

	// A ping in wireguard-go's namespace makes it initiate (it stages the packet).
	lab.ping_from_b(0x7777, 1);

	std::vector<std::uint8_t> init;
	auto deadline = Clock::now() + std::chrono::seconds(5);
	while (Clock::now() < deadline && type_of(init) != XWG_MSG_HANDSHAKE_INITIATION)
		init = lab.recv(std::chrono::milliseconds(200));
	INFO("wireguard-go log:\n" << xwg::lab::read_file(lab.log));
	REQUIRE(type_of(init) == XWG_MSG_HANDSHAKE_INITIATION);

	CHECK(checker.validate(init, Bytes(), false, boottime_ns()) == MacCheck::valid_mac1);
	auto r = Handshake::consume_initiation(lab.ours, init, lookup, boottime_ns());
	REQUIRE(r.error == HandshakeError::ok);
	REQUIRE(r.peer == &hs);

	const std::uint32_t our_index = 0x5e6f7081;
	xwg_msg_response resp;
	REQUIRE(hs.create_response(resp, our_index) == HandshakeError::ok);
	macs.add_macs(std::span(reinterpret_cast<std::uint8_t *>(&resp), sizeof(resp)),
		      boottime_ns());
	Keypair kp;
	REQUIRE(hs.begin_session(kp, boottime_ns()) == HandshakeError::ok);
	CHECK_FALSE(kp.initiator);
	lab.send(Bytes(reinterpret_cast<const std::uint8_t *>(&resp), sizeof(resp)));

	// Its first data packet: the staged echo request, or a keepalive first.
	bool got_request = false;
	int data_packets = 0;
	deadline = Clock::now() + std::chrono::seconds(5);
	while (!got_request && Clock::now() < deadline) {
		auto in = lab.recv(std::chrono::milliseconds(200));
		if (type_of(in) != XWG_MSG_DATA)
			continue;
		std::uint8_t plain[2048];
		auto o = transport_open(plain, kp.receiving, in);
		++data_packets;
		REQUIRE(o.error == TransportError::ok);
		CHECK(o.receiver_index == our_index);
		if (data_packets == 1)
			CHECK(o.counter == 0);
		auto echo = icmp_echo(plain, o.len);
		if (!echo)
			continue;
		CHECK(echo->src == WG_TUNNEL);
		CHECK(echo->dst == OUR_TUNNEL);
		CHECK(echo->type == 8);      // echo request
		CHECK(echo->id == 0x7777);   // the ping we sent
		got_request = true;

		// Answer it, so wireguard-go's ping sees the tunnel work both ways.
		auto reply = std::vector<std::uint8_t>(plain, plain + (plain[2] << 8 | plain[3]));
		std::swap_ranges(reply.begin() + 12, reply.begin() + 16, reply.begin() + 16);
		reply[20] = 0;
		reply[22] = reply[23] = 0;
		std::uint16_t c = inet_checksum(&reply[20], reply.size() - 20);
		reply[22] = static_cast<std::uint8_t>(c >> 8);
		reply[23] = static_cast<std::uint8_t>(c);
		std::uint8_t pkt[2048];
		auto n = transport_seal(pkt, kp.sending, kp.remote_index, 0, reply);
		REQUIRE(n > 0);
		lab.send(Bytes(pkt, n));
	}
	CHECK(got_request);
	std::printf("interop (wireguard-go initiates): initiation consumed, response sent, echo "
		    "request decrypted from data packet %d\n",
		    data_packets);
}
