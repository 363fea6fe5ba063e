// uapi_server_test.cpp — the non-blocking UAPI server (loader/control/uapi_server.h) on a
// socket in a temporary directory, with a fake handler and small limits: requests split
// across many writes, pipelined requests, a client that never reads its large answer
// while others are served at once, the request-size cap, the connection cap, idle
// timeouts, unknown operations, and the socket file's mode and stale/in-use handling.
// The server runs in a thread of its own, polled the way the daemon's loop polls it;
// clients are plain blocking sockets in the test's thread, every wait bounded.
#include <catch2/catch.hpp>

#include "loader/control/uapi_server.h"
#include "uapi_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace xwg;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

// The fake handler's answers: "get " + padding (size set by the test), or "set N" with
// the body's length, so a test sees which request each answer belongs to. Like real
// answers, they hold no empty line but the last.
struct FakeHandler {
	std::atomic<std::size_t> get_padding{0};

	std::string operator()(UapiOp op, std::string_view body) const
	{
		if (op == UapiOp::get)
			return "get " + std::string(get_padding.load(), 'a') + "\nerrno=0\n\n";
		return "set " + std::to_string(body.size()) + "\nerrno=0\n\n";
	}
};

std::string get_answer(std::size_t padding)
{
	return "get " + std::string(padding, 'a') + "\nerrno=0\n\n";
}

std::string set_answer(std::size_t body)
{
	return "set " + std::to_string(body) + "\nerrno=0\n\n";
}

// A private directory for the socket, removed with it.
struct SocketDir {
	std::string dir;
	SocketDir()
	{
		char tmpl[] = "/tmp/xwg-uapi-server-XXXXXX";
		if (!mkdtemp(tmpl))
			throw std::runtime_error("mkdtemp failed");
		dir = tmpl;
	}
	~SocketDir()
	{
		unlink(path().c_str());
		rmdir(dir.c_str());
	}
	std::string path() const { return dir + "/xt0.sock"; }
};

// A server and the thread that runs its loop: poll its fd, service(); the longest
// service() call is recorded.
struct Served {
	SocketDir dir;
	FakeHandler handler;
	std::unique_ptr<UapiServer> server;
	std::atomic<bool> stop{false};
	std::atomic<long long> longest_service_us{0};
	std::thread loop;

	explicit Served(UapiLimits limits = {})
	{
		server = std::make_unique<UapiServer>(
			dir.path(),
			[this](UapiOp op, std::string_view b) { return handler(op, b); }, limits);
		loop = std::thread([this] {
			while (!stop) {
				pollfd p{server->fd(), POLLIN, 0};
				if (poll(&p, 1, 20) <= 0)
					continue;
				const auto t0 = Clock::now();
				server->service();
				const long long us =
					std::chrono::duration_cast<std::chrono::microseconds>(
						Clock::now() - t0)
						.count();
				if (us > longest_service_us)
					longest_service_us = us;
			}
		});
	}
	~Served()
	{
		stop = true;
		loop.join();
		server.reset();
	}
	const std::string &path() const { return server->path(); }
};

using Client = xwgtest::UapiClient;

std::string set_request(std::size_t body_lines)
{
	std::string r = "set=1\n";
	for (std::size_t i = 0; i < body_lines; ++i)
		r += "allowed_ip=192.0.2." + std::to_string(i % 256) + "/32\n";
	return r + "\n";
}

// The body length the handler sees for a set request: all but "set=1\n" and the final "\n".
std::size_t body_of(const std::string &request)
{
	return request.size() - 7;
}

} // namespace

TEST_CASE(
	"the socket file: mode 0600, a stale one replaced, a live one refused, removed at the end",
	"[uapi]")
{
	SocketDir dir;
	{
		// A socket file nobody listens on any more, as a killed daemon leaves it.
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		sockaddr_un sun{};
		sun.sun_family = AF_UNIX;
		std::strncpy(sun.sun_path, dir.path().c_str(), sizeof(sun.sun_path) - 1);
		REQUIRE(bind(fd, reinterpret_cast<sockaddr *>(&sun), sizeof(sun)) == 0);
		close(fd);
	}
	FakeHandler handler;
	auto h = [&](UapiOp op, std::string_view b) {
		return handler(op, b);
	};
	{
		UapiServer server(dir.path(), h, UapiLimits{});
		struct stat st{};
		REQUIRE(stat(dir.path().c_str(), &st) == 0);
		CHECK(S_ISSOCK(st.st_mode));
		CHECK((st.st_mode & 0777) == 0600);
		try {
			UapiServer second(dir.path(), h, UapiLimits{});
			FAIL("a second server on a live socket was allowed");
		} catch (const std::runtime_error &e) {
			CHECK(std::string(e.what()).find("in use (is xt0 up already?)") !=
			      std::string::npos);
		}
		CHECK(access(dir.path().c_str(), F_OK) == 0);
	}
	CHECK(access(dir.path().c_str(), F_OK) != 0);
	CHECK(UapiServer::socket_path("wg0") == "/var/run/wireguard/wg0.sock");
}

TEST_CASE("a request split across many writes is answered once it is complete", "[uapi]")
{
	Served s;
	Client c(s.path());
	for (char ch : std::string("get=1\n"))
		REQUIRE(c.send_all(std::string(1, ch)));
	CHECK_FALSE(c.readable(100ms)); // no answer before the empty line
	REQUIRE(c.send_all("\n"));
	CHECK(c.read_answer() == get_answer(0));

	// A 400 KB set in 4 KB pieces, on the same connection.
	const std::string set = set_request(20000);
	REQUIRE(set.size() > 400'000);
	for (std::size_t off = 0; off < set.size(); off += 4096)
		REQUIRE(c.send_all(std::string_view(set).substr(off, 4096)));
	CHECK(c.read_answer() == set_answer(body_of(set)));
}

TEST_CASE("pipelined requests are answered in order, also after the client stops writing", "[uapi]")
{
	Served s;
	Client c(s.path());
	const std::string a = set_request(1), b = set_request(2);
	REQUIRE(c.send_all(a + "get=1\n\n" + b));
	CHECK(c.read_answer() == set_answer(body_of(a)));
	CHECK(c.read_answer() == get_answer(0));
	CHECK(c.read_answer() == set_answer(body_of(b)));

	// Two more and a half-close: both answered, then the server closes.
	REQUIRE(c.send_all("get=1\n\nget=1\n\n"));
	REQUIRE(shutdown(c.fd(), SHUT_WR) == 0);
	std::string both = get_answer(0) + get_answer(0);
	std::string got;
	while (got.size() < both.size()) {
		std::string part = c.read_answer();
		if (part.empty())
			break;
		got += part;
	}
	CHECK(got == both);
	CHECK(c.read_to_end(2000ms) == 0);
}

TEST_CASE("a client that never reads its large answer stalls nobody, and goes after the idle "
	  "timeout",
	  "[uapi]")
{
	UapiLimits limits;
	limits.idle_timeout_ns = 3'000'000'000ULL;
	Served s(limits);
	const std::size_t big = 4u << 20; // far beyond what the socket buffers hold
	s.handler.get_padding = big;

	Client stuck(s.path());
	// Its answer, and one more request that must wait unread behind it.
	REQUIRE(stuck.send_all("get=1\n\n" + set_request(1)));
	REQUIRE(stuck.readable(2000ms)); // the server has started writing

	// Meanwhile others are served at once, again and again.
	const auto t0 = Clock::now();
	for (int i = 0; i < 20; ++i) {
		Client other(s.path());
		REQUIRE(other.send_all(set_request(3)));
		REQUIRE(other.read_answer(1000ms) == set_answer(body_of(set_request(3))));
	}
	const auto took = Clock::now() - t0;
	CHECK(took < 1000ms);
	CHECK(s.longest_service_us.load() < 100'000);
	INFO("queued for the stuck client: " << stuck.queued());
	CHECK(stuck.queued() < big);

	// No progress for the idle timeout: the server gives up on it (reading now would be
	// progress, so wait for the hang-up first). What reached the socket before is all it
	// gets: part of the first answer, nothing of the second.
	const auto t1 = Clock::now();
	CHECK(stuck.hung_up(10000ms));
	CHECK(Clock::now() - t1 < 6000ms);
	const long long got = stuck.read_to_end(2000ms);
	CHECK(got > 0);
	CHECK(static_cast<std::size_t>(got) < big);
}

TEST_CASE("a slow reader that keeps reading gets its whole answer", "[uapi]")
{
	UapiLimits limits;
	limits.idle_timeout_ns = 500'000'000ULL;
	Served s(limits);
	const std::size_t big = 2u << 20;
	s.handler.get_padding = big;
	Client c(s.path());
	REQUIRE(c.send_all("get=1\n\n"));
	// 64 KB every 50 ms: slower than the idle timeout overall, never idle that long.
	std::size_t total = 0;
	const std::size_t whole = get_answer(big).size();
	const auto deadline = Clock::now() + 20s;
	while (total < whole && Clock::now() < deadline && c.readable(2000ms)) {
		char buf[65536];
		ssize_t n = recv(c.fd(), buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		total += static_cast<std::size_t>(n);
		std::this_thread::sleep_for(50ms); // pacing the reader, not waiting for the server
	}
	CHECK(total == whole);
}

TEST_CASE("requests larger than the cap: errno=-90 (EMSGSIZE), then the connection closes",
	  "[uapi]")
{
	UapiLimits limits;
	limits.max_request = 64u << 10;
	Served s(limits);
	const std::string refused = "errno=" + std::to_string(-EMSGSIZE) + "\n\n";

	SECTION("an endless request")
	{
		Client c(s.path());
		std::string req = set_request(5000); // ~120 KB
		req.resize(req.size() - 1);	     // never ends
		c.send_all(req);		     // the server may close before it has all
		CHECK(c.read_answer() == refused);
		CHECK(c.read_to_end(2000ms) == 0);
	}
	SECTION("a complete request one byte too long")
	{
		std::string req = "set=1\n" + std::string(limits.max_request - 8, 'x') + "\n\n";
		REQUIRE(req.size() == limits.max_request);
		req.insert(6, "y");
		Client c(s.path());
		c.send_all(req);
		CHECK(c.read_answer() == refused);
		CHECK(c.read_to_end(2000ms) == 0);
	}
	SECTION("a request of exactly the cap is answered")
	{
		const std::string req =
			"set=1\n" + std::string(limits.max_request - 8, 'x') + "\n\n";
		Client c(s.path());
		REQUIRE(c.send_all(req + "get=1\n\n"));
		CHECK(c.read_answer() == set_answer(body_of(req)));
		CHECK(c.read_answer() == get_answer(0));
	}
}

TEST_CASE("the default cap takes a 65,536-peer setconf, which arrives in many pieces", "[uapi]")
{
	Served s;
	// Key, preshared key, endpoint, keepalive and two allowed IPs per peer: ~19 MB.
	std::string req = "set=1\nprivate_key=" + std::string(64, 'a') + "\nreplace_peers=true\n";
	const std::string key(64, 'b');
	for (std::size_t i = 0; i < 65536; ++i) {
		const std::string a = std::to_string(i / 256), b = std::to_string(i % 256);
		req += "public_key=" + key + "\npreshared_key=" + key +
		       "\nendpoint=[2001:db8::" + a + ":" + b +
		       "]:51820\npersistent_keepalive_interval=25\nreplace_allowed_ips=true\n"
		       "allowed_ip=198.18." +
		       a + "." + b + "/32\nallowed_ip=fd00::" + a + ":" + b + "/128\n";
	}
	req += "\n";
	REQUIRE(req.size() > 16u << 20);
	REQUIRE(req.size() <= UAPI_MAX_REQUEST);
	Client c(s.path());
	const auto t0 = Clock::now();
	REQUIRE(c.send_all(req));
	CHECK(c.read_answer(10000ms) == set_answer(body_of(req)));
	INFO("took "
	     << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count()
	     << " ms");
	CHECK(Clock::now() - t0 < 5000ms);
	CHECK(s.longest_service_us.load() < 100'000);
}

TEST_CASE("beyond the connection cap, the connection idle longest is closed", "[uapi]")
{
	UapiLimits limits;
	limits.max_connections = 4;
	Served s(limits);
	std::vector<std::unique_ptr<Client>> clients;
	for (int i = 0; i < 4; ++i) {
		clients.push_back(std::make_unique<Client>(s.path()));
		REQUIRE(clients.back()->send_all("get=1\n\n"));
		REQUIRE(clients.back()->read_answer() == get_answer(0));
	}
	// A fifth: served, and the first (idle longest) is closed to make room.
	Client fifth(s.path());
	REQUIRE(fifth.send_all("get=1\n\n"));
	CHECK(fifth.read_answer() == get_answer(0));
	CHECK(clients[0]->read_to_end(2000ms) == 0);
	for (int i = 1; i < 4; ++i) {
		REQUIRE(clients[i]->send_all("get=1\n\n"));
		CHECK(clients[i]->read_answer() == get_answer(0));
	}
}

TEST_CASE("connections that send nothing, or half a request, are closed after the idle timeout",
	  "[uapi]")
{
	UapiLimits limits;
	limits.idle_timeout_ns = 300'000'000ULL;
	Served s(limits);
	const auto t0 = Clock::now();
	Client silent(s.path()), partial(s.path());
	REQUIRE(partial.send_all("set=1\nlisten_port=1"));
	CHECK(silent.read_to_end(5000ms) == 0);
	CHECK(partial.read_to_end(5000ms) == 0);
	const auto took = Clock::now() - t0;
	CHECK(took >= 250ms);
	CHECK(took < 3000ms);
	// The server still serves.
	Client c(s.path());
	REQUIRE(c.send_all("get=1\n\n"));
	CHECK(c.read_answer() == get_answer(0));
}

TEST_CASE("an unknown operation closes the connection without an answer", "[uapi]")
{
	Served s;
	Client c(s.path());
	REQUIRE(c.send_all("hello=1\n\n"));
	CHECK(c.read_to_end(2000ms) == 0);
}
