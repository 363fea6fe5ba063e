// control/config_strip.cpp — see config_strip.h. The line splitting follows config_file.cpp:
// '#' starts a comment, the key is what precedes the first '=', trimmed, case-insensitive.
#include "loader/control/config_strip.h"

#include "loader/control/config_file.h"

#include <algorithm>
#include <array>

namespace xwg {

namespace {

std::string_view trim(std::string_view s)
{
	const char *space = " \t\r\n\v\f";
	const std::size_t b = s.find_first_not_of(space);
	if (b == std::string_view::npos)
		return {};
	return s.substr(b, s.find_last_not_of(space) - b + 1);
}

bool equal_nocase(std::string_view a, std::string_view b)
{
	return a.size() == b.size() &&
	       std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
		       auto low = [](char c) {
			       return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c;
		       };
		       return low(x) == low(y);
	       });
}

} // namespace

bool wg_interface_key(std::string_view key)
{
	static constexpr std::array<std::string_view, 3> keys = {"PrivateKey", "ListenPort",
								 "FwMark"};
	return std::any_of(keys.begin(), keys.end(),
			   [key](std::string_view k) { return equal_nocase(k, key); });
}

bool xwg_peer_key(std::string_view key)
{
	return equal_nocase(key, "FlowPorts");
}

std::string config_strip(std::string_view text, std::string_view file_name)
{
	(void)config_parse(text, file_name); // throws ConfigError, nothing printed
	std::string out;
	bool in_interface = false;
	while (!text.empty()) {
		const std::size_t nl = text.find('\n');
		const std::string_view raw = text.substr(0, nl);
		text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
		const std::string_view line = trim(raw.substr(0, raw.find('#')));
		if (!line.empty() && line.front() == '[') {
			in_interface = equal_nocase(line, "[Interface]");
		} else if (!line.empty()) {
			const std::string_view key = trim(line.substr(0, line.find('=')));
			if (in_interface ? !wg_interface_key(key) : xwg_peer_key(key))
				continue;
		}
		out.append(raw).push_back('\n');
	}
	return out;
}

} // namespace xwg
