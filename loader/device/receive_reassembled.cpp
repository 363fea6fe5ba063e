// device/receive_reassembled.cpp — see receive_reassembled.h.
#include "loader/device/receive_reassembled.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace xwg {

namespace {

constexpr std::uint64_t NS_PER_SEC = 1'000'000'000ULL;
constexpr std::uint8_t OUTER_TTL = 64;

} // namespace

void reassembled_frame(const UdpSockets::Datagram &d, std::uint16_t listen_port,
		       std::vector<std::uint8_t> &f)
{
	const bool v4 = d.from.addr.family == ip_family_v4;
	const std::size_t l3 = v4 ? sizeof(iphdr) : sizeof(ipv6hdr);
	const std::size_t udp_len = sizeof(udphdr) + d.data.size();
	f.assign(sizeof(ethhdr) + l3 + udp_len, 0);

	ethhdr eth{};
	eth.h_proto = htons(v4 ? ETH_P_IP : ETH_P_IPV6);
	std::memcpy(f.data(), &eth, sizeof(eth));
	std::uint8_t *ip = f.data() + sizeof(eth);
	if (v4) {
		iphdr h{};
		h.version = 4;
		h.ihl = 5;
		h.tot_len = htons(static_cast<std::uint16_t>(l3 + udp_len));
		h.ttl = OUTER_TTL;
		h.protocol = IPPROTO_UDP;
		std::memcpy(&h.saddr, d.from.addr.bytes.data(), 4);
		if (d.to.family == ip_family_v4)
			std::memcpy(&h.daddr, d.to.bytes.data(), 4);
		std::memcpy(ip, &h, sizeof(h));
	} else {
		ipv6hdr h{};
		h.version = 6;
		h.payload_len = htons(static_cast<std::uint16_t>(udp_len));
		h.nexthdr = IPPROTO_UDP;
		h.hop_limit = OUTER_TTL;
		std::memcpy(&h.saddr, d.from.addr.bytes.data(), 16);
		if (d.to.family == ip_family_v6)
			std::memcpy(&h.daddr, d.to.bytes.data(), 16);
		std::memcpy(ip, &h, sizeof(h));
	}
	udphdr u{};
	u.source = htons(d.from.port);
	u.dest = htons(listen_port);
	u.len = htons(static_cast<std::uint16_t>(udp_len));
	std::memcpy(ip + l3, &u, sizeof(u));
	std::memcpy(ip + l3 + sizeof(u), d.data.data(), d.data.size());
}

ReassembledReceiver::ReassembledReceiver(Dataplane &dp, unsigned hidden_ifindex,
					 std::vector<unsigned> underlays, unsigned per_second)
	: dp_(dp), underlays_(std::move(underlays)), per_second_(per_second),
	  depth_(std::max(1.0, per_second / 10.0))
{
	tokens_ = depth_;
	// Protocol 0: this socket only sends, it never sees the device's traffic.
	packet_fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (packet_fd_ < 0)
		throw std::runtime_error(std::string("packet socket: ") + std::strerror(errno));
	sockaddr_ll sll{};
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = static_cast<int>(hidden_ifindex);
	if (bind(packet_fd_, reinterpret_cast<sockaddr *>(&sll), sizeof(sll)) < 0) {
		int err = errno;
		close(packet_fd_);
		throw std::runtime_error(std::string("packet socket on the tunnel: ") +
					 std::strerror(err));
	}
}

ReassembledReceiver::~ReassembledReceiver()
{
	if (packet_fd_ >= 0)
		close(packet_fd_);
}

bool ReassembledReceiver::take_token(std::uint64_t now_ns)
{
	if (refilled_ns_ && now_ns > refilled_ns_)
		tokens_ = std::min(
			depth_, tokens_ + per_second_ * static_cast<double>(now_ns - refilled_ns_) /
						  static_cast<double>(NS_PER_SEC));
	refilled_ns_ = now_ns;
	if (tokens_ < 1.0)
		return false;
	tokens_ -= 1.0;
	return true;
}

void ReassembledReceiver::receive(const UdpSockets::Datagram &d, std::uint16_t listen_port,
				  std::uint64_t now_ns)
{
	if (std::find(underlays_.begin(), underlays_.end(), d.ifindex) == underlays_.end())
		return dp_.count_drop(XWG_DROP_FRAGMENT_NOT_UNDERLAY);
	if (!take_token(now_ns))
		return dp_.count_drop(XWG_DROP_FRAGMENT_RATELIMITED);
	reassembled_frame(d, listen_port, frame_);
	const int verdict = dp_.run_reassembled(frame_, d.ifindex, out_);
	if (verdict < 0) {
		stats_.run_failed++;
		return;
	}
	if (verdict != XDP_REDIRECT)
		return; // dropped and counted by the program
	if (send(packet_fd_, out_.data(), out_.size(), 0) == static_cast<ssize_t>(out_.size()))
		stats_.delivered++;
	else
		stats_.deliver_failed++;
}

} // namespace xwg
