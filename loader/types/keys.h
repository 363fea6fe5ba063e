// types/keys.h — WireGuard's 32-byte keys as typed values, and their one text codec: base64 as
// in config files and `wg` output, hex as in the cross-platform UAPI.
//
// Secrets (private keys, preshared keys, symmetric session keys) wipe themselves with
// sodium_memzero when they go away and compare in constant time; public keys are plain
// values, ordered so they can key a std::map. The decoders are as strict as wireguard-tools
// (exactly 44 base64 characters ending in one '=', or exactly 64 hex digits) and never
// throw: they return a reason, so the CLI, the config parser and the UAPI can each word it.
#pragma once

#include "xwg/protocol.h"

#include <array>
#include <compare>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace xwg {

inline constexpr std::size_t KEY_LEN = XWG_KEY_LEN;
inline constexpr std::size_t KEY_BASE64_LEN = 44; // 43 characters and one '='
inline constexpr std::size_t KEY_HEX_LEN = 2 * KEY_LEN;

// Bytes that must not outlive their owner. Copyable (a peer's key is copied into its
// handshake), and every copy wipes itself.
template <std::size_t N, class Tag> class Secret {
public:
	Secret() { bytes_.fill(0); }
	Secret(const Secret &other) = default;
	Secret &operator=(const Secret &other) = default;
	~Secret() { wipe(); }

	std::uint8_t *data() { return bytes_.data(); }
	const std::uint8_t *data() const { return bytes_.data(); }
	static constexpr std::size_t size() { return N; }
	void wipe();
	// Both in constant time.
	bool is_zero() const;
	bool operator==(const Secret &other) const;

private:
	std::array<std::uint8_t, N> bytes_;
};

using PrivateKey = Secret<KEY_LEN, struct PrivateKeyTag>;
using PresharedKey = Secret<KEY_LEN, struct PresharedKeyTag>;
using SymmetricKey = Secret<KEY_LEN, struct SymmetricKeyTag>;

struct PublicKey {
	std::array<std::uint8_t, KEY_LEN> bytes{};

	std::uint8_t *data() { return bytes.data(); }
	const std::uint8_t *data() const { return bytes.data(); }
	static constexpr std::size_t size() { return KEY_LEN; }
	bool is_zero() const;
	auto operator<=>(const PublicKey &) const = default;
};

// Any of the key types above.
template <class K>
concept Key = K::size() == KEY_LEN && requires(K &k, const K &c) {
	{ k.data() } -> std::same_as<std::uint8_t *>;
	{ c.data() } -> std::same_as<const std::uint8_t *>;
};

// Curve25519 private key from the system's randomness, clamped as wg genkey does.
PrivateKey generate_private_key();
PresharedKey generate_preshared_key();
// The public key of a private key (clamping applies, so an unclamped key gives the same
// result as its clamped form).
PublicKey public_key_of(const PrivateKey &key);
// Clamp in place (RFC 7748 §5).
void clamp(PrivateKey &key);

enum class KeyParseError {
	ok,
	wrong_length, // base64: not exactly 44 characters
	bad_base64,   // a character outside the alphabet, no single '=' at the end, or
		      // non-zero unused bits in the last character
	bad_hex,      // not exactly 64 hex digits (either case)
};
const char *to_string(KeyParseError e);

namespace key_codec {
std::string to_base64(const std::uint8_t *key);
std::string to_hex(const std::uint8_t *key);
[[nodiscard]] KeyParseError from_base64(std::string_view text, std::uint8_t *out);
[[nodiscard]] KeyParseError from_hex(std::string_view text, std::uint8_t *out);
} // namespace key_codec

// Standard base64 with padding, 44 characters, as wg prints keys.
template <Key K> std::string to_base64(const K &key)
{
	return key_codec::to_base64(key.data());
}

// Lowercase hex, 64 digits, as the UAPI sends keys.
template <Key K> std::string to_hex(const K &key)
{
	return key_codec::to_hex(key.data());
}

// Decode into `key`; it is untouched unless the result is ok.
template <Key K> [[nodiscard]] KeyParseError from_base64(std::string_view text, K &key)
{
	return key_codec::from_base64(text, key.data());
}

template <Key K> [[nodiscard]] KeyParseError from_hex(std::string_view text, K &key)
{
	return key_codec::from_hex(text, key.data());
}

// How many bytes `text` decodes to if it is padded base64 at all, of any length; for
// telling "base64 of the wrong size" (a truncated or doubled key) from "not base64".
std::optional<std::size_t> base64_decoded_size(std::string_view text);

} // namespace xwg
