// control/config_json.h — the configuration part of `xwg show --json`. Secrets never appear:
// the interface shows its public key, and a preshared key shows as "(hidden)", as `wg
// show` does by default.
#pragma once

#include "loader/control/device_config.h"

#include <nlohmann/json.hpp>

namespace xwg
{

nlohmann::json config_to_json(const DeviceConfig &config);

} // namespace xwg
