// cli/down.cpp — `xwg down IFNAME`: ask the daemon to go (SIGTERM, as its pid file names
// it) and wait, bounded, until it has removed everything. If the daemon died without
// cleaning up, remove what its state file names: XDP programs on the underlays, the
// device, the pins, the socket and the files.
#include "loader/cli/commands.h"

#include "loader/kernel/attach.h"
#include "loader/control/config_file.h"
#include "loader/device/daemon.h"
#include "loader/device/daemon_metrics.h"
#include "loader/kernel/netdev.h"
#include "loader/control/uapi_server.h"

#include <dirent.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

namespace xwg {

namespace {

constexpr auto DOWN_TIMEOUT = std::chrono::seconds(15);

bool file_exists(const std::string &path)
{
	return access(path.c_str(), F_OK) == 0;
}

// Gone, or a zombie nobody reaped yet (inside containers whose init does not reap).
bool pid_gone(pid_t pid)
{
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return true;
	std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
	std::string line;
	std::getline(stat, line);
	auto close_paren = line.rfind(')');
	return close_paren != std::string::npos && close_paren + 2 < line.size() &&
	       line[close_paren + 2] == 'Z';
}

void remove_dir_files(const std::string &dir)
{
	if (DIR *d = opendir(dir.c_str())) {
		while (dirent *e = readdir(d)) {
			std::string n = e->d_name;
			if (n != "." && n != "..")
				unlink((dir + "/" + n).c_str());
		}
		closedir(d);
	}
	rmdir(dir.c_str());
}

// What a daemon that died would have removed.
void clean_stale(const std::string &ifname)
{
	std::ifstream f(state_file_path(ifname));
	nlohmann::json state = nlohmann::json::parse(f, nullptr, false);
	if (!state.is_discarded() && state.contains("underlays"))
		for (const auto &u : state["underlays"])
			if (u.contains("name") && link_exists(u["name"].get<std::string>())) {
				const int idx = link_ifindex(u["name"].get<std::string>());
				xdp_detach_by_name_quiet(idx, "xwg_rx");
				tc_ingress_detach_by_name_quiet(idx, "xwg_rx_tc");
			}
	try {
		Netlink nl;
		link_delete_quiet(nl, ifname);
	} catch (const std::exception &) {
	}
	remove_dir_files(pin_dir_path(ifname));
	unlink(UapiServer::socket_path(ifname).c_str());
	for (const auto &p : {state_file_path(ifname), pid_file_path(ifname), log_file_path(ifname),
			      counters_file_path(ifname)})
		unlink(p.c_str());
}

int down(const std::string &ifname)
{
	if (!interface_name_valid(ifname)) {
		std::fprintf(stderr, "xwg down: '%s' is not a valid interface name\n", ifname.c_str());
		return 1;
	}
	long pid = 0;
	{
		std::ifstream pf(pid_file_path(ifname));
		pf >> pid;
	}
	if (pid <= 0) {
		if (!file_exists(state_file_path(ifname))) {
			std::fprintf(stderr, "xwg down: %s is not up (no %s)\n", ifname.c_str(),
				     pid_file_path(ifname).c_str());
			return 1;
		}
		clean_stale(ifname);
		return 0;
	}
	if (pid_gone(static_cast<pid_t>(pid))) {
		std::fprintf(stderr, "xwg down: the daemon of %s (pid %ld) is gone; cleaning up "
				     "after it\n",
			     ifname.c_str(), pid);
		clean_stale(ifname);
		return 0;
	}
	if (kill(static_cast<pid_t>(pid), SIGTERM) < 0) {
		std::fprintf(stderr, "xwg down: signalling pid %ld: %s\n", pid, std::strerror(errno));
		return 1;
	}
	auto deadline = std::chrono::steady_clock::now() + DOWN_TIMEOUT;
	while (std::chrono::steady_clock::now() < deadline) {
		if (pid_gone(static_cast<pid_t>(pid)) && !file_exists(pid_file_path(ifname)))
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
