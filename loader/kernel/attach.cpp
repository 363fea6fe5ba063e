// kernel/attach.cpp — XDP and TC attachment through libbpf; see attach.h.
#include "loader/kernel/attach.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace xwg {

const char *to_string(XdpMode m)
{
	switch (m) {
	case XdpMode::none: return "none";
	case XdpMode::native: return "native";
	case XdpMode::generic: return "generic";
	}
	return "?";
}

namespace {

std::uint32_t prog_id(int prog_fd)
{
	bpf_prog_info info{};
	std::uint32_t len = sizeof(info);
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) < 0)
		return 0;
	return info.id;
}

bool prog_named(std::uint32_t id, const std::string &name)
{
	int fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return false;
	bpf_prog_info info{};
	std::uint32_t len = sizeof(info);
	bool match = bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
		     name.compare(0, BPF_OBJ_NAME_LEN - 1, info.name) == 0;
	close(fd);
	return match;
}

// Our filter's place on the ingress hook of ifindex: handle 1, priority 1.
struct TcSlot {
	bpf_tc_hook hook{};
	bpf_tc_opts opts{};

	explicit TcSlot(int ifindex)
	{
		hook.sz = sizeof(hook);
		hook.ifindex = ifindex;
		hook.attach_point = BPF_TC_INGRESS;
		opts.sz = sizeof(opts);
		opts.handle = 1;
		opts.priority = 1;
	}
	// The id of the program in the slot, 0 if none.
	std::uint32_t prog_id()
	{
		bpf_tc_opts q = opts;
		return bpf_tc_query(&hook, &q) == 0 ? q.prog_id : 0;
	}
	void detach()
	{
		bpf_tc_opts d = opts;
		bpf_tc_detach(&hook, &d);
	}
};

} // namespace

XdpMode xdp_attach(int ifindex, int prog_fd, const std::string &devname)
{
	int err = bpf_xdp_attach(ifindex, prog_fd, XDP_FLAGS_DRV_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST,
				 nullptr);
	if (err == 0)
		return XdpMode::native;
	if (err == -EBUSY || err == -EEXIST)
		throw std::runtime_error(devname + ": another XDP program is attached already");
	int err2 = bpf_xdp_attach(ifindex, prog_fd, XDP_FLAGS_SKB_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST,
				  nullptr);
	if (err2 == 0)
		return XdpMode::generic;
	throw std::runtime_error(devname + ": attaching XDP failed (native: " +
				 std::strerror(-err) + ", generic: " + std::strerror(-err2) + ")");
}

bool xdp_attach_native(int ifindex, int prog_fd, const std::string &devname, std::string *why)
{
	int err = bpf_xdp_attach(ifindex, prog_fd, XDP_FLAGS_DRV_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST,
				 nullptr);
	if (err == 0)
		return true;
	if (err == -EBUSY || err == -EEXIST)
		throw std::runtime_error(devname + ": another XDP program is attached already");
	if (why)
		*why = std::strerror(-err);
	return false;
}

void xdp_detach_quiet(int ifindex, int prog_fd)
{
	std::uint32_t ours = prog_id(prog_fd);
	bpf_xdp_query_opts q{};
	q.sz = sizeof(q);
	if (ours == 0 || bpf_xdp_query(ifindex, 0, &q) < 0)
		return;
	if (q.drv_prog_id == ours)
		bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, nullptr);
	if (q.skb_prog_id == ours)
		bpf_xdp_detach(ifindex, XDP_FLAGS_SKB_MODE, nullptr);
}

void xdp_detach_by_name_quiet(int ifindex, const std::string &name)
{
	bpf_xdp_query_opts q{};
	q.sz = sizeof(q);
	if (bpf_xdp_query(ifindex, 0, &q) < 0)
		return;
	for (auto [id, flags] : {std::pair{q.drv_prog_id, XDP_FLAGS_DRV_MODE},
				 std::pair{q.skb_prog_id, XDP_FLAGS_SKB_MODE}})
		if (id && prog_named(id, name))
			bpf_xdp_detach(ifindex, static_cast<std::uint32_t>(flags), nullptr);
}

XdpMode xdp_query(int ifindex)
{
	bpf_xdp_query_opts q{};
	q.sz = sizeof(q);
	if (bpf_xdp_query(ifindex, 0, &q) < 0)
		return XdpMode::none;
	switch (q.attach_mode) {
	case XDP_ATTACHED_DRV:
	case XDP_ATTACHED_HW:
		return XdpMode::native;
	case XDP_ATTACHED_SKB:
		return XdpMode::generic;
	case XDP_ATTACHED_MULTI:
		return q.drv_prog_id ? XdpMode::native : XdpMode::generic;
	default:
		return XdpMode::none;
	}
}

void tc_ingress_attach(int ifindex, int prog_fd, const std::string &devname)
{
	TcSlot slot(ifindex);
	int err = bpf_tc_hook_create(&slot.hook);
	if (err && err != -EEXIST)
		throw std::runtime_error(devname + ": creating clsact: " + std::strerror(-err));
	bpf_tc_opts opts = slot.opts;
	opts.prog_fd = prog_fd;
	err = bpf_tc_attach(&slot.hook, &opts);
	if (err)
		throw std::runtime_error(devname + ": attaching TC ingress: " + std::strerror(-err));
}


void tc_ingress_detach_prog_quiet(int ifindex, int prog_fd)
{
	TcSlot slot(ifindex);
	const std::uint32_t ours = prog_id(prog_fd);
	if (ours && slot.prog_id() == ours)
		slot.detach();
}

void tc_ingress_detach_by_name_quiet(int ifindex, const std::string &name)
{
	TcSlot slot(ifindex);
	if (std::uint32_t id = slot.prog_id(); id && prog_named(id, name))
		slot.detach();
}

bool tc_ingress_has(int ifindex, const std::string &name)
{
	TcSlot slot(ifindex);
	const std::uint32_t id = slot.prog_id();
	return id && prog_named(id, name);
}

void xdp_replace(int ifindex, const std::string &old_name, int prog_fd, const std::string &devname)
{
	bpf_xdp_query_opts q{};
	q.sz = sizeof(q);
	if (bpf_xdp_query(ifindex, 0, &q) < 0)
		throw std::runtime_error(devname + ": querying XDP failed");
	for (auto [id, mode] : {std::pair{q.drv_prog_id, XDP_FLAGS_DRV_MODE},
				std::pair{q.skb_prog_id, XDP_FLAGS_SKB_MODE}}) {
		if (!id || !prog_named(id, old_name))
			continue;
		const int old_fd = bpf_prog_get_fd_by_id(id);
		if (old_fd < 0)
			break;
		LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = old_fd);
		const int err = bpf_xdp_attach(ifindex, prog_fd,
					       static_cast<std::uint32_t>(mode) | XDP_FLAGS_REPLACE,
					       &opts);
		close(old_fd);
		if (err)
			throw std::runtime_error(devname + ": replacing XDP program " + old_name +
						 ": " + std::strerror(-err));
		return;
	}
	throw std::runtime_error(devname + ": " + old_name + " is not attached (XDP)");
}

void tc_ingress_replace(int ifindex, const std::string &old_name, int prog_fd,
			const std::string &devname)
{
	TcSlot slot(ifindex);
	const std::uint32_t id = slot.prog_id();
	if (!id || !prog_named(id, old_name))
		throw std::runtime_error(devname + ": " + old_name + " is not attached (TC ingress)");
	bpf_tc_opts opts = slot.opts;
	opts.prog_fd = prog_fd;
	opts.flags = BPF_TC_F_REPLACE;
	if (int err = bpf_tc_attach(&slot.hook, &opts))
		throw std::runtime_error(devname + ": replacing TC program " + old_name + ": " +
					 std::strerror(-err));
}

void tc_ingress_detach_quiet(int ifindex)
{
	bpf_tc_hook hook{};
	hook.sz = sizeof(hook);
	hook.ifindex = ifindex;
	hook.attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
	bpf_tc_hook_destroy(&hook);
}

} // namespace xwg
