// kernel/cpu_list.cpp — see cpu_list.h.
#include "loader/kernel/cpu_list.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <string>

namespace xwg {

namespace {

// Largest CPU id accepted: far above any real machine, small enough that a typo does not
// make a huge list.
constexpr unsigned MAX_CPU_ID = 1u << 16;

bool parse_id(std::string_view s, unsigned &out)
{
	if (s.empty())
		return false;
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
	return ec == std::errc() && end == s.data() + s.size() && out < MAX_CPU_ID;
}

} // namespace

std::optional<std::vector<unsigned>> cpu_list_parse(std::string_view text)
{
	while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
		text.remove_suffix(1);
	std::vector<unsigned> cpus;
	if (text.empty())
		return cpus;
	for (;;) {
		const auto comma = text.find(',');
		const std::string_view item = text.substr(0, comma);
		const auto dash = item.find('-');
		unsigned first = 0, last = 0;
		if (!parse_id(item.substr(0, dash), first))
			return std::nullopt;
		last = first;
		if (dash != std::string_view::npos &&
		    (!parse_id(item.substr(dash + 1), last) || last < first))
			return std::nullopt;
		for (unsigned c = first; c <= last; ++c)
			cpus.push_back(c);
		if (comma == std::string_view::npos)
			break;
		text.remove_prefix(comma + 1);
	}
	std::sort(cpus.begin(), cpus.end());
	cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
	return cpus;
}

std::vector<unsigned> online_cpus()
{
	std::ifstream in("/sys/devices/system/cpu/online");
	std::string line;
	if (!in || !std::getline(in, line))
		return {};
	return cpu_list_parse(line).value_or(std::vector<unsigned>{});
}

} // namespace xwg
