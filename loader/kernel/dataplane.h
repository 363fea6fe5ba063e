// kernel/dataplane.h — the one owner of the BPF objects (xwg_rx, xwg_tx, xwg_tun) and their
// maps. Everything else in userspace reads and writes the data plane through the typed
// methods here and never sees a map fd (STYLE.md: one owner for the skeletons).
#pragma once

#include "xwg/drop_reasons.h"
#include "xwg/maps.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

struct xwg_rx;
struct xwg_tx;
struct xwg_tun;

namespace xwg {

struct DataplaneOptions {
	// Directory to pin every map in (created 0700, emptied first); empty: no pins.
	std::string pin_dir;
};

// Per-peer counters summed over CPUs (timestamps: the latest).
using PeerStats = xwg_peer_stats;
using DropCounters = std::array<uint64_t, XWG_DROP_REASON_MAX>;

class Dataplane {
public:
	// Loads the three objects with shared maps. Throws std::runtime_error naming the
	// step that failed (and the verifier's last words when a program is refused).
	explicit Dataplane(const DataplaneOptions &opts);
	~Dataplane();
	Dataplane(const Dataplane &) = delete;
	Dataplane &operator=(const Dataplane &) = delete;

	int rx_prog_fd() const;
	int rx_tc_prog_fd() const; // the receive path on TC ingress (no native XDP)
	int tx_prog_fd() const;
	int tun_prog_fd() const;
	// Points rx_cpumap's entries for @cpus (ids below XWG_MAX_RX_CPUS, e.g. the online
	// ones) at xwg_rx_cpumap and lists them in @cfg (rx_cpu_ids, rx_cpus) for the data
	// plane to spread decryption over; returns cfg.rx_cpus: 0 with fewer than two CPUs
	// or when the kernel refuses (then xwg_rx decrypts where the frame arrived).
	unsigned enable_rx_cpus(const std::vector<unsigned> &cpus, xwg_config &cfg);
	int events_fd() const;
	// Runs xwg_rx_reassembled over @frame (Ethernet, IPv4/IPv6, UDP, a data message) as if
	// it had arrived on @ingress_ifindex (0: unknown), through BPF_PROG_TEST_RUN: the
	// keypairs, replay windows, counters and roaming are the programs' own. Returns the
	// XDP verdict (XDP_REDIRECT: @out holds the decrypted frame for the tunnel device;
	// XDP_DROP: counted under its reason), or -errno.
	int run_reassembled(std::span<const uint8_t> frame, unsigned ingress_ifindex,
			    std::vector<uint8_t> &out);
	const std::string &pin_dir() const { return pin_dir_; }
	// Removes the pins (the maps live on while programs or fds hold them).
	void unpin();

	// Runtime map writes: false (errno set) on failure, counted in failed_calls().
	bool set_config(const xwg_config &cfg);
	std::optional<xwg_config> config() const;
	bool set_peer(uint32_t peer_id, const xwg_peer &peer);
	bool clear_peer(uint32_t peer_id);
	std::optional<xwg_peer> peer(uint32_t peer_id) const;
	// One field of a peer, written in place (the programs write others meanwhile).
	bool set_peer_current(uint32_t peer_id, uint32_t local_index);
	bool set_peer_endpoint(uint32_t peer_id, const xwg_endpoint &endpoint);
	// Replaces the route of the peer's endpoint (underlay, source, next hop) with
	// @next's, if the endpoint still is @seen (all but the next hop); false otherwise.
	bool set_peer_route(uint32_t peer_id, const xwg_endpoint &seen, const xwg_endpoint &next);
	// Keypairs by local index; delete zeroes the keys in the map before removing it.
	bool set_keypair(uint32_t local_index, const xwg_keypair &kp);
	bool delete_keypair(uint32_t local_index);
	std::optional<xwg_keypair> keypair(uint32_t local_index) const;
	// Allowed IPs: @addr is 4 (IPv4) or 16 (IPv6) bytes in network order.
	bool set_allowed_ip(const uint8_t *addr, size_t addr_len, uint8_t prefixlen,
			    uint32_t peer_id);
	bool delete_allowed_ip(const uint8_t *addr, size_t addr_len, uint8_t prefixlen);

	// The shared send counter of a keypair slot: the next unused counter, atomically.
	uint64_t take_send_counter(uint32_t slot);
	void reset_send_counter(uint32_t slot, uint64_t value);

	PeerStats peer_stats(uint32_t peer_id) const;
	// The stats of peer ids 0..count-1 at once (one batch lookup), indexed by id.
	std::vector<PeerStats> peer_stats_below(uint32_t count) const;
	bool reset_peer_stats(uint32_t peer_id);
	DropCounters drops() const;
	// Counts a drop decided in userspace (XWG_DROP_CONTROL_*: no program writes those).
	void count_drop(xwg_drop_reason reason);
	uint64_t failed_calls() const { return failed_calls_.load(); }

private:
	void release();
	bool update(int fd, const void *key, const void *value, uint64_t flags = 0);
	bool lookup(int fd, const void *key, void *value) const;

	xwg_rx *rx_ = nullptr;
	xwg_tx *tx_ = nullptr;
	xwg_tun *tun_ = nullptr;
	uint64_t *send_counters_ = nullptr; // mmapped array
	size_t send_counters_len_ = 0;
	xwg_peer *peers_ = nullptr; // mmapped array
	size_t peers_len_ = 0;
	std::string pin_dir_;
	mutable std::atomic<uint64_t> failed_calls_{0};
};

} // namespace xwg
