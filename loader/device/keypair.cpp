// device/keypair.cpp — previous/current/next and the keypairs' life in the data plane;
// see keypair.h.
#include "loader/device/keypair.h"

#include <sodium.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace xwg {

// ---- one peer's three sessions ----------------------------------------------------------

void KeypairRotation::drop(std::unique_ptr<Entry> &slot)
{
	if (!slot)
		return;
	store_.retire(slot->keypair.local_index, slot->counter_slot);
	slot.reset(); // noise::Keypair's keys wipe themselves
}

bool KeypairRotation::add(const noise::Keypair &keypair)
{
	const auto counter_slot = store_.install(keypair);
	if (!counter_slot)
		return false;
	auto fresh = std::make_unique<Entry>(Entry{keypair, *counter_slot});
	if (keypair.initiator) {
		// We initiated: the peer has these keys already, send with them at once. An
		// unconfirmed next (from a crossing handshake) becomes previous, so late data
		// with it still decrypts; the old current goes.
		// The data plane moves to the new keypair before any old one goes.
		store_.set_current(keypair.local_index);
		if (next_) {
			drop(previous_);
			previous_ = std::move(next_);
			next_.reset();
			drop(current_);
		} else {
			drop(previous_);
			previous_ = std::move(current_);
			current_.reset();
		}
		current_ = std::move(fresh);
	} else {
		// We responded: wait for the initiator's first data with it (confirm()).
		drop(next_);
		next_ = std::move(fresh);
		drop(previous_);
	}
	return true;
}

bool KeypairRotation::confirm(std::uint32_t local_index)
{
	if (!next_ || next_->keypair.local_index != local_index)
		return false;
	drop(previous_);
	previous_ = std::move(current_);
	current_ = std::move(next_);
	next_.reset();
	store_.set_current(current_->keypair.local_index);
	return true;
}

void KeypairRotation::clear()
{
	// Nothing may point at a keypair while it is being retired.
	if (current_)
		store_.set_current(0);
	drop(previous_);
	drop(current_);
	drop(next_);
}

void KeypairRotation::adopt(std::vector<Entry> live, std::uint32_t current_index)
{
	std::sort(live.begin(), live.end(), [](const Entry &a, const Entry &b) {
		return a.keypair.birth_ns > b.keypair.birth_ns; // newest first
	});
	std::uint64_t current_birth = 0;
	for (const Entry &e : live)
		if (e.keypair.local_index == current_index)
			current_birth = e.keypair.birth_ns;
	for (Entry &e : live) {
		std::unique_ptr<Entry> *place = nullptr;
		if (e.keypair.local_index == current_index)
			place = &current_;
		else if (e.keypair.birth_ns > current_birth)
			// Newer than current: a responder's, not confirmed yet (an initiator's
			// becomes current at once, so a newer one cannot be).
			place = e.keypair.initiator ? nullptr : &next_;
		else
			place = &previous_;
		if (place && !*place) {
			*place = std::make_unique<Entry>(std::move(e));
			continue;
		}
		store_.retire(e.keypair.local_index, e.counter_slot);
	}
	if (!current_ && current_index)
		store_.set_current(0); // it points at nothing live
}

void KeypairRotation::expire(std::uint64_t now, std::uint64_t limit_ns)
{
	auto expired = [&](const std::unique_ptr<Entry> &e) {
		return e && now - e->keypair.birth_ns >= limit_ns;
	};
	if (expired(current_))
		store_.set_current(0); // nothing may point at it while it is being retired
	for (auto *e : {&previous_, &current_, &next_})
		if (expired(*e))
			drop(*e);
}

// ---- counter slots ----------------------------------------------------------------------

CounterSlots::CounterSlots(std::uint32_t count) : used_(count, false)
{
	for (std::uint32_t i = 0; i < count; ++i)
		free_.push_back(i);
}

std::optional<std::uint32_t> CounterSlots::take()
{
	if (free_.empty())
		return std::nullopt;
	std::uint32_t slot = free_.front();
	free_.pop_front();
	used_[slot] = true;
	return slot;
}

void CounterSlots::give_back(std::uint32_t slot)
{
	if (slot < used_.size() && used_[slot]) {
		used_[slot] = false;
		free_.push_back(slot);
	}
}

void CounterSlots::set_used(const std::vector<std::uint32_t> &used)
{
	std::fill(used_.begin(), used_.end(), false);
	for (std::uint32_t slot : used)
		if (slot < used_.size())
			used_[slot] = true;
	free_.clear();
	for (std::uint32_t i = 0; i < used_.size(); ++i)
		if (!used_[i])
			free_.push_back(i);
}

// ---- the device's keypairs in the data plane --------------------------------------------

class Keypairs::PeerStore final : public KeypairStore {
public:
	PeerStore(Keypairs &owner, std::uint32_t peer_id) : owner_(owner), peer_id_(peer_id) {}

	std::optional<std::uint32_t> install(const noise::Keypair &kp) override
	{
		return owner_.install(peer_id_, kp);
	}
	void retire(std::uint32_t local_index, std::uint32_t slot) override
	{
		owner_.retire(local_index, slot);
	}
	void set_current(std::uint32_t local_index) override
	{
		owner_.dp_.set_peer_current(peer_id_, local_index);
	}

private:
	Keypairs &owner_;
	std::uint32_t peer_id_;
};

Keypairs::Keypairs(DataplaneInterface &dp, noise::IndexTable &indices, std::uint32_t slots)
	: dp_(dp), indices_(indices), slots_(slots)
{
}

Keypairs::~Keypairs()
{
	collect();
}

std::map<std::uint32_t, std::vector<KeypairRotation::Entry>>
Keypairs::adopt(const std::vector<PinnedKeypair> &found,
		const std::function<bool(std::uint32_t peer_id)> &known)
{
	std::map<std::uint32_t, std::vector<KeypairRotation::Entry>> live;
	std::vector<std::uint32_t> used;
	for (const PinnedKeypair &f : found) {
		const xwg_keypair &v = f.value;
		// A slot that names another keypair is that one's (this entry was on its way
		// out when the last daemon stopped): no program uses this entry.
		if (f.slot.local_index != f.local_index || f.slot.state == XWG_KEYPAIR_UNUSED) {
			std::fprintf(stderr, "xwg: keypair %08x has no slot of its own; left alone\n",
				     f.local_index);
			continue;
		}
		used.push_back(v.counter_slot);
		indices_.insert_at(f.local_index,
				   {noise::IndexTable::Kind::keypair, v.peer_id});
		// Retired, its peer gone, or its keys wiped by the key reaper while no daemon
		// ran (3 x REJECT_AFTER_TIME): to be collected.
		if (f.slot.state != XWG_KEYPAIR_LIVE || !known(v.peer_id) ||
		    (v.flags & XWG_KEYPAIR_WIPED)) {
			dp_.retire_keypair(v.counter_slot);
			retiring_.emplace_back(f.local_index, v.counter_slot);
			continue;
		}
		KeypairRotation::Entry e;
		std::memcpy(e.keypair.sending.data(), v.send_key, sizeof(v.send_key));
		std::memcpy(e.keypair.receiving.data(), v.recv_key, sizeof(v.recv_key));
		e.keypair.local_index = f.local_index;
		e.keypair.remote_index = v.remote_index;
		e.keypair.birth_ns = v.birth_ns;
		e.keypair.initiator = (v.flags & XWG_KEYPAIR_INITIATOR) != 0;
		e.counter_slot = v.counter_slot;
		live[v.peer_id].push_back(std::move(e));
	}
	slots_.set_used(used);
	return live;
}

std::unique_ptr<KeypairStore> Keypairs::store_for(std::uint32_t peer_id)
{
	return std::make_unique<PeerStore>(*this, peer_id);
}

std::optional<std::uint32_t> Keypairs::install(std::uint32_t peer_id, const noise::Keypair &kp)
{
	const auto slot = slots_.take();
	if (!slot) {
		std::fprintf(stderr, "xwg: no free keypair slot; session dropped\n");
		return std::nullopt;
	}
	xwg_keypair value;
	noise::to_map_value(kp, peer_id, *slot, value);
	const bool ok = dp_.install_keypair(kp.local_index, *slot, value);
	sodium_memzero(&value, sizeof(value));
	if (!ok) {
		std::fprintf(stderr, "xwg: writing keypair %08x failed: %s\n", kp.local_index,
			     std::strerror(errno));
		slots_.give_back(*slot); // never live: no program can have seen it
		return std::nullopt;
	}
	return slot;
}

void Keypairs::retire(std::uint32_t local_index, std::uint32_t slot)
{
	dp_.retire_keypair(slot);
	retiring_.emplace_back(local_index, slot);
}

std::size_t Keypairs::collect(std::uint64_t now)
{
	if (retiring_.empty() ||
	    (collected_ && now - last_collect_ns_ < XWG_KEYPAIR_COLLECT_INTERVAL))
		return 0;
	last_collect_ns_ = now;
	collected_ = true;
	return collect();
}

std::size_t Keypairs::collect()
{
	if (retiring_.empty())
		return 0;
	// Everything in the list was marked before this grace period began.
	if (!dp_.grace_period()) {
		std::fprintf(stderr, "xwg: no kernel grace period (%s); keys wiped later\n",
			     std::strerror(errno));
		return 0;
	}
	const auto done = std::move(retiring_);
	retiring_.clear();
	for (auto [local_index, slot] : done) {
		dp_.wipe_keypair(local_index, slot);
		indices_.remove(local_index);
		slots_.give_back(slot);
	}
	return done.size();
}

} // namespace xwg
