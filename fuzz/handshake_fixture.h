// handshake_fixture.h — the two peers the handshake and cookie targets talk between, and their
// messages, built the same way every time (fixed static and ephemeral keys, a fixed
// timestamp and indices). So the seeds fuzz_seeds.cpp writes are valid messages for the
// targets, and a target can rebuild the one message that may pass its checks.
#pragma once

#include "fuzz_util.h"
#include "loader/noise/cookie.h"
#include "loader/noise/handshake.h"

#include <cstring>
#include <memory>
#include <vector>

namespace xwgfuzz {

using xwg::noise::Handshake;
using xwg::noise::HandshakeError;

struct HandshakeFixture {
	static constexpr std::uint32_t kInitiatorIndex = 0x11223344;
	static constexpr std::uint32_t kResponderIndex = 0x55667788;
	static constexpr std::uint64_t kNow = 1000ull * 1000000000ull; // CLOCK_BOOTTIME, ns

	const xwg::noise::Identity initiator =
		xwg::noise::Identity::from_private(fixed_private_key(1));
	const xwg::noise::Identity responder =
		xwg::noise::Identity::from_private(fixed_private_key(2));
	const xwg::PresharedKey psk = [] {
		xwg::PresharedKey k;
		k.data()[0] = 0x42;
		return k;
	}();
	const xwg::noise::Tai64n timestamp = xwg::noise::tai64n_from(1700000000, 0);

	// The fixture lives as long as the process: handshakes keep a reference to it.
	static const HandshakeFixture &get()
	{
		static const HandshakeFixture f;
		return f;
	}

	// The initiator's handshake, its initiation (MACs zero) written into @msg.
	std::unique_ptr<Handshake> initiate(xwg_msg_initiation &msg) const
	{
		auto hs = std::make_unique<Handshake>(initiator, responder.public_key, psk);
		hs->use_ephemeral_once(fixed_private_key(3));
		FUZZ_CHECK(hs->create_initiation(msg, kInitiatorIndex, timestamp) ==
				   HandshakeError::ok,
			   "the fixture's initiation is created");
		return hs;
	}

	// The responder's (fresh) handshake with the initiator.
	std::unique_ptr<Handshake> responder_side() const
	{
		return std::make_unique<Handshake>(responder, initiator.public_key, psk);
	}

	// The responder's lookup: the initiator's key names @hs, any other key nobody.
	xwg::noise::PeerLookup lookup(Handshake &hs) const
	{
		return [this, &hs](const xwg::PublicKey &k) {
			return k == initiator.public_key ? &hs : nullptr;
		};
	}

	// The responder's answer to @initiation on @hs (which it consumes first), in @msg.
	HandshakeError respond(Handshake &hs, xwg::noise::Bytes initiation,
			       xwg_msg_response &msg) const
	{
		auto r = Handshake::consume_initiation(responder, initiation, lookup(hs), kNow);
		if (r.error != HandshakeError::ok)
			return r.error;
		hs.use_ephemeral_once(fixed_private_key(4));
		return hs.create_response(msg, kResponderIndex);
	}
};

template <class T> xwg::noise::Bytes bytes_of(const T &msg)
{
	return {reinterpret_cast<const std::uint8_t *>(&msg), sizeof(msg)};
}

// Both sides derive the session; their keys must pair up.
inline void check_session(Handshake &initiator, Handshake &responder)
{
	xwg::noise::Keypair a, b;
	FUZZ_CHECK(initiator.begin_session(a, HandshakeFixture::kNow) == HandshakeError::ok,
		   "the initiator derives a session");
	FUZZ_CHECK(responder.begin_session(b, HandshakeFixture::kNow) == HandshakeError::ok,
		   "the responder derives a session");
	FUZZ_CHECK(a.sending == b.receiving && a.receiving == b.sending,
		   "both sides of a completed handshake hold the same keys");
	FUZZ_CHECK(a.remote_index == b.local_index, "the initiator sends to the responder's index");
}

} // namespace xwgfuzz
