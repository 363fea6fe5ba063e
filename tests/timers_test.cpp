// timers_test.cpp — WireGuard's timer state machine with a fake clock and no jitter:
// each case reports events as the daemon would and checks what the timers ask for.
#include <catch2/catch.hpp>

#include "loader/device/timers.h"

#include <cstdlib>
#include <string>
#include <vector>

using namespace xwg;

namespace {

constexpr std::uint64_t S = 1'000'000'000ULL;

struct Recorder {
	std::vector<std::string> calls;
	TimerActions actions()
	{
		return TimerActions{
			[this](bool retry) { calls.push_back(retry ? "initiation(retry)" : "initiation"); },
			[this] { calls.push_back("keepalive"); },
			[this] { calls.push_back("give_up"); },
			[this] { calls.push_back("zero"); },
		};
	}
};

struct Fixture {
	TimerSettings settings;
	Recorder rec;
	Timers timers{settings, rec.actions(), [] { return std::uint64_t{0}; }};
};

} // namespace

TEST_CASE("data sent with no answer starts a new handshake after KEEPALIVE + REKEY_TIMEOUT",
	  "[timers]")
{
	Fixture f;
	f.timers.on_data_sent(100 * S);
	f.timers.on_data_sent(101 * S); // already pending: not pushed back
	CHECK(f.timers.next_deadline() == 115 * S);
	f.timers.run_expired(114 * S);
	CHECK(f.rec.calls.empty());
	f.timers.run_expired(115 * S);
	CHECK(f.rec.calls == std::vector<std::string>{"initiation"});
}

TEST_CASE("an authenticated packet from the peer cancels the new handshake", "[timers]")
{
	Fixture f;
	f.timers.on_data_sent(0);
	f.timers.on_any_authenticated_packet_received(3 * S);
	CHECK_FALSE(f.timers.new_handshake_pending());
	f.timers.run_expired(100 * S);
	CHECK(f.rec.calls.empty());
}

TEST_CASE("data received is answered by a keepalive unless we send first", "[timers]")
{
	Fixture f;
	f.timers.on_data_received(0);
	f.timers.run_expired(9 * S);
	CHECK(f.rec.calls.empty());
	f.timers.run_expired(10 * S);
	CHECK(f.rec.calls == std::vector<std::string>{"keepalive"});

	Fixture g;
	g.timers.on_data_received(0);
	g.timers.on_any_authenticated_packet_sent(1 * S);
	g.timers.run_expired(20 * S);
	CHECK(g.rec.calls.empty());
}

TEST_CASE("data received while a keepalive is pending asks for another one", "[timers]")
{
	Fixture f;
	f.timers.on_data_received(0);
	f.timers.on_data_received(5 * S);
	f.timers.run_expired(10 * S);
	CHECK(f.rec.calls.size() == 1);
	CHECK(f.timers.keepalive_pending());
	f.timers.run_expired(20 * S);
	CHECK(f.rec.calls.size() == 2);
	CHECK_FALSE(f.timers.keepalive_pending());
}

TEST_CASE("initiations are retried every REKEY_TIMEOUT, then given up", "[timers]")
{
	Fixture f;
	const unsigned max = f.settings.max_handshake_attempts();
	REQUIRE(max == 18);
	std::uint64_t now = 0;
	f.timers.on_handshake_initiated(now);
	unsigned retries = 0;
	for (int i = 0; i < 40 && f.timers.retransmit_pending(); ++i) {
		now += 5 * S;
		f.timers.run_expired(now);
		if (!f.rec.calls.empty() && f.rec.calls.back() == "initiation(retry)") {
			++retries;
			f.timers.on_handshake_initiated(now); // the retry was sent
		}
	}
	CHECK(retries == max + 1);
	CHECK(f.rec.calls.back() == "give_up");
	CHECK(f.timers.zero_key_material_pending());
}

TEST_CASE("a completed handshake stops retransmissions and resets the count", "[timers]")
{
	Fixture f;
	f.timers.on_handshake_initiated(0);
	f.timers.run_expired(5 * S);
	f.timers.on_handshake_initiated(5 * S);
	CHECK(f.timers.handshake_attempts() == 1);
	f.timers.on_handshake_complete(6 * S);
	CHECK(f.timers.handshake_attempts() == 0);
	CHECK_FALSE(f.timers.retransmit_pending());
	f.timers.run_expired(60 * S);
	CHECK(f.rec.calls == std::vector<std::string>{"initiation(retry)"});
}

TEST_CASE("keys are zeroed 3 x REJECT_AFTER_TIME after the last session", "[timers]")
{
	Fixture f;
	f.timers.on_session_derived(0);
	f.timers.on_session_derived(100 * S); // a newer session pushes it back
	f.timers.run_expired(539 * S);
	CHECK(f.rec.calls.empty());
	f.timers.run_expired(640 * S);
	CHECK(f.rec.calls == std::vector<std::string>{"zero"});
}

TEST_CASE("persistent keepalive follows any traversal, only when configured", "[timers]")
{
	Fixture f;
	f.timers.on_any_authenticated_packet_traversal(0);
	CHECK_FALSE(f.timers.persistent_keepalive_pending());
	f.timers.set_persistent_keepalive(25 * S);
	f.timers.on_any_authenticated_packet_traversal(0);
	f.timers.on_any_authenticated_packet_traversal(10 * S);
	CHECK(f.timers.next_deadline() == 35 * S);
	f.timers.run_expired(35 * S);
	CHECK(f.rec.calls == std::vector<std::string>{"keepalive"});
}

TEST_CASE("stop disarms everything", "[timers]")
{
	Fixture f;
	f.timers.on_data_sent(0);
	f.timers.on_data_received(0);
	f.timers.on_handshake_initiated(0);
	f.timers.on_session_derived(0);
	f.timers.stop();
	CHECK_FALSE(f.timers.next_deadline());
}

TEST_CASE("timer settings come from XWG_* variables in fractional seconds", "[timers]")
{
	setenv("XWG_REKEY_TIMEOUT", "0.5", 1);
	setenv("XWG_KEEPALIVE_TIMEOUT", "2", 1);
	auto s = TimerSettings::from_environment();
	CHECK(s.rekey_timeout_ns == 500'000'000ULL);
	CHECK(s.keepalive_timeout_ns == 2 * S);
	CHECK(s.rekey_after_time_ns == protocol::to_ns(protocol::rekey_after_time));
	CHECK(s.jitter_max_ns < s.rekey_timeout_ns);
	setenv("XWG_REKEY_TIMEOUT", "soon", 1);
	CHECK_THROWS_WITH(TimerSettings::from_environment(),
			  Catch::Contains("XWG_REKEY_TIMEOUT=soon"));
	setenv("XWG_REKEY_TIMEOUT", "-1", 1);
	CHECK_THROWS(TimerSettings::from_environment());
	unsetenv("XWG_REKEY_TIMEOUT");
	unsetenv("XWG_KEEPALIVE_TIMEOUT");
}

TEST_CASE("message limits come from XWG_*_AFTER_MESSAGES, never above WireGuard's", "[timers]")
{
	CHECK(TimerSettings::from_environment().rekey_after_messages == XWG_REKEY_AFTER_MESSAGES);
	setenv("XWG_REKEY_AFTER_MESSAGES", "1000", 1);
	setenv("XWG_REJECT_AFTER_MESSAGES", "2000", 1);
	auto s = TimerSettings::from_environment();
	CHECK(s.rekey_after_messages == 1000);
	CHECK(s.reject_after_messages == 2000);
	for (const char *bad : {"0", "-5", "1e3", "lots", "18446744073709551615"}) {
		setenv("XWG_REJECT_AFTER_MESSAGES", bad, 1);
		CHECK_THROWS_WITH(TimerSettings::from_environment(),
				  Catch::Contains(std::string("XWG_REJECT_AFTER_MESSAGES=") + bad));
	}
	// Rekeying must come before the keypair stops sending.
	setenv("XWG_REJECT_AFTER_MESSAGES", "1000", 1);
	CHECK_THROWS_WITH(TimerSettings::from_environment(), Catch::Contains("must be below"));
	unsetenv("XWG_REKEY_AFTER_MESSAGES");
	CHECK_THROWS_WITH(TimerSettings::from_environment(), Catch::Contains("must be below"));
	unsetenv("XWG_REJECT_AFTER_MESSAGES");
}
