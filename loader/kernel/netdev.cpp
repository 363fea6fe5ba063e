// kernel/netdev.cpp — veth pair, addresses, routes and offloads; see netdev.h.
#include "loader/kernel/netdev.h"

#include "xwg/protocol.h"

#include <linux/ethtool.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/inet6.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <vector>
#include <stdexcept>

namespace xwg {

namespace {

[[noreturn]] void fail(const std::string &what, int nlerr)
{
	throw std::runtime_error(what + ": " + nl_geterror(nlerr));
}

struct LinkPtr {
	rtnl_link *p;
	explicit LinkPtr(rtnl_link *l) : p(l) {}
	~LinkPtr()
	{
		if (p)
			rtnl_link_put(p);
	}
	LinkPtr(const LinkPtr &) = delete;
	LinkPtr &operator=(const LinkPtr &) = delete;
};

// The link as the kernel has it now.
LinkPtr get_link(Netlink &nl, const std::string &name)
{
	rtnl_link *link = nullptr;
	int err = rtnl_link_get_kernel(nl.sock(), 0, name.c_str(), &link);
	if (err < 0)
		fail(name + ": no such device", err);
	return LinkPtr(link);
}

// Applies the attributes set on a fresh change request to the link.
void change_link(Netlink &nl, const std::string &name, const std::string &what,
		 const std::function<void(rtnl_link *)> &set)
{
	LinkPtr orig = get_link(nl, name);
	LinkPtr change(rtnl_link_alloc());
	if (!change.p)
		throw std::runtime_error(name + ": out of memory");
	set(change.p);
	int err = rtnl_link_change(nl.sock(), orig.p, change.p, 0);
	if (err < 0)
		fail(name + ": " + what, err);
}

nl_addr *make_addr(const IpAddr &a, unsigned prefix)
{
	int fam = a.family == ip_family_v4 ? AF_INET : AF_INET6;
	nl_addr *addr = nl_addr_build(fam, a.bytes.data(), a.length());
	if (!addr)
		throw std::runtime_error("out of memory");
	nl_addr_set_prefixlen(addr, static_cast<int>(prefix));
	return addr;
}

std::uint32_t table_id(const RouteTable &t)
{
	return t.kind == RouteTable::Kind::number ? t.id : RT_TABLE_MAIN;
}

rtnl_route *make_route(int ifindex, const Cidr &prefix, const RouteTable &table)
{
	rtnl_route *route = rtnl_route_alloc();
	if (!route)
		throw std::runtime_error("out of memory");
	nl_addr *dst = make_addr(prefix.addr, prefix.prefix);
	rtnl_route_set_dst(route, dst);
	nl_addr_put(dst);
	rtnl_route_set_family(route, prefix.addr.family == ip_family_v4 ? AF_INET : AF_INET6);
	rtnl_route_set_table(route, table_id(table));
	rtnl_route_set_scope(route, RT_SCOPE_LINK);
	rtnl_route_set_protocol(route, RTPROT_BOOT);
	rtnl_route_set_type(route, RTN_UNICAST);
	rtnl_nexthop *nh = rtnl_route_nh_alloc();
	rtnl_route_nh_set_ifindex(nh, ifindex);
	rtnl_route_add_nexthop(route, nh);
	return route;
}

// Legacy ethtool "set" commands, each one feature.
void ethtool_set(const std::string &name, std::uint32_t cmd, const char *feature, bool on = false)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		throw std::runtime_error(std::string("ethtool socket: ") + std::strerror(errno));
	ethtool_value value{};
	value.cmd = cmd;
	value.data = on ? 1 : 0;
	ifreq ifr{};
	std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
	ifr.ifr_data = reinterpret_cast<char *>(&value);
	int rc = ioctl(fd, SIOCETHTOOL, &ifr);
	int saved = errno;
	close(fd);
	if (rc < 0)
		throw std::runtime_error(name + ": turning " + feature + (on ? " on: " : " off: ") +
					 std::strerror(saved));
}

} // namespace

Netlink::Netlink()
{
	sock_ = nl_socket_alloc();
	if (!sock_)
		throw std::runtime_error("netlink: out of memory");
	int err = nl_connect(sock_, NETLINK_ROUTE);
	if (err < 0) {
		nl_socket_free(sock_);
		fail("netlink: connect", err);
	}
}

Netlink::~Netlink()
{
	nl_socket_free(sock_);
}

std::string hidden_device_name(const std::string &ifname)
{
	std::string name = "xwgh-" + ifname;
	if (name.size() <= 15)
		return name;
	// FNV-1a, ten hex digits: stable across runs, unlike std::hash.
	std::uint64_t h = 1469598103934665603ULL;
	for (unsigned char c : ifname)
		h = (h ^ c) * 1099511628211ULL;
	char buf[16];
	std::snprintf(buf, sizeof(buf), "xwgh-%010llx",
		      static_cast<unsigned long long>(h & 0xffffffffffULL));
	return buf;
}

void veth_create(Netlink &nl, const std::string &visible, const std::string &hidden, unsigned mtu)
{
	LinkPtr link(rtnl_link_veth_alloc());
	if (!link.p)
		throw std::runtime_error("veth: out of memory");
	rtnl_link_set_name(link.p, visible.c_str());
	rtnl_link_set_mtu(link.p, mtu);
	rtnl_link *peer = rtnl_link_veth_get_peer(link.p);
	rtnl_link_set_name(peer, hidden.c_str());
	rtnl_link_set_mtu(peer, mtu);
	rtnl_link_put(peer);
	int err = rtnl_link_add(nl.sock(), link.p, NLM_F_CREATE | NLM_F_EXCL);
	if (err < 0)
		fail("creating veth pair " + visible + "/" + hidden, err);
}

bool link_exists(const std::string &name)
{
	return if_nametoindex(name.c_str()) != 0;
}

bool link_delete_quiet(Netlink &nl, const std::string &name)
{
	if (!link_exists(name))
		return false;
	LinkPtr link(rtnl_link_alloc());
	if (!link.p)
		return false;
	rtnl_link_set_name(link.p, name.c_str());
	return rtnl_link_delete(nl.sock(), link.p) >= 0;
}

void link_prepare_and_up(Netlink &nl, const std::string &name)
{
	change_link(nl, name, "setting NOARP", [](rtnl_link *c) { rtnl_link_set_flags(c, IFF_NOARP); });
	// No IPv6 in the namespace (disabled), or none on a device below IPv6's minimum MTU
	// (an IPv4-only tunnel): nothing would be generated anyway.
	if (access("/proc/sys/net/ipv6", F_OK) == 0 &&
	    link_mtu(static_cast<unsigned>(link_ifindex(name))) >= XWG_MIN_MTU_IPV6)
		change_link(nl, name, "setting addrgenmode none", [](rtnl_link *c) {
			rtnl_link_inet6_set_addr_gen_mode(c, IN6_ADDR_GEN_MODE_NONE);
		});
	change_link(nl, name, "setting it up", [](rtnl_link *c) { rtnl_link_set_flags(c, IFF_UP); });
}

unsigned link_mtu(unsigned ifindex)
{
	char name[IF_NAMESIZE] = {};
	if (!if_indextoname(ifindex, name))
		return 0;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	ifreq ifr{};
	std::memcpy(ifr.ifr_name, name, sizeof(ifr.ifr_name) - 1);
	const int rc = ioctl(fd, SIOCGIFMTU, &ifr);
	close(fd);
	return rc == 0 && ifr.ifr_mtu > 0 ? static_cast<unsigned>(ifr.ifr_mtu) : 0;
}

void link_set_mtu(Netlink &nl, const std::string &name, unsigned mtu)
{
	change_link(nl, name, "setting MTU", [mtu](rtnl_link *c) { rtnl_link_set_mtu(c, mtu); });
}

int link_ifindex(const std::string &name)
{
	unsigned idx = if_nametoindex(name.c_str());
	if (idx == 0)
		throw std::runtime_error(name + ": no such device");
	return static_cast<int>(idx);
}

MacAddr link_mac(const std::string &name)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
	ifreq ifr{};
	std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
	int rc = ioctl(fd, SIOCGIFHWADDR, &ifr);
	int saved = errno;
	close(fd);
	if (rc < 0)
		throw std::runtime_error(name + ": reading MAC address: " + std::strerror(saved));
	MacAddr mac;
	std::memcpy(mac.data(), ifr.ifr_hwaddr.sa_data, mac.size());
	return mac;
}

void address_add(Netlink &nl, int ifindex, const Cidr &address)
{
	rtnl_addr *addr = rtnl_addr_alloc();
	if (!addr)
		throw std::runtime_error("out of memory");
	std::unique_ptr<rtnl_addr, void (*)(rtnl_addr *)> guard(addr, rtnl_addr_put);
	nl_addr *local = make_addr(address.addr, address.prefix);
	rtnl_addr_set_ifindex(addr, ifindex);
	rtnl_addr_set_local(addr, local);
	nl_addr_put(local);
	if (address.addr.family == ip_family_v6)
		rtnl_addr_set_flags(addr, IFA_F_NODAD);
	int err = rtnl_addr_add(nl.sock(), addr, 0);
	if (err < 0)
		fail("adding address " + address.to_string(), err);
}

std::vector<Cidr> link_addresses(const std::string &name)
{
	std::vector<Cidr> out;
	ifaddrs *list = nullptr;
	if (getifaddrs(&list) < 0)
		return out;
	for (ifaddrs *a = list; a; a = a->ifa_next) {
		if (!a->ifa_addr || !a->ifa_netmask || name != a->ifa_name)
			continue;
		const int family = a->ifa_addr->sa_family;
		if (family != AF_INET && family != AF_INET6)
			continue;
		Cidr c;
		c.addr.family = family == AF_INET ? ip_family_v4 : ip_family_v6;
		// The address bytes of a sockaddr of this family (the netmask's family is not
		// always filled in).
		auto bytes_of = [family](const sockaddr *sa) -> const void * {
			if (family == AF_INET)
				return &reinterpret_cast<const sockaddr_in *>(sa)->sin_addr;
			return &reinterpret_cast<const sockaddr_in6 *>(sa)->sin6_addr;
		};
		const void *addr = bytes_of(a->ifa_addr), *mask = bytes_of(a->ifa_netmask);
		std::memcpy(c.addr.bytes.data(), addr, c.addr.length());
		const auto *m = static_cast<const std::uint8_t *>(mask);
		for (std::size_t i = 0; i < c.addr.length(); ++i)
			c.prefix = static_cast<std::uint8_t>(c.prefix + __builtin_popcount(m[i]));
		out.push_back(c);
	}
	freeifaddrs(list);
	return out;
}

void route_add(Netlink &nl, int ifindex, const Cidr &prefix, const RouteTable &table)
{
	if (table.kind == RouteTable::Kind::off)
		return;
	if (prefix.prefix == 0)
		throw std::runtime_error("route " + prefix.to_string() +
					 ": a default route through the tunnel needs policy "
					 "routing, which xwg does not set up yet (use Table = off "
					 "and route it yourself)");
	rtnl_route *route = make_route(ifindex, prefix, table);
	int err = rtnl_route_add(nl.sock(), route, NLM_F_CREATE | NLM_F_REPLACE);
	rtnl_route_put(route);
	if (err < 0 && err != -NLE_EXIST)
		fail("adding route " + prefix.to_string(), err);
}

void route_delete_quiet(Netlink &nl, int ifindex, const Cidr &prefix, const RouteTable &table)
{
	if (table.kind == RouteTable::Kind::off || prefix.prefix == 0)
		return;
	rtnl_route *route = make_route(ifindex, prefix, table);
	(void)rtnl_route_delete(nl.sock(), route, 0);
	rtnl_route_put(route);
}

std::optional<std::string> default_route_device(Netlink &nl)
{
	for (int family : {AF_INET, AF_INET6}) {
		nl_cache *cache = nullptr;
		if (rtnl_route_alloc_cache(nl.sock(), family, 0, &cache) < 0)
			continue;
		int found = 0;
		for (nl_object *o = nl_cache_get_first(cache); o && !found; o = nl_cache_get_next(o)) {
			auto *r = reinterpret_cast<rtnl_route *>(o);
			nl_addr *dst = rtnl_route_get_dst(r);
			if (rtnl_route_get_table(r) != RT_TABLE_MAIN ||
			    rtnl_route_get_type(r) != RTN_UNICAST ||
			    (dst && nl_addr_get_prefixlen(dst) != 0))
				continue;
			if (rtnl_route_get_nnexthops(r) < 1)
				continue;
			found = rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(r, 0));
		}
		nl_cache_free(cache);
		char name[IF_NAMESIZE];
		if (found > 0 && if_indextoname(static_cast<unsigned>(found), name))
			return std::string(name);
	}
	return std::nullopt;
}

// Every feature whose name says it segments, gathers or checksums on transmit, by name
// through ETHTOOL_SFEATURES: the legacy TSO switch misses newer TSO variants (e.g.
// tx-tcp-accecn-segmentation on 6.18).
void offloads_off(const std::string &name)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		throw std::runtime_error(std::string("ethtool socket: ") + std::strerror(errno));
	auto ioctl_on = [&](void *data) {
		ifreq ifr{};
		std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
		ifr.ifr_data = static_cast<char *>(data);
		return ioctl(fd, SIOCETHTOOL, &ifr);
	};
	auto fail_errno = [&](const char *step) {
		int saved = errno;
		close(fd);
		throw std::runtime_error(name + ": turning offloads off (" + step + "): " +
					 std::strerror(saved));
	};
	// How many features, then their names.
	std::vector<std::uint8_t> info_buf(sizeof(ethtool_sset_info) + sizeof(std::uint32_t));
	auto *info = reinterpret_cast<ethtool_sset_info *>(info_buf.data());
	info->cmd = ETHTOOL_GSSET_INFO;
	info->sset_mask = 1ULL << ETH_SS_FEATURES;
	if (ioctl_on(info) < 0)
		fail_errno("feature count");
	std::uint32_t count = info->data[0];
	std::vector<std::uint8_t> strings_buf(sizeof(ethtool_gstrings) + count * ETH_GSTRING_LEN);
	auto *strings = reinterpret_cast<ethtool_gstrings *>(strings_buf.data());
	strings->cmd = ETHTOOL_GSTRINGS;
	strings->string_set = ETH_SS_FEATURES;
	strings->len = count;
	if (ioctl_on(strings) < 0)
		fail_errno("feature names");
	const std::uint32_t blocks = (count + 31) / 32;
	std::vector<std::uint8_t> set_buf(sizeof(ethtool_sfeatures) +
					  blocks * sizeof(ethtool_set_features_block));
	auto *set = reinterpret_cast<ethtool_sfeatures *>(set_buf.data());
	set->cmd = ETHTOOL_SFEATURES;
	set->size = blocks;
	for (std::uint32_t i = 0; i < count; ++i) {
		std::string f(reinterpret_cast<const char *>(strings->data + i * ETH_GSTRING_LEN),
			      strnlen(reinterpret_cast<const char *>(strings->data + i * ETH_GSTRING_LEN),
				      ETH_GSTRING_LEN));
		bool off = (f.rfind("tx-", 0) == 0 && f.find("segmentation") != std::string::npos) ||
			   f.rfind("tx-scatter-gather", 0) == 0 || f.rfind("tx-checksum", 0) == 0;
		if (off)
			set->features[i / 32].valid |= 1u << (i % 32); // requested bit stays 0
	}
	if (ioctl_on(set) < 0)
		fail_errno("set");
	close(fd);
}

void gro_off(const std::string &name)
{
	ethtool_set(name, ETHTOOL_SGRO, "GRO");
}

void gro_on(const std::string &name)
{
	ethtool_set(name, ETHTOOL_SGRO, "GRO", true);
}

} // namespace xwg
