// types/key_codec.cpp — base64 and hex forms of WireGuard keys. Base64 goes through libsodium
// (original alphabet, padded), which already refuses non-canonical trailing bits; we add
// wg's length and single-'=' checks in front.
#include "loader/types/key_codec.h"

#include <sodium.h>

namespace xwg
{

bool WgKey::is_zero() const
{
	return sodium_is_zero(bytes.data(), bytes.size()) == 1;
}

std::optional<WgKey> wg_key_from_base64(std::string_view text)
{
	if (text.size() != WG_KEY_LEN_BASE64 || text[WG_KEY_LEN_BASE64 - 1] != '=' ||
	    text[WG_KEY_LEN_BASE64 - 2] == '=')
		return std::nullopt;
	WgKey key;
	std::size_t len = 0;
	const char *end = nullptr;
	if (sodium_base642bin(key.bytes.data(), key.bytes.size(), text.data(), text.size(), nullptr,
			      &len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    len != WG_KEY_LEN || end != text.data() + text.size())
		return std::nullopt;
	return key;
}

std::string wg_key_to_base64(const WgKey &key)
{
	char out[sodium_base64_ENCODED_LEN(WG_KEY_LEN, sodium_base64_VARIANT_ORIGINAL)];
	sodium_bin2base64(out, sizeof(out), key.bytes.data(), key.bytes.size(),
			  sodium_base64_VARIANT_ORIGINAL);
	return std::string(out);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

std::optional<WgKey> wg_key_from_hex(std::string_view text)
{
	if (text.size() != WG_KEY_LEN_HEX)
		return std::nullopt;
	WgKey key;
	for (std::size_t i = 0; i < WG_KEY_LEN; ++i) {
		int hi = hex_digit(text[2 * i]), lo = hex_digit(text[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return std::nullopt;
		key.bytes[i] = static_cast<std::uint8_t>(hi << 4 | lo);
	}
	return key;
}

std::string wg_key_to_hex(const WgKey &key)
{
	static constexpr char digits[] = "0123456789abcdef";
	std::string out;
	out.reserve(WG_KEY_LEN_HEX);
	for (std::uint8_t b : key.bytes) {
		out.push_back(digits[b >> 4]);
		out.push_back(digits[b & 0xf]);
	}
	return out;
}

WgKey wg_key_public_from_private(const WgKey &private_key)
{
	WgKey pub;
	if (crypto_scalarmult_curve25519_base(pub.bytes.data(), private_key.bytes.data()) != 0)
		pub = WgKey{};
	return pub;
}

} // namespace xwg
