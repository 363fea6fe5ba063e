// types/ip_prefix.h — the address values a WireGuard configuration holds: an IPv4/IPv6 address,
// a CIDR prefix (interface Address, peer AllowedIPs) and a UDP endpoint. Parsing is
// numeric only (inet_pton); names are resolved by the config file parser, not here.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "xwg/protocol.h"

namespace xwg
{

// The kernel's AF_INET and AF_INET6 (include/xwg/protocol.h: no socket headers needed).
inline constexpr int ip_family_v4 = XWG_AF_INET;
inline constexpr int ip_family_v6 = XWG_AF_INET6;

struct IpAddr {
	int family = 0;			      // AF_INET or AF_INET6; 0 means unset
	std::array<std::uint8_t, 16> bytes{}; // IPv4 uses the first 4, network order

	unsigned max_prefix() const { return family == ip_family_v4 ? 32 : 128; }
	std::size_t length() const { return family == ip_family_v4 ? 4 : 16; } // bytes used
	std::string to_string() const;
	auto operator<=>(const IpAddr &) const = default;
};

std::optional<IpAddr> ip_addr_parse(std::string_view text);

struct Cidr {
	IpAddr addr;
	std::uint8_t prefix = 0;

	// The same prefix with host bits cleared, as WireGuard's allowed-IPs table stores it.
	Cidr masked() const;
	std::string to_string() const; // "192.0.2.0/24", "2001:db8::/32"
	auto operator<=>(const Cidr &) const = default;
};

// "ADDR/LEN" or a bare "ADDR" (then /32 or /128, as wg does). Host bits are kept: callers
// that want the canonical form call masked().
std::optional<Cidr> cidr_parse(std::string_view text);

struct Endpoint {
	IpAddr addr;
	std::uint16_t port = 0;

	std::string to_string() const; // "192.0.2.1:51820", "[2001:db8::1]:51820"
	auto operator<=>(const Endpoint &) const = default;
};

// "A.B.C.D:PORT" or "[V6]:PORT", numeric only, port 0-65535 in decimal.
std::optional<Endpoint> endpoint_parse(std::string_view text);

// Splits "host:port" / "[host]:port" without judging either part; nullopt if there is no
// ':' separating a non-empty host from a non-empty port.
std::optional<std::pair<std::string, std::string>> endpoint_split(std::string_view text);

// A decimal number with no sign, no spaces and no leading '+', at most max.
std::optional<std::uint64_t> parse_decimal(std::string_view text, std::uint64_t max);

} // namespace xwg
