// control/metrics_server.h — the daemon's Prometheus endpoint (`MetricsListen = ADDR:PORT`
// in [Interface]): HTTP/1.x over TCP, one request per connection, answered from the
// daemon's event loop without ever waiting for a client. Built like the UAPI server
// (control/uapi_server.h): every connection is non-blocking with its own input and output
// buffer, and the whole server is one pollable fd (an inner epoll over the listening
// socket, the connections and a timerfd for idle timeouts).
//
// What it answers: GET (and HEAD) /metrics, with or without a query string, gets 200 and
// the text from the render callback (Content-Type text/plain; version=0.0.4); another
// method on /metrics gets 405, another path 404, a request line or header it cannot read
// 400, an HTTP version other than 1.0 and 1.1 505, a head longer than the limit 431, and
// a render that throws 500 (the daemon goes on).
// Every answer closes the connection ("Connection: close"): scrapers reconnect, and
// nothing is kept between requests.
//
// Limits (MetricsLimits): a request head of at most METRICS_MAX_REQUEST bytes; at most
// METRICS_MAX_CONNECTIONS connections, a new one beyond that closing the one idle longest
// (so stuck clients cannot lock out a scrape); a connection that moves no byte for
// METRICS_IDLE_TIMEOUT_NS is closed, whether it sends nothing or reads nothing.
#pragma once

#include "loader/types/ip_prefix.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace xwg {

// Request line and headers; a scraper's are a few hundred bytes.
inline constexpr std::size_t METRICS_MAX_REQUEST = 8192;
// Prometheus scrapes one target once at a time; room for a few more tools and stuck ones.
inline constexpr std::size_t METRICS_MAX_CONNECTIONS = 16;
// A scrape takes milliseconds; Prometheus' own scrape timeout defaults to 10 s.
inline constexpr std::uint64_t METRICS_IDLE_TIMEOUT_NS = 10'000'000'000ULL;

struct MetricsLimits {
	std::size_t max_request = METRICS_MAX_REQUEST;
	std::size_t max_connections = METRICS_MAX_CONNECTIONS;
	std::uint64_t idle_timeout_ns = METRICS_IDLE_TIMEOUT_NS;
};

// The whole HTTP response to one request head (request line and headers, up to and
// including the empty line). @render gives the exposition text; it is called only for
// GET and HEAD /metrics.
std::string metrics_http_response(std::string_view head,
				  const std::function<std::string()> &render);

class MetricsServer {
public:
	using Render = std::function<std::string()>;

	// Listens on @listen (TCP; port 0: any, see port()). Throws std::runtime_error naming
	// the address when the socket cannot be made, bound or listened on.
	MetricsServer(const Endpoint &listen, Render render, const MetricsLimits &limits = {});
	~MetricsServer(); // closes every connection
	MetricsServer(const MetricsServer &) = delete;
	MetricsServer &operator=(const MetricsServer &) = delete;

	// Readable whenever service() has something to do.
	int fd() const { return epoll_fd_; }
	// The port listened on.
	std::uint16_t port() const { return port_; }
	// Accepts, reads, answers, writes and expires whatever is ready; never blocks.
	void service();
	std::size_t connections() const { return clients_.size(); }

private:
	struct Connection {
		std::string in;			    // the request head so far
		std::string out;		    // the response being written
		std::size_t written = 0;	    // bytes of `out` sent
		std::uint64_t last_progress_ns = 0; // CLOCK_BOOTTIME of the last byte moved
		bool writing = false;		    // watched for output (the answer is made)
	};

	void accept_all(std::uint64_t now);
	void on_ready(int fd, std::uint64_t now);
	bool receive(int fd, Connection &c, std::uint64_t now);
	bool flush(int fd, Connection &c, std::uint64_t now);
	void expire(std::uint64_t now);
	void arm_timer();
	void drop(int fd);

	Render render_;
	MetricsLimits limits_;
	std::uint16_t port_ = 0;
	int listen_fd_ = -1;
	int epoll_fd_ = -1;
	int timer_fd_ = -1;
	std::uint64_t timer_deadline_ns_ = 0; // what timer_fd_ is armed for, 0: disarmed
	std::map<int, Connection> clients_;
};

} // namespace xwg
