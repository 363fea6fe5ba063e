// route_lookup.cpp — see route_lookup.h.
#include "loader/route_lookup.h"

#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <memory>

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
	Route r;
	r.ifindex = nla_get_u32(tb[RTA_OIF]);
	r.src = addr_from(reply->family, tb[RTA_PREFSRC]);
	r.nexthop = addr_from(reply->family, tb[RTA_GATEWAY]);
	if (!r.nexthop.family)
		r.nexthop = addr_from(reply->family, tb[RTA_DST]);
	reply->route = r;
	return NL_OK;
}

struct SockDeleter {
	void operator()(nl_sock *s) const { nl_socket_free(s); }
};
struct MsgDeleter {
	void operator()(nl_msg *m) const { nlmsg_free(m); }
};

} // namespace

std::optional<Route> route_get(const IpAddr &dst, unsigned oif)
{
	if (dst.family != ip_family_v4 && dst.family != ip_family_v6)
		return std::nullopt;
	std::unique_ptr<nl_sock, SockDeleter> sk(nl_socket_alloc());
	if (!sk || nl_connect(sk.get(), NETLINK_ROUTE) < 0)
		return std::nullopt;
	std::unique_ptr<nl_msg, MsgDeleter> msg(nlmsg_alloc_simple(RTM_GETROUTE, NLM_F_REQUEST));
	if (!msg)
		return std::nullopt;
	rtmsg rtm{};
	rtm.rtm_family = static_cast<unsigned char>(dst.family);
	rtm.rtm_dst_len = static_cast<unsigned char>(dst.max_prefix());
	const int len = dst.family == ip_family_v4 ? 4 : 16;
	// No RTA_SRC: with an output interface and no source, IPv6 looks up strictly on that
	// interface (IPv4 always does).
	if (nlmsg_append(msg.get(), &rtm, sizeof(rtm), NLMSG_ALIGNTO) < 0 ||
	    nla_put(msg.get(), RTA_DST, len, dst.bytes.data()) < 0 ||
	    (oif && nla_put_u32(msg.get(), RTA_OIF, oif) < 0))
		return std::nullopt;
	Reply reply;
	reply.family = dst.family;
	nl_socket_modify_cb(sk.get(), NL_CB_VALID, NL_CB_CUSTOM, on_route, &reply);
	if (nl_send_auto(sk.get(), msg.get()) < 0 || nl_recvmsgs_default(sk.get()) < 0)
		return std::nullopt;
	if (reply.route && oif && reply.route->ifindex != oif)
		return std::nullopt;
	return reply.route;
}

std::optional<Route> underlay_route(const IpAddr &dst, const std::vector<unsigned> &underlays)
{
	auto plain = route_get(dst);
	if (underlays.empty() || (plain && std::find(underlays.begin(), underlays.end(),
						     plain->ifindex) != underlays.end()))
		return plain;
	for (unsigned u : underlays)
		if (auto pinned = route_get(dst, u)) {
			pinned->pinned = true;
			return pinned;
		}
	return std::nullopt;
}

} // namespace xwg
