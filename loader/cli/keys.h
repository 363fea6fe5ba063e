// cli/keys.h — `xwg genkey`, `xwg pubkey`, `xwg genpsk`: wg's key commands, same format.
#pragma once

#include <CLI/CLI.hpp>

namespace xwg {

void add_key_commands(CLI::App &app);

} // namespace xwg
