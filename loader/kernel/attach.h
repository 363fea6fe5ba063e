// kernel/attach.h — putting the data plane's programs on devices and taking them off again:
// xwg_rx as XDP on each underlay (native, else generic with a note), xwg_tun as XDP on the
// visible tunnel end (so frames redirected into the hidden end are accepted), xwg_tx on
// the clsact ingress hook of the hidden end. Detaching only removes a program that is
// still ours, so a second interface's attachment is never touched.
#pragma once

#include <cstdint>
#include <string>

namespace xwg {

enum class XdpMode { none, native, generic };
const char *to_string(XdpMode m);

// Attaches prog_fd as XDP on ifindex; mode native first, then generic. Fails if another
// program is attached already. Throws std::runtime_error naming the device.
XdpMode xdp_attach(int ifindex, int prog_fd, const std::string &devname);
// Attaches prog_fd as native XDP on ifindex; false (with the kernel's reason in *why) when
// the driver has no native XDP for it (e.g. at this MTU). Throws std::runtime_error when
// another program is attached.
bool xdp_attach_native(int ifindex, int prog_fd, const std::string &devname, std::string *why);
// Detaches prog_fd from ifindex if it is the attached program. Best effort.
void xdp_detach_quiet(int ifindex, int prog_fd);
// Detaches whatever XDP program on ifindex is named `name` (a crashed daemon's, found by
// `xwg down`). Best effort.
void xdp_detach_by_name_quiet(int ifindex, const std::string &name);
// Which mode has an XDP program on ifindex now (none if nothing, or an error).
XdpMode xdp_query(int ifindex);

// clsact + TC ingress filter. Throws std::runtime_error.
void tc_ingress_attach(int ifindex, int prog_fd, const std::string &devname);
// Removes clsact from ifindex, with every filter on it (for xwg's own devices).
void tc_ingress_detach_quiet(int ifindex);
// Removes the ingress filter tc_ingress_attach() made on ifindex if its program is
// prog_fd's (the device is someone else's: its clsact and other filters stay).
void tc_ingress_detach_prog_quiet(int ifindex, int prog_fd);
// The same for a program named `name` (a crashed daemon's, found by `xwg down`).
void tc_ingress_detach_by_name_quiet(int ifindex, const std::string &name);
// Is a program named `name` attached by tc_ingress_attach() on ifindex?
bool tc_ingress_has(int ifindex, const std::string &name);

// A restart or an upgrade: puts @prog_fd in the place of the program named @old_name
// (as the kernel truncates names) in one step, so no packet finds the hook empty. The
// XDP one keeps the mode (native or generic) the old program had. Throw when no such
// program is attached there.
void xdp_replace(int ifindex, const std::string &old_name, int prog_fd, const std::string &devname);
void tc_ingress_replace(int ifindex, const std::string &old_name, int prog_fd,
			const std::string &devname);

} // namespace xwg
