// device/peer.h — one remote peer as the daemon keeps it (Linux peer.c): its handshake,
// cookie state, timers, sessions, staged packets and the endpoint we send to, and the
// device's set of peers. Its configuration lives in the DeviceConfig model; this is the
// runtime half. The peer id is its index in the data plane's `peers` and `endpoints`.
#pragma once

#include "loader/device/dataplane_interface.h"
#include "loader/device/keypair.h"
#include "loader/device/timers.h"
#include "loader/noise/cookie.h"
#include "loader/noise/handshake.h"
#include "loader/types/ip_prefix.h"
#include "loader/types/keys.h"

#include <ctime>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

namespace xwg {

struct Peer {
	Peer(std::uint32_t id, const noise::Identity &identity, const PublicKey &remote,
	     const PresharedKey &psk, const TimerSettings &settings, TimerActions actions,
	     std::unique_ptr<KeypairStore> store);

	const std::uint32_t id;
	PublicKey public_key;
	PresharedKey psk;
	std::unique_ptr<noise::Handshake> handshake;
	noise::CookieMaker cookie;
	Timers timers;
	std::unique_ptr<KeypairStore> store;
	KeypairRotation keypairs;

	// Inner packets waiting for a session (a vector: an empty deque costs 600 bytes, times
	// 65,536 peers).
	std::vector<std::vector<std::uint8_t>> staged;
	std::optional<Endpoint> endpoint;             // where we send: configured, then learned
	std::uint32_t handshake_index = 0;            // our index of the initiation/response in flight
	std::uint64_t last_initiation_sent_ns = 0;
	bool sent_lastminute_handshake = false;
	timespec last_handshake{};                    // CLOCK_REALTIME, zero: never

	// What peer_stats said at the last tick (to turn its timestamps into timer events).
	std::uint64_t seen_tx_ns = 0;
	std::uint64_t seen_rx_ns = 0;
	std::uint64_t seen_rx_data_ns = 0;
	// Bytes the daemon itself moved (handshakes, keepalives, staged packets).
	std::uint64_t daemon_tx_bytes = 0;
	std::uint64_t daemon_rx_bytes = 0;
};

// Free peer ids: the lowest unused first, so `bpftool map dump` stays compact. O(log n).
class PeerIds {
public:
	explicit PeerIds(std::uint32_t count) : count_(count) {}
	std::optional<std::uint32_t> take();
	// @id itself (a daemon taking over); false when it is out of range or taken.
	bool take(std::uint32_t id);
	void give_back(std::uint32_t id);

private:
	std::uint32_t count_;
	std::uint32_t next_ = 0;  // ids from here on were never handed out
	std::set<std::uint32_t> freed_; // given back, below next_
};

// The device's peers, by public key and by id, and their slots in the data plane.
class Peers {
public:
	explicit Peers(DataplaneInterface &dp, std::uint32_t max = XWG_MAX_PEERS);

	// A new peer under a fresh id (@make builds it), active in the data plane with zeroed
	// counters; nullptr (errno set, nothing changed) when every id is taken or the data
	// plane refused the slot.
	Peer *create(const PublicKey &key,
		     const std::function<std::unique_ptr<Peer>(std::uint32_t id)> &make);
	// A peer found in the data plane under @id by a daemon taking over: its slot,
	// counters and current keypair stay as they are. nullptr (errno set) when the id is
	// taken or out of range.
	Peer *adopt(const PublicKey &key, std::uint32_t id,
		    const std::function<std::unique_ptr<Peer>(std::uint32_t id)> &make);
	// The peer with @key built anew by @make under its id (a peer removed and added again
	// in one change: new sessions, same slot); nullptr when there is none. The caller has
	// stopped the old one's timers and retired its keypairs, and resets the slot.
	Peer *renew(const PublicKey &key,
		    const std::function<std::unique_ptr<Peer>(std::uint32_t id)> &make);
	// Out of the data plane and forgotten (the caller has stopped its timers and retired
	// its keypairs).
	void erase(const PublicKey &key);

	Peer *find(const PublicKey &key) const;
	Peer *by_id(std::uint32_t id) const { return id < by_id_.size() ? by_id_[id] : nullptr; }
	std::size_t size() const { return peers_.size(); }
	// One past the highest id in use.
	std::uint32_t id_bound() const;
	template <class F> void for_each(F &&f) const
	{
		for (Peer *p : by_id_)
			if (p)
				f(*p);
	}

private:
	DataplaneInterface &dp_;
	PeerIds ids_;
	std::vector<bool> used_; // ids a peer had before: cleared again before reuse
	std::map<PublicKey, std::unique_ptr<Peer>> peers_;
	std::vector<Peer *> by_id_;
};

} // namespace xwg
