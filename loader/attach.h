// attach.h — putting the data plane's programs on devices and taking them off again:
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
// Detaches prog_fd from ifindex if it is the attached program. Best effort.
void xdp_detach_quiet(int ifindex, int prog_fd);
// Detaches whatever XDP program on ifindex is named `name` (a crashed daemon's, found by
// `xwg down`). Best effort.
void xdp_detach_by_name_quiet(int ifindex, const std::string &name);
// Which mode has an XDP program on ifindex now (none if nothing, or an error).
XdpMode xdp_query(int ifindex);

// clsact + TC ingress filter. Throws std::runtime_error.
void tc_ingress_attach(int ifindex, int prog_fd, const std::string &devname);
void tc_ingress_detach_quiet(int ifindex);

} // namespace xwg
