// cpu_list_test.cpp — the kernel's CPU list format, as the daemon reads the online CPUs.
#include "loader/kernel/cpu_list.h"

#include <catch2/catch.hpp>

using namespace xwg;
using Cpus = std::vector<unsigned>;

TEST_CASE("cpu lists: ranges, singles, holes, trailing newline")
{
	CHECK(cpu_list_parse("0-3\n") == Cpus{0, 1, 2, 3});
	CHECK(cpu_list_parse("0") == Cpus{0});
	CHECK(cpu_list_parse("0,2-3,7") == Cpus{0, 2, 3, 7});
	CHECK(cpu_list_parse("5,1-2,2") == Cpus{1, 2, 5});
	CHECK(cpu_list_parse("") == Cpus{});
}

TEST_CASE("cpu lists: malformed ones are refused whole")
{
	for (const char *bad : {"a", "1-", "-1", "3-1", "1,,2", "1,", "0x1", "1 2", "99999999"}) {
		INFO(bad);
		CHECK_FALSE(cpu_list_parse(bad));
	}
}

TEST_CASE("cpu lists: this machine's online CPUs")
{
	auto cpus = online_cpus();
	REQUIRE_FALSE(cpus.empty());
	CHECK(cpus.front() == 0);
}
