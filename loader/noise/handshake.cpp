// noise/handshake.cpp — create and consume WireGuard's initiation and response.
#include "loader/noise/handshake.h"

#include <sodium.h>

#include <cstddef>
#include <cstring>
#include <endian.h>

namespace xwg::noise {

namespace {

constexpr std::uint64_t NSEC_PER_SEC = 1000000000ULL;
constexpr std::uint64_t INITIATIONS_PER_SECOND = 50;

// The header word must be exactly the type: reserved bytes are zero.
bool header_is(Bytes packet, std::uint32_t type)
{
	std::uint32_t word;
	std::memcpy(&word, packet.data(), sizeof(word));
	return le32toh(word) == type;
}


std::uint32_t get_le32(const std::uint8_t *p)
{
	std::uint32_t v;
	std::memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

// Mixes a received or sent ephemeral public key: psk mode adds it to the chaining key.
void mix_ephemeral(SymmetricState &s, const PublicKey &e)
{
	s.mix_hash(e.bytes);
	s.mix_key(e.bytes);
}

} // namespace

const char *to_string(HandshakeState s)
{
	switch (s) {
	case HandshakeState::zeroed:
		return "zeroed";
	case HandshakeState::created_initiation:
		return "created initiation";
	case HandshakeState::consumed_initiation:
		return "consumed initiation";
	case HandshakeState::created_response:
		return "created response";
	case HandshakeState::consumed_response:
		return "consumed response";
	}
	return "unknown";
}

const char *to_string(HandshakeError e)
{
	switch (e) {
	case HandshakeError::ok:
		return "ok";
	case HandshakeError::wrong_length:
		return "message has the wrong length for its type";
	case HandshakeError::wrong_type:
		return "message header is not the expected type";
	case HandshakeError::wrong_state:
		return "handshake is not in the state this step needs";
	case HandshakeError::index_mismatch:
		return "response is for another handshake index";
	case HandshakeError::invalid_remote_key:
		return "peer's static key gives a zero shared secret";
	case HandshakeError::bad_ephemeral:
		return "received ephemeral key gives a zero shared secret";
	case HandshakeError::static_decrypt_failed:
		return "initiation's static key does not decrypt (not for our key)";
	case HandshakeError::unknown_peer:
		return "initiation from a static key that is no configured peer";
	case HandshakeError::payload_decrypt_failed:
		return "initiation's timestamp does not decrypt";
	case HandshakeError::replayed_timestamp:
		return "initiation timestamp is not newer than the last one accepted";
	case HandshakeError::initiation_flood:
		return "initiations from this peer arrive faster than 50 per second";
	case HandshakeError::response_decrypt_failed:
		return "response does not authenticate (wrong preshared key or keys)";
	}
	return "unknown";
}

Identity Identity::from_private(const PrivateKey &key, const Protocol &protocol)
{
	Identity id;
	id.private_key = key;
	id.public_key = public_key_of(key);
	id.protocol = protocol;
	return id;
}

// An initiation that decrypted but is not yet accepted.
struct Handshake::Pending {
	SymmetricState symmetric;
	PublicKey remote_ephemeral;
	std::uint32_t sender_index = 0;
	Handshake *peer = nullptr;
};

Handshake::Handshake(const Identity &local, const PublicKey &remote_static,
		     const PresharedKey &psk)
    : local_(local), remote_static_(remote_static), psk_(psk)
{
}

// DH(our static, their static), computed at first use (a device with 65,536 peers would
// otherwise spend seconds on them at start) and kept. A failure leaves it zero, which every
// step then refuses.
const SymmetricKey &Handshake::static_static()
{
	if (!static_static_ready_) {
		(void)dh(static_static_, local_.private_key, remote_static_);
		static_static_ready_ = true;
	}
	return static_static_;
}

Handshake::~Handshake()
{
	clear();
}

void Handshake::local_identity_changed()
{
	clear();
	static_static_.wipe();
	static_static_ready_ = false;
}

void Handshake::clear()
{
	symmetric_.wipe();
	ephemeral_.wipe();
	remote_ephemeral_ = PublicKey{};
	local_index_ = 0;
	remote_index_ = 0;
	state_ = HandshakeState::zeroed;
}

PrivateKey Handshake::take_ephemeral()
{
	if (next_ephemeral_) {
		PrivateKey k = *next_ephemeral_;
		next_ephemeral_.reset();
		return k;
	}
	return generate_private_key();
}

HandshakeError Handshake::write_initiation(std::span<std::uint8_t> out, Bytes payload)
{
	if (out.size() != INITIATION_NOISE_LEN + payload.size())
		return HandshakeError::wrong_length;
	if (static_static().is_zero())
		return HandshakeError::invalid_remote_key;

	SymmetricState s;
	SymmetricKey key;
	PrivateKey e = take_ephemeral();
	PublicKey e_pub = public_key_of(e);

	s.initialize(local_.protocol, remote_static_);
	// e
	std::memcpy(out.data(), e_pub.data(), NOISE_PUBKEY_LEN);
	mix_ephemeral(s, e_pub);
	// es
	if (!s.mix_dh(key, e, remote_static_))
		return HandshakeError::invalid_remote_key;
	// s
	s.encrypt_and_hash(out.subspan(32, 32 + AEAD_TAG_LEN), local_.public_key.bytes, key);
	// ss
	if (!s.mix_precomputed_dh(key, static_static()))
		return HandshakeError::invalid_remote_key;
	// {payload}
	s.encrypt_and_hash(out.subspan(INITIATION_NOISE_LEN - AEAD_TAG_LEN), payload, key);

	symmetric_ = s;
	ephemeral_ = e;
	remote_ephemeral_ = PublicKey{};
	state_ = HandshakeState::created_initiation;
	return HandshakeError::ok;
}

HandshakeError Handshake::create_initiation(xwg_msg_initiation &msg, std::uint32_t sender_index,
					    const Tai64n &timestamp)
{
	std::memset(&msg, 0, sizeof(msg));
	msg.header.type = htole32(XWG_MSG_HEADER(XWG_MSG_HANDSHAKE_INITIATION));
	msg.sender_index = htole32(sender_index);
	// ephemeral, static and timestamp are contiguous: the Noise message with a 12-byte
	// payload.
	auto noise = std::span<std::uint8_t>(reinterpret_cast<std::uint8_t *>(&msg) +
						     offsetof(xwg_msg_initiation, unencrypted_ephemeral),
					     INITIATION_NOISE_LEN + timestamp.size());
	auto err = write_initiation(noise, timestamp);
	if (err != HandshakeError::ok) {
		sodium_memzero(&msg, sizeof(msg));
		return err;
	}
	local_index_ = sender_index;
	remote_index_ = 0;
	return HandshakeError::ok;
}

InitiationResult Handshake::decrypt_initiation(const Identity &local, Bytes message,
					       std::span<std::uint8_t> payload,
					       const PeerLookup &lookup, Pending &p)
{
	if (message.size() < INITIATION_NOISE_LEN ||
	    payload.size() != message.size() - INITIATION_NOISE_LEN)
		return {HandshakeError::wrong_length, nullptr};

	SymmetricKey key;
	PublicKey initiator_static;
	SymmetricState &s = p.symmetric;

	s.initialize(local.protocol, local.public_key);
	// e
	std::memcpy(p.remote_ephemeral.data(), message.data(), NOISE_PUBKEY_LEN);
	mix_ephemeral(s, p.remote_ephemeral);
	// es
	if (!s.mix_dh(key, local.private_key, p.remote_ephemeral))
		return {HandshakeError::bad_ephemeral, nullptr};
	// s
	if (!s.decrypt_and_hash(initiator_static.bytes, message.subspan(32, 32 + AEAD_TAG_LEN),
				key))
		return {HandshakeError::static_decrypt_failed, nullptr};
	Handshake *peer = lookup(initiator_static);
	if (!peer)
		return {HandshakeError::unknown_peer, nullptr};
	// ss
	if (!s.mix_precomputed_dh(key, peer->static_static()))
		return {HandshakeError::invalid_remote_key, nullptr};
	// {payload}; libsodium wants a writable pointer even for an empty payload.
	std::uint8_t empty;
	std::span<std::uint8_t> out = payload.empty() ? std::span<std::uint8_t>(&empty, 0) : payload;
	if (!s.decrypt_and_hash(out, message.subspan(INITIATION_NOISE_LEN - AEAD_TAG_LEN), key))
		return {HandshakeError::payload_decrypt_failed, nullptr};
	p.peer = peer;
	return {HandshakeError::ok, peer};
}

void Handshake::commit_initiation(Pending &p)
{
	symmetric_ = p.symmetric;
	remote_ephemeral_ = p.remote_ephemeral;
	remote_index_ = p.sender_index;
	ephemeral_.wipe();
	local_index_ = 0;
	state_ = HandshakeState::consumed_initiation;
}

InitiationResult Handshake::read_initiation(const Identity &local, Bytes message,
					    std::span<std::uint8_t> payload,
					    const PeerLookup &lookup)
{
	Pending p;
	auto r = decrypt_initiation(local, message, payload, lookup, p);
	if (r.error == HandshakeError::ok)
		r.peer->commit_initiation(p);
	return r;
}

InitiationResult Handshake::consume_initiation(const Identity &local, Bytes packet,
					       const PeerLookup &lookup, std::uint64_t now_ns)
{
	if (packet.size() != sizeof(xwg_msg_initiation))
		return {HandshakeError::wrong_length, nullptr};
	if (!header_is(packet, XWG_MSG_HANDSHAKE_INITIATION))
		return {HandshakeError::wrong_type, nullptr};

	Pending p;
	Tai64n timestamp;
	auto noise = packet.subspan(offsetof(xwg_msg_initiation, unencrypted_ephemeral),
				    INITIATION_NOISE_LEN + timestamp.size());
	auto r = decrypt_initiation(local, noise, timestamp, lookup, p);
	if (r.error != HandshakeError::ok)
		return r;

	Handshake *peer = r.peer;
	// Replay: an initiation must carry a newer timestamp than the last one accepted.
	if (!tai64n_after(timestamp, peer->latest_timestamp_))
		return {HandshakeError::replayed_timestamp, nullptr};
	// Flood: at most INITIATIONS_PER_SECOND accepted per peer, even with fresh stamps.
	if (peer->last_initiation_consumption_ns_ &&
	    now_ns < peer->last_initiation_consumption_ns_ + NSEC_PER_SEC / INITIATIONS_PER_SECOND)
		return {HandshakeError::initiation_flood, nullptr};

	p.sender_index = get_le32(packet.data() + offsetof(xwg_msg_initiation, sender_index));
	peer->commit_initiation(p);
	peer->latest_timestamp_ = timestamp;
	peer->last_initiation_consumption_ns_ = now_ns;
	return r;
}

HandshakeError Handshake::write_response(std::span<std::uint8_t> out, Bytes payload)
{
	if (state_ != HandshakeState::consumed_initiation)
		return HandshakeError::wrong_state;
	if (out.size() != RESPONSE_NOISE_LEN + payload.size())
		return HandshakeError::wrong_length;

	SymmetricState s = symmetric_;
	SymmetricKey key;
	PrivateKey e = take_ephemeral();
	PublicKey e_pub = public_key_of(e);

	// e
	std::memcpy(out.data(), e_pub.data(), NOISE_PUBKEY_LEN);
	mix_ephemeral(s, e_pub);
	// ee
	if (!s.mix_dh(key, e, remote_ephemeral_))
		return HandshakeError::bad_ephemeral;
	// se
	if (!s.mix_dh(key, e, remote_static_))
		return HandshakeError::invalid_remote_key;
	// psk
	s.mix_psk(key, psk_);
	// {payload}
	s.encrypt_and_hash(out.subspan(NOISE_PUBKEY_LEN), payload, key);

	symmetric_ = s;
	ephemeral_ = e;
	state_ = HandshakeState::created_response;
	return HandshakeError::ok;
}

HandshakeError Handshake::create_response(xwg_msg_response &msg, std::uint32_t sender_index)
{
	if (state_ != HandshakeState::consumed_initiation)
		return HandshakeError::wrong_state;
	std::memset(&msg, 0, sizeof(msg));
	msg.header.type = htole32(XWG_MSG_HEADER(XWG_MSG_HANDSHAKE_RESPONSE));
	msg.sender_index = htole32(sender_index);
	msg.receiver_index = htole32(remote_index_);
	auto noise = std::span<std::uint8_t>(reinterpret_cast<std::uint8_t *>(&msg) +
						     offsetof(xwg_msg_response, unencrypted_ephemeral),
					     RESPONSE_NOISE_LEN);
	auto err = write_response(noise, Bytes());
	if (err != HandshakeError::ok) {
		sodium_memzero(&msg, sizeof(msg));
		return err;
	}
	local_index_ = sender_index;
	return HandshakeError::ok;
}

HandshakeError Handshake::read_response(Bytes message, std::span<std::uint8_t> payload)
{
	if (state_ != HandshakeState::created_initiation)
		return HandshakeError::wrong_state;
	if (message.size() < RESPONSE_NOISE_LEN ||
	    payload.size() != message.size() - RESPONSE_NOISE_LEN)
		return HandshakeError::wrong_length;

	SymmetricState s = symmetric_;
	SymmetricKey key;
	PublicKey re;

	// e
	std::memcpy(re.data(), message.data(), NOISE_PUBKEY_LEN);
	mix_ephemeral(s, re);
	// ee
	if (!s.mix_dh(key, ephemeral_, re))
		return HandshakeError::bad_ephemeral;
	// se
	if (!s.mix_dh(key, local_.private_key, re))
		return HandshakeError::bad_ephemeral;
	// psk
	s.mix_psk(key, psk_);
	// {payload}
	std::uint8_t empty;
	std::span<std::uint8_t> out = payload.empty() ? std::span<std::uint8_t>(&empty, 0) : payload;
	if (!s.decrypt_and_hash(out, message.subspan(NOISE_PUBKEY_LEN), key))
		return HandshakeError::response_decrypt_failed;

	symmetric_ = s;
	remote_ephemeral_ = re;
	state_ = HandshakeState::consumed_response;
	return HandshakeError::ok;
}

HandshakeError Handshake::consume_response(Bytes packet)
{
	if (packet.size() != sizeof(xwg_msg_response))
		return HandshakeError::wrong_length;
	if (!header_is(packet, XWG_MSG_HANDSHAKE_RESPONSE))
		return HandshakeError::wrong_type;
	if (state_ != HandshakeState::created_initiation)
		return HandshakeError::wrong_state;
	if (get_le32(packet.data() + offsetof(xwg_msg_response, receiver_index)) != local_index_)
		return HandshakeError::index_mismatch;

	auto noise = packet.subspan(offsetof(xwg_msg_response, unencrypted_ephemeral),
				    RESPONSE_NOISE_LEN);
	auto err = read_response(noise, std::span<std::uint8_t>());
	if (err != HandshakeError::ok)
		return err;
	remote_index_ = get_le32(packet.data() + offsetof(xwg_msg_response, sender_index));
	return HandshakeError::ok;
}

HandshakeError Handshake::begin_session(Keypair &out, std::uint64_t now_ns)
{
	if (state_ == HandshakeState::consumed_response) {
		symmetric_.split(out.sending, out.receiving);
		out.initiator = true;
	} else if (state_ == HandshakeState::created_response) {
		symmetric_.split(out.receiving, out.sending);
		out.initiator = false;
	} else {
		return HandshakeError::wrong_state;
	}
	out.local_index = local_index_;
	out.remote_index = remote_index_;
	out.birth_ns = now_ns;
	clear();
	return HandshakeError::ok;
}

} // namespace xwg::noise
