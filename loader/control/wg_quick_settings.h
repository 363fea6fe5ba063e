// control/wg_quick_settings.h — what a wg-quick file says beyond the device itself: the
// four hook lists, DNS and SaveConfig. wg-quick handles these keys itself instead of
// passing them to `wg setconf`; xwg does the same (control/wg_quick_hooks.h runs them,
// control/wg_quick_save.h writes them back).
#pragma once

#include <string>
#include <vector>

namespace xwg {

struct WgQuickSettings {
	// Shell snippets for `bash -c`, in file order, as written (before %i is replaced).
	std::vector<std::string> pre_up, post_up, pre_down, post_down;
	// DNS = entries split as wg-quick splits them: an entry of digits and dots, or with
	// a ':', is a name server; anything else is a search domain.
	std::vector<std::string> dns_servers;
	std::vector<std::string> dns_search;
	bool save_config = false; // write the running configuration back on a normal down

	bool operator==(const WgQuickSettings &) const = default;
};

} // namespace xwg
