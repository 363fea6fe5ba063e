// noise/symmetric_state.h — Noise's SymmetricState (Noise spec §5.2) for WireGuard's suite: the
// chaining key and transcript hash, and the MixHash/MixKey/MixDH/psk steps the handshake
// is written in. Message keys are used once, with nonce zero, as WireGuard does.
#pragma once

#include "loader/types/keys.h"
#include "loader/noise/blake2s_kdf.h"

#include <string_view>

namespace xwg::noise {

// The protocol name and the prologue. WireGuard's prologue is its identifier string; the
// cacophony test vectors use another one, so it is a parameter.
struct Protocol {
	std::string_view construction = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
	std::string_view identifier = "WireGuard v1 zx2c4 Jason@zx2c4.com";
};

inline constexpr std::size_t AEAD_TAG_LEN = 16;

class SymmetricState
{
public:
	SymmetricState() = default;
	SymmetricState(const SymmetricState &) = default;
	SymmetricState &operator=(const SymmetricState &) = default;
	~SymmetricState() { wipe(); }

	// ck = HASH(construction), h = HASH(ck || identifier), then h = HASH(h || responder).
	void initialize(const Protocol &protocol, const PublicKey &responder_static);
	void mix_hash(Bytes data);
	// ck = KDF1(ck, data): the psk-mode mixing of an ephemeral public key.
	void mix_key(Bytes data);
	// ck, key = KDF2(ck, DH(priv, pub)). False when the shared secret is all zero (a
	// low-order point), which WireGuard rejects.
	[[nodiscard]] bool mix_dh(SymmetricKey &key, const PrivateKey &priv, const PublicKey &pub);
	// The same with a DH result computed earlier (static-static); false when it is zero.
	[[nodiscard]] bool mix_precomputed_dh(SymmetricKey &key, const SymmetricKey &shared);
	// ck, tau, key = KDF3(ck, psk); h = HASH(h || tau).
	void mix_psk(SymmetricKey &key, const PresharedKey &psk);
	// out = AEAD(key, 0, plain, h) (plain.size() + 16 bytes); h = HASH(h || out).
	void encrypt_and_hash(std::span<std::uint8_t> out, Bytes plain, const SymmetricKey &key);
	// The reverse; false (and h unchanged) when the tag does not verify.
	[[nodiscard]] bool decrypt_and_hash(std::span<std::uint8_t> plain, Bytes sealed,
					    const SymmetricKey &key);
	// first, second = KDF2(ck, ""): initiator's sending key first.
	void split(SymmetricKey &first, SymmetricKey &second) const;

	const std::uint8_t *hash() const { return h_; }
	void wipe();

private:
	std::uint8_t ck_[HASH_LEN] = {};
	std::uint8_t h_[HASH_LEN] = {};
};

// X25519; false for an all-zero result.
[[nodiscard]] bool dh(SymmetricKey &out, const PrivateKey &priv, const PublicKey &pub);

} // namespace xwg::noise
