// control/uapi_server.h — the unix socket `wg` talks to: /var/run/wireguard/IFNAME.sock, mode 0600
// in a 0755 directory. Requests are framed by uapi_frame() and answered by the daemon's
// handler; connections are non-blocking and served from the daemon's event loop through
// one pollable fd (an inner epoll), so a slow client never stalls the tunnel. A request
// larger than the cap closes its connection.
#pragma once

#include "loader/control/uapi_protocol.h"

#include <functional>
#include <map>
#include <string>

namespace xwg {

inline constexpr std::size_t UAPI_MAX_REQUEST = 4u << 20;

class UapiServer {
public:
	// The answer for one complete request (get or set), including the final "\n\n".
	using Handler = std::function<std::string(UapiOp op, std::string_view body)>;

	// Throws std::runtime_error when the socket exists and answers (interface in use)
	// or cannot be made; a stale socket file is replaced.
	UapiServer(const std::string &ifname, Handler handler);
	~UapiServer(); // closes every connection and removes the socket file
	UapiServer(const UapiServer &) = delete;
	UapiServer &operator=(const UapiServer &) = delete;

	static std::string socket_path(const std::string &ifname);
	int fd() const { return epoll_fd_; }
	const std::string &path() const { return path_; }
	// Accepts, reads and answers whatever is ready; never blocks.
	void service();

private:
	void accept_all();
	void serve(int fd);
	void drop(int fd);

	std::string path_;
	Handler handler_;
	int listen_fd_ = -1;
	int epoll_fd_ = -1;
	std::map<int, std::string> clients_; // fd -> bytes received, not yet answered
};

} // namespace xwg
