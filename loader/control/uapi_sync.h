// control/uapi_sync.h — the UAPI request behind `xwg syncconf IF FILE` (and systemd's
// reload): make the running interface match a configuration file while peers that did not
// change keep their sessions, as `wg syncconf` does.
//
// A UAPI "replace_peers=true" would do the first half, but it drops every peer and adds
// them again, and a peer added again starts over without its sessions (as in WireGuard,
// see config_diff). So, as wireguard-tools does, the request removes by name the running
// peers that the file no longer has, and sets each peer of the file whole (preshared key,
// keepalive and allowed IPs replaced, endpoint when the file has one). The daemon applies it
// atomically and compares old and new: a peer whose settings are equal is not touched.
//
// Interface keys: private_key when the model has one (config_parse requires it in a file;
// without one the running key stays, as with `wg syncconf`); listen_port when the file
// sets one other than 0 (0 means "any port": the running one is kept rather than moved to
// another random one); fwmark always (no FwMark means off).
#pragma once

#include "loader/control/device_config.h"

#include <string>
#include <string_view>
#include <vector>

namespace xwg {

// The public keys of the peers in a "get=1" answer, in order. Throws std::runtime_error
// for an answer that reports an error (errno other than 0), has no errno line, or carries
// a public key that is not 64 hex digits.
std::vector<PublicKey> uapi_peer_keys(std::string_view get_response);

// The whole "set=1\n...\n\n" request that turns a device running the peers @running into
// @file's configuration (see above).
std::string uapi_sync_request(const DeviceConfig &file, const std::vector<PublicKey> &running);

} // namespace xwg
