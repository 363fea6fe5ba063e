// device/peer.cpp — see peer.h.
#include "loader/device/peer.h"

#include <cerrno>

namespace xwg {

Peer::Peer(std::uint32_t id_, const noise::Identity &identity, const PublicKey &remote,
	   const PresharedKey &psk_, const TimerSettings &settings, TimerActions actions,
	   std::unique_ptr<KeypairStore> store_)
	: id(id_), public_key(remote), psk(psk_),
	  handshake(std::make_unique<noise::Handshake>(identity, remote, psk_)), cookie(remote),
	  timers(settings, std::move(actions)), store(std::move(store_)), keypairs(*store)
{
}

std::optional<std::uint32_t> PeerIds::take()
{
	if (!freed_.empty()) {
		const std::uint32_t id = *freed_.begin();
		freed_.erase(freed_.begin());
		return id;
	}
	if (next_ >= count_)
		return std::nullopt;
	return next_++;
}

bool PeerIds::take(std::uint32_t id)
{
	if (id >= count_)
		return false;
	if (id < next_)
		return freed_.erase(id) == 1;
	for (std::uint32_t skipped = next_; skipped < id; ++skipped)
		freed_.insert(skipped);
	next_ = id + 1;
	return true;
}

void PeerIds::give_back(std::uint32_t id)
{
	if (id < next_)
		freed_.insert(id);
}

Peers::Peers(DataplaneInterface &dp, std::uint32_t max) : dp_(dp), ids_(max), by_id_(max, nullptr)
{
}

Peer *Peers::create(const PublicKey &key,
		    const std::function<std::unique_ptr<Peer>(std::uint32_t id)> &make)
{
	const auto id = ids_.take();
	if (!id) {
		errno = ENOSPC;
		return nullptr;
	}
	auto peer = make(*id);
	// Counters of an earlier peer with this id start from zero.
	xwg_peer value{};
	value.active = 1;
	if (!dp_.clear_peer(*id) || !dp_.set_peer(*id, value)) {
		const int err = errno;
		dp_.clear_peer(*id);
		ids_.give_back(*id);
		errno = err;
		return nullptr;
	}
	Peer *raw = peer.get();
	by_id_[*id] = raw;
	peers_[key] = std::move(peer);
	return raw;
}

Peer *Peers::adopt(const PublicKey &key, std::uint32_t id,
		   const std::function<std::unique_ptr<Peer>(std::uint32_t id)> &make)
{
	if (peers_.count(key) || !ids_.take(id)) {
		errno = EEXIST;
		return nullptr;
	}
	auto peer = make(id);
	Peer *raw = peer.get();
	by_id_[id] = raw;
	peers_[key] = std::move(peer);
	return raw;
}

Peer *Peers::renew(const PublicKey &key,
		   const std::function<std::unique_ptr<Peer>(std::uint32_t id)> &make)
{
	auto it = peers_.find(key);
	if (it == peers_.end())
		return nullptr;
	it->second = make(it->second->id);
	by_id_[it->second->id] = it->second.get();
	return it->second.get();
}

void Peers::erase(const PublicKey &key)
{
	auto it = peers_.find(key);
	if (it == peers_.end())
		return;
	const std::uint32_t id = it->second->id;
	dp_.clear_peer(id);
	if (id >= used_.size())
		used_.resize(id + 1, false);
	used_[id] = true;
	by_id_[id] = nullptr;
	ids_.give_back(id);
	peers_.erase(it);
}

Peer *Peers::find(const PublicKey &key) const
{
	auto it = peers_.find(key);
	return it == peers_.end() ? nullptr : it->second.get();
}

std::uint32_t Peers::id_bound() const
{
	for (std::uint32_t id = static_cast<std::uint32_t>(by_id_.size()); id > 0; --id)
		if (by_id_[id - 1])
			return id;
	return 0;
}

} // namespace xwg
