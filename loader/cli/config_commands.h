// cli/config_commands.h — `xwg strip` and `xwg syncconf`: a wg-quick file as `wg` reads it,
// and applied to a running interface in place (strip.cpp, syncconf.cpp).
#pragma once

#include <CLI/CLI.hpp>

namespace xwg {

void add_strip_command(CLI::App &app);
void add_syncconf_command(CLI::App &app);

} // namespace xwg
