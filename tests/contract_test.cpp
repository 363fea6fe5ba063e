// contract_test.cpp — the kernel/user contract headers compile in C++ and agree with the
// protocol's fixed sizes and values.
#include <catch2/catch.hpp>

#include "xwg/drop_reasons.h"
#include "xwg/maps.h"
#include "xwg/wire.h"

#include <cstddef>
#include <set>
#include <string>

TEST_CASE("wire structs have WireGuard's sizes and offsets")
{
	CHECK(sizeof(xwg_msg_initiation) == 148);
	CHECK(sizeof(xwg_msg_response) == 92);
	CHECK(sizeof(xwg_msg_cookie) == 64);
	CHECK(sizeof(xwg_msg_data) == 16);
	CHECK(offsetof(xwg_msg_initiation, macs) == 116);
	CHECK(offsetof(xwg_msg_response, macs) == 60);
	CHECK(offsetof(xwg_msg_data, counter) == 8);
}

TEST_CASE("counter limits follow WireGuard")
{
	CHECK(XWG_REKEY_AFTER_MESSAGES == (1ULL << 60));
	CHECK(XWG_REJECT_AFTER_MESSAGES == ~0ULL - 8128 - 1);
	CHECK(XWG_MAX_TIMER_HANDSHAKES == 18);
}

TEST_CASE("every drop reason has a distinct name")
{
	std::set<std::string> names;
	for (int r = 0; r < XWG_DROP_REASON_MAX; r++) {
		std::string name = xwg_drop_reason_name(static_cast<xwg_drop_reason>(r));
		INFO("reason " << r);
		CHECK(name != "unknown");
		CHECK(names.insert(name).second);
	}
	CHECK(std::string(xwg_drop_reason_name(XWG_DROP_REASON_MAX)) == "unknown");
}
