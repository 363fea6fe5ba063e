// noise/ratelimiter.cpp — token buckets measured in nanoseconds of credit.
#include "loader/noise/ratelimiter.h"

#include <sodium.h>

#include <cstring>

namespace xwg::noise {

namespace {
constexpr std::uint64_t NSEC_PER_SEC = 1000000000ULL;
}

static_assert(crypto_shorthash_KEYBYTES == 16 && crypto_shorthash_BYTES == 8);

Ratelimiter::KeyHash Ratelimiter::random_hash()
{
	KeyHash hash;
	randombytes_buf(hash.secret.data(), hash.secret.size());
	return hash;
}

Ratelimiter::Ratelimiter(RatelimiterPolicy policy) : policy_(policy), entries_(0, random_hash()) {}

std::size_t Ratelimiter::KeyHash::operator()(const Key &k) const
{
	std::uint64_t h;
	crypto_shorthash(reinterpret_cast<unsigned char *>(&h), k.bytes.data(), k.bytes.size(),
			 secret.data());
	return static_cast<std::size_t>(h);
}

bool Ratelimiter::key_of(Bytes address, Key &key)
{
	if (address.size() == 4) {
		key.bytes[0] = 4;
		std::memcpy(&key.bytes[1], address.data(), 4);
	} else if (address.size() == 16) {
		key.bytes[0] = 6;
		std::memcpy(&key.bytes[1], address.data(), 8);
	} else {
		return false;
	}
	return true;
}

std::size_t Ratelimiter::hash_of(Bytes address) const
{
	Key key;
	return key_of(address, key) ? entries_.hash_function()(key) : 0;
}

void Ratelimiter::collect(std::uint64_t now_ns)
{
	for (auto it = entries_.begin(); it != entries_.end();) {
		if (now_ns - it->second.last_ns > NSEC_PER_SEC)
			it = entries_.erase(it);
		else
			++it;
	}
	last_collect_ns_ = now_ns;
}

bool Ratelimiter::allow(Bytes address, std::uint64_t now_ns)
{
	Key key;
	if (!key_of(address, key))
		return false;

	if (now_ns - last_collect_ns_ > NSEC_PER_SEC)
		collect(now_ns);

	const std::uint64_t cost = NSEC_PER_SEC / policy_.packets_per_second;
	const std::uint64_t max_tokens = cost * policy_.burst;

	auto it = entries_.find(key);
	if (it == entries_.end()) {
		if (entries_.size() >= policy_.max_entries)
			return false;
		// A new source starts with a full bucket, minus this packet.
		entries_.emplace(key, Bucket{now_ns, max_tokens - cost});
		return true;
	}
	Bucket &b = it->second;
	std::uint64_t tokens = b.tokens + (now_ns - b.last_ns);
	if (tokens > max_tokens)
		tokens = max_tokens;
	b.last_ns = now_ns;
	if (tokens >= cost) {
		b.tokens = tokens - cost;
		return true;
	}
	b.tokens = tokens;
	return false;
}

} // namespace xwg::noise
