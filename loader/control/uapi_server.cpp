// control/uapi_server.cpp — see uapi_server.h.
#include "loader/control/uapi_server.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace xwg {

namespace {

constexpr const char *UAPI_DIR = "/var/run/wireguard";

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

bool write_all(int fd, const std::string &s)
{
	std::size_t off = 0;
	while (off < s.size()) {
		ssize_t n = send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			// The client does not read; give it a moment, then give up on it.
			fd_set set;
			FD_ZERO(&set);
			FD_SET(fd, &set);
			timeval tv{1, 0};
			if (select(fd + 1, nullptr, &set, nullptr, &tv) <= 0)
				return false;
			continue;
		}
		if (n <= 0)
			return false;
		off += static_cast<std::size_t>(n);
	}
	return true;
}

} // namespace

std::string UapiServer::socket_path(const std::string &ifname)
{
	return std::string(UAPI_DIR) + "/" + ifname + ".sock";
}

UapiServer::UapiServer(const std::string &ifname, Handler handler)
	: path_(socket_path(ifname)), handler_(std::move(handler))
{
	if (mkdir(UAPI_DIR, 0755) < 0 && errno != EEXIST)
		throw std::runtime_error(std::string(UAPI_DIR) + ": " + std::strerror(errno));
	if (socket_answers(path_))
		throw std::runtime_error(path_ + ": in use (is " + ifname + " up already?)");
	unlink(path_.c_str());
	listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
	if (listen_fd_ < 0 || epoll_fd_ < 0) {
		int err = errno;
		if (listen_fd_ >= 0)
			close(listen_fd_);
		if (epoll_fd_ >= 0)
			close(epoll_fd_);
		listen_fd_ = epoll_fd_ = -1;
		throw std::runtime_error(std::string("uapi socket: ") + std::strerror(err));
	}
	sockaddr_un sun = unix_address(path_);
	mode_t old = umask(0077);
	int rc = bind(listen_fd_, reinterpret_cast<sockaddr *>(&sun), sizeof(sun));
	int err = errno;
	umask(old);
	if (rc < 0 || listen(listen_fd_, 16) < 0) {
		if (rc == 0)
			err = errno;
		close(listen_fd_);
		close(epoll_fd_);
		listen_fd_ = epoll_fd_ = -1;
		if (rc == 0)
			unlink(path_.c_str());
		throw std::runtime_error(path_ + ": " + std::strerror(err));
	}
	chmod(path_.c_str(), 0600);
	epoll_event ev{};
	ev.events = EPOLLIN;
	ev.data.fd = listen_fd_;
	epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev);
}

UapiServer::~UapiServer()
{
	for (auto &[fd, buf] : clients_)
		close(fd);
	clients_.clear();
	if (listen_fd_ >= 0) {
		close(listen_fd_);
		unlink(path_.c_str());
	}
	if (epoll_fd_ >= 0)
		close(epoll_fd_);
	listen_fd_ = epoll_fd_ = -1;
}

void UapiServer::service()
{
	epoll_event events[16];
	int n = epoll_wait(epoll_fd_, events, 16, 0);
	for (int i = 0; i < n; ++i) {
		if (events[i].data.fd == listen_fd_)
			accept_all();
		else
			serve(events[i].data.fd);
	}
}

void UapiServer::accept_all()
{
	for (;;) {
		int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		epoll_event ev{};
		ev.events = EPOLLIN | EPOLLRDHUP;
		ev.data.fd = fd;
		epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
		clients_[fd];
	}
}

void UapiServer::drop(int fd)
{
	epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
	close(fd);
	clients_.erase(fd);
}

void UapiServer::serve(int fd)
{
	auto it = clients_.find(fd);
	if (it == clients_.end())
		return;
	std::string &buf = it->second;
	char chunk[16384];
	bool closed = false;
	for (;;) {
		ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
		if (n > 0) {
			buf.append(chunk, static_cast<std::size_t>(n));
			if (buf.size() > UAPI_MAX_REQUEST) {
				drop(fd);
				return;
			}
			continue;
		}
		if (n == 0)
			closed = true;
		else if (errno == EINTR)
			continue;
		else if (errno != EAGAIN)
			closed = true;
		break;
	}
	// Answer every complete request in order; wg sends one per connection.
	for (;;) {
		UapiFrame frame = uapi_frame(buf);
		if (frame.status == UapiFrame::Status::invalid) {
			drop(fd);
			return;
		}
		if (frame.status == UapiFrame::Status::incomplete)
			break;
		std::string answer = handler_(frame.op, frame.body);
		buf.erase(0, frame.consumed);
		if (!write_all(fd, answer)) {
			drop(fd);
			return;
		}
	}
	if (closed)
		drop(fd);
}

} // namespace xwg
