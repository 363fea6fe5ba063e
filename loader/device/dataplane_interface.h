// device/dataplane_interface.h — what the device needs from the data plane, as an
// interface: the kernel's BPF maps (kernel/dataplane.h) in the daemon, an in-memory fake
// in the unit tests (tests/fake_dataplane.h), so sending, receiving, rotation,
// retirement and timers are tested without namespaces.
//
// Writes return false (errno set) on failure. The contract behind each call is in
// include/xwg/maps.h.
#pragma once

#include "xwg/drop_reasons.h"
#include "xwg/maps.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace xwg {

// Per-peer counters summed over CPUs (timestamps: the latest).
using PeerStats = xwg_peer_stats;

// A peer's endpoint slot as read under its lock.
struct EndpointState {
	std::uint32_t generation = 0;
	xwg_endpoint ep{};
};

// A `keypairs` entry with its slot, as a daemon taking over pinned maps finds it.
struct PinnedKeypair {
	std::uint32_t local_index;
	xwg_keypair value; // keys included: wipe when done
	xwg_keypair_slot slot;
};

// An `allowed_ips4`/`allowed_ips6` entry: the address (4 or 16 bytes), its prefix length
// and the peer id it leads to.
struct PinnedAllowedIp {
	std::array<std::uint8_t, 16> addr;
	std::uint8_t addr_len;
	std::uint8_t prefixlen;
	std::uint32_t peer_id;
};

class DataplaneInterface {
public:
	virtual ~DataplaneInterface() = default;

	virtual std::optional<xwg_config> config() const = 0;
	virtual bool set_config(const xwg_config &cfg) = 0;

	// Peers: the slot (active, current keypair) and its counters.
	virtual bool set_peer(std::uint32_t peer_id, const xwg_peer &peer) = 0;
	virtual bool clear_peer(std::uint32_t peer_id) = 0;
	virtual bool set_peer_current(std::uint32_t peer_id, std::uint32_t local_index) = 0;
	// The peer's FlowPorts (xwg_peer.flow_ports), 0..XWG_MAX_FLOW_PORTS.
	virtual bool set_peer_flow_ports(std::uint32_t peer_id, std::uint32_t flow_ports) = 0;
	virtual PeerStats peer_stats(std::uint32_t peer_id) const = 0;
	// Its counters and timestamps back to zero (a peer configured anew keeps its id).
	virtual bool reset_peer_stats(std::uint32_t peer_id) = 0;
	// The stats of peer ids first..first+count-1 (index i: id first + i).
	virtual std::vector<PeerStats> peer_stats_range(std::uint32_t first,
						       std::uint32_t count) const = 0;

	// Endpoints, written by the programs' own code under the slot's lock.
	virtual std::optional<EndpointState> endpoint(std::uint32_t peer_id) const = 0;
	// A new address (and its route): the new generation, nullopt on failure.
	virtual std::optional<std::uint32_t> set_endpoint(std::uint32_t peer_id,
							  const xwg_endpoint &ep) = 0;
	// The route part of @ep (underlay, source, next hop, path MTU) for the address of
	// @generation; false when the address has changed since (or on failure).
	virtual bool set_endpoint_route(std::uint32_t peer_id, std::uint32_t generation,
					const xwg_endpoint &ep) = 0;

	// Keypairs (include/xwg/maps.h: xwg_keypair_state). install: the slot LIVE with
	// counter 0, then the entry. retire: the slot RETIRED, nothing else. grace_period:
	// returns once every program that may have seen a slot LIVE before has finished.
	// wipe: keys zeroed in place, entry deleted, slot UNUSED (call after a grace period).
	virtual bool install_keypair(std::uint32_t local_index, std::uint32_t slot,
				     const xwg_keypair &kp) = 0;
	virtual void retire_keypair(std::uint32_t slot) = 0;
	virtual bool grace_period() = 0;
	virtual bool wipe_keypair(std::uint32_t local_index, std::uint32_t slot) = 0;
	// The next unused counter of a slot, atomically with the programs.
	virtual std::uint64_t take_send_counter(std::uint32_t slot) = 0;

	// Allowed IPs: @addr is 4 (IPv4) or 16 (IPv6) bytes in network order.
	virtual bool set_allowed_ip(const std::uint8_t *addr, std::size_t addr_len,
				    std::uint8_t prefixlen, std::uint32_t peer_id) = 0;
	virtual bool delete_allowed_ip(const std::uint8_t *addr, std::size_t addr_len,
				       std::uint8_t prefixlen) = 0;

	// Counts a drop decided in userspace (XWG_DROP_CONTROL_* and others no program writes).
	virtual void count_drop(xwg_drop_reason reason) = 0;
};

} // namespace xwg
