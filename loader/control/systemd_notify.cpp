// control/systemd_notify.cpp — see systemd_notify.h. A failure to notify is reported on
// stderr and otherwise ignored: the tunnel works either way, and systemd's start timeout
// says the rest.
#include "loader/control/systemd_notify.h"

#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace xwg {

namespace {

void notify(const std::string &message)
{
	const int rc = sd_notify(0, message.c_str());
	if (rc < 0)
		std::fprintf(stderr, "xwg: telling systemd \"%s\": %s\n",
			     message.substr(0, message.find('\n')).c_str(), std::strerror(-rc));
}

} // namespace

void notify_ready(const std::string &status)
{
	notify("READY=1\nMAINPID=" + std::to_string(getpid()) + "\nSTATUS=" + status);
}

void notify_stopping(const std::string &status)
{
	notify("STOPPING=1\nSTATUS=" + status);
}

} // namespace xwg
