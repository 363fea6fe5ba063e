// control/systemd_notify.h — telling systemd (Type=notify, see
// packaging/systemd/xwg@.service) how the daemon is doing, through libsystemd's
// sd_notify. Without $NOTIFY_SOCKET (not started by systemd) both are no-ops.
#pragma once

#include <string>

namespace xwg {

// READY=1 with MAINPID (this process) and STATUS=@status: call once the interface carries
// traffic, i.e. after set-up has finished (programs attached, peers, routes).
void notify_ready(const std::string &status);

// STOPPING=1 with STATUS=@status: call when the daemon starts to go down.
void notify_stopping(const std::string &status);

} // namespace xwg
