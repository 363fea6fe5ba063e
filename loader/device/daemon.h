// device/daemon.h — one running xwg interface: set-up from a parsed config (devices, programs,
// pins, sockets, files), the event loop, and teardown. Set-up records an undo step for
// everything it creates, so a failure at any point, a signal, or `xwg down` removes every
// trace in reverse order.
//
// A daemon started for an interface whose data plane outlived its daemon (kill -9, a
// crash, `xwg restart`, an upgrade) takes it over instead: the programs are replaced in
// place, the maps kept, the device rebuilt around them (Device::adopt), so the tunnel
// never stops forwarding. Only maps of this build's layout are taken over.
//
// Files: /run/xwg/IFNAME.lock (held by the live daemon: daemon_lock.h), IFNAME.pid
// (its pid), IFNAME.state (JSON: hidden device, underlays, pin directory, start time;
// read by `xwg show`, `xwg down`, `xwg restart`), IFNAME.running (the running
// configuration and peer ids, 0600: control/running_state.h), IFNAME.log (the background
// daemon's log); /var/run/wireguard/IFNAME.sock (UAPI); pins under /sys/fs/bpf/xwg/IFNAME/.
#pragma once

#include "loader/control/config_file.h"
#include "loader/device/timers.h"

#include <signal.h>

#include <stdexcept>

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
std::string running_file_path(const std::string &ifname);

// The signals that end the daemon's loop, blocked from start-up on and read through a
// signalfd: SIGTERM, SIGINT and SIGHUP take the interface down; RESTART_SIGNAL leaves it
// running for the daemon that follows (`xwg restart`).
sigset_t daemon_stop_signals();
inline constexpr int RESTART_SIGNAL = SIGUSR2;

// Another daemon serves the interface (its lock is held).
class AlreadyRunning : public std::runtime_error {
public:
	using std::runtime_error::runtime_error;
};

class Daemon {
public:
	// Sets everything up; throws std::runtime_error (after undoing what was done).
	Daemon(const std::string &ifname, const ParsedConfig &parsed, const TimerSettings &timers);
	~Daemon(); // teardown
	Daemon(const Daemon &) = delete;
	Daemon &operator=(const Daemon &) = delete;

	// Serves until a signal ends the loop; returns the exit status.
	int run();
	// run() ended for a restart: destroy the daemon (it leaves the data plane as it is)
	// and start the next one with the lock (DaemonLock::release_for_exec).
	bool restart_requested() const;
	// How the interface came up: false: set up anew, true: taken over.
	bool took_over() const;
	// Hands the lock to the next program (before execve, after destruction is not
	// possible: call it, destroy the daemon, exec).
	void hand_over_lock();

private:
	struct Impl;
	std::unique_ptr<Impl> impl_;
};

} // namespace xwg
