// device/keypair.cpp — previous/current/next; see keypair.h.
#include "loader/device/keypair.h"

namespace xwg {

CounterSlots::CounterSlots(std::uint32_t count) : used_(count, false)
{
	free_.reserve(count);
	for (std::uint32_t i = count; i-- > 0;)
		free_.push_back(i);
}

std::optional<std::uint32_t> CounterSlots::take()
{
	if (free_.empty())
		return std::nullopt;
	std::uint32_t slot = free_.back();
	free_.pop_back();
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

void KeypairRotation::drop(std::optional<Entry> &slot)
{
	if (!slot)
		return;
	store_.erase(slot->keypair.local_index, slot->counter_slot);
	slot.reset(); // noise::Keypair's keys wipe themselves
}

bool KeypairRotation::add(const noise::Keypair &keypair, std::uint32_t counter_slot)
{
	if (!store_.install(keypair, counter_slot))
		return false;
	Entry fresh{keypair, counter_slot};
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
	if (current_.has_value())
		store_.set_current(0);
	drop(previous_);
	drop(current_);
	drop(next_);
}

} // namespace xwg
