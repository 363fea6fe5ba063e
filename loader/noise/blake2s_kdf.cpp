// noise/blake2s_kdf.cpp — HASH, MAC, HMAC and HKDF over libb2's BLAKE2s.
#include "loader/noise/blake2s_kdf.h"

#include <blake2.h>
#include <sodium.h>

#include <cstring>

namespace xwg::noise {

void hash(std::uint8_t (&out)[HASH_LEN], std::initializer_list<Bytes> parts)
{
	blake2s_state s;
	blake2s_init(&s, HASH_LEN);
	for (auto p : parts)
		blake2s_update(&s, p.data(), p.size());
	blake2s_final(&s, out, HASH_LEN);
	sodium_memzero(&s, sizeof(s));
}

void keyed_hash(std::span<std::uint8_t> out, Bytes key, Bytes input)
{
	blake2s(out.data(), input.data(), key.data(), out.size(), input.size(), key.size());
}

void hmac(std::uint8_t (&out)[HASH_LEN], Bytes key, Bytes input)
{
	std::uint8_t block[BLAKE2S_BLOCK_LEN] = {};
	std::uint8_t inner[HASH_LEN];
	blake2s_state s;

	// Keys longer than a block would be hashed first (RFC 2104); WireGuard's keys are
	// 32 bytes, so that branch only exists for the RFC's general form.
	if (key.size() > BLAKE2S_BLOCK_LEN) {
		hash(inner, {key});
		std::memcpy(block, inner, HASH_LEN);
	} else if (!key.empty()) { // an empty span may be null: no memcpy from it
		std::memcpy(block, key.data(), key.size());
	}

	for (auto &b : block)
		b ^= 0x36;
	blake2s_init(&s, HASH_LEN);
	blake2s_update(&s, block, sizeof(block));
	blake2s_update(&s, input.data(), input.size());
	blake2s_final(&s, inner, HASH_LEN);

	for (auto &b : block)
		b ^= 0x36 ^ 0x5c;
	blake2s_init(&s, HASH_LEN);
	blake2s_update(&s, block, sizeof(block));
	blake2s_update(&s, inner, HASH_LEN);
	blake2s_final(&s, out, HASH_LEN);

	sodium_memzero(block, sizeof(block));
	sodium_memzero(inner, sizeof(inner));
	sodium_memzero(&s, sizeof(s));
}

void kdf(std::uint8_t *out1, std::uint8_t *out2, std::uint8_t *out3, Bytes key, Bytes input)
{
	std::uint8_t secret[HASH_LEN];
	std::uint8_t t[HASH_LEN + 1]; // T(i-1) || i
	std::uint8_t *outs[3] = {out1, out2, out3};

	// Extract, then expand with an empty info: T(i) = HMAC(secret, T(i-1) || i), T(0) empty.
	hmac(secret, key, input);
	std::size_t prev = 0;
	for (std::uint8_t i = 1; i <= 3 && outs[i - 1]; ++i) {
		std::uint8_t next[HASH_LEN];
		t[prev] = i;
		hmac(next, Bytes(secret, HASH_LEN), Bytes(t, prev + 1));
		std::memcpy(t, next, HASH_LEN);
		std::memcpy(outs[i - 1], next, HASH_LEN);
		sodium_memzero(next, sizeof(next));
		prev = HASH_LEN;
	}
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(t, sizeof(t));
}

} // namespace xwg::noise
