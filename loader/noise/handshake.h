// noise/handshake.h — WireGuard's Noise_IKpsk2 handshake (whitepaper §5.4), one object per peer:
//
//   <- s
//   ******
//   -> e, es, s, ss, {timestamp}      initiation, type 1, 148 bytes
//   <- e, ee, se, psk, {}             response, type 2, 92 bytes
//
// The state is an enum named by the last action; every step checks the state it expects
// and fails closed, leaving the state as it was. Every failure has its own reason; nothing
// on the packet path throws. MACs and cookies are cookie.h's job: callers add mac1/mac2
// after create_* and check them before consume_*.
//
// The write_/read_ functions are the bare Noise messages with a payload of any length (the
// cacophony test vectors use them); create_/consume_ wrap them in WireGuard's formats and
// add WireGuard's policy (timestamps, flood limit, indices).
#pragma once

#include "loader/types/keys.h"
#include "loader/noise/keypair.h"
#include "loader/noise/symmetric_state.h"
#include "loader/noise/tai64n.h"
#include "xwg/wire.h"

#include <functional>
#include <optional>

namespace xwg::noise {

enum class HandshakeState {
	zeroed,
	created_initiation,
	consumed_initiation,
	created_response,
	consumed_response,
};
const char *to_string(HandshakeState s);

enum class HandshakeError {
	ok,
	wrong_length,             // not the size the message type requires
	wrong_type,               // header is not the expected type with zero reserved bytes
	wrong_state,              // step out of order, e.g. a response nobody waits for
	index_mismatch,           // response's receiver index is not this handshake's
	invalid_remote_key,       // DH with the peer's static key is zero (low-order point)
	bad_ephemeral,            // DH with the received ephemeral is zero
	static_decrypt_failed,    // initiation's static does not decrypt: not sealed to our key
	unknown_peer,             // the initiator's static key is no configured peer
	payload_decrypt_failed,   // initiation's timestamp does not decrypt (static-static)
	replayed_timestamp,       // timestamp not newer than the last accepted from this peer
	initiation_flood,         // initiations from this peer faster than 50 per second
	response_decrypt_failed,  // response does not authenticate: wrong psk or keys
};
const char *to_string(HandshakeError e);

// The local interface's static key pair and the protocol instance it speaks.
struct Identity {
	PrivateKey private_key;
	PublicKey public_key;
	Protocol protocol;

	static Identity from_private(const PrivateKey &key, const Protocol &protocol = {});
};

inline constexpr std::size_t NOISE_PUBKEY_LEN = 32;
inline constexpr std::size_t INITIATION_NOISE_LEN = 32 + 32 + AEAD_TAG_LEN + AEAD_TAG_LEN;
inline constexpr std::size_t RESPONSE_NOISE_LEN = 32 + AEAD_TAG_LEN;
// A WireGuard-sized initiation carries a TAI64N timestamp, a response nothing.
inline constexpr std::size_t INITIATION_INITIATOR_PAYLOAD = 12;

class Handshake;
// Maps an initiator's static public key to the handshake of the peer that has it.
using PeerLookup = std::function<Handshake *(const PublicKey &)>;

struct InitiationResult {
	HandshakeError error;
	Handshake *peer; // the peer whose handshake now holds the initiation, on success
};

class Handshake
{
public:
	// `local` must outlive the handshake. An all-zero psk means "no preshared key".
	Handshake(const Identity &local, const PublicKey &remote_static,
		  const PresharedKey &psk = PresharedKey{});
	~Handshake();
	Handshake(const Handshake &) = delete;
	Handshake &operator=(const Handshake &) = delete;

	HandshakeState state() const { return state_; }
	const PublicKey &remote_static() const { return remote_static_; }
	std::uint32_t local_index() const { return local_index_; }
	std::uint32_t remote_index() const { return remote_index_; }
	void set_preshared_key(const PresharedKey &psk) { psk_ = psk; }
	// The transcript hash h so far (the Noise "handshake hash" once the response is done).
	const std::uint8_t *transcript_hash() const { return symmetric_.hash(); }
	// Forget a handshake in progress; keeps the peer's keys and its replay timestamp.
	void clear();
	// Our static key (the Identity `local` refers to) changed: the static-static DH is
	// computed again and a handshake in progress forgotten, as in Linux. The newest
	// timestamp and the flood limit stay, so an initiation captured before the change is
	// still refused after a change back.
	void local_identity_changed();

	// --- WireGuard messages --------------------------------------------------------
	// Initiator: a fresh initiation with our index `sender_index` (from IndexTable).
	// Allowed in any state: a new initiation replaces an unanswered one. MACs are zero.
	HandshakeError create_initiation(xwg_msg_initiation &msg, std::uint32_t sender_index,
					 const Tai64n &timestamp = tai64n_now());
	// Responder: checks length, type, decrypts, finds the peer with `lookup`, enforces the
	// timestamp and flood rules, and moves that peer's handshake to consumed_initiation.
	static InitiationResult consume_initiation(const Identity &local, Bytes packet,
						   const PeerLookup &lookup,
						   std::uint64_t now_ns);
	// Responder, after consume_initiation: our index is `sender_index`. MACs are zero.
	HandshakeError create_response(xwg_msg_response &msg, std::uint32_t sender_index);
	// Initiator: the response to our outstanding initiation (the caller found this
	// handshake by the message's receiver index).
	HandshakeError consume_response(Bytes packet);
	// After create_response (responder) or consume_response (initiator): derive the
	// transport keys and zero the handshake state.
	HandshakeError begin_session(Keypair &out, std::uint64_t now_ns);

	// --- bare Noise messages, any payload ----------------------------------------------
	// out: INITIATION_NOISE_LEN + payload.size() bytes.
	HandshakeError write_initiation(std::span<std::uint8_t> out, Bytes payload);
	// payload: message.size() - INITIATION_NOISE_LEN bytes. No timestamp policy.
	static InitiationResult read_initiation(const Identity &local, Bytes message,
						std::span<std::uint8_t> payload,
						const PeerLookup &lookup);
	// out: RESPONSE_NOISE_LEN + payload.size() bytes.
	HandshakeError write_response(std::span<std::uint8_t> out, Bytes payload);
	HandshakeError read_response(Bytes message, std::span<std::uint8_t> payload);

	// Tests and test vectors only: the next ephemeral key to use instead of a random one.
	void use_ephemeral_once(const PrivateKey &key) { next_ephemeral_ = key; }

private:
	struct Pending;
	static InitiationResult decrypt_initiation(const Identity &local, Bytes message,
						   std::span<std::uint8_t> payload,
						   const PeerLookup &lookup, Pending &pending);
	void commit_initiation(Pending &pending);
	PrivateKey take_ephemeral();

	const Identity &local_;
	PublicKey remote_static_;
	PresharedKey psk_;
	const SymmetricKey &static_static();
	SymmetricKey static_static_; // DH(our static, their static), see static_static()
	bool static_static_ready_ = false;
	HandshakeState state_ = HandshakeState::zeroed;
	SymmetricState symmetric_;
	PrivateKey ephemeral_;
	PublicKey remote_ephemeral_;
	std::uint32_t local_index_ = 0;
	std::uint32_t remote_index_ = 0;
	Tai64n latest_timestamp_{};
	std::uint64_t last_initiation_consumption_ns_ = 0;
	std::optional<PrivateKey> next_ephemeral_;
};

} // namespace xwg::noise
