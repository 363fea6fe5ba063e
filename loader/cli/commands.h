// cli/commands.h — `xwg up`, `xwg down`, `xwg show`: the commands that run and inspect an
// interface (up.cpp, down.cpp, show.cpp).
#pragma once

#include <CLI/CLI.hpp>

namespace xwg {

void add_up_command(CLI::App &app);
void add_down_command(CLI::App &app);
void add_restart_command(CLI::App &app);
void add_show_command(CLI::App &app);

} // namespace xwg
