// control/device_config.h — the configuration of one xwg interface: what a wg-quick file says and
// what `wg set` may change. Plain values with value semantics, so a change is made on a
// copy and swapped in whole (see uapi_protocol.h). Runtime state (sessions, counters,
// learned endpoints) lives elsewhere.
#pragma once

#include "loader/types/ip_prefix.h"
#include "loader/types/keys.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <set>
#include <vector>

namespace xwg
{

// MTU 0 in a configuration: chosen at `xwg up` from the underlay (wg-quick's rule, see
// loader/mtu.h).
inline constexpr unsigned AUTOMATIC_MTU = 0;

// wg-quick's Table: routes for AllowedIPs in the main table (auto), none (off), or in a
// numbered table.
struct RouteTable {
	enum class Kind { automatic, off, number };
	Kind kind = Kind::automatic;
	std::uint32_t id = 0; // only for Kind::number

	std::string to_string() const; // "auto", "off" or the number
	bool operator==(const RouteTable &) const = default;
};

// How the data plane receives on the underlays (xwg's ReceivePath): native XDP where the
// driver offers it at the device's MTU, else a TC ingress program (auto); or one of them
// forced. Generic XDP is never used.
enum class ReceivePath { automatic, xdp, tc };
const char *to_string(ReceivePath p); // "auto", "xdp", "tc"

struct InterfaceConfig {
	std::optional<PrivateKey> private_key;
	std::uint16_t listen_port = 0; // 0: let the kernel choose
	std::uint32_t fwmark = 0;      // 0: off
	std::vector<Cidr> addresses;   // host bits kept: 192.0.2.1/24 is an address on a /24
	unsigned mtu = AUTOMATIC_MTU; // the tunnel MTU, XWG_MIN_MTU..XWG_MAX_MTU, or automatic
	RouteTable table;
	std::vector<std::string> underlays; // xwg extension; empty: the default route's device
	ReceivePath receive_path = ReceivePath::automatic; // xwg extension

	bool operator==(const InterfaceConfig &) const = default;
};

struct PeerConfig {
	PublicKey public_key;
	std::optional<PresharedKey> preshared_key; // never holds the all-zero key
	std::optional<Endpoint> endpoint;
	std::vector<Cidr> allowed_ips; // canonical (masked), no duplicates, in insertion order
	std::uint16_t persistent_keepalive = 0; // seconds, 0: off
	// xwg extension, between xwg peers only: 0 = off, else each inner flow is sent from
	// one of this many ports next to ListenPort, so the peer's receiver spreads the
	// flows over CPUs (docs/many-cores.md). 0..XWG_MAX_FLOW_PORTS.
	std::uint16_t flow_ports = 0;

	// Adds a prefix after masking its host bits; false if it was already there.
	bool add_allowed_ip(const Cidr &prefix);
	bool operator==(const PeerConfig &) const = default;
};

struct DeviceConfig {
	InterfaceConfig iface;
	std::vector<PeerConfig> peers; // in the order they were added

	PeerConfig *find_peer(const PublicKey &public_key);
	const PeerConfig *find_peer(const PublicKey &public_key) const;
	bool operator==(const DeviceConfig &) const = default;
};

// The peers of a configuration by public key, for finding many (find_peer is linear). It
// points into the configuration, which must not change while the index is used.
class PeerIndex {
public:
	explicit PeerIndex(const DeviceConfig &config);
	const PeerConfig *find(const PublicKey &public_key) const;

private:
	std::map<PublicKey, const PeerConfig *> by_key_;
};

// Why a tunnel MTU of @mtu cannot carry @config's traffic, or nullopt when it can: outside
// what the data plane carries (XWG_MIN_MTU..XWG_MAX_MTU), or below IPv6's minimum (1280)
// while an address or allowed IP is IPv6. AUTOMATIC_MTU is fine until it is resolved.
std::optional<std::string> mtu_problem(const DeviceConfig &config, unsigned mtu);

// What changed between two configurations, so the daemon can push only that to the maps
// and sockets. A peer that was removed and added again within one change (wg setconf's
// replace_peers) is in both peers_removed and peers_added: its sessions start over, as
// with WireGuard. Apply removals first.
struct ConfigDelta {
	bool private_key = false;
	bool listen_port = false;
	bool fwmark = false;
	std::vector<PublicKey> peers_removed;
	std::vector<PublicKey> peers_added;
	std::vector<PublicKey> peers_updated; // same peer, different PeerConfig

	bool empty() const;
};

// Compares before and after; recreated lists keys that were removed and added again in
// between (they count as removed and added, even if their config is equal).
ConfigDelta config_diff(const DeviceConfig &before, const DeviceConfig &after,
			const std::set<PublicKey> &recreated = {});

} // namespace xwg
