// kernel/udp_socket.cpp — see udp_socket.h.
#include "loader/kernel/udp_socket.h"

#include "loader/kernel/route_lookup.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace xwg {

namespace {

socklen_t to_sockaddr(const Endpoint &ep, sockaddr_storage &ss)
{
	std::memset(&ss, 0, sizeof(ss));
	if (ep.addr.family == ip_family_v4) {
		auto *sin = reinterpret_cast<sockaddr_in *>(&ss);
		sin->sin_family = AF_INET;
		sin->sin_port = htons(ep.port);
		std::memcpy(&sin->sin_addr, ep.addr.bytes.data(), 4);
		return sizeof(*sin);
	}
	auto *sin6 = reinterpret_cast<sockaddr_in6 *>(&ss);
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(ep.port);
	std::memcpy(&sin6->sin6_addr, ep.addr.bytes.data(), 16);
	return sizeof(*sin6);
}

Endpoint from_sockaddr(const sockaddr_storage &ss)
{
	Endpoint ep;
	if (ss.ss_family == AF_INET) {
		auto *sin = reinterpret_cast<const sockaddr_in *>(&ss);
		ep.addr.family = ip_family_v4;
		std::memcpy(ep.addr.bytes.data(), &sin->sin_addr, 4);
		ep.port = ntohs(sin->sin_port);
	} else {
		auto *sin6 = reinterpret_cast<const sockaddr_in6 *>(&ss);
		// A v4-mapped source (should not happen with v6only) is reported as IPv4.
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			ep.addr.family = ip_family_v4;
			std::memcpy(ep.addr.bytes.data(), &sin6->sin6_addr.s6_addr[12], 4);
		} else {
			ep.addr.family = ip_family_v6;
			std::memcpy(ep.addr.bytes.data(), &sin6->sin6_addr, 16);
		}
		ep.port = ntohs(sin6->sin6_port);
	}
	return ep;
}

int open_bound(int family, std::uint16_t port, std::uint32_t fwmark, std::uint16_t &bound)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	if (family == AF_INET6) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		// Where a datagram arrived (the slow path needs the local address and the
		// underlay), and ICMPv6 errors on the error queue: a Packet Too Big for our
		// datagrams means the endpoints' path MTU changed (the kernel recorded it).
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one));
	} else {
		setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
		// Never DF, as WireGuard sends: larger datagrams leave fragmented, and a
		// router before a narrower link fragments them again.
		int dont = IP_PMTUDISC_DONT;
		setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &dont, sizeof(dont));
	}
	if (fwmark)
		setsockopt(fd, SOL_SOCKET, SO_MARK, &fwmark, sizeof(fwmark));
	// Room for XWG_MAX_QUEUED_INCOMING_HANDSHAKES handshake messages (each costs about
	// 1 KiB of buffer), so a flood shows as a deep queue, and the kernel's count of
	// datagrams dropped for want of room with every datagram (SO_RXQ_OVFL): either
	// puts the daemon under load (cookies instead of Diffie-Hellman).
	int rcvbuf = XWG_HANDSHAKE_RCVBUF;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) != 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	sockaddr_storage ss{};
	socklen_t len;
	if (family == AF_INET) {
		auto *sin = reinterpret_cast<sockaddr_in *>(&ss);
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		len = sizeof(*sin);
	} else {
		auto *sin6 = reinterpret_cast<sockaddr_in6 *>(&ss);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		len = sizeof(*sin6);
	}
	if (::bind(fd, reinterpret_cast<sockaddr *>(&ss), len) < 0) {
		int err = errno;
		close(fd);
		return -err;
	}
	len = sizeof(ss);
	getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &len);
	bound = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in *>(&ss)->sin_port
					: reinterpret_cast<sockaddr_in6 *>(&ss)->sin6_port);
	return fd;
}

} // namespace

UdpSockets::~UdpSockets()
{
	close_all();
}

void UdpSockets::close_all()
{
	if (fd4_ >= 0)
		close(fd4_);
	if (fd6_ >= 0)
		close(fd6_);
	fd4_ = fd6_ = -1;
	port_ = 0;
}

void UdpSockets::bind(std::uint16_t port, std::uint32_t fwmark)
{
	// With port 0, the kernel's choice for IPv4 may be taken for IPv6: try a few times.
	for (int attempt = 0; attempt < 8; ++attempt) {
		std::uint16_t bound = 0;
		int fd4 = open_bound(AF_INET, port, fwmark, bound);
		if (fd4 < 0)
			throw std::runtime_error("binding UDP port " + std::to_string(port) +
						 " (IPv4): " + std::strerror(-fd4));
		std::uint16_t bound6 = 0;
		int fd6 = open_bound(AF_INET6, bound, fwmark, bound6);
		if (fd6 == -EADDRINUSE && port == 0) {
			close(fd4);
			continue;
		}
		if (fd6 < 0 && fd6 != -EAFNOSUPPORT && fd6 != -EADDRNOTAVAIL) {
			close(fd4);
			throw std::runtime_error("binding UDP port " + std::to_string(bound) +
						 " (IPv6): " + std::strerror(-fd6));
		}
		close_all();
		fd4_ = fd4;
		fd6_ = fd6 >= 0 ? fd6 : -1;
		port_ = bound;
		fwmark_ = fwmark;
		return;
	}
	throw std::runtime_error("binding UDP: no port free for both IPv4 and IPv6");
}

void UdpSockets::set_fwmark(std::uint32_t fwmark)
{
	fwmark_ = fwmark;
	for (int fd : {fd4_, fd6_})
		if (fd >= 0)
			setsockopt(fd, SOL_SOCKET, SO_MARK, &fwmark, sizeof(fwmark));
}

bool UdpSockets::send(const Endpoint &to, std::span<const std::uint8_t> data)
{
	const bool v4 = to.addr.family == ip_family_v4;
	int fd = v4 ? fd4_ : fd6_;
	if (fd < 0)
		return false;
	sockaddr_storage ss;
	socklen_t len = to_sockaddr(to, ss);
	iovec iov{const_cast<std::uint8_t *>(data.data()), data.size()};
	msghdr msg{};
	msg.msg_name = &ss;
	msg.msg_namelen = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	// Pin the underlay and source address (IP_PKTINFO / IPV6_PKTINFO) when there are
	// underlays to keep to.
	alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in6_pktinfo))] = {};
	std::optional<Route> route;
	if (!underlays_.empty())
		route = route_to(to.addr);
	if (route) {
		msg.msg_control = control;
		cmsghdr *c = reinterpret_cast<cmsghdr *>(control);
		if (v4) {
			in_pktinfo pi{};
			pi.ipi_ifindex = static_cast<int>(route->ifindex);
			if (route->src.family == ip_family_v4)
				std::memcpy(&pi.ipi_spec_dst, route->src.bytes.data(), 4);
			c->cmsg_level = IPPROTO_IP;
			c->cmsg_type = IP_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof(pi));
			std::memcpy(CMSG_DATA(c), &pi, sizeof(pi));
			msg.msg_controllen = CMSG_SPACE(sizeof(pi));
		} else {
			in6_pktinfo pi{};
			pi.ipi6_ifindex = route->ifindex;
			// IPv6 keeps to ipi6_ifindex only when no source is given; otherwise a
			// more specific route (::/1 into the tunnel) wins. So when only the pinned
			// lookup found the underlay, the kernel picks the source there.
			if (!route->pinned && route->src.family == ip_family_v6)
				std::memcpy(&pi.ipi6_addr, route->src.bytes.data(), 16);
			c->cmsg_level = IPPROTO_IPV6;
			c->cmsg_type = IPV6_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof(pi));
			std::memcpy(CMSG_DATA(c), &pi, sizeof(pi));
			msg.msg_controllen = CMSG_SPACE(sizeof(pi));
		}
	}
	if (sendmsg(fd, &msg, 0) == static_cast<ssize_t>(data.size()))
		return true;
	// A pending ICMP error (IPV6_RECVERR) fails one send and is cleared by it: again.
	return sendmsg(fd, &msg, 0) == static_cast<ssize_t>(data.size());
}

bool UdpSockets::drain_errors(int fd)
{
	bool path_mtu = false;
	// Bounded: a stream of ICMP errors cannot keep the event loop here.
	for (int i = 0; i < 64; ++i) {
		alignas(cmsghdr) char control[512];
		std::uint8_t byte;
		iovec iov{&byte, sizeof(byte)};
		msghdr msg{};
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = control;
		msg.msg_controllen = sizeof(control);
		if (recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			break;
		for (cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			if (!((c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR) ||
			      (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR)))
				continue;
			sock_extended_err ee;
			std::memcpy(&ee, CMSG_DATA(c), sizeof(ee));
			if (ee.ee_errno == EMSGSIZE)
				path_mtu = true;
		}
	}
	return path_mtu;
}

std::optional<UdpSockets::Datagram> UdpSockets::receive(int fd)
{
	// Reassembled datagrams (jumbo messages that came in fragments) go up to 64 KiB.
	static std::vector<std::uint8_t> buf(65536);
	sockaddr_storage ss{};
	alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in6_pktinfo)) + CMSG_SPACE(sizeof(in_pktinfo)) +
				      CMSG_SPACE(sizeof(std::uint32_t))];
	iovec iov{buf.data(), buf.size()};
	msghdr msg{};
	msg.msg_name = &ss;
	msg.msg_namelen = sizeof(ss);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control;
	msg.msg_controllen = sizeof(control);
	ssize_t n;
	// A pending ICMP error fails one read and is cleared by it; read on.
	for (int attempt = 0;; ++attempt) {
		n = recvmsg(fd, &msg, MSG_DONTWAIT);
		if (n >= 0 || errno == EAGAIN || errno == EWOULDBLOCK || attempt == 1)
			break;
		msg.msg_namelen = sizeof(ss);
		msg.msg_controllen = sizeof(control);
	}
	if (n < 0)
		return std::nullopt;
	Datagram d;
	d.data.assign(buf.begin(), buf.begin() + n);
	d.from = from_sockaddr(ss);
	for (cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			in_pktinfo pi;
			std::memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			d.ifindex = static_cast<unsigned>(pi.ipi_ifindex);
			d.to.family = ip_family_v4;
			std::memcpy(d.to.bytes.data(), &pi.ipi_addr, 4);
		} else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
			std::memcpy(&d.socket_drops, CMSG_DATA(c), sizeof(d.socket_drops));
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			in6_pktinfo pi;
			std::memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			d.ifindex = pi.ipi6_ifindex;
			d.to.family = ip_family_v6;
			std::memcpy(d.to.bytes.data(), &pi.ipi6_addr, 16);
		}
	}
	return d;
}

std::optional<Route> UdpSockets::route(const IpAddr &to, unsigned ifindex)
{
	auto r = ifindex ? routes_.get(to, ifindex, fwmark_) : route_to(to);
	if (r)
		r->mtu = path_mtu(*r);
	return r;
}

} // namespace xwg
