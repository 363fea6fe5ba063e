// uapi_client.h — a bare UAPI client for tests: a blocking unix socket with bounded waits
// (send a request, read one answer the way `wg` does, read to the end, look at what is
// queued, wait for the server to hang up). Closed by its guard.
#pragma once

#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

namespace xwgtest {

class UapiClient {
public:
	using Clock = std::chrono::steady_clock;

	explicit UapiClient(const std::string &path)
	{
		fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		sockaddr_un sun{};
		sun.sun_family = AF_UNIX;
		std::strncpy(sun.sun_path, path.c_str(), sizeof(sun.sun_path) - 1);
		if (fd_ < 0 || connect(fd_, reinterpret_cast<sockaddr *>(&sun), sizeof(sun)) < 0) {
			const int err = errno;
			if (fd_ >= 0)
				close(fd_);
			throw std::runtime_error("connect " + path + ": " + std::strerror(err));
		}
	}
	~UapiClient() { close(fd_); }
	UapiClient(const UapiClient &) = delete;
	UapiClient &operator=(const UapiClient &) = delete;

	int fd() const { return fd_; }

	// Sends everything it can; false once the server has closed.
	bool send_all(std::string_view s) const
	{
		while (!s.empty()) {
			ssize_t n = send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return false;
			s.remove_prefix(static_cast<std::size_t>(n));
		}
		return true;
	}

	// Waits up to `limit` for something to read (or the end); true if there is.
	bool readable(std::chrono::milliseconds limit) const { return wait(POLLIN, limit); }

	// Waits up to `limit` for the server to close its end (without reading); true if it did.
	bool hung_up(std::chrono::milliseconds limit) const { return wait(POLLRDHUP, limit); }

	// Reads up to the first empty line (one answer, as `wg` reads it), the server's close,
	// or `limit`; returns what came. Bytes after the answer are kept for the next call.
	std::string read_answer(std::chrono::milliseconds limit = std::chrono::seconds(2))
	{
		const auto deadline = Clock::now() + limit;
		std::size_t end;
		while ((end = buffered_.find("\n\n")) == std::string::npos) {
			char buf[65536];
			ssize_t n = readable(left(deadline)) ? recv(fd_, buf, sizeof(buf), 0) : 0;
			if (n <= 0) {
				std::string partial;
				partial.swap(buffered_);
				return partial;
			}
			buffered_.append(buf, static_cast<std::size_t>(n));
		}
		std::string answer = buffered_.substr(0, end + 2);
		buffered_.erase(0, end + 2);
		return answer;
	}

	// Reads everything until the server closes: the byte count (with what read_answer()
	// kept), or -1 if `limit` passed first.
	long long read_to_end(std::chrono::milliseconds limit)
	{
		long long total = static_cast<long long>(buffered_.size());
		buffered_.clear();
		const auto deadline = Clock::now() + limit;
		for (;;) {
			if (!readable(left(deadline)))
				return -1;
			char buf[65536];
			ssize_t n = recv(fd_, buf, sizeof(buf), 0);
			if (n == 0 || (n < 0 && errno == ECONNRESET))
				return total;
			if (n < 0)
				return -1;
			total += n;
		}
	}

	// Bytes waiting in this socket's receive queue (not yet read).
	std::size_t queued() const
	{
		int n = 0;
		ioctl(fd_, FIONREAD, &n);
		return static_cast<std::size_t>(n);
	}

private:
	static std::chrono::milliseconds left(Clock::time_point deadline)
	{
		auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
										Clock::now());
		return ms.count() > 0 ? ms : std::chrono::milliseconds(0);
	}

	bool wait(short events, std::chrono::milliseconds limit) const
	{
		pollfd p{fd_, events, 0};
		int n;
		do
			n = poll(&p, 1, static_cast<int>(limit.count()));
		while (n < 0 && errno == EINTR);
		return n > 0;
	}

	int fd_ = -1;
	std::string buffered_; // read, beyond the answers returned so far
};

} // namespace xwgtest
