// cli/syncconf.cpp — `xwg syncconf IFNAME FILE`: apply a wg-quick file to a running
// interface in place, as `wg syncconf IFNAME <(wg-quick strip FILE)` does for WireGuard
// (systemd's reload). Peers that the file no longer has go, new ones come, changed ones
// change, and the others keep their sessions (uapi_sync.h). The whole file is checked
// before the daemon is asked anything, and the daemon applies the request atomically, so
// bad input changes nothing. What `wg` does not carry (Address, MTU, DNS, Table, hooks,
// xwg's Underlay and ReceivePath) is not applied; changing those takes a restart.
#include "loader/cli/config_commands.h"

#include "loader/control/config_file.h"
#include "loader/control/uapi_client.h"
#include "loader/control/uapi_sync.h"

#include <cstdio>

namespace xwg {

namespace {

int syncconf(const std::string &ifname, const std::string &path)
{
	if (!interface_name_valid(ifname)) {
		std::fprintf(stderr, "xwg syncconf: '%s' is not a valid interface name\n",
			     ifname.c_str());
		return 1;
	}
	try {
		const ParsedConfig parsed = config_load(path);
		const auto running = uapi_peer_keys(uapi_exchange(ifname, "get=1\n\n"));
		const std::string answer =
			uapi_exchange(ifname, uapi_sync_request(parsed.config, running));
		if (answer != "errno=0\n\n") {
			std::fprintf(stderr,
				     "xwg syncconf: %s refused the configuration (%s); nothing "
				     "changed (the daemon's log says why)\n",
				     ifname.c_str(), answer.substr(0, answer.find('\n')).c_str());
			return 1;
		}
	} catch (const std::exception &e) {
		std::fprintf(stderr, "xwg syncconf: %s\n", e.what());
		return 1;
	}
	return 0;
}

} // namespace

void add_syncconf_command(CLI::App &app)
{
	auto *cmd = app.add_subcommand("syncconf", "Apply a wg-quick file to a running interface, "
						   "keeping the sessions of unchanged peers (like "
						   "`wg syncconf`)");
	static std::string ifname, path;
	cmd->add_option("interface", ifname, "Interface name")->required();
	cmd->add_option("config", path, "wg-quick configuration file")->required();
	cmd->callback([] {
		if (int rc = syncconf(ifname, path); rc != 0)
			throw CLI::RuntimeError(rc);
	});
}

} // namespace xwg
