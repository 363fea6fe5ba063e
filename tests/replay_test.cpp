// replay_test.cpp — the replay window (bpf/lib/replay.h, host build) against a fixed
// sequence in the spirit of WireGuard's counter selftest, and against a naive model
// (a set of every counter accepted) with random inputs.
#include <catch2/catch.hpp>

#include "bpf/lib/replay.h"

#include <cstring>
#include <random>
#include <set>

namespace {

struct Window {
	xwg_replay r{};
	bool receive(uint64_t c)
	{
		if (!xwg_replay_check(&r, c))
			return false;
		return xwg_replay_commit(&r, c);
	}
};

// Accepts a counter iff it was never accepted and is no more than WINDOW behind the
// greatest accepted one: the rule the ring implements.
struct NaiveWindow {
	std::set<uint64_t> seen;
	uint64_t greatest_next = 0;
	bool receive(uint64_t c)
	{
		if (c + 1 + XWG_REPLAY_WINDOW < greatest_next || seen.count(c))
			return false;
		seen.insert(c);
		greatest_next = std::max(greatest_next, c + 1);
		return true;
	}
};

} // namespace

TEST_CASE("replay window: fixed sequence")
{
	Window w;
	const uint64_t W = XWG_REPLAY_WINDOW;
	CHECK(w.receive(0));
	CHECK_FALSE(w.receive(0));
	CHECK(w.receive(1));
	CHECK_FALSE(w.receive(1));
	CHECK(w.receive(9));
	CHECK(w.receive(8));
	CHECK(w.receive(7));
	CHECK_FALSE(w.receive(7));
	CHECK(w.receive(W + 9));          // far ahead
	CHECK(w.receive(10));             // W - 1 behind, fresh: inside
	CHECK_FALSE(w.receive(9));        // exactly W behind: inside, but seen
	CHECK_FALSE(w.receive(6));        // W + 3 behind, never seen: too old
	CHECK(w.receive(W + 8));          // behind the greatest, fresh
	CHECK(w.receive(2 * W + 9));      // the window slides by W
	CHECK_FALSE(w.receive(W + 8));     // exactly W behind and seen
	CHECK_FALSE(w.receive(W + 7));     // just outside
	CHECK(w.receive(W + 10));         // just inside, fresh
	CHECK(w.receive(100000));         // jump past the whole ring
	CHECK_FALSE(w.receive(100000 - W - 1));
	CHECK(w.receive(100000 - W));
	CHECK(w.receive(99999));
	CHECK_FALSE(w.receive(99999));
}

TEST_CASE("replay window: check does not modify, commit rejects a concurrent duplicate")
{
	xwg_replay r{};
	REQUIRE(xwg_replay_check(&r, 5));
	xwg_replay copy;
	std::memcpy(&copy, &r, sizeof r);
	CHECK(std::memcmp(&copy, &r, sizeof r) == 0);
	// Two CPUs pass the pre-check with the same counter; only one commit wins.
	REQUIRE(xwg_replay_check(&r, 42));
	REQUIRE(xwg_replay_check(&r, 42));
	CHECK(xwg_replay_commit(&r, 42));
	CHECK_FALSE(xwg_replay_commit(&r, 42));
}

TEST_CASE("replay window: matches a naive model on random sequences")
{
	std::mt19937_64 rng(0x5eed);
	for (int trial = 0; trial < 50; trial++) {
		Window w;
		NaiveWindow model;
		uint64_t base = 0;
		for (int i = 0; i < 20000; i++) {
			// Mostly near the front, sometimes far behind or far ahead.
			uint64_t c;
			switch (rng() % 8) {
			case 0: c = base + rng() % (3 * XWG_REPLAY_WINDOW); break;
			case 1: c = base > 5000 ? base - rng() % 5000 : rng() % 5000; break;
			default: c = base + rng() % 64; break;
			}
			if (rng() % 16 == 0)
				base += rng() % 200;
			INFO("trial " << trial << " step " << i << " counter " << c);
			REQUIRE(w.receive(c) == model.receive(c));
		}
	}
}
