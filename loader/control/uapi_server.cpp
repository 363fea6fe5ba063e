// control/uapi_server.cpp — the non-blocking UAPI socket server; see uapi_server.h.
//
// A connection's life: accepted non-blocking and watched for input; bytes are appended
// to its input buffer until an empty line ends a request; the handler's answer goes to
// the output buffer and is sent as far as the socket takes it. While an answer is
// pending the connection is watched for output only, so its next requests wait in the
// socket; once the answer is out, requests already buffered are answered in order, then
// input is watched again. Every byte moved stamps the connection's progress; the timerfd
// is armed for the earliest "progress + idle timeout" and closes what has none.
#include "loader/control/uapi_server.h"

#include "loader/control/connection_io.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace xwg {

namespace {

constexpr int LISTEN_BACKLOG = 16;
// Events taken from the inner epoll per service() call; the rest stay ready (the daemon's
// epoll is level-triggered) and are served at its next turn, after the tunnel's own fds.
constexpr int EVENTS_PER_SERVICE = 16;
// Bytes read from one connection per turn, so a fast writer cannot hog the loop.
constexpr std::size_t READ_BUDGET = 256u << 10;
// "get=1\n\n", the longest request prefix uapi_frame() can judge before the request ends.
constexpr std::size_t FRAME_PROBE = 7;

std::uint64_t boottime_now_ns()
{
	timespec ts{};
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
	       static_cast<std::uint64_t>(ts.tv_nsec);
}

sockaddr_un unix_address(const std::string &path)
{
	sockaddr_un sun{};
	sun.sun_family = AF_UNIX;
	if (path.size() >= sizeof(sun.sun_path))
		throw std::runtime_error(path + ": path too long");
	std::memcpy(sun.sun_path, path.c_str(), path.size() + 1);
	return sun;
}

// Someone listens on path already (a running interface of that name).
bool socket_answers(const std::string &path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	sockaddr_un sun = unix_address(path);
	bool ok = connect(fd, reinterpret_cast<sockaddr *>(&sun), sizeof(sun)) == 0;
	close(fd);
	return ok;
}

// "wg0" for ".../wg0.sock".
std::string interface_of(const std::string &path)
{
	std::string name = path.substr(path.rfind('/') + 1);
	if (name.ends_with(".sock"))
		name.resize(name.size() - 5);
	return name;
}

void close_fd(int &fd)
{
	if (fd >= 0)
		close(fd);
	fd = -1;
}

} // namespace

std::string UapiServer::socket_path(const std::string &ifname)
{
	return "/var/run/wireguard/" + ifname + ".sock";
}

UapiServer::UapiServer(const std::string &ifname, Handler handler)
	: UapiServer(socket_path(ifname), std::move(handler), UapiLimits{})
{
}

UapiServer::UapiServer(const std::string &path, Handler handler, const UapiLimits &limits)
	: path_(path), handler_(std::move(handler)), limits_(limits)
{
	if (std::size_t slash = path_.rfind('/'); slash != std::string::npos && slash > 0) {
		const std::string dir = path_.substr(0, slash);
		if (mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST)
			throw std::runtime_error(dir + ": " + std::strerror(errno));
	}
	if (socket_answers(path_))
		throw std::runtime_error(path_ + ": in use (is " + interface_of(path_) +
					 " up already?)");
	unlink(path_.c_str());
	listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
	timer_fd_ = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (listen_fd_ < 0 || epoll_fd_ < 0 || timer_fd_ < 0) {
		int err = errno;
		for (int *fd : {&listen_fd_, &epoll_fd_, &timer_fd_})
			close_fd(*fd);
		throw std::runtime_error(std::string("uapi socket: ") + std::strerror(err));
	}
	sockaddr_un sun = unix_address(path_);
	mode_t old = umask(0077);
	int rc = bind(listen_fd_, reinterpret_cast<sockaddr *>(&sun), sizeof(sun));
	int err = errno;
	umask(old);
	if (rc < 0 || listen(listen_fd_, LISTEN_BACKLOG) < 0) {
		if (rc == 0)
			err = errno;
		for (int *fd : {&listen_fd_, &epoll_fd_, &timer_fd_})
			close_fd(*fd);
		if (rc == 0)
			unlink(path_.c_str());
		throw std::runtime_error(path_ + ": " + std::strerror(err));
	}
	chmod(path_.c_str(), 0600);
	for (int fd : {listen_fd_, timer_fd_}) {
		epoll_event ev{};
		ev.events = EPOLLIN;
		ev.data.fd = fd;
		epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
	}
}

UapiServer::~UapiServer()
{
	for (auto &[fd, c] : clients_)
		close(fd);
	clients_.clear();
	if (listen_fd_ >= 0) {
		close_fd(listen_fd_);
		unlink(path_.c_str());
	}
	close_fd(timer_fd_);
	close_fd(epoll_fd_);
}

void UapiServer::service()
{
	epoll_event events[EVENTS_PER_SERVICE];
	int n = epoll_wait(epoll_fd_, events, EVENTS_PER_SERVICE, 0);
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
			on_ready(fd, events[i].events, now);
		}
	}
	// Accept last: a connection closed above may give its fd number to a new one, which
	// must not receive the old one's events.
	if (accept)
		accept_all(now);
	expire(now);
	arm_timer();
}

void UapiServer::accept_all(std::uint64_t now)
{
	for (;;) {
		int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && errno == EINTR)
			continue;
		if (fd < 0)
			return;
		if (!clients_.empty() && clients_.size() >= limits_.max_connections) {
			// Make room: the connection idle longest goes.
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
		Connection &c = clients_[fd];
		c.events = EPOLLIN;
		c.last_progress_ns = now;
	}
}

void UapiServer::on_ready(int fd, std::uint32_t events, std::uint64_t now)
{
	auto it = clients_.find(fd);
	if (it == clients_.end())
		return;
	Connection &c = it->second;
	// A hang-up or error shows up on whichever of send() and recv() is next.
	const std::uint32_t failed = EPOLLHUP | EPOLLERR;
	if (!c.out.empty() && (events & (EPOLLOUT | failed)) && !flush(fd, c, now))
		return;
	if (c.out.empty() && (events & (EPOLLIN | failed)) && !receive(fd, c, now))
		return;
	if (answer(fd, c, now))
		watch_for(fd, c);
}

// Reads what is there, up to the budget and never past the request cap; false if the
// connection is gone.
bool UapiServer::receive(int fd, Connection &c, std::uint64_t now)
{
	char chunk[16384];
	std::size_t budget = READ_BUDGET;
	while (budget > 0 && !c.eof && c.in.size() < limits_.max_request) {
		const std::size_t want =
			std::min({sizeof(chunk), budget, limits_.max_request - c.in.size()});
		ssize_t n = recv(fd, chunk, want, 0);
		if (n > 0) {
			c.in.append(chunk, static_cast<std::size_t>(n));
			budget -= static_cast<std::size_t>(n);
			c.last_progress_ns = now;
		} else if (n == 0) {
			c.eof = true;
		} else if (errno == EINTR) {
			continue;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			break;
		} else {
			drop(fd);
			return false;
		}
	}
	return true;
}

// Answers buffered requests while nothing else is being written; false if the
// connection is gone (invalid request, answer written and the connection done, error).
bool UapiServer::answer(int fd, Connection &c, std::uint64_t now)
{
	while (c.out.empty()) {
		// Only the new bytes are searched: a large set arrives in many pieces.
		const std::size_t end = c.in.find("\n\n", c.scanned ? c.scanned - 1 : 0);
		if (end == std::string::npos) {
			c.scanned = c.in.size();
			std::string_view start = std::string_view(c.in).substr(0, FRAME_PROBE);
			if (uapi_frame(start).status == UapiFrame::Status::invalid) {
				drop(fd); // an unknown operation: wireguard-go closes, too
				return false;
			}
			if (c.in.size() < limits_.max_request)
				break; // wait for the rest
		}
		if (end == std::string::npos || end + 2 > limits_.max_request) {
			c.in.clear();
			c.in.shrink_to_fit();
			c.out = uapi_errno_response(-EMSGSIZE);
			c.closing = true;
			return flush(fd, c, now);
		}
		UapiFrame frame = uapi_frame(std::string_view(c.in).substr(0, end + 2));
		if (frame.status != UapiFrame::Status::complete) {
			drop(fd);
			return false;
		}
		c.out = handler_(frame.op, frame.body);
		c.in.erase(0, frame.consumed);
		c.in.shrink_to_fit();
		c.scanned = 0;
		if (!flush(fd, c, now))
			return false;
	}
	if (c.eof && c.out.empty()) {
		drop(fd); // the client has said all it will and has every answer
		return false;
	}
	return true;
}

// Sends as much of the pending answer as the socket takes; false if the connection is
// gone (error, or its last answer written).
bool UapiServer::flush(int fd, Connection &c, std::uint64_t now)
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
	std::string().swap(c.out);
	c.written = 0;
	if (c.closing) {
		drop(fd);
		return false;
	}
	return true;
}

// Input while no answer is pending, else output only.
void UapiServer::watch_for(int fd, Connection &c)
{
	const std::uint32_t want = c.out.empty() ? EPOLLIN : EPOLLOUT;
	if (want == c.events)
		return;
	epoll_event ev{};
	ev.events = want;
	ev.data.fd = fd;
	if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) == 0)
		c.events = want;
}

void UapiServer::expire(std::uint64_t now)
{
	for (int fd : idle_clients(clients_, now, limits_.idle_timeout_ns))
		drop(fd);
}

void UapiServer::arm_timer()
{
	arm_deadline(timer_fd_, earliest_idle_deadline(clients_, limits_.idle_timeout_ns),
		     timer_deadline_ns_);
}

void UapiServer::drop(int fd)
{
	epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
	close(fd);
	clients_.erase(fd);
}

} // namespace xwg
