// device/peer.cpp — see peer.h.
#include "loader/device/peer.h"

namespace xwg {

Peer::Peer(std::uint32_t id_, const noise::Identity &identity, const PublicKey &remote,
	   const PresharedKey &psk_, const TimerSettings &settings, TimerActions actions,
	   std::unique_ptr<KeypairStore> store_)
	: id(id_), public_key(remote), psk(psk_),
	  handshake(std::make_unique<noise::Handshake>(identity, remote, psk_)), cookie(remote),
	  timers(settings, std::move(actions)), store(std::move(store_)), keypairs(*store)
{
}

void Peer::reset_handshake(const noise::Identity &identity)
{
	handshake = std::make_unique<noise::Handshake>(identity, public_key, psk);
}

std::optional<std::uint32_t> PeerIds::take()
{
	for (std::uint32_t i = 0; i < used_.size(); ++i)
		if (!used_[i]) {
			used_[i] = true;
			return i;
		}
	return std::nullopt;
}

void PeerIds::give_back(std::uint32_t id)
{
	if (id < used_.size())
		used_[id] = false;
}

} // namespace xwg
