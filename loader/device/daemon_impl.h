// device/daemon_impl.h — the daemon's insides, shared by the files that implement it
// (daemon.cpp: set-up, event loop, teardown; daemon_takeover.cpp: taking over a running
// data plane). Not for anyone else: the public face is daemon.h.
#pragma once

#include "loader/device/daemon.h"

#include "loader/control/uapi_server.h"
#include "loader/control/wg_quick_hooks.h"
#include "loader/device/daemon_lock.h"
#include "loader/device/daemon_metrics.h"
#include "loader/device/device.h"
#include "loader/device/receive_reassembled.h"
#include "loader/kernel/dataplane.h"
#include "loader/kernel/netdev.h"
#include "loader/kernel/udp_socket.h"

#include <bpf/libbpf.h>
#include <nlohmann/json.hpp>
#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace xwg {

// "xwg: ..." on stderr (the daemon's log).
void daemon_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
// Replaces @path whole (a temporary file renamed over it), created with @mode.
void write_file_atomic(const std::string &path, const std::string &text, mode_t mode = 0644);
// The whole file; throws std::runtime_error when it cannot be read.
std::string read_text_file(const std::string &path);

struct Daemon::Impl {
	std::string ifname;
	std::string hidden;
	TimerSettings timers;
	std::vector<std::function<void()>> undo; // run in reverse at teardown
	std::optional<DaemonLock> lock;
	bool took_over = false;
	bool restart = false; // teardown leaves the data plane to the next daemon
	Netlink nl;
	std::unique_ptr<Dataplane> dp;
	UdpSockets udp;
	RouteWatch route_watch;
	bool routes_changed = false; // looked up again at the next tick
	std::uint32_t socket_drops_seen[2] = {}; // SO_RXQ_OVFL of the IPv4 and IPv6 socket
	std::unique_ptr<Device> device;
	std::unique_ptr<ReassembledReceiver> reassembled;
	std::unique_ptr<UapiServer> uapi;
	std::unique_ptr<DaemonMetrics> metrics; // MetricsListen's endpoint, the counters file
	std::uint64_t ticks = 0;
	ring_buffer *ring = nullptr;
	int epoll_fd = -1, timer_fd = -1, signal_fd = -1;
	int visible_ifindex = 0;
	RouteTable table;
	// wg-quick's part (control/wg_quick_hooks.h): PreUp before the device exists, DNS once
	// it has its addresses, PostUp last. A failed up undoes everything without the down
	// hooks (wg-quick's trap runs only del_if); a down after a complete up runs PreDown,
	// SaveConfig, then the undo log with DNS removed and, last, PostDown.
	WgQuickSettings wg_quick;
	std::string config_path; // for SaveConfig
	bool file_mtu = false;	 // the file set MTU (SaveConfig writes it back)
	bool up_complete = false;

	KeepServing keep_serving();
	void going_down();

	void setup(const ParsedConfig &parsed);
	bool can_take_over() const;
	void take_over(const ParsedConfig &parsed);
	void create_device();
	void start_serving(const nlohmann::json &state_underlays, const ParsedConfig &parsed);
	void save_running_state();
	void teardown();
	void watch(int fd);
	void unwatch(int fd);
	std::string handle_uapi(UapiOp op, std::string_view body);
	void follow_tunnel_mtu();
	void drain_udp(int fd);
};

} // namespace xwg
