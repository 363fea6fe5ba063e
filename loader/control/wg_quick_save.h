// control/wg_quick_save.h — SaveConfig: the running configuration written back over its
// file, in the shape wg-quick's save_config gives it: "[Interface]", then wg-quick's own
// keys (one Address line per address, one DNS line per name server, MTU, Table, SaveConfig
// = true, the hooks in PreUp, PostUp, PreDown, PostDown order), then the rest of what
// `wg showconf` prints (ListenPort, FwMark, PrivateKey, and each [Peer] with PublicKey,
// PresharedKey, AllowedIPs, Endpoint, PersistentKeepalive), ending in one newline.
//
// Where xwg differs, and why:
//   - xwg's own keys (Underlay, ReceivePath) follow Table, and a peer's FlowPorts follows
//     its PersistentKeepalive, or a saved file would lose them;
//   - search domains are kept as DNS lines (wg-quick reads back `resolvconf -l`, which has
//     only the name servers, and drops them);
//   - Table is written when it is not auto (wg-quick writes it back when the file had it);
//     `Table = auto` and no Table mean the same.
#pragma once

#include "loader/control/device_config.h"
#include "loader/control/wg_quick_settings.h"

#include <string>

namespace xwg {

// What `wg showconf` prints for @config (peers in their order).
std::string wg_showconf_text(const DeviceConfig &config);

// The whole file SaveConfig writes. @running is the configuration as it runs: the device's
// addresses, its MTU when the file set one (AUTOMATIC_MTU: no MTU line), the listen port
// in use, learned endpoints. config_parse() of the result gives back @running and
// @settings.
std::string wg_quick_file_text(const DeviceConfig &running, const WgQuickSettings &settings);

// Replaces @path with @text atomically: a new file beside it, mode 0600, written and
// fsynced, then renamed over it. Throws std::runtime_error naming the path; the old file
// stays as it was then.
void save_config_file(const std::string &path, const std::string &text);

} // namespace xwg
