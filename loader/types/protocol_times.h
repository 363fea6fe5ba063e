// types/protocol_times.h — WireGuard's protocol times as std::chrono durations, derived once
// from include/xwg/protocol.h (where they are seconds, for C and BPF). The daemon's timers
// start from these (device/timers.h: TimerSettings, which tests may shorten) and hand them
// to the data plane in nanoseconds.
#pragma once

#include "xwg/protocol.h"

#include <chrono>
#include <cstdint>

namespace xwg::protocol {

// Specification (whitepaper §6.4, Linux messages.h).
inline constexpr std::chrono::seconds rekey_after_time{XWG_REKEY_AFTER_TIME};
inline constexpr std::chrono::seconds reject_after_time{XWG_REJECT_AFTER_TIME};
inline constexpr std::chrono::seconds rekey_attempt_time{XWG_REKEY_ATTEMPT_TIME};
inline constexpr std::chrono::seconds rekey_timeout{XWG_REKEY_TIMEOUT};
inline constexpr std::chrono::seconds keepalive_timeout{XWG_KEEPALIVE_TIMEOUT};
inline constexpr std::chrono::seconds cookie_secret_max_age{XWG_COOKIE_SECRET_MAX_AGE};
inline constexpr std::chrono::seconds cookie_secret_latency{XWG_COOKIE_SECRET_LATENCY};

// Implementation (not in the specification): the most a handshake (re)transmission is
// delayed at random, a third of a second as Linux's REKEY_TIMEOUT_JITTER_MAX_JIFFIES.
inline constexpr std::chrono::milliseconds rekey_timeout_jitter_max =
	std::chrono::milliseconds{std::chrono::seconds{1}} / 3;

// A duration as the unsigned nanoseconds of CLOCK_BOOTTIME arithmetic and the BPF config.
constexpr std::uint64_t to_ns(std::chrono::nanoseconds d)
{
	return static_cast<std::uint64_t>(d.count());
}

} // namespace xwg::protocol
