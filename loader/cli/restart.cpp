// cli/restart.cpp — `xwg restart IFNAME`: the daemon executes the xwg program again (as
// installed now, so this is also how an upgrade takes effect) and the new one takes over
// the running data plane: no packet is lost, sessions and counters carry on. Waits,
// bounded, until the new daemon reports it is serving.
#include "loader/cli/commands.h"

#include "loader/control/config_file.h"
#include "loader/device/daemon.h"
#include "loader/device/daemon_lock.h"

#include <nlohmann/json.hpp>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <thread>

namespace xwg {

namespace {

constexpr auto RESTART_TIMEOUT = std::chrono::seconds(30);

// The state file's start time: a new one once the next daemon serves.
std::uint64_t started_ns(const std::string &ifname)
{
	std::ifstream f(state_file_path(ifname));
	const auto state = nlohmann::json::parse(f, nullptr, false);
	if (state.is_discarded() || !state.contains("started_ns"))
		return 0;
	return state["started_ns"].get<std::uint64_t>();
}

int restart(const std::string &ifname)
{
	if (!interface_name_valid(ifname)) {
		std::fprintf(stderr, "xwg restart: '%s' is not a valid interface name\n",
			     ifname.c_str());
		return 1;
	}
	if (!daemon_alive(ifname)) {
		std::fprintf(stderr, "xwg restart: %s has no daemon running (`xwg up CONFIG` "
				     "takes over a data plane left without one)\n",
			     ifname.c_str());
		return 1;
	}
	long pid = 0;
	std::ifstream(pid_file_path(ifname)) >> pid;
	const std::uint64_t before = started_ns(ifname);
	const auto began = std::chrono::steady_clock::now();
	if (pid <= 0 || kill(static_cast<pid_t>(pid), RESTART_SIGNAL) < 0) {
		std::fprintf(stderr, "xwg restart: signalling the daemon of %s (pid %ld): %s\n",
			     ifname.c_str(), pid, pid <= 0 ? "no pid file" : std::strerror(errno));
		return 1;
	}
	while (std::chrono::steady_clock::now() - began < RESTART_TIMEOUT) {
		const std::uint64_t now = started_ns(ifname);
		if (now && now != before && daemon_alive(ifname)) {
			const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
				std::chrono::steady_clock::now() - began);
			std::printf("xwg restart: %s serves again (pid %ld) after %lld ms\n",
				    ifname.c_str(), pid, static_cast<long long>(ms.count()));
			return 0;
		}
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	}
	std::fprintf(stderr, "xwg restart: %s: no new daemon within %lld s (see %s)\n",
		     ifname.c_str(), static_cast<long long>(RESTART_TIMEOUT.count()),
		     log_file_path(ifname).c_str());
	return 1;
}

} // namespace

void add_restart_command(CLI::App &app)
{
	auto *cmd = app.add_subcommand(
		"restart", "Restart an interface's daemon (or upgrade it to the xwg installed now) "
			   "without interrupting the tunnel");
	static std::string ifname;
	cmd->add_option("interface", ifname, "Interface name")->required();
	cmd->callback([] {
		int rc = restart(ifname);
		if (rc != 0)
			throw CLI::RuntimeError(rc);
	});
}

} // namespace xwg
