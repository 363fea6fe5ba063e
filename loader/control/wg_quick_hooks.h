// control/wg_quick_hooks.h — what wg-quick runs around a tunnel, run the way wg-quick runs
// it (/usr/bin/wg-quick, wireguard-tools 1.0.20210914):
//   - hooks: each PreUp/PostUp/PreDown/PostDown line is a bash snippet, %i replaced by the
//     interface name, echoed as "[#] snippet" on stderr, run under `set -e -o pipefail`
//     (wg-quick evals them in a subshell of its own `set -e -o pipefail` script, so a
//     failing command inside a snippet fails it), with LC_ALL=C. Output goes where the
//     daemon's goes. The first failing hook stops the list;
//   - DNS: `resolvconf -a [PREFIX.]IF -m 0 -x` with "nameserver ..." and "search ..."
//     lines on stdin, and `resolvconf -d [PREFIX.]IF -f` to undo it, PREFIX from
//     /etc/resolvconf/interface-order. Only when the file lists name servers.
//
// When resolvconf is not installed, setting DNS is an error that aborts `xwg up`: wg-quick
// fails the same way ("resolvconf: command not found" under set -e), and a tunnel whose
// DNS was silently left out would send the queries it was meant to carry outside it.
//
// Children get a clean signal state (the daemon blocks SIGTERM and ignores SIGPIPE, which
// exec would otherwise pass on). While one runs, the caller's KeepServing fd is served, so
// a hook that runs `wg` against the interface being brought up gets its answer.
#pragma once

#include "loader/control/wg_quick_settings.h"

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace xwg {

// A hook or resolvconf that failed or could not run; the message names it and says why.
class HookError : public std::runtime_error {
public:
	using std::runtime_error::runtime_error;
};

// What to keep serving while a child runs: service() is called whenever fd is readable.
struct KeepServing {
	int fd = -1; // -1: nothing
	std::function<void()> service;
};

inline constexpr const char *RESOLVCONF_INTERFACE_ORDER = "/etc/resolvconf/interface-order";

// The snippet with every "%i" replaced by @ifname, as wg-quick's ${hook//%i/$INTERFACE}.
std::string hook_command(std::string_view hook, std::string_view ifname);

// Runs the hooks of one phase ("PreUp", ...) in order. Throws HookError at the first that
// does not exit 0: `PostUp "false" exited with status 1`.
void run_hooks(std::string_view phase, const std::vector<std::string> &hooks,
	       const std::string &ifname, const KeepServing &serving = {});

// The first executable @name in $PATH, as `command -v` finds it.
std::optional<std::string> find_in_path(std::string_view name);

// The record name resolvconf gets for @ifname: "tun." + ifname when the interface-order
// file has a line "tun*" (the first line of letters, digits and '-' followed by '*'),
// else ifname.
std::string resolvconf_interface(const std::string &ifname,
				 const std::string &order_file = RESOLVCONF_INTERFACE_ORDER);

// What resolvconf -a reads: "nameserver A\n" per server, then "search D1 D2\n" if any.
std::string resolvconf_input(const WgQuickSettings &settings);

// Hands the file's DNS to resolvconf; false (and nothing run) when it lists no name
// server. Throws HookError when resolvconf is missing or fails.
bool dns_set(const std::string &ifname, const WgQuickSettings &settings,
	     const KeepServing &serving = {});

// Removes what dns_set() added. Throws HookError when resolvconf is missing or fails.
void dns_unset(const std::string &ifname);

} // namespace xwg
