// cli/main.cpp — the xwg command line: parses arguments with CLI11 and hands each
// subcommand to the unit that implements it.
#include <CLI/CLI.hpp>

#include "loader/cli/commands.h"
#include "loader/cli/config_commands.h"
#include "loader/cli/keys.h"

#include <cstdio>

int main(int argc, char **argv)
{
	CLI::App app{"xwg: a WireGuard-compatible tunnel with an eBPF data plane"};
	app.set_version_flag("--version", "xwg " XWG_VERSION);
	app.require_subcommand(0, 1);
	app.footer("xwg CMD --help describes a command; xwg(8) and xwg.conf(5) are the manual.");
	xwg::add_key_commands(app);
	xwg::add_up_command(app);
	xwg::add_down_command(app);
	xwg::add_restart_command(app);
	xwg::add_show_command(app);
	xwg::add_strip_command(app);
	xwg::add_syncconf_command(app);

	CLI11_PARSE(app, argc, argv);
	if (app.get_subcommands().empty()) {
		std::fputs(app.help().c_str(), stdout);
		return 1;
	}
	return 0;
}
