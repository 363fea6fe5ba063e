// control/running_state.h — what a daemon taking over a running interface needs and the
// pinned maps do not hold: the configuration as it runs (the file's, plus every `wg set`
// since, with the MTU resolved) and the id each peer has in the data plane.
//
// Kept in /run/xwg/IFNAME.running, mode 0600 (it holds the private key, like
// /etc/wireguard/IFNAME.conf; /run is memory), rewritten whole after every change.
#pragma once

#include "loader/control/device_config.h"

#include <map>
#include <string>
#include <string_view>

namespace xwg {

struct RunningState {
	DeviceConfig config;
	std::map<PublicKey, std::uint32_t> peer_ids;
	bool operator==(const RunningState &) const = default;
};

std::string running_state_to_json(const RunningState &state);
// Throws std::runtime_error naming what is missing or malformed.
RunningState running_state_from_json(std::string_view text);

} // namespace xwg
