// cli/strip.cpp — `xwg strip FILE|IFNAME`: print the configuration as `wg-quick strip`
// would, for `wg syncconf IF <(xwg strip IF)` and friends. A bare interface name means
// /etc/wireguard/IFNAME.conf, as for wg-quick.
#include "loader/cli/config_commands.h"

#include "loader/control/config_file.h"
#include "loader/control/config_strip.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace xwg {

namespace {

// wg-quick's rule: a name without '/' that is a valid interface name is a file under
// /etc/wireguard.
std::string config_path(const std::string &arg)
{
	if (arg.find('/') == std::string::npos && interface_name_valid(arg) &&
	    !arg.ends_with(".conf"))
		return "/etc/wireguard/" + arg + ".conf";
	return arg;
}

int strip(const std::string &arg)
{
	const std::string path = config_path(arg);
	std::ifstream f(path);
	if (!f) {
		std::fprintf(stderr, "xwg strip: %s: %s\n", path.c_str(), std::strerror(errno));
		return 1;
	}
	std::stringstream text;
	text << f.rdbuf();
	try {
		const std::string name = path.substr(path.rfind('/') + 1);
		std::fputs(config_strip(text.str(), name).c_str(), stdout);
	} catch (const std::exception &e) {
		std::fprintf(stderr, "xwg strip: %s\n", e.what());
		return 1;
	}
	return std::fflush(stdout) == 0 ? 0 : 1;
}

} // namespace

void add_strip_command(CLI::App &app)
{
	auto *cmd = app.add_subcommand("strip", "Print a wg-quick file without what `wg` does "
						"not understand (like `wg-quick strip`)");
	static std::string arg;
	cmd->add_option("config", arg, "IFNAME.conf, or IFNAME for /etc/wireguard/IFNAME.conf")
		->required();
	cmd->callback([] {
		if (int rc = strip(arg); rc != 0)
			throw CLI::RuntimeError(rc);
	});
}

} // namespace xwg
