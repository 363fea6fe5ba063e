// control/connection_io.cpp — see connection_io.h.
#include "loader/control/connection_io.h"

#include <sys/socket.h>
#include <sys/timerfd.h>

#include <cerrno>

namespace xwg {

SendResult send_pending(int fd, const std::string &out, std::size_t &written,
			std::uint64_t &last_progress_ns, std::uint64_t now)
{
	while (written < out.size()) {
		const ssize_t n = send(fd, out.data() + written, out.size() - written,
				       MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			written += static_cast<std::size_t>(n);
			last_progress_ns = now;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return SendResult::would_block;
		} else {
			return SendResult::failed;
		}
	}
	return SendResult::all_sent;
}

void arm_deadline(int timer_fd, std::uint64_t deadline_ns, std::uint64_t &armed_for_ns)
{
	if (deadline_ns == armed_for_ns)
		return;
	itimerspec its{}; // all zero: disarmed
	its.it_value.tv_sec = static_cast<time_t>(deadline_ns / 1'000'000'000ULL);
	its.it_value.tv_nsec = static_cast<long>(deadline_ns % 1'000'000'000ULL);
	if (timerfd_settime(timer_fd, TFD_TIMER_ABSTIME, &its, nullptr) == 0)
		armed_for_ns = deadline_ns;
}

} // namespace xwg
