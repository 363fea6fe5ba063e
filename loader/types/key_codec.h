// types/key_codec.h — a WireGuard key (32 bytes: Curve25519 private/public, or a preshared
// key) and its two text forms: base64 as in config files and `wg` output, and lowercase
// hex as in the cross-platform UAPI. Both decoders are as strict as wireguard-tools:
// exactly 44 base64 characters ending in one '=', or exactly 64 hex digits.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace xwg
{

inline constexpr std::size_t WG_KEY_LEN = 32;
inline constexpr std::size_t WG_KEY_LEN_BASE64 = 44;
inline constexpr std::size_t WG_KEY_LEN_HEX = 64;

struct WgKey {
	std::array<std::uint8_t, WG_KEY_LEN> bytes{};

	bool is_zero() const;
	auto operator<=>(const WgKey &) const = default;
};

// Decodes "xTIB...=" (44 characters); nullopt for any other length, alphabet or padding,
// including non-zero bits in the last character that wg would also refuse.
std::optional<WgKey> wg_key_from_base64(std::string_view text);
std::string wg_key_to_base64(const WgKey &key);

// Decodes 64 hex digits (either case, as wireguard-go accepts); nullopt otherwise.
std::optional<WgKey> wg_key_from_hex(std::string_view text);
// Lowercase hex, the form the UAPI sends.
std::string wg_key_to_hex(const WgKey &key);

// The Curve25519 public key of a private key (libsodium's scalar multiplication by the
// base point, which clamps like WireGuard does).
WgKey wg_key_public_from_private(const WgKey &private_key);

} // namespace xwg
