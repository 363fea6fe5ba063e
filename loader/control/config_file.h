// control/config_file.h — the wg-quick configuration file: [Interface] and [Peer] sections of
// "Key = Value" lines, '#' comments, case-insensitive keys and comma lists, as
// wireguard-tools' config.c and wg-quick read them, plus xwg's `Underlay = IF[, IF...]`.
// The keys wg-quick handles itself (DNS, PreUp, PostUp, PreDown, PostDown, SaveConfig) go
// into ParsedConfig::wg_quick, read as wg-quick reads them; the daemon acts on them
// (control/wg_quick_hooks.h, control/wg_quick_save.h).
//
// Every malformed input is a ConfigError naming file, line and key, and nothing is
// returned: the caller either gets a whole validated DeviceConfig or nothing.
#pragma once

#include "loader/control/device_config.h"
#include "loader/control/wg_quick_settings.h"

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace xwg
{

class ConfigError : public std::runtime_error
{
      public:
	using std::runtime_error::runtime_error;
};

struct ParsedConfig {
	DeviceConfig config;
	WgQuickSettings wg_quick; // hooks, DNS, SaveConfig
	std::string path; // config_load(): the file, absolute, symlinks resolved (for SaveConfig)
	// xwg's `MetricsListen = ADDR:PORT` ([IPv6]:PORT): where the daemon serves
	// GET /metrics (control/metrics_server.h); nullopt: nowhere.
	std::optional<Endpoint> metrics_listen;
	std::vector<std::string> warnings; // "wg0.conf:4: ..." (none today; printed by `xwg up`)
};

// Parses a whole file's text; file_name only appears in messages. Endpoint host names
// are resolved with getaddrinfo (the first address wins), numeric ones are not looked up.
// Throws ConfigError.
ParsedConfig config_parse(std::string_view text, std::string_view file_name);

// Reads and parses the file at path (messages use its basename) and sets
// ParsedConfig::path. Throws ConfigError, also when the file cannot be read.
ParsedConfig config_load(const std::string &path);

// wg-quick's rule for interface names: 1 to 15 of [a-zA-Z0-9_=+.-] (and not "." or "..",
// which the kernel refuses).
bool interface_name_valid(std::string_view name);

// "/etc/wireguard/wg0.conf" -> "wg0". Throws ConfigError if the path does not end in
// ".conf" or the name is not valid.
std::string interface_name_from_path(std::string_view path);

} // namespace xwg
