// device/timers.cpp — the per-peer timers; see timers.h for the list and the contracts. Hook
// bodies mirror Linux's wg_timers_* one to one, so the two can be compared line by line.
#include "loader/device/timers.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>

namespace xwg {

unsigned TimerSettings::max_handshake_attempts() const
{
	if (rekey_timeout_ns == 0)
		return 1;
	return static_cast<unsigned>(rekey_attempt_time_ns / rekey_timeout_ns);
}

namespace {

// Seconds (fractional allowed) from an environment variable, or the default.
std::uint64_t env_seconds_ns(const char *name, std::uint64_t fallback)
{
	const char *text = std::getenv(name);
	if (!text || !*text)
		return fallback;
	char *end = nullptr;
	double seconds = std::strtod(text, &end);
	if (*end != '\0' || !std::isfinite(seconds) || seconds <= 0 || seconds > 1e9)
		throw std::invalid_argument(std::string(name) + "=" + text +
					    ": expected a positive number of seconds");
	return static_cast<std::uint64_t>(seconds * 1e9);
}

// A packet count from an environment variable, 1..@max, or the default.
std::uint64_t env_count(const char *name, std::uint64_t fallback, std::uint64_t max)
{
	const char *text = std::getenv(name);
	if (!text || !*text)
		return fallback;
	char *end = nullptr;
	errno = 0;
	unsigned long long n = std::strtoull(text, &end, 10);
	if (*end != '\0' || errno || n == 0 || n > max || text[0] == '-')
		throw std::invalid_argument(std::string(name) + "=" + text +
					    ": expected a packet count from 1 to " + std::to_string(max));
	return n;
}

} // namespace

TimerSettings TimerSettings::from_environment()
{
	TimerSettings s;
	s.rekey_after_time_ns = env_seconds_ns("XWG_REKEY_AFTER_TIME", s.rekey_after_time_ns);
	s.reject_after_time_ns = env_seconds_ns("XWG_REJECT_AFTER_TIME", s.reject_after_time_ns);
	s.rekey_attempt_time_ns = env_seconds_ns("XWG_REKEY_ATTEMPT_TIME", s.rekey_attempt_time_ns);
	s.rekey_timeout_ns = env_seconds_ns("XWG_REKEY_TIMEOUT", s.rekey_timeout_ns);
	s.keepalive_timeout_ns = env_seconds_ns("XWG_KEEPALIVE_TIMEOUT", s.keepalive_timeout_ns);
	s.rekey_after_messages =
		env_count("XWG_REKEY_AFTER_MESSAGES", s.rekey_after_messages, XWG_REKEY_AFTER_MESSAGES);
	s.reject_after_messages =
		env_count("XWG_REJECT_AFTER_MESSAGES", s.reject_after_messages, XWG_REJECT_AFTER_MESSAGES);
	if (s.rekey_after_messages >= s.reject_after_messages)
		throw std::invalid_argument("XWG_REKEY_AFTER_MESSAGES (" + std::to_string(s.rekey_after_messages) +
					    ") must be below XWG_REJECT_AFTER_MESSAGES (" +
					    std::to_string(s.reject_after_messages) + ")");
	// Jitter keeps its share of the retransmit time when tests shorten it.
	if (s.rekey_timeout_ns < protocol::to_ns(protocol::rekey_timeout))
		s.jitter_max_ns = s.rekey_timeout_ns /
				  (protocol::rekey_timeout / protocol::rekey_timeout_jitter_max);
	return s;
}

Timers::Timers(const TimerSettings &settings, TimerActions actions,
	       std::function<std::uint64_t()> jitter)
	: settings_(settings), actions_(std::move(actions)), jitter_(std::move(jitter))
{
}

std::uint64_t Timers::jitter()
{
	if (jitter_)
		return jitter_();
	static thread_local std::mt19937_64 rng{std::random_device{}()};
	if (settings_.jitter_max_ns == 0)
		return 0;
	return rng() % (settings_.jitter_max_ns + 1);
}

// We sent data: if nothing authenticated comes back within KEEPALIVE + REKEY_TIMEOUT, the
// peer is gone or lost its keys, and we start a new handshake.
void Timers::on_data_sent(std::uint64_t now)
{
	if (!new_handshake_)
		new_handshake_ = now + settings_.keepalive_timeout_ns + settings_.rekey_timeout_ns +
				 jitter();
}

// Data arrived: answer with a keepalive unless we send something ourselves first.
void Timers::on_data_received(std::uint64_t now)
{
	if (!send_keepalive_)
		send_keepalive_ = now + settings_.keepalive_timeout_ns;
	else
		need_another_keepalive_ = true;
}

// Anything we send makes a keepalive unnecessary.
void Timers::on_any_authenticated_packet_sent(std::uint64_t)
{
	send_keepalive_.reset();
}

// Anything authenticated from the peer shows it is alive: no new handshake needed.
void Timers::on_any_authenticated_packet_received(std::uint64_t)
{
	new_handshake_.reset();
}

void Timers::on_any_authenticated_packet_traversal(std::uint64_t now)
{
	if (persistent_interval_ns_)
		persistent_keepalive_ = now + persistent_interval_ns_;
}

void Timers::on_handshake_initiated(std::uint64_t now)
{
	retransmit_handshake_ = now + settings_.rekey_timeout_ns + jitter();
}

void Timers::on_handshake_complete(std::uint64_t)
{
	retransmit_handshake_.reset();
	handshake_attempts_ = 0;
}

// Keys that nobody renews are wiped after three REJECT_AFTER_TIMEs.
void Timers::on_session_derived(std::uint64_t now)
{
	zero_key_material_ = now + 3 * settings_.reject_after_time_ns;
}

void Timers::stop()
{
	retransmit_handshake_.reset();
	send_keepalive_.reset();
	new_handshake_.reset();
	zero_key_material_.reset();
	persistent_keepalive_.reset();
	handshake_attempts_ = 0;
	need_another_keepalive_ = false;
}

void Timers::expired_retransmit_handshake(std::uint64_t now)
{
	if (handshake_attempts_ > settings_.max_handshake_attempts()) {
		// Give up: nothing staged will ever leave, and the keys go in a while.
		send_keepalive_.reset();
		if (actions_.give_up)
			actions_.give_up();
		if (!zero_key_material_)
			zero_key_material_ = now + 3 * settings_.reject_after_time_ns;
		return;
	}
	++handshake_attempts_;
	if (actions_.send_initiation)
		actions_.send_initiation(true);
}

void Timers::expired_send_keepalive(std::uint64_t now)
{
	if (actions_.send_keepalive)
		actions_.send_keepalive();
	if (need_another_keepalive_) {
		need_another_keepalive_ = false;
		send_keepalive_ = now + settings_.keepalive_timeout_ns;
	}
}

void Timers::expired_new_handshake(std::uint64_t)
{
	if (actions_.send_initiation)
		actions_.send_initiation(false);
}

void Timers::expired_zero_key_material(std::uint64_t)
{
	if (actions_.zero_key_material)
		actions_.zero_key_material();
}

void Timers::expired_persistent_keepalive(std::uint64_t)
{
	if (persistent_interval_ns_ && actions_.send_keepalive)
		actions_.send_keepalive();
}

void Timers::run_expired(std::uint64_t now)
{
	// Each handler may re-arm timers through the hooks its action triggers; take the
	// deadline first so a handler re-arming its own timer is not run twice.
	auto due = [now](std::optional<std::uint64_t> &t) {
		if (t && *t <= now) {
			t.reset();
			return true;
		}
		return false;
	};
	if (due(retransmit_handshake_))
		expired_retransmit_handshake(now);
	if (due(send_keepalive_))
		expired_send_keepalive(now);
	if (due(new_handshake_))
		expired_new_handshake(now);
	if (due(zero_key_material_))
		expired_zero_key_material(now);
	if (due(persistent_keepalive_))
		expired_persistent_keepalive(now);
}

std::optional<std::uint64_t> Timers::next_deadline() const
{
	std::optional<std::uint64_t> best;
	for (const auto &t : {retransmit_handshake_, send_keepalive_, new_handshake_,
			      zero_key_material_, persistent_keepalive_})
		if (t && (!best || *t < *best))
			best = t;
	return best;
}

} // namespace xwg
