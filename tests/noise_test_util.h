// noise_test_util.h — hex in and out for the noise tests' vectors.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace xwg::test {

inline std::vector<std::uint8_t> unhex(std::string_view s)
{
	auto nibble = [](char c) -> int {
		if (c >= '0' && c <= '9')
			return c - '0';
		if (c >= 'a' && c <= 'f')
			return c - 'a' + 10;
		if (c >= 'A' && c <= 'F')
			return c - 'A' + 10;
		throw std::invalid_argument("bad hex digit");
	};
	if (s.size() % 2)
		throw std::invalid_argument("odd hex length");
	std::vector<std::uint8_t> out(s.size() / 2);
	for (std::size_t i = 0; i < out.size(); ++i)
		out[i] = static_cast<std::uint8_t>(nibble(s[2 * i]) << 4 | nibble(s[2 * i + 1]));
	return out;
}

inline std::string hex(const std::uint8_t *p, std::size_t n)
{
	static const char digits[] = "0123456789abcdef";
	std::string s;
	for (std::size_t i = 0; i < n; ++i) {
		s += digits[p[i] >> 4];
		s += digits[p[i] & 15];
	}
	return s;
}

template <class C> std::string hex(const C &c)
{
	return hex(c.data(), c.size());
}

} // namespace xwg::test
