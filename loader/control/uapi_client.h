// control/uapi_client.h — one request to a running interface's UAPI socket
// (/var/run/wireguard/IFNAME.sock), the way `wg` sends it: connect, write the request,
// read the answer up to its empty line. Every step is bounded by one deadline, so a daemon
// that hangs makes the command fail rather than wait forever.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace xwg {

// Sends @request ("get=1\n\n" or "set=1\n...\n\n") to @ifname's daemon and returns its
// answer, ending in "errno=N\n\n". Throws std::runtime_error naming the interface and the
// socket when the daemon cannot be reached, hangs up early or does not answer in @limit.
std::string uapi_exchange(const std::string &ifname, std::string_view request,
			  std::chrono::milliseconds limit = std::chrono::seconds(30));

} // namespace xwg
