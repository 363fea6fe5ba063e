// types/ip_prefix.cpp — parsing and printing of addresses, prefixes and endpoints.
#include "loader/types/ip_prefix.h"

#include <arpa/inet.h>
#include <sys/socket.h>

namespace xwg
{

static_assert(ip_family_v4 == AF_INET && ip_family_v6 == AF_INET6);

std::optional<std::uint64_t> parse_decimal(std::string_view text, std::uint64_t max)
{
	if (text.empty() || text.size() > 20)
		return std::nullopt;
	std::uint64_t value = 0;
	for (char c : text) {
		if (c < '0' || c > '9')
			return std::nullopt;
		unsigned digit = static_cast<unsigned>(c - '0');
		if (value > (max - digit) / 10)
			return std::nullopt;
		value = value * 10 + digit;
	}
	return value;
}

std::optional<IpAddr> ip_addr_parse(std::string_view text)
{
	if (text.empty() || text.size() >= INET6_ADDRSTRLEN)
		return std::nullopt;
	std::string s(text);
	IpAddr a;
	if (s.find(':') == std::string::npos) {
		if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) != 1)
			return std::nullopt;
		a.family = AF_INET;
	} else {
		if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) != 1)
			return std::nullopt;
		a.family = AF_INET6;
	}
	return a;
}

std::string IpAddr::to_string() const
{
	char buf[INET6_ADDRSTRLEN] = "";
	if (family != AF_INET && family != AF_INET6)
		return "(none)";
	inet_ntop(family, bytes.data(), buf, sizeof(buf));
	return buf;
}

Cidr Cidr::masked() const
{
	Cidr c = *this;
	for (unsigned bit = prefix; bit < addr.max_prefix(); ++bit)
		c.addr.bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
	return c;
}

std::string Cidr::to_string() const
{
	return addr.to_string() + "/" + std::to_string(prefix);
}

std::optional<Cidr> cidr_parse(std::string_view text)
{
	std::size_t slash = text.find('/');
	auto addr = ip_addr_parse(text.substr(0, slash));
	if (!addr)
		return std::nullopt;
	Cidr c{*addr, static_cast<std::uint8_t>(addr->max_prefix())};
	if (slash != std::string_view::npos) {
		auto len = parse_decimal(text.substr(slash + 1), addr->max_prefix());
		if (!len)
			return std::nullopt;
		c.prefix = static_cast<std::uint8_t>(*len);
	}
	return c;
}

std::string Endpoint::to_string() const
{
	if (addr.family == AF_INET6)
		return "[" + addr.to_string() + "]:" + std::to_string(port);
	return addr.to_string() + ":" + std::to_string(port);
}

std::optional<std::pair<std::string, std::string>> endpoint_split(std::string_view text)
{
	std::string_view host, port;
	if (!text.empty() && text.front() == '[') {
		std::size_t close = text.find(']');
		if (close == std::string_view::npos || close + 1 >= text.size() ||
		    text[close + 1] != ':')
			return std::nullopt;
		host = text.substr(1, close - 1);
		port = text.substr(close + 2);
	} else {
		std::size_t colon = text.rfind(':');
		if (colon == std::string_view::npos)
			return std::nullopt;
		host = text.substr(0, colon);
		port = text.substr(colon + 1);
	}
	if (host.empty() || port.empty())
		return std::nullopt;
	return std::pair{std::string(host), std::string(port)};
}

std::optional<Endpoint> endpoint_parse(std::string_view text)
{
	auto parts = endpoint_split(text);
	if (!parts)
		return std::nullopt;
	auto addr = ip_addr_parse(parts->first);
	auto port = parse_decimal(parts->second, 65535);
	if (!addr || !port)
		return std::nullopt;
	// An IPv6 address must be bracketed, or "::1:51820" would be ambiguous.
	if (addr->family == AF_INET6 && text.front() != '[')
		return std::nullopt;
	if (addr->family == AF_INET && text.front() == '[')
		return std::nullopt;
	return Endpoint{*addr, static_cast<std::uint16_t>(*port)};
}

} // namespace xwg
