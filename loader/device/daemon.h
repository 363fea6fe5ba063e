// device/daemon.h — one running xwg interface: set-up from a parsed config (devices, programs,
// pins, sockets, files), the event loop, and teardown. Set-up records an undo step for
// everything it creates, so a failure at any point, a signal, or `xwg down` removes every
// trace in reverse order.
//
// Files: /run/xwg/IFNAME.pid (daemon pid), /run/xwg/IFNAME.state (JSON: hidden device,
// underlays, pin directory; read by `xwg show` and `xwg down`), /run/xwg/IFNAME.log
// (the background daemon's log), /var/run/wireguard/IFNAME.sock (UAPI), pins under
// /sys/fs/bpf/xwg/IFNAME/.
#pragma once

#include "loader/control/config_file.h"
#include "loader/device/timers.h"

#include <signal.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace xwg {

inline constexpr const char *XWG_RUN_DIR = "/run/xwg";
inline constexpr const char *XWG_PIN_ROOT = "/sys/fs/bpf/xwg";

std::string pid_file_path(const std::string &ifname);
std::string state_file_path(const std::string &ifname);
std::string log_file_path(const std::string &ifname);
std::string pin_dir_path(const std::string &ifname);

// The signals that take the daemon down (SIGTERM, SIGINT, SIGHUP): blocked from start-up
// on, and read by the event loop through a signalfd.
sigset_t daemon_stop_signals();

class Daemon {
public:
	// Sets everything up; throws std::runtime_error (after undoing what was done).
	Daemon(const std::string &ifname, const ParsedConfig &parsed, const TimerSettings &timers);
	~Daemon(); // teardown
	Daemon(const Daemon &) = delete;
	Daemon &operator=(const Daemon &) = delete;

	// Serves until SIGTERM/SIGINT; returns the exit status.
	int run();

private:
	struct Impl;
	std::unique_ptr<Impl> impl_;
};

} // namespace xwg
