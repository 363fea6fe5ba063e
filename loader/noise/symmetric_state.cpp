// noise/symmetric_state.cpp — chaining key and transcript hash on BLAKE2s, AEAD on libsodium.
#include "loader/noise/symmetric_state.h"

#include <sodium.h>

#include <cstring>

namespace xwg::noise {

namespace {
const std::uint8_t zero_nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES] = {};
} // namespace

bool dh(SymmetricKey &out, const PrivateKey &priv, const PublicKey &pub)
{
	// libsodium clamps the scalar and returns -1 for an all-zero shared secret.
	if (crypto_scalarmult_curve25519(out.data(), priv.data(), pub.data()) != 0) {
		out.wipe();
		return false;
	}
	return true;
}

void SymmetricState::initialize(const Protocol &protocol, const PublicKey &responder_static)
{
	auto name = Bytes(reinterpret_cast<const std::uint8_t *>(protocol.construction.data()),
			  protocol.construction.size());
	// Noise: a name of at most HASHLEN bytes is zero-padded, a longer one hashed.
	if (name.size() <= HASH_LEN) {
		std::memset(ck_, 0, HASH_LEN);
		std::memcpy(ck_, name.data(), name.size());
	} else {
		noise::hash(ck_, {name});
	}
	std::memcpy(h_, ck_, HASH_LEN);
	mix_hash(Bytes(reinterpret_cast<const std::uint8_t *>(protocol.identifier.data()),
		       protocol.identifier.size()));
	mix_hash(responder_static.bytes);
}

void SymmetricState::mix_hash(Bytes data)
{
	noise::hash(h_, {Bytes(h_, HASH_LEN), data});
}

void SymmetricState::mix_key(Bytes data)
{
	kdf(ck_, nullptr, nullptr, Bytes(ck_, HASH_LEN), data);
}

bool SymmetricState::mix_precomputed_dh(SymmetricKey &key, const SymmetricKey &shared)
{
	if (shared.is_zero())
		return false;
	kdf(ck_, key.data(), nullptr, Bytes(ck_, HASH_LEN), Bytes(shared.data(), shared.size()));
	return true;
}

bool SymmetricState::mix_dh(SymmetricKey &key, const PrivateKey &priv, const PublicKey &pub)
{
	SymmetricKey shared;
	if (!dh(shared, priv, pub))
		return false;
	return mix_precomputed_dh(key, shared);
}

void SymmetricState::mix_psk(SymmetricKey &key, const PresharedKey &psk)
{
	std::uint8_t tau[HASH_LEN];
	kdf(ck_, tau, key.data(), Bytes(ck_, HASH_LEN), Bytes(psk.data(), psk.size()));
	mix_hash(Bytes(tau, HASH_LEN));
	sodium_memzero(tau, sizeof(tau));
}

void SymmetricState::encrypt_and_hash(std::span<std::uint8_t> out, Bytes plain,
				      const SymmetricKey &key)
{
	crypto_aead_chacha20poly1305_ietf_encrypt(out.data(), nullptr, plain.data(), plain.size(),
						  h_, HASH_LEN, nullptr, zero_nonce, key.data());
	mix_hash(Bytes(out.data(), plain.size() + AEAD_TAG_LEN));
}

bool SymmetricState::decrypt_and_hash(std::span<std::uint8_t> plain, Bytes sealed,
				      const SymmetricKey &key)
{
	if (sealed.size() < AEAD_TAG_LEN || plain.size() < sealed.size() - AEAD_TAG_LEN)
		return false;
	if (crypto_aead_chacha20poly1305_ietf_decrypt(plain.data(), nullptr, nullptr,
						      sealed.data(), sealed.size(), h_, HASH_LEN,
						      zero_nonce, key.data()) != 0)
		return false;
	mix_hash(sealed);
	return true;
}

void SymmetricState::split(SymmetricKey &first, SymmetricKey &second) const
{
	kdf(first.data(), second.data(), nullptr, Bytes(ck_, HASH_LEN), Bytes());
}

void SymmetricState::wipe()
{
	sodium_memzero(ck_, sizeof(ck_));
	sodium_memzero(h_, sizeof(h_));
}

} // namespace xwg::noise
