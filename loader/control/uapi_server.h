// control/uapi_server.h — the unix socket `wg` talks to: /var/run/wireguard/IFNAME.sock,
// mode 0600 in a 0755 directory. Requests are framed by uapi_frame() and answered by the
// daemon's handler, which stays synchronous; only the I/O is asynchronous. Every connection is
// non-blocking with its own input and output buffer, and the whole server is one pollable
// fd (an inner epoll holding the listening socket, the connections and a timerfd for the
// idle timeouts), so the daemon's event loop watches one fd and never waits for a client.
//
// Limits (UapiLimits; the defaults below are the daemon's):
//   - a request is at most UAPI_MAX_REQUEST bytes, its final empty line included; a longer
//     one is answered "errno=-90" (EMSGSIZE) and its connection closed;
//   - at most UAPI_MAX_CONNECTIONS connections; a new one beyond that closes the one that
//     has been idle longest (no byte read or written), so a crowd of stuck clients cannot
//     lock `wg` out;
//   - output: one answer per connection. While it is being written, the connection's next
//     requests stay unread in the socket, so a client that never reads costs one request
//     and one answer of memory (all told: UAPI_MAX_CONNECTIONS requests and answers, which
//     only root can make the daemon hold: the socket is 0600);
//   - a connection with no progress (no byte read or written) for UAPI_IDLE_TIMEOUT_NS is
//     closed, whether it sends nothing or reads nothing.
#pragma once

#include "loader/control/uapi_protocol.h"
#include "xwg/protocol.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace xwg {

// One request may carry the largest configuration the data plane holds, as `wg setconf`
// sends it with every line at its longest: per peer public_key, preshared_key, an IPv6
// endpoint with a scope, persistent_keepalive_interval and replace_allowed_ips (289 bytes,
// counted as 320), per allowed IP "allowed_ip=" and an IPv6 prefix (55 bytes, counted as
// 56), both families at IPv6's length. At XWG_MAX_PEERS = 65,536 and XWG_MAX_ALLOWED_IPS =
// 262,144 that is 48 MiB.
// A smaller cap would leave configurations the data plane takes unreachable through `wg`;
// a larger one buys nothing. (A 65,536-peer setconf with a key and one prefix each is
// ~8.5 MB.)
inline constexpr std::size_t UAPI_REQUEST_BYTES_PER_PEER = 320;
inline constexpr std::size_t UAPI_REQUEST_BYTES_PER_ALLOWED_IP = 56;
inline constexpr std::size_t UAPI_MAX_REQUEST =
	static_cast<std::size_t>(XWG_MAX_PEERS) * UAPI_REQUEST_BYTES_PER_PEER +
	2 * static_cast<std::size_t>(XWG_MAX_ALLOWED_IPS) * UAPI_REQUEST_BYTES_PER_ALLOWED_IP +
	4096; // device lines
// `wg` opens one connection per command; 64 leaves room for scripts running many at once.
inline constexpr std::size_t UAPI_MAX_CONNECTIONS = 64;
// `wg` finishes in milliseconds; ten seconds without a byte means the client is stuck.
inline constexpr std::uint64_t UAPI_IDLE_TIMEOUT_NS = 10'000'000'000ULL;

struct UapiLimits {
	std::size_t max_request = UAPI_MAX_REQUEST;
	std::size_t max_connections = UAPI_MAX_CONNECTIONS;
	std::uint64_t idle_timeout_ns = UAPI_IDLE_TIMEOUT_NS;
};

class UapiServer {
public:
	// The answer for one complete request (get or set), including the final "\n\n".
	using Handler = std::function<std::string(UapiOp op, std::string_view body)>;

	// Listens on socket_path(ifname) with the default limits. Throws std::runtime_error
	// when the socket exists and answers (interface in use) or cannot be made; a stale
	// socket file is replaced.
	UapiServer(const std::string &ifname, Handler handler);
	// The same on @path (tests: a temporary directory) with @limits.
	UapiServer(const std::string &path, Handler handler, const UapiLimits &limits);
	~UapiServer(); // closes every connection and removes the socket file
	UapiServer(const UapiServer &) = delete;
	UapiServer &operator=(const UapiServer &) = delete;

	static std::string socket_path(const std::string &ifname);
	// Readable whenever service() has something to do.
	int fd() const { return epoll_fd_; }
	const std::string &path() const { return path_; }
	// Accepts, reads, answers, writes and expires whatever is ready; never blocks.
	void service();

private:
	struct Connection {
		std::string in;		 // bytes received, not yet answered
		std::size_t scanned = 0; // bytes of `in` searched for the end of a request
		std::string out;	 // the answer being written
		std::size_t written = 0; // bytes of `out` sent
		std::uint64_t last_progress_ns = 0; // CLOCK_BOOTTIME of the last byte moved
		std::uint32_t events = 0;	    // what epoll watches for it
		bool eof = false;		    // the client sent all it will send
		bool closing = false;		    // close once `out` is written
	};

	void accept_all(std::uint64_t now);
	void on_ready(int fd, std::uint32_t events, std::uint64_t now);
	bool receive(int fd, Connection &c, std::uint64_t now);
	bool answer(int fd, Connection &c, std::uint64_t now);
	bool flush(int fd, Connection &c, std::uint64_t now);
	void watch_for(int fd, Connection &c);
	void expire(std::uint64_t now);
	void arm_timer();
	void drop(int fd);

	std::string path_;
	Handler handler_;
	UapiLimits limits_;
	int listen_fd_ = -1;
	int epoll_fd_ = -1;
	int timer_fd_ = -1;
	std::uint64_t timer_deadline_ns_ = 0; // what timer_fd_ is armed for, 0: disarmed
	std::map<int, Connection> clients_;
};

} // namespace xwg
