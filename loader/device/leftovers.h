// device/leftovers.h — what a daemon that died leaves behind (after kill -9, a crash, or
// a take-over that was refused), removed the way its teardown would have: the receive
// programs off the underlays its state file names, the tunnel device, the session keys
// wiped, the pins, the UAPI socket and the files.
#pragma once

#include <string>

namespace xwg {

// Whether any of it exists for @ifname (state file, pins).
bool leftovers_exist(const std::string &ifname);

// Removes all of it but the lock file. Only call while holding @ifname's lock
// (daemon_lock.h), which the caller removes when it is done.
void remove_leftovers(const std::string &ifname);

} // namespace xwg
