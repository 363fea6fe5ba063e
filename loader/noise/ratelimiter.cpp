// ratelimiter.cpp — token buckets measured in nanoseconds of credit.
#include "loader/noise/ratelimiter.h"

#include <cstring>

namespace xwg::noise {

namespace {
constexpr std::uint64_t NSEC_PER_SEC = 1000000000ULL;
}

std::size_t Ratelimiter::KeyHash::operator()(const Key &k) const
{
	std::uint64_t h = 1469598103934665603ULL; // FNV-1a
	for (auto b : k.bytes)
		h = (h ^ b) * 1099511628211ULL;
	return h;
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
	if (address.size() == 4) {
		key.bytes[0] = 4;
		std::memcpy(&key.bytes[1], address.data(), 4);
	} else if (address.size() == 16) {
		key.bytes[0] = 6;
		std::memcpy(&key.bytes[1], address.data(), 8);
	} else {
		return false;
	}

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
