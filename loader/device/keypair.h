// device/keypair.h — a peer's three sessions (whitepaper §6.3, Linux noise.c's
// add_new_keypair and wg_noise_received_with_keypair):
//
//   previous  still decrypts late packets of the session before
//   current   what we send with (peers.current_index in the data plane)
//   next      a responder's fresh session: it waits until the initiator proves it has the
//             keys by sending data with it (KEYPAIR_CONFIRMED from the data plane), and
//             only then becomes current, so we never send with keys the peer may not have.
//
// A new initiator session becomes current at once (previous <- current); a new responder
// session becomes next and drops previous. A keypair leaving the set is erased from the
// data plane (which zeroes the keys) and its counter slot is freed.
#pragma once

#include "loader/noise/keypair.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace xwg {

// Where keypairs go: the data plane's `keypairs` map and the peer's current_index.
class KeypairStore {
public:
	virtual ~KeypairStore() = default;
	virtual bool install(const noise::Keypair &keypair, std::uint32_t counter_slot) = 0;
	virtual void erase(std::uint32_t local_index, std::uint32_t counter_slot) = 0;
	virtual void set_current(std::uint32_t local_index) = 0; // 0: none
};

// The free entries of `send_counters` (one per live keypair).
class CounterSlots {
public:
	explicit CounterSlots(std::uint32_t count);
	std::optional<std::uint32_t> take();
	void give_back(std::uint32_t slot);
	std::size_t available() const { return free_.size(); }

private:
	std::vector<std::uint32_t> free_;
	std::vector<bool> used_;
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
	// the store refused it; the caller still owns the slot then.
	bool add(const noise::Keypair &keypair, std::uint32_t counter_slot);
	// The data plane saw data with local_index: if that is `next`, it becomes current.
	// True when it did (the caller reports on_handshake_complete and sends staged packets).
	bool confirm(std::uint32_t local_index);
	// Erases all three (zero_key_material, peer removed, private key changed).
	void clear();

	const Entry *previous() const { return previous_ ? &*previous_ : nullptr; }
	const Entry *current() const { return current_ ? &*current_ : nullptr; }
	const Entry *next() const { return next_ ? &*next_ : nullptr; }

private:
	void drop(std::optional<Entry> &slot);

	KeypairStore &store_;
	std::optional<Entry> previous_;
	std::optional<Entry> current_;
	std::optional<Entry> next_;
};

} // namespace xwg
