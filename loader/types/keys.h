// types/keys.h — WireGuard's 32-byte keys as fixed-size types, and their base64 form.
//
// Secrets (private keys, preshared keys, symmetric session keys) wipe themselves with
// sodium_memzero when they go away; public keys are plain values. Parsing never throws:
// it returns a reason, so the CLI, the config parser and the UAPI can each word it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace xwg {

inline constexpr std::size_t KEY_LEN = 32;
inline constexpr std::size_t KEY_BASE64_LEN = 44; // 43 characters and one '='

// Bytes that must not outlive their owner. Copyable (a peer's key is copied into its
// handshake), and every copy wipes itself.
template <std::size_t N, class Tag> class Secret
{
public:
	Secret() { bytes_.fill(0); }
	Secret(const Secret &other) = default;
	Secret &operator=(const Secret &other) = default;
	~Secret() { wipe(); }

	std::uint8_t *data() { return bytes_.data(); }
	const std::uint8_t *data() const { return bytes_.data(); }
	static constexpr std::size_t size() { return N; }
	void wipe();
	bool is_zero() const;
	// Constant time.
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
	bool operator==(const PublicKey &) const = default;
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
	wrong_length, // not exactly 44 characters
	bad_base64,   // a character outside the alphabet, or no '=' at the end
};
const char *to_string(KeyParseError e);

// Standard base64 with padding, 44 characters, as wg prints keys.
std::string to_base64(const std::uint8_t (&bytes)[KEY_LEN]);
std::string to_base64(const std::uint8_t *bytes);
template <class K> std::string to_base64(const K &key) { return to_base64(key.data()); }

// Decodes exactly 44 characters into 32 bytes; `out` is untouched on failure. As strict as
// wg: the final '=' is required and the unused low bits of the last character must be 0.
KeyParseError from_base64(std::string_view text, std::uint8_t *out);
template <class K> KeyParseError from_base64(std::string_view text, K &key)
{
	return from_base64(text, key.data());
}

} // namespace xwg
