// control/connection_io.h — the parts the daemon's non-blocking socket servers (UAPI,
// metrics) share: sending a pending answer without blocking, and the idle timeout over
// their connections on one timerfd. Each Connection has `last_progress_ns`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace xwg {

enum class SendResult {
	all_sent,    // out[written..] is gone
	would_block, // the socket is full: wait for EPOLLOUT
	failed,      // an error: drop the connection
};

// Sends as much of out[written..] as the socket takes, advancing @written, and
// @last_progress_ns to @now whenever bytes go.
SendResult send_pending(int fd, const std::string &out, std::size_t &written,
			std::uint64_t &last_progress_ns, std::uint64_t now);

// Arms @timer_fd (absolute, on its clock) for @deadline_ns, 0 disarming it, unless it is
// armed for that already (@armed_for_ns remembers what it is armed for).
void arm_deadline(int timer_fd, std::uint64_t deadline_ns, std::uint64_t &armed_for_ns);

// The earliest moment one of @clients (a map fd -> Connection) goes idle, 0 if none.
template <class Clients>
std::uint64_t earliest_idle_deadline(const Clients &clients, std::uint64_t timeout_ns)
{
	std::uint64_t deadline = 0;
	for (const auto &[fd, c] : clients) {
		const std::uint64_t d = c.last_progress_ns + timeout_ns;
		if (!deadline || d < deadline)
			deadline = d;
	}
	return deadline;
}

// The fds of @clients that made no progress for @timeout_ns at @now.
template <class Clients>
std::vector<int> idle_clients(const Clients &clients, std::uint64_t now, std::uint64_t timeout_ns)
{
	std::vector<int> idle;
	for (const auto &[fd, c] : clients)
		if (now - c.last_progress_ns >= timeout_ns)
			idle.push_back(fd);
	return idle;
}

} // namespace xwg
