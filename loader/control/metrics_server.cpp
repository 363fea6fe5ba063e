// control/metrics_server.cpp — the non-blocking HTTP server of the daemon's metrics; see
// metrics_server.h.
//
// A connection's life: accepted non-blocking and watched for input; bytes are appended
// until an empty line ends the request head (or the head outgrows the limit, or the
// client stops sending); the answer is made at once, in the event loop, and sent as far
// as the socket takes it, the connection now watched for output only; once written, the
// connection is closed. Every byte moved stamps the connection's progress; the timerfd is
// armed for the earliest "progress + idle timeout" and closes what has none.
#include "loader/control/metrics_server.h"

#include "loader/control/connection_io.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace xwg {

namespace {

constexpr int LISTEN_BACKLOG = 16;
// Events taken from the inner epoll per service() call; the rest stay ready (the daemon's
// epoll is level-triggered) and are served at its next turn, after the tunnel's own fds.
constexpr int EVENTS_PER_SERVICE = 16;

std::uint64_t boottime_now_ns()
{
	timespec ts{};
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
	       static_cast<std::uint64_t>(ts.tv_nsec);
}

void close_fd(int &fd)
{
	if (fd >= 0)
		close(fd);
	fd = -1;
}

std::string response(int status, const char *reason, std::string_view body, bool with_body,
		     const char *content_type = "text/plain; charset=utf-8",
		     const char *extra_headers = "")
{
	std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\n";
	out.append("Content-Type: ").append(content_type).append("\r\n");
	out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
	out.append(extra_headers);
	out.append("Connection: close\r\n\r\n");
	if (with_body)
		out.append(body);
	return out;
}

std::string error_response(int status, const char *reason, const char *extra_headers = "")
{
	return response(status, reason, std::string(reason) + "\n", true,
			"text/plain; charset=utf-8", extra_headers);
}

// The end of the request head (the index past its empty line), or npos. Lines may end in
// CRLF or, leniently, LF alone.
std::size_t head_end(std::string_view in)
{
	for (std::size_t i = in.find('\n'); i != std::string_view::npos; i = in.find('\n', i + 1)) {
		if (i + 1 < in.size() && in[i + 1] == '\n')
			return i + 2;
		if (i + 2 < in.size() && in[i + 1] == '\r' && in[i + 2] == '\n')
			return i + 3;
	}
	return std::string_view::npos;
}

bool is_token(std::string_view s)
{
	return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
		return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		       std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
	});
}

} // namespace

std::string metrics_http_response(std::string_view head, const std::function<std::string()> &render)
{
	// The request line: METHOD SP TARGET SP HTTP/x.y
	std::size_t eol = head.find('\n');
	std::string_view line = head.substr(0, eol);
	if (!line.empty() && line.back() == '\r')
		line.remove_suffix(1);
	const std::size_t sp1 = line.find(' ');
	const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
	if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
		return error_response(400, "Bad Request");
	const std::string_view method = line.substr(0, sp1);
	std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
	const std::string_view version = line.substr(sp2 + 1);
	if (!is_token(method) || target.empty() || target.front() != '/')
		return error_response(400, "Bad Request");
	if (version != "HTTP/1.1" && version != "HTTP/1.0") {
		const bool looks_like_http = version.size() == 8 &&
					     version.substr(0, 5) == "HTTP/" && version[6] == '.' &&
					     std::isdigit(static_cast<unsigned char>(version[5])) &&
					     std::isdigit(static_cast<unsigned char>(version[7]));
		return looks_like_http ? error_response(505, "HTTP Version Not Supported")
				       : error_response(400, "Bad Request");
	}
	// Headers: "Name: value" each; no body is taken.
	for (std::size_t pos = eol + 1; pos < head.size();) {
		std::size_t end = head.find('\n', pos);
		if (end == std::string_view::npos)
			end = head.size();
		std::string_view h = head.substr(pos, end - pos);
		pos = end + 1;
		if (!h.empty() && h.back() == '\r')
			h.remove_suffix(1);
		if (h.empty())
			break;
		const std::size_t colon = h.find(':');
		if (colon == std::string_view::npos || !is_token(h.substr(0, colon)))
			return error_response(400, "Bad Request");
		std::string name(h.substr(0, colon));
		std::transform(name.begin(), name.end(), name.begin(),
			       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
		std::string_view value = h.substr(colon + 1);
		while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
			value.remove_prefix(1);
		if (name == "transfer-encoding" || (name == "content-length" && value != "0"))
			return error_response(400, "Bad Request"); // a scrape has no body
	}
	target = target.substr(0, target.find('?'));
	if (target != "/metrics")
		return error_response(404, "Not Found");
	if (method != "GET" && method != "HEAD")
		return error_response(405, "Method Not Allowed", "Allow: GET, HEAD\r\n");
	return response(200, "OK", render(), method == "GET",
			"text/plain; version=0.0.4; charset=utf-8");
}

MetricsServer::MetricsServer(const Endpoint &listen, Render render, const MetricsLimits &limits)
	: render_(std::move(render)), limits_(limits)
{
	const std::string where = "MetricsListen " + listen.to_string();
	sockaddr_storage ss{};
	socklen_t len = 0;
	const bool v6 = listen.addr.family == ip_family_v6;
	if (v6) {
		auto *sin6 = reinterpret_cast<sockaddr_in6 *>(&ss);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(listen.port);
		std::memcpy(&sin6->sin6_addr, listen.addr.bytes.data(), 16);
		len = sizeof(*sin6);
	} else {
		auto *sin = reinterpret_cast<sockaddr_in *>(&ss);
		sin->sin_family = AF_INET;
		sin->sin_port = htons(listen.port);
		std::memcpy(&sin->sin_addr, listen.addr.bytes.data(), 4);
		len = sizeof(*sin);
	}
	listen_fd_ = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
	timer_fd_ = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	auto fail = [&](const char *step) {
		const int err = errno;
		for (int *fd : {&listen_fd_, &epoll_fd_, &timer_fd_})
			close_fd(*fd);
		throw std::runtime_error(where + ": " + step + ": " + std::strerror(err));
	};
	if (listen_fd_ < 0 || epoll_fd_ < 0 || timer_fd_ < 0)
		fail("socket");
	const int one = 1;
	setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (v6)
		setsockopt(listen_fd_, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(listen_fd_, reinterpret_cast<sockaddr *>(&ss), len) < 0)
		fail("bind");
	if (::listen(listen_fd_, LISTEN_BACKLOG) < 0)
		fail("listen");
	sockaddr_storage bound{};
	socklen_t bound_len = sizeof(bound);
	if (getsockname(listen_fd_, reinterpret_cast<sockaddr *>(&bound), &bound_len) < 0)
		fail("getsockname");
	port_ = ntohs(v6 ? reinterpret_cast<sockaddr_in6 *>(&bound)->sin6_port
			 : reinterpret_cast<sockaddr_in *>(&bound)->sin_port);
	for (int fd : {listen_fd_, timer_fd_}) {
		epoll_event ev{};
		ev.events = EPOLLIN;
		ev.data.fd = fd;
		if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) < 0)
			fail("epoll");
	}
}

MetricsServer::~MetricsServer()
{
	for (auto &[fd, c] : clients_)
		close(fd);
	clients_.clear();
	for (int *fd : {&listen_fd_, &timer_fd_, &epoll_fd_})
		close_fd(*fd);
}

void MetricsServer::service()
{
	epoll_event events[EVENTS_PER_SERVICE];
	const int n = epoll_wait(epoll_fd_, events, EVENTS_PER_SERVICE, 0);
	const std::uint64_t now = boottime_now_ns();
	bool accept = false;
	for (int i = 0; i < n; ++i) {
		const int fd = events[i].data.fd;
		if (fd == listen_fd_) {
			accept = true;
		} else if (fd == timer_fd_) {
			std::uint64_t expirations;
			(void)!read(timer_fd_, &expirations, sizeof(expirations));
			timer_deadline_ns_ = 0; // consumed: arm it again whatever the deadline
		} else {
			on_ready(fd, now);
		}
	}
	// Accept last: a connection closed above may give its fd number to a new one, which
	// must not receive the old one's events.
	if (accept)
		accept_all(now);
	expire(now);
	arm_timer();
}

void MetricsServer::accept_all(std::uint64_t now)
{
	for (;;) {
		const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && errno == EINTR)
			continue;
		if (fd < 0)
			return;
		if (!clients_.empty() && clients_.size() >= limits_.max_connections) {
			auto idlest = std::min_element(clients_.begin(), clients_.end(),
						       [](const auto &a, const auto &b) {
							       return a.second.last_progress_ns <
								      b.second.last_progress_ns;
						       });
			drop(idlest->first);
		}
		epoll_event ev{};
		ev.events = EPOLLIN;
		ev.data.fd = fd;
		if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			continue;
		}
		clients_[fd].last_progress_ns = now;
	}
}

void MetricsServer::on_ready(int fd, std::uint64_t now)
{
	auto it = clients_.find(fd);
	if (it == clients_.end())
		return;
	Connection &c = it->second;
	if (c.writing) {
		flush(fd, c, now);
		return;
	}
	if (!receive(fd, c, now))
		return;
	const std::size_t end = head_end(c.in);
	if (end == std::string::npos && c.in.size() < limits_.max_request)
		return; // wait for the rest
	try {
		c.out = end == std::string::npos
				? error_response(431, "Request Header Fields Too Large")
				: metrics_http_response(std::string_view(c.in).substr(0, end),
							render_);
	} catch (const std::exception &) {
		// The snapshot failed (a device went away meanwhile, no memory): this scrape
		// fails, the daemon goes on.
		c.out = error_response(500, "Internal Server Error");
	}
	std::string().swap(c.in);
	c.writing = true;
	if (!flush(fd, c, now))
		return;
	epoll_event ev{};
	ev.events = EPOLLOUT;
	ev.data.fd = fd;
	epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
}

// Reads what is there, never past the head limit; false if the connection is gone (error,
// or closed by the client before its request was complete).
bool MetricsServer::receive(int fd, Connection &c, std::uint64_t now)
{
	char chunk[4096];
	while (c.in.size() < limits_.max_request) {
		const std::size_t want = std::min(sizeof(chunk), limits_.max_request - c.in.size());
		const ssize_t n = recv(fd, chunk, want, 0);
		if (n > 0) {
			c.in.append(chunk, static_cast<std::size_t>(n));
			c.last_progress_ns = now;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return true;
		} else {
			// EOF or an error: a request cut short gets no answer.
			if (head_end(c.in) != std::string::npos)
				return true;
			drop(fd);
			return false;
		}
	}
	return true;
}

// Sends as much of the answer as the socket takes; false if the connection is gone
// (error, or the answer written).
bool MetricsServer::flush(int fd, Connection &c, std::uint64_t now)
{
	switch (send_pending(fd, c.out, c.written, c.last_progress_ns, now)) {
	case SendResult::would_block:
		return true;
	case SendResult::failed:
		drop(fd);
		return false;
	case SendResult::all_sent:
		break;
	}
	shutdown(fd, SHUT_WR);
	drop(fd);
	return false;
}

void MetricsServer::expire(std::uint64_t now)
{
	for (int fd : idle_clients(clients_, now, limits_.idle_timeout_ns))
		drop(fd);
}

void MetricsServer::arm_timer()
{
	arm_deadline(timer_fd_, earliest_idle_deadline(clients_, limits_.idle_timeout_ns),
		     timer_deadline_ns_);
}

void MetricsServer::drop(int fd)
{
	epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
	close(fd);
	clients_.erase(fd);
}

} // namespace xwg
