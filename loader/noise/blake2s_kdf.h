// noise/blake2s_kdf.h — the hash functions of WireGuard's Noise instance (whitepaper §5.4):
// HASH (BLAKE2s-256), MAC (keyed BLAKE2s-128), HMAC (RFC 2104 over BLAKE2s-256) and
// KDF_n (HKDF, RFC 5869, with HMAC-BLAKE2s and an empty "info"), all on libb2.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>

namespace xwg::noise {

inline constexpr std::size_t HASH_LEN = 32;
inline constexpr std::size_t BLAKE2S_BLOCK_LEN = 64;

using Bytes = std::span<const std::uint8_t>;

// HASH(a || b || ...) into 32 bytes.
void hash(std::uint8_t (&out)[HASH_LEN], std::initializer_list<Bytes> parts);

// Keyed BLAKE2s with an `out.size()`-byte digest (MAC is the 16-byte form); key ≤ 32 bytes.
void keyed_hash(std::span<std::uint8_t> out, Bytes key, Bytes input);

// HMAC-BLAKE2s-256. The key may be up to one block (64 bytes) long.
void hmac(std::uint8_t (&out)[HASH_LEN], Bytes key, Bytes input);

// HKDF with chaining key `key` and input `input`: fills out1, then out2 and out3 when
// non-null (KDF1, KDF2, KDF3). Intermediate values are wiped.
void kdf(std::uint8_t *out1, std::uint8_t *out2, std::uint8_t *out3, Bytes key, Bytes input);

} // namespace xwg::noise
