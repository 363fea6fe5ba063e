// types/keys.cpp — key generation, clamping and base64, all on libsodium.
#include "loader/types/keys.h"

#include "loader/types/key_codec.h"

#include <sodium.h>

#include <cstring>

namespace xwg {

namespace {

// libsodium wants its own initialisation before randombytes; it is idempotent.
void sodium_ready()
{
	static const int rc = sodium_init();
	(void)rc;
}

} // namespace

template <std::size_t N, class Tag> void Secret<N, Tag>::wipe()
{
	sodium_memzero(bytes_.data(), N);
}

template <std::size_t N, class Tag> bool Secret<N, Tag>::is_zero() const
{
	return sodium_is_zero(bytes_.data(), N) == 1;
}

template <std::size_t N, class Tag> bool Secret<N, Tag>::operator==(const Secret &other) const
{
	return sodium_memcmp(bytes_.data(), other.bytes_.data(), N) == 0;
}

template class Secret<KEY_LEN, PrivateKeyTag>;
template class Secret<KEY_LEN, PresharedKeyTag>;
template class Secret<KEY_LEN, SymmetricKeyTag>;

bool PublicKey::is_zero() const
{
	return sodium_is_zero(bytes.data(), KEY_LEN) == 1;
}

void clamp(PrivateKey &key)
{
	key.data()[0] &= 248;
	key.data()[31] = (key.data()[31] & 127) | 64;
}

PrivateKey generate_private_key()
{
	sodium_ready();
	PrivateKey key;
	randombytes_buf(key.data(), key.size());
	clamp(key);
	return key;
}

PresharedKey generate_preshared_key()
{
	sodium_ready();
	PresharedKey key;
	randombytes_buf(key.data(), key.size());
	return key;
}

PublicKey public_key_of(const PrivateKey &key)
{
	PublicKey pub;
	// Fails only for an output of all zeroes, which the base point cannot give for a
	// clamped scalar; libsodium clamps internally.
	crypto_scalarmult_curve25519_base(pub.data(), key.data());
	return pub;
}

const char *to_string(KeyParseError e)
{
	switch (e) {
	case KeyParseError::ok:
		return "ok";
	case KeyParseError::wrong_length:
		return "key is not 44 base64 characters";
	case KeyParseError::bad_base64:
		return "key is not valid base64";
	}
	return "unknown";
}

// The text forms are key_codec's (one strict decoder for the whole program); these wrap
// it for raw buffers and wipe the temporary copy, since the bytes may be a secret.
std::string to_base64(const std::uint8_t *bytes)
{
	WgKey key;
	std::memcpy(key.bytes.data(), bytes, KEY_LEN);
	std::string text = wg_key_to_base64(key);
	sodium_memzero(key.bytes.data(), key.bytes.size());
	return text;
}

std::string to_base64(const std::uint8_t (&bytes)[KEY_LEN])
{
	return to_base64(&bytes[0]);
}

KeyParseError from_base64(std::string_view text, std::uint8_t *out)
{
	if (text.size() != KEY_BASE64_LEN)
		return KeyParseError::wrong_length;
	auto key = wg_key_from_base64(text);
	if (!key)
		return KeyParseError::bad_base64;
	std::memcpy(out, key->bytes.data(), KEY_LEN);
	sodium_memzero(key->bytes.data(), key->bytes.size());
	return KeyParseError::ok;
}

} // namespace xwg
