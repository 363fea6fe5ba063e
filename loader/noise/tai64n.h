// noise/tai64n.h — the 12-byte TAI64N timestamp an initiator sends so the responder can refuse
// replayed initiations (whitepaper §5.1): big-endian seconds since 1970 plus 2^62 + 10,
// then big-endian nanoseconds. Byte order makes "newer" a plain memcmp.
#pragma once

#include <array>
#include <cstdint>

namespace xwg::noise {

using Tai64n = std::array<std::uint8_t, 12>;

// Wall-clock time now. Nanoseconds are rounded down to a multiple of 2^24 (about 16 ms),
// as the reference implementations do, so the timestamp does not reveal a fine clock.
Tai64n tai64n_now();
// From explicit Unix seconds and nanoseconds (tests).
Tai64n tai64n_from(std::uint64_t unix_seconds, std::uint32_t nanoseconds);
// True when `a` is strictly later than `b`.
bool tai64n_after(const Tai64n &a, const Tai64n &b);

} // namespace xwg::noise
