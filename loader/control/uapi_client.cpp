// control/uapi_client.cpp — see uapi_client.h.
#include "loader/control/uapi_client.h"

#include "loader/control/uapi_server.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace xwg {

namespace {

using Clock = std::chrono::steady_clock;

// Waits for @events on @fd until @deadline; false when it passed.
bool wait_for(int fd, short events, Clock::time_point deadline)
{
	for (;;) {
		const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
			deadline - Clock::now());
		if (left.count() <= 0)
			return false;
		pollfd p{fd, events, 0};
		const int n = poll(&p, 1, static_cast<int>(left.count()));
		if (n > 0)
			return true;
		if (n < 0 && errno != EINTR)
			return false;
	}
}

struct Fd {
	int fd;
	~Fd()
	{
		if (fd >= 0)
			close(fd);
	}
};

} // namespace

std::string uapi_exchange(const std::string &ifname, std::string_view request,
			  std::chrono::milliseconds limit)
{
	const std::string path = UapiServer::socket_path(ifname);
	auto fail = [&](const std::string &what) {
		return std::runtime_error(ifname + ": " + what + " (" + path + ")");
	};
	const auto deadline = Clock::now() + limit;
	Fd s{socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)};
	if (s.fd < 0)
		throw fail(std::string("socket: ") + std::strerror(errno));
	sockaddr_un sun{};
	sun.sun_family = AF_UNIX;
	if (path.size() >= sizeof(sun.sun_path))
		throw fail("socket path too long");
	std::memcpy(sun.sun_path, path.c_str(), path.size() + 1);
	if (connect(s.fd, reinterpret_cast<sockaddr *>(&sun), sizeof(sun)) < 0 &&
	    errno != EINPROGRESS)
		throw fail(std::string("cannot reach the daemon: ") + std::strerror(errno) +
			   (errno == ENOENT ? "; is it up?" : ""));

	while (!request.empty()) {
		if (!wait_for(s.fd, POLLOUT, deadline))
			throw fail("the daemon does not take the request");
		const ssize_t n = send(s.fd, request.data(), request.size(), MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			throw fail(std::string("sending to the daemon: ") + std::strerror(errno));
		request.remove_prefix(static_cast<std::size_t>(n));
	}

	std::string answer;
	while (answer.size() < 2 || answer.compare(answer.size() - 2, 2, "\n\n") != 0) {
		if (!wait_for(s.fd, POLLIN, deadline))
			throw fail("no answer from the daemon within " +
				   std::to_string(limit.count()) + " ms");
		char buf[65536];
		const ssize_t n = recv(s.fd, buf, sizeof(buf), 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			throw fail("the daemon hung up before answering");
		answer.append(buf, static_cast<std::size_t>(n));
	}
	return answer;
}

} // namespace xwg
