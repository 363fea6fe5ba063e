// noise_cookie_test.cpp — mac1/mac2, cookie replies and the rotating secret, the under-load
// policy and the per-source handshake rate limiter.
#include <catch2/catch.hpp>

#include "loader/noise/cookie.h"
#include "loader/noise/handshake.h"
#include "loader/noise/ratelimiter.h"

#include <cstring>

using namespace xwg;
using namespace xwg::noise;

namespace {

constexpr std::uint64_t SEC = 1000000000ULL;
const std::uint8_t source_a[] = {192, 0, 2, 1, 0xc3, 0x50};
const std::uint8_t source_b[] = {192, 0, 2, 9, 0xc3, 0x50};

struct Setup {
	Identity alice = Identity::from_private(generate_private_key());
	Identity bob = Identity::from_private(generate_private_key());
	Handshake hs{alice, bob.public_key};
	CookieMaker maker{bob.public_key};
	CookieChecker checker{bob.public_key, 0};
	xwg_msg_initiation msg;
	std::uint64_t now = 10 * SEC;

	std::span<std::uint8_t> bytes()
	{
		return std::span(reinterpret_cast<std::uint8_t *>(&msg), sizeof(msg));
	}
	void fresh()
	{
		REQUIRE(hs.create_initiation(msg, 1) == HandshakeError::ok);
		maker.add_macs(bytes(), now);
	}
};

} // namespace

TEST_CASE("mac1 is checked always, mac2 only under load")
{
	Setup s;
	s.fresh();
	CHECK(s.checker.validate(s.bytes(), source_a, false, s.now) == MacCheck::valid_mac1);
	// No cookie yet: mac2 is zero.
	CHECK(s.checker.validate(s.bytes(), source_a, true, s.now) == MacCheck::bad_mac2);
	s.msg.macs.mac1[3] ^= 1;
	CHECK(s.checker.validate(s.bytes(), source_a, false, s.now) == MacCheck::bad_mac1);
	CHECK(s.checker.validate(s.bytes(), source_a, true, s.now) == MacCheck::bad_mac1);
	CHECK(s.checker.validate(Bytes(s.bytes().data(), 31), source_a, false, s.now) ==
	      MacCheck::wrong_length);

	// mac1 is keyed by the receiver: another receiver refuses it.
	s.fresh();
	CookieChecker other(s.alice.public_key, 0);
	CHECK(other.validate(s.bytes(), source_a, false, s.now) == MacCheck::bad_mac1);
}

TEST_CASE("a cookie reply lets the initiator through under load, from its address only")
{
	Setup s;
	s.fresh();
	REQUIRE(s.checker.validate(s.bytes(), source_a, true, s.now) == MacCheck::bad_mac2);
	xwg_msg_cookie reply;
	s.checker.create_reply(reply, s.bytes(), 1, source_a, s.now);
	CHECK(le32toh(reply.header.type) == XWG_MSG_HANDSHAKE_COOKIE);
	CHECK(le32toh(reply.receiver_index) == 1);
	auto reply_bytes = Bytes(reinterpret_cast<const std::uint8_t *>(&reply), sizeof(reply));

	REQUIRE(s.maker.consume_reply(reply_bytes, s.now) == CookieError::ok);
	// The same reply again answers nothing we have outstanding.
	CHECK(s.maker.consume_reply(reply_bytes, s.now) == CookieError::no_mac1_sent);
	CHECK(s.maker.has_fresh_cookie(s.now));

	s.fresh();
	CHECK(s.checker.validate(s.bytes(), source_a, true, s.now) == MacCheck::valid_cookie);
	CHECK(s.checker.validate(s.bytes(), source_b, true, s.now) == MacCheck::bad_mac2);
	s.msg.macs.mac2[0] ^= 1;
	CHECK(s.checker.validate(s.bytes(), source_a, true, s.now) == MacCheck::bad_mac2);
}

TEST_CASE("bad cookie replies are refused with their own reasons")
{
	Setup s;
	xwg_msg_cookie reply;
	s.fresh();
	s.checker.create_reply(reply, s.bytes(), 1, source_a, s.now);
	auto bytes = [&] {
		return Bytes(reinterpret_cast<const std::uint8_t *>(&reply), sizeof(reply));
	};

	// A reply for an older message (mac1 is its associated data).
	s.fresh();
	CHECK(s.maker.consume_reply(bytes(), s.now) == CookieError::decrypt_failed);
	CHECK_FALSE(s.maker.has_fresh_cookie(s.now));

	s.checker.create_reply(reply, s.bytes(), 1, source_a, s.now);
	reply.encrypted_cookie[0] ^= 1;
	CHECK(s.maker.consume_reply(bytes(), s.now) == CookieError::decrypt_failed);
	reply.encrypted_cookie[0] ^= 1;
	CHECK(s.maker.consume_reply(bytes().first(63), s.now) == CookieError::wrong_length);
	reply.header.type = htole32(2);
	CHECK(s.maker.consume_reply(bytes(), s.now) == CookieError::wrong_type);
	reply.header.type = htole32(3);
	CookieMaker fresh_maker(s.bob.public_key);
	CHECK(fresh_maker.consume_reply(bytes(), s.now) == CookieError::no_mac1_sent);
	CHECK(s.maker.consume_reply(bytes(), s.now) == CookieError::ok);
}

TEST_CASE("cookies age out and the secret rotates every two minutes")
{
	Setup s;
	s.fresh();
	xwg_msg_cookie reply;
	s.checker.create_reply(reply, s.bytes(), 1, source_a, s.now);
	REQUIRE(s.maker.consume_reply(
			Bytes(reinterpret_cast<const std::uint8_t *>(&reply), sizeof(reply)),
			s.now) == CookieError::ok);

	// The initiator stops using a cookie COOKIE_SECRET_LATENCY before the secret expires.
	CHECK(s.maker.has_fresh_cookie(s.now + 114 * SEC));
	CHECK_FALSE(s.maker.has_fresh_cookie(s.now + 115 * SEC));

	// The checker's secret was born at 0: at 120 s it is replaced, and the cookie made
	// under the old one no longer validates.
	s.fresh();
	CHECK(s.checker.validate(s.bytes(), source_a, true, 100 * SEC) == MacCheck::valid_cookie);
	CHECK(s.checker.validate(s.bytes(), source_a, true, 121 * SEC) == MacCheck::bad_mac2);
}

TEST_CASE("load policy: queue depth or rate, held for a second")
{
	LoadMonitor m({.queue_threshold = 10, .rate_threshold = 0, .hold_ns = SEC});
	CHECK_FALSE(m.under_load(0, SEC));
	CHECK_FALSE(m.under_load(9, SEC));
	CHECK(m.under_load(10, 2 * SEC));
	CHECK(m.under_load(0, 2 * SEC + SEC / 2)); // still held
	CHECK_FALSE(m.under_load(0, 3 * SEC + 1));

	LoadMonitor r({.queue_threshold = 1000, .rate_threshold = 5, .hold_ns = SEC});
	int loaded = 0;
	for (int i = 0; i < 10; ++i)
		loaded += r.under_load(0, 10 * SEC + static_cast<std::uint64_t>(i));
	CHECK(loaded == 5); // the 6th to 10th message in one second
}

TEST_CASE("load policy, defaults: a flood engages it within a second, 65,536 peers' rekeys do not")
{
	// A flood of 20,000 initiations a second that arrive one per wakeup (no queue).
	LoadMonitor flood;
	std::uint64_t now = 100 * SEC, first_loaded = 0;
	int loaded = 0;
	for (int i = 0; i < 20000; ++i, now += SEC / 20000)
		if (flood.under_load(1, now)) {
			loaded++;
			if (!first_loaded)
				first_loaded = static_cast<std::uint64_t>(i);
		}
	CHECK(first_loaded == XWG_UNDER_LOAD_RATE);
	CHECK(loaded == 20000 - XWG_UNDER_LOAD_RATE);

	// 65,536 peers rekeying every REKEY_AFTER_TIME, both messages counted: ~1,100/s
	// spread evenly. Bursts of queued messages below the queue threshold stay unloaded.
	LoadMonitor steady;
	const int per_second = 2 * XWG_MAX_PEERS / XWG_REKEY_AFTER_TIME;
	now = 100 * SEC;
	loaded = 0;
	for (int i = 0; i < 10 * per_second; ++i, now += SEC / per_second)
		loaded += steady.under_load(4, now);
	INFO(per_second << " handshake messages a second");
	CHECK(per_second < XWG_UNDER_LOAD_RATE);
	CHECK(loaded == 0);

	// A socket that overflowed reports the most there can be: loaded at once.
	LoadMonitor overflow;
	CHECK(overflow.under_load(XWG_MAX_QUEUED_INCOMING_HANDSHAKES, 5 * SEC));
}

TEST_CASE("ratelimiter: bursts of 5, 20 a second, per IPv4 address or IPv6 /64")
{
	Ratelimiter rl;
	const std::uint8_t v4a[] = {192, 0, 2, 1}, v4b[] = {192, 0, 2, 2};
	std::uint64_t now = 5 * SEC;
	int allowed = 0;
	for (int i = 0; i < 10; ++i)
		allowed += rl.allow(v4a, now);
	CHECK(allowed == 5);
	CHECK(rl.allow(v4b, now)); // another source is unaffected
	CHECK_FALSE(rl.allow(v4a, now + SEC / 40));
	CHECK(rl.allow(v4a, now + SEC / 20)); // one token back after 50 ms

	std::uint8_t v6a[16] = {0x20, 0x01, 0x0d, 0xb8}, v6b[16] = {0x20, 0x01, 0x0d, 0xb8};
	v6b[15] = 1; // same /64
	for (int i = 0; i < 5; ++i)
		CHECK(rl.allow(v6a, now));
	CHECK_FALSE(rl.allow(v6b, now));
	v6b[7] = 1; // another /64
	CHECK(rl.allow(v6b, now));

	const std::uint8_t bad[3] = {};
	CHECK_FALSE(rl.allow(Bytes(bad, 3), now));

	// Idle entries are collected.
	CHECK(rl.size() == 4);
	rl.collect(now + 3 * SEC);
	CHECK(rl.size() == 0);

	Ratelimiter small({.packets_per_second = 20, .burst = 5, .max_entries = 2});
	std::uint8_t addr[4] = {198, 51, 100, 0};
	for (std::uint8_t i = 0; i < 2; ++i) {
		addr[3] = i;
		CHECK(small.allow(addr, now));
	}
	addr[3] = 9;
	CHECK_FALSE(small.allow(addr, now)); // table full: refuse, do not grow
}

TEST_CASE("ratelimiter: the table's hash is keyed, so addresses cannot be chosen to collide")
{
	Ratelimiter a, b;
	const std::uint8_t v4[] = {192, 0, 2, 1};
	std::uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8};
	// SipHash under each table's own random key: the same address hashes differently in
	// two tables (with an unkeyed hash, as FNV-1a before, these would be equal), and a
	// table's hash of an address is stable.
	CHECK(a.hash_of(v4) == a.hash_of(v4));
	CHECK(a.hash_of(v4) != b.hash_of(v4));
	CHECK(a.hash_of(v6) != b.hash_of(v6));
	// The IPv6 key is the /64: host bits do not change it.
	std::uint8_t v6_host[16] = {0x20, 0x01, 0x0d, 0xb8};
	v6_host[15] = 7;
	CHECK(a.hash_of(v6) == a.hash_of(v6_host));
}
