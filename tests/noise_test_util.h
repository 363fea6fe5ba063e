// noise_test_util.h — hex in and out for the noise tests' vectors.
#pragma once

#include <sodium.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace xwg::test {

inline std::vector<std::uint8_t> unhex(std::string_view s)
{
	if (s.empty())
		return {}; // libsodium's pointers must not be null, even for nothing
	std::vector<std::uint8_t> out(s.size() / 2);
	std::size_t n = 0;
	const char *end = nullptr;
	if (s.size() % 2 ||
	    sodium_hex2bin(out.data(), out.size(), s.data(), s.size(), nullptr, &n, &end) != 0 ||
	    n != out.size() || end != s.data() + s.size())
		throw std::invalid_argument("bad hex: " + std::string(s));
	return out;
}

inline std::string hex(const std::uint8_t *p, std::size_t n)
{
	std::string s(2 * n + 1, '\0');
	sodium_bin2hex(s.data(), s.size(), p, n);
	s.pop_back();
	return s;
}

template <class C> std::string hex(const C &c)
{
	return hex(c.data(), c.size());
}

} // namespace xwg::test
