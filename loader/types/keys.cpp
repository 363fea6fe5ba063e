// types/keys.cpp — key generation, clamping, wiping and the text codec, all on libsodium.
// Base64 goes through libsodium (original alphabet, padded), which already refuses
// non-canonical trailing bits; we add wg's length, alphabet and single-'=' checks in
// front. Decoding goes through a temporary that is wiped, since the bytes may be a secret.
#include "loader/types/keys.h"

#include <sodium.h>

#include <cstring>
#include <vector>

namespace xwg {

namespace {

// libsodium wants its own initialisation before randombytes; it is idempotent.
void sodium_ready()
{
	static const int rc = sodium_init();
	(void)rc;
}

// Only the base64 alphabet and '=': libsodium 1.0.18 (Debian 12) decodes every byte from
// 0x80 up as a digit, so "...Wq\x9f\xb4bl..." would pass as the key "...Wq//bl...".
bool base64_charset(std::string_view text)
{
	for (char c : text)
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '/' || c == '='))
			return false;
	return true;
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
	if (crypto_scalarmult_curve25519_base(pub.data(), key.data()) != 0)
		pub = PublicKey{};
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
	case KeyParseError::bad_hex:
		return "key is not 64 hex digits";
	}
	return "unknown";
}

namespace key_codec {

std::string to_base64(const std::uint8_t *key)
{
	char out[sodium_base64_ENCODED_LEN(KEY_LEN, sodium_base64_VARIANT_ORIGINAL)];
	sodium_bin2base64(out, sizeof(out), key, KEY_LEN, sodium_base64_VARIANT_ORIGINAL);
	std::string text(out);
	sodium_memzero(out, sizeof(out));
	return text;
}

std::string to_hex(const std::uint8_t *key)
{
	char out[KEY_HEX_LEN + 1];
	sodium_bin2hex(out, sizeof(out), key, KEY_LEN); // lowercase
	return std::string(out, KEY_HEX_LEN);
}

KeyParseError from_base64(std::string_view text, std::uint8_t *out)
{
	if (text.size() != KEY_BASE64_LEN)
		return KeyParseError::wrong_length;
	if (text[KEY_BASE64_LEN - 1] != '=' || text[KEY_BASE64_LEN - 2] == '=' ||
	    !base64_charset(text))
		return KeyParseError::bad_base64;
	std::uint8_t key[KEY_LEN];
	std::size_t len = 0;
	const char *end = nullptr;
	KeyParseError rc = KeyParseError::bad_base64;
	if (sodium_base642bin(key, sizeof(key), text.data(), text.size(), nullptr, &len, &end,
			      sodium_base64_VARIANT_ORIGINAL) == 0 &&
	    len == KEY_LEN && end == text.data() + text.size()) {
		std::memcpy(out, key, KEY_LEN);
		rc = KeyParseError::ok;
	}
	sodium_memzero(key, sizeof(key));
	return rc;
}

KeyParseError from_hex(std::string_view text, std::uint8_t *out)
{
	if (text.size() != KEY_HEX_LEN)
		return KeyParseError::bad_hex;
	// Either case, as wireguard-go accepts; every character must be a digit.
	std::uint8_t key[KEY_LEN];
	std::size_t decoded = 0;
	const char *end = nullptr;
	KeyParseError rc = KeyParseError::bad_hex;
	if (sodium_hex2bin(key, sizeof(key), text.data(), text.size(), nullptr, &decoded, &end) == 0 &&
	    decoded == KEY_LEN && end == text.data() + text.size()) {
		std::memcpy(out, key, KEY_LEN);
		rc = KeyParseError::ok;
	}
	sodium_memzero(key, sizeof(key));
	return rc;
}

} // namespace key_codec

std::optional<std::size_t> base64_decoded_size(std::string_view text)
{
	if (text.empty() || !base64_charset(text))
		return std::nullopt;
	std::vector<unsigned char> bin(text.size());
	std::size_t len = 0;
	const char *end = nullptr;
	const bool ok = sodium_base642bin(bin.data(), bin.size(), text.data(), text.size(), nullptr,
					  &len, &end, sodium_base64_VARIANT_ORIGINAL) == 0 &&
			end == text.data() + text.size();
	sodium_memzero(bin.data(), bin.size());
	if (!ok)
		return std::nullopt;
	return len;
}

} // namespace xwg
