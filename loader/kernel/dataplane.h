// kernel/dataplane.h — the one owner of the BPF objects (xwg_rx, xwg_tx, xwg_tun, xwg_ctl)
// and their maps. Everything else in userspace reads and writes the data plane through the
// typed methods here and never sees a map fd (STYLE.md: one owner for the skeletons).
#pragma once

#include "loader/device/dataplane_interface.h"
#include "xwg/drop_reasons.h"
#include "xwg/maps.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

struct xwg_rx;
struct xwg_tx;
struct xwg_tun;
struct xwg_ctl;
struct bpf_object;

namespace xwg {

class GracePeriod;

struct DataplaneOptions {
	// Directory to pin every map in (created 0700, emptied first); empty: no pins.
	std::string pin_dir;
	// Take over the maps pinned in pin_dir instead (a restart or an upgrade): only when
	// their layout (map_layout.h) is this build's, else LayoutMismatch and nothing is
	// touched. The programs are loaded anew, on those maps.
	bool adopt = false;
};

// The pinned maps were made by a build with another map layout (or by none that records
// one): this daemon must not read them.
class LayoutMismatch : public std::runtime_error {
public:
	using std::runtime_error::runtime_error;
};


// Points every named map of @obj (opened, not yet loaded, declaring bpf/lib/map_defs.h's
// maps) at its pin in @pin_dir, as a take-over does: another program (xwg-cni's
// xwg_pod_tx) then runs on the interface's own maps. Throws LayoutMismatch when the pins'
// layout is not this build's, std::runtime_error on other failures.
void adopt_pinned_maps(bpf_object *obj, const std::string &pin_dir);

using DropCounters = std::array<uint64_t, XWG_DROP_REASON_MAX>;

class Dataplane final : public DataplaneInterface {
public:
	// Loads the four objects (xwg_rx, xwg_tx, xwg_tun, xwg_ctl) with shared maps. Throws std::runtime_error naming the
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
	int staged_fd() const; // the ring of staged and oversize packets
	// Runs xwg_rx_reassembled over @frame (Ethernet, IPv4/IPv6, UDP, a data message) as if
	// it had arrived on @ingress_ifindex (0: unknown), through BPF_PROG_TEST_RUN: the
	// keypairs, replay windows, counters and roaming are the programs' own. Returns the
	// XDP verdict (XDP_REDIRECT: @out holds the decrypted frame for the tunnel device;
	// XDP_DROP: counted under its reason), or -errno.
	int run_reassembled(std::span<const uint8_t> frame, unsigned ingress_ifindex,
			    std::vector<uint8_t> &out);
	// Starts the key reaper (bpf/lib/key_reaper.h): a BPF timer that, in one pass over
	// every keypair slot per @period_ns, wipes the keys of keypairs 3 x REJECT_AFTER_TIME
	// old, with or without a daemon, for as long as the maps are pinned (or this object
	// lives). Arming an armed reaper (a daemon taking over the pins) sets its period and
	// its callback to this object's program. False (errno set) when the kernel refuses.
	bool arm_key_reaper(uint64_t period_ns);
	// The reaper's bookkeeping (chunks and passes run, the last pass's cost, wipes).
	std::optional<xwg_key_reaper> key_reaper() const;
	const std::string &pin_dir() const { return pin_dir_; }
	// Whether the maps were taken over (DataplaneOptions::adopt).
	bool adopted() const { return adopted_; }
	// Every keypair entry and every allowed IP, for a daemon taking over.
	std::vector<PinnedKeypair> pinned_keypairs() const;
	std::vector<PinnedAllowedIp> pinned_allowed_ips() const;
	// Removes the pins (the maps live on while programs or fds hold them).
	void unpin();

	// Runtime map writes (DataplaneInterface): false (errno set) on failure, counted in
	// failed_calls().
	bool set_config(const xwg_config &cfg) override;
	std::optional<xwg_config> config() const override;
	bool set_peer(uint32_t peer_id, const xwg_peer &peer) override;
	bool clear_peer(uint32_t peer_id) override;
	std::optional<xwg_peer> peer(uint32_t peer_id) const;
	bool set_peer_current(uint32_t peer_id, uint32_t local_index) override;
	bool set_peer_flow_ports(uint32_t peer_id, uint32_t flow_ports) override;
	std::optional<EndpointState> endpoint(uint32_t peer_id) const override;
	std::optional<uint32_t> set_endpoint(uint32_t peer_id, const xwg_endpoint &ep) override;
	bool set_endpoint_route(uint32_t peer_id, uint32_t generation,
				const xwg_endpoint &ep) override;
	bool install_keypair(uint32_t local_index, uint32_t slot, const xwg_keypair &kp) override;
	void retire_keypair(uint32_t slot) override;
	bool grace_period() override;
	bool wipe_keypair(uint32_t local_index, uint32_t slot) override;
	std::optional<xwg_keypair> keypair(uint32_t local_index) const;
	std::optional<xwg_keypair_slot> keypair_slot(uint32_t slot) const;
	uint64_t take_send_counter(uint32_t slot) override;
	// Tests only: a slot's counter set to @value (e.g. near REJECT_AFTER_MESSAGES).
	void reset_send_counter(uint32_t slot, uint64_t value);
	bool set_allowed_ip(const uint8_t *addr, size_t addr_len, uint8_t prefixlen,
			    uint32_t peer_id) override;
	bool delete_allowed_ip(const uint8_t *addr, size_t addr_len, uint8_t prefixlen) override;

	PeerStats peer_stats(uint32_t peer_id) const override;
	std::vector<PeerStats> peer_stats_range(uint32_t first, uint32_t count) const override;
	bool reset_peer_stats(uint32_t peer_id) override;
	DropCounters drops() const;
	// Counts a drop decided in userspace (XWG_DROP_CONTROL_*: no program writes those).
	void count_drop(xwg_drop_reason reason) override;
	uint64_t failed_calls() const { return failed_calls_.load(); }

private:
	void release();
	bool update(int fd, const void *key, const void *value, uint64_t flags = 0);
	bool lookup(int fd, const void *key, void *value) const;

	xwg_rx *rx_ = nullptr;
	xwg_tx *tx_ = nullptr;
	xwg_tun *tun_ = nullptr;
	xwg_ctl *ctl_ = nullptr;
	xwg_keypair_slot *keypair_slots_ = nullptr; // mmapped array
	size_t keypair_slots_len_ = 0;
	std::unique_ptr<GracePeriod> grace_;
	xwg_peer *peers_ = nullptr; // mmapped array
	size_t peers_len_ = 0;
	std::string pin_dir_;
	bool adopted_ = false;
	mutable std::atomic<uint64_t> failed_calls_{0};
};

} // namespace xwg
