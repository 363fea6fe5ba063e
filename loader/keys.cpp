// keys.cpp — key generation, clamping and base64, all on libsodium.
#include "loader/keys.h"

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

std::string to_base64(const std::uint8_t *bytes)
{
	char out[KEY_BASE64_LEN + 1];
	sodium_bin2base64(out, sizeof(out), bytes, KEY_LEN, sodium_base64_VARIANT_ORIGINAL);
	return std::string(out, KEY_BASE64_LEN);
}

std::string to_base64(const std::uint8_t (&bytes)[KEY_LEN])
{
	return to_base64(&bytes[0]);
}

KeyParseError from_base64(std::string_view text, std::uint8_t *out)
{
	if (text.size() != KEY_BASE64_LEN)
		return KeyParseError::wrong_length;
	// Strict like wg: one '=' and the unused low bits of the last character zero.
	if (text[KEY_BASE64_LEN - 1] != '=')
		return KeyParseError::bad_base64;
	std::uint8_t bin[KEY_LEN];
	std::size_t len = 0;
	const char *end = nullptr;
	int rc = sodium_base642bin(bin, sizeof(bin), text.data(), text.size(), nullptr, &len,
				   &end, sodium_base64_VARIANT_ORIGINAL);
	KeyParseError result = KeyParseError::ok;
	if (rc != 0 || len != KEY_LEN || end != text.data() + text.size())
		result = KeyParseError::bad_base64;
	else
		std::memcpy(out, bin, KEY_LEN);
	sodium_memzero(bin, sizeof(bin));
	return result;
}

} // namespace xwg
