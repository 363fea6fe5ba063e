// control/config_strip.h — `wg-quick strip`: a wg-quick file reduced to what `wg setconf` and
// `wg syncconf` understand. wg-quick removes its own [Interface] keys (Address, DNS, MTU,
// Table, Pre/PostUp, Pre/PostDown, SaveConfig); xwg removes every [Interface] key that is
// not PrivateKey, ListenPort or FwMark, so its own keys (Underlay, ReceivePath, ...) go
// too, and so does [Peer]'s xwg key (FlowPorts). Everything else, comments and blank
// lines included, is kept as written.
#pragma once

#include <string>
#include <string_view>

namespace xwg {

// Checks the whole file first with config_parse() (a ConfigError names the line), so a
// file that `xwg up` would refuse is never half-applied by a reload; then returns the
// stripped text, one '\n'-terminated line per kept line.
std::string config_strip(std::string_view text, std::string_view file_name);

// Whether `wg` understands this key in [Interface] (case-insensitive, as both parsers read
// keys): PrivateKey, ListenPort, FwMark.
bool wg_interface_key(std::string_view key);

// Whether this [Peer] key is xwg's own, which `wg` refuses: FlowPorts.
bool xwg_peer_key(std::string_view key);

} // namespace xwg
