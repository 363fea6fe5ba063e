// kernel/netdev.h — the tunnel device and its network configuration, through rtnetlink (libnl)
// and the ethtool ioctl, in the calling thread's network namespace.
//
// The tunnel is a veth pair: the visible end carries the interface name, addresses, MTU
// and routes; the hidden end is where xwg_tx sees outgoing packets (TC ingress) and where
// xwg_rx redirects decrypted ones, so they emerge from the visible end. Both ends are
// NOARP and addrgenmode none (DESIGN.md: otherwise the kernel ARPs for overlay addresses
// and sends DAD/MLD/RS forever). Every function throws std::runtime_error naming the
// device and the step, except the *_quiet cleanup ones.
#pragma once

#include "loader/control/device_config.h"
#include "loader/types/ip_prefix.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

struct nl_sock;

namespace xwg {

class Netlink {
public:
	Netlink(); // throws
	~Netlink();
	Netlink(const Netlink &) = delete;
	Netlink &operator=(const Netlink &) = delete;
	nl_sock *sock() const { return sock_; }

private:
	nl_sock *sock_ = nullptr;
};

using MacAddr = std::array<std::uint8_t, 6>;

// The hidden end's name for an interface: "xwgh-IFNAME" when that fits in 15 characters,
// else "xwgh-" and a hash of the name.
std::string hidden_device_name(const std::string &ifname);

// Creates the veth pair (fails if either name exists), MTU on both ends.
void veth_create(Netlink &nl, const std::string &visible, const std::string &hidden, unsigned mtu);
// Deletes a link by name (the peer end goes with it); false if it was not there.
bool link_delete_quiet(Netlink &nl, const std::string &name);
bool link_exists(const std::string &name);

// NOARP, addrgenmode none (skipped with no IPv6 in the namespace), then up.
void link_prepare_and_up(Netlink &nl, const std::string &name);
void link_set_mtu(Netlink &nl, const std::string &name, unsigned mtu);
// The MTU of interface @ifindex in this network namespace; 0 when it cannot be read.
unsigned link_mtu(unsigned ifindex);
int link_ifindex(const std::string &name); // throws if absent
MacAddr link_mac(const std::string &name);

void address_add(Netlink &nl, int ifindex, const Cidr &address);
// The IPv4 and IPv6 addresses on a device with their prefix lengths, in the kernel's
// order (what `ip -brief address show dev NAME` lists); empty when it has none or is gone.
std::vector<Cidr> link_addresses(const std::string &name);
// A route for prefix via the device in table (RouteTable::automatic: main). EEXIST is
// success; a /0 is refused with a message (wg-quick would need policy routing for it).
void route_add(Netlink &nl, int ifindex, const Cidr &prefix, const RouteTable &table);
void route_delete_quiet(Netlink &nl, int ifindex, const Cidr &prefix, const RouteTable &table);

// The device of the default route (IPv4 first, then IPv6); nullopt if none.
std::optional<std::string> default_route_device(Netlink &nl);

// Segmentation and checksum offloads off (TSO, GSO, SG, tx checksum): the kernel then
// hands the hidden end finished, MTU-sized packets with complete checksums.
void offloads_off(const std::string &name);
// GRO off, so the hidden end does not merge segments again.
void gro_off(const std::string &name);
// GRO on: a veth end with GRO takes frames an XDP program redirects into its peer.
void gro_on(const std::string &name);

} // namespace xwg
