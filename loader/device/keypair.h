// device/keypair.h — every session key of the device, from the handshake that makes it to
// the wipe that ends it (Linux noise.c's keypair half), and the one owner of the data
// plane's keypair state (include/xwg/maps.h: xwg_keypair_state).
//
// Per peer, KeypairRotation holds three sessions (whitepaper §6.3, Linux's
// add_new_keypair and wg_noise_received_with_keypair):
//
//   previous  still decrypts late packets of the session before
//   current   what we send with (peers.current_index in the data plane)
//   next      a responder's fresh session: it waits until the initiator proves it has the
//             keys by sending data with it (KEYPAIR_CONFIRMED from the data plane), and
//             only then becomes current, so we never send with keys the peer may not have.
//
// A new initiator session becomes current at once (previous <- current); a new responder
// session becomes next and drops previous.
//
// Device-wide, Keypairs installs and retires them in the data plane:
// - install: a free counter slot is marked LIVE for the keypair (counter 0), then the
//   `keypairs` entry is written;
// - retire: the slot is marked RETIRED at once, so neither program starts using the keys
//   again; nothing else changes yet;
// - collect (from the tick, at most once per XWG_KEYPAIR_COLLECT_INTERVAL, and at
//   shutdown): one kernel grace period for everything retired so far, then the keys are
//   wiped in place, the entries deleted, and slots and indices freed. Slots are handed out
//   oldest-freed first. A grace period blocks the daemon for ~10 ms (synchronize_rcu), so
//   with 65,536 peers rekeying, one per second covers ~550 retirements at once.
#pragma once

#include "loader/device/dataplane_interface.h"
#include "loader/noise/index_table.h"
#include "loader/noise/keypair.h"

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace xwg {

// Where one peer's keypairs go (Keypairs::store_for in the daemon, a recorder in tests).
class KeypairStore {
public:
	virtual ~KeypairStore() = default;
	// Into the data plane, LIVE; the counter slot it got, nullopt when refused.
	virtual std::optional<std::uint32_t> install(const noise::Keypair &keypair) = 0;
	// Out of use at once, wiped later (after a grace period).
	virtual void retire(std::uint32_t local_index, std::uint32_t counter_slot) = 0;
	virtual void set_current(std::uint32_t local_index) = 0; // 0: none
};

class KeypairRotation {
public:
	struct Entry {
		noise::Keypair keypair;
		std::uint32_t counter_slot;
	};

	explicit KeypairRotation(KeypairStore &store) : store_(store) {}
	KeypairRotation(const KeypairRotation &) = delete;
	KeypairRotation &operator=(const KeypairRotation &) = delete;

	// After begin_session: installs the keypair and rotates. False (nothing changed) when
	// the store refused it.
	bool add(const noise::Keypair &keypair);
	// The data plane saw data with local_index: if that is `next`, it becomes current.
	// True when it did (the caller reports on_handshake_complete and sends staged packets).
	bool confirm(std::uint32_t local_index);
	// Retires all three (zero_key_material, peer removed, private key changed).
	void clear();
	// A daemon taking over: @live are this peer's keypairs found LIVE in the data plane,
	// @current_index the one it sends with. That one becomes current; the newest
	// unconfirmed responder's keypair born after it, next; the newest one before it,
	// previous. Any other is retired.
	void adopt(std::vector<Entry> live, std::uint32_t current_index);
	// Retires each one born @limit_ns or more before @now: 3 x REJECT_AFTER_TIME, when
	// the key reaper wipes it in the data plane (XWG_KEYPAIR_WIPED), so that the entry,
	// its slot and its index are collected instead of lingering as `previous`.
	void expire(std::uint64_t now, std::uint64_t limit_ns);

	const Entry *previous() const { return previous_.get(); }
	const Entry *current() const { return current_.get(); }
	const Entry *next() const { return next_.get(); }

private:
	void drop(std::unique_ptr<Entry> &slot);

	// On the heap: most of 65,536 peers hold no session, and an Entry is ~100 bytes.
	KeypairStore &store_;
	std::unique_ptr<Entry> previous_;
	std::unique_ptr<Entry> current_;
	std::unique_ptr<Entry> next_;
};

// The free entries of `keypair_slots`: the one freed longest ago first.
class CounterSlots {
public:
	explicit CounterSlots(std::uint32_t count);
	std::optional<std::uint32_t> take();
	void give_back(std::uint32_t slot);
	// A daemon taking over: exactly @used are in use, the others free (in slot order).
	void set_used(const std::vector<std::uint32_t> &used);
	std::size_t available() const { return free_.size(); }

private:
	std::deque<std::uint32_t> free_;
	std::vector<bool> used_;
};

class Keypairs {
public:
	Keypairs(DataplaneInterface &dp, noise::IndexTable &indices,
		 std::uint32_t slots = XWG_MAX_KEYPAIRS);
	~Keypairs();
	Keypairs(const Keypairs &) = delete;
	Keypairs &operator=(const Keypairs &) = delete;

	// A daemon taking over: claims the slots and indices of @found, queues the retired
	// ones (and those of peers @known says are gone) for collect(), and returns the live
	// ones of known peers by peer id, for their rotations.
	std::map<std::uint32_t, std::vector<KeypairRotation::Entry>>
	adopt(const std::vector<PinnedKeypair> &found,
	      const std::function<bool(std::uint32_t peer_id)> &known);
	// The store of @peer_id's rotation. Keypairs must outlive it.
	std::unique_ptr<KeypairStore> store_for(std::uint32_t peer_id);
	// Wipes everything retired so far, after one kernel grace period; returns how many.
	// Without a grace period (it failed) nothing is wiped, and the next call tries again.
	std::size_t collect();
	// The same from the tick at @now: at most once per interval.
	std::size_t collect(std::uint64_t now);
	std::size_t retiring() const { return retiring_.size(); }
	std::size_t free_slots() const { return slots_.available(); }

private:
	class PeerStore;
	std::optional<std::uint32_t> install(std::uint32_t peer_id, const noise::Keypair &kp);
	void retire(std::uint32_t local_index, std::uint32_t slot);

	DataplaneInterface &dp_;
	noise::IndexTable &indices_;
	CounterSlots slots_;
	std::vector<std::pair<std::uint32_t, std::uint32_t>> retiring_; // local index, slot
	std::uint64_t last_collect_ns_ = 0;
	bool collected_ = false;
};

// How often the tick wipes retired keypairs (CLOCK_BOOTTIME ns): keys outlive their
// retirement by at most this plus a grace period.
inline constexpr std::uint64_t XWG_KEYPAIR_COLLECT_INTERVAL = 1'000'000'000ULL;

// One pass of the key reaper (bpf/lib/key_reaper.h) over every keypair slot: keys are
// wiped at most this long after 3 x REJECT_AFTER_TIME, with or without a daemon. A pass
// costs ~2 ms of CPU with no keypair and ~43 ms with 196,608, in 96 chunks (about 19
// timer firings a second, ~0.45 ms each when full; README, "State shared with the programs").
inline constexpr std::uint64_t XWG_KEY_REAPER_PERIOD_NS = 5'000'000'000ULL;

} // namespace xwg
