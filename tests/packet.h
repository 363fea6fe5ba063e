// packet.h — builders for the frames the data-plane tests feed to the real BPF programs:
// inner IPv4/IPv6 packets, WireGuard type-4 messages sealed with libsodium (an oracle
// independent of bpf/lib/aead.h), and outer Ethernet/IP/UDP frames. The netns tests build
// their raw underlay frames with it too (netns_lab.h). Header-only.
#pragma once

#include "xwg/wire.h"

#include <arpa/inet.h>
#include <array>
#include <cstdint>
#include <cstring>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdexcept>
#include <string>
#include <vector>

namespace xwgtest {

using Bytes = std::vector<uint8_t>;
using Key = std::array<uint8_t, 32>;
using Mac = std::array<uint8_t, 6>;

struct Addr {
	int family = 0;
	std::array<uint8_t, 16> bytes{};
	size_t len() const { return family == AF_INET ? 4 : 16; }
};

inline Addr addr(const std::string &text)
{
	Addr a;
	a.family = text.find(':') == std::string::npos ? AF_INET : AF_INET6;
	if (inet_pton(a.family, text.c_str(), a.bytes.data()) != 1)
		throw std::invalid_argument("bad address " + text);
	return a;
}

inline uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return static_cast<uint16_t>(~sum);
}

// One's-complement sum of @len bytes as 16-bit big-endian words.
inline uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (p[i] << 8) | p[i + 1];
	if (len & 1)
		sum += p[len - 1] << 8;
	return sum;
}

// The UDP checksum of the datagram @l4 (@len bytes, its checksum field zero) from @src to
// @dst, with a zero result sent as 0xffff.
inline uint16_t udp_checksum(const Addr &src, const Addr &dst, const uint8_t *l4, size_t len)
{
	uint64_t sum = csum_add(0, src.bytes.data(), src.len());
	sum = csum_add(sum, dst.bytes.data(), dst.len());
	sum += IPPROTO_UDP + len;
	sum = csum_add(sum, l4, len);
	uint16_t c = csum_fold(sum);
	return c ? c : 0xffff;
}

// The IPv4 flag "don't fragment" (in iphdr.frag_off, host order).
inline constexpr uint16_t kIpDontFragment = 0x4000;

// An IPv4 header (with its checksum) or IPv6 header from @src to @dst (same family) for
// @l4_len bytes of protocol (next header) @proto, TTL or hop limit 64. IPv4 only: the
// identification @id, and DF when @dont_fragment.
inline Bytes ip_header(const Addr &src, const Addr &dst, uint8_t proto, size_t l4_len,
		       uint16_t id = 0, bool dont_fragment = false)
{
	Bytes h;
	if (src.family == AF_INET) {
		h.resize(sizeof(iphdr));
		auto *ip = reinterpret_cast<iphdr *>(h.data());
		ip->version = 4;
		ip->ihl = 5;
		ip->tot_len = htons(sizeof(iphdr) + l4_len);
		ip->id = htons(id);
		ip->frag_off = htons(dont_fragment ? kIpDontFragment : 0);
		ip->ttl = 64;
		ip->protocol = proto;
		std::memcpy(&ip->saddr, src.bytes.data(), 4);
		std::memcpy(&ip->daddr, dst.bytes.data(), 4);
		ip->check = htons(csum_fold(csum_add(0, h.data(), h.size())));
	} else {
		h.resize(sizeof(ipv6hdr));
		auto *ip6 = reinterpret_cast<ipv6hdr *>(h.data());
		ip6->version = 6;
		ip6->payload_len = htons(l4_len);
		ip6->nexthdr = proto;
		ip6->hop_limit = 64;
		std::memcpy(&ip6->saddr, src.bytes.data(), 16);
		std::memcpy(&ip6->daddr, dst.bytes.data(), 16);
	}
	return h;
}

// An IP packet from @src to @dst (same family) carrying @payload_len bytes of UDP
// (port 9 -> 9) with a recognisable pattern.
inline Bytes inner_packet(const Addr &src, const Addr &dst, size_t payload_len, uint8_t seed = 1)
{
	Bytes udp(sizeof(udphdr) + payload_len);
	auto *uh = reinterpret_cast<udphdr *>(udp.data());
	uh->source = htons(9);
	uh->dest = htons(9);
	uh->len = htons(udp.size());
	for (size_t i = 0; i < payload_len; i++)
		udp[sizeof(udphdr) + i] = static_cast<uint8_t>(seed + i * 7);
	Bytes pkt = ip_header(src, dst, IPPROTO_UDP, udp.size());
	pkt.insert(pkt.end(), udp.begin(), udp.end());
	return pkt;
}

// An IP packet from @src to @dst (same family) of exactly @total_len bytes, valid as it
// stands: UDP 9 -> 9 with a correct checksum and a recognisable pattern when a UDP header
// fits, else the bare IP header and @total_len - header bytes of payload under protocol
// 253 (IPv4, RFC 3692 experimentation) or next header 59 (IPv6, "no next header").
// @total_len must be at least the IP header (20 or 40).
inline Bytes ip_packet(const Addr &src, const Addr &dst, size_t total_len, uint8_t seed = 1)
{
	const size_t l3 = src.family == AF_INET ? sizeof(iphdr) : sizeof(ipv6hdr);
	if (total_len < l3 || total_len > 0xffff)
		throw std::invalid_argument("ip_packet: bad length " + std::to_string(total_len));
	const bool udp = total_len >= l3 + sizeof(udphdr);
	const uint8_t proto = udp ? IPPROTO_UDP : src.family == AF_INET ? 253 : 59;
	Bytes pkt = ip_header(src, dst, proto, total_len - l3, static_cast<uint16_t>(total_len));
	pkt.resize(total_len);
	for (size_t i = l3; i < total_len; i++)
		pkt[i] = static_cast<uint8_t>(seed + i * 7);
	if (udp) {
		auto *uh = reinterpret_cast<udphdr *>(pkt.data() + l3);
		uh->source = htons(9);
		uh->dest = htons(9);
		uh->len = htons(total_len - l3);
		uh->check = 0;
		uh->check = htons(udp_checksum(src, dst, pkt.data() + l3, total_len - l3));
	}
	return pkt;
}

// WireGuard's transport nonce: 32 zero bits, then the counter little-endian.
inline std::array<uint8_t, 12> data_nonce(uint64_t counter)
{
	std::array<uint8_t, 12> n{};
	for (int i = 0; i < 8; i++)
		n[4 + i] = static_cast<uint8_t>(counter >> (8 * i));
	return n;
}

// A type-4 message: header, @plaintext padded to 16 (unless @pad is false), sealed.
inline Bytes data_message(uint32_t receiver_index, uint64_t counter, const Key &key,
			  const Bytes &plaintext, bool pad = true)
{
	Bytes padded = plaintext;
	if (pad)
		padded.resize((plaintext.size() + 15) & ~size_t(15), 0);
	Bytes msg(sizeof(xwg_msg_data) + padded.size() + 16);
	auto *h = reinterpret_cast<xwg_msg_data *>(msg.data());
	h->header.type = XWG_MSG_DATA;
	h->key_idx = receiver_index;
	h->counter = counter;
	auto nonce = data_nonce(counter);
	unsigned long long clen = 0;
	crypto_aead_chacha20poly1305_ietf_encrypt(msg.data() + sizeof(xwg_msg_data), &clen,
						  padded.data(), padded.size(), nullptr, 0,
						  nullptr, nonce.data(), key.data());
	return msg;
}

// Opens a type-4 message with libsodium; returns false on authentication failure.
inline bool open_data_message(const Bytes &msg, const Key &key, Bytes &plaintext)
{
	if (msg.size() < 32)
		return false;
	const auto *h = reinterpret_cast<const xwg_msg_data *>(msg.data());
	auto nonce = data_nonce(h->counter);
	plaintext.resize(msg.size() - 32);
	unsigned long long plen = 0;
	return crypto_aead_chacha20poly1305_ietf_decrypt(
		       plaintext.data(), &plen, nullptr, msg.data() + 16, msg.size() - 16,
		       nullptr, 0, nonce.data(), key.data()) == 0;
}

inline Bytes ethernet(const Mac &dst, const Mac &src, uint16_t proto, const Bytes &payload)
{
	Bytes f(sizeof(ethhdr) + payload.size());
	auto *eth = reinterpret_cast<ethhdr *>(f.data());
	std::memcpy(eth->h_dest, dst.data(), 6);
	std::memcpy(eth->h_source, src.data(), 6);
	eth->h_proto = htons(proto);
	std::copy(payload.begin(), payload.end(), f.begin() + sizeof(ethhdr));
	return f;
}

// Ethernet from @src_mac to @dst_mac + IPv4/IPv6 (DF set when @dont_fragment) + UDP (with
// checksum) around @payload.
inline Bytes udp_frame(const Mac &dst_mac, const Mac &src_mac, const Addr &src, uint16_t sport,
		       const Addr &dst, uint16_t dport, const Bytes &payload,
		       bool dont_fragment = false)
{
	Bytes l4(sizeof(udphdr));
	auto *uh = reinterpret_cast<udphdr *>(l4.data());
	uh->source = htons(sport);
	uh->dest = htons(dport);
	uh->len = htons(sizeof(udphdr) + payload.size());
	l4.insert(l4.end(), payload.begin(), payload.end());
	reinterpret_cast<udphdr *>(l4.data())->check =
		htons(udp_checksum(src, dst, l4.data(), l4.size()));

	Bytes l3 = ip_header(src, dst, IPPROTO_UDP, l4.size(), 0, dont_fragment);
	l3.insert(l3.end(), l4.begin(), l4.end());
	return ethernet(dst_mac, src_mac, src.family == AF_INET ? ETH_P_IP : ETH_P_IPV6, l3);
}

// Ethernet (02:00:00:00:00:0a to 02:00:00:00:00:0b) + IPv4/IPv6 + UDP (with checksum)
// around @payload.
inline Bytes udp_frame(const Addr &src, uint16_t sport, const Addr &dst, uint16_t dport,
		       const Bytes &payload)
{
	static const Mac a{0x02, 0, 0, 0, 0, 0xa}, b{0x02, 0, 0, 0, 0, 0xb};
	return udp_frame(b, a, src, sport, dst, dport, payload);
}

// Is the UDP checksum of this Ethernet frame's datagram right?
inline bool udp_checksum_ok(const Bytes &frame)
{
	const auto *eth = reinterpret_cast<const ethhdr *>(frame.data());
	size_t l3 = sizeof(ethhdr), l4;
	uint64_t sum;
	if (ntohs(eth->h_proto) == ETH_P_IP) {
		const auto *ip = reinterpret_cast<const iphdr *>(frame.data() + l3);
		l4 = l3 + ip->ihl * 4;
		sum = csum_add(0, reinterpret_cast<const uint8_t *>(&ip->saddr), 8);
	} else {
		const auto *ip6 = reinterpret_cast<const ipv6hdr *>(frame.data() + l3);
		l4 = l3 + sizeof(ipv6hdr);
		sum = csum_add(0, reinterpret_cast<const uint8_t *>(&ip6->saddr), 32);
	}
	size_t ulen = ntohs(reinterpret_cast<const udphdr *>(frame.data() + l4)->len);
	if (l4 + ulen > frame.size())
		return false;
	sum += IPPROTO_UDP + ulen;
	sum = csum_add(sum, frame.data() + l4, ulen);
	return csum_fold(sum) == 0;
}

} // namespace xwgtest
