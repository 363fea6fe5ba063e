// keypair_rotation_test.cpp — previous/current/next against a fake store that records
// what would reach the data plane.
#include <catch2/catch.hpp>

#include "loader/device/keypair.h"

#include <map>

using namespace xwg;

namespace {

struct FakeStore : KeypairStore {
	std::map<std::uint32_t, std::uint32_t> installed; // local index -> slot
	std::vector<std::uint32_t> retired_slots;
	std::uint32_t current = 0;
	bool refuse = false;

	std::uint32_t next_slot = 0;

	std::optional<std::uint32_t> install(const noise::Keypair &kp) override
	{
		if (refuse)
			return std::nullopt;
		installed[kp.local_index] = next_slot;
		return next_slot;
	}
	void retire(std::uint32_t index, std::uint32_t slot) override
	{
		installed.erase(index);
		retired_slots.push_back(slot);
	}
	void set_current(std::uint32_t index) override { current = index; }
};

noise::Keypair keypair(std::uint32_t index, bool initiator)
{
	noise::Keypair kp;
	kp.local_index = index;
	kp.remote_index = index + 1000;
	kp.initiator = initiator;
	kp.sending.data()[0] = static_cast<std::uint8_t>(index);
	return kp;
}

// Adds @kp as if the store handed out @slot for it.
bool add(FakeStore &store, KeypairRotation &r, const noise::Keypair &kp, std::uint32_t slot)
{
	store.next_slot = slot;
	return r.add(kp);
}

} // namespace

TEST_CASE("initiator sessions become current at once, the old one previous", "[rotation]")
{
	FakeStore store;
	KeypairRotation r(store);
	REQUIRE(add(store, r, keypair(1, true), 10));
	CHECK(store.current == 1);
	REQUIRE(add(store, r, keypair(2, true), 11));
	CHECK(store.current == 2);
	CHECK(r.previous()->keypair.local_index == 1);
	REQUIRE(add(store, r, keypair(3, true), 12));
	CHECK(store.installed.size() == 2); // 1 retired
	CHECK(store.retired_slots == std::vector<std::uint32_t>{10});
	CHECK(r.previous()->keypair.local_index == 2);
	CHECK(r.current()->keypair.local_index == 3);
}

TEST_CASE("responder sessions wait as next until the data plane confirms them", "[rotation]")
{
	FakeStore store;
	KeypairRotation r(store);
	REQUIRE(add(store, r, keypair(1, true), 1));
	REQUIRE(add(store, r, keypair(2, true), 2)); // previous 1, current 2
	REQUIRE(add(store, r, keypair(7, false), 3));
	CHECK(store.current == 2);           // still sending with 2
	CHECK(r.previous() == nullptr);      // responder drops previous
	CHECK(r.next()->keypair.local_index == 7);
	CHECK(store.installed.count(7) == 1); // but it decrypts already

	CHECK_FALSE(r.confirm(2));            // not next: nothing moves
	CHECK(r.confirm(7));
	CHECK(store.current == 7);
	CHECK(r.previous()->keypair.local_index == 2);
	CHECK(r.next() == nullptr);
	CHECK_FALSE(r.confirm(7));            // once only
}

TEST_CASE("a newer responder session replaces an unconfirmed next", "[rotation]")
{
	FakeStore store;
	KeypairRotation r(store);
	REQUIRE(add(store, r, keypair(5, false), 1));
	REQUIRE(add(store, r, keypair(6, false), 2));
	CHECK(store.installed.count(5) == 0);
	CHECK(r.next()->keypair.local_index == 6);
	CHECK(store.current == 0);
}

TEST_CASE("an initiator session while next waits keeps next as previous", "[rotation]")
{
	FakeStore store;
	KeypairRotation r(store);
	REQUIRE(add(store, r, keypair(1, true), 1));
	REQUIRE(add(store, r, keypair(2, false), 2)); // next
	REQUIRE(add(store, r, keypair(3, true), 3));
	CHECK(r.previous()->keypair.local_index == 2);
	CHECK(r.current()->keypair.local_index == 3);
	CHECK(r.next() == nullptr);
	CHECK(store.installed.count(1) == 0);
	CHECK(store.current == 3);
}

TEST_CASE("clear erases all three and stops sending", "[rotation]")
{
	FakeStore store;
	KeypairRotation r(store);
	REQUIRE(add(store, r, keypair(1, true), 1));
	REQUIRE(add(store, r, keypair(2, true), 2));
	REQUIRE(add(store, r, keypair(3, false), 3));
	r.clear();
	CHECK(store.installed.empty());
	CHECK(store.current == 0);
	CHECK(r.current() == nullptr);
}

TEST_CASE("a refused install changes nothing", "[rotation]")
{
	FakeStore store;
	KeypairRotation r(store);
	REQUIRE(add(store, r, keypair(1, true), 1));
	store.refuse = true;
	CHECK_FALSE(add(store, r, keypair(2, true), 2));
	CHECK(r.current()->keypair.local_index == 1);
	CHECK(store.current == 1);
}

TEST_CASE("counter slots are handed out once and come back", "[rotation]")
{
	CounterSlots slots(3);
	auto a = slots.take(), b = slots.take(), c = slots.take();
	REQUIRE((a && b && c));
	CHECK(*a != *b);
	CHECK_FALSE(slots.take());
	slots.give_back(*b);
	slots.give_back(*b); // twice: ignored
	CHECK(slots.available() == 1);
	CHECK(slots.take() == b);
}

TEST_CASE("keypairs the key reaper wipes are retired, the rest stay", "[rotation]")
{
	constexpr std::uint64_t limit = 3000;
	FakeStore store;
	KeypairRotation r(store);
	auto born = [](std::uint32_t index, bool initiator, std::uint64_t birth) {
		auto kp = keypair(index, initiator);
		kp.birth_ns = birth;
		return kp;
	};
	REQUIRE(add(store, r, born(1, true, 1000), 1));
	REQUIRE(add(store, r, born(2, true, 2500), 2)); // previous 1, current 2

	r.expire(3999, limit); // nothing is 3000 old yet
	CHECK(store.retired_slots.empty());
	r.expire(4000, limit); // previous comes of age: retired; current stays in use
	CHECK(store.retired_slots == std::vector<std::uint32_t>{1});
	CHECK(r.previous() == nullptr);
	CHECK(r.current()->keypair.local_index == 2);
	CHECK(store.current == 2);

	REQUIRE(add(store, r, born(3, false, 4600), 3)); // next, unconfirmed
	r.expire(5500, limit); // current too: nothing is sent with it any more
	CHECK(store.retired_slots == std::vector<std::uint32_t>{1, 2});
	CHECK(store.current == 0);
	CHECK(r.current() == nullptr);
	CHECK(r.next()->keypair.local_index == 3);
}
