// kernel/route_lookup.cpp — see route_lookup.h.
#include "loader/kernel/route_lookup.h"

#include "loader/kernel/netdev.h"

#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

namespace xwg {

namespace {

struct Reply {
	int family = 0;
	std::optional<Route> route;
};

IpAddr addr_from(int family, const nlattr *a)
{
	IpAddr out;
	const std::size_t len = family == AF_INET ? 4 : 16;
	if (!a || static_cast<std::size_t>(nla_len(a)) != len)
		return out;
	out.family = family;
	std::memcpy(out.bytes.data(), nla_data(a), len);
	return out;
}

int on_route(nl_msg *msg, void *arg)
{
	auto *reply = static_cast<Reply *>(arg);
	nlmsghdr *nlh = nlmsg_hdr(msg);
	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return NL_SKIP;
	auto *rtm = static_cast<rtmsg *>(nlmsg_data(nlh));
	nlattr *tb[RTA_MAX + 1] = {};
	if (nlmsg_parse(nlh, sizeof(*rtm), tb, RTA_MAX, nullptr) < 0 || !tb[RTA_OIF])
		return NL_SKIP;
	// Only a unicast route leaves through an interface; local, blackhole, unreachable
	// and prohibit routes do not reach a peer.
	if (rtm->rtm_type != RTN_UNICAST)
		return NL_SKIP;
	// With an output interface and no route through it, IPv4 answers anyway, assuming
	// the destination is on that link; such an answer comes from no table
	// (RTM_F_LOOKUP_TABLE makes the kernel say which table it used).
	const std::uint32_t table = tb[RTA_TABLE] ? nla_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	if (table == RT_TABLE_UNSPEC)
		return NL_SKIP;
	Route r;
	r.ifindex = nla_get_u32(tb[RTA_OIF]);
	r.src = addr_from(reply->family, tb[RTA_PREFSRC]);
	if (tb[RTA_METRICS]) {
		// The route's MTU metric, or the path MTU the kernel learned for this
		// destination (IPv4 "fragmentation needed", IPv6 Packet Too Big).
		nlattr *mx[RTAX_MAX + 1] = {};
		if (nla_parse_nested(mx, RTAX_MAX, tb[RTA_METRICS], nullptr) == 0 && mx[RTAX_MTU])
			r.mtu = nla_get_u32(mx[RTAX_MTU]);
	}
	if (tb[RTA_GATEWAY])
		r.nexthop = addr_from(reply->family, tb[RTA_GATEWAY]);
	else if (!tb[RTA_VIA] && !tb[RTA_MULTIPATH])
		r.nexthop = addr_from(reply->family, tb[RTA_DST]);
	reply->route = r;
	return NL_OK;
}

struct MsgDeleter {
	void operator()(nl_msg *m) const { nlmsg_free(m); }
};

} // namespace

namespace {

nl_sock *connect_route_socket()
{
	nl_sock *sock = nl_socket_alloc();
	if (!sock)
		throw std::runtime_error("route lookup: no memory for a netlink socket");
	if (int err = nl_connect(sock, NETLINK_ROUTE); err < 0) {
		nl_socket_free(sock);
		throw std::runtime_error(std::string("route lookup: netlink: ") + nl_geterror(err));
	}
	// One answer per request: the route or an error, no ACK left behind to be read
	// as the next request's answer.
	nl_socket_disable_auto_ack(sock);
	return sock;
}

} // namespace

RouteLookup::RouteLookup() : sock_(connect_route_socket()) {}

void RouteLookup::reconnect()
{
	try {
		nl_sock *fresh = connect_route_socket();
		nl_socket_free(sock_);
		sock_ = fresh;
	} catch (const std::exception &) {
		// Keep the old socket; the next lookup tries again.
	}
}

RouteLookup::~RouteLookup()
{
	nl_socket_free(sock_);
}

std::optional<Route> RouteLookup::get(const IpAddr &dst, unsigned oif, std::uint32_t mark)
{
	if (dst.family != ip_family_v4 && dst.family != ip_family_v6)
		return std::nullopt;
	std::unique_ptr<nl_msg, MsgDeleter> msg(nlmsg_alloc_simple(RTM_GETROUTE, NLM_F_REQUEST));
	if (!msg)
		return std::nullopt;
	rtmsg rtm{};
	rtm.rtm_family = static_cast<unsigned char>(dst.family);
	rtm.rtm_dst_len = static_cast<unsigned char>(dst.max_prefix());
	rtm.rtm_flags = RTM_F_LOOKUP_TABLE; // report the table the route came from (0: none)
	// No RTA_SRC: with an output interface and no source, IPv6 looks up strictly on that
	// interface (IPv4 always does).
	if (nlmsg_append(msg.get(), &rtm, sizeof(rtm), NLMSG_ALIGNTO) < 0 ||
	    nla_put(msg.get(), RTA_DST, static_cast<int>(dst.length()), dst.bytes.data()) < 0 ||
	    (oif && nla_put_u32(msg.get(), RTA_OIF, oif) < 0) ||
	    (mark && nla_put_u32(msg.get(), RTA_MARK, mark) < 0))
		return std::nullopt;
	Reply reply;
	reply.family = dst.family;
	nl_socket_modify_cb(sock_, NL_CB_VALID, NL_CB_CUSTOM, on_route, &reply);
	if (nl_send_auto(sock_, msg.get()) < 0)
		return std::nullopt;
	if (nl_recvmsgs_default(sock_) < 0) {
		// No route is an error reply; anything else may leave a reply unread, which
		// would answer the next request: start over with a fresh socket.
		reconnect();
		return std::nullopt;
	}
	if (reply.route && oif && reply.route->ifindex != oif)
		return std::nullopt;
	return reply.route;
}

RouteWatch::RouteWatch() : sock_(connect_route_socket())
{
	nl_socket_disable_seq_check(sock_); // notifications carry no sequence of ours
	// Links too: an MTU change on an underlay changes its endpoints' path MTU.
	int err = nl_socket_add_memberships(sock_, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE,
					    RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, RTNLGRP_LINK,
					    0);
	if (err >= 0)
		err = nl_socket_set_nonblocking(sock_);
	if (err < 0) {
		nl_socket_free(sock_);
		throw std::runtime_error(std::string("route watch: netlink: ") + nl_geterror(err));
	}
}

RouteWatch::~RouteWatch()
{
	nl_socket_free(sock_);
}

int RouteWatch::fd() const
{
	return nl_socket_get_fd(sock_);
}

bool RouteWatch::drain()
{
	bool any = false;
	nl_socket_modify_cb(
		sock_, NL_CB_VALID, NL_CB_CUSTOM,
		[](nl_msg *, void *arg) -> int {
			*static_cast<bool *>(arg) = true;
			return NL_OK;
		},
		&any);
	// Bounded: a busy routing table cannot keep the event loop here.
	for (int i = 0; i < 64; ++i) {
		int err = nl_recvmsgs_default(sock_);
		if (err == -NLE_AGAIN || err == 0)
			break;
		if (err < 0) // e.g. ENOBUFS: notifications were lost
			any = true;
	}
	return any;
}

unsigned path_mtu(const Route &route)
{
	const unsigned dev = route.ifindex ? link_mtu(route.ifindex) : 0;
	if (route.mtu && (!dev || route.mtu < dev))
		return route.mtu;
	return dev;
}

std::optional<Route> RouteLookup::through_underlays(const IpAddr &dst,
						    const std::vector<unsigned> &underlays,
						    std::uint32_t mark)
{
	auto plain = get(dst, 0, mark);
	if (underlays.empty() ||
	    (plain && std::find(underlays.begin(), underlays.end(), plain->ifindex) != underlays.end()))
		return plain;
	for (unsigned u : underlays)
		if (auto pinned = get(dst, u, mark)) {
			pinned->pinned = true;
			return pinned;
		}
	return std::nullopt;
}

} // namespace xwg
