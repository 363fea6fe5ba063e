// cni/pod_dataplane.cpp — see pod_dataplane.h.
#include "loader/cni/pod_dataplane.h"

#include "loader/kernel/attach.h"
#include "loader/kernel/dataplane.h"
#include "loader/kernel/netdev.h"

#include "xwg/maps.h"
#include "xwg_pod_tx.skel.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <memory>
#include <set>
#include <thread>
#include <vector>

namespace xwg::cni {
namespace {

// A file descriptor closed with its scope.
struct Fd {
	int fd = -1;
	explicit Fd(int f) : fd(f) {}
	~Fd()
	{
		if (fd >= 0)
			close(fd);
	}
	Fd(const Fd &) = delete;
	Fd &operator=(const Fd &) = delete;
};

std::string errno_text(int err)
{
	return std::strerror(err < 0 ? -err : err);
}

// The interface's `pods` map, or -1 when the interface is not up (no pins).
int open_pods(const std::string &dir)
{
	return bpf_obj_get((dir + "/" + XWG_MAP_PODS).c_str());
}

xwg_pod_key key_of(const PodAddress &a)
{
	xwg_pod_key key{};
	key.family = a.family == 4 ? XWG_AF_INET : XWG_AF_INET6;
	std::memcpy(key.addr, a.addr.data(), a.family == 4 ? 4 : 16);
	return key;
}

// Runs @fn in a thread that has joined the network namespace at @path (setns() moves only
// the calling thread, so this process stays on the node).
template <typename F> void in_netns(const std::string &path, F &&fn)
{
	std::exception_ptr error;
	std::thread t([&] {
		try {
			Fd ns(open(path.c_str(), O_RDONLY | O_CLOEXEC));
			if (ns.fd < 0)
				throw Error(UNKNOWN_CONTAINER, "opening the pod's namespace " +
								       path + ": " +
								       errno_text(errno));
			if (setns(ns.fd, CLONE_NEWNET) != 0)
				throw Error(UNKNOWN_CONTAINER, "entering the pod's namespace " +
								       path + ": " +
								       errno_text(errno));
			fn();
		} catch (...) {
			error = std::current_exception();
		}
	});
	t.join();
	if (error)
		std::rethrow_exception(error);
}

// xwg_pod_tx loaded on the maps pinned in @dir.
struct PodProgram {
	xwg_pod_tx *skel = nullptr;
	explicit PodProgram(const std::string &dir)
	{
		skel = xwg_pod_tx__open();
		if (!skel)
			throw Error(KERNEL_FAILURE, "opening xwg_pod_tx: " + errno_text(errno));
		try {
			adopt_pinned_maps(skel->obj, dir);
		} catch (const LayoutMismatch &e) {
			xwg_pod_tx__destroy(skel);
			throw Error(LAYOUT_MISMATCH,
				    "xwg-cni and the xwg running " + dir +
					    " were built with different maps",
				    e.what());
		} catch (const std::exception &e) {
			xwg_pod_tx__destroy(skel);
			throw Error(KERNEL_FAILURE, e.what());
		}
		if (int err = xwg_pod_tx__load(skel)) {
			xwg_pod_tx__destroy(skel);
			throw Error(KERNEL_FAILURE, "loading xwg_pod_tx: " + errno_text(err));
		}
	}
	~PodProgram() { xwg_pod_tx__destroy(skel); }
	PodProgram(const PodProgram &) = delete;
	PodProgram &operator=(const PodProgram &) = delete;
	int fd() const { return bpf_program__fd(skel->progs.xwg_pod_tx); }
};

// Creates the clsact qdisc on @ifindex: true if this call made it, false if it was there.
bool clsact_create(int ifindex, const std::string &name)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	const int err = bpf_tc_hook_create(&hook);
	if (err == -EEXIST)
		return false;
	if (err)
		throw Error(KERNEL_FAILURE, name + ": creating clsact: " + errno_text(err));
	return true;
}

void clsact_remove_quiet(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point =
			    static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS));
	bpf_tc_hook_destroy(&hook);
}

// The entries of @pods_fd that @owner made.
std::vector<std::pair<xwg_pod_key, xwg_pod>> entries_of(int pods_fd, std::uint64_t owner)
{
	std::vector<std::pair<xwg_pod_key, xwg_pod>> out;
	xwg_pod_key key{}, next{};
	bool first = true;
	while (bpf_map_get_next_key(pods_fd, first ? nullptr : &key, &next) == 0) {
		first = false;
		key = next;
		xwg_pod pod{};
		if (bpf_map_lookup_elem(pods_fd, &key, &pod) == 0 && pod.owner == owner)
			out.emplace_back(key, pod);
	}
	return out;
}

} // namespace

bool PodDataplane::is_host_veth(const std::string &name)
{
	Fd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	if (sock.fd < 0)
		return false;
	ethtool_drvinfo info{};
	info.cmd = ETHTOOL_GDRVINFO;
	ifreq ifr{};
	std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
	ifr.ifr_data = reinterpret_cast<char *>(&info);
	return ioctl(sock.fd, SIOCETHTOOL, &ifr) == 0 && std::strcmp(info.driver, "veth") == 0;
}

void PodDataplane::add(const Env &env, const NetConf &conf, const PodLink &link)
{
	const std::string dir = pin_dir(conf);
	Fd pods(open_pods(dir));
	if (pods.fd < 0)
		throw Error(TRY_AGAIN_LATER, "xwg interface " + conf.interface + " is not up (" +
						     dir + "/" + XWG_MAP_PODS + ": " +
						     errno_text(errno) + ")");
	const int ifindex = static_cast<int>(if_nametoindex(link.host_ifname.c_str()));
	if (ifindex == 0)
		throw Error(INVALID_CONFIG,
			    "prevResult names " + link.host_ifname + ", which is no device here");
	const std::uint64_t owner = pod_owner(env.container_id, env.ifname);

	xwg_pod value{};
	value.host_ifindex = static_cast<__u32>(ifindex);
	value.owner = owner;
	std::memcpy(value.pod_mac, link.pod_mac.data(), 6);
	if (link.host_mac) {
		std::memcpy(value.host_mac, link.host_mac->data(), 6);
	} else {
		const MacAddr mac = link_mac(link.host_ifname);
		std::memcpy(value.host_mac, mac.data(), 6);
	}
	for (const PodAddress &a : link.addresses) {
		const xwg_pod_key key = key_of(a);
		xwg_pod old{};
		if (bpf_map_lookup_elem(pods.fd, &key, &old) == 0 && old.owner != owner)
			throw Error(ADDRESS_IN_USE,
				    to_string(a) + " is registered for another pod (on " +
					    "ifindex " + std::to_string(old.host_ifindex) + ")");
	}

	// The pod's end: finished packets out (no TSO/GSO/checksum offload), GRO on for
	// frames redirected in.
	in_netns(env.netns, [&] {
		try {
			offloads_off(link.pod_ifname);
			gro_on(link.pod_ifname);
		} catch (const std::runtime_error &e) {
			throw Error(KERNEL_FAILURE, e.what());
		}
	});

	PodProgram prog(dir);
	const bool own_clsact = clsact_create(ifindex, link.host_ifname);
	if (own_clsact)
		value.flags |= XWG_POD_OWN_CLSACT;
	std::vector<xwg_pod_key> added;
	auto undo = [&] {
		for (const xwg_pod_key &k : added)
			bpf_map_delete_elem(pods.fd, &k);
		tc_ingress_detach_by_name_quiet(ifindex, POD_TX_PROG);
		if (own_clsact)
			clsact_remove_quiet(ifindex);
	};
	try {
		tc_ingress_detach_by_name_quiet(ifindex, POD_TX_PROG); // an ADD repeated
		tc_ingress_attach(ifindex, prog.fd(), link.host_ifname);
		for (const PodAddress &a : link.addresses) {
			const xwg_pod_key key = key_of(a);
			xwg_pod old{};
			// Keep the flag of an earlier ADD for the same pod: it made the clsact.
			if (bpf_map_lookup_elem(pods.fd, &key, &old) == 0)
				value.flags |= old.flags & XWG_POD_OWN_CLSACT;
			if (bpf_map_update_elem(pods.fd, &key, &value, BPF_ANY))
				throw Error(KERNEL_FAILURE, "registering " + to_string(a) + " in " +
								    dir + "/" + XWG_MAP_PODS +
								    ": " + errno_text(errno));
			added.push_back(key);
		}
	} catch (const Error &) {
		undo();
		throw;
	} catch (const std::exception &e) {
		undo();
		throw Error(KERNEL_FAILURE, e.what());
	}
}

void PodDataplane::del(const Env &env, const NetConf &conf, const std::optional<PodLink> &link)
{
	const std::uint64_t owner = pod_owner(env.container_id, env.ifname);
	std::set<int> devices;
	std::set<int> own_clsact;
	Fd pods(open_pods(pin_dir(conf)));
	if (pods.fd >= 0) {
		for (const auto &[key, pod] : entries_of(pods.fd, owner)) {
			bpf_map_delete_elem(pods.fd, &key);
			devices.insert(static_cast<int>(pod.host_ifindex));
			if (pod.flags & XWG_POD_OWN_CLSACT)
				own_clsact.insert(static_cast<int>(pod.host_ifindex));
		}
	}
	if (link)
		if (unsigned idx = if_nametoindex(link->host_ifname.c_str()))
			devices.insert(static_cast<int>(idx));
	// Only a program of ours is taken off: an ifindex seen in the map may name another
	// device by now.
	for (int ifindex : devices) {
		if (!tc_ingress_has(ifindex, POD_TX_PROG))
			continue;
		tc_ingress_detach_by_name_quiet(ifindex, POD_TX_PROG);
		if (own_clsact.count(ifindex))
			clsact_remove_quiet(ifindex);
	}
}

void PodDataplane::check(const Env &env, const NetConf &conf, const PodLink &link)
{
	const std::string dir = pin_dir(conf);
	Fd pods(open_pods(dir));
	if (pods.fd < 0)
		throw Error(NOT_REGISTERED, "xwg interface " + conf.interface + " is not up");
	const unsigned ifindex = if_nametoindex(link.host_ifname.c_str());
	if (ifindex == 0)
		throw Error(NOT_REGISTERED, link.host_ifname + " is gone");
	const std::uint64_t owner = pod_owner(env.container_id, env.ifname);
	for (const PodAddress &a : link.addresses) {
		const xwg_pod_key key = key_of(a);
		xwg_pod pod{};
		if (bpf_map_lookup_elem(pods.fd, &key, &pod) != 0 || pod.owner != owner ||
		    pod.host_ifindex != ifindex)
			throw Error(NOT_REGISTERED, to_string(a) +
							    " is not registered for this pod in " +
							    dir + "/" + XWG_MAP_PODS);
	}
	if (!tc_ingress_has(static_cast<int>(ifindex), POD_TX_PROG))
		throw Error(NOT_REGISTERED,
			    std::string(POD_TX_PROG) + " is not attached to " + link.host_ifname);
}

} // namespace xwg::cni
