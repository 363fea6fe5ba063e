// noise/ratelimiter.h — per-source limit on handshake messages the daemon does Curve25519 work
// for, as WireGuard's ratelimiter: a token bucket per IPv4 address or IPv6 /64 allowing
// 20 packets a second with bursts of 5. Idle entries are collected after a second; when
// the table is full, new sources are refused rather than growing memory without bound.
// The table hashes addresses with SipHash under a random key of its own (libsodium's
// crypto_shorthash), as Linux keys its siphash: a sender cannot pick addresses that
// collide in the table.
#pragma once

#include "loader/noise/blake2s_kdf.h"

#include <array>
#include <cstdint>
#include <unordered_map>

namespace xwg::noise {

struct RatelimiterPolicy {
	std::uint64_t packets_per_second = 20;
	std::uint64_t burst = 5;
	std::size_t max_entries = 8192;
};

class Ratelimiter
{
public:
	explicit Ratelimiter(RatelimiterPolicy policy = {});
	// `address`: 4 bytes (IPv4) or 16 (IPv6, only the /64 counts). Anything else: false.
	bool allow(Bytes address, std::uint64_t now_ns);
	// Drops entries idle for more than a second; also done by allow() once a second.
	void collect(std::uint64_t now_ns);
	std::size_t size() const { return entries_.size(); }
	// The table's hash of @address's key (for tests: it depends on this table's key).
	std::size_t hash_of(Bytes address) const;

private:
	struct Key {
		std::array<std::uint8_t, 9> bytes{}; // family tag + up to 8 address bytes
		bool operator==(const Key &) const = default;
	};
	struct KeyHash {
		std::array<std::uint8_t, 16> secret{}; // crypto_shorthash_KEYBYTES
		std::size_t operator()(const Key &k) const;
	};
	static bool key_of(Bytes address, Key &key);
	static KeyHash random_hash();
	struct Bucket {
		std::uint64_t last_ns;
		std::uint64_t tokens; // nanoseconds of credit
	};

	RatelimiterPolicy policy_;
	std::unordered_map<Key, Bucket, KeyHash> entries_;
	std::uint64_t last_collect_ns_ = 0;
};

} // namespace xwg::noise
