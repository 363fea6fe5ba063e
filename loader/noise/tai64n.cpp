// noise/tai64n.cpp — TAI64N encoding from CLOCK_REALTIME.
#include "loader/noise/tai64n.h"

#include <cstring>
#include <ctime>

namespace xwg::noise {

namespace {
constexpr std::uint64_t TAI64_BASE = (1ULL << 62) + 10;
constexpr std::uint32_t WHITENER_MASK = 0x1000000 - 1; // 2^24 ns
} // namespace

Tai64n tai64n_from(std::uint64_t unix_seconds, std::uint32_t nanoseconds)
{
	Tai64n t{};
	std::uint64_t s = TAI64_BASE + unix_seconds;
	for (int i = 0; i < 8; ++i)
		t[i] = static_cast<std::uint8_t>(s >> (56 - 8 * i));
	for (int i = 0; i < 4; ++i)
		t[8 + i] = static_cast<std::uint8_t>(nanoseconds >> (24 - 8 * i));
	return t;
}

Tai64n tai64n_now()
{
	timespec ts{};
	clock_gettime(CLOCK_REALTIME, &ts);
	return tai64n_from(static_cast<std::uint64_t>(ts.tv_sec),
			   static_cast<std::uint32_t>(ts.tv_nsec) & ~WHITENER_MASK);
}

bool tai64n_after(const Tai64n &a, const Tai64n &b)
{
	return std::memcmp(a.data(), b.data(), a.size()) > 0;
}

} // namespace xwg::noise
