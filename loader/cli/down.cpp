// cli/down.cpp — `xwg down IFNAME`: ask the daemon to go (SIGTERM, as its pid file names
// it) and wait, bounded, until it has removed everything and let go of its lock. If no
// daemon holds the lock (it died), remove what it left behind (device/leftovers.h).
#include "loader/cli/commands.h"

#include "loader/control/config_file.h"
#include "loader/device/daemon.h"
#include "loader/device/daemon_lock.h"
#include "loader/device/leftovers.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <thread>

namespace xwg {

namespace {

constexpr auto DOWN_TIMEOUT = std::chrono::seconds(15);

int down(const std::string &ifname)
{
	if (!interface_name_valid(ifname)) {
		std::fprintf(stderr, "xwg down: '%s' is not a valid interface name\n", ifname.c_str());
		return 1;
	}
	// No daemon: remove what one left behind, holding the lock so no `xwg up` starts
	// meanwhile.
	if (auto lock = DaemonLock::acquire(ifname)) {
		if (!leftovers_exist(ifname)) {
			lock->remove();
			std::fprintf(stderr, "xwg down: %s is not up\n", ifname.c_str());
			return 1;
		}
		std::fprintf(stderr, "xwg down: %s has no daemon; removing what it left behind\n",
			     ifname.c_str());
		remove_leftovers(ifname);
		lock->remove();
		return 0;
	}
	long pid = 0;
	std::ifstream(pid_file_path(ifname)) >> pid;
	if (pid <= 0 || kill(static_cast<pid_t>(pid), SIGTERM) < 0) {
		std::fprintf(stderr, "xwg down: signalling the daemon of %s (pid %ld): %s\n",
			     ifname.c_str(), pid, pid <= 0 ? "no pid file" : std::strerror(errno));
		return 1;
	}
	// Gone once its lock is free: the daemon removes it as its last step.
	auto deadline = std::chrono::steady_clock::now() + DOWN_TIMEOUT;
	while (std::chrono::steady_clock::now() < deadline) {
		if (!daemon_alive(ifname))
			return 0;
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
	}
	std::fprintf(stderr, "xwg down: %s (pid %ld) did not go down within %lld s\n",
		     ifname.c_str(), pid, static_cast<long long>(DOWN_TIMEOUT.count()));
	return 1;
}

} // namespace

void add_down_command(CLI::App &app)
{
	auto *cmd = app.add_subcommand("down", "Take an interface down and remove every trace");
	static std::string ifname;
	cmd->add_option("interface", ifname, "Interface name")->required();
	cmd->callback([] {
		int rc = down(ifname);
		if (rc != 0)
			throw CLI::RuntimeError(rc);
	});
}

} // namespace xwg
