// contract_test.cpp — the kernel/user contract headers compile in C++ and agree with the
// protocol's fixed sizes and values.
#include <catch2/catch.hpp>

#include "xwg/wire.h"

#include <cstddef>

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
