// metrics_server_test.cpp — the daemon's HTTP endpoint for metrics (loader/control/
// metrics_server.h) over real TCP sockets, in a network namespace of this process's own
// (unshare: only its loopback, gone with the process): clients that send nothing or half a
// request do not delay another scrape; requests split across writes; a large answer to a
// client that does not read, while others are served; the head-size cap, the connection
// cap and idle timeouts; a failing snapshot; IPv6; an address in use. The server runs in a thread
// of its own, polled the way the daemon's loop polls it; clients are blocking sockets with
// timeouts.
#include <catch2/catch.hpp>

#include "loader/control/metrics_server.h"
#include "metrics_check.h"

#include <poll.h>
#include <sched.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>

using namespace xwg;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using xwgtest::http_exchange;
using xwgtest::http_status;

namespace {

// This process in a network namespace with only lo, up (once; threads made later inherit
// it).
void private_netns()
{
	static std::once_flag once;
	std::call_once(once, [] {
		if (unshare(CLONE_NEWNET) != 0)
			throw std::runtime_error("unshare(CLONE_NEWNET) failed (root needed)");
		if (std::system("ip link set lo up") != 0)
			throw std::runtime_error("ip link set lo up failed");
	});
}

Endpoint loopback(const char *text)
{
	auto ep = endpoint_parse(text);
	if (!ep)
		throw std::invalid_argument(text);
	return *ep;
}

// A server polled by its own thread until the guard goes.
struct Served {
	std::atomic<std::size_t> body_size{64};
	std::atomic<int> renders{0};
	std::atomic<bool> fail{false}; // the next render throws
	std::unique_ptr<MetricsServer> server;
	std::atomic<bool> stop{false};
	std::thread loop;

	explicit Served(const MetricsLimits &limits = {}, const char *listen = "127.0.0.1:0")
	{
		private_netns();
		server = std::make_unique<MetricsServer>(
			loopback(listen),
			[this] {
				++renders;
				if (fail.exchange(false))
					throw std::runtime_error("no snapshot");
				return std::string(body_size.load(), 'x');
			},
			limits);
		loop = std::thread([this] {
			while (!stop) {
				pollfd p{server->fd(), POLLIN, 0};
				if (poll(&p, 1, 20) > 0)
					server->service();
			}
		});
	}
	~Served()
	{
		stop = true;
		loop.join();
	}
	unsigned port() const { return server->port(); }
};

// A connected client socket that the test drives by hand (receive timeout 5 s).
struct Client {
	int fd = -1;
	explicit Client(unsigned port, int rcvbuf = 0)
	{
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (rcvbuf)
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
		timeval tv{5, 0};
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		sockaddr_in a{};
		a.sin_family = AF_INET;
		a.sin_port = htons(static_cast<std::uint16_t>(port));
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof(a)) != 0)
			throw std::runtime_error("connect failed");
	}
	~Client() { close(fd); }
	void send_text(const std::string &s) const
	{
		REQUIRE(send(fd, s.data(), s.size(), MSG_NOSIGNAL) ==
			static_cast<ssize_t>(s.size()));
	}
	// Everything until the server closes (or the timeout: then what came so far).
	std::string read_all() const
	{
		std::string out;
		char buf[65536];
		for (;;) {
			ssize_t n = recv(fd, buf, sizeof(buf), 0);
			if (n <= 0)
				return out;
			out.append(buf, static_cast<std::size_t>(n));
		}
	}
	// Whether the server has closed the connection within @limit.
	bool closed_within(std::chrono::milliseconds limit) const
	{
		pollfd p{fd, POLLIN, 0};
		if (poll(&p, 1, static_cast<int>(limit.count())) <= 0)
			return false;
		char c;
		return recv(fd, &c, 1, MSG_DONTWAIT) == 0 || (errno == ECONNRESET);
	}
};

const std::string GET = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";

// A scrape, timed.
std::chrono::milliseconds timed_get(unsigned port, std::string &reply)
{
	const auto t0 = Clock::now();
	reply = http_exchange("127.0.0.1", port, GET, 5s);
	return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
}

} // namespace

TEST_CASE("metrics server: clients that send nothing or half a request delay no scrape",
	  "[metrics][server]")
{
	Served s;
	Client silent(s.port());
	Client half(s.port());
	half.send_text("GET /metr");
	std::string reply;
	for (int i = 0; i < 3; ++i) {
		const auto took = timed_get(s.port(), reply);
		CHECK(http_status(reply) == 200);
		CHECK(xwgtest::http_body(reply) == std::string(64, 'x'));
		CHECK(took < 500ms);
	}
	// The half request, finished, is answered too.
	half.send_text("ics HTTP/1.0\r\n\r\n");
	CHECK(http_status(half.read_all()) == 200);
	CHECK(s.renders == 4);
}

TEST_CASE("metrics server: a snapshot that fails is a 500, and the server goes on",
	  "[metrics][server]")
{
	Served s;
	s.fail = true;
	CHECK(http_status(http_exchange("127.0.0.1", s.port(), GET)) == 500);
	CHECK(http_status(http_exchange("127.0.0.1", s.port(), GET)) == 200);
}

TEST_CASE("metrics server: a request split across many writes", "[metrics][server]")
{
	Served s;
	Client c(s.port());
	for (const char *part :
	     {"G", "ET /met", "rics?x=1 HT", "TP/1.1\r", "\nHost: y\r\n", "\r", "\n"}) {
		c.send_text(part);
		std::this_thread::sleep_for(20ms);
	}
	CHECK(http_status(c.read_all()) == 200);
}

TEST_CASE("metrics server: 404, 405, 400 and 431 over the wire", "[metrics][server]")
{
	MetricsLimits limits;
	limits.max_request = 512;
	Served s(limits);
	CHECK(http_status(http_exchange("127.0.0.1", s.port(), "GET /nope HTTP/1.1\r\n\r\n")) ==
	      404);
	CHECK(http_status(http_exchange("127.0.0.1", s.port(), "PUT /metrics HTTP/1.1\r\n\r\n")) ==
	      405);
	CHECK(http_status(http_exchange("127.0.0.1", s.port(), "hello\r\n\r\n")) == 400);
	CHECK(http_status(http_exchange("127.0.0.1", s.port(),
					"GET /metrics HTTP/1.1\r\nX: " + std::string(600, 'a'))) ==
	      431);
	CHECK(s.renders == 0);
	// A client that stops sending before its request is complete gets no answer.
	Client gone(s.port());
	gone.send_text("GET /met");
	shutdown(gone.fd, SHUT_WR);
	CHECK(gone.closed_within(2s));
}

TEST_CASE("metrics server: a large answer to a client that does not read", "[metrics][server]")
{
	Served s;
	s.body_size = 8u << 20;
	Client slow(s.port(), 4096);
	slow.send_text(GET);
	std::this_thread::sleep_for(200ms); // its answer is made, and stuck in the socket
	s.body_size = 100;
	std::string reply;
	CHECK(timed_get(s.port(), reply) < 500ms);
	CHECK(xwgtest::http_body(reply).size() == 100);
	const std::string big = slow.read_all();
	CHECK(http_status(big) == 200);
	CHECK(xwgtest::http_body(big).size() == 8u << 20);
	CHECK(big.find("Content-Length: 8388608\r\n") != std::string::npos);
}

TEST_CASE("metrics server: idle connections are closed", "[metrics][server]")
{
	MetricsLimits limits;
	limits.idle_timeout_ns = 300'000'000;
	Served s(limits);
	Client silent(s.port());
	Client half(s.port());
	half.send_text("GET /metrics HTTP/1.1\r\n");
	CHECK(silent.closed_within(3s));
	CHECK(half.closed_within(3s));
	std::string reply;
	timed_get(s.port(), reply);
	CHECK(http_status(reply) == 200);
}

TEST_CASE("metrics server: beyond the connection cap, the idlest connection goes",
	  "[metrics][server]")
{
	MetricsLimits limits;
	limits.max_connections = 3;
	Served s(limits);
	Client first(s.port());
	std::this_thread::sleep_for(50ms);
	Client second(s.port());
	Client third(s.port());
	std::this_thread::sleep_for(50ms);
	std::string reply;
	CHECK(timed_get(s.port(), reply) < 500ms); // the fourth: the first had to go
	CHECK(http_status(reply) == 200);
	CHECK(first.closed_within(2s));
	second.send_text(GET);
	CHECK(http_status(second.read_all()) == 200);
}

TEST_CASE("metrics server: IPv6, and an address in use", "[metrics][server]")
{
	Served s({}, "[::1]:0");
	CHECK(http_status(http_exchange("::1", s.port(), GET)) == 200);
	const std::string taken = "[::1]:" + std::to_string(s.port());
	CHECK_THROWS_WITH(MetricsServer(loopback(taken.c_str()), [] { return std::string(); }),
			  "MetricsListen " + taken + ": bind: Address already in use");
	CHECK_THROWS_WITH(MetricsServer(loopback("192.0.2.1:9586"), [] { return std::string(); }),
			  "MetricsListen 192.0.2.1:9586: bind: Cannot assign requested address");
}
